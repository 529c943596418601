"""aftersales.api.PlainRepresentationMixin: an answer reads its plain attributes itself and the
rest as DRF does; every answer of a ticket is byte for byte what DRF's own to_representation
gives (a judgment, compensations, tags, an assignee, a merged duplicate, photos, risk flags,
a new ticket's create answer, the list)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers
from rest_framework.renderers import JSONRenderer

from aftersales.api import PlainRepresentationMixin
from tests.factories import make_ticket, make_ticket_for, png_bytes
from tickets import services
from tickets.serializers import TicketOut

pytestmark = pytest.mark.django_db


def _drf_own(monkeypatch):
    monkeypatch.setattr(
        PlainRepresentationMixin,
        "to_representation",
        lambda self, instance: serializers.Serializer.to_representation(self, instance),
    )


def test_every_answer_is_what_drf_gives(shop, agent, agent_client, shop_client, monkeypatch):
    actor = services.Actor.staff(agent)
    rich = make_ticket_for(shop, order_no="R-1", customer_id="c-r")
    services.attachment_add(
        ticket=rich,
        uploaded_file=SimpleUploadedFile("broken.png", png_bytes()),
        kind="photo",
        actor=services.Actor.shop(shop),
    )
    services.ticket_tags_set(ticket=rich, names=["易碎", "加急"], actor=actor)
    services.ticket_assign(ticket=rich, assignee=agent, actor=actor)
    for party, note in (("merchant", "packing"), ("courier", "box crushed")):
        agent_client.post(
            f"/api/v1/tickets/{rich.number}/judgment/",
            {"party": party, "note": note},
            format="json",
        )
    agent_client.post(
        f"/api/v1/tickets/{rich.number}/compensations/",
        {"type": "cash", "amount": "2.00"},
        format="json",
    )
    duplicate = make_ticket_for(shop, order_no="R-2", customer_id="c-r", dispute_type="wrong_item")
    services.ticket_merge(source=duplicate, target=rich, note="重复", actor=actor)
    paths = [
        f"/api/v1/tickets/{rich.number}/",
        f"/api/v1/tickets/{duplicate.number}/",
        "/api/v1/tickets/?page_size=25",
        f"/api/v1/tickets/{rich.number}/attachments/",
    ]
    new = make_ticket(
        shop, customer={"external_id": "c-new", "name": "李四", "phone": "13900000000"}
    )
    new_answer = JSONRenderer().render(TicketOut(new).data)  # as create-ticket answers
    ours = [shop_client.get(path) for path in paths]
    assert all(r.status_code == 200 for r in ours)
    assert ours[0].json()["responsibility"]["party"] == "courier"
    assert ours[0].json()["tags"] and ours[0].json()["assignee"] == agent.username
    assert ours[1].json()["merged_into"] == rich.number
    assert ours[0].json()["compensations"][0]["amount"] == "2.00"

    _drf_own(monkeypatch)
    for path, answer in zip(paths, ours, strict=True):
        again = shop_client.get(path)
        assert again.content == answer.content, path
    assert JSONRenderer().render(TicketOut(new).data) == new_answer
