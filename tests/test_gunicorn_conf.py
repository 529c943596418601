"""gunicorn.conf.py's collector settings: a request's reference cycles are freed before the next
request, by a collection of the young generations only."""

import gc
import runpy
import weakref
from pathlib import Path
from types import SimpleNamespace

CONF = Path(__file__).resolve().parent.parent / "gunicorn.conf.py"


class Node:
    pass


def a_request():
    """What a page leaves: objects in a reference cycle, unreachable once it answered."""
    first, second = Node(), Node()
    first.other, second.other = second, first
    return weakref.ref(first)


def test_the_last_requests_cycles_are_freed_before_the_next_and_the_oldest_rarely_walked():
    conf = runpy.run_path(str(CONF))
    worker = SimpleNamespace()
    threshold = gc.get_threshold()
    collections = []

    def count(phase, info):
        if phase == "start":
            collections.append(info["generation"])

    try:
        conf["post_worker_init"](worker)
        assert gc.get_threshold()[0] == conf["YOUNG_THRESHOLD"]
        gc.callbacks.append(count)
        for _ in range(conf["FULL_COLLECTION_EVERY"] - 1):
            left = a_request()
            assert left() is not None  # only the collector frees a cycle
            conf["pre_request"](worker, None)
            assert left() is None
        assert set(collections) == {1}  # the young generations only, once a request
        conf["pre_request"](worker, None)
        assert collections[-1] == 2  # now and then a full collection
    finally:
        if count in gc.callbacks:
            gc.callbacks.remove(count)
        gc.unfreeze()
        gc.set_threshold(*threshold)
