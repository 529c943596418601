"""Reads of the analytics app. Every figure is one aggregate query over the rollup (DailyStat,
kept by analytics.rollup: per shop-local day, dispute type and dimension), not over the tickets,
so a year costs about as much as a month; Python only folds the aggregated rows.

Dates are the shop's: a period [date_from, date_to] is [date_from 00:00, date_to + 1 day 00:00)
in Shop.timezone, and day/week/hour buckets are taken in that time zone too.
"""

import datetime as dt
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q, Sum

from analytics.models import AnalyticsSettings, BatchAlert, DailyStat, ShipmentStat
from disputes.models import CompensationType
from risk import selectors as risk_selectors
from shops.models import Shop
from shops.permissions import SUPERVISOR_ROLES
from shops.selectors import shop_ids_with_role
from shops.sla import shop_sla
from tickets.models import DisputeType, Ticket

D = DailyStat.Dimension

MAX_RANGE_DAYS = 731  # two years
# Complaints against the courier: the dispute types whose cause is the carriage itself.
COURIER_COMPLAINT_CODES = (
    "damaged_in_transit",
    "damaged_on_arrival",
    "lost_parcel",
    "no_tracking_update",
    "signed_not_received",
)
DAMAGE_CODES = ("damaged_in_transit", "damaged_on_arrival")
LOSS_CODES = ("lost_parcel", "signed_not_received")
TOP = 15
CENT = Decimal("0.01")


def shop_tz(shop: Shop) -> ZoneInfo:
    return ZoneInfo(shop.timezone or "Asia/Shanghai")


@dataclass(frozen=True)
class Period:
    shop: Shop
    date_from: dt.date
    date_to: dt.date
    dispute_type: DisputeType | None = None

    @property
    def tz(self) -> ZoneInfo:
        return shop_tz(self.shop)

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.tz)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)

    def days(self) -> list[dt.date]:
        return [
            self.date_from + dt.timedelta(days=i)
            for i in range((self.date_to - self.date_from).days + 1)
        ]


def supervised_shops(user) -> list[Shop]:
    """Shops where the user may see analytics: supervisor or admin (superusers: all)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Shop.objects.order_by("code"))
    ids = shop_ids_with_role(user=user, roles=SUPERVISOR_ROLES)
    return list(Shop.objects.filter(pk__in=ids).order_by("code")) if ids else []


def settings_for(shop: Shop) -> AnalyticsSettings:
    return AnalyticsSettings.objects.filter(shop=shop).first() or AnalyticsSettings(shop=shop)


def ratio(part, whole, places=CENT) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(places, rounding=ROUND_HALF_UP)


def minutes(value: dt.timedelta | None) -> Decimal | None:
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / 60).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def money(value) -> Decimal:
    return (value or Decimal("0")).quantize(CENT)


# --- reading the rollup ---------------------------------------------------------------------


def _stats(period: Period, dimension: str, *, typed: bool = True):
    """The period's rollup rows of one dimension: of the filtered dispute type, or of all types
    together (type_id 0) when there is no filter or `typed` is False."""
    type_id = period.dispute_type.pk if typed and period.dispute_type is not None else 0
    return DailyStat.objects.filter(
        shop=period.shop,
        dimension=dimension,
        type_id=type_id,
        date__gte=period.date_from,
        date__lte=period.date_to,
    )


def _per_type(period: Period, dimension: str):
    """Rows of each dispute type (for figures that tell the types apart)."""
    qs = DailyStat.objects.filter(
        shop=period.shop, dimension=dimension, date__gte=period.date_from, date__lte=period.date_to
    )
    return (
        qs.filter(type_id=period.dispute_type.pk)
        if period.dispute_type is not None
        else qs.exclude(type_id=0)
    )


def _month_split(
    date_from: dt.date, date_to: dt.date
) -> tuple[list[dt.date], list[tuple[dt.date, dt.date]]]:
    """The whole months inside [date_from, date_to] (their 1st days) and the day ranges left over."""
    month = (
        date_from
        if date_from.day == 1
        else (date_from.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    )
    months = []
    while True:
        following = (month + dt.timedelta(days=32)).replace(day=1)
        if following - dt.timedelta(days=1) > date_to:
            break
        months.append(month)
        month = following
    if not months:
        return [], [(date_from, date_to)]
    edges = [(date_from, months[0] - dt.timedelta(days=1)), (month, date_to)]
    return months, [(a, b) for a, b in edges if a <= b]


def _duration_avg(total: dt.timedelta | None, count: int) -> dt.timedelta | None:
    return total / count if total is not None and count else None


# --- volume and hot spots -------------------------------------------------------------------


def volume_by_day(period: Period) -> list[dict]:
    rows = dict(_stats(period, D.TOTAL).values_list("date", "tickets"))
    return [{"date": day, "tickets": rows.get(day, 0)} for day in period.days()]


def volume_by_week(days: list[dict]) -> list[dict]:
    """Weeks (Monday first) folded from the per-day counts."""
    weeks: dict[dt.date, int] = {}
    for row in days:
        monday = row["date"] - dt.timedelta(days=row["date"].weekday())
        weeks[monday] = weeks.get(monday, 0) + row["tickets"]
    return [{"week": monday, "tickets": n} for monday, n in sorted(weeks.items())]


def by_dispute_type(period: Period) -> list[dict]:
    counts = dict(
        _per_type(period, D.TOTAL)
        .values("type_id")
        .annotate(n=Sum("tickets"))
        .values_list("type_id", "n")
        .order_by()
    )
    types = DisputeType.objects.filter(pk__in=list(counts)).only("code", "name_zh", "name_en")
    rows = [
        {"code": t.code, "name_zh": t.name_zh, "name_en": t.name_en, "tickets": counts[t.pk]}
        for t in types
    ]
    return sorted(rows, key=lambda r: (-r["tickets"], r["code"]))


def by_sku(period: Period, limit: int | None = TOP) -> list[dict]:
    if period.dispute_type is not None:
        qs = _stats(period, D.SKU)
    else:  # whole months from the month rows, the days around them from the day rows
        months, edges = _month_split(period.date_from, period.date_to)
        where = Q(dimension=D.SKU_MONTH, date__in=months) if months else Q(pk__in=[])
        for first, last in edges:
            where |= Q(dimension=D.SKU, date__range=(first, last))
        qs = DailyStat.objects.filter(where, shop=period.shop, type_id=0)
    rows = qs.values("key").annotate(n=Sum("tickets")).order_by("-n", "key")
    if limit:
        rows = rows[:limit]
    return [{"sku": r["key"], "tickets": r["n"]} for r in rows]


def by_hour_and_weekday(period: Period) -> tuple[list[dict], list[dict]]:
    hours, weekdays = [0] * 24, [0] * 7
    for hour, n in (
        _stats(period, D.HOUR)
        .values("key")
        .annotate(n=Sum("tickets"))
        .values_list("key", "n")
        .order_by()
    ):
        hours[int(hour)] += n
    for day, n in _stats(period, D.TOTAL).values_list("date", "tickets"):
        weekdays[day.isoweekday() - 1] += n
    return [{"hour": h, "tickets": n} for h, n in enumerate(hours)], [
        {"weekday": d + 1, "tickets": n} for d, n in enumerate(weekdays)
    ]


# --- funnel, times, satisfaction ------------------------------------------------------------


def totals(period: Period) -> dict:
    """Funnel, response and resolution times against the tickets' own SLA due times, breaches
    and satisfaction."""
    row = _stats(period, D.TOTAL).aggregate(
        **{
            name: Sum(name)
            for name in (
                "tickets",
                "responded",
                "responded_in_time",
                "resolved",
                "resolved_in_time",
                "breached",
                "first_response_total",
                "resolution_total",
                "surveys_answered",
                "score_total",
                "satisfied",
            )
        }
    )
    # Sums over no rows are NULL: counts become 0, the duration totals stay None (no average).
    row = {
        k: v if k in ("first_response_total", "resolution_total") else v or 0
        for k, v in row.items()
    }
    steps = [
        ("received", row["tickets"]),
        ("first_response", row["responded"]),
        ("resolved", row["resolved"]),
        ("satisfied", row["satisfied"]),
    ]
    funnel, previous = [], None
    for name, count in steps:
        drop = None if previous is None else previous - count
        funnel.append(
            {
                "step": name,
                "tickets": count,
                "drop": drop,
                "drop_rate": None if previous is None else ratio(drop, previous, Decimal("0.0001")),
            }
        )
        previous = count
    target = shop_sla(period.shop)["targets"]["normal"]
    return {
        "funnel": funnel,
        "response": {
            "avg_first_response_minutes": minutes(
                _duration_avg(row["first_response_total"], row["responded"])
            ),
            "avg_resolution_minutes": minutes(
                _duration_avg(row["resolution_total"], row["resolved"])
            ),
            "first_response_target_minutes": target["first_response_minutes"],
            "resolution_target_minutes": target["resolution_minutes"],
            "first_response_within_target": ratio(
                row["responded_in_time"], row["responded"], Decimal("0.0001")
            ),
            "resolution_within_target": ratio(
                row["resolved_in_time"], row["resolved"], Decimal("0.0001")
            ),
            "sla_breached": row["breached"],
        },
        "satisfaction": {
            "answered": row["surveys_answered"],
            "average": ratio(row["score_total"], row["surveys_answered"]),
            "satisfied": row["satisfied"],
            "target": settings_for(period.shop).satisfaction_target,
        },
    }


# --- compensation ---------------------------------------------------------------------------


def compensation_by_type(period: Period) -> list[dict]:
    rows = (
        _stats(period, D.COMP_TYPE)
        .values("key")
        .annotate(n=Sum("compensations"), total=Sum("amount"))
        .order_by("key")
    )
    return [{"type": r["key"], "count": r["n"], "amount": money(r["total"])} for r in rows]


def compensation_by_party(period: Period) -> list[dict]:
    """Cost (courier claims excluded: they are money coming back) by the ticket's latest judgment."""
    rows = (
        _stats(period, D.PARTY)
        .filter(compensations__gt=0)
        .values("key")
        .annotate(n=Sum("compensations"), total=Sum("amount"))
        .order_by("key")
    )
    return [{"party": r["key"], "count": r["n"], "amount": money(r["total"])} for r in rows]


def compensation_totals(by_type: list[dict]) -> dict:
    cost = sum(
        (r["amount"] for r in by_type if r["type"] != CompensationType.COURIER_CLAIM),
        Decimal("0.00"),
    )
    recovered = sum(
        (r["amount"] for r in by_type if r["type"] == CompensationType.COURIER_CLAIM),
        Decimal("0.00"),
    )
    return {"cost": money(cost), "recovered": money(recovered), "net": money(cost - recovered)}


def by_party(period: Period) -> list[dict]:
    """Tickets by their latest judgment's party ("unjudged" when none yet)."""
    rows = _stats(period, D.PARTY).values("key").annotate(n=Sum("tickets")).order_by("key")
    return [{"party": r["key"], "tickets": r["n"]} for r in rows]


# --- couriers and agents --------------------------------------------------------------------


def courier_ranking(period: Period) -> list[dict]:
    """Per courier (as the orders name it): complaints per 1,000 reported shipments, the damage
    and loss share of those complaints, compensation paid on its orders and what was claimed
    back from it. The dispute-type filter does not apply: the ranking is about the courier."""
    everything = Period(shop=period.shop, date_from=period.date_from, date_to=period.date_to)
    totals = (
        _stats(everything, D.COURIER)
        .values("key")
        .annotate(n=Sum("tickets"), cost=Sum("amount"), recovered=Sum("recovered"))
        .order_by()
    )
    # Complaints, damage and loss: the per-type rows of those types only (a fraction of all types).
    complaint_types = dict(
        DisputeType.objects.filter(code__in=COURIER_COMPLAINT_CODES).values_list("pk", "code")
    )
    complaints = (
        _per_type(everything, D.COURIER)
        .filter(type_id__in=list(complaint_types))
        .values("key", "type_id")
        .annotate(n=Sum("tickets"))
        .values_list("key", "type_id", "n")
        .order_by()
    )
    shipments = dict(
        ShipmentStat.objects.filter(
            shop=period.shop, date__gte=period.date_from, date__lte=period.date_to
        )
        .values("courier")
        .annotate(n=Sum("shipments"))
        .values_list("courier", "n")
    )
    by_courier: dict[str, dict] = {}

    def row_for(name):
        return by_courier.setdefault(
            name,
            {
                "courier": name,
                "tickets": 0,
                "complaints": 0,
                "damage": 0,
                "loss": 0,
                "cost": Decimal("0.00"),
                "recovered": Decimal("0.00"),
            },
        )

    for r in totals:
        row_for(r["key"]).update(
            tickets=r["n"], cost=money(r["cost"]), recovered=money(r["recovered"])
        )
    for courier, type_id, n in complaints:
        row, code = row_for(courier), complaint_types[type_id]
        row["complaints"] += n
        row["damage"] += n if code in DAMAGE_CODES else 0
        row["loss"] += n if code in LOSS_CODES else 0
    for name in shipments:
        row_for(name)
    threshold = settings_for(period.shop).courier_complaint_threshold
    result = []
    for row in by_courier.values():
        row["shipments"] = shipments.get(row["courier"], 0)
        row["per_1000"] = (
            ratio(row["complaints"] * 1000, row["shipments"]) if row["shipments"] else None
        )
        row["damage_share"] = ratio(row["damage"], row["complaints"], Decimal("0.0001"))
        row["loss_share"] = ratio(row["loss"], row["complaints"], Decimal("0.0001"))
        row["threshold"] = threshold
        row["flagged"] = row["per_1000"] is not None and row["per_1000"] > threshold
        row["suggestion"] = (
            f"{row['per_1000']} complaints per 1,000 shipments is above the shop's {threshold}: "
            "file claims, talk to the courier, consider switching (建议更换快递)."
            if row["flagged"]
            else ""
        )
        result.append(row)
    result.sort(
        key=lambda r: (r["per_1000"] is None, -(r["per_1000"] or 0), -r["complaints"], r["courier"])
    )
    return result


def agent_kpis(period: Period) -> list[dict]:
    fields = (
        "tickets",
        "resolved",
        "responded",
        "first_response_total",
        "resolution_total",
        "surveys_answered",
        "score_total",
        "breached",
    )
    rows = {
        int(r["key"]): r
        for r in _stats(period, D.AGENT)
        .values("key")
        .annotate(**{f"s_{f}": Sum(f) for f in fields})
        .order_by()
    }
    names = dict(get_user_model().objects.filter(pk__in=list(rows)).values_list("pk", "username"))
    target = settings_for(period.shop).satisfaction_target
    result = []
    for user_id, r in sorted(rows.items(), key=lambda item: names.get(item[0], "")):
        score = ratio(r["s_score_total"], r["s_surveys_answered"])
        result.append(
            {
                "agent": names.get(user_id, f"#{user_id}"),
                "tickets": r["s_tickets"],
                "resolved": r["s_resolved"],
                "avg_first_response_minutes": minutes(
                    _duration_avg(r["s_first_response_total"], r["s_responded"])
                ),
                "avg_resolution_minutes": minutes(
                    _duration_avg(r["s_resolution_total"], r["s_resolved"])
                ),
                "surveys_answered": r["s_surveys_answered"],
                "satisfaction": score,
                "sla_breached": r["s_breached"],
                "below_target": score is not None and score < target,
            }
        )
    return result


def alerts_for(shop_ids: list[int], status: str | None = None):
    qs = (
        BatchAlert.objects.filter(shop_id__in=shop_ids)
        .select_related("shop")
        .annotate(ticket_count=Count("links"))
    )
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def alert_tickets(alert: BatchAlert):
    return (
        Ticket.objects.filter(pk__in=alert.links.values("ticket_id"))
        .select_related("customer", "dispute_type", "order")
        .order_by("created_at", "id")
    )


def risk_flags(period: Period) -> dict:
    """The risk panel: flagged tickets of the period and their compensation, by flag (read live
    from risk, not the rollup: flags change with the evidence and with dismissals)."""
    return risk_selectors.flags_summary(
        shop=period.shop, start=period.start, end=period.end, dispute_type=period.dispute_type
    )


def dashboard(period: Period) -> dict:
    """Everything the dashboard and the summary API show, read from the rollup (DailyStat).
    Callers refresh the period's stale days first (analytics.rollup.stats_refresh_period)."""
    if connection.vendor != "postgresql":
        return _figures(period)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # A year of rollup rows costs just over PostgreSQL's JIT threshold; compiling the
            # query (~100 ms here) costs more than it saves.
            cursor.execute("SET LOCAL jit = off")
        return _figures(period)


def _figures(period: Period) -> dict:
    days = volume_by_day(period)
    hours, weekdays = by_hour_and_weekday(period)
    comp_types = compensation_by_type(period)
    return {
        "volume_by_day": days,
        "volume_by_week": volume_by_week(days),
        "by_dispute_type": by_dispute_type(period),
        "by_sku": by_sku(period),
        "by_hour": hours,
        "by_weekday": weekdays,
        **totals(period),
        "compensation_by_type": comp_types,
        "compensation_by_party": compensation_by_party(period),
        "compensation_totals": compensation_totals(comp_types),
        "couriers": courier_ranking(period),
        "agents": agent_kpis(period),
        "by_party": by_party(period),
    }
