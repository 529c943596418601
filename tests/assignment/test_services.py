"""Who gets a new ticket in each mode, skills, the cap, waiting tickets handed out when someone
qualifies, and the timeline event naming the mode."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from assignment.models import AssignmentSettings
from assignment.services import availability_set, tickets_hand_out
from tests.assignment.conftest import automatic, available, new_ticket
from tests.factories import staff_member
from tickets import services
from tickets.models import TicketEvent

pytestmark = pytest.mark.django_db


def assignees(tickets):
    for ticket in tickets:
        ticket.refresh_from_db()
    return [t.assignee.username if t.assignee else None for t in tickets]


def test_manual_shops_assign_nobody(shop, agents):
    assert assignees([new_ticket(shop) for _ in range(2)]) == [None, None]
    automatic(shop, "manual")
    assert assignees([new_ticket(shop)]) == [None]


def test_round_robin_takes_turns_and_remembers_the_last(shop, agents):
    automatic(shop, "round_robin")
    assert assignees([new_ticket(shop) for _ in range(5)]) == ["ann", "bob", "ann", "bob", "ann"]
    assert AssignmentSettings.objects.get(shop=shop).last_assignee.username == "ann"
    carl = staff_member(shop, "agent", username="carl")
    available(carl)
    assert assignees([new_ticket(shop) for _ in range(3)]) == ["bob", "carl", "ann"]


@pytest.mark.parametrize("mode", ["round_robin", "least_loaded"])
def test_a_new_ticket_is_written_with_its_assignee_not_updated_after(shop, agents, mode):
    """The choice comes before the ticket's INSERT (the NEW_TICKET_ASSIGNEE extension point): no
    UPDATE of the ticket rewrites its row and indexes right after it was written, and the
    timeline still shows the creation, then the assignment naming the mode."""
    automatic(shop, mode)
    with CaptureQueriesContext(connection) as ctx:
        ticket = new_ticket(shop)
    assert not [
        q["sql"] for q in ctx.captured_queries if q["sql"].startswith('UPDATE "tickets_ticket"')
    ]
    assert assignees([ticket]) == ["ann"]
    events = list(ticket.events.order_by("id").values_list("kind", "actor_label", "data"))
    assert [e[0] for e in events[:2]] == ["created", "assigned"]
    assert events[1][1:] == ("system", {"from": None, "to": "ann", "mode": mode})


def test_least_loaded_gives_to_the_fewest_open_ties_by_name(shop, agents):
    ann, _bob = agents
    automatic(shop, "least_loaded")
    for _ in range(2):
        services.ticket_assign(ticket=new_ticket(shop), assignee=ann, actor=services.Actor.system())
    assert assignees([new_ticket(shop) for _ in range(3)]) == ["bob", "bob", "ann"]


def test_resolved_tickets_do_not_count_as_open(shop, agents):
    ann, _bob = agents
    automatic(shop, "least_loaded")
    done = new_ticket(shop)
    services.ticket_assign(ticket=done, assignee=ann, actor=services.Actor.system())
    for action in ("open", "resolve"):
        services.ticket_transition(ticket=done, action=action, actor=services.Actor.staff(ann))
    assert assignees([new_ticket(shop)]) == ["ann"]  # 0 open each: by name


def test_away_agents_and_other_shops_staff_get_nothing(shop, other_shop, agents):
    _ann, bob = agents
    available(bob, state=False)
    outsider = staff_member(other_shop, "agent", username="aaron")
    available(outsider)
    automatic(shop, "round_robin")
    assert assignees([new_ticket(shop) for _ in range(3)]) == ["ann", "ann", "ann"]


def test_skills_by_dispute_type(shop, agents):
    automatic(shop, "round_robin", skills={"ann": ["wrong_item"]})
    tickets = [new_ticket(shop, "damaged_on_arrival") for _ in range(2)]
    tickets += [new_ticket(shop, "wrong_item") for _ in range(2)]
    # ann takes only wrong items; bob (no skills) takes every type.
    assert assignees(tickets) == ["bob", "bob", "ann", "bob"]


def test_the_cap_leaves_tickets_waiting(shop, agents):
    automatic(shop, "round_robin", cap=1)
    assert assignees([new_ticket(shop) for _ in range(3)]) == ["ann", "bob", None]


def test_every_automatic_assignment_is_a_timeline_event_naming_the_mode(shop, agents):
    automatic(shop, "least_loaded")
    ticket = new_ticket(shop)
    event = TicketEvent.objects.get(ticket=ticket, kind="assigned")
    assert event.data == {"from": None, "to": "ann", "mode": "least_loaded"}
    assert event.actor_label == "system" and event.created_at


def test_becoming_available_picks_up_waiting_tickets_up_to_the_cap_most_urgent_first(shop, agents):
    ann, bob = agents
    available(ann, bob, state=False)
    automatic(shop, "round_robin", cap=2)
    waiting = [new_ticket(shop) for _ in range(4)]
    services.ticket_priority_set(
        ticket=waiting[3], priority="urgent", actor=services.Actor.system()
    )
    assert assignees(waiting) == [None] * 4

    availability_set(user=ann, available=True)
    assert assignees(waiting) == ["ann", None, None, "ann"]  # the urgent one, then the oldest
    events = TicketEvent.objects.filter(ticket=waiting[3], kind="assigned")
    assert [e.data["mode"] for e in events] == ["round_robin"]

    availability_set(user=bob, available=True)
    assert assignees(waiting) == ["ann", "bob", "bob", "ann"]


def test_going_away_keeps_ones_tickets_and_stops_new_ones(shop, agents):
    ann, _bob = agents
    automatic(shop, "round_robin")
    first = new_ticket(shop)
    availability_set(user=ann, available=False)
    assert assignees([first, new_ticket(shop), new_ticket(shop)]) == ["ann", "bob", "bob"]


def test_a_place_freed_under_the_cap_hands_out_after_commit(
    shop, agents, django_capture_on_commit_callbacks
):
    ann, bob = agents
    available(bob, state=False)
    automatic(shop, "round_robin", cap=1)
    first, second = new_ticket(shop), new_ticket(shop)
    assert assignees([first, second]) == ["ann", None]
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_transition(ticket=first, action="open", actor=services.Actor.staff(ann))
        services.ticket_transition(ticket=first, action="resolve", actor=services.Actor.staff(ann))
    assert assignees([second]) == ["ann"]


def test_a_ticket_taken_from_an_agent_frees_a_place_under_the_cap(
    shop, agents, supervisor, django_capture_on_commit_callbacks
):
    """Reassigning (or unassigning) an open ticket frees a place as resolving it does: the waiting
    ticket goes to the agent at once, not at the next creation."""
    _ann, bob = agents
    available(bob, state=False)
    automatic(shop, "round_robin", cap=1)
    first, second = new_ticket(shop), new_ticket(shop)
    assert assignees([first, second]) == ["ann", None]
    by_supervisor = services.Actor.staff(supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=first, assignee=bob, actor=by_supervisor)
    assert assignees([first, second]) == ["bob", "ann"]
    # unassigned, an open ticket is waiting again, and handed out like any other (ann is free)
    with django_capture_on_commit_callbacks(execute=True):
        services.ticket_assign(ticket=second, assignee=None, actor=by_supervisor)
    assert assignees([first, second]) == ["bob", "ann"]
    events = TicketEvent.objects.filter(ticket=second, kind="assigned").order_by("id")
    assert [e.data["to"] for e in events] == ["ann", None, "ann"]


def test_hand_out_in_a_manual_shop_gives_nothing(shop, agents):
    new_ticket(shop)
    assert tickets_hand_out(shop_id=shop.pk) == []
    automatic(shop, "manual")
    assert tickets_hand_out(shop_id=shop.pk) == []
