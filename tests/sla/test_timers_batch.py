"""A chunk of timers fired as a batch (sla.services.timers_fire_batch) against the one-by-one
path (timers_fire_each): the same rows, the same timer states, a constant number of statements."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from notifications.models import Notification
from sla import services as sla
from sla.models import Timer, TimerKind, TimerState
from tests.factories import ShopFactory, make_ticket, staff_member, ticket_payload
from tickets import services
from tickets.models import Ticket, TicketEvent
from webhooks.models import WebhookDelivery, WebhookEndpoint, WebhookEvent

SH = ZoneInfo("Asia/Shanghai")
ALL_DUE = "2026-03-13 11:00"  # every SLA timer of a ticket made on 2026-03-10 10:00 is due


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def new_ticket(shop, n: int, when="2026-03-10 10:00", assignee=None, order=None, **overrides):
    payload = ticket_payload()
    payload["order"].update(order or {}, order_no=f"{shop.code}-{n}")
    with time_machine.travel(at(when), tick=False):
        ticket = make_ticket(shop, order=payload["order"], **overrides)
        if assignee:
            services.ticket_assign(ticket=ticket, assignee=assignee, actor=services.Actor.system())
    return ticket


@pytest.fixture
def two_shops(db):
    """Two shops with different supervisors and endpoints; tickets assigned and not, one with a
    platform deadline, one late shipment: every batched kind of timer."""
    a, b = ShopFactory(code="shop-a"), ShopFactory(code="shop-b")
    agent = staff_member(a, "agent", username="agent-a")
    supervisor = staff_member(a, "supervisor", username="sup-a")
    supervisor.email = "sup-a@example.com"
    supervisor.save()
    staff_member(a, "admin", username="boss-a")
    staff_member(b, "supervisor", username="sup-b")
    WebhookEndpoint.objects.create(
        shop=a, url="https://a.example/hook", events=["ticket.sla_breached"], secret="s"
    )
    WebhookEndpoint.objects.create(shop=b, url="https://b.example/hook", events=["*"], secret="s")
    WebhookEndpoint.objects.create(
        shop=b, url="https://b.example/old", events=["*"], secret="s", active=False
    )
    late = {"paid_at": at("2026-03-09 10:00"), "shipped_at": None}
    tickets = [
        new_ticket(a, 1, assignee=agent),
        new_ticket(a, 2),
        new_ticket(a, 3, platform_deadline_at=at("2026-03-12 10:00")),
        new_ticket(b, 4),
        new_ticket(b, 5, dispute_type="late_shipment", order=late),
    ]
    return {"a": a, "b": b, "agent": agent, "tickets": tickets}


def claim(when: str) -> list[int]:
    return sla.timers_claim_due(now=at(when), limit=1000)


def outcome() -> dict:
    """Everything firing writes, without ids that differ between two runs."""
    webhooks = []
    for event in WebhookEvent.objects.all():
        deliveries = tuple(
            sorted(event.deliveries.values_list("endpoint_id", "status", "next_attempt_at"))
        )
        webhooks.append(
            (
                event.shop_id,
                event.type,
                json.dumps(event.data, sort_keys=True),
                event.created_at,
                deliveries,
            )
        )
    return {
        "events": list(
            TicketEvent.objects.filter(kind="sla")
            .order_by("id")
            .values_list("ticket_id", "kind", "actor_id", "actor_label", "data", "created_at")
        ),
        "notifications": sorted(
            Notification.objects.values_list(
                "recipient_id", "shop_id", "ticket_id", "kind", "title", "body", "url", "created_at"
            )
        ),
        "webhooks": sorted(webhooks),
        "timers": list(
            Timer.objects.order_by("id").values_list(
                "id", "kind", "state", "result", "due_at", "claimed_at", "done_at", "attempts"
            )
        ),
        "tickets": list(
            Ticket.objects.order_by("id").values_list(
                "id", "status", "sla_breached_at", "updated_at"
            )
        ),
    }


class Rollback(Exception):
    pass


def rolled_back(work):
    """work()'s value, with everything it wrote (and its after-commit callbacks) undone."""
    try:
        with transaction.atomic():
            value = work()
            raise Rollback
    except Rollback:
        return value


def fire_both_ways(ids: list[int], when: str) -> dict[int, str]:
    """Fire the chunk one by one, note what it wrote, roll it back, fire it as a batch: the two
    must agree on every result and every row. Returns the batch's results."""
    with time_machine.travel(at(when), tick=False):
        each, expected = rolled_back(lambda: (sla.timers_fire_each(timer_ids=ids), outcome()))
        assert outcome() != expected  # the rollback really undid the one-by-one run
        with transaction.atomic():
            batch = sla.timers_fire_batch(timer_ids=ids)
        assert batch == each
        assert outcome() == expected
    return batch


def test_a_mixed_chunk_writes_exactly_what_the_one_by_one_path_writes(
    two_shops, django_capture_on_commit_callbacks, monkeypatch
):
    ids = claim(ALL_DUE)
    kinds = set(Timer.objects.filter(pk__in=ids).values_list("kind", flat=True))
    assert kinds == set(sla.BATCHED) and len(ids) == 5 * 4 + 2
    sent, delivered = [], []
    for module in ("sla.services.handlers", "sla.services.contact"):  # e-mails, text messages
        monkeypatch.setattr(f"{module}.channel_send", lambda **kwargs: sent.append(kwargs))
    monkeypatch.setattr("webhooks.tasks.deliver_webhooks.delay", lambda ids: delivered.append(ids))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        results = fire_both_ways(ids, ALL_DUE)
    assert set(results.values()) == {"fired"}
    # What the users see: one timeline entry per timer, supervisors escalated per shop.
    a1, a2, a3, b4, b5 = two_shops["tickets"]
    breach = TicketEvent.objects.get(ticket=a2, data__what="breached", data__target="resolution")
    assert breach.actor_label == "system" and breach.actor_id is None
    assert breach.data["escalated_to"] == ["sup-a", "boss-a"]
    assert TicketEvent.objects.get(
        ticket=b4, data__what="breached", data__target="first_response"
    ).data["escalated_to"] == ["sup-b"]
    assert TicketEvent.objects.filter(ticket=a3, data__what="platform_deadline").count() == 1
    assert TicketEvent.objects.filter(ticket=b5, data__what="shipping_deadline").count() == 1
    # The chunk is swept after every deadline: no "due soon" warning, the warning timers just finish.
    assert not Notification.objects.filter(kind="sla_warning").exists()
    assert set(
        Timer.objects.filter(pk__in=ids, kind__endswith="warning").values_list("result", flat=True)
    ) == {"skipped: already due"}
    assert set(
        Notification.objects.filter(ticket=a1, kind="sla_breached").values_list(
            "recipient__username", flat=True
        )
    ) == {"agent-a", "sup-a", "boss-a"}
    assert Ticket.objects.filter(sla_breached_at=at(ALL_DUE)).count() == 5
    # Webhooks: shop a's endpoint wants breaches only, shop b's inactive endpoint gets nothing.
    assert WebhookEvent.objects.filter(type="ticket.sla_breached").count() == 10
    assert WebhookDelivery.objects.filter(endpoint__active=False).count() == 0
    event = WebhookEvent.objects.get(data__number=a2.number, data__target="resolution")
    assert event.data["breached_at"] == at(ALL_DUE).astimezone(dt.UTC).isoformat().replace(
        "+00:00", "Z"
    )
    # After commit, once for the chunk: one delivery task with every delivery, the e-mails.
    assert len(callbacks) == 2
    assert delivered == [
        sorted(
            WebhookDelivery.objects.filter(event__type="ticket.sla_breached").values_list(
                "pk", flat=True
            )
        )
    ]
    assert [m["to"] for m in sent] == [
        "sup-a@example.com"
    ] * 6  # two breaches of each of shop a's tickets
    assert sorted(m["subject"].rsplit(" ", 1)[-1] for m in sent) == sorted(
        [a1.number, a2.number, a3.number] * 2
    )


def test_timers_no_longer_claimed_wanted_or_due_are_handled_as_alone(two_shops):
    a1, a2, a3, *_ = two_shops["tickets"]
    ids = claim("2026-03-10 11:01")  # first-response warning and breach of each ticket
    assert len(ids) == 10
    done = Timer.objects.get(ticket=a1, kind=TimerKind.FIRST_RESPONSE_BREACH)
    Timer.objects.filter(pk=done.pk).update(
        state=TimerState.DONE, result="fired"
    )  # a first run finished it
    with time_machine.travel(at("2026-03-10 11:01"), tick=False):
        services.message_add(
            ticket=a2, body="您好", actor=services.Actor.staff(two_shops["agent"])
        )  # responded
    Ticket.objects.filter(pk=a3.pk).update(
        first_response_due_at=at("2026-03-10 12:00")
    )  # its due time moved
    results = fire_both_ways(ids, "2026-03-10 11:01")
    by_ticket = {
        (t.ticket_id, t.kind): (results[t.pk], t) for t in Timer.objects.filter(pk__in=ids)
    }
    assert by_ticket[(a1.pk, TimerKind.FIRST_RESPONSE_BREACH)][0] == "already done"
    assert by_ticket[(a1.pk, TimerKind.FIRST_RESPONSE_WARNING)][0] == "fired"
    assert (
        by_ticket[(a2.pk, TimerKind.FIRST_RESPONSE_WARNING)][0]
        == by_ticket[(a2.pk, TimerKind.FIRST_RESPONSE_BREACH)][0]
        == "cancelled"
    )
    result, moved = by_ticket[(a3.pk, TimerKind.FIRST_RESPONSE_BREACH)]
    assert (
        result == "moved"
        and moved.state == TimerState.PENDING
        and moved.due_at == at("2026-03-10 12:00")
        and moved.claimed_at is None
    )
    assert by_ticket[(a3.pk, TimerKind.FIRST_RESPONSE_WARNING)][1].due_at == at("2026-03-10 11:48")
    assert not TicketEvent.objects.filter(ticket__in=[a2, a3], kind="sla").exists()
    assert (
        Ticket.objects.get(pk=a1.pk).sla_breached_at is None
    )  # the done breach was not fired again


def test_a_failing_handler_rolls_the_batch_back_and_the_others_fire_once(
    two_shops, monkeypatch, caplog
):
    ids = claim(ALL_DUE)

    def broken(**kwargs):
        raise RuntimeError("SMS gateway exploded")

    monkeypatch.setitem(sla.HANDLERS, TimerKind.RESOLUTION_BREACH, broken)
    with time_machine.travel(at(ALL_DUE), tick=False):
        results = sla.timers_fire(timer_ids=ids)
    assert "firing them one by one" in caplog.text
    bad = set(Timer.objects.filter(kind=TimerKind.RESOLUTION_BREACH).values_list("pk", flat=True))
    assert {pk for pk, result in results.items() if result == "error"} == bad and len(bad) == 5
    assert set(Timer.objects.filter(pk__in=bad).values_list("state", flat=True)) == {
        TimerState.CLAIMED
    }
    assert (
        Timer.objects.filter(pk__in=ids).exclude(pk__in=bad).exclude(state=TimerState.DONE).count()
        == 0
    )
    per_timer = TicketEvent.objects.filter(kind="sla").values_list(
        "ticket_id", "data__what", "data__target"
    )
    # Each good timer once, nothing of the bad ones nor of the 10 warnings (swept after their deadlines).
    assert len(per_timer) == len(set(per_timer)) == len(ids) - 5 - 10
    assert not TicketEvent.objects.filter(
        kind="sla", data__what="breached", data__target="resolution"
    ).exists()
    assert (
        WebhookEvent.objects.filter(type="ticket.sla_breached").count() == 5
    )  # the first-response breaches only


def test_the_same_chunk_twice_changes_nothing_the_second_time(two_shops):
    ids = claim(ALL_DUE)
    with time_machine.travel(at(ALL_DUE), tick=False):
        first = sla.timers_fire(timer_ids=ids)
        after_first = outcome()
    with time_machine.travel(at("2026-03-13 11:05"), tick=False):  # a redelivery, a little later
        second = sla.timers_fire(timer_ids=ids)
    assert set(first.values()) == {"fired"}
    assert second == {pk: "already done" for pk in ids}
    assert outcome() == after_first


# lock tickets; prefetch shops, dispute types, assignees; lock timers; supervisors; insert
# events; update tickets; insert notifications; endpoints; insert webhook events; insert
# deliveries; one timer UPDATE per outcome ("warned", "escalated").
BATCH_STATEMENTS = 14


@pytest.mark.parametrize("per_shop", [2, 5, 12])
def test_a_chunk_costs_the_same_statements_whatever_its_size(db, per_shop):
    shops = [ShopFactory(code="q-a"), ShopFactory(code="q-b")]
    for shop in shops:
        staff_member(shop, "supervisor", username=f"{shop.code}-sup")
        WebhookEndpoint.objects.create(
            shop=shop, url=f"https://{shop.code}.example/hook", events=["*"], secret="s"
        )
        agent = staff_member(shop, "agent", username=f"{shop.code}-agent")
        for n in range(per_shop):
            new_ticket(shop, n, assignee=agent if n % 2 else None)  # some assigned in every size
    ids = claim(ALL_DUE)
    assert len(ids) == 2 * per_shop * 4
    with time_machine.travel(at(ALL_DUE), tick=False):
        with CaptureQueriesContext(connection) as each:
            rolled_back(lambda: sla.timers_fire_each(timer_ids=ids))
        with transaction.atomic(), CaptureQueriesContext(connection) as batch:
            results = sla.timers_fire_batch(timer_ids=ids)
    assert set(results.values()) == {"fired"}
    assert len(batch) == BATCH_STATEMENTS, "\n".join(q["sql"][:120] for q in batch.captured_queries)
    assert len(each) > 5 * len(ids)  # one by one: several per timer (the late warnings only finish)
    lock = batch.captured_queries[0]["sql"]
    assert 'FOR NO KEY UPDATE OF "tickets_ticket"' in lock and lock.endswith(
        'ORDER BY "tickets_ticket"."id" ASC FOR NO KEY UPDATE OF "tickets_ticket"'
    )
