"""The workspace's warning that the statutory holiday calendar has no data for a year the SLA
clocks are about to run in (DOMAIN.md §6: the State Council announces each year's holidays in
the November before; past the library's data due times fall back to Mon-Fri)."""

import datetime as dt

from django import template
from django.utils import timezone

from shops.business_time import BusinessCalendar
from shops.permissions import is_shop_admin
from shops.selectors import memberships_for_request

register = template.Library()

# From November the next year's calendar is published and tickets start to fall due in it.
NEXT_YEAR_FROM_MONTH = 11


def holiday_year_missing(today: dt.date) -> int | None:
    """The year whose Chinese holiday data the SLA clocks need and the library lacks, if any."""
    calendar = BusinessCalendar()
    years = [today.year] + ([today.year + 1] if today.month >= NEXT_YEAR_FROM_MONTH else [])
    return next((year for year in years if not calendar.calendar_known(dt.date(year, 1, 1))), None)


@register.inclusion_tag("sla/_calendar_warning.html", takes_context=True)
def holiday_calendar_warning(context):
    """Shown to the admins of a shop (they can add the year's holidays on the SLA page)."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    admin_of = [
        code for _shop_id, code, role in memberships_for_request(request) if is_shop_admin(role)
    ]
    if not admin_of and not user.is_superuser:
        return {}
    year = holiday_year_missing(timezone.localdate())
    return {"year": year, "shop_code": admin_of[0] if admin_of else None} if year else {}
