"""Filling a relation's prefetch cache with rows already in hand."""


def prefetched(instance, related_name: str) -> list | None:
    """The rows of `instance.<related_name>` if they are already in hand (prefetched, or given by
    set_prefetched), else None: for a reader that can skip its query when they are."""
    cached = getattr(instance, "_prefetched_objects_cache", {}).get(related_name)
    return None if cached is None else list(cached)


def set_prefetched(instance, related_name: str, rows) -> None:
    """Make `instance.<related_name>.all()` return `rows` without a query, as if it had been
    prefetched: used to answer with what was just written instead of reading it back."""
    queryset = getattr(instance, related_name).all()
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}
    cache[related_name] = queryset
