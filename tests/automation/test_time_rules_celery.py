"""Time rules with real Redis and real Celery workers against the test database (as the SLA
timers' tests do): each rule version acts once per ticket through two workers and two concurrent
sweeps, duplicate deliveries, and a worker killed with SIGKILL mid-task."""

import datetime as dt
import os
import signal
import threading
import time
import uuid

import psycopg2
import pytest
import time_machine
from django.db import connection, connections
from django.db.models import Count
from django.utils import timezone

from automation import services
from automation.models import FiringState, RuleFiring
from automation.sweep import automation_sweep, time_rules_scan
from automation.tasks import fire_rules
from tests.factories import ShopFactory, make_ticket_for
from tests.sla.test_timers_celery import Workers, _worker_waiting_on_a_lock
from tickets.models import TicketEvent

pytestmark = pytest.mark.skipif(
    not os.environ.get("CELERY_BROKER_URL", "").startswith("redis://"),
    reason="needs CELERY_BROKER_URL=redis://...",
)


@pytest.fixture
def workers(transactional_db, tmp_path, dispute_types_seeded):
    pool = Workers(
        tmp_path, queue=f"test-{uuid.uuid4().hex[:8]}", broker=os.environ["CELERY_BROKER_URL"]
    )
    yield pool
    pool.stop_all()


def shop_with_rule():
    shop = ShopFactory(code="celery")
    services.rule_create(
        shop=shop,
        data={
            "name": "两天未处理",
            "enabled": True,
            "event": "time",
            "after": {"field": "created_at", "hours": 48},
            "actions": [
                {"type": "add_tag", "value": "超时"},
                {"type": "set_priority", "value": "high"},
            ],
        },
    )
    return shop


def old_tickets(shop, n: int, prefix: str):
    with time_machine.travel(timezone.now() - dt.timedelta(hours=49), tick=False):
        return [make_ticket_for(shop, order_no=f"{prefix}{i}") for i in range(n)]


def wait_until_settled(timeout: float = 90):
    deadline = time.monotonic() + timeout
    while RuleFiring.objects.exclude(state=FiringState.DONE).exists():
        assert time.monotonic() < deadline, list(
            RuleFiring.objects.exclude(state="done").values("id", "state", "attempts")
        )
        time.sleep(0.3)


def assert_each_acted_once(tickets):
    ids = [t.pk for t in tickets]
    per_ticket = (
        TicketEvent.objects.filter(ticket_id__in=ids, kind="automation")
        .values("ticket_id")
        .annotate(n=Count("id"))
    )
    assert {row["ticket_id"]: row["n"] for row in per_ticket} == dict.fromkeys(ids, 1)
    tags = TicketEvent.objects.filter(ticket_id__in=ids, kind="tags_changed").count()
    assert tags == len(ids)
    assert RuleFiring.objects.filter(ticket_id__in=ids, state="done", outcome="ok").count() == len(
        ids
    )


def test_two_workers_and_two_concurrent_sweeps_act_once_per_ticket(workers):
    shop = shop_with_rule()
    tickets = old_tickets(shop, 120, "A")
    workers.start("w1")
    workers.start("w2")
    claimed = []

    def sweeper():
        try:
            claimed.append(automation_sweep(queue=workers.queue))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=sweeper) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sum(claimed) == 120  # the rule row and the firings are split with SKIP LOCKED
    wait_until_settled()
    # Every task delivered a second time, as a broker may redeliver: still once.
    ids = list(RuleFiring.objects.values_list("id", flat=True))
    for start in range(0, len(ids), 40):
        fire_rules.apply_async(args=[ids[start : start + 40]], queue=workers.queue)
    assert automation_sweep(queue=workers.queue) == 0  # a later sweep finds nothing new
    time.sleep(2)
    assert_each_acted_once(tickets)
    assert set(RuleFiring.objects.values_list("attempts", flat=True)) == {1}


def test_a_worker_killed_mid_task_loses_nothing_and_the_restart_acts_once(workers, settings):
    shop = shop_with_rule()
    [ticket] = old_tickets(shop, 1, "K")
    # The scan first: its new firing row's foreign key check would wait for the ticket lock below.
    assert time_rules_scan(now=timezone.now()) == 1
    db = connection.settings_dict
    blocker = psycopg2.connect(dbname=db["NAME"], user=db["USER"], host=db["HOST"], port=db["PORT"])
    cursor = blocker.cursor()
    cursor.execute("SELECT id FROM tickets_ticket WHERE id = %s FOR UPDATE", [ticket.pk])
    victim = workers.start("victim")
    assert automation_sweep(queue=workers.queue) == 1
    deadline = time.monotonic() + 30
    while not _worker_waiting_on_a_lock(db["NAME"]):
        assert time.monotonic() < deadline, "the worker never reached the ticket lock"
        time.sleep(0.2)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=10)
    blocker.rollback()
    blocker.close()
    time.sleep(1)
    assert not TicketEvent.objects.filter(ticket=ticket, kind="automation").exists()
    assert RuleFiring.objects.get(ticket=ticket).state == FiringState.CLAIMED

    workers.start("restarted")
    settings.SLA_CLAIM_TIMEOUT_SECONDS = 0  # the reaper frees the dead worker's claim at once
    assert automation_sweep(queue=workers.queue) == 1
    wait_until_settled()
    fire_rules.apply_async(
        args=[list(RuleFiring.objects.values_list("id", flat=True))], queue=workers.queue
    )
    time.sleep(2)
    assert_each_acted_once([ticket])
    assert RuleFiring.objects.get(ticket=ticket).attempts == 2
