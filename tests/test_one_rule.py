"""One rule, one place: the judgment panel (UI), the API and the timers or analytics read the same
definition, so they agree on the same tickets."""

import datetime as dt

import pytest
from django.utils import timezone

from analytics.models import BatchAlert
from disputes import services as disputes
from disputes.quality import same_batch_ticket_count
from shops.sla import shop_sla
from sla.models import Timer, TimerKind
from tests.factories import make_ticket, ticket_payload
from tickets.models import DisputeType, Ticket
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def _ticket(shop, n: int, dispute_type: str, **order_changes) -> Ticket:
    payload = ticket_payload(dispute_type=dispute_type)
    payload["order"].update(order_no=f"Q-{n}", **order_changes)
    payload["customer"]["external_id"] = f"c-{n}"
    created = make_ticket(
        shop, dispute_type=dispute_type, order=payload["order"], customer=payload["customer"]
    )
    return Ticket.objects.select_related("order", "dispute_type", "shop").get(pk=created.pk)


def test_quality_tickets_of_a_batch_are_counted_alike_by_the_panel_the_api_and_the_alert(
    shop, supervisor, django_capture_on_commit_callbacks, token_client
):
    # A shop's own type following damaged_on_arrival is a quality type; not_as_described is not.
    DisputeType.objects.create(
        shop=shop,
        code="glass_broken",
        name_zh="玻璃碎了",
        name_en="Glass broken",
        category="product",
        rules_as="damaged_on_arrival",
    )
    with django_capture_on_commit_callbacks(execute=True):
        listing = _ticket(shop, 1, "not_as_described")
        first = _ticket(shop, 2, "quality_defect")
        second = _ticket(shop, 3, "glass_broken")
    assert same_batch_ticket_count(ticket=second, window_days=30) == 2
    assert not BatchAlert.objects.exists()
    assert disputes.judgment_suggest(ticket=second).batch_alert is False

    with django_capture_on_commit_callbacks(execute=True):
        third = _ticket(shop, 4, "damaged_on_arrival")
    alert = BatchAlert.objects.get()
    counted = set(alert.links.values_list("ticket_id", flat=True))
    assert counted == {first.pk, second.pk, third.pk}  # analytics
    assert same_batch_ticket_count(ticket=third, window_days=30) == 3
    panel = disputes.judgment_suggest(ticket=third)  # what the ticket page's panel shows
    api = token_client(supervisor).get(f"/api/v1/tickets/{third.number}/judgment/suggestion/")
    assert panel.batch_alert is True and api.json()["batch_alert"] is True
    # The listing's ticket is on the same batch but is no quality ticket: no banner, not counted.
    assert disputes.judgment_suggest(ticket=listing).batch_alert is False
    assert listing.pk not in counted


def test_the_shipping_deadline_is_the_policys_for_rule_r3_and_for_the_timer(shop, supervisor):
    disputes.policy_update(
        shop=shop, changes={"ship_within_hours": 48}, actor=Actor.staff(supervisor)
    )
    # A shop's own type that follows late_shipment gets the timer as well as rule R3.
    DisputeType.objects.create(
        shop=shop,
        code="slow_dispatch",
        name_zh="发货太慢",
        name_en="Slow dispatch",
        category="logistics",
        rules_as="late_shipment",
    )
    paid = timezone.now() - dt.timedelta(hours=50)
    for n, code in enumerate(("late_shipment", "slow_dispatch")):
        ticket = _ticket(shop, 10 + n, code, paid_at=paid, shipped_at=None, delivered_at=None)
        deadline = disputes.shipping_deadline(ticket=ticket)
        assert deadline == ticket.order.paid_at + dt.timedelta(hours=48)
        timer = Timer.objects.get(ticket=ticket, kind=TimerKind.SHIPPING_DEADLINE)
        assert timer.due_at < deadline  # warns before the policy's deadline
        suggestion = disputes.judgment_suggest(ticket=ticket)
        assert "R3" in [hit.id for hit in suggestion.rules]  # 50 h > 48 h: late by the same rule
    assert "ship_within_hours" not in shop_sla(shop)  # the SLA settings have no copy of it
