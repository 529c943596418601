"""A hand-counted fixture for the analytics figures (shop `demo`, Asia/Shanghai, 2026-11-01..07).

| ticket | type               | created (Beijing)  | courier | assignee | 1st resp | resolved | survey | compensation (status)                  | judgment        |
|--------|--------------------|--------------------|---------|----------|----------|----------|--------|-----------------------------------------|-----------------|
| T1     | quality_defect     | 11-01 00:30 (Sun)  | SF      | agent    | +20 min  | +120 min | 5      | cash 5.00 (approved)                    | merchant        |
| T2     | lost_parcel        | 11-03 10:00 (Tue)  | SF      | agent2   | +90 min  | —        | —      | refund 21.00 + courier_claim 21.00 (executed) | merchant, then courier |
| T3     | damaged_in_transit | 11-07 23:30 (Sat)  | YTO     | agent2   | +10 min  | +1440    | 2      | cash 3.00 (rejected: not a cost)        | —               |
| T6     | quality_defect     | 11-05 14:00 (Thu)  | SF      | —        | —        | —        | —      | —                                       | —               |
| T4     | service_attitude   | 11-08 00:30        | SF      | agent    |  (outside the period: 11-07 16:30 UTC)                                                  |
| T5     | quality_defect     | 11-03 10:00        | SF      | (shop `other`: never counted)                                                            |

Shipments reported: SF 11-01 1000, 11-03 1000, 11-08 500 (outside); YTO 11-07 100; other shop SF 11-03 10.
First-response due = created + 60 min for every ticket. T2 breached its SLA.
"""

import datetime as dt
import secrets
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from analytics.models import ShipmentStat
from disputes.models import Compensation, Judgment
from disputes.services import policy_current
from tests.factories import make_ticket, staff_member, ticket_payload
from tickets.models import SatisfactionSurvey, Ticket

BJ = ZoneInfo("Asia/Shanghai")


def bj(day: int, hour: int, minute: int = 0, month: int = 11) -> dt.datetime:
    return dt.datetime(2026, month, day, hour, minute, tzinfo=BJ)


def fixture_ticket(
    shop,
    *,
    code,
    created,
    courier,
    sku,
    assignee=None,
    responded=None,
    resolved=None,
    breached=False,
    score=None,
    order_no,
):
    data = ticket_payload(dispute_type=code)
    data["order"].update(
        order_no=order_no,
        courier=courier,
        items=[{"sku": sku, "name": sku, "batch_no": "", "unit_price": "10.50", "quantity": 1}],
    )
    data["affected_items"] = [{"sku": sku, "quantity": 1}]
    ticket = make_ticket(shop, **{k: data[k] for k in ("dispute_type", "order", "affected_items")})
    minutes = lambda m: created + dt.timedelta(minutes=m) if m is not None else None  # noqa: E731
    Ticket.objects.filter(pk=ticket.pk).update(
        created_at=created,
        assignee=assignee,
        first_response_due_at=created + dt.timedelta(minutes=60),
        resolution_due_at=created + dt.timedelta(days=3),
        first_responded_at=minutes(responded),
        resolved_at=minutes(resolved),
        sla_breached_at=created + dt.timedelta(minutes=61) if breached else None,
    )
    if score is not None:
        SatisfactionSurvey.objects.create(
            ticket=ticket,
            token=secrets.token_hex(8),
            sent_at=created,
            score=score,
            answered_at=created,
        )
    ticket.refresh_from_db()
    return ticket


def compensation(ticket, policy, type_, amount, status):
    return Compensation.objects.create(
        ticket=ticket, type=type_, amount=Decimal(amount), status=status, policy=policy
    )


@pytest.fixture
def figures(shop, other_shop, supervisor):
    agent = staff_member(shop, "agent", username="agent")
    agent2 = staff_member(shop, "agent", username="agent2")
    policy = policy_current(shop=shop)
    t1 = fixture_ticket(
        shop,
        code="quality_defect",
        created=bj(1, 0, 30),
        courier="SF",
        sku="SKU-A",
        assignee=agent,
        responded=20,
        resolved=120,
        score=5,
        order_no="O1",
    )
    t2 = fixture_ticket(
        shop,
        code="lost_parcel",
        created=bj(3, 10),
        courier="SF",
        sku="SKU-B",
        assignee=agent2,
        responded=90,
        breached=True,
        order_no="O2",
    )
    t3 = fixture_ticket(
        shop,
        code="damaged_in_transit",
        created=bj(7, 23, 30),
        courier="YTO",
        sku="SKU-A",
        assignee=agent2,
        responded=10,
        resolved=1440,
        score=2,
        order_no="O3",
    )
    t4 = fixture_ticket(
        shop,
        code="service_attitude",
        created=bj(8, 0, 30),
        courier="SF",
        sku="SKU-C",
        assignee=agent,
        responded=5,
        score=1,
        order_no="O4",
    )
    t5 = fixture_ticket(
        other_shop,
        code="quality_defect",
        created=bj(3, 10),
        courier="SF",
        sku="SKU-A",
        responded=5,
        score=1,
        order_no="O5",
    )
    t6 = fixture_ticket(
        shop, code="quality_defect", created=bj(5, 14), courier="SF", sku="SKU-A", order_no="O6"
    )
    compensation(t1, policy, "cash", "5.00", "approved")
    compensation(t2, policy, "refund", "21.00", "executed")
    compensation(t2, policy, "courier_claim", "21.00", "executed")
    compensation(t3, policy, "cash", "3.00", "rejected")
    compensation(t4, policy, "cash", "9.00", "approved")
    compensation(t5, policy_current(shop=other_shop), "cash", "7.00", "approved")
    Judgment.objects.create(ticket=t1, version=1, party="merchant")
    Judgment.objects.create(ticket=t2, version=1, party="merchant")
    Judgment.objects.create(ticket=t2, version=2, party="courier")
    for day, courier, n in [(1, "SF", 1000), (3, "SF", 1000), (8, "SF", 500), (7, "YTO", 100)]:
        ShipmentStat.objects.create(
            shop=shop, date=dt.date(2026, 11, day), courier=courier, shipments=n
        )
    ShipmentStat.objects.create(
        shop=other_shop, date=dt.date(2026, 11, 3), courier="SF", shipments=10
    )
    return {
        "t1": t1,
        "t2": t2,
        "t3": t3,
        "t4": t4,
        "t5": t5,
        "t6": t6,
        "agent": agent,
        "agent2": agent2,
    }
