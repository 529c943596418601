"""403, 404, 500 and an expired form are the workspace's own pages, with its nav, in the
reader's language; the API keeps its JSON error body."""

import pytest
from django.test import Client

from tests.factories import staff_member


@pytest.fixture
def agent_browser(shop, client):
    client.force_login(staff_member(shop, "agent", username="agent"))
    return client


def _get(client, url, language):
    client.cookies.load({"django_language": language})
    return client.get(url)


@pytest.mark.parametrize("language, title", [("zh-hans", "未找到"), ("en", "Not found")])
def test_404_is_the_workspace_page(agent_browser, language, title):
    response = _get(agent_browser, "/tickets/NOPE/", language)
    page = response.content.decode()
    assert response.status_code == 404
    assert 'data-testid="error-page"' in page and title in page and 'class="topnav"' in page


@pytest.mark.parametrize("language, title", [("zh-hans", "无权操作"), ("en", "Not allowed")])
def test_403_is_the_workspace_page(shop, client, language, title):
    # The approvals inbox is for supervisors and admins.
    client.force_login(staff_member(shop, "agent", username="agent"))
    response = _get(client, "/approvals/", language)
    assert response.status_code == 403
    page = response.content.decode()
    assert title in page and 'class="topnav"' in page


@pytest.mark.parametrize("language, title", [("zh-hans", "出错了"), ("en", "Something went wrong")])
def test_500_is_the_workspace_page_and_json_for_the_api(agent_browser, settings, language, title):
    settings.ROOT_URLCONF = "tests.urls_boom"
    agent_browser.raise_request_exception = False
    response = _get(agent_browser, "/boom/", language)
    assert response.status_code == 500
    page = response.content.decode()
    assert title in page and 'class="topnav"' in page
    api = _get(agent_browser, "/api/v1/boom/", language)
    assert api.status_code == 500 and api.json()["error"]["code"] == "server_error"


@pytest.mark.parametrize(
    "language, words", [("zh-hans", "表单已过期"), ("en", "The form had expired")]
)
def test_an_expired_form_is_explained(shop, language, words):
    client = Client(enforce_csrf_checks=True)
    client.force_login(staff_member(shop, "agent", username="agent"))
    client.cookies.load({"django_language": language})
    response = client.post("/notifications/read/", {})
    assert response.status_code == 403
    assert words in response.content.decode()
