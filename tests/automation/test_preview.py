"""The preview: on a fixture counted by hand, the rule's matches over the last N days, changing
nothing."""

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from automation.models import RuleFiring
from tests.factories import make_ticket, ticket_payload
from tickets import services as tickets
from tickets.models import Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def ticket(shop, *, order_no, dispute_type="damaged_on_arrival", amount="21.00", days_ago=1):
    data = ticket_payload(dispute_type=dispute_type)
    data["order"]["order_no"] = order_no
    data["order"]["amount"] = amount
    with time_machine.travel(timezone.now() - dt.timedelta(days=days_ago), tick=False):
        return make_ticket(shop, dispute_type=dispute_type, order=data["order"])


@pytest.fixture
def fixture_tickets(shop, other_shop):
    return {
        # matches: spoiled food of at least ¥100 in the last 30 days
        "A": ticket(shop, order_no="A", dispute_type="spoiled_food", amount="100.00", days_ago=2),
        "B": ticket(shop, order_no="B", dispute_type="spoiled_food", amount="250.50", days_ago=29),
        # no: too cheap / wrong type / too old / another shop
        "C": ticket(shop, order_no="C", dispute_type="spoiled_food", amount="99.99", days_ago=3),
        "D": ticket(shop, order_no="D", dispute_type="wrong_item", amount="300.00", days_ago=3),
        "E": ticket(shop, order_no="E", dispute_type="spoiled_food", amount="120.00", days_ago=40),
        "F": ticket(
            other_shop, order_no="F", dispute_type="spoiled_food", amount="500.00", days_ago=1
        ),
    }


RULE = {
    "name": "食品问题直接升级",
    "event": "ticket.created",
    "enabled": False,
    "conditions": {
        "all": [
            {"field": "dispute_type", "op": "in", "value": ["spoiled_food"]},
            {"field": "order.amount", "op": "gte", "value": "100.00"},
        ]
    },
    "actions": [{"type": "set_priority", "value": "low"}, {"type": "add_tag", "value": "食品"}],
}


def test_preview_counts_by_hand_and_changes_nothing(admin_client, fixture_tickets):
    rule_id = admin_client.post("/api/v1/shops/demo/rules/", RULE, format="json").json()["id"]
    before = (TicketEvent.objects.count(), list(Ticket.objects.values_list("priority", flat=True)))
    response = admin_client.post(
        f"/api/v1/shops/demo/rules/{rule_id}/preview/", {"days": 30}, format="json"
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    t = fixture_tickets
    assert body["matched"] == 2
    assert body["examples"] == [t["A"].number, t["B"].number]  # newest first
    assert len(body["actions"]) == 2
    wider = admin_client.post(
        f"/api/v1/shops/demo/rules/{rule_id}/preview/", {"days": 45}, format="json"
    ).json()
    assert wider["matched"] == 3  # E too
    after = (TicketEvent.objects.count(), list(Ticket.objects.values_list("priority", flat=True)))
    assert before == after and not RuleFiring.objects.exists()


def test_preview_of_message_rules_reads_the_customers_messages(shop, admin_client):
    quiet = ticket(shop, order_no="Q")
    angry = ticket(shop, order_no="W")
    tickets.message_add(ticket=angry, body="再不退款我就打12315", actor=tickets.Actor.shop(shop))
    tickets.message_add(ticket=quiet, body="好的谢谢", actor=tickets.Actor.shop(shop))
    rule = {
        "name": "投诉",
        "event": "message.received",
        "conditions": {
            "all": [{"field": "message.body", "op": "contains", "value": ["投诉", "12315", "曝光"]}]
        },
        "actions": [{"type": "add_tag", "value": "投诉风险"}],
    }
    rule_id = admin_client.post("/api/v1/shops/demo/rules/", rule, format="json").json()["id"]
    body = admin_client.post(
        f"/api/v1/shops/demo/rules/{rule_id}/preview/", {}, format="json"
    ).json()
    assert (body["matched"], body["examples"]) == (1, [angry.number])


@pytest.mark.parametrize("days", [0, 91, "30", None])
def test_preview_days_are_checked(admin_client, days):
    rule_id = admin_client.post("/api/v1/shops/demo/rules/", RULE, format="json").json()["id"]
    response = admin_client.post(
        f"/api/v1/shops/demo/rules/{rule_id}/preview/", {"days": days}, format="json"
    )
    assert response.status_code == 400
    assert "days" in response.json()["error"]["fields"]


def test_preview_of_update_rules_reads_only_tickets_that_changed(shop, admin_client):
    """A ticket.updated rule can only have fired on tickets whose priority, tags or assignee
    changed; a new ticket's automatic assignment is part of its creation."""
    from assignment.models import AssignmentSettings, Availability
    from tests.factories import staff_member

    agent = staff_member(shop, "agent", username="ann")
    Availability.objects.create(user=agent, available=True)
    AssignmentSettings.objects.create(shop=shop, mode="round_robin")
    untouched = ticket(shop, order_no="U1")
    assert untouched.assignee == agent  # assigned at creation: not an update
    tagged = ticket(shop, order_no="U2")
    tickets.ticket_tag_add(ticket=tagged, name="加急", actor=tickets.Actor.staff(agent))
    raised = ticket(shop, order_no="U3")
    tickets.ticket_priority_set(ticket=raised, priority="high", actor=tickets.Actor.staff(agent))
    handed = ticket(shop, order_no="U4", days_ago=2)
    with time_machine.travel(timezone.now() - dt.timedelta(days=1), tick=False):
        tickets.ticket_assign(ticket=handed, assignee=None, actor=tickets.Actor.staff(agent))
    rule = {
        "name": "改动",
        "event": "ticket.updated",
        "conditions": {
            "all": [{"field": "dispute_type", "op": "eq", "value": "damaged_on_arrival"}]
        },
        "actions": [{"type": "internal_note", "value": "看一下"}],
    }
    rule_id = admin_client.post("/api/v1/shops/demo/rules/", rule, format="json").json()["id"]
    body = admin_client.post(
        f"/api/v1/shops/demo/rules/{rule_id}/preview/", {}, format="json"
    ).json()
    assert body["matched"] == 3
    assert set(body["examples"]) == {tagged.number, raised.number, handed.number}


def test_preview_reads_the_messages_with_the_tickets_not_one_query_each(shop, admin_client):
    """A rule on message.body or awaiting_reply is previewed with the latest messages read in the
    tickets' own query (subqueries): the same number of queries for 2 tickets as for 6."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    rule = {
        "name": "投诉",
        "event": "message.received",
        "conditions": {
            "all": [{"field": "message.body", "op": "contains", "value": ["12315"]}],
            "any": [{"field": "awaiting_reply", "op": "eq", "value": True}],
        },
        "actions": [{"type": "add_tag", "value": "投诉风险"}],
    }
    rule_id = admin_client.post("/api/v1/shops/demo/rules/", rule, format="json").json()["id"]
    url = f"/api/v1/shops/demo/rules/{rule_id}/preview/"

    def preview_queries(n: int, prefix: str) -> tuple[int, int]:
        for i in range(n):
            t = ticket(shop, order_no=f"{prefix}{i}")
            tickets.message_add(ticket=t, body="我要打12315", actor=tickets.Actor.shop(shop))
        admin_client.post(url, {}, format="json")  # warm
        with CaptureQueriesContext(connection) as queries:
            body = admin_client.post(url, {}, format="json").json()
        return len(queries.captured_queries), body["matched"]

    few, matched_few = preview_queries(2, "P")
    many, matched_many = preview_queries(4, "Q")
    assert (matched_few, matched_many) == (2, 6)
    assert few == many
