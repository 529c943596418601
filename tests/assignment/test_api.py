"""GET / PUT /api/v1/shops/{code}/assignment/ and PUT /api/v1/me/availability/."""

import pytest

from assignment.models import AssignmentSettings, Availability
from tests.assignment.conftest import new_ticket
from tests.factories import staff_member

pytestmark = pytest.mark.django_db

URL = "/api/v1/shops/demo/assignment/"


@pytest.fixture
def admin_client(shop, token_client):
    return token_client(staff_member(shop, "admin", username="boss"))


def test_a_shop_that_never_chose_assigns_by_hand(admin_client):
    response = admin_client.get(URL)
    assert response.status_code == 200
    assert response.json() == {"mode": "manual", "max_open_per_agent": 40, "skills": {}}


def test_put_stores_and_replaces(admin_client, shop, agent):
    body = {"mode": "round_robin", "max_open_per_agent": 3, "skills": {"agent": ["wrong_item"]}}
    response = admin_client.put(URL, body, format="json")
    assert response.status_code == 200 and response.json() == body
    assert admin_client.get(URL).json() == body
    again = admin_client.put(URL, {"mode": "least_loaded"}, format="json")
    assert again.json() == {"mode": "least_loaded", "max_open_per_agent": 40, "skills": {}}
    assert AssignmentSettings.objects.get(shop=shop).mode == "least_loaded"


def test_only_the_shops_admins(shop, other_shop, agent_client, shop_client, token_client):
    body = {"mode": "round_robin"}
    assert agent_client.get(URL).status_code == 403
    assert agent_client.put(URL, body, format="json").status_code == 403
    assert shop_client.get(URL).status_code == 403  # a shop key: staff only, as the SLA settings
    other_admin = token_client(staff_member(other_shop, "admin", username="other-boss"))
    assert other_admin.get(URL).status_code == 404
    assert other_admin.put(URL, body, format="json").status_code == 404
    assert not AssignmentSettings.objects.exists()


@pytest.mark.parametrize(
    "body, field",
    [
        ({"mode": "lottery"}, "mode"),
        ({"mode": "round_robin", "max_open_per_agent": 0}, "max_open_per_agent"),
        ({"mode": "round_robin", "max_open_per_agent": "3"}, "max_open_per_agent"),
        ({"mode": "round_robin", "skills": {"nobody": []}}, "skills"),
        ({"mode": "round_robin", "skills": {"agent": ["no_such_type"]}}, "skills"),
        ({"mode": "round_robin", "skills": {"agent": "wrong_item"}}, "skills"),
        ({"mode": "round_robin", "colour": "red"}, "colour"),
    ],
)
def test_invalid_settings_are_a_400_with_fields_and_change_nothing(
    admin_client, agent, body, field
):
    response = admin_client.put(URL, body, format="json")
    assert response.status_code == 400, response.json()
    assert set(response.json()["error"]["fields"]) == {field}
    assert not AssignmentSettings.objects.exists()


def test_another_shops_member_is_not_a_skill_holder(admin_client, other_shop):
    staff_member(other_shop, "agent", username="outsider")
    response = admin_client.put(
        URL, {"mode": "round_robin", "skills": {"outsider": []}}, format="json"
    )
    assert response.status_code == 400
    assert "outsider" in response.json()["error"]["fields"]["skills"][0]


def test_an_empty_put_is_refused(admin_client):
    response = admin_client.put(URL, {}, format="json")
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == {"non_field_errors"}
    assert admin_client.put(URL, [1], format="json").status_code == 400


def test_availability_is_the_callers_and_hands_out_waiting_tickets(shop, agent, agent_client):
    AssignmentSettings.objects.create(shop=shop, mode="round_robin")
    waiting = new_ticket(shop)
    assert waiting.assignee is None
    url = "/api/v1/me/availability/"
    response = agent_client.put(url, {"available": True}, format="json")
    assert response.status_code == 200 and response.json() == {"available": True}
    waiting.refresh_from_db()
    assert waiting.assignee == agent
    assert agent_client.put(url, {"available": False}, format="json").json() == {"available": False}
    assert Availability.objects.get(user=agent).available is False


def test_availability_refuses_bad_bodies_and_shop_keys(agent_client, shop_client):
    url = "/api/v1/me/availability/"
    for body in ({}, {"available": "yes"}, {"available": 1}, {"available": True, "x": 1}):
        assert agent_client.put(url, body, format="json").status_code == 400, body
    assert shop_client.put(url, {"available": True}, format="json").status_code == 403


def test_assignment_through_the_create_api_shows_the_assignee(shop, agent, shop_client):
    from tests.factories import ticket_payload

    AssignmentSettings.objects.create(shop=shop, mode="least_loaded")
    Availability.objects.create(user=agent, available=True)
    response = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json")
    assert response.status_code == 201
    assert response.json()["assignee"] == "agent"
