"""Parse the analytics filters (shop, from, to, dispute_type) shared by the dashboard, the
summary API and the CSV exports. Bad input is an ApplicationError (400) naming the field."""

import datetime as dt
from zoneinfo import ZoneInfo

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.exceptions import ApplicationError
from analytics.selectors import MAX_RANGE_DAYS, Period, supervised_shops
from tickets.models import DisputeType

DEFAULT_DAYS = 30


# Days the figures can be about: nothing before 2000, nothing past next year (9999-12-31 would
# overflow the day arithmetic into a 500).
EARLIEST, LATEST_YEARS_AHEAD = dt.date(2000, 1, 1), 1


def _date(value: str, field: str, errors: dict) -> dt.date | None:
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        errors[field] = _("'%(value)s' is not a date (YYYY-MM-DD).") % {"value": value[:40]}
        return None
    latest = dt.date(timezone.now().year + LATEST_YEARS_AHEAD, 12, 31)
    if not EARLIEST <= day <= latest:
        errors[field] = _("Choose a date between %(first)s and %(last)s.") % {
            "first": EARLIEST,
            "last": latest,
        }
        return None
    return day


def period_from_params(params, *, user) -> Period:
    shops = supervised_shops(user)
    if not shops:
        raise ApplicationError(
            "permission_denied", _("Analytics are for supervisors and admins."), status_code=403
        )
    errors = {}
    code = (params.get("shop") or "").strip()
    if code:
        shop = next((s for s in shops if s.code == code), None)
        if shop is None:
            errors["shop"] = _("Unknown shop '%(code)s'.") % {"code": code[:50]}
    else:
        shop = shops[0]
    tz = ZoneInfo(shop.timezone) if shop else ZoneInfo("Asia/Shanghai")
    today = timezone.now().astimezone(tz).date()
    raw_from, raw_to = (params.get("from") or "").strip(), (params.get("to") or "").strip()
    date_to = _date(raw_to, "to", errors) if raw_to else today
    date_from = _date(raw_from, "from", errors) if raw_from else None
    if date_from is None and "from" not in errors and date_to is not None:
        date_from = date_to - dt.timedelta(days=DEFAULT_DAYS - 1)
    if date_from and date_to:
        if date_from > date_to:
            errors["from"] = _("The start date is after the end date.")
        elif (date_to - date_from).days + 1 > MAX_RANGE_DAYS:
            errors["to"] = _("The range is longer than two years (%(days)s days).") % {
                "days": MAX_RANGE_DAYS
            }
    dispute_type = None
    type_code = (params.get("dispute_type") or "").strip()
    if type_code and shop:
        dispute_type = (
            DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop), code=type_code)
            .order_by("shop_id")
            .first()
        )
        if dispute_type is None:
            errors["dispute_type"] = _("Unknown dispute type '%(code)s'.") % {
                "code": type_code[:50]
            }
    if errors:
        raise ApplicationError("validation_error", _("The filters are invalid."), fields=errors)
    return Period(shop=shop, date_from=date_from, date_to=date_to, dispute_type=dispute_type)
