"""Issue 11 on the workspace's ticket page: reply templates filled, unfilled blanks and overlong
text refused with the typed text kept, a parcel's return recorded with its reason, a closed
ticket's follow-up."""

import html
import re

import pytest
from django.test import Client

from tests.factories import make_ticket, make_ticket_for
from tickets.models import LogisticsEvent, Message, Ticket, TicketEvent
from tickets.states import Status

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent)
    return client


def error_of(response) -> str:
    match = re.search(
        r'<li class="message message-error">(.*?)</li>', response.content.decode(), re.S
    )
    assert match, "no error shown"
    return html.unescape(match.group(1))


def reply_box(response) -> str:
    match = re.search(
        r'<textarea id="reply-body"[^>]*>(.*?)</textarea>', response.content.decode(), re.S
    )
    return html.unescape(match.group(1))


def test_the_template_picker_offers_the_filled_text(client, shop):
    ticket = make_ticket(shop)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    bodies = [html.unescape(b) for b in re.findall(r'data-body="([^"]*)"', page)]
    offer = next(b for b in bodies if "方案一" in b)
    assert "方案一:优惠券 ¥2.00;方案二:现金(红包/转账) ¥2.00" in offer
    assert not any("{" in b for b in bodies)


@pytest.mark.parametrize("htmx", [True, False])
def test_a_reply_with_an_unfilled_blank_is_refused_and_the_text_kept(client, shop, htmx):
    ticket = make_ticket(shop)
    typed = "亲,为您提供两个方案:方案一:{option_1};方案二:退款"
    response = client.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": typed, "visibility": "public"},
        follow=not htmx,
        **(HTMX if htmx else {}),
    )
    assert "{option_1}" in error_of(response) and "占位" in error_of(response)
    assert reply_box(response) == typed
    assert not Message.objects.exists()


def test_an_overlong_reply_is_refused_with_the_limit_and_the_text_kept(client, shop):
    ticket = make_ticket(shop)
    typed = "好" * 5001
    response = client.post(
        f"/tickets/{ticket.number}/reply/", {"body": typed, "visibility": "internal"}, **HTMX
    )
    assert "5000" in error_of(response)
    assert reply_box(response) == typed
    assert 'value="internal" checked' in response.content.decode()
    assert not Message.objects.exists()


def test_an_overlong_transition_note_is_refused_in_words(client, shop):
    ticket = make_ticket(shop)
    response = client.post(
        f"/tickets/{ticket.number}/transition/", {"action": "open", "note": "n" * 2001}, **HTMX
    )
    assert "2000" in error_of(response)
    assert Ticket.objects.get(pk=ticket.pk).status == Status.NEW


def test_a_return_is_recorded_with_its_reason_in_words(client, shop, agent):
    ticket = make_ticket(shop, dispute_type="lost_parcel", affected_items=[])
    response = client.post(
        f"/tickets/{ticket.number}/logistics/return/",
        {"event": "returned", "reason": "unreachable"},
        **HTMX,
    )
    body = response.content.decode()
    assert "message-success" in body
    row = LogisticsEvent.objects.get(ticket=ticket)
    assert (row.event, row.reason) == ("returned", "unreachable")
    event = TicketEvent.objects.get(ticket=ticket, kind="logistics")
    assert event.actor == agent and event.data["reason"] == "unreachable"
    assert (
        '<span data-testid="return-reason">顾客电话打不通</span>' in body
        and ">unreachable<" not in body
    )
    # What rule R6 reads: the customer is responsible.
    from disputes.services import judgment_suggest

    suggestion = judgment_suggest(ticket=Ticket.objects.get(pk=ticket.pk))
    assert suggestion.party == "customer" and "R6" in [hit.id for hit in suggestion.rules]


@pytest.mark.parametrize(
    "post",
    [
        {"event": "returned", "reason": ""},
        {"event": "signed", "reason": "unreachable"},
        {"event": "returned", "reason": "aliens"},
        {"event": "returned", "reason": "other", "at": "yesterday"},
    ],
)
def test_a_bad_return_is_refused_in_words_and_stores_nothing(client, shop, post):
    ticket = make_ticket(shop)
    response = client.post(f"/tickets/{ticket.number}/logistics/return/", post, **HTMX)
    assert error_of(response)
    assert not LogisticsEvent.objects.exists()


def test_a_closed_ticket_offers_a_follow_up_instead_of_a_reopen(client, shop):
    closed = make_ticket_for(shop, status=Status.CLOSED)
    page = client.get(f"/tickets/{closed.number}/").content.decode()
    assert 'data-testid="create-follow-up"' in page and "创建跟进工单" in page
    response = client.post(
        f"/tickets/{closed.number}/reply/", {"body": "您好", "visibility": "public"}, **HTMX
    )
    assert "跟进工单" in error_of(response) and "重新打开再回复" not in error_of(response)
    assert reply_box(response) == "您好"

    response = client.post(f"/tickets/{closed.number}/follow-up/")
    follow_up = Ticket.objects.get(follow_up_of=closed)
    assert response.status_code == 302 and response["Location"] == f"/tickets/{follow_up.number}/"
    new_page = client.get(response["Location"]).content.decode()
    assert f'href="/tickets/{closed.number}/" data-testid="follow-up-of"' in new_page
    assert f"已创建跟进工单 {follow_up.number}" in new_page
    old_page = client.get(f"/tickets/{closed.number}/").content.decode()
    assert f'href="/tickets/{follow_up.number}/" data-testid="follow-up"' in old_page
    assert TicketEvent.objects.filter(ticket=closed, kind="follow_up").count() == 1


def test_the_follow_up_button_with_htmx_goes_to_the_new_ticket_and_an_open_ticket_gets_none(
    client, shop
):
    closed = make_ticket_for(shop, status=Status.CLOSED)
    response = client.post(f"/tickets/{closed.number}/follow-up/", **HTMX)
    follow_up = Ticket.objects.get(follow_up_of=closed)
    assert response["HX-Redirect"] == f"/tickets/{follow_up.number}/"
    open_ticket = make_ticket_for(shop, order_no="T-2", status=Status.OPEN)
    assert (
        'data-testid="create-follow-up"'
        not in client.get(f"/tickets/{open_ticket.number}/").content.decode()
    )
    response = client.post(f"/tickets/{open_ticket.number}/follow-up/", **HTMX)
    assert error_of(response) and not Ticket.objects.filter(follow_up_of=open_ticket).exists()


def test_another_shops_ticket_gets_no_follow_up(client, other_shop):
    closed = make_ticket_for(other_shop, status=Status.CLOSED)
    assert client.post(f"/tickets/{closed.number}/follow-up/").status_code == 404
    assert (
        client.post(
            f"/tickets/{closed.number}/logistics/return/", {"event": "returned", "reason": "other"}
        ).status_code
        == 404
    )
    assert (
        not Ticket.objects.filter(follow_up_of=closed).exists()
        and not LogisticsEvent.objects.exists()
    )
