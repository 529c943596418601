"""Reasons and notes of judgments and compensations are bounded (2,000 characters): a longer one
is refused naming the field, in the API and the workspace, and nothing is recorded — never cut
short without a word."""

from disputes.models import Judgment
from tests.disputes.test_views import bottle, login, page_text  # noqa: F401 - fixtures

LONG = "很" * 2001


def test_the_api_refuses_a_long_judgment_note(agent_client, ticket):
    response = agent_client.post(
        f"/api/v1/tickets/{ticket.number}/judgment/",
        {"party": "merchant", "note": LONG},
        format="json",
        HTTP_ACCEPT_LANGUAGE="en",
    )
    assert response.status_code == 400
    assert "note" in response.json()["error"]["fields"]
    assert not Judgment.objects.exists()


def test_the_workspace_says_so_and_records_nothing(agent, bottle):  # noqa: F811
    web = login(agent)
    web.cookies.load({"django_language": "en"})
    response = web.post(
        f"/tickets/{bottle.number}/judgment/", {"party": "merchant", "note": LONG}, follow=True
    )
    assert "At most 2000 characters (this has 2001)" in page_text(response)
    assert not Judgment.objects.exists()
