"""The live queue: its rows ask every few seconds whether they changed; unchanged is a 204 (htmx
swaps nothing), changed is the rows again with the filters of the list on screen."""

import re

import pytest
from django.test import Client

from tests.factories import make_ticket_for
from tickets import services

pytestmark = pytest.mark.django_db
HTMX = {"HTTP_HX_REQUEST": "true", "HTTP_HX_TARGET": "queue-rows"}


@pytest.fixture
def client(agent):
    client = Client()
    client.force_login(agent)
    return client


def poll_of(html: str) -> tuple[str, str]:
    tbody = re.search(
        r'<tbody id="queue-rows" hx-get="([^"]*)" hx-vals=\'\{"poll": "(\w+)"\}\'', html
    )
    assert tbody, "the rows carry their poll URL and version"
    return tbody.group(1).replace("&amp;", "&"), tbody.group(2)


def test_unchanged_rows_answer_204_and_a_change_sends_the_rows_with_the_filters(client, shop):
    first = make_ticket_for(shop, order_no="T-1", customer_id="c-1")
    url, version = poll_of(client.get("/?tab=all&priority=high&sort=newest").content.decode())
    assert url.startswith("/?") and "priority=high" in url and "poll" not in url
    assert client.get(f"{url}&poll={version}", **HTMX).status_code == 204

    services.ticket_priority_set(ticket=first, priority="high", actor=services.Actor.shop(shop))
    services.ticket_tags_set(ticket=first, names=["加急"], actor=services.Actor.shop(shop))
    changed = client.get(f"{url}&poll={version}", **HTMX)
    assert changed.status_code == 200
    html = changed.content.decode()
    assert html.lstrip().startswith("<tbody") and first.number in html
    new_url, new_version = poll_of(html)
    assert new_url == url and new_version != version  # the filter stays; a new version to ask with
    assert "tag=%E5%8A%A0%E6%80%A5" in html and "poll=" not in html  # the rows' links: no poll
    assert client.get(f"{url}&poll={new_version}", **HTMX).status_code == 204


def test_a_new_ticket_and_a_status_change_change_the_version(client, shop):
    ticket = make_ticket_for(shop, order_no="T-1", customer_id="c-1")
    _, version = poll_of(client.get("/").content.decode())
    make_ticket_for(shop, order_no="T-2", customer_id="c-2")
    response = client.get("/", {"poll": version}, **HTMX)
    assert response.status_code == 200
    _, version = poll_of(response.content.decode())
    services.ticket_transition(ticket=ticket, action="open", actor=services.Actor.shop(shop))
    assert client.get("/", {"poll": version}, **HTMX).status_code == 200
