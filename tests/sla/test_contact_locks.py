"""Two chunks of contacting timers at once on PostgreSQL, their customers crossed: the chunk locks
its customers in id order before the first contact, so neither waits for the other in a cycle
(the database would abort one as a deadlock and leave its timer claimed for the reaper)."""

import datetime as dt
import threading
import time
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from sla import services as sla
from sla.models import OutboundContact, Timer, TimerState
from tests.factories import ShopFactory, make_ticket_for

IN_WINDOW = dt.datetime(
    2026, 3, 11, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai")
)  # a Wednesday, inside 10:00-18:00


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    "path", ["timers_fire", "timers_fire_each"]
)  # the batch, and its one-by-one fallback
def test_two_chunks_with_crossed_customers_both_finish(monkeypatch, path):
    shop = ShopFactory(code="locks")
    # Tickets in id order with customers X, Y, Y, X: chunk A = (X, Y), chunk B = (Y, X).
    tickets = [make_ticket_for(shop, order_no=f"L{n}", customer_id=c) for n, c in enumerate("XYYX")]
    timers = [
        sla.reship_tracking_schedule(
            ticket=t, tracking_no=f"SF{n}", at=IN_WINDOW - dt.timedelta(minutes=1)
        ).pk
        for n, t in enumerate(tickets)
    ]
    claimed = sla.timers_claim_due(now=IN_WINDOW, limit=10)
    assert sorted(claimed) == sorted(timers)

    original = sla.contact_customer

    def slow_contact(**kwargs):  # hold each customer's lock a while: the chunks overlap for sure
        result = original(**kwargs)
        time.sleep(0.4)
        return result

    monkeypatch.setattr("sla.services.handlers.contact_customer", slow_contact)
    results = {}

    def fire(name, ids):
        try:
            results[name] = getattr(sla, path)(timer_ids=ids, now=IN_WINDOW)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=fire, args=("A", [timers[0], timers[2]])),
        threading.Thread(target=fire, args=("B", [timers[1], timers[3]])),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert all(result == "fired" for chunk in results.values() for result in chunk.values()), (
        results
    )
    assert not Timer.objects.filter(state=TimerState.CLAIMED).exists()
    assert OutboundContact.objects.filter(purpose="reship_tracking").count() == 4
