"""A shop's key and a shop's staff see only their shops' tickets: another shop's is 404, never 403."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.factories import ShopFactory, make_ticket_for, png_bytes, staff_member
from tickets.models import Attachment, LogisticsEvent, Message, Ticket, TicketEvent
from tickets.states import Status


@pytest.fixture
def theirs(other_shop):
    """Shop B's ticket, open so that every action would be legal on it."""
    return make_ticket_for(other_shop, order_no="B-1", status=Status.OPEN)


def _requests(number):
    return [
        ("get", f"/api/v1/tickets/{number}/", None, "json"),
        ("get", f"/api/v1/tickets/{number}/events/", None, "json"),
        ("get", f"/api/v1/tickets/{number}/messages/", None, "json"),
        ("get", f"/api/v1/tickets/{number}/attachments/", None, "json"),
        ("get", f"/api/v1/tickets/{number}/logistics/", None, "json"),
        ("post", f"/api/v1/tickets/{number}/messages/", {"body": "hi"}, "json"),
        (
            "post",
            f"/api/v1/tickets/{number}/logistics/",
            {"event": "lost", "at": "2026-11-22T15:00:00+08:00"},
            "json",
        ),
        (
            "post",
            f"/api/v1/tickets/{number}/attachments/",
            lambda: {"file": SimpleUploadedFile("a.png", png_bytes()), "kind": "photo"},
            "multipart",
        ),
        ("post", f"/api/v1/tickets/{number}/transition/", {"action": "resolve"}, "json"),
        ("post", f"/api/v1/tickets/{number}/assign/", {"assignee": None}, "json"),
    ]


def _send(client, method, url, data, fmt):
    if callable(data):
        data = data()
    if method == "get":
        return client.get(url)
    return client.post(url, data, format=fmt)


def _unchanged(ticket, events_before):
    ticket.refresh_from_db()
    assert ticket.status == Status.OPEN
    assert TicketEvent.objects.filter(ticket=ticket).count() == events_before
    assert not Message.objects.filter(ticket=ticket).exists()
    assert not Attachment.objects.filter(ticket=ticket).exists()
    assert not LogisticsEvent.objects.filter(ticket=ticket).exists()


@pytest.mark.parametrize("who", ["shop_client", "agent_client"])
def test_another_shops_ticket_is_404_for_everything(request, who, theirs, media_root):
    client = request.getfixturevalue(who)
    events_before = TicketEvent.objects.filter(ticket=theirs).count()

    for method, url, data, fmt in _requests(theirs.number):
        response = _send(client, method, url, data, fmt)
        assert response.status_code == 404, (who, url, response.status_code)
        assert response.json()["error"]["code"] == "not_found"

    _unchanged(theirs, events_before)


@pytest.mark.parametrize("who", ["shop_client", "agent_client"])
def test_another_shops_ticket_looks_like_a_missing_one(request, who, theirs):
    """Same status and code for B's ticket as for a number that does not exist."""
    client = request.getfixturevalue(who)
    for (method, url, data, fmt), (_, missing_url, _, _) in zip(
        _requests(theirs.number), _requests("AS000000NOPE22"), strict=False
    ):
        if callable(data):
            continue  # the upload is covered above; its body is spent after one request
        a, b = _send(client, method, url, data, fmt), _send(client, method, missing_url, data, fmt)
        assert (
            (a.status_code, a.json()["error"]["code"])
            == (b.status_code, b.json()["error"]["code"])
            == (404, "not_found")
        )


def test_list_never_shows_another_shops_tickets(shop_client, agent_client, shop, theirs):
    mine = make_ticket_for(shop, order_no="A-1")
    for client in (shop_client, agent_client):
        numbers = [
            t["number"] for t in client.get("/api/v1/tickets/?page_size=100").json()["results"]
        ]
        assert numbers == [mine.number]
        # not even when filtering for exactly B's ticket
        assert client.get("/api/v1/tickets/", {"order_no": "B-1"}).json()["results"] == []
        assert client.get("/api/v1/tickets/", {"status": "open"}).json()["results"] == []


def test_other_shop_sees_its_own_and_not_ours(
    other_shop_client, other_agent_client, ticket, theirs
):
    for client in (other_shop_client, other_agent_client):
        assert client.get(f"/api/v1/tickets/{theirs.number}/").status_code == 200
        assert client.get(f"/api/v1/tickets/{ticket.number}/").status_code == 404
        assert [t["number"] for t in client.get("/api/v1/tickets/").json()["results"]] == [
            theirs.number
        ]


def test_staff_of_two_shops_sees_both(token_client, shop, other_shop, ticket, theirs):
    both = staff_member(shop, "agent", username="roaming")
    staff_member(other_shop, "agent", username="roaming")
    ShopFactory(code="third")
    third_ticket = make_ticket_for(ShopFactory(code="third"), order_no="C-1")
    client = token_client(both)

    numbers = {t["number"] for t in client.get("/api/v1/tickets/").json()["results"]}
    assert numbers == {ticket.number, theirs.number}
    assert client.get(f"/api/v1/tickets/{theirs.number}/").status_code == 200
    assert client.get(f"/api/v1/tickets/{third_ticket.number}/").status_code == 404
    response = client.post(
        f"/api/v1/tickets/{theirs.number}/transition/", {"action": "resolve"}, format="json"
    )
    assert response.status_code == 200
    assert Ticket.objects.get(pk=theirs.pk).status == Status.RESOLVED


def test_user_without_membership_sees_nothing(token_client, ticket):
    from tests.factories import UserFactory

    client = token_client(UserFactory(username="nobody"))
    assert client.get("/api/v1/tickets/").json()["results"] == []
    assert client.get(f"/api/v1/tickets/{ticket.number}/").status_code == 404


def test_superuser_sees_every_shop(token_client, ticket, theirs):
    from tests.factories import UserFactory

    root = UserFactory(username="root", is_superuser=True)
    numbers = {t["number"] for t in token_client(root).get("/api/v1/tickets/").json()["results"]}
    assert numbers == {ticket.number, theirs.number}


def test_assign_refuses_someone_from_another_shop(agent_client, ticket, other_shop):
    staff_member(other_shop, "agent", username="outsider")
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/assign/", {"assignee": "outsider"}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_assignee"
    ticket.refresh_from_db()
    assert ticket.assignee is None
