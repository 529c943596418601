"""Tags, priority and bulk actions through the API (API.md "Tags and bulk actions")."""

import pytest

from tests.factories import make_ticket_for, staff_member
from tickets import services
from tickets.models import Tag, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


def _patch(client, number, body):
    return client.patch(f"/api/v1/tickets/{number}/", body, format="json")


def _bulk(client, body):
    return client.post("/api/v1/tickets/bulk/", body, format="json")


def _fresh(tickets):
    return [Ticket.objects.get(pk=t.pk) for t in tickets]


@pytest.fixture
def tickets(shop):
    return [make_ticket_for(shop, order_no=f"O-{i}", customer_id=f"c-{i}") for i in range(3)]


# --- PATCH ------------------------------------------------------------------------------------


def test_patch_sets_tags_and_priority_on_the_timeline(agent_client, ticket):
    response = _patch(agent_client, ticket.number, {"tags": [" 加急 ", "食品"], "priority": "high"})
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["tags"] == ["加急", "食品"] and body["priority"] == "high"
    events = {e.kind: e for e in TicketEvent.objects.filter(ticket=ticket)}
    assert events["priority_changed"].data == {"from": "normal", "to": "high"}
    assert events["priority_changed"].actor_label == "agent"
    assert events["tags_changed"].data == {"added": ["加急", "食品"], "removed": []}

    # Tags replace the set; the name's first spelling stays, whatever the case given later.
    response = _patch(agent_client, ticket.number, {"tags": ["VIP", "食品"]})
    assert response.json()["tags"] == ["VIP", "食品"]
    response = _patch(agent_client, ticket.number, {"tags": ["vip"]})
    assert response.json()["tags"] == ["VIP"]
    last = TicketEvent.objects.filter(ticket=ticket, kind="tags_changed").last()
    assert last.data == {"added": [], "removed": ["食品"]}
    assert Tag.objects.filter(shop=ticket.shop).count() == 3
    assert agent_client.get(f"/api/v1/tickets/{ticket.number}/").json()["tags"] == ["VIP"]


def test_patch_is_strict(agent_client, ticket):
    for body in (
        {"tags": ["a"], "status": "open"},  # unknown field
        {"tags": [12]},  # a number, not text
        {"tags": "食品"},  # not a list
        {"priority": 3},
        {"priority": "sky-high"},
        {},
        {"tags": [""]},
        {"tags": ["x" * 31]},
        {"tags": ["a\tb"]},
        {"tags": [f"t{i}" for i in range(21)]},
    ):
        response = _patch(agent_client, ticket.number, body)
        assert response.status_code == 400, (body, response.json())
        assert response.json()["error"]["code"] == "validation_error"
    assert not TicketEvent.objects.filter(ticket=ticket, kind="tags_changed").exists()


def test_patch_is_staff_only_and_scoped(agent_client, other_agent_client, shop_client, ticket):
    assert _patch(other_agent_client, ticket.number, {"tags": ["x"]}).status_code == 404
    assert _patch(shop_client, ticket.number, {"tags": ["x"]}).status_code == 403
    assert not Tag.objects.exists()


def test_list_filters_by_tag(agent_client, other_agent_client, tickets, other_shop):
    a, b, _c = tickets
    agent = a.shop.memberships.get().user
    actor = services.Actor.staff(agent)
    services.ticket_tags_set(ticket=a, names=["大客户"], actor=actor)
    services.ticket_tags_set(ticket=b, names=["大客户", "食品"], actor=actor)
    other = make_ticket_for(other_shop, order_no="O-other")
    services.ticket_tags_set(ticket=other, names=["大客户"], actor=services.Actor.system())

    numbers = [
        t["number"] for t in agent_client.get("/api/v1/tickets/?tag=大客户").json()["results"]
    ]
    assert sorted(numbers) == sorted([a.number, b.number])
    results = agent_client.get("/api/v1/tickets/?tag=食品").json()["results"]
    assert [t["number"] for t in results] == [b.number]
    assert agent_client.get("/api/v1/tickets/?tag=nothing").json()["results"] == []
    other_numbers = other_agent_client.get("/api/v1/tickets/?tag=大客户").json()["results"]
    assert [t["number"] for t in other_numbers] == [other.number]


def test_a_ticket_has_at_most_twenty_tags(agent_client, ticket):
    names = [f"t{i}" for i in range(20)]
    assert _patch(agent_client, ticket.number, {"tags": names}).status_code == 200
    response = _bulk(agent_client, {"numbers": [ticket.number], "action": "add_tag", "value": "x"})
    assert response.json()["failed"][0]["error"]["code"] == "too_many_tags"
    assert Ticket.objects.get(pk=ticket.pk).tags.count() == 20


# --- bulk -------------------------------------------------------------------------------------


def test_bulk_assign_reports_a_bad_number_and_does_the_rest(agent_client, agent, tickets):
    numbers = [t.number for t in tickets]
    response = _bulk(
        agent_client,
        {"numbers": [numbers[0], "AS000000NOPE", numbers[1]], "action": "assign", "value": "agent"},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["done"] == [numbers[0], numbers[1]]
    assert body["failed"] == [
        {"number": "AS000000NOPE", "error": {"code": "not_found", "message": "工单不存在。"}}
    ]
    assert Ticket.objects.filter(assignee=agent).count() == 2
    event = TicketEvent.objects.filter(ticket=tickets[0], kind="assigned").get()
    assert event.actor_label == "agent" and event.data["to"] == "agent"

    response = _bulk(agent_client, {"numbers": numbers[:2], "action": "assign", "value": None})
    assert response.json()["done"] == numbers[:2]
    assert not Ticket.objects.filter(assignee=agent).exists()


def test_bulk_never_reveals_another_shops_ticket(agent_client, other_shop, tickets):
    other = make_ticket_for(other_shop, order_no="O-other")
    response = _bulk(
        agent_client, {"numbers": [other.number], "action": "add_tag", "value": "食品"}
    )
    assert response.json() == {
        "done": [],
        "failed": [
            {"number": other.number, "error": {"code": "not_found", "message": "工单不存在。"}}
        ],
    }
    assert not Ticket.objects.get(pk=other.pk).tags.exists()


def test_bulk_transition_reports_illegal_ones_per_ticket(agent_client, tickets):
    resolved = tickets[2]
    Ticket.objects.filter(pk=resolved.pk).update(status="resolved")
    numbers = [t.number for t in tickets]
    response = _bulk(agent_client, {"numbers": numbers, "action": "transition", "value": "open"})
    body = response.json()
    assert body["done"] == numbers[:2]
    assert [f["number"] for f in body["failed"]] == [resolved.number]
    assert body["failed"][0]["error"]["code"] == "illegal_transition"
    assert body["failed"][0]["error"]["message"]
    assert set(Ticket.objects.values_list("status", flat=True)) == {"open", "resolved"}


def test_bulk_tags(agent_client, tickets):
    numbers = [t.number for t in tickets]
    body = _bulk(agent_client, {"numbers": numbers, "action": "add_tag", "value": " 加急 "}).json()
    assert body == {"done": numbers, "failed": []}
    assert all([tag.name for tag in t.tags.all()] == ["加急"] for t in _fresh(tickets))
    assert Tag.objects.get().name == "加急"
    body = _bulk(agent_client, {"numbers": numbers[:2], "action": "remove_tag", "value": "加急"})
    assert body.json() == {"done": numbers[:2], "failed": []}
    assert [t.tags.count() for t in _fresh(tickets)] == [0, 0, 1]
    assert TicketEvent.objects.filter(kind="tags_changed").count() == 5


def test_bulk_refuses_a_bad_request_as_a_whole(agent_client, shop_client, tickets):
    number = tickets[0].number
    for body in (
        {"numbers": [number] * 501, "action": "add_tag", "value": "x"},
        {"numbers": [], "action": "add_tag", "value": "x"},
        {"numbers": [number], "action": "delete", "value": "x"},
        {"numbers": [number], "action": "transition", "value": "fly"},
        {"numbers": [number], "action": "assign", "value": "nobody"},
        {"numbers": [number], "action": "add_tag", "value": None},
        {"numbers": [number], "action": "add_tag", "value": "  "},
        {"numbers": [number], "action": "add_tag", "value": 5},
        {"numbers": [5], "action": "add_tag", "value": "x"},
        {"numbers": [number], "action": "add_tag", "value": "x", "extra": 1},
        {"numbers": [number], "action": "add_tag"},
    ):
        response = _bulk(agent_client, body)
        assert response.status_code == 400, (body, response.json())
    assert not TicketEvent.objects.filter(kind__in=["tags_changed", "status_changed"]).exists()
    assert (
        _bulk(shop_client, {"numbers": [number], "action": "add_tag", "value": "x"}).status_code
        == 403
    )


def test_bulk_assign_to_someone_of_another_shop_fails_per_ticket(agent_client, other_shop, tickets):
    staff_member(other_shop, "agent", username="stranger")
    body = _bulk(
        agent_client, {"numbers": [tickets[0].number], "action": "assign", "value": "stranger"}
    ).json()
    assert body["done"] == [] and body["failed"][0]["error"]["code"] == "invalid_assignee"


def test_tag_filter_refuses_what_no_tag_can_be(agent_client, ticket):
    assert agent_client.get("/api/v1/tickets/?tag=" + "x" * 31).status_code == 400
    assert agent_client.get("/api/v1/tickets/?tag=%00").status_code == 400
