"""One rule, one place: the judgment panel (UI), the API and the timers or analytics read the same
definition, so they agree on the same tickets."""

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from analytics.models import BatchAlert
from disputes import services as disputes
from disputes.quality import same_batch_ticket_count
from disputes.selectors import approval_inbox_context, is_decider
from notifications.services import shop_supervisors
from shops.permissions import is_supervisor
from shops.sla import shop_sla
from sla.models import Timer, TimerKind
from tests.factories import make_ticket, png_bytes, staff_member, ticket_payload
from tickets.models import DisputeType, Ticket
from tickets.services import Actor, attachment_add

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


def _bottle(shop):
    order = ticket_payload()["order"] | {
        "order_no": "T-AUTH",
        "amount": "120.00",
        "items": [{"sku": "GLASS-500", "unit_price": "60.00", "quantity": 2}],
    }
    ticket = make_ticket(shop, order=order)
    attachment_add(  # the damage photo the type requires before compensation
        ticket=ticket,
        uploaded_file=SimpleUploadedFile("broken.png", png_bytes()),
        kind="photo",
        actor=Actor.shop(shop),
    )
    return ticket


def test_the_agents_authority_decides_the_wait_and_the_inbox_flag_alike(
    shop, agent, supervisor, media_root
):
    disputes.policy_update(
        shop=shop, changes={"agent_authority": "2.00"}, actor=Actor.staff(supervisor)
    )
    ticket = _bottle(shop)
    as_agent = Actor.staff(agent)
    disputes.judgment_create(ticket=ticket, party="merchant", actor=as_agent, note="our box")
    # Goodwill within the standard: ¥2 steps, ¥5 in all.
    at_limit = disputes.compensation_propose(
        ticket=ticket, type="cash", amount=Decimal("2.00"), actor=as_agent
    )
    assert at_limit.status == "approved" and at_limit.within_standard  # ¥2 of ¥2: within
    over = disputes.compensation_propose(
        ticket=ticket, type="cash", amount=Decimal("2.00"), actor=as_agent
    )
    assert over.status == "pending_approval" and over.within_standard  # ¥4 of ¥2: it waits
    entry = approval_inbox_context(user=supervisor)["entries"][0]
    assert entry["compensation"] == over and entry["over_authority"] is True
    assert entry["authority_used"] == Decimal("4.00")


@pytest.mark.parametrize("role", ["agent", "supervisor", "admin"])
def test_who_is_a_supervisor_is_one_answer_for_approving_escalations_and_the_inbox(
    shop, role, token_client, media_root
):
    user = staff_member(shop, role, username=f"who-{role}")
    ticket = _bottle(shop)
    disputes.judgment_create(ticket=ticket, party="merchant", actor=Actor.staff(user), note="x")
    waiting = disputes.compensation_propose(
        ticket=ticket, type="cash", amount=Decimal("60.00"), actor=Actor.staff(staff_member(shop))
    )
    expected = is_supervisor(role)
    assert expected == (role in ("supervisor", "admin"))
    assert (user in shop_supervisors(shop=shop)) is expected  # escalations and alerts
    assert is_decider(user=user, shop_id=shop.id) is expected  # the approval inbox
    response = token_client(user).post(
        f"/api/v1/compensations/{waiting.pk}/approve/", {}, format="json"
    )
    assert response.status_code == (200 if expected else 403)  # the API


def test_the_customer_page_counts_contacts_as_the_daily_limit_does(shop, agent):
    """The counter on the customer's page and the limit contact_customer enforces are one count."""
    import time_machine
    from django.test import Client

    from sla.services import contact_customer, contacts_sent_today

    ticket = make_ticket(shop)
    noon = dt.datetime(2026, 12, 2, 12, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with time_machine.travel(noon, tick=False):
        for minutes in range(3):
            assert (
                contact_customer(
                    ticket=ticket,
                    purpose="follow_up",
                    body=f"亲，第 {minutes + 1} 次",
                    now=noon + dt.timedelta(minutes=minutes),
                )
                is None
            )
        later = noon + dt.timedelta(minutes=5)
        assert contacts_sent_today(customer_id=ticket.customer_id, shop=shop, now=later) == 3
        assert contact_customer(ticket=ticket, purpose="follow_up", body="第四次", now=later)
    client = Client()
    client.cookies.load({"django_language": "en"})
    client.force_login(agent)
    with time_machine.travel(later, tick=False):
        page = client.get(f"/customers/{shop.code}/{ticket.customer.external_id}/")
    body = page.content.decode()
    assert "Contacted 3 of at most 3 times today." in body
    assert "Next contact allowed from 12-03 10:00." in body
    assert "第四次" not in body and body.count("亲，第") == 3
