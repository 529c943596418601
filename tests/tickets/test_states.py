"""The state machine of DOMAIN.md §3, through POST /api/v1/tickets/{n}/transition/."""

import datetime as dt

import pytest
from django.utils import timezone

from tests.factories import make_ticket
from tickets.models import Ticket, TicketEvent
from tickets.states import (
    SERVICE_ONLY_ACTIONS,
    STAFF_ACTIONS,
    TRANSITIONS,
    Action,
    Status,
    available_actions,
    target_status,
)

# What the transition API takes; a merge (service-only) is tested in test_merge.py.
LEGAL = [
    (action, source, target)
    for action, (sources, target) in TRANSITIONS.items()
    if action not in SERVICE_ONLY_ACTIONS
    for source in sorted(sources)
]
ILLEGAL = [
    (action, status)
    for action, (sources, _) in TRANSITIONS.items()
    if action not in SERVICE_ONLY_ACTIONS
    for status in Status.values
    if status not in sources
]


def test_table_matches_domain_flow():
    assert target_status(current=Status.NEW, action=Action.OPEN) == Status.OPEN
    assert target_status(current=Status.RESOLVED, action=Action.REOPEN) == Status.OPEN
    assert target_status(current=Status.CLOSED, action=Action.REOPEN) is None
    assert target_status(current=Status.NEW, action="explode") is None
    assert available_actions(Status.CLOSED) == []
    assert set(available_actions(Status.NEW)) == {Action.OPEN}
    assert set(available_actions(Status.RESOLVED)) == {Action.CLOSE, Action.REOPEN}
    # every status but closed can be left; every action is legal from somewhere
    assert len(LEGAL) == 13 and len(ILLEGAL) == len(STAFF_ACTIONS) * len(Status.values) - 13
    # a merge closes anything not yet closed, but only through ticket_merge
    assert target_status(current=Status.RESOLVED, action=Action.MERGE) == Status.CLOSED
    assert Action.MERGE not in available_actions(Status.OPEN)


def _in_status(ticket: Ticket, status: str) -> Ticket:
    Ticket.objects.filter(pk=ticket.pk).update(status=status)
    ticket.refresh_from_db()
    return ticket


def _transition(client, ticket, action, **extra):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/transition/", {"action": action, **extra}, format="json"
    )


@pytest.mark.parametrize("action, source, target", LEGAL)
def test_legal_transition_changes_status_and_writes_event(
    agent_client, agent, shop, action, source, target
):
    ticket = _in_status(make_ticket(shop), source)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    before = timezone.now()

    response = _transition(agent_client, ticket, action, note="because")

    assert response.status_code == 200, response.json()
    assert response.json()["status"] == target
    ticket.refresh_from_db()
    assert ticket.status == target
    events = TicketEvent.objects.filter(ticket=ticket)
    assert events.count() == events_before + 1
    event = events.order_by("-id").first()
    assert event.kind == TicketEvent.Kind.STATUS_CHANGED
    assert event.actor == agent and event.actor_label == "agent"
    assert event.data == {"from": source, "to": target, "action": action, "note": "because"}
    assert before <= event.created_at <= timezone.now()
    assert ticket.updated_at >= event.created_at - dt.timedelta(seconds=1)


@pytest.mark.parametrize("action, status", ILLEGAL)
def test_illegal_transition_is_409_and_changes_nothing(agent_client, shop, action, status):
    ticket = _in_status(make_ticket(shop), status)
    events_before = TicketEvent.objects.filter(ticket=ticket).count()
    updated_before = ticket.updated_at

    response = _transition(agent_client, ticket, action)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "illegal_transition"
    ticket.refresh_from_db()
    assert ticket.status == status
    assert ticket.updated_at == updated_before
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before


def test_resolve_close_reopen_keep_their_timestamps(agent_client, shop):
    ticket = _in_status(make_ticket(shop), Status.OPEN)
    assert ticket.next_due_at is not None

    assert _transition(agent_client, ticket, "resolve").status_code == 200
    ticket.refresh_from_db()
    assert ticket.resolved_at is not None and ticket.next_due_at is None

    assert _transition(agent_client, ticket, "reopen").status_code == 200
    ticket.refresh_from_db()
    assert (
        ticket.status == Status.OPEN
        and ticket.resolved_at is None
        and ticket.next_due_at is not None
    )

    assert _transition(agent_client, ticket, "wait_customer").status_code == 200
    ticket.refresh_from_db()
    assert ticket.next_due_at is None  # the clock is not racing while we wait on the customer

    assert _transition(agent_client, ticket, "close").status_code == 200
    ticket.refresh_from_db()
    assert ticket.status == Status.CLOSED and ticket.closed_at is not None
    kinds = list(TicketEvent.objects.filter(ticket=ticket).values_list("kind", "data__to"))
    assert kinds == [
        ("created", None),
        ("status_changed", "resolved"),
        ("status_changed", "open"),
        ("status_changed", "pending_customer"),
        ("status_changed", "closed"),
    ]


def test_shop_key_may_not_transition(shop_client, ticket):
    response = _transition(shop_client, ticket, "open")
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "permission_denied"
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


@pytest.mark.parametrize(
    "body", [{"action": "explode"}, {}, {"action": "open", "colour": "red"}, {"action": None}]
)
def test_bad_transition_body_is_400(agent_client, ticket, body):
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/transition/", body, format="json"
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert set(error["fields"]) & {"action", "colour"}
    ticket.refresh_from_db()
    assert ticket.status == Status.NEW
    assert TicketEvent.objects.filter(ticket=ticket).count() == 1


def test_transition_of_unknown_ticket_is_404(agent_client, db):
    response = agent_client.post(
        "/api/v1/tickets/AS000000NOPE/transition/", {"action": "open"}, format="json"
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
