"""A shop's configuration, kept in each process between requests.

What a shop is configured with (its dispute types, policy, assignment mode, rules, webhook
endpoints, reply templates) changes a few times a day, and a create-ticket read it in five queries.
Each process now keeps what it read, under the shop's `config_version`:

- Database triggers give the shop row a new random version whenever a row of a watched table is
  inserted, deleted, or updated in the columns the cache reads (`watch_table`, one migration per
  app). Admin, bulk and raw-SQL writes are covered alike; a row without a shop (a global dispute
  type or reply template) gives every shop a new version.
- A request learns each shop's version once: from any shop row it reads outside a transaction
  (the API key's, the ticket's: `Shop.from_db`), else with one small query
  (aftersales.request_memo). Outside a request (Celery tasks, tests) every lookup reads the
  version, so one query replaces the configuration's.
- A miss outside a transaction keeps what it read (committed rows, as new as the version or
  newer) under the version known. In a transaction it reads the version again before and after
  computing and keeps the value only if both agree: what the transaction wrote (and may roll
  back) changed the version it reads, and a rolled-back version is never drawn again.
- Saving or deleting a watched row in a request forgets the request's versions (`watch_model`),
  so what the request reads afterwards is fresh. A bulk update sends no signal: the request that
  makes one keeps what it knew, and the requests after it see the change.

Values are shared by every request of the process: callers must not change them (copy first).
"""

import secrets
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from django.db.models.signals import post_delete, post_save

from aftersales.request_memo import forget_where, in_transaction, note, recall

T = TypeVar("T")

_MEMO = "shop_config_version"

# (shop id, name) -> (version, value)
_cache: dict[tuple[int, str], tuple[int, Any]] = {}


_VERSION_BITS = 52

# A new version drawn in SQL, as new_version does in Python: SQLite's random() is a 64-bit integer.
_NEW_VERSION_SQL = {
    "postgresql": f"floor(random() * {2**_VERSION_BITS})::bigint",
    "sqlite": "random()",
}


def new_version() -> int:
    """A new shop's first version (the triggers draw theirs the same way, in SQL)."""
    return secrets.randbits(_VERSION_BITS)


def version_seen(shop_id: int, version: int) -> None:
    """A shop row was read in this request (Shop.from_db): its version, for the rest of it."""
    note((_MEMO, shop_id), version)


def shop_config(shop_id: int, name: str, compute: Callable[[], T]) -> T:
    """`compute()`'s answer for the shop, computed once per change of its configuration."""
    return shops_config([shop_id], name, lambda ids: {shop_id: compute()})[shop_id]


def shops_config(
    shop_ids: Iterable[int], name: str, compute: Callable[[set[int]], dict[int, T]]
) -> dict[int, T]:
    """Per shop, `compute(ids)`'s answer (a value for every id asked), computed once per change of
    that shop's configuration; one query for the versions not known yet, one compute for the
    misses."""
    shop_ids = set(shop_ids)
    known = {pk: recall((_MEMO, pk)) for pk in shop_ids}
    read_now = {pk for pk, version in known.items() if version is None}
    if read_now:
        known.update(_versions(read_now))
    found, missing = {}, set()
    for pk in shop_ids:
        entry = _cache.get((pk, name))
        if entry is not None and entry[0] == known[pk]:
            found[pk] = entry[1]
        else:
            missing.add(pk)
    if missing:
        if in_transaction():
            # What this transaction wrote (and may roll back) is in what it computes: keep a value
            # only under versions read in the transaction, before and after computing, that agree
            # (the computing itself may write: a shop's first policy is made on first use).
            before = {pk: known[pk] for pk in missing & read_now}
            if missing - read_now:
                before.update(_versions(missing - read_now))
            computed = compute(missing)
            after = _versions(missing)
        else:
            # Committed rows only, as new as the version known or newer: keep them under it.
            computed = compute(missing)
            before = after = known
        for pk in missing:
            if before[pk] == after[pk]:
                _cache[(pk, name)] = (before[pk], computed[pk])
        found.update(computed)
    return found


def _versions(shop_ids: set[int]) -> dict[int, int]:
    from shops.models import Shop

    versions = dict(
        Shop.objects.filter(pk__in=shop_ids).order_by().values_list("pk", "config_version")
    )
    for pk, version in versions.items():
        version_seen(pk, version)
    # A shop deleted meanwhile: nothing to keep (-1 is never a version).
    return {pk: versions.get(pk, -1) for pk in shop_ids}


# --- the writes that change a version -----------------------------------------------------------


def watch_model(model) -> None:
    """Saving or deleting a `model` row in this process makes this request read the versions again
    (the trigger has changed one)."""
    post_save.connect(_forget_versions, sender=model, weak=False)
    post_delete.connect(_forget_versions, sender=model, weak=False)


def _forget_versions(**kwargs) -> None:
    forget_where(lambda key: isinstance(key, tuple) and key[:1] == (_MEMO,))


_PG_FUNCTION = """
CREATE OR REPLACE FUNCTION shop_config_touch() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[] := '{}';
    every_shop boolean := false;
BEGIN
    IF TG_OP <> 'INSERT' THEN
        IF OLD.shop_id IS NULL THEN every_shop := true; ELSE ids := ids || OLD.shop_id::bigint; END IF;
    END IF;
    IF TG_OP <> 'DELETE' THEN
        IF NEW.shop_id IS NULL THEN every_shop := true; ELSE ids := ids || NEW.shop_id::bigint; END IF;
    END IF;
    UPDATE shops_shop SET config_version = {new_version}
     WHERE every_shop OR id = ANY(ids);
    RETURN NULL;
END $$
"""


def function_install(apps, schema_editor) -> None:
    """The trigger function every watched table calls (PostgreSQL)."""
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(_PG_FUNCTION.replace("{new_version}", _NEW_VERSION_SQL["postgresql"]))


def function_remove(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP FUNCTION IF EXISTS shop_config_touch()")


def watch_table(table: str, *, columns: tuple[str, ...] = ()):
    """(install, remove) for a RunPython: triggers giving the shops of `table`'s rows a new
    version on INSERT, DELETE, and UPDATE (of `columns` only, if given). The table has a
    `shop_id` column; a row without a shop concerns every shop."""
    name = f"shop_config_{table}"
    update_of = f"UPDATE OF {', '.join(columns)}" if columns else "UPDATE"

    def install(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(
                f"CREATE TRIGGER {name} AFTER INSERT OR DELETE OR {update_of} ON {table} "
                "FOR EACH ROW EXECUTE FUNCTION shop_config_touch()"
            )
            return
        # SQLite: no functions, a statement per event.
        touch = f"UPDATE shops_shop SET config_version = {_NEW_VERSION_SQL['sqlite']} WHERE "
        for suffix, event, where in (
            ("ins", "INSERT", "NEW.shop_id IS NULL OR id = NEW.shop_id"),
            ("del", "DELETE", "OLD.shop_id IS NULL OR id = OLD.shop_id"),
            (
                "upd",
                update_of,
                "OLD.shop_id IS NULL OR NEW.shop_id IS NULL OR id IN (OLD.shop_id, NEW.shop_id)",
            ),
        ):
            schema_editor.execute(
                f"CREATE TRIGGER {name}_{suffix} AFTER {event} ON {table} "
                f"FOR EACH ROW BEGIN {touch}{where}; END"
            )

    def remove(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
            return
        for suffix in ("ins", "del", "upd"):
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {name}_{suffix}")

    return install, remove


_USER_TOUCH = (
    "UPDATE shops_shop SET config_version = {new_version} "
    "WHERE id IN (SELECT shop_id FROM shops_membership WHERE user_id = NEW.id)"
)


def users_watch_install(apps, schema_editor) -> None:
    """A staff user renamed, deactivated or activated changes the configuration of the shops they
    are a member of (the ticket page's assignee list). Memberships themselves: watch_table."""
    if schema_editor.connection.vendor == "postgresql":
        touch = _USER_TOUCH.format(new_version=_NEW_VERSION_SQL["postgresql"])
        schema_editor.execute(
            "CREATE OR REPLACE FUNCTION shop_config_touch_user() RETURNS trigger "
            f"LANGUAGE plpgsql AS $$ BEGIN {touch}; RETURN NULL; END $$"
        )
        schema_editor.execute(
            "CREATE TRIGGER shop_config_auth_user AFTER UPDATE OF username, is_active "
            "ON auth_user FOR EACH ROW EXECUTE FUNCTION shop_config_touch_user()"
        )
        return
    schema_editor.execute(
        "CREATE TRIGGER shop_config_auth_user AFTER UPDATE OF username, is_active ON auth_user "
        f"FOR EACH ROW BEGIN {_USER_TOUCH.format(new_version=_NEW_VERSION_SQL['sqlite'])}; END"
    )


def users_watch_remove(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS shop_config_auth_user ON auth_user")
        schema_editor.execute("DROP FUNCTION IF EXISTS shop_config_touch_user()")
        return
    schema_editor.execute("DROP TRIGGER IF EXISTS shop_config_auth_user")
