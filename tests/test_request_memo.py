"""The shop's policy is read at most once per request (shops.config, with each shop's version kept
per request by aftersales.request_memo): the ticket page and a create read it once, a policy
change within the request is seen by the reads after it, and outside a request every read checks
that it is still current."""

import pytest
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext

from aftersales.request_memo import request_memo
from disputes.models import ShopPolicy
from disputes.services import policy_current, policy_update
from tests.factories import make_ticket, staff_member, ticket_payload
from tickets.services import Actor

pytestmark = pytest.mark.django_db


def policy_reads(queries) -> int:
    return sum('FROM "disputes_shoppolicy"' in q["sql"] for q in queries)


def test_the_ticket_page_reads_the_policy_once(shop):
    ticket = make_ticket(shop)
    policy_current(shop=shop)  # made on first use: the page only reads it
    client = Client()
    client.force_login(staff_member(shop, "agent"))
    with CaptureQueriesContext(connection) as queries:
        assert client.get(f"/tickets/{ticket.number}/").status_code == 200
    assert policy_reads(queries) == 1


@pytest.mark.django_db(transaction=True)  # the batch check runs after the real commit
def test_a_create_reads_the_policy_once(shop, shop_client, dispute_types_seeded):
    policy_current(shop=shop)
    with CaptureQueriesContext(connection) as queries:
        response = shop_client.post(
            "/api/v1/tickets/", ticket_payload(dispute_type="quality_defect"), format="json"
        )
    assert response.status_code == 201, response.content
    assert policy_reads(queries) == 1


def test_a_change_within_the_request_is_seen_by_the_reads_after_it(shop):
    seen = []

    def view(request):
        seen.append(policy_current(shop=shop).version)
        policy_update(shop=shop, changes={"agent_authority": "55.00"}, actor=Actor.system())
        seen.append(policy_current(shop=shop).version)
        seen.append(policy_current(shop=shop).version)
        return None

    policy_current(shop=shop)
    with CaptureQueriesContext(connection) as queries:
        request_memo(view)(RequestFactory().get("/"))
    assert seen == [1, 2, 2]
    # the first read, the read under policy_update's lock, the read after it; the last is kept
    assert policy_reads(queries) == 3


def test_outside_a_request_every_read_is_fresh(shop):
    """Outside a request (tasks, services called directly) each read checks the shop's
    configuration version: a change made elsewhere (here a bulk update, which no signal sees) is
    read at once, and an unchanged policy is not read again."""
    policy_current(shop=shop)  # made on first use: a change of the configuration
    first = policy_current(shop=shop)  # read again, and kept
    with CaptureQueriesContext(connection) as queries:
        policy_current(shop=shop)
        policy_current(shop=shop)
    assert policy_reads(queries) == 0
    ShopPolicy.objects.filter(pk=first.pk).update(values={**first.values, "agent_authority": "7"})
    assert policy_current(shop=shop).values["agent_authority"] == "7"
