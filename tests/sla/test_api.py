"""GET / PUT / PATCH /api/v1/shops/{code}/sla/, the workspace settings page, the bell."""

import pytest

from notifications.models import Notification
from notifications.services import notification_send
from tests.factories import staff_member

URL = "/api/v1/shops/demo/sla/"


@pytest.fixture
def admin_client(shop, token_client):
    return token_client(staff_member(shop, "admin", username="boss"))


def test_admin_reads_the_defaults(admin_client):
    body = admin_client.get(URL).json()
    assert body["timezone"] == "Asia/Shanghai"
    assert (
        body["business_hours"]["mon"] == ["09:00", "18:00"]
        and body["business_hours"]["sun"] is None
    )
    assert body["holiday_calendar"] == "cn"
    assert body["contact_window"] == ["10:00", "18:00"] and body["max_contacts_per_day"] == 3
    assert body["targets"]["urgent"] == {
        "first_response_minutes": 15,
        "resolution_minutes": 1620,
        "business_time": True,
    }


def test_put_replaces_and_patch_merges(admin_client, shop):
    body = {
        "timezone": "Asia/Urumqi",
        "business_hours": {"sat": ["10:00", "16:00"]},
        "holiday_calendar": None,
        "contact_window": ["09:30", "20:00"],
        "max_contacts_per_day": 2,
        "targets": {
            "normal": {
                "first_response_minutes": 30,
                "resolution_minutes": 600,
                "business_time": False,
            }
        },
        "warning_ratio": 0.75,
    }
    response = admin_client.put(URL, body, format="json")
    assert response.status_code == 200, response.json()
    data = response.json()
    assert data["timezone"] == "Asia/Urumqi" and data["business_hours"]["sat"] == ["10:00", "16:00"]
    assert data["business_hours"]["mon"] == ["09:00", "18:00"]
    assert data["targets"]["normal"]["business_time"] is False and data["warning_ratio"] == 0.75
    assert admin_client.patch(URL, {"max_contacts_per_day": 1}, format="json").json()[
        "contact_window"
    ] == ["09:30", "20:00"]
    replaced = admin_client.put(URL, {"max_contacts_per_day": 1}, format="json").json()
    assert replaced["contact_window"] == [
        "10:00",
        "18:00",
    ]  # PUT: what is not given is the default again


@pytest.mark.parametrize(
    "body, field",
    [
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"business_hours": {"mon": ["18:00", "09:00"]}}, "business_hours.mon"),
        ({"business_hours": {"funday": ["09:00", "18:00"]}}, "business_hours"),
        (
            {
                "business_hours": {
                    d: None for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
                }
            },
            "business_hours",
        ),
        ({"holiday_calendar": "us"}, "holiday_calendar"),
        ({"contact_window": ["25:00", "18:00"]}, "contact_window"),
        ({"max_contacts_per_day": -1}, "max_contacts_per_day"),
        ({"max_contacts_per_day": "3"}, "max_contacts_per_day"),
        (
            {"targets": {"normal": {"first_response_minutes": 0, "resolution_minutes": 60}}},
            "targets.normal",
        ),
        (
            {"targets": {"normal": {"first_response_minutes": 1.5, "resolution_minutes": 60}}},
            "targets.normal",
        ),
        ({"targets": {"vip": {"first_response_minutes": 5, "resolution_minutes": 60}}}, "targets"),
        ({"targets": {"normal": {"first_response_minutes": 5}}}, "targets.normal"),
        ({"extra_holidays": ["2027-02-30"]}, "extra_holidays"),
        ({"warning_ratio": 1.5}, "warning_ratio"),
        (
            {"dispute_type_targets": {"spoiled_food": {"first_response_minutes": True}}},
            "dispute_type_targets.spoiled_food",
        ),
        ({"colour": "blue"}, "colour"),
    ],
)
def test_invalid_settings_are_a_400_and_change_nothing(admin_client, shop, body, field):
    response = admin_client.put(URL, body, format="json")
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    shop.refresh_from_db()
    assert shop.sla_settings == {} and shop.timezone == "Asia/Shanghai"


def test_not_a_json_object_is_a_400(admin_client):
    assert admin_client.put(URL, [1, 2], format="json").status_code == 400
    assert admin_client.put(URL, "{oops", content_type="application/json").status_code == 400


def test_only_the_shops_admins(shop, other_shop, agent_client, shop_client, token_client):
    assert agent_client.get(URL).status_code == 403
    assert shop_client.get(URL).status_code == 403
    other_admin = token_client(staff_member(other_shop, "admin", username="other-boss"))
    assert other_admin.get(URL).status_code == 404
    assert other_admin.put(URL, {"max_contacts_per_day": 1}, format="json").status_code == 404


def test_workspace_settings_page_saves_and_shows_errors(shop, client):
    admin = staff_member(shop, "admin", username="boss")
    client.force_login(admin)
    page = client.get("/settings/demo/sla/")
    assert page.status_code == 200 and 'name="mon_open"' in page.content.decode()
    form = {f"{d}_open": "09:00" for d in ("mon", "tue", "wed", "thu", "fri")} | {
        f"{d}_close": "18:00" for d in ("mon", "tue", "wed", "thu", "fri")
    }
    form |= {
        "timezone": "Asia/Shanghai",
        "holiday_calendar": "cn",
        "contact_open": "10:00",
        "contact_close": "17:00",
        "max_contacts_per_day": "2",
    }
    for p in ("low", "normal", "high", "urgent"):
        form |= {f"{p}_first": "45", f"{p}_resolution": "1620", f"{p}_business": "on"}
    assert client.post("/settings/demo/sla/", form).status_code == 302
    shop.refresh_from_db()
    assert (
        shop.sla_settings["contact_window"] == ["10:00", "17:00"]
        and shop.sla_settings["targets"]["normal"]["first_response_minutes"] == 45
    )
    bad = client.post("/settings/demo/sla/", form | {"normal_first": "soon"})
    assert bad.status_code == 400 and "targets.normal" in bad.content.decode()
    client.force_login(staff_member(shop, "agent", username="agent"))
    assert client.get("/settings/demo/sla/").status_code == 404


def test_bell_counts_unread_and_the_list_marks_read(shop, client):
    agent = staff_member(shop, "agent", username="agent")
    notification_send(
        recipients=[agent],
        shop=shop,
        kind="sla_warning",
        title="SLA warning AS1",
        url="/tickets/AS1/",
    )
    notification_send(recipients=[agent], shop=shop, kind="sla_breached", title="SLA breached AS2")
    client.force_login(agent)
    queue = client.get("/").content.decode()
    assert 'data-testid="bell-count">2<' in queue
    assert "SLA breached AS2" in client.get("/notifications/").content.decode()
    one = Notification.objects.get(title="SLA warning AS1")
    response = client.post("/notifications/read/", {"id": one.pk, "next": "/tickets/AS1/"})
    assert response.status_code == 302 and response["Location"] == "/tickets/AS1/"
    assert (
        client.post("/notifications/read/", {"next": "https://evil.example/"})["Location"]
        == "/notifications/"
    )
    assert Notification.objects.filter(read_at__isnull=True).count() == 0


def test_ticket_page_renders_every_sla_event(shop, client):
    import datetime as dt

    import time_machine

    from sla import services as sla
    from tests.factories import make_ticket

    staff_member(shop, "supervisor", username="supervisor")
    past = dt.datetime(2026, 3, 10, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))
    with time_machine.travel(past, tick=False):
        ticket = make_ticket(shop, platform_deadline_at=past + dt.timedelta(hours=30))
    from sla.models import Timer

    # Each timer swept when it is due (a warning is only sent before its deadline), then a late sweep.
    for due in [
        *sorted(Timer.objects.filter(ticket=ticket).values_list("due_at", flat=True)),
        past + dt.timedelta(days=10),
    ]:
        sla.timers_fire(timer_ids=sla.timers_claim_due(now=due, limit=10), now=due)
    client.force_login(staff_member(shop, "agent", username="agent"))
    html = client.get(f"/tickets/{ticket.number}/").content.decode()
    assert (
        html.count('data-kind="sla"') == 5 and "首次响应超时" in html and "平台处理时限临近" in html
    )
    assert 'data-testid="sla-breached-at"' in html
