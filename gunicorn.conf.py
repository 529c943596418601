"""gunicorn settings read from the working directory (see README, Deployment)."""

import gc

# Django imports views, templates and serializers lazily on the first requests; freeze after
# those, so what stays visible to the collector is only what each request creates.
WARM_AFTER_REQUESTS = 50


def post_worker_init(worker):
    worker.requests_served = 0
    gc.freeze()
    worker.gc_old_count = gc.get_count()[2]


def post_request(worker, req, environ, resp):
    # A page of tickets leaves thousands of objects in reference cycles (ticket <-> order <->
    # items caches). Freed here, after the response is sent, they cost a little CPU instead
    # of a 70-200 ms generation-2 pause inside some later request (bench/README.md).
    # The oldest generation is searched only when the request moved objects into it (a
    # generation-1 collection ran during it, which counts in get_count()[2]): a small request's
    # garbage is all in the young generations, and searching those is cheaper.
    worker.requests_served += 1
    promoted = gc.get_count()[2] != worker.gc_old_count
    gc.collect(2 if promoted else 1)
    worker.gc_old_count = gc.get_count()[2]
    if worker.requests_served == WARM_AFTER_REQUESTS:
        gc.freeze()
