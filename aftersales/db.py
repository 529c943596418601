"""unique_row: the row of a lookup by a unique key, without the ordering .first() adds.

instances_insert: new model instances written as save() / bulk_create would (each field's pre_save
and database preparation), without building and compiling the ORM's INSERT: a create-ticket writes
five of them.

joined_rows: a hand-written SELECT of several models' rows joined (what select_related reads),
for the reads of every request where building and compiling the ORM's query cost more than
PostgreSQL spends answering it (bench/README.md); instances_read and instance_read for one
model's rows, instance_read_or_insert for a lookup that inserts what it does not find (and
instance_read_or_insert_beside, with an unrelated parent and its children in the same
statement); joined_rows_first for a request's first read, which stands in for the connection's
health check.

prepared_execute: a statement of every request run as a prepared statement of the connection,
so PostgreSQL parses and plans it once per connection instead of on every request;
prepared_queries for a block's queries, the ORM's included.

rows_insert: many rows of one model written from plain tuples, for the few hot paths (a chunk
of SLA timers writes thousands of rows) where building a model instance per row and letting
bulk_create prepare every field costs more than the database spends storing them."""

import datetime as dt
import json
from collections.abc import Sequence
from contextlib import contextmanager
from itertools import count

import psycopg2
from django.db import DEFAULT_DB_ALIAS, Error, connection, connections, models
from django.db.backends.postgresql.psycopg_any import Jsonb
from django.db.models import JSONField, Model
from django.db.models.sql import Query


def _db():
    """The thread's default connection itself: django.db.connection is a proxy whose every
    attribute costs a thread-local lookup (~3 µs), and a create reads hundreds of them."""
    return connections[DEFAULT_DB_ALIAS]


# statement text -> its prepared statement's name, the same in every connection of this process;
# texts beyond the first PREPARED_MAX run as they are.
_prepared_names: dict[str, str] = {}
_prepared_numbers = count(1)
PREPARED_MAX = 500


def prepared_execute(cursor, sql: str, params: Sequence) -> None:
    """cursor.execute(sql, params), on PostgreSQL as a prepared statement of this connection.

    Parsing and planning a short statement costs PostgreSQL more than running it (the API key's
    read: 0.14 ms planned, 0.02 ms run). PREPARE, once per connection, keeps the plan; after five
    runs PostgreSQL keeps one generic plan when it is as good, so use this for lookups by key and
    inserts, whose plan does not depend on the values. Prepared statements are the session's and
    outlive a rolled-back transaction. Where queries are logged (DEBUG, CaptureQueriesContext),
    the EXECUTE carries the statement's text as a comment, so the log still reads as SQL."""
    db = _db()
    statement = _prepared(db, sql, params) if db.vendor == "postgresql" else None
    if statement is None:
        cursor.execute(sql, params)
    else:
        cursor.execute(statement, [_as_text(value) for value in params])


def _statement_rows(sql: str, params: Sequence) -> list[tuple]:
    """The rows of `sql` run by prepared_execute, on a cursor the connection keeps for this
    module's statements. Django makes a new cursor for each `connection.cursor()` (its
    async-safety checks, its wrapper, psycopg2's cursor: ~70,000 instructions, as much as
    psycopg2 spends on a small read itself), and a create-ticket runs five of these statements.
    Where queries are logged (DEBUG, CaptureQueriesContext), and off PostgreSQL, Django's own
    cursor, as before; a new connection gets a new cursor."""
    db = _db()
    db.close_if_health_check_failed()  # (as connection.cursor() would, first)
    raw = db.connection
    if raw is None or db.vendor != "postgresql" or db.queries_logged:
        with db.cursor() as cursor:
            prepared_execute(cursor, sql, params)
            return cursor.fetchall()
    kept = getattr(db, "_statement_cursor", None)
    if kept is None or kept[0] is not raw:
        kept = db._statement_cursor = (raw, db.cursor())
    cursor = kept[1]
    prepared_execute(cursor, sql, params)
    return cursor.fetchall()


def _as_text(value):
    """An EXECUTE's argument as psycopg2 sends it fastest. PostgreSQL reads each argument as
    the prepared statement's parameter type (which its columns decide), so a value psycopg2
    adapts slowly can go as its text: an aware datetime (4 µs adapted, 1.2 as text), JSON
    (2.7 against 0.8), a TextChoices member (str subclasses are adapted the slow way). A create
    -ticket's statements carry ~100 values, 40 of those kinds."""
    kind = type(value)
    if kind is str or value is None:
        return value
    convert = _TEXT_FORMS.get(kind)
    if convert is None:
        convert = _TEXT_FORMS[kind] = _text_form(kind)
    return convert(value)


def _text_form(kind):
    if kind is dt.datetime:
        # A naive one takes psycopg2's way (read in the session's time zone, as before).
        return lambda value: value.isoformat() if value.tzinfo is not None else value
    if issubclass(kind, Jsonb):
        return lambda value: value.dumps(value.adapted)
    if issubclass(kind, str):
        return str.__str__  # a TextChoices member: its value, as a plain str
    return _unchanged


def _unchanged(value):
    return value


# type -> how prepared_execute passes its values (_as_text), filled as types are met
_TEXT_FORMS: dict[type, object] = {}


@contextmanager
def prepared_queries():
    """The block's queries, the ORM's included, run as prepared statements (prepared_execute) of
    the connection: for a page's reads whose planning costs PostgreSQL more than running them
    (the list API's page of tickets at 1M: planned in 2.8 ms, run in 0.7). Only a statement whose
    plan suits every value gains: PostgreSQL keeps a generic plan only when it costs no more than
    planning each run (the queue's, whose statuses decide which partial index serves it, would
    still be planned every time). A statement PostgreSQL cannot prepare (a parameter of no
    inferable type) just runs as it is; in a transaction its PREPARE is tried in a savepoint."""
    db = _db()
    if db.vendor != "postgresql":
        yield
        return

    def run_prepared(execute, sql, params, many, context):
        statement = None
        if params and not many and isinstance(params, list | tuple):  # not named parameters
            statement = _prepared(db, sql, params, may_fail=True, limit=PREPARED_MAX // 2)
        return execute(sql if statement is None else statement, params, many, context)

    with db.execute_wrapper(run_prepared):
        yield


# Statement texts PostgreSQL refused to prepare (prepared_queries): they run as they are.
_unpreparable: set[str] = set()


def _prepared(
    db, sql: str, params: Sequence, may_fail: bool = False, limit: int | None = None
) -> str | None:
    """The EXECUTE of `sql` as this connection's prepared statement, PREPAREd first if the
    connection has not yet; None when it is to run as it is: a new text past `limit` texts
    (PREPARED_MAX; prepared_queries' texts, whose filters vary, stop at half of it, so the fixed
    statements of prepared_execute always find room), or a text PostgreSQL refused to prepare,
    which only `may_fail` callers try."""
    if sql in _unpreparable:
        return None
    name = _prepared_names.get(sql)
    if name is None:
        if len(_prepared_names) >= (PREPARED_MAX if limit is None else limit):
            return None  # (a read with a varying IN list kept adding)
        # One name per text in the process, whichever thread asks first (setdefault, next():
        # atomic), so no connection can run one text under another's name.
        name = _prepared_names.setdefault(sql, f"aftersales_{next(_prepared_numbers)}")
    raw = db.connection
    prepared = getattr(db, "_prepared_statements", None)
    if prepared is None or prepared[0] is not raw:  # a new connection: nothing prepared yet
        prepared = db._prepared_statements = (raw, set())
    if name not in prepared[1]:
        # On the driver's own cursor: a query count (assertNumQueries) stays what the request
        # runs, not whether this connection had run it before.
        numbered = sql % tuple(f"${i}" for i in range(1, len(params) + 1))
        if not may_fail:
            with raw.cursor() as own:
                own.execute(f"PREPARE {name} AS {numbered}")
        elif not _prepare_or_refuse(raw, f"PREPARE {name} AS {numbered}", db.in_atomic_block):
            _unpreparable.add(sql)
            return None
        prepared[1].add(name)
    statement = (
        f"EXECUTE {name}({', '.join(['%s'] * len(params))})" if params else f"EXECUTE {name}"
    )
    if db.queries_logged:
        statement += " /* " + sql.replace("%", "%%") + " */"
    return statement


def _prepare_or_refuse(raw, prepare: str, in_transaction: bool) -> bool:
    """Run the PREPARE; False if PostgreSQL refuses it. In a transaction it runs in a savepoint,
    so a refusal leaves the transaction as it was."""
    with raw.cursor() as own:
        if in_transaction:
            own.execute("SAVEPOINT aftersales_prepare")
        try:
            own.execute(prepare)
        except psycopg2.Error:
            if in_transaction:
                own.execute("ROLLBACK TO SAVEPOINT aftersales_prepare")
            return False
        finally:
            if in_transaction:
                own.execute("RELEASE SAVEPOINT aftersales_prepare")
        return True


def rows_insert(
    model, fields: Sequence[str], rows: Sequence[Sequence], *, returning: str | None = None
) -> list:
    """INSERT `rows` (tuples of Python values in `fields` order; foreign keys as ids, JSON
    fields as Python objects, datetimes aware) into `model`'s table with one statement on
    PostgreSQL (one array per column, as bulk_create does). Nothing is filled in: every column
    without a database default must be among `fields`. Returns the `returning` column of the new
    rows, in order, if asked."""
    if not rows:
        return []
    model_fields = [model._meta.get_field(name) for name in fields]
    columns = [list(column) for column in zip(*rows, strict=True)]
    for i, field in enumerate(model_fields):
        if isinstance(field, JSONField):
            columns[i] = [
                None if value is None else json.dumps(value, cls=field.encoder)
                for value in columns[i]
            ]
    quote = connection.ops.quote_name
    names = ", ".join(quote(field.column) for field in model_fields)
    table = quote(model._meta.db_table)
    tail = f" RETURNING {quote(model._meta.get_field(returning).column)}" if returning else ""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # varchar[] rather than varchar(200)[]: a too-long value fails at the column, not silently truncated.
            arrays = ", ".join(
                f"%s::{field.db_type(connection).split('(')[0]}[]" for field in model_fields
            )
            cursor.execute(
                f"INSERT INTO {table} ({names}) SELECT * FROM unnest({arrays}){tail}", columns
            )
            return [row[0] for row in cursor.fetchall()] if returning else []
        # SQLite (`make run` without DATABASE_URL): a row at a time.
        sql = (
            f"INSERT INTO {table} ({names}) VALUES ({', '.join(['%s'] * len(model_fields))}){tail}"
        )
        adapt = connection.ops.adapt_datetimefield_value
        values = [
            [adapt(v) if isinstance(v, dt.datetime) else v for v in row]
            for row in zip(*columns, strict=True)
        ]
        if not returning:
            cursor.executemany(sql, values)
            return []
        new = []
        for row in values:
            cursor.execute(sql, row)
            new.append(cursor.fetchone()[0])
        return new


def unique_row(queryset):
    """The one row of `queryset` (filtered on a unique key), or None. `.first()` orders by the
    primary key, and on a query joining several tables the planner then also weighs walking
    that index in order: a third of planning the ticket page's main query. (A hand-written
    read: instance_read.)"""
    return next(iter(queryset[:1]), None)


def joined_columns(*aliased: tuple[str, type[Model]]) -> str:
    """The select list joined_rows reads: each (alias, model)'s concrete columns, in turn."""
    quote = connection.ops.quote_name
    return ", ".join(
        f"{alias}.{quote(field.column)}"
        for alias, model in aliased
        for field in model._meta.concrete_fields
    )


def joined_rows(
    sql: str, params: Sequence, models: Sequence[type[Model]]
) -> list[tuple[tuple[Model | None, ...], tuple]]:
    """Run `sql`, whose select list starts with joined_columns of `models` (in that order), and
    give each row as (one instance per model, or None where a LEFT JOIN found no row; the rest
    of the row's columns as read). The fields' database converters apply (JSON, and SQLite's
    dates, decimals and booleans), and each instance comes from Model.from_db, as a queryset's."""
    db = _db()
    parts, converters, width = _row_reader(tuple(models))
    rows = _statement_rows(sql, params)
    read = []
    for row in rows:
        row = list(row)
        for position, (functions, expression) in converters.items():
            value = row[position]
            for function in functions:
                value = function(value, expression, db)
            row[position] = value
        instances = tuple(
            None if row[start] is None else model.from_db(db.alias, names, row[start:end])
            for model, names, start, end in parts
        )
        read.append((instances, tuple(row[width:])))
    return read


def joined_rows_first(
    sql: str, params: Sequence, models: Sequence[type[Model]]
) -> list[tuple[tuple[Model | None, ...], tuple]]:
    """joined_rows for a read that is the first query of a request (an API key's): the read is
    the kept connection's health check. Django checks a kept connection with a SELECT 1 before
    a request's first query (CONN_HEALTH_CHECKS), a round trip of its own; here the read runs
    first, and if it finds the connection dead (the server restarted, or ended the session),
    the connection is replaced and the read run again, as the check would have. A statement
    that fails on a live connection fails as it is."""
    db = _db()
    if (
        db.vendor != "postgresql"
        or db.connection is None
        or not db.health_check_enabled
        or db.health_check_done
        or db.in_atomic_block
    ):
        return joined_rows(sql, params, models)
    db.health_check_done = True
    try:
        return joined_rows(sql, params, models)
    except (Error, psycopg2.Error):  # (a PREPARE runs on the driver's own cursor: unwrapped)
        if db.connection is not None and not db.connection.closed:
            raise  # the connection is fine: the statement itself failed
        db.close()
        return joined_rows(sql, params, models)  # on a new connection


def instances_read(sql: str, params: Sequence, model: type[Model]) -> list[Model]:
    """The rows of a read of one model (its select list joined_columns of that model), as
    instances: what a queryset of that model would give."""
    return [instances[0] for instances, _rest in joined_rows(sql, params, (model,))]


def instance_read(sql: str, params: Sequence, model: type[Model]) -> Model | None:
    """The first row of a read of one model (as instances_read), or None: a lookup by a unique
    key, or one with LIMIT 1."""
    rows = instances_read(sql, params, model)
    return rows[0] if rows else None


def instance_read_or_insert(
    sql: str, params: Sequence, instance: Model
) -> tuple[Model | None, bool]:
    """The row a lookup by a unique key finds (`sql` as instance_read's), else `instance`
    inserted, skipping a conflict: (the row, False) or (instance with its pk, True). On
    PostgreSQL one statement (a CTE inserts only when the read found none), elsewhere the read
    then the insert. (None, False) when neither: a concurrent insert came first, which this
    statement could not see, so read again."""
    model = type(instance)
    if _db().vendor != "postgresql":
        found = instance_read(sql, params, model)
        if found is not None:
            return found, False
        return (
            (instance, True) if instances_insert([instance], skip_conflict=True) else (None, False)
        )
    fields, ctes, select = _read_or_insert_statement(model, sql)
    rows = joined_rows(
        f"WITH {ctes} {select}", [*params, *_insert_params([instance], fields)], (model,)
    )
    if not rows:
        return None, False
    (row,), (created,) = rows[0]
    return _read_or_inserted(instance, row, created)


def _read_or_inserted(instance: Model, row: Model | None, created: bool) -> tuple:
    """A read-or-insert's answer: (the row read, False), or (`instance` given the id the row
    was inserted with, True): the instance as built, its relations in hand."""
    if row is None or not created:
        return row, False
    _inserted([instance], [row.pk])
    return instance, True


def instance_read_or_insert_beside(
    sql: str, params: Sequence, instance: Model, *, parent: Model, children: Sequence[Model]
) -> tuple[Model | None, bool]:
    """instance_read_or_insert, and beside it `parent` inserted with its `children` (as
    instances_insert(children=…) writes them), which do not depend on the row read: on
    PostgreSQL in one statement (a create-ticket's customer and its order, a round trip fewer).
    The answer is instance_read_or_insert's; parent and children get their primary keys."""
    if _db().vendor != "postgresql":
        answer = instance_read_or_insert(sql, params, instance)
        instances_insert([parent], children=children)
        return answer
    model = type(instance)
    key = _parent_key(parent, children) if children else None
    statement, fields, parent_fields, child_fields = _beside_statement(
        model, sql, type(parent), key, children
    )
    rows = joined_rows(
        statement,
        [
            *params,
            *_insert_params([instance], fields),
            *_insert_params([parent], parent_fields),
            *_insert_params(children, child_fields),
        ],
        (model,),
    )
    read, created = next(
        ((row, made) for (row,), (made, *_) in rows if row is not None), (None, False)
    )
    _parent_and_children_written(
        parent, children, [(pk, is_child) for (row,), (_, pk, is_child) in rows if row is None]
    )
    return _read_or_inserted(instance, read, created)


def _beside_statement(model, read_sql: str, parent_model, key, children: Sequence[Model]) -> tuple:
    """instance_read_or_insert_beside's statement: the read-or-insert's CTEs, the parent's and
    its children's; its rows are the row read or inserted (its columns, whether inserted, then
    two NULLs) and the ids written (NULLs in the row's columns, the id, whether a child's)."""
    cache_key = (_db().vendor, model, read_sql, parent_model, key, len(children), "beside")
    statement = _inserts.get(cache_key)
    if statement is None:
        fields, read_ctes, read_select = _read_or_insert_statement(model, read_sql)
        ctes, written, parent_fields, child_fields = _parent_and_children(
            parent_model, key, children, False
        )
        row_nulls = ", ".join(["NULL"] * (len(model._meta.concrete_fields) + 1))
        statement = _inserts[cache_key] = (
            f"WITH {read_ctes}, {ctes} SELECT *, NULL, NULL FROM ({read_select}) row_read"
            f" UNION ALL SELECT {row_nulls}, written.* FROM ({written}) written",
            fields,
            parent_fields,
            child_fields,
        )
    return statement


# (vendor, models) -> what joined_rows needs to read their columns: computed once per process.
_readers: dict[tuple, tuple] = {}


def _row_reader(models: tuple[type[Model], ...]) -> tuple:
    db = _db()
    key = (db.vendor, models)
    reader = _readers.get(key)
    if reader is None:
        parts, columns, start = [], [], 0
        for model in models:
            fields = model._meta.concrete_fields
            parts.append((model, [f.attname for f in fields], start, start + len(fields)))
            columns += [field.get_col(model._meta.db_table) for field in fields]
            start += len(fields)
        compiler = db.ops.compiler("SQLCompiler")(Query(models[0]), db, None)
        reader = _readers[key] = (parts, compiler.get_converters(columns), start)
    return reader


def instances_insert(
    instances: Sequence[Model], *, skip_conflict: bool = False, children: Sequence[Model] = ()
) -> bool:
    """INSERT new instances of one model in one statement, as bulk_create does: auto_now fields
    filled, each value prepared by its field, each instance given its primary key. skip_conflict
    (one instance only): ON CONFLICT DO NOTHING — False when a unique constraint already held its
    values (nothing written, the transaction intact, no savepoint needed), else True.

    children (with one instance): new rows of another model whose foreign key points to that
    instance (an order's lines, a ticket's first events), written in the same statement on
    PostgreSQL (a round trip fewer), and only if the instance was."""
    db = _db()
    if not instances:
        return True
    if (skip_conflict or children) and len(instances) != 1:
        raise ValueError("skip_conflict and children take one instance")
    if children and db.vendor == "postgresql":
        return _insert_with_children(instances[0], children, skip_conflict)
    model = type(instances[0])
    fields, sql = _insert_statement(model, len(instances), skip_conflict)
    params = _insert_params(instances, fields)
    ids = [row[0] for row in _statement_rows(sql, params)]
    if len(ids) != len(instances):  # a conflict skipped: nothing was written
        return False
    _inserted(instances, ids)
    if children:  # SQLite (`make run`): a statement of their own
        _link_children(instances[0], children)
        instances_insert(children)
    return True


def _insert_params(instances: Sequence[Model], fields) -> list:
    """Each instance's values of `fields` as save() would write them (pre_save, then
    get_db_prep_save), except a value those leave as it is, passed on without the calls (a
    create-ticket writes ~90 values; 2.8 µs each the field's way)."""
    db = _db()
    checks = [(field, _as_is(db.vendor, field)) for field in fields]
    params = []
    for instance in instances:
        for field, passes in checks:
            if passes is not None:
                value = getattr(instance, field.attname)
                if value is None or passes(value):
                    params.append(value)
                    continue
            params.append(field.get_db_prep_save(field.pre_save(instance, True), db))
    return params


def _is_text(value) -> bool:
    return isinstance(value, str)  # a TextChoices member too: the field passes it on as it is


def _is_int(value) -> bool:
    return type(value) is int  # not bool, nor an IntegerChoices member (the field makes it int)


def _is_bool(value) -> bool:
    return type(value) is bool


def _is_aware_datetime(value) -> bool:
    return type(value) is dt.datetime and value.tzinfo is not None


# Django's own field classes whose pre_save reads the attribute and whose get_db_prep_save
# returns a value that passes these tests (and None) unchanged; a subclass may convert, so it
# takes the field's way.
_PLAIN_TYPES = {
    models.CharField: _is_text,
    models.TextField: _is_text,
    models.SlugField: _is_text,
    models.IntegerField: _is_int,
    models.PositiveIntegerField: _is_int,
    models.PositiveSmallIntegerField: _is_int,
    models.SmallIntegerField: _is_int,
    models.BigIntegerField: _is_int,
    models.BooleanField: _is_bool,
}
_INTEGER_KEYS = (models.AutoField, models.BigAutoField, models.SmallAutoField)
# (vendor, field) -> the test a value passes to be written as it is, or None
_values_as_is: dict[tuple, object] = {}


def _as_is(vendor: str, field):
    key = (vendor, field)
    if key in _values_as_is:
        return _values_as_is[key]
    kind = type(field)
    passes = _PLAIN_TYPES.get(kind)
    if kind in (models.ForeignKey, models.OneToOneField) and (
        type(field.target_field) in _INTEGER_KEYS
    ):
        passes = _is_int
    elif (
        kind is models.DateTimeField
        and vendor == "postgresql"  # (SQLite stores text: adapt_datetimefield_value converts)
        and not (field.auto_now or field.auto_now_add)
    ):
        # A naive datetime takes the field's way (its warning and conversion).
        passes = _is_aware_datetime
    _values_as_is[key] = passes
    return passes


def _inserted(instances: Sequence[Model], ids: Sequence) -> None:
    db = _db()
    for instance, pk in zip(instances, ids, strict=True):
        instance.pk = pk
        instance._state.adding = False
        instance._state.db = db.alias


def _parent_key(parent: Model, children: Sequence[Model]):
    """The children's foreign key that holds `parent` (the same field in each)."""
    model = type(children[0])
    for field in model._meta.concrete_fields:
        if (
            field.is_relation
            and field.related_model is type(parent)
            and all(field.get_cached_value(child, None) is parent for child in children)
        ):
            return field
    raise ValueError(f"the {model.__name__} rows do not all point to the {type(parent).__name__}")


def _link_children(parent: Model, children: Sequence[Model]) -> None:
    key = _parent_key(parent, children)
    for child in children:
        setattr(child, key.attname, parent.pk)


def _insert_with_children(parent: Model, children: Sequence[Model], skip_conflict: bool) -> bool:
    """One statement: the parent's INSERT … RETURNING feeds the children's foreign key."""
    key = _parent_key(parent, children)
    ctes, written, parent_fields, child_fields = _parent_and_children(
        type(parent), key, children, skip_conflict
    )
    params = _insert_params([parent], parent_fields) + _insert_params(children, child_fields)
    rows = _statement_rows(f"WITH {ctes} {written}", params)
    if not rows:  # a conflict skipped the parent, so nothing was written
        return False
    _parent_and_children_written(parent, children, rows)
    return True


def _parent_and_children(parent_model, key, children: Sequence[Model], skip_conflict: bool):
    """(`parent AS (INSERT …)` and the children's CTE, the SELECT of the ids written — each
    with whether it is a child's —, the parent's fields, the children's fields)."""
    parent_fields, parent_sql = _insert_statement(parent_model, 1, skip_conflict)
    if not children:
        pk = _db().ops.quote_name(parent_model._meta.pk.column)
        return f"parent AS ({parent_sql})", f"SELECT {pk}, false FROM parent", parent_fields, []
    child_fields, child_cte, written = _children_statement(type(children[0]), key, len(children))
    return f"parent AS ({parent_sql}), {child_cte}", written, parent_fields, child_fields


def _parent_and_children_written(parent: Model, children: Sequence[Model], ids) -> None:
    """Give parent and children the primary keys written: `ids` as (id, whether a child's), in
    any order (a child's ids ascend in the order the rows were given)."""
    _inserted([parent], [pk for pk, is_child in ids if not is_child])
    if children:
        _inserted(children, sorted(pk for pk, is_child in ids if is_child))
        _link_children(parent, children)


def _children_statement(model: type[Model], key, rows: int) -> tuple:
    """(fields, `children AS (INSERT …)`: the rows of `model`, their foreign key `key` taken
    from the `parent` CTE, the SELECT of the ids: the parent's with false, the children's with
    true)."""
    db = _db()
    cache_key = (db.vendor, model, key.name, rows, "children")
    statement = _inserts.get(cache_key)
    if statement is None:
        meta = model._meta
        fields = [
            f
            for f in meta.concrete_fields
            if not f.generated and f is not meta.auto_field and f is not key
        ]
        quote = db.ops.quote_name
        # The first row's casts type the VALUES list (else its text would not go into a date or
        # JSON column); the type without its length, so a too-long value fails at the column.
        first = ", ".join(f"%s::{f.db_type(db).split('(')[0]}" for f in fields)
        rest = f"({', '.join(['%s'] * len(fields))})"
        values = ", ".join([f"({first})"] + [rest] * (rows - 1))
        pk, parent_pk = quote(meta.pk.column), quote(key.target_field.column)
        statement = _inserts[cache_key] = (
            fields,
            f"children AS (INSERT INTO {quote(meta.db_table)}"
            f" ({quote(key.column)}, {', '.join(quote(f.column) for f in fields)})"
            f" SELECT parent.{parent_pk}, v.* FROM parent, (VALUES {values}) v"
            f" RETURNING {pk})",
            f"SELECT {parent_pk}, false FROM parent UNION ALL SELECT {pk}, true FROM children",
        )
    return statement


# (vendor, model, rows, skip_conflict) -> (fields, sql), computed once per process.
_inserts: dict[tuple, tuple] = {}


def _read_or_insert_statement(model: type[Model], read_sql: str) -> tuple:
    """(fields, the `found` and `made` CTEs, the SELECT of the row: its columns, then whether it
    was inserted)."""
    key = (_db().vendor, model, read_sql, "read_or_insert")
    statement = _inserts.get(key)
    if statement is None:
        db = _db()
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
        quote = db.ops.quote_name
        statement = _inserts[key] = (
            fields,
            f"found AS ({read_sql}),"
            f" made AS (INSERT INTO {quote(meta.db_table)}"
            f" ({', '.join(quote(f.column) for f in fields)})"
            f" SELECT {', '.join(['%s'] * len(fields))}"
            " WHERE NOT EXISTS (SELECT FROM found) ON CONFLICT DO NOTHING"
            f" RETURNING {', '.join(quote(f.column) for f in meta.concrete_fields)})",
            "SELECT *, false FROM found UNION ALL SELECT *, true FROM made",
        )
    return statement


def _insert_statement(model: type[Model], rows: int, skip_conflict: bool) -> tuple:
    db = _db()
    key = (db.vendor, model, rows, skip_conflict)
    statement = _inserts.get(key)
    if statement is None:
        meta = model._meta
        fields = [f for f in meta.concrete_fields if not f.generated and f is not meta.auto_field]
        quote = db.ops.quote_name
        row = f"({', '.join(['%s'] * len(fields))})"
        statement = _inserts[key] = (
            fields,
            f"INSERT INTO {quote(meta.db_table)} ({', '.join(quote(f.column) for f in fields)})"
            f" VALUES {', '.join([row] * rows)}"
            f"{' ON CONFLICT DO NOTHING' if skip_conflict else ''}"
            f" RETURNING {quote(meta.pk.column)}",
        )
    return statement
