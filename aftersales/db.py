"""unique_row: the row of a lookup by a unique key, without the ordering .first() adds.

rows_insert: many rows of one model written from plain tuples, for the few hot paths (a chunk
of SLA timers writes thousands of rows) where building a model instance per row and letting
bulk_create prepare every field costs more than the database spends storing them."""

import datetime as dt
import json
from collections.abc import Sequence

from django.db import connection
from django.db.models import JSONField


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
    that index in order: a third of planning the ticket page's main query."""
    return next(iter(queryset[:1]), None)
