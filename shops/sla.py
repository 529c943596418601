"""A shop's SLA settings (DOMAIN.md §6 defaults) and the due times they give."""

import copy
import datetime as dt
import json
from functools import lru_cache
from types import SimpleNamespace

from django.utils.translation import gettext as _

from shops.business_time import WEEKDAYS, BusinessCalendar, add_minutes

THREE_BUSINESS_DAYS = 3 * 9 * 60

DEFAULT_SLA = {
    "business_hours": {
        d: (["09:00", "18:00"] if d not in ("sat", "sun") else None) for d in WEEKDAYS
    },
    "holiday_calendar": "cn",
    "extra_holidays": [],
    "extra_workdays": [],
    "contact_window": ["10:00", "18:00"],
    "max_contacts_per_day": 3,
    "targets": {
        "low": {
            "first_response_minutes": 60,
            "resolution_minutes": THREE_BUSINESS_DAYS,
            "business_time": True,
        },
        "normal": {
            "first_response_minutes": 60,
            "resolution_minutes": THREE_BUSINESS_DAYS,
            "business_time": True,
        },
        "high": {
            "first_response_minutes": 60,
            "resolution_minutes": THREE_BUSINESS_DAYS,
            "business_time": True,
        },
        "urgent": {
            "first_response_minutes": 15,
            "resolution_minutes": THREE_BUSINESS_DAYS,
            "business_time": True,
        },
    },
    # Per dispute type, merged over the priority's target, e.g. {"spoiled_food": {"first_response_minutes": 15}}.
    "dispute_type_targets": {},
    # Timers (DOMAIN.md §6): warn the assignee at this share of a target.
    "warning_ratio": 0.8,
    # Escalate this long before the marketplace's own deadline (platform_deadline_at).
    "platform_deadline_lead_minutes": 360,
    "shipping_warning_minutes": 240,
    "reship_tracking_hours": 24,
    "progress_update_hours": 24,
    "auto_close_days": 7,
    "follow_up_delay_minutes": 60,
}


def shop_sla(shop) -> dict:
    sla = copy.deepcopy(DEFAULT_SLA)
    for key, value in (shop.sla_settings or {}).items():
        if key == "targets":
            for priority, target in value.items():
                sla["targets"].setdefault(priority, {}).update(target)
        elif key in DEFAULT_SLA:  # a retired setting (ship_within_hours: the policy's) is ignored
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


def cached_sla(shop) -> tuple[dict, BusinessCalendar]:
    """(shop_sla(shop), shop_calendar(shop)), cached by the settings' content. Do not mutate."""
    return _sla_and_calendar(json.dumps(shop.sla_settings or {}, sort_keys=True), shop.timezone)


def target_for(sla: dict, *, priority: str, dispute_type: str | None = None) -> dict:
    target = dict(sla["targets"][priority])
    target.update((sla.get("dispute_type_targets") or {}).get(dispute_type or "", {}))
    return target


def due_times(
    shop, *, priority: str, start: dt.datetime, dispute_type: str | None = None
) -> tuple[dt.datetime, dt.datetime]:
    """(first response due, resolution due) for a ticket of `priority` created at `start`."""
    sla, calendar = cached_sla(shop)
    target = target_for(sla, priority=priority, dispute_type=dispute_type)
    business = target.get("business_time", True)
    return (
        add_minutes(start, target["first_response_minutes"], calendar, business_time=business),
        add_minutes(start, target["resolution_minutes"], calendar, business_time=business),
    )


# --- editing (API and workspace) -----------------------------------------------

PRIORITIES = ("low", "normal", "high", "urgent")
TARGET_KEYS = {"first_response_minutes", "resolution_minutes", "business_time"}
POSITIVE_INT_KEYS = {
    "max_contacts_per_day": (0, 50),
    "platform_deadline_lead_minutes": (0, 30 * 24 * 60),
    "shipping_warning_minutes": (0, 7 * 24 * 60),
    "reship_tracking_hours": (1, 30 * 24),
    "progress_update_hours": (1, 30 * 24),
    "auto_close_days": (1, 365),
    "follow_up_delay_minutes": (0, 30 * 24 * 60),
}
EDITABLE_KEYS = {
    "timezone",
    "business_hours",
    "holiday_calendar",
    "extra_holidays",
    "extra_workdays",
    "contact_window",
    "targets",
    "dispute_type_targets",
    "warning_ratio",
    *POSITIVE_INT_KEYS,
}


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _hours_error(value) -> str | None:
    """None when value is ["HH:MM", "HH:MM"] with open < close."""
    if not (
        isinstance(value, list | tuple)
        and len(value) == 2
        and all(isinstance(v, str) for v in value)
    ):
        return _("Give an opening and a closing time (HH:MM).")
    try:
        opens, closes = (dt.time.fromisoformat(v) for v in value)
    except ValueError:
        return _("Times must be HH:MM, e.g. 09:00.")
    if opens >= closes:
        return _("The opening time must be before the closing time.")
    return None


def _target_errors(target, *, partial: bool) -> str | None:
    if not isinstance(target, dict):
        return _("Give first_response_minutes, resolution_minutes and business_time.")
    unknown = set(target) - TARGET_KEYS
    if unknown:
        return _("Unknown keys: %(keys)s.") % {"keys": ", ".join(sorted(str(k) for k in unknown))}
    if not partial and not {"first_response_minutes", "resolution_minutes"} <= set(target):
        return _("Both the first-response and the resolution minutes are required.")
    for key in ("first_response_minutes", "resolution_minutes"):
        if key in target and not (_is_int(target[key]) and 1 <= target[key] <= 365 * 24 * 60):
            return _("Minutes must be a whole number between 1 and 525600 (a year).")
    if "business_time" in target and not isinstance(target["business_time"], bool):
        return _("Business time must be true or false.")
    return None


def _date_list_error(value) -> str | None:
    if not isinstance(value, list):
        return _("Give a list of dates (YYYY-MM-DD).")
    try:
        for day in value:
            dt.date.fromisoformat(day)
    except (TypeError, ValueError):
        return _("Dates must be YYYY-MM-DD, e.g. 2027-01-01.")
    return None


def sla_validate(data) -> dict[str, str]:
    """Field errors of an SLA body (empty when valid). Unknown keys are errors."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(data, dict):
        return {"non_field_errors": _("Send a JSON object.")}
    errors = {}
    for key in set(data) - EDITABLE_KEYS - {"shop"}:
        errors[key] = _("Unknown setting.")
    if "timezone" in data:
        try:
            if not isinstance(data["timezone"], str) or not data["timezone"]:
                raise ZoneInfoNotFoundError
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            errors["timezone"] = _("Unknown time zone (use an IANA name such as Asia/Shanghai).")
    if "business_hours" in data:
        hours = data["business_hours"]
        if not isinstance(hours, dict) or set(hours) - set(WEEKDAYS):
            errors["business_hours"] = _("Give an object with keys %(keys)s.") % {
                "keys": ", ".join(WEEKDAYS)
            }
        else:
            for day, value in hours.items():
                if value is not None and (error := _hours_error(value)):
                    errors[f"business_hours.{day}"] = error
            merged = {**DEFAULT_SLA["business_hours"], **hours}
            if not any(merged.values()):
                errors["business_hours"] = _("The shop must be open on at least one weekday.")
    if "holiday_calendar" in data and data["holiday_calendar"] not in ("cn", None):
        errors["holiday_calendar"] = _(
            'Use "cn" (Chinese statutory holidays and make-up days) or null.'
        )
    for key in ("extra_holidays", "extra_workdays"):
        if key in data and (error := _date_list_error(data[key])):
            errors[key] = error
    if "contact_window" in data and (error := _hours_error(data["contact_window"])):
        errors["contact_window"] = error
    if "targets" in data:
        targets = data["targets"]
        if not isinstance(targets, dict) or set(targets) - set(PRIORITIES):
            errors["targets"] = _("Give an object with keys %(keys)s.") % {
                "keys": ", ".join(PRIORITIES)
            }
        else:
            for priority, target in targets.items():
                if error := _target_errors(target, partial=False):
                    errors[f"targets.{priority}"] = error
    if "dispute_type_targets" in data:
        overrides = data["dispute_type_targets"]
        if not isinstance(overrides, dict):
            errors["dispute_type_targets"] = _("Give an object of dispute type code -> target.")
        else:
            for code, target in overrides.items():
                if error := _target_errors(target, partial=True):
                    errors[f"dispute_type_targets.{code}"] = error
    if "warning_ratio" in data:
        ratio = data["warning_ratio"]
        if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 < ratio < 1:
            errors["warning_ratio"] = _("A number between 0 and 1 (exclusive).")
    for key, (low, high) in POSITIVE_INT_KEYS.items():
        if key in data and not (_is_int(data[key]) and low <= data[key] <= high):
            errors[key] = _("A whole number between %(low)s and %(high)s.") % {
                "low": low,
                "high": high,
            }
    return errors


def sla_public(shop) -> dict:
    """The shop's effective SLA settings as the API shows them."""
    sla = shop_sla(shop)
    sla["business_hours"] = {d: list(h) if h else None for d, h in sla["business_hours"].items()}
    return {"shop": shop.code, **sla}
