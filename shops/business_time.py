"""Business-time arithmetic: adding working minutes across nights, weekends and
Chinese statutory holidays with their make-up working days (调休)."""

import datetime as dt
from dataclasses import dataclass, field
from functools import lru_cache
from zoneinfo import ZoneInfo

import chinese_calendar

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MAX_DAYS_SEARCHED = 3 * 366


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Shanghai"
    # weekday -> ("09:00", "18:00") or None when closed
    hours: dict = field(
        default_factory=lambda: {
            d: ("09:00", "18:00") if d not in ("sat", "sun") else None for d in WEEKDAYS
        }
    )
    holiday_calendar: str | None = "cn"
    extra_holidays: frozenset = frozenset()
    extra_workdays: frozenset = frozenset()

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def calendar_known(self, day: dt.date) -> bool:
        """False when the holiday library has no data for the day's year (fall back to weekdays)."""
        return self.holiday_calendar != "cn" or _cn_holiday_detail(day) is not None

    def opening_hours(self, day: dt.date) -> tuple[dt.time, dt.time] | None:
        """The day's (open, close) in shop time, or None when the shop is closed."""
        if day in self.extra_holidays:
            return None
        weekday_hours = self.hours.get(WEEKDAYS[day.weekday()])
        if day in self.extra_workdays:
            return _parse(weekday_hours or self._first_working_hours())
        if self.holiday_calendar == "cn" and self.calendar_known(day):
            on_holiday, holiday_name = _cn_holiday_detail(day)
            if on_holiday and holiday_name:
                return None  # statutory holiday
            if not on_holiday and day.weekday() >= 5:
                return _parse(weekday_hours or self._first_working_hours())  # 调休 make-up day
        return _parse(weekday_hours) if weekday_hours else None

    def _first_working_hours(self):
        return next((h for h in (self.hours.get(d) for d in WEEKDAYS) if h), ("09:00", "18:00"))


@lru_cache(maxsize=4096)
def _cn_holiday_detail(day: dt.date) -> tuple[bool, str | None] | None:
    """chinese_calendar's (on holiday, name) for the day, None past its data. Cached: the
    library's data is fixed, and each of its calls scans its whole table for the years it knows."""
    try:
        return chinese_calendar.get_holiday_detail(day)
    except NotImplementedError:
        return None


def _parse(hours) -> tuple[dt.time, dt.time]:
    start, end = hours
    return dt.time.fromisoformat(start), dt.time.fromisoformat(end)


def add_business_minutes(
    start: dt.datetime, minutes: int, calendar: BusinessCalendar
) -> dt.datetime:
    """The moment `minutes` of business time after `start` (aware datetime)."""
    tz = calendar.tz
    local = start.astimezone(tz)
    remaining = dt.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(MAX_DAYS_SEARCHED):
        hours = calendar.opening_hours(day)
        if hours:
            opens = dt.datetime.combine(day, hours[0], tzinfo=tz)
            closes = dt.datetime.combine(day, hours[1], tzinfo=tz)
            cursor = max(local, opens)
            if cursor < closes:
                available = closes - cursor
                if remaining <= available:
                    return (cursor + remaining).astimezone(dt.UTC)
                remaining -= available
        day += dt.timedelta(days=1)
        local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
    raise ValueError("No business hours found in the next three years; check the shop's calendar.")


def add_minutes(
    start: dt.datetime, minutes: int, calendar: BusinessCalendar, *, business_time: bool
) -> dt.datetime:
    if business_time:
        return add_business_minutes(start, minutes, calendar)
    return start + dt.timedelta(minutes=minutes)


def business_minutes_between(
    start: dt.datetime, end: dt.datetime, calendar: BusinessCalendar
) -> float:
    """Business minutes from `start` to `end` (0 when end is not after start)."""
    if end <= start:
        return 0.0
    tz = calendar.tz
    local, end_local = start.astimezone(tz), end.astimezone(tz)
    total = dt.timedelta()
    day = local.date()
    while day <= end_local.date():
        hours = calendar.opening_hours(day)
        if hours:
            opens = max(dt.datetime.combine(day, hours[0], tzinfo=tz), local)
            closes = min(dt.datetime.combine(day, hours[1], tzinfo=tz), end_local)
            if closes > opens:
                total += closes - opens
        day += dt.timedelta(days=1)
    return total.total_seconds() / 60


def minutes_between(
    start: dt.datetime, end: dt.datetime, calendar: BusinessCalendar, *, business_time: bool
) -> float:
    if business_time:
        return business_minutes_between(start, end, calendar)
    return max((end - start).total_seconds() / 60, 0.0)


def subtract_business_minutes(
    end: dt.datetime, minutes: float, calendar: BusinessCalendar
) -> dt.datetime:
    """The moment `minutes` of business time before `end` (the inverse of add_business_minutes)."""
    tz = calendar.tz
    local = end.astimezone(tz)
    remaining = dt.timedelta(minutes=minutes)
    day = local.date()
    for _ in range(MAX_DAYS_SEARCHED):
        hours = calendar.opening_hours(day)
        if hours:
            opens = dt.datetime.combine(day, hours[0], tzinfo=tz)
            closes = dt.datetime.combine(day, hours[1], tzinfo=tz)
            cursor = min(local, closes)
            if cursor > opens:
                available = cursor - opens
                if remaining <= available:
                    return (cursor - remaining).astimezone(dt.UTC)
                remaining -= available
        local = dt.datetime.combine(day, dt.time.min, tzinfo=tz)
        day -= dt.timedelta(days=1)
    raise ValueError("No business hours found in the past three years; check the shop's calendar.")


def subtract_minutes(
    end: dt.datetime, minutes: float, calendar: BusinessCalendar, *, business_time: bool
) -> dt.datetime:
    if business_time:
        return subtract_business_minutes(end, minutes, calendar)
    return end - dt.timedelta(minutes=minutes)
