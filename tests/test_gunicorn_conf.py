"""gunicorn.conf.py's collector hooks: a request's garbage in reference cycles is freed after its
response, searching the oldest generation only when the request moved objects into it."""

import gc
import importlib.util
import weakref
from pathlib import Path
from types import SimpleNamespace

import pytest

spec = importlib.util.spec_from_file_location(
    "gunicorn_conf", Path(__file__).resolve().parent.parent / "gunicorn.conf.py"
)
conf = importlib.util.module_from_spec(spec)
spec.loader.exec_module(conf)


class Node:
    pass


def cycle():
    a, b = Node(), Node()
    a.other, b.other = b, a
    return a


@pytest.fixture
def worker(monkeypatch):
    worker = SimpleNamespace()
    conf.post_worker_init(worker)
    collected = []
    collect = gc.collect
    monkeypatch.setattr(
        gc, "collect", lambda generation=2: collected.append(generation) or collect(generation)
    )
    worker.collected = collected
    yield worker
    gc.unfreeze()


def test_a_small_requests_cycle_is_freed_by_a_young_collection(worker):
    gc.collect(2)  # nothing of the test's setup left in the young generations
    worker.gc_old_count = gc.get_count()[2]
    garbage = weakref.ref(cycle())
    assert garbage() is not None  # a cycle: not freed by reference counting
    conf.post_request(worker, None, None, None)
    assert garbage() is None
    assert worker.collected[-1] == 1


def test_a_cycle_moved_to_the_oldest_generation_during_the_request_is_freed(worker):
    gc.collect(2)
    worker.gc_old_count = gc.get_count()[2]
    kept = cycle()
    gc.collect(1)  # as a busy request's automatic collections do: the live cycle moves up
    garbage = weakref.ref(kept)
    del kept
    conf.post_request(worker, None, None, None)
    assert garbage() is None
    assert worker.collected[-1] == 2
    # and the next small request is back to the young generations
    conf.post_request(worker, None, None, None)
    assert worker.collected[-1] == 1
