"""Values read once per request: a reader that several parts of one page or API call ask for the
same row (the shop's policy: the reply templates' 2-选-1 words and the risk flags; a create's batch
check and its answer's risk flags) keeps the first answer for the rest of the request.

The memo lives only while the middleware serves a request (a context variable, so threads and
Celery tasks do not share it); outside one, `remembered` always computes. Only what is read
outside a transaction is kept (committed rows). A service that writes the value calls `forget`,
so a read after the write in the same request sees the new one."""

from collections.abc import Callable, Hashable
from contextvars import ContextVar
from typing import TypeVar

from django.db import connection

T = TypeVar("T")

_memo: ContextVar[dict | None] = ContextVar("request_memo", default=None)


def request_memo(get_response):
    """Middleware: a fresh memo for each request, gone when it is answered."""

    def middleware(request):
        token = _memo.set({})
        try:
            return get_response(request)
        finally:
            _memo.reset(token)

    return middleware


def remembered(key: Hashable, compute: Callable[[], T]) -> T:
    """`compute()`'s answer, computed once per request for `key`."""
    memo = _memo.get()
    if memo is None:
        return compute()
    if key in memo:
        return memo[key]
    value = compute()
    if not _in_transaction():
        # Read in autocommit: committed rows only. What a transaction reads or writes may be
        # rolled back, so it is not kept.
        memo[key] = value
    return value


def forget(key: Hashable) -> None:
    memo = _memo.get()
    if memo is not None:
        memo.pop(key, None)


def _in_transaction() -> bool:
    """In an atomic block of the code's own (a test's wrapping transaction does not count, as for
    Django's own `durable` check)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
