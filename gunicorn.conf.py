"""gunicorn settings read from the working directory (see README, Deployment)."""

import gc

# Django imports views, templates and serializers lazily on the first requests; freeze after
# those, so what stays visible to the collector is only what each request creates.
WARM_AFTER_REQUESTS = 50
# Within a request the collector runs only past this many new container objects (Python's
# default: 700, which a create passes once or twice, each time walking everything the request
# still holds and moving it into an older generation). Bounds what a large request keeps.
YOUNG_THRESHOLD = 20_000
# The previous requests' survivors that since became garbage (a replaced cache entry) are
# found by a full collection this often.
FULL_COLLECTION_EVERY = 500


def post_worker_init(worker):
    worker.requests_served = 0
    gc.freeze()
    gc.set_threshold(YOUNG_THRESHOLD, 10, 10)


def pre_request(worker, req):
    # A page of tickets leaves thousands of objects in reference cycles (ticket <-> order <->
    # items caches). Before the next request nothing references the last one's objects any
    # more, so a collection of the two young generations frees them, walking only what the
    # last requests left. After the response (post_request) gunicorn still holds the response,
    # hence the whole request: a young collection there would move it into the oldest
    # generation, where hundreds of requests piled up until one 100-200 ms collection
    # (bench/README.md), and a full one walks all of it (under a create load: 0.19-0.23 ms a
    # request there, 0.12-0.14 here).
    worker.requests_served += 1
    if worker.requests_served % FULL_COLLECTION_EVERY == 0:
        gc.collect()
    else:
        gc.collect(1)
    if worker.requests_served == WARM_AFTER_REQUESTS:
        gc.freeze()
