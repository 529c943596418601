"""Who else has a ticket open, and who is typing (tickets/presence.py), through the page's beat."""

import pytest

from tests.factories import ShopFactory, make_ticket_for, staff_member
from tickets.presence import PRESENCE_TTL_SECONDS, TYPING_SECONDS, presence_beat

pytestmark = pytest.mark.django_db


@pytest.fixture
def team():
    shop = ShopFactory(code="pres")
    return (
        shop,
        staff_member(shop, "agent", username="li"),
        staff_member(shop, "agent", username="wang"),
    )


def test_each_viewer_sees_the_others_not_themselves(team):
    shop, li, wang = team
    ticket = make_ticket_for(shop)
    assert presence_beat(ticket_number=ticket.number, user=li, typing=False, now=100) == []
    others = presence_beat(ticket_number=ticket.number, user=wang, typing=False, now=101)
    assert [(v.name, v.typing) for v in others] == [("li", False)]
    assert [
        v.name for v in presence_beat(ticket_number=ticket.number, user=li, typing=False, now=102)
    ] == ["wang"]


def test_typing_shows_for_a_few_seconds_and_a_silent_viewer_drops_off(team):
    shop, li, wang = team
    ticket = make_ticket_for(shop)
    presence_beat(ticket_number=ticket.number, user=li, typing=True, now=100)
    assert presence_beat(ticket_number=ticket.number, user=wang, typing=False, now=101)[0].typing
    presence_beat(ticket_number=ticket.number, user=li, typing=False, now=100 + TYPING_SECONDS - 1)
    seen = presence_beat(
        ticket_number=ticket.number, user=wang, typing=False, now=100 + TYPING_SECONDS
    )
    assert seen[0].typing is False  # the keystroke is older than the typing window
    late = 100 + TYPING_SECONDS - 1 + PRESENCE_TTL_SECONDS
    assert presence_beat(ticket_number=ticket.number, user=wang, typing=False, now=late) == []


def test_the_beat_answers_in_the_readers_language_and_leave_drops_the_viewer(client, team):
    shop, li, wang = team
    ticket = make_ticket_for(shop)
    url = f"/tickets/{ticket.number}/presence/"
    client.force_login(li)
    assert client.post(url, {"typing": "1"}).content.strip() == b""  # nobody else yet
    client.force_login(wang)
    zh = client.post(url).content.decode()
    assert "li" in zh and "正在输入" in zh and "同时在处理此工单" in zh
    en = client.post(url, HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert "Also on this ticket:" in en and "is typing" in en and "正在" not in en
    client.force_login(li)
    assert client.post(url, {"leave": "1"}).status_code == 204
    client.force_login(wang)
    assert "li" not in client.post(url).content.decode()


def test_another_shops_ticket_has_no_presence(client, team):
    _shop, li, _wang = team
    other = make_ticket_for(ShopFactory(code="other"))
    client.force_login(li)
    assert client.post(f"/tickets/{other.number}/presence/").status_code == 404
    assert client.get(f"/tickets/{other.number}/presence/").status_code in (404, 405)
