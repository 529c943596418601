"""gunicorn settings read from the working directory (see README, Deployment)."""

import gc

# Django imports views, templates and serializers lazily on the first requests; freeze after
# those, so what stays visible to the collector is only what each request creates.
WARM_AFTER_REQUESTS = 50


def post_worker_init(worker):
    worker.requests_served = 0
    gc.freeze()


def post_request(worker, req, environ, resp):
    # A page of tickets leaves thousands of objects in reference cycles (ticket <-> order <->
    # items caches). Freed here, after the response is sent, they cost a little CPU instead
    # of a 70-200 ms generation-2 pause inside some later request (bench/README.md).
    # A full collection, not a young one: this request's objects are still referenced here, so
    # a young collection would move them (and their cycles) into the oldest generation, where
    # hundreds of requests' garbage piled up until one 100-200 ms collection (tried: a create
    # 3 % cheaper, the queue's p95 at one connection 37 -> 118 ms after a create load).
    worker.requests_served += 1
    gc.collect()
    if worker.requests_served == WARM_AFTER_REQUESTS:
        gc.freeze()
