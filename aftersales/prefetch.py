"""Filling a relation's prefetch cache with rows already in hand."""

from django.db.models.fields.related_descriptors import ReverseManyToOneDescriptor


def prefetched(instance, related_name: str) -> list | None:
    """The rows of `instance.<related_name>` if they are already in hand (prefetched, or given by
    set_prefetched), else None: for a reader that can skip its query when they are."""
    cached = getattr(instance, "_prefetched_objects_cache", {}).get(related_name)
    return None if cached is None else list(cached)


def set_prefetched(instance, related_name: str, rows) -> None:
    """Make `instance.<related_name>.all()` return `rows` without a query, as if it had been
    prefetched: used to answer with what was just written instead of reading it back."""
    queryset = _relation_queryset(instance, related_name)
    queryset._result_cache = list(rows)
    queryset._prefetch_done = True
    cache = getattr(instance, "_prefetched_objects_cache", None)
    if cache is None:
        cache = instance._prefetched_objects_cache = {}
    cache[related_name] = queryset


def _relation_queryset(instance, related_name: str):
    """The queryset `instance.<related_name>.all()` would be, for further filters on it.

    A reverse foreign key's is built as its related manager builds it (_apply_rel_filters: the
    instance as hint and as the rows' known parent, the filter on it deferred until a query
    needs it), without the manager and the copy a deferred filter() makes: a create-ticket
    caches six relations, and the manager's way cost ~20 µs each. A many-to-many relation's
    filter is sticky (a further filter on the join reuses it): left to its manager."""
    descriptor = getattr(type(instance), related_name)
    if type(descriptor) is not ReverseManyToOneDescriptor:
        return getattr(instance, related_name).all()
    field = descriptor.field
    queryset = field.model._default_manager.get_queryset()
    queryset._add_hints(instance=instance)
    queryset._deferred_filter = (False, (), {field.name: instance})
    queryset._known_related_objects = {
        field: {getattr(instance, field.target_field.attname): instance}
    }
    return queryset
