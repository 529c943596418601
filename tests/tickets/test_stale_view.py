"""Collision guard (API.md "Concurrent work on one ticket"): a reply written before a newer
customer message or a colleague's reply arrived is held back with 409 stale_view."""

import pytest

from tests.factories import staff_member
from tickets.models import Message, TicketEvent

pytestmark = pytest.mark.django_db


def _latest_event_id(ticket) -> int:
    return TicketEvent.objects.filter(ticket=ticket).order_by("-id").values_list("id", flat=True)[0]


def _reply(client, ticket, body, **extra):
    return client.post(
        f"/api/v1/tickets/{ticket.number}/messages/", {"body": body, **extra}, format="json"
    )


def test_a_reply_written_before_the_customers_new_message_is_held_back(
    ticket, agent_client, shop_client
):
    seen = _latest_event_id(ticket)
    assert _reply(shop_client, ticket, "还有一个也碎了").status_code == 201  # the customer writes
    response = _reply(agent_client, ticket, "已为您退款", seen_event_id=seen)
    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "stale_view"
    assert [e["body"] for e in error["fields"]["newer_events"]] == ["还有一个也碎了"]
    assert "新消息" in error["message"]  # in the reader's language (zh-hans by default)
    assert not Message.objects.filter(body="已为您退款").exists()  # not sent
    # Having read it, the agent sends again with what is on screen now.
    again = _reply(agent_client, ticket, "已为您退款", seen_event_id=_latest_event_id(ticket))
    assert again.status_code == 201


def test_a_colleagues_reply_holds_it_back_but_ones_own_and_internal_notes_do_not(
    shop, ticket, agent_client, token_client
):
    seen = _latest_event_id(ticket)
    assert _reply(agent_client, ticket, "我先回复一句").status_code == 201  # one's own reply
    assert _reply(agent_client, ticket, "再补充一句", seen_event_id=seen).status_code == 201
    colleague = token_client(staff_member(shop, "agent", username="colleague"))
    note = {"internal": True}
    assert _reply(colleague, ticket, "内部备注", **note).status_code == 201  # internal: no block
    seen = _latest_event_id(ticket)
    assert _reply(agent_client, ticket, "第三句", seen_event_id=seen).status_code == 201
    assert _reply(colleague, ticket, "同事的公开回复").status_code == 201
    held = _reply(agent_client, ticket, "第四句", seen_event_id=seen)
    assert held.status_code == 409
    assert [e["by"] for e in held.json()["error"]["fields"]["newer_events"]] == ["colleague"]
    # An internal note is never held back, and without seen_event_id nothing is checked.
    assert _reply(agent_client, ticket, "记一下", seen_event_id=seen, **note).status_code == 201
    assert _reply(agent_client, ticket, "第四句").status_code == 201


def test_a_bad_seen_event_id_is_a_clear_400(ticket, agent_client):
    for bad in (-1, "abc", 2**63):
        response = _reply(agent_client, ticket, "你好", seen_event_id=bad)
        assert response.status_code == 400
        assert "seen_event_id" in response.json()["error"]["fields"]


def test_the_ticket_page_keeps_the_draft_and_shows_the_new_message(
    client, agent, ticket, shop_client
):
    client.force_login(agent)
    page = client.get(f"/tickets/{ticket.number}/").content.decode()
    seen = _latest_event_id(ticket)
    assert f'name="seen_event_id" value="{seen}"' in page
    assert _reply(shop_client, ticket, "请尽快处理").status_code == 201
    response = client.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "我的草稿", "visibility": "public", "seen_event_id": seen},
        follow=True,
    )
    text = response.content.decode()
    assert "新消息" in text and "请尽快处理" in text and "我的草稿" in text
    assert not Message.objects.filter(body="我的草稿").exists()
    now_seen = _latest_event_id(ticket)
    assert f'name="seen_event_id" value="{now_seen}"' in text
    sent = client.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "我的草稿", "visibility": "public", "seen_event_id": now_seen},
        follow=True,
    )
    assert sent.status_code == 200 and Message.objects.filter(body="我的草稿").exists()
