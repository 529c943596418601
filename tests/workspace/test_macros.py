"""Macros (tickets/macros.py): a shop's admins write reply templates that also act when the reply
is sent; the agent picks one on the ticket, sends, and the actions run through the ticket's own
services — one that cannot apply is reported, never taking the reply back."""

import pytest
from django.test import Client

from tests.factories import ShopFactory, make_ticket_for, staff_member
from tickets.models import Message, ReplyTemplate, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def shop():
    return ShopFactory(code="demo", name="Demo shop")


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def admin(shop):
    return logged_in(staff_member(shop, "admin", username="boss"))


@pytest.fixture
def agent_user(shop):
    return staff_member(shop, "agent", username="agent")


def macro_form(**overrides):
    return {
        "title": "解决并加急",
        "category": "followup",
        "language": "zh-hans",
        "body": "亲，{customer_name}，您的问题已处理完毕。",
        "set_status": "resolve",
        "set_priority": "high",
        "add_tag": "已回访",
        "assign_me": "on",
        **overrides,
    }


def test_admins_write_macros_agents_cannot(admin, agent_user, shop):
    response = admin.post("/settings/demo/macros/new/", macro_form())
    assert response.status_code == 302
    macro = ReplyTemplate.objects.get(shop=shop)
    assert macro.actions == [
        {"type": "assign_me"},
        {"type": "set_priority", "value": "high"},
        {"type": "add_tag", "value": "已回访"},
        {"type": "set_status", "value": "resolve"},
    ]
    page = admin.get("/settings/demo/macros/").content.decode()
    assert "解决并加急" in page and "已回访" in page and "默认话术" in page
    english = admin.get("/settings/demo/macros/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "This shop's macros" in english.replace("&#x27;", "'")
    assert logged_in(agent_user).get("/settings/demo/macros/").status_code == 404
    other_admin = logged_in(staff_member(ShopFactory(code="other"), "admin", username="x"))
    assert other_admin.get("/settings/demo/macros/").status_code == 404
    assert other_admin.post(f"/settings/demo/macros/{macro.pk}/delete/").status_code == 404


def test_a_bad_macro_is_refused_on_its_field_and_nothing_is_saved(admin, shop):
    response = admin.post("/settings/demo/macros/new/", macro_form(add_tag="a\tb", title=""))
    assert response.status_code == 400
    html = response.content.decode()
    assert "这个字段是必填项。" in html or "该字段是必填项。" in html
    response = admin.post("/settings/demo/macros/new/", macro_form(add_tag="a\tb"))
    assert response.status_code == 400 and "标签" in response.content.decode()
    assert not ReplyTemplate.objects.filter(shop=shop).exists()


def test_a_default_is_copied_then_changed_and_deleted(admin, shop):
    default = ReplyTemplate.objects.filter(shop__isnull=True).first()
    response = admin.post(f"/settings/demo/macros/{default.pk}/copy/")
    copy = ReplyTemplate.objects.get(shop=shop)
    assert response["Location"] == f"/settings/demo/macros/{copy.pk}/"
    assert copy.body == default.body and copy.title == default.title_in_reader_language
    admin.post(f"/settings/demo/macros/{copy.pk}/", macro_form(title="改过的"))
    copy.refresh_from_db()
    assert copy.title == "改过的" and copy.actions
    assert admin.post(f"/settings/demo/macros/{default.pk}/delete/").status_code == 404
    admin.post(f"/settings/demo/macros/{copy.pk}/delete/")
    assert not ReplyTemplate.objects.filter(shop=shop).exists()
    assert ReplyTemplate.objects.filter(pk=default.pk).exists()  # the defaults stay


def test_sending_a_macros_reply_runs_its_actions(admin, agent_user, shop):
    admin.post("/settings/demo/macros/new/", macro_form())
    macro = ReplyTemplate.objects.get(shop=shop)
    ticket = make_ticket_for(shop)
    agent = logged_in(agent_user)
    page = agent.get(f"/tickets/{ticket.number}/").content.decode()
    assert f'value="{macro.pk}"' in page and "data-actions=" in page and "⚡" in page
    response = agent.post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "亲，张三，您的问题已处理完毕。", "visibility": "public", "macro": macro.pk},
        follow=True,
    )
    ticket.refresh_from_db()
    assert Message.objects.filter(ticket=ticket, body__startswith="亲，张三").exists()
    assert ticket.status == "resolved" and ticket.priority == "high"
    assert ticket.assignee == agent_user and [t.name for t in ticket.tags.all()] == ["已回访"]
    assert "宏“解决并加急”还完成了" in response.content.decode()
    kinds = set(TicketEvent.objects.filter(ticket=ticket).values_list("kind", flat=True))
    assert {"tags_changed", "priority_changed", "status_changed"} <= kinds


def test_an_action_that_cannot_apply_is_reported_and_the_reply_stays(admin, agent_user, shop):
    admin.post(
        "/settings/demo/macros/new/",
        macro_form(set_status="reopen", add_tag="", set_priority="", assign_me=""),
    )
    macro = ReplyTemplate.objects.get(shop=shop)
    ticket = make_ticket_for(shop)
    response = logged_in(agent_user).post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "您好", "visibility": "public", "macro": macro.pk},
        follow=True,
    )
    assert Message.objects.filter(ticket=ticket, body="您好").exists()
    assert "未完成" in response.content.decode()


def test_another_shops_macro_does_nothing(agent_user, shop):
    other = ShopFactory(code="other")
    foreign = ReplyTemplate.objects.create(
        shop=other,
        category="followup",
        title="x",
        body="x",
        actions=[{"type": "set_status", "value": "resolve"}],
    )
    ticket = make_ticket_for(shop)
    logged_in(agent_user).post(
        f"/tickets/{ticket.number}/reply/",
        {"body": "您好", "visibility": "public", "macro": foreign.pk},
    )
    ticket.refresh_from_db()
    assert ticket.status != "resolved"
