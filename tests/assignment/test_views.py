"""The nav's availability toggle and the shop's assignment settings page, in both languages."""

import html

import pytest

from assignment.models import AssignmentSettings, Availability
from tests.assignment.conftest import new_ticket
from tests.factories import staff_member

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "language, away, available, go",
    [("zh-hans", "离开", "在线", "上线接单"), ("en", "Away", "Available", "Become available")],
)
def test_the_nav_shows_the_state_and_toggles_it(client, shop, agent, language, away, available, go):
    client.force_login(agent)
    client.cookies.load({"django_language": language})
    page = client.get("/").content.decode()
    assert 'data-testid="availability-toggle"' in page and away in page and go in page
    response = client.post("/me/availability/", {"available": "1", "next": "/?status=all"})
    assert response.status_code == 302 and response["Location"] == "/?status=all"
    assert Availability.objects.get(user=agent).available is True
    page = client.get("/").content.decode()
    assert f"● {available}" in page
    client.post("/me/availability/", {"available": "0", "next": "https://evil.example/"})
    assert Availability.objects.get(user=agent).available is False


def test_becoming_available_from_the_nav_picks_up_waiting_tickets(client, shop, agent):
    AssignmentSettings.objects.create(shop=shop, mode="least_loaded")
    waiting = new_ticket(shop)
    client.force_login(agent)
    client.cookies.load({"django_language": "en"})
    client.post("/me/availability/", {"available": "1"})
    waiting.refresh_from_db()
    assert waiting.assignee == agent
    page = client.get(f"/tickets/{waiting.number}/").content.decode()
    assert 'data-testid="assigned-mode"' in page and "Least loaded" in page


@pytest.fixture
def admin_browser(shop, client):
    client.force_login(staff_member(shop, "admin", username="boss"))
    return client


@pytest.mark.parametrize(
    "language, words",
    [
        ("zh-hans", ["自动分配", "轮流分配", "最少负载", "手动", "收到破损"]),
        ("en", ["Assignment", "Round robin", "Least loaded", "Manual", "Damaged on arrival"]),
    ],
)
def test_the_settings_page_shows_modes_and_types_as_words(admin_browser, agent, language, words):
    admin_browser.cookies.load({"django_language": language})
    page = admin_browser.get("/settings/demo/assignment/").content.decode()
    assert all(word in page for word in words), [w for w in words if w not in page]
    assert ">round_robin<" not in page and ">damaged_on_arrival<" not in page


def test_the_settings_page_saves_and_reports_errors_by_field(admin_browser, shop, agent):
    form = {"mode": "round_robin", "max_open_per_agent": "5", "skills:agent": ["wrong_item"]}
    assert admin_browser.post("/settings/demo/assignment/", form).status_code == 302
    settings = AssignmentSettings.objects.get(shop=shop)
    assert (settings.mode, settings.max_open_per_agent, settings.skills) == (
        "round_robin",
        5,
        {"agent": ["wrong_item"]},
    )
    admin_browser.cookies.load({"django_language": "zh-hans"})
    bad = admin_browser.post(
        "/settings/demo/assignment/", form | {"max_open_per_agent": "lots", "mode": "x"}
    )
    assert bad.status_code == 400
    page = html.unescape(bad.content.decode())
    assert "每人最多未结工单数" in page and "分配方式" in page
    assert 'value="lots"' in page
    settings.refresh_from_db()
    assert settings.max_open_per_agent == 5


def test_only_admins_reach_the_settings_page(client, shop, agent):
    client.force_login(agent)
    assert client.get("/settings/demo/assignment/").status_code == 404
