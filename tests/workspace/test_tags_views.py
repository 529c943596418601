"""The queue's tags, saved views and bulk bar, through Django's test client on PostgreSQL."""

import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from tests.factories import make_ticket_for, staff_member
from tickets import services
from tickets.models import SavedView, Ticket, TicketEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent)
    return client


def _tickets(shop, count):
    return [make_ticket_for(shop, order_no=f"O-{i}", customer_id=f"c-{i}") for i in range(count)]


def _tag(ticket, *names):
    services.ticket_tags_set(ticket=ticket, names=list(names), actor=services.Actor.system())


def _messages(response) -> list[str]:
    return re.findall(r'<li class="message message-[a-z ]+">(.*?)</li>', response.content.decode())


def test_queue_shows_tag_chips_in_both_languages_and_filters_by_tag(client, shop):
    food, other = _tickets(shop, 2)
    _tag(food, "食品", "VIP")
    body = client.get("/").content.decode()
    row = body.split(f">{food.number}</a>")[1].split("</tr>")[0]
    assert re.search(r'class="tag tag-[a-z]+" href="\?tag=VIP"[^>]*>VIP</a>', row)
    assert ">食品</a>" in row and "查看带此标签的工单" in row
    assert '<option value="食品">食品</option>' in body and "任意标签" in body
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    body = client.get("/").content.decode()
    row = body.split(f">{food.number}</a>")[1].split("</tr>")[0]
    assert ">食品</a>" in row and "Show the tickets with this tag" in row and "Any tag" in body

    listed = client.get("/?tag=%E9%A3%9F%E5%93%81").content.decode()
    assert food.number in listed and other.number not in listed
    assert client.get("/?tag=vip").content.decode().count(f">{food.number}</a>") == 1


def test_queue_query_count_does_not_grow_with_tagged_rows(client, shop, agent):
    def count():
        with CaptureQueriesContext(connection) as context:
            assert client.get("/").status_code == 200
        return len(context.captured_queries)

    SavedView.objects.create(user=agent, name="mine", query="tab=mine")
    staff_member(shop, "agent", username="colleague")
    for ticket in _tickets(shop, 2):
        _tag(ticket, "食品", "大客户")
    few = count()
    for index, ticket in enumerate(_tickets(shop, 20)[2:]):
        _tag(ticket, f"t{index}", "加急")
    assert count() == few <= 10


def test_saved_view_save_open_and_delete(client, agent, shop):
    response = client.post(
        "/views/", {"name": " 我的加急 ", "query": "tab=mine&priority=urgent&page=3&bogus=1"}
    )
    assert response.status_code == 302 and response["Location"] == "/?tab=mine&priority=urgent"
    view = SavedView.objects.get(user=agent)
    assert (view.name, view.query, view.shop_id) == (
        "我的加急",
        "tab=mine&priority=urgent",
        shop.pk,
    )

    body = client.get("/").content.decode()
    assert 'href="/?tab=mine&amp;priority=urgent" data-testid="saved-view">我的加急</a>' in body
    opened = client.get("/?tab=mine&priority=urgent").content.decode()
    assert 'data-testid="saved-view" aria-current="page">我的加急' in opened

    again = client.post("/views/", {"name": "我的加急", "query": ""}, follow=True)
    assert "您已有名为“我的加急”的视图。" in _messages(again)
    assert client.post("/views/", {"name": " ", "query": ""}, follow=True).status_code == 200
    assert SavedView.objects.count() == 1

    someone = staff_member(shop, "agent", username="someone")
    theirs = SavedView.objects.create(user=someone, name="theirs", query="")
    client.post(f"/views/{theirs.pk}/delete/", {"next": "/"})
    assert SavedView.objects.filter(pk=theirs.pk).exists()
    response = client.post(f"/views/{view.pk}/delete/", {"next": "/?tab=mine"})
    assert response["Location"] == "/?tab=mine"
    assert not SavedView.objects.filter(pk=view.pk).exists()
    assert "暂无" in client.get("/").content.decode()


def test_bulk_assign_from_the_queue(client, agent, shop, other_shop):
    mine, also_mine, untouched = _tickets(shop, 3)
    foreign = make_ticket_for(other_shop, order_no="O-x")
    body = client.get("/").content.decode()
    assert 'id="bulk-assign-me" data-bulk-control disabled' in body
    assert "data-bulk-all" in body and f'name="numbers" value="{mine.number}"' in body

    response = client.post(
        "/bulk/",
        {
            "numbers": [mine.number, also_mine.number, foreign.number],
            "op": "assign_me",
            "next": "/?tab=all",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == "/?tab=all"
    shown = _messages(response)
    assert shown[0] == "已处理 2 个,失败 1 个"
    assert shown[1] == f"{foreign.number}:工单不存在。"
    assigned = set(Ticket.objects.filter(assignee=agent).values_list("number", flat=True))
    assert assigned == {mine.number, also_mine.number}
    assert Ticket.objects.get(pk=foreign.pk).assignee is None
    assert Ticket.objects.get(pk=untouched.pk).assignee is None
    assert TicketEvent.objects.filter(kind="assigned", actor_label="agent").count() == 2
    body = response.content.decode()
    row = body.split(f">{mine.number}</a>")[1].split("</tr>")[0]
    assert ">agent<" in row


def test_bulk_transition_and_tags_from_the_queue_report_reasons_in_english(client, shop):
    new, resolved = _tickets(shop, 2)
    Ticket.objects.filter(pk=resolved.pk).update(status="resolved")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    response = client.post(
        "/bulk/",
        {"numbers": [new.number, resolved.number], "op": "transition", "transition": "open"},
        follow=True,
    )
    shown = _messages(response)
    assert shown[0] == "1 done, 1 failed."
    assert shown[1].startswith(f"{resolved.number}: ") and "resolved" in shown[1].lower()
    assert "illegal_transition" not in response.content.decode()

    response = client.post(
        "/bulk/", {"numbers": [new.number], "op": "add_tag", "tag": "加急"}, follow=True
    )
    assert _messages(response)[0] == "1 done, 0 failed."
    assert [t.name for t in Ticket.objects.get(pk=new.pk).tags.all()] == ["加急"]
    response = client.post(
        "/bulk/", {"numbers": [new.number], "op": "add_tag", "tag": ""}, follow=True
    )
    assert _messages(response) == ["A tag may not be blank."]
    response = client.post("/bulk/", {"op": "assign_me"}, follow=True)
    assert _messages(response) == ["Select tickets first."]
    response = client.post(
        "/bulk/", {"numbers": [new.number], "op": "assign_me", "next": "https://evil.example/"}
    )
    assert response["Location"] == "/"
