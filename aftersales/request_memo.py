"""Values kept for the rest of one request: what the request learnt once and several parts of
it ask for again (each shop's configuration version: shops.config).

The memo lives only while the middleware serves a request (a context variable, so threads and
Celery tasks do not share it); outside one, nothing is kept. Only what is read outside a
transaction is kept (committed rows). Writes that change a kept value forget it, so a read after
the write in the same request sees the new one."""

from collections.abc import Callable, Hashable
from contextvars import ContextVar

from django.db import connection

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


def note(key: Hashable, value) -> None:
    """Keep `value` for `key` for the rest of the request (if read outside a transaction)."""
    memo = _memo.get()
    if memo is not None and not in_transaction():
        memo[key] = value


def recall(key: Hashable):
    """What the request keeps for `key`, or None."""
    memo = _memo.get()
    return None if memo is None else memo.get(key)


def forget_where(matches: Callable[[Hashable], bool]) -> None:
    memo = _memo.get()
    if memo is not None:
        for key in [key for key in memo if matches(key)]:
            del memo[key]


def in_transaction() -> bool:
    """In an atomic block of the code's own (a test's wrapping transaction does not count, as for
    Django's own `durable` check)."""
    return any(not getattr(block, "_from_testcase", False) for block in connection.atomic_blocks)
