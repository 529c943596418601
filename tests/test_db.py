"""aftersales.db.rows_insert: plain tuples in, the same rows as the ORM would have written.
joined_rows: a hand-written join read as the same instances select_related gives.
instances_insert: new instances written as bulk_create writes them.
prepared_execute: a statement prepared once per connection, as if run plainly."""

import datetime as dt
import json
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.db import DataError, connection, transaction
from django.test.utils import CaptureQueriesContext

from aftersales.db import (
    instance_read,
    instances_insert,
    joined_columns,
    joined_rows,
    prepared_execute,
    rows_insert,
)
from shops.models import Shop
from tests.factories import ShopFactory, make_ticket
from tickets.models import Customer, Order, OrderItem, Ticket, TicketEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

pytestmark = pytest.mark.django_db
FIELDS = ("ticket_id", "kind", "actor_id", "actor_label", "data", "created_at")


def test_rows_come_back_as_written_with_their_ids_in_order():
    ticket = make_ticket(ShopFactory())
    at = dt.datetime(2026, 3, 10, 2, 0, 1, 250_000, tzinfo=dt.UTC)
    rows = [
        (ticket.pk, "sla", None, "system", {"what": "breached", "n": [1, "二"]}, at),
        (ticket.pk, "sla", None, "system", {}, at + dt.timedelta(seconds=1)),
    ]
    before = TicketEvent.objects.filter(ticket=ticket).count()
    ids = rows_insert(TicketEvent, FIELDS, rows, returning="id")
    assert len(ids) == 2 and ids[0] < ids[1]
    saved = [TicketEvent.objects.get(pk=pk) for pk in ids]
    assert [
        (e.ticket_id, e.kind, e.actor_id, e.actor_label, e.data, e.created_at) for e in saved
    ] == rows
    assert TicketEvent.objects.filter(ticket=ticket).count() == before + 2


def test_string_keys_and_returning_a_foreign_key_table():
    shop = ShopFactory()
    endpoint = WebhookEndpoint.objects.create(
        shop=shop, url="https://shop.example/hook", events=["*"], secret="s"
    )
    now = dt.datetime(2026, 3, 10, tzinfo=dt.UTC)
    rows_insert(
        WebhookEvent,
        ("id", "shop_id", "type", "data", "created_at"),
        [("evt_1", shop.pk, "ticket.created", {"a": 1}, now)],
    )
    [pk] = rows_insert(
        WebhookDelivery,
        ("event_id", "endpoint_id", "status", "attempts", "next_attempt_at", "created_at"),
        [("evt_1", endpoint.pk, "pending", 0, now, now)],
        returning="id",
    )
    delivery = WebhookDelivery.objects.select_related("event").get(pk=pk)
    assert (delivery.event.data, delivery.status, delivery.claimed_until) == (
        {"a": 1},
        "pending",
        None,
    )


def test_a_too_long_value_fails_instead_of_being_cut_and_nothing_is_written():
    ticket = make_ticket(ShopFactory())
    before = TicketEvent.objects.count()
    rows = [
        (ticket.pk, "sla", None, "system", {}, dt.datetime.now(dt.UTC)),
        (ticket.pk, "x" * 41, None, "system", {}, dt.datetime.now(dt.UTC)),
    ]
    with pytest.raises(DataError), transaction.atomic():
        rows_insert(TicketEvent, FIELDS, rows)
    assert TicketEvent.objects.count() == before


def test_no_rows_no_statement(django_assert_num_queries):
    with django_assert_num_queries(0):
        assert rows_insert(TicketEvent, FIELDS, [], returning="id") == []


def test_joined_rows_are_what_select_related_reads(django_assert_num_queries):
    shop = ShopFactory(sla_settings={"first_response_hours": 3})
    ticket = make_ticket(shop)  # no assignee: the LEFT JOIN finds no user
    Ticket.objects.filter(pk=ticket.pk).update(affected_items=[{"sku": "A", "quantity": 2}])
    sql = (
        f"SELECT {joined_columns(('t', Ticket), ('s', Shop), ('u', User))}, 41 + 1"
        " FROM tickets_ticket t JOIN shops_shop s ON s.id = t.shop_id"
        " LEFT JOIN auth_user u ON u.id = t.assignee_id WHERE t.id = %s"
    )
    with django_assert_num_queries(1):
        [((read, read_shop, assignee), rest)] = joined_rows(sql, [ticket.pk], (Ticket, Shop, User))
    expected = Ticket.objects.select_related("shop").get(pk=ticket.pk)
    assert assignee is None and rest == (42,)
    for field in Ticket._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(expected, field.attname), field.name
    assert read.affected_items == [{"sku": "A", "quantity": 2}]  # JSON, decoded
    assert read_shop.sla_settings == {"first_response_hours": 3}
    assert read_shop.config_version == expected.shop.config_version
    assert not read._state.adding and read_shop.pk == shop.pk


def test_instances_are_inserted_as_bulk_create_writes_them(django_assert_num_queries):
    shop = ShopFactory()
    orders = [
        Order(shop=shop, order_no=f"IN-{n}", amount=Decimal("19.99"), courier="SF") for n in (1, 2)
    ]
    with django_assert_num_queries(1):
        assert instances_insert(orders) is True
    assert orders[0].pk < orders[1].pk and not orders[0]._state.adding
    saved = Order.objects.get(pk=orders[1].pk)
    assert (saved.order_no, saved.amount, saved.courier, saved.shop_id) == (
        "IN-2",
        Decimal("19.99"),
        "SF",
        shop.pk,
    )
    customer = Customer(shop=shop, external_id="c-1", name="甲")
    assert instances_insert([customer], skip_conflict=True) is True
    assert customer.created_at is not None  # auto_now_add, as save() fills it
    assert Customer.objects.get(pk=customer.pk).created_at == customer.created_at


def test_the_values_written_are_what_each_field_would_prepare(settings):
    """instances_insert passes some values on without their field's preparation (a string, an
    int, an aware datetime): the parameters are the ones the fields give, for values of every
    kind they could hold, including those that take the field's way (a lazy string, a naive
    datetime, a choices member, a Decimal, JSON)."""
    from django.utils.translation import gettext_lazy

    from aftersales.db import _insert_params, _insert_statement
    from sla.models import Timer, TimerKind

    shop = ShopFactory()
    ticket = make_ticket(shop)
    aware = dt.datetime(2026, 3, 10, 2, 0, 1, 250_000, tzinfo=dt.UTC)
    naive = dt.datetime(2026, 3, 10, 10, 0)
    instances = [
        Ticket(
            number="AS1",
            shop=shop,
            customer_id=ticket.customer_id,
            order=ticket.order,
            dispute_type_id=ticket.dispute_type_id,
            description=gettext_lazy("Description"),
            affected_items=[{"sku": "A", "quantity": 1}],
            first_response_due_at=aware,
            resolution_due_at=None,
            status_since=aware,
        ),
        Timer(ticket=ticket, kind=TimerKind.FIRST_RESPONSE_BREACH, due_at=aware, attempts=2),
        Timer(ticket_id=ticket.pk, kind="auto_close", due_at=aware, data={"n": [1, "二"]}),
        Order(shop=shop, order_no=7, amount=Decimal("1.50"), paid_at=aware),
        OrderItem(order=ticket.order, sku="S", unit_price="2.5", quantity=True, perishable=1),
    ]
    settings.USE_TZ = True
    with pytest.warns(RuntimeWarning):  # a naive datetime: the field warns, as save() would
        instances.append(Order(shop=shop, order_no="N", paid_at=naive))
        for instance in instances:
            fields, _sql = _insert_statement(type(instance), 1, False)
            fast = _insert_params([instance], fields)
            own = [f.get_db_prep_save(f.pre_save(instance, True), connection) for f in fields]
            for field, mine, theirs in zip(fields, fast, own, strict=True):
                if field.name in ("created_at", "updated_at"):  # auto_now: the clock moved
                    continue
                assert (type(mine), str(mine)) == (type(theirs), str(theirs)), field.name


def test_a_conflict_skipped_writes_nothing_and_keeps_the_transaction(django_assert_num_queries):
    shop = ShopFactory()
    Customer.objects.create(shop=shop, external_id="c-1", name="first")
    again = Customer(shop=shop, external_id="c-1", name="second")
    with transaction.atomic():
        assert instances_insert([again], skip_conflict=True) is False
        assert again.pk is None and again._state.adding
        assert Customer.objects.filter(shop=shop).count() == 1  # the transaction still works
    assert Customer.objects.get(shop=shop, external_id="c-1").name == "first"
    with pytest.raises(ValueError):
        instances_insert([again, Customer(shop=shop, external_id="c-2")], skip_conflict=True)


def test_children_are_written_with_their_parent_in_one_statement(django_assert_num_queries):
    shop = ShopFactory()
    order = Order(shop=shop, order_no="CH-1", amount=Decimal("30.00"))
    items = [
        OrderItem(order=order, sku=sku, name="杯子", unit_price=Decimal("10.50"), quantity=n)
        for n, sku in ((2, "A"), (1, "B"), (3, "C"))
    ]
    statements = 1 if connection.vendor == "postgresql" else 2
    with django_assert_num_queries(statements):
        assert instances_insert([order], children=items) is True
    assert order.pk and [item.order_id for item in items] == [order.pk] * 3
    assert items[0].pk < items[1].pk < items[2].pk  # each its own id, in order
    saved = {i.pk: (i.order_id, i.sku, i.unit_price, i.quantity) for i in OrderItem.objects.all()}
    assert saved == {
        item.pk: (order.pk, item.sku, Decimal("10.50"), item.quantity) for item in items
    }


def test_a_skipped_parent_writes_no_children():
    ticket = make_ticket(ShopFactory())
    again = Ticket(
        number=ticket.number,
        shop=ticket.shop,
        customer=ticket.customer,
        order=Order.objects.create(shop=ticket.shop, order_no="CH-2"),
        dispute_type=ticket.dispute_type,
    )
    events = [TicketEvent(ticket=again, kind="created", actor_label="system", data={"a": 1})]
    before = TicketEvent.objects.count()
    with transaction.atomic():
        assert instances_insert([again], skip_conflict=True, children=events) is False
        assert TicketEvent.objects.count() == before and events[0].pk is None
    again.number = "AS-CHILD-OK"
    assert instances_insert([again], skip_conflict=True, children=events) is True
    saved = TicketEvent.objects.get(pk=events[0].pk)
    assert (saved.ticket_id, saved.data, saved.created_at) == (
        again.pk,
        {"a": 1},
        events[0].created_at,
    )


def test_children_must_point_to_their_parent():
    shop = ShopFactory()
    order, other = Order(shop=shop, order_no="CH-3"), Order(shop=shop, order_no="CH-4")
    with pytest.raises(ValueError):
        instances_insert([order], children=[OrderItem(order=other, sku="A", unit_price=1)])


def _prepared_here() -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return {row[0] for row in cursor.fetchall()}


def _shop_code(pk):
    with connection.cursor() as cursor:
        prepared_execute(
            cursor, "SELECT code FROM shops_shop WHERE id = %s AND code LIKE '%%'", [pk]
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
def test_a_statement_is_prepared_once_per_connection_and_answers_as_run_plainly(
    django_assert_num_queries,
):
    shop, other = ShopFactory(code="p-one"), ShopFactory(code="p-two")
    with django_assert_num_queries(1):  # the PREPARE is not one of the request's queries
        assert _shop_code(shop.pk) == "p-one"
    assert sum("FROM shops_shop WHERE id = $1" in s for s in _prepared_here()) == 1
    assert _shop_code(other.pk) == "p-two"
    assert sum("FROM shops_shop WHERE id = $1" in s for s in _prepared_here()) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
def test_a_prepared_statement_outlives_a_rollback():
    shop = ShopFactory(code="p-three")
    with transaction.atomic():
        sid = transaction.savepoint()
        assert _shop_code(shop.pk) == "p-three"  # prepared inside what is rolled back
        transaction.savepoint_rollback(sid)
    assert _shop_code(shop.pk) == "p-three"  # not prepared twice (that would be an error)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
@pytest.mark.django_db(transaction=True)
def test_a_new_connection_prepares_again():
    shop = ShopFactory(code="p-six")
    assert _shop_code(shop.pk) == "p-six"
    connection.close()  # as CONN_MAX_AGE or a failed health check does
    with connection.cursor():
        assert _prepared_here() == set()
    assert _shop_code(shop.pk) == "p-six"
    assert any("FROM shops_shop WHERE id = $1" in s for s in _prepared_here())


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
def test_arguments_sent_as_text_are_read_back_as_the_values_given():
    """prepared_execute passes datetimes, JSON and choices as their text (aftersales.db._as_text):
    PostgreSQL reads them as the parameters' types, so they are stored as given."""
    from zoneinfo import ZoneInfo

    from django.db.backends.postgresql.psycopg_any import Jsonb

    from aftersales.db import _as_text
    from tickets.states import Status

    moment = dt.datetime(2026, 12, 8, 8, 30, 1, 123456, tzinfo=ZoneInfo("Asia/Shanghai"))
    data = {"note": "瓶子碎了 \\ ' \"", "n": [1, 2.5, None, True]}
    values = [moment, Jsonb(data), Status.PENDING_CUSTOMER, 7, None, Decimal("1.50"), "it's"]
    sent = [_as_text(value) for value in values]
    assert [type(value) for value in sent] == [str, str, str, int, type(None), Decimal, str]
    assert _as_text(moment.replace(tzinfo=None)) == moment.replace(tzinfo=None)  # psycopg2's way
    sql = (
        "SELECT %s::timestamptz, %s::jsonb, %s::varchar, %s::int, %s::text, %s::numeric,"
        " %s::text, %s::timestamptz = '2026-12-08 00:30:01.123456+00'"
    )
    with connection.cursor() as cursor:
        prepared_execute(cursor, sql, [*values, moment])
        row = cursor.fetchone()
    assert json.loads(row[1]) == data  # (Django's connections leave jsonb to the field to parse)
    assert row[:1] + row[2:] == (moment, "pending_customer", 7, None, Decimal("1.50"), "it's", True)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite: Django's cursor each time")
@pytest.mark.django_db(transaction=True)
def test_statements_run_on_a_kept_cursor_until_the_connection_changes():
    shop = ShopFactory(code="p-kept")
    sql = f"SELECT {joined_columns(('s', Shop))} FROM shops_shop s WHERE s.code = %s"
    assert instance_read(sql, ["p-kept"], Shop).pk == shop.pk
    raw, kept = connection._statement_cursor
    assert instance_read(sql, ["nobody"], Shop) is None
    assert connection._statement_cursor == (raw, kept) and raw is connection.connection
    with CaptureQueriesContext(connection) as logged:  # logged: Django's own cursor, as before
        assert instance_read(sql, ["p-kept"], Shop).pk == shop.pk
        instances_insert([Shop(code="p-kept-2", name="2")])
    assert len(logged.captured_queries) == 2
    assert connection._statement_cursor[1] is kept
    connection.close()  # as CONN_MAX_AGE or a failed health check does
    assert instance_read(sql, ["p-kept"], Shop).pk == shop.pk
    assert instance_read(sql, ["p-kept-2"], Shop) is not None
    new_raw, new_kept = connection._statement_cursor
    assert new_raw is connection.connection and new_raw is not raw and new_kept is not kept


def test_the_logged_query_reads_as_the_statement():
    shop = ShopFactory(code="p-four")
    with CaptureQueriesContext(connection) as queries:
        assert _shop_code(shop.pk) == "p-four"
    assert "FROM shops_shop WHERE id = " in queries.captured_queries[0]["sql"]


def test_instance_read_gives_the_first_row_or_none():
    shop = ShopFactory(code="p-five")
    sql = f"SELECT {joined_columns(('s', Shop))} FROM shops_shop s WHERE s.code = %s"
    read = instance_read(sql, ["p-five"], Shop)
    assert (read.pk, read.code, read._state.adding) == (shop.pk, "p-five", False)
    assert instance_read(sql, ["nobody"], Shop) is None


def test_past_the_cap_a_statement_runs_as_it_is(monkeypatch):
    from aftersales import db

    shop = ShopFactory(code="p-seven")
    monkeypatch.setattr(db, "_prepared_names", {})
    monkeypatch.setattr(db, "PREPARED_MAX", 0)
    assert _shop_code(shop.pk) == "p-seven"
    assert db._prepared_names == {}  # nothing named, nothing prepared


def test_a_lookup_finds_its_row_or_inserts_the_instance(django_assert_num_queries):
    from aftersales.db import instance_read_or_insert

    shop = ShopFactory()
    sql = (
        f"SELECT {joined_columns(('c', Customer))} FROM tickets_customer c"
        " WHERE c.shop_id = %s AND c.external_id = %s"
    )
    new = Customer(shop=shop, external_id="c-ri", name="甲")
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 2):
        assert instance_read_or_insert(sql, [shop.pk, "c-ri"], new) == (new, True)
    assert new.pk and not new._state.adding and new.shop is shop  # the instance as built
    again = Customer(shop=shop, external_id="c-ri", name="乙")
    found, created = instance_read_or_insert(sql, [shop.pk, "c-ri"], again)
    assert (found.pk, found.name, created, again.pk) == (new.pk, "甲", False, None)


def test_beside_the_lookup_a_parent_and_its_children_are_written_in_the_same_statement(
    django_assert_num_queries,
):
    from aftersales.db import instance_read_or_insert_beside

    shop = ShopFactory()
    sql = (
        f"SELECT {joined_columns(('c', Customer))} FROM tickets_customer c"
        " WHERE c.shop_id = %s AND c.external_id = %s"
    )

    def order(number, lines):
        row = Order(shop=shop, order_no=number, amount=Decimal("3.00"), courier="SF")
        items = [
            OrderItem(order=row, sku=f"S{n}", unit_price=Decimal("1.50"), quantity=n)
            for n in range(1, lines + 1)
        ]
        return row, items

    new = Customer(shop=shop, external_id="c-bs", name="甲")
    first, items = order("BS-1", 2)
    with django_assert_num_queries(1 if connection.vendor == "postgresql" else 4):
        answer = instance_read_or_insert_beside(
            sql, [shop.pk, "c-bs"], new, parent=first, children=items
        )
    assert answer == (new, True) and new.pk and new.shop is shop
    assert first.pk and [item.order_id for item in items] == [first.pk, first.pk]
    saved = list(OrderItem.objects.filter(order=first).order_by("pk"))
    assert [(i.pk, i.sku, i.quantity) for i in saved] == [(i.pk, i.sku, i.quantity) for i in items]

    again = Customer(shop=shop, external_id="c-bs", name="乙")
    second, none = order("BS-2", 0)  # an order without lines
    found, created = instance_read_or_insert_beside(
        sql, [shop.pk, "c-bs"], again, parent=second, children=none
    )
    assert (found.pk, found.name, created, again.pk) == (new.pk, "甲", False, None)
    assert Order.objects.get(pk=second.pk).order_no == "BS-2"
    assert not OrderItem.objects.filter(order=second).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
@pytest.mark.django_db(transaction=True)
def test_the_orm_queries_of_a_block_run_prepared_with_the_same_answers(
    django_assert_num_queries,
):
    from aftersales.db import prepared_queries

    shops = [ShopFactory(code=f"pq-{i}") for i in range(3)]
    query = Shop.objects.filter(code__in=["pq-0", "pq-2"], id__gte=shops[0].pk).order_by("code")
    plain = list(query.values_list("code", flat=True))
    with prepared_queries(), django_assert_num_queries(2):  # no PREPARE among them
        first = list(query.values_list("code", flat=True))
        again = list(query.values_list("code", flat=True))
    assert plain == first == again == ["pq-0", "pq-2"]
    assert sum('"shops_shop"."code" IN ($1, $2)' in s for s in _prepared_here()) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
@pytest.mark.django_db(transaction=True)
def test_a_query_postgresql_cannot_prepare_runs_as_it_is():
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from aftersales import db

    ShopFactory(code="pq-3")
    # `$1 IS NULL`: PostgreSQL cannot tell the parameter's type, so it refuses to prepare it.
    unknown = RawSQL("%s IS NULL", ["好"], output_field=BooleanField())
    query = Shop.objects.filter(code="pq-3").annotate(unknown=unknown)
    with db.prepared_queries():
        assert list(query.values_list("code", "unknown")) == [("pq-3", False)]
        assert list(query.values_list("code", "unknown")) == [("pq-3", False)]  # and again
    assert len([s for s in db._unpreparable if "IS NULL) AS" in s]) == 1


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
def test_in_a_transaction_a_refused_prepare_leaves_the_transaction_as_it_was():
    from django.db.models import BooleanField
    from django.db.models.expressions import RawSQL

    from aftersales.db import prepared_queries

    unknown = RawSQL("%s IS NOT NULL", ["在事务里"], output_field=BooleanField())
    with transaction.atomic(), prepared_queries():
        shop = ShopFactory(code="pq-4")
        assert list(Shop.objects.filter(pk=shop.pk).annotate(u=unknown).values_list("u")) == [
            (True,)
        ]
        Shop.objects.filter(pk=shop.pk).update(name="still usable")
        assert Shop.objects.filter(code="pq-4", name__startswith="still").count() == 1
    assert Shop.objects.get(pk=shop.pk).name == "still usable"
    assert any("LIKE $2" in s for s in _prepared_here())  # prepared in the transaction too


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
def test_named_parameters_run_as_they_are():
    from aftersales.db import prepared_queries

    shop = ShopFactory(code="pq-6")
    with prepared_queries(), connection.cursor() as cursor:
        cursor.execute("SELECT code FROM shops_shop WHERE id = %(id)s", {"id": shop.pk})
        assert cursor.fetchone() == ("pq-6",)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="SQLite runs the statement plainly")
@pytest.mark.django_db(transaction=True)
def test_a_block_leaves_half_of_the_prepared_texts_to_the_fixed_statements(monkeypatch):
    from aftersales import db

    shop = ShopFactory(code="pq-5")
    monkeypatch.setattr(db, "_prepared_names", {})
    monkeypatch.setattr(db, "PREPARED_MAX", 2)
    with db.prepared_queries():
        assert Shop.objects.filter(code="pq-5", id=shop.pk).count() == 1  # the block's one
        assert Shop.objects.filter(code="pq-5", id__gte=shop.pk).count() == 1  # past half: as is
    assert len(db._prepared_names) == 1
    assert _shop_code(shop.pk) == "pq-5"  # a fixed statement still finds room
    assert len(db._prepared_names) == 2
