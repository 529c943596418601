"""A shop's SLA settings (DOMAIN.md §6 defaults) and the due times they give."""

import copy
import datetime as dt
import json
from functools import lru_cache
from types import SimpleNamespace

from tickets.business_time import WEEKDAYS, BusinessCalendar, add_minutes

THREE_BUSINESS_DAYS = 3 * 9 * 60

DEFAULT_SLA = {
    "business_hours": {d: (["09:00", "18:00"] if d not in ("sat", "sun") else None) for d in WEEKDAYS},
    "holiday_calendar": "cn",
    "extra_holidays": [],
    "extra_workdays": [],
    "contact_window": ["10:00", "18:00"],
    "max_contacts_per_day": 3,
    "targets": {
        "low": {"first_response_minutes": 60, "resolution_minutes": THREE_BUSINESS_DAYS, "business_time": True},
        "normal": {"first_response_minutes": 60, "resolution_minutes": THREE_BUSINESS_DAYS, "business_time": True},
        "high": {"first_response_minutes": 60, "resolution_minutes": THREE_BUSINESS_DAYS, "business_time": True},
        "urgent": {"first_response_minutes": 15, "resolution_minutes": THREE_BUSINESS_DAYS, "business_time": True},
    },
}


def shop_sla(shop) -> dict:
    sla = copy.deepcopy(DEFAULT_SLA)
    for key, value in (shop.sla_settings or {}).items():
        if key == "targets":
            for priority, target in value.items():
                sla["targets"].setdefault(priority, {}).update(target)
        else:
            sla[key] = value
    sla["timezone"] = shop.timezone
    return sla


def shop_calendar(shop) -> BusinessCalendar:
    sla = shop_sla(shop)
    return BusinessCalendar(
        timezone=shop.timezone,
        hours={d: tuple(h) if h else None for d, h in sla["business_hours"].items()},
        holiday_calendar=sla["holiday_calendar"],
        extra_holidays=frozenset(dt.date.fromisoformat(d) for d in sla["extra_holidays"]),
        extra_workdays=frozenset(dt.date.fromisoformat(d) for d in sla["extra_workdays"]),
    )


@lru_cache(maxsize=256)
def _sla_and_calendar(settings_json: str, timezone: str):
    # Keyed by the settings' content, so an edited SLA is a new entry, never a stale one.
    shop = SimpleNamespace(sla_settings=json.loads(settings_json), timezone=timezone)
    return shop_sla(shop), shop_calendar(shop)


def due_times(shop, *, priority: str, start: dt.datetime) -> tuple[dt.datetime, dt.datetime]:
    """(first response due, resolution due) for a ticket of `priority` created at `start`."""
    sla, calendar = _sla_and_calendar(json.dumps(shop.sla_settings or {}, sort_keys=True), shop.timezone)
    target = sla["targets"][priority]
    business = target.get("business_time", True)
    return (
        add_minutes(start, target["first_response_minutes"], calendar, business_time=business),
        add_minutes(start, target["resolution_minutes"], calendar, business_time=business),
    )
