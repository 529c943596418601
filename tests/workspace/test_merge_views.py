"""Merging duplicates on the ticket page: suggestions, the merge form, the target's "Merged from"
section and the source's banner, in Chinese and English."""

import html
import re

import pytest
from django.test import Client

from tests.factories import make_ticket_for
from tickets import services
from tickets.models import Ticket, TicketEvent

HTMX = {"HTTP_HX_REQUEST": "true"}


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent)
    return client


def in_language(client, language):
    client.cookies.load({"django_language": language})
    return client


def error_of(response) -> str:
    match = re.search(
        r'<li class="message message-error">(.*?)</li>', response.content.decode(), re.S
    )
    assert match, "no error shown"
    return html.unescape(match.group(1))


@pytest.fixture
def merged(shop, agent):
    target = make_ticket_for(shop, order_no="T-M")
    source = make_ticket_for(shop, order_no="T-M")
    services.message_add(ticket=source, body="第二次反馈：还是漏", actor=services.Actor.shop(shop))
    services.ticket_merge(
        source=source, target=target, note="同一订单重复", actor=services.Actor.staff(agent)
    )
    return source, target


@pytest.mark.parametrize(
    "language, banner, section, event",
    [
        ("zh-hans", "已合并到", "合并自", "已合并到此工单"),
        ("en", "Merged into", "Merged from", "merged into this ticket"),
    ],
)
def test_target_shows_merged_messages_and_source_shows_the_banner(
    client, merged, language, banner, section, event
):
    source, target = merged
    in_language(client, language)

    target_page = client.get(f"/tickets/{target.number}/").content.decode()
    source_page = client.get(f"/tickets/{source.number}/").content.decode()

    assert f'data-testid="merged-from" data-number="{source.number}"' in target_page
    assert section in target_page and "第二次反馈：还是漏" in target_page
    assert event in target_page and "同一订单重复" in target_page
    assert banner in source_page
    assert f'href="/tickets/{target.number}/" data-testid="merged-into"' in source_page
    # a merged duplicate is closed: no follow-up, no merge form, no suggestions of its own
    assert 'data-testid="create-follow-up"' not in source_page
    assert 'data-testid="merge-form"' not in source_page
    assert "merge_not_allowed" not in target_page + source_page


def test_suggestions_offer_to_merge_the_duplicate_here(client, shop):
    ticket = make_ticket_for(shop, order_no="T-S", customer_id="c-1")
    duplicate = make_ticket_for(shop, order_no="T-S", customer_id="c-1")
    stranger = make_ticket_for(shop, order_no="T-S", customer_id="c-2")
    in_language(client, "zh-hans")

    page = client.get(f"/tickets/{ticket.number}/").content.decode()

    assert "可能重复的工单" in page and "合并到此工单" in page
    assert (
        f'data-number="{duplicate.number}"' in page and f'data-number="{stranger.number}"' in page
    )
    assert f'<input type="hidden" name="source" value="{duplicate.number}">' in page
    assert f'<input type="hidden" name="source" value="{stranger.number}">' not in page
    assert "不同客户：不能合并。" in page

    response = client.post(
        f"/tickets/{ticket.number}/merge/",
        {"source": duplicate.number, "into": ticket.number, "note": "重复提交"},
        **HTMX,
    )

    assert response.status_code == 200
    assert f"已将 {duplicate.number} 合并到 {ticket.number}" in response.content.decode()
    assert Ticket.objects.get(pk=duplicate.pk).merged_into_id == ticket.pk


@pytest.mark.parametrize("htmx", [True, False])
def test_the_merge_form_goes_to_the_target_or_shows_the_refusal_in_place(client, shop, htmx):
    target = make_ticket_for(shop, order_no="T-F", customer_id="c-1")
    other = make_ticket_for(shop, order_no="T-G", customer_id="c-2")
    source = make_ticket_for(shop, order_no="T-F", customer_id="c-1")
    in_language(client, "en")
    extra = HTMX if htmx else {}

    refused = client.post(
        f"/tickets/{source.number}/merge/",
        {"into": other.number, "note": "typed note"},
        follow=not htmx,
        **extra,
    )
    assert "different customers" in error_of(refused)
    assert "merge_not_allowed" not in refused.content.decode()
    if htmx:
        assert "typed note" in refused.content.decode()
    missing = client.post(
        f"/tickets/{source.number}/merge/",
        {"into": "AS000NOPE", "note": "x"},
        follow=not htmx,
        **extra,
    )
    assert "There is no ticket AS000NOPE in this shop." in error_of(missing)
    blank = client.post(
        f"/tickets/{source.number}/merge/", {"into": target.number}, follow=not htmx, **extra
    )
    assert "Say why" in error_of(blank)

    done = client.post(
        f"/tickets/{source.number}/merge/",
        {"into": target.number.lower(), "note": "same order"},
        **extra,
    )
    url = f"/tickets/{target.number}/"
    assert (done["HX-Redirect"] if htmx else done["Location"]) == url
    assert TicketEvent.objects.filter(ticket=target, kind="merged").count() == 1


def test_another_shops_ticket_cannot_be_named(client, shop, other_shop):
    source = make_ticket_for(shop, order_no="T-X")
    foreign = make_ticket_for(other_shop, order_no="T-X")
    in_language(client, "zh-hans")
    response = client.post(
        f"/tickets/{source.number}/merge/", {"into": foreign.number, "note": "x"}, **HTMX
    )
    assert f"本店铺没有工单 {foreign.number}" in error_of(response)
    assert Ticket.objects.get(pk=source.pk).merged_into_id is None


def test_a_closed_ticket_still_offers_a_follow_up(client, shop):
    closed = make_ticket_for(shop, order_no="T-C", status="closed")
    page = in_language(client, "zh-hans").get(f"/tickets/{closed.number}/").content.decode()
    assert 'data-testid="create-follow-up"' in page and "合并重复工单" not in page
