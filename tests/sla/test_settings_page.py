"""The SLA settings page speaks the admin's language: days and priorities in words, errors
naming the field as the page labels it, and what the admin typed kept when it is refused."""

import datetime as dt
import html

import pytest
import time_machine

from sla.templatetags.sla_workspace import holiday_year_missing
from tests.factories import staff_member

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri")


@pytest.fixture
def admin_browser(shop, client):
    client.force_login(staff_member(shop, "admin", username="boss"))
    return client


def _form(**changes):
    form = {f"{d}_open": "09:00" for d in WEEKDAYS} | {f"{d}_close": "18:00" for d in WEEKDAYS}
    form |= {
        "timezone": "Asia/Shanghai",
        "holiday_calendar": "cn",
        "contact_open": "10:00",
        "contact_close": "18:00",
        "max_contacts_per_day": "3",
    }
    for p in ("low", "normal", "high", "urgent"):
        form |= {f"{p}_first": "60", f"{p}_resolution": "1620", f"{p}_business": "on"}
    return form | changes


@pytest.mark.parametrize(
    "language, words, codes",
    [
        ("zh-hans", ["星期一", "星期日", "紧急", "普通"], [">mon<", ">urgent<", ">normal<"]),
        ("en", ["Monday", "Sunday", "Urgent", "Normal"], [">mon<", ">urgent<", ">normal<"]),
    ],
)
def test_days_and_priorities_are_words(admin_browser, language, words, codes):
    admin_browser.cookies.load({"django_language": language})
    page = admin_browser.get("/settings/demo/sla/").content.decode()
    assert all(word in page for word in words)
    assert not any(code in page for code in codes)


def test_a_refused_form_names_the_field_and_keeps_what_was_typed(admin_browser, shop):
    admin_browser.cookies.load({"django_language": "zh-hans"})
    response = admin_browser.post(
        "/settings/demo/sla/", _form(normal_first="soon", tue_open="25:00", contact_open="19:00")
    )
    assert response.status_code == 400
    page = html.unescape(response.content.decode())
    assert "时限目标 · 普通" in page and "工作时间 · 星期二" in page and "可联系时段" in page
    assert "分钟数必须是 1 到 525600" in page and "开始时间必须早于结束时间" in page
    assert 'value="soon"' in page and 'value="25:00"' in page and 'value="19:00"' in page
    assert "targets.normal" not in page.replace('data-field="targets.normal"', "")
    shop.refresh_from_db()
    assert not shop.sla_settings  # nothing saved


def test_the_missing_holiday_year_is_the_one_the_clocks_need():
    # chinesecalendar 1.11 knows 2004-2026.
    assert holiday_year_missing(dt.date(2026, 6, 1)) is None
    assert holiday_year_missing(dt.date(2026, 11, 2)) == 2027
    assert holiday_year_missing(dt.date(2027, 3, 1)) == 2027


@pytest.mark.parametrize("role, shown", [("admin", True), ("agent", False)])
def test_admins_see_the_holiday_warning_in_the_workspace(shop, client, role, shown):
    client.force_login(staff_member(shop, role, username=role))
    with time_machine.travel(dt.datetime(2026, 12, 3, 10, tzinfo=dt.UTC)):
        page = client.get("/").content.decode()
    assert ('data-testid="calendar-warning"' in page) is shown
    if shown:
        assert "2027" in page and "/settings/demo/sla/" in page
