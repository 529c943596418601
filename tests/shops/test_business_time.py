"""Business-time arithmetic and the SLA due times it gives (DOMAIN.md §6).

2026 in chinesecalendar 1.11: National Day 10-01…10-07 off, Sat 10-10 and Sun 09-20 are make-up
working days (调休); Mid-Autumn Fri 09-25 off. 2027 is unknown to the library."""

import datetime as dt
from zoneinfo import ZoneInfo

import chinese_calendar
import pytest
import time_machine

from shops.business_time import BusinessCalendar, add_business_minutes, add_minutes
from shops.sla import DEFAULT_SLA, due_times, shop_calendar, shop_sla
from tests.factories import ShopFactory, ticket_payload

SH = ZoneInfo("Asia/Shanghai")


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


def test_the_2026_calendar_is_what_these_tests_assume():
    assert chinese_calendar.is_holiday(dt.date(2026, 10, 1)) and chinese_calendar.is_holiday(
        dt.date(2026, 10, 7)
    )
    assert chinese_calendar.is_workday(dt.date(2026, 10, 8))
    assert chinese_calendar.is_workday(dt.date(2026, 10, 10))  # Saturday
    assert chinese_calendar.is_workday(dt.date(2026, 9, 20))  # Sunday
    assert chinese_calendar.is_holiday(dt.date(2026, 9, 25))
    with pytest.raises(NotImplementedError):
        chinese_calendar.is_holiday(dt.date(2027, 1, 4))


@pytest.mark.parametrize(
    "start, minutes, expected",
    [
        ("2026-03-10 10:00", 60, "2026-03-10 11:00"),  # Tuesday, inside hours
        ("2026-03-10 17:30", 60, "2026-03-11 09:30"),  # across a night
        ("2026-03-10 18:00", 60, "2026-03-11 10:00"),  # at closing time
        ("2026-03-10 07:00", 60, "2026-03-10 10:00"),  # before opening
        ("2026-03-10 23:59", 1, "2026-03-11 09:01"),
        ("2026-03-13 17:30", 60, "2026-03-16 09:30"),  # Friday evening -> Monday
        ("2026-03-14 11:00", 60, "2026-03-16 10:00"),  # created on a Saturday
        ("2026-03-10 09:00", 540, "2026-03-10 18:00"),  # exactly one working day
        ("2026-03-10 09:00", 541, "2026-03-11 09:01"),
        ("2026-03-10 12:00", 0, "2026-03-10 12:00"),
        ("2026-09-30 16:00", 60, "2026-09-30 17:00"),  # the last day before National Day
        ("2026-09-30 17:30", 60, "2026-10-08 09:30"),  # National Day: 10-01…10-07 are off
        ("2026-10-03 12:00", 15, "2026-10-08 09:15"),  # created during the holiday
        ("2026-10-09 17:30", 60, "2026-10-10 09:30"),  # Saturday 10-10 is a make-up working day
        ("2026-10-10 17:30", 60, "2026-10-12 09:30"),  # ... and Sunday 10-11 is not
        ("2026-09-18 17:30", 60, "2026-09-20 09:30"),  # Sunday 09-20 is a make-up working day
        ("2026-09-24 17:30", 60, "2026-09-28 09:30"),  # Mid-Autumn Friday 09-25, then a weekend
        ("2026-09-30 10:00", 1620, "2026-10-10 10:00"),  # 3 business days across the holiday
        (
            "2025-12-31 17:30",
            60,
            "2026-01-04 09:30",
        ),  # New Year 01-01, 01-02 off; Sunday 01-04 is worked
        ("2026-01-03 12:00", 60, "2026-01-04 10:00"),
    ],
)
def test_add_business_minutes_cn(start, minutes, expected):
    result = add_business_minutes(at(start), minutes, BusinessCalendar())
    assert result == at(expected), result.astimezone(SH)
    assert result.tzinfo is not None


@pytest.mark.parametrize(
    "start, minutes, expected",
    [
        (
            "2026-12-31 17:30",
            60,
            "2027-01-01 09:30",
        ),  # 2027 unknown: plain Mon–Fri, so Friday 01-01 counts
        ("2027-01-08 17:30", 60, "2027-01-11 09:30"),  # Friday -> Monday
        ("2027-10-01 10:00", 60, "2027-10-01 11:00"),  # no National Day without data
        ("2031-06-06 17:00", 120, "2031-06-09 10:00"),
    ],
)
def test_unknown_year_falls_back_to_weekdays(start, minutes, expected):
    assert add_business_minutes(at(start), minutes, BusinessCalendar()) == at(expected)


def test_unknown_year_with_shop_holidays_and_make_up_days(db):
    shop = ShopFactory(
        code="hols",
        sla_settings={"extra_holidays": ["2027-01-01"], "extra_workdays": ["2027-01-09"]},
    )
    calendar = shop_calendar(shop)
    assert add_business_minutes(at("2026-12-31 17:30"), 60, calendar) == at("2027-01-04 09:30")
    assert add_business_minutes(at("2027-01-08 17:30"), 60, calendar) == at(
        "2027-01-09 09:30"
    )  # Saturday, added


def test_without_holiday_calendar_national_day_is_worked():
    calendar = BusinessCalendar(holiday_calendar=None)
    assert add_business_minutes(at("2026-09-30 17:30"), 60, calendar) == at("2026-10-01 09:30")
    assert add_business_minutes(at("2026-10-09 17:30"), 60, calendar) == at(
        "2026-10-12 09:30"
    )  # no make-up Saturday


def test_custom_hours_and_timezone():
    hours = {d: ("10:00", "16:00") for d in ("mon", "tue", "wed", "thu", "fri", "sat")} | {
        "sun": None
    }
    calendar = BusinessCalendar(timezone="Asia/Tokyo", hours=hours, holiday_calendar=None)
    tokyo = ZoneInfo("Asia/Tokyo")
    start = dt.datetime(2026, 3, 14, 15, 30, tzinfo=tokyo)  # Saturday, open
    assert add_business_minutes(start, 60, calendar) == dt.datetime(
        2026, 3, 16, 10, 30, tzinfo=tokyo
    )


def test_wall_clock_minutes_when_not_business_time():
    calendar = BusinessCalendar()
    assert add_minutes(at("2026-09-30 17:30"), 60, calendar, business_time=False) == at(
        "2026-09-30 18:30"
    )
    assert add_minutes(at("2026-09-30 17:30"), 60, calendar, business_time=True) == at(
        "2026-10-08 09:30"
    )


def test_a_shop_that_never_opens_raises_instead_of_looping():
    closed = BusinessCalendar(
        hours={d: None for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")},
        holiday_calendar=None,
    )
    with pytest.raises(ValueError):
        add_business_minutes(at("2026-03-10 10:00"), 60, closed)


# --- due times of shops and tickets -------------------------------------------------


def test_default_targets():
    targets = DEFAULT_SLA["targets"]
    assert targets["urgent"]["first_response_minutes"] == 15
    assert all(targets[p]["first_response_minutes"] == 60 for p in ("low", "normal", "high"))
    assert all(t["resolution_minutes"] == 3 * 9 * 60 for t in targets.values())


def test_due_times_by_priority(db):
    shop = ShopFactory(code="sla")
    start = at("2026-03-10 10:00")
    assert due_times(shop, priority="urgent", start=start) == (
        at("2026-03-10 10:15"),
        at("2026-03-13 10:00"),
    )
    assert due_times(shop, priority="normal", start=start) == (
        at("2026-03-10 11:00"),
        at("2026-03-13 10:00"),
    )


def test_shop_overrides_merge_into_defaults(db):
    shop = ShopFactory(
        code="fast",
        sla_settings={"targets": {"urgent": {"first_response_minutes": 5, "business_time": False}}},
    )
    sla = shop_sla(shop)
    assert sla["targets"]["urgent"] == {
        "first_response_minutes": 5,
        "resolution_minutes": 1620,
        "business_time": False,
    }
    assert sla["targets"]["normal"] == DEFAULT_SLA["targets"]["normal"]
    assert DEFAULT_SLA["targets"]["urgent"]["first_response_minutes"] == 15  # defaults untouched
    saturday_night = at("2026-03-14 23:00")
    first, resolution = due_times(shop, priority="urgent", start=saturday_night)
    assert first == at("2026-03-14 23:05") and resolution == saturday_night + dt.timedelta(
        minutes=1620
    )


@pytest.mark.parametrize(
    "created, dispute_type, first_due, resolution_due",
    [
        (
            "2026-03-10 10:00",
            "spoiled_food",
            "2026-03-10 10:15",
            "2026-03-13 10:00",
        ),  # urgent: 15 minutes
        ("2026-03-10 10:00", "damaged_on_arrival", "2026-03-10 11:00", "2026-03-13 10:00"),
        ("2026-09-30 17:30", "damaged_on_arrival", "2026-10-08 09:30", "2026-10-10 17:30"),
        ("2026-10-09 17:50", "spoiled_food", "2026-10-10 09:05", "2026-10-13 17:50"),
    ],
)
def test_ticket_created_through_the_api_gets_business_due_times(
    shop_client, created, dispute_type, first_due, resolution_due
):
    with time_machine.travel(at(created), tick=False):
        response = shop_client.post(
            "/api/v1/tickets/", ticket_payload(dispute_type=dispute_type), format="json"
        )
    assert response.status_code == 201, response.json()
    sla = response.json()["sla"]
    assert dt.datetime.fromisoformat(sla["first_response_due_at"]) == at(first_due)
    assert dt.datetime.fromisoformat(sla["resolution_due_at"]) == at(resolution_due)
    assert sla["first_response_due_at"].endswith("+08:00")


def test_ticket_created_in_2027_does_not_fail(shop_client):
    with time_machine.travel(at("2027-02-10 17:30"), tick=False):
        response = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json")
    assert response.status_code == 201
    assert dt.datetime.fromisoformat(response.json()["sla"]["first_response_due_at"]) == at(
        "2027-02-11 09:30"
    )


def test_breached_once_the_first_response_is_late(shop_client, agent_client):
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        number = shop_client.post("/api/v1/tickets/", ticket_payload(), format="json").json()[
            "number"
        ]
    with time_machine.travel(at("2026-03-10 10:59"), tick=False):
        assert agent_client.get(f"/api/v1/tickets/{number}/").json()["sla"]["breached"] is False
    with time_machine.travel(at("2026-03-10 11:01"), tick=False):
        assert agent_client.get(f"/api/v1/tickets/{number}/").json()["sla"]["breached"] is True
