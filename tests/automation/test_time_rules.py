"""Time rules swept by beat: rows, once per rule version and ticket, the reaper, the watermark."""

import datetime as dt

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from automation import engine, services
from automation.models import FiringState, RuleFiring
from automation.sweep import automation_sweep, firings_reap, time_rules_scan
from notifications.models import Notification
from tests.factories import make_ticket_for, staff_member
from tickets import services as tickets
from tickets.models import Ticket

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 12, 1, 3, 0, tzinfo=dt.UTC)


def sweep_and_fire(now, capture):
    ids = []
    with time_machine.travel(now, tick=False):
        with capture(execute=True):
            automation_sweep(enqueue=ids.extend)
        for firing_id in ids:
            engine.firing_due(firing_id=firing_id)
    return ids


@pytest.fixture
def reminder(shop, make_rule):
    return make_rule(
        event="time",
        name="48 小时未回复",
        after={"field": "created_at", "hours": 48},
        conditions={"all": [{"field": "status", "op": "in", "value": ["new", "open"]}]},
        actions=[{"type": "notify", "value": "assignee"}, {"type": "add_tag", "value": "超时"}],
    )


def test_a_time_rule_fires_once_when_the_mark_passes(
    shop, reminder, django_capture_on_commit_callbacks
):
    agent = staff_member(shop, "agent", username="wang")
    with time_machine.travel(T0, tick=False):
        due = make_ticket_for(shop, order_no="A")
        closed = make_ticket_for(shop, order_no="B", status="closed")
        tickets.ticket_assign(ticket=due, assignee=agent, actor=tickets.Actor.system())
    with time_machine.travel(T0 + dt.timedelta(hours=47), tick=False):
        young = make_ticket_for(shop, order_no="C")
    assert sweep_and_fire(T0 + dt.timedelta(hours=47), django_capture_on_commit_callbacks) == []
    fired = sweep_and_fire(T0 + dt.timedelta(hours=49), django_capture_on_commit_callbacks)
    assert len(fired) == 1
    assert set(Ticket.objects.get(pk=due.pk).tags.values_list("name", flat=True)) == {"超时"}
    assert Notification.objects.filter(recipient=agent, kind="automation").count() == 1
    # Later sweeps: nothing again for the same version, even when the ticket changes meanwhile.
    assert sweep_and_fire(T0 + dt.timedelta(hours=60), django_capture_on_commit_callbacks) == []
    assert sweep_and_fire(T0 + dt.timedelta(hours=100), django_capture_on_commit_callbacks) == [
        RuleFiring.objects.get(ticket=young).pk
    ]
    assert not RuleFiring.objects.filter(ticket=closed).exists()
    assert RuleFiring.objects.filter(ticket=due).count() == 1


def test_a_new_version_fires_again_and_a_stale_claim_is_skipped(
    shop, reminder, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        ticket = make_ticket_for(shop, order_no="A")
    sweep_and_fire(T0 + dt.timedelta(hours=49), django_capture_on_commit_callbacks)
    services.rule_update(rule=reminder, data={"name": "48 小时未回复（新）"})
    fired = sweep_and_fire(T0 + dt.timedelta(hours=50), django_capture_on_commit_callbacks)
    assert len(fired) == 1
    assert sorted(RuleFiring.objects.filter(ticket=ticket).values_list("version", flat=True)) == [
        1,
        2,
    ]


def test_the_task_rechecks_the_ticket_and_a_redelivery_does_nothing(
    shop, reminder, django_capture_on_commit_callbacks
):
    with time_machine.travel(T0, tick=False):
        ticket = make_ticket_for(shop, order_no="A")
    ids = []
    with time_machine.travel(T0 + dt.timedelta(hours=49), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            automation_sweep(enqueue=ids.extend)
    Ticket.objects.filter(pk=ticket.pk).update(status="resolved")  # no longer matches
    assert engine.firing_due(firing_id=ids[0]) == "skipped"
    assert engine.firing_due(firing_id=ids[0]) == "not claimed"
    assert RuleFiring.objects.get(pk=ids[0]).outcome == "skipped"


def test_the_reaper_frees_a_lost_claim(shop, reminder, django_capture_on_commit_callbacks):
    with time_machine.travel(T0, tick=False):
        make_ticket_for(shop, order_no="A")
    lost = []
    with time_machine.travel(T0 + dt.timedelta(hours=49), tick=False):
        with django_capture_on_commit_callbacks(execute=True):
            automation_sweep(enqueue=lost.extend)  # claimed, the task never runs
    assert RuleFiring.objects.get(pk=lost[0]).state == FiringState.CLAIMED
    with time_machine.travel(T0 + dt.timedelta(hours=50), tick=False):
        assert firings_reap(now=timezone.now()) == 1
    assert sweep_and_fire(T0 + dt.timedelta(hours=50), django_capture_on_commit_callbacks) == lost
    firing = RuleFiring.objects.get(pk=lost[0])
    assert (firing.state, firing.attempts) == ("done", 2)


def test_the_scan_reads_only_what_crossed_since_the_last_tick(shop, reminder):
    with time_machine.travel(T0, tick=False):
        for i in range(30):
            make_ticket_for(shop, order_no=f"O{i}")
    with time_machine.travel(T0 + dt.timedelta(hours=49), tick=False):
        assert time_rules_scan(now=timezone.now()) == 30
    reminder.refresh_from_db()
    assert reminder.swept_until == T0 + dt.timedelta(hours=1)
    # The next tick reads from the watermark: an index range with no rows, a fixed number of queries.
    with time_machine.travel(T0 + dt.timedelta(hours=49, seconds=30), tick=False):
        with CaptureQueriesContext(connection) as queries:
            assert time_rules_scan(now=timezone.now()) == 0
    scans = [q["sql"] for q in queries.captured_queries if 'FROM "tickets_ticket"' in q["sql"]]
    assert len(scans) == 1 and '"created_at" >=' in scans[0]
    assert len(queries.captured_queries) <= 8


@pytest.mark.django_db(transaction=True)
def test_the_scan_does_not_wait_for_a_ticket_a_service_is_changing(dispute_types_seeded):
    """Services lock a ticket with Ticket.objects.locked() (FOR NO KEY UPDATE): a new firing row,
    which only references the ticket, is inserted meanwhile instead of waiting for that commit."""
    import psycopg2

    from tests.automation.test_time_rules_celery import old_tickets, shop_with_rule

    shop = shop_with_rule()
    [ticket] = old_tickets(shop, 1, "L")
    db = connection.settings_dict
    holder = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    with transaction.atomic():  # Django compiles a locking query only inside a transaction
        query = Ticket.objects.locked().filter(pk=ticket.pk).values("id").query
        sql, params = query.sql_with_params()
    holder.cursor().execute(sql, params)  # a service's transaction, still open
    try:
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = '3s'")
        assert time_rules_scan(now=timezone.now()) == 1
    finally:
        holder.rollback()
        holder.close()
        with connection.cursor() as cursor:
            cursor.execute("SET lock_timeout = 0")
    assert RuleFiring.objects.filter(ticket=ticket, state=FiringState.PENDING).count() == 1
