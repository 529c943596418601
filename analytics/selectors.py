"""Reads of the analytics app. Every figure is one aggregate query in PostgreSQL (GROUP BY with
FILTER clauses); Python only folds the already-aggregated rows (at most a few hundred).

Dates are the shop's: a period [date_from, date_to] is [date_from 00:00, date_to + 1 day 00:00)
in Shop.timezone, and day/week/hour buckets are taken in that time zone too.
"""

import datetime as dt
import hashlib
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.db.models import Avg, Count, DurationField, ExpressionWrapper, F, OuterRef, Q, Subquery, Sum
from django.db.models.functions import ExtractHour, ExtractIsoWeekDay, TruncDate

from analytics.models import AnalyticsSettings, BatchAlert, ShipmentStat
from disputes.models import Compensation, CompensationStatus, CompensationType, DisputeType, Judgment
from shops.models import Membership, Role, Shop
from shops.sla import shop_sla
from tickets.models import OrderItem, Ticket

MAX_RANGE_DAYS = 731  # two years
# Money that was (or is being) paid: approved and on its way, or done.
COST_STATUSES = (CompensationStatus.APPROVED, CompensationStatus.EXECUTING, CompensationStatus.EXECUTED)
# Complaints against the courier: the dispute types whose cause is the carriage itself.
COURIER_COMPLAINT_CODES = ("damaged_in_transit", "damaged_on_arrival", "lost_parcel", "no_tracking_update", "signed_not_received")
DAMAGE_CODES = ("damaged_in_transit", "damaged_on_arrival")
LOSS_CODES = ("lost_parcel", "signed_not_received")
SATISFIED_SCORE = 4  # 4 or 5 stars
TOP = 15
CENT = Decimal("0.01")


@dataclass(frozen=True)
class Period:
    shop: Shop
    date_from: dt.date
    date_to: dt.date
    dispute_type: DisputeType | None = None

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.shop.timezone or "Asia/Shanghai")

    @property
    def start(self) -> dt.datetime:
        return dt.datetime.combine(self.date_from, dt.time.min, tzinfo=self.tz)

    @property
    def end(self) -> dt.datetime:
        return dt.datetime.combine(self.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=self.tz)

    def days(self) -> list[dt.date]:
        return [self.date_from + dt.timedelta(days=i) for i in range((self.date_to - self.date_from).days + 1)]


def supervised_shops(user) -> list[Shop]:
    """Shops where the user may see analytics: supervisor or admin (superusers: all)."""
    if not user.is_authenticated:
        return []
    if user.is_superuser:
        return list(Shop.objects.order_by("code"))
    ids = Membership.objects.filter(user=user, role__in=[Role.SUPERVISOR, Role.ADMIN]).values("shop_id")
    return list(Shop.objects.filter(pk__in=ids).order_by("code"))


def settings_for(shop: Shop) -> AnalyticsSettings:
    return AnalyticsSettings.objects.filter(shop=shop).first() or AnalyticsSettings(shop=shop)


def period_tickets(period: Period, *, with_type: bool = True):
    qs = Ticket.objects.filter(shop=period.shop, created_at__gte=period.start, created_at__lt=period.end)
    if with_type and period.dispute_type is not None:
        qs = qs.filter(dispute_type=period.dispute_type)
    return qs


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


# --- volume and hot spots -------------------------------------------------------------------


def volume_by_day(period: Period) -> list[dict]:
    rows = dict(
        period_tickets(period)
        .annotate(day=TruncDate("created_at", tzinfo=period.tz))
        .values("day")
        .annotate(n=Count("id"))
        .values_list("day", "n")
    )
    return [{"date": day, "tickets": rows.get(day, 0)} for day in period.days()]


def volume_by_week(days: list[dict]) -> list[dict]:
    """Weeks (Monday first) folded from the per-day counts."""
    weeks: dict[dt.date, int] = {}
    for row in days:
        monday = row["date"] - dt.timedelta(days=row["date"].weekday())
        weeks[monday] = weeks.get(monday, 0) + row["tickets"]
    return [{"week": monday, "tickets": n} for monday, n in sorted(weeks.items())]


def by_dispute_type(period: Period) -> list[dict]:
    rows = (
        period_tickets(period)
        .values("dispute_type__code", "dispute_type__name_zh", "dispute_type__name_en")
        .annotate(n=Count("id"))
        .order_by("-n", "dispute_type__code")
    )
    return [{"code": r["dispute_type__code"], "name_zh": r["dispute_type__name_zh"], "name_en": r["dispute_type__name_en"], "tickets": r["n"]} for r in rows]


def by_sku(period: Period, limit: int | None = TOP) -> list[dict]:
    qs = OrderItem.objects.filter(order__ticket__shop=period.shop, order__ticket__created_at__gte=period.start, order__ticket__created_at__lt=period.end)
    if period.dispute_type is not None:
        qs = qs.filter(order__ticket__dispute_type=period.dispute_type)
    rows = qs.values("sku").annotate(n=Count("order_id", distinct=True)).order_by("-n", "sku")
    if limit:
        rows = rows[:limit]
    return [{"sku": r["sku"], "tickets": r["n"]} for r in rows]


def by_hour_and_weekday(period: Period) -> tuple[list[dict], list[dict]]:
    rows = (
        period_tickets(period)
        .annotate(hour=ExtractHour("created_at", tzinfo=period.tz), weekday=ExtractIsoWeekDay("created_at", tzinfo=period.tz))
        .values("hour", "weekday")
        .annotate(n=Count("id"))
        .values_list("hour", "weekday", "n")
    )
    hours, weekdays = [0] * 24, [0] * 7
    for hour, weekday, n in rows:
        hours[hour] += n
        weekdays[weekday - 1] += n
    return [{"hour": h, "tickets": n} for h, n in enumerate(hours)], [{"weekday": d + 1, "tickets": n} for d, n in enumerate(weekdays)]


# --- funnel, times, satisfaction ------------------------------------------------------------


def totals(period: Period) -> dict:
    """Funnel, response and resolution times against the tickets' own SLA due times, breaches
    and satisfaction, in one query."""
    first_response = ExpressionWrapper(F("first_responded_at") - F("created_at"), output_field=DurationField())
    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    row = period_tickets(period).aggregate(
        received=Count("id"),
        responded=Count("id", filter=Q(first_responded_at__isnull=False)),
        resolved=Count("id", filter=Q(resolved_at__isnull=False)),
        satisfied=Count("id", filter=Q(survey__score__gte=SATISFIED_SCORE)),
        responded_in_time=Count("id", filter=Q(first_responded_at__isnull=False, first_responded_at__lte=F("first_response_due_at"))),
        resolved_in_time=Count("id", filter=Q(resolved_at__isnull=False, resolved_at__lte=F("resolution_due_at"))),
        breached=Count("id", filter=Q(sla_breached_at__isnull=False)),
        avg_first_response=Avg(first_response),
        avg_resolution=Avg(resolution),
        surveys_answered=Count("id", filter=Q(survey__score__isnull=False)),
        avg_score=Avg("survey__score"),
    )
    steps = [("received", row["received"]), ("first_response", row["responded"]), ("resolved", row["resolved"]), ("satisfied", row["satisfied"])]
    funnel, previous = [], None
    for name, count in steps:
        drop = None if previous is None else previous - count
        funnel.append({"step": name, "tickets": count, "drop": drop, "drop_rate": None if previous is None else ratio(drop, previous, Decimal("0.0001"))})
        previous = count
    target = shop_sla(period.shop)["targets"]["normal"]
    return {
        "funnel": funnel,
        "response": {
            "avg_first_response_minutes": minutes(row["avg_first_response"]),
            "avg_resolution_minutes": minutes(row["avg_resolution"]),
            "first_response_target_minutes": target["first_response_minutes"],
            "resolution_target_minutes": target["resolution_minutes"],
            "first_response_within_target": ratio(row["responded_in_time"], row["responded"], Decimal("0.0001")),
            "resolution_within_target": ratio(row["resolved_in_time"], row["resolved"], Decimal("0.0001")),
            "sla_breached": row["breached"],
        },
        "satisfaction": {
            "answered": row["surveys_answered"],
            "average": ratio(row["avg_score"] or 0, 1) if row["avg_score"] is not None else None,
            "satisfied": row["satisfied"],
            "target": settings_for(period.shop).satisfaction_target,
        },
    }


# --- compensation ---------------------------------------------------------------------------


def period_compensations(period: Period):
    qs = Compensation.objects.filter(
        ticket__shop=period.shop, ticket__created_at__gte=period.start, ticket__created_at__lt=period.end, status__in=COST_STATUSES
    )
    if period.dispute_type is not None:
        qs = qs.filter(ticket__dispute_type=period.dispute_type)
    return qs


def compensation_by_type(period: Period) -> list[dict]:
    rows = period_compensations(period).values("type").annotate(n=Count("id"), total=Sum("amount")).order_by("type")
    return [{"type": r["type"], "count": r["n"], "amount": money(r["total"])} for r in rows]


def compensation_by_party(period: Period) -> list[dict]:
    """Cost (courier claims excluded: they are money coming back) by the ticket's latest judgment."""
    latest_party = Judgment.objects.filter(ticket=OuterRef("ticket_id")).order_by("-version").values("party")[:1]
    rows = (
        period_compensations(period)
        .exclude(type=CompensationType.COURIER_CLAIM)
        .annotate(party=Subquery(latest_party))
        .values("party")
        .annotate(n=Count("id"), total=Sum("amount"))
        .order_by("party")
    )
    return [{"party": r["party"] or "unjudged", "count": r["n"], "amount": money(r["total"])} for r in rows]


def compensation_totals(by_type: list[dict]) -> dict:
    cost = sum((r["amount"] for r in by_type if r["type"] != CompensationType.COURIER_CLAIM), Decimal("0.00"))
    recovered = sum((r["amount"] for r in by_type if r["type"] == CompensationType.COURIER_CLAIM), Decimal("0.00"))
    return {"cost": money(cost), "recovered": money(recovered), "net": money(cost - recovered)}


# --- couriers and agents --------------------------------------------------------------------


def courier_ranking(period: Period) -> list[dict]:
    """Per courier (as the orders name it): complaints per 1,000 reported shipments, the damage
    and loss share of those complaints, compensation paid on its orders and what was claimed
    back from it. The dispute-type filter does not apply: the ranking is about the courier."""
    tickets = (
        period_tickets(period, with_type=False)
        .exclude(order__courier="")
        .values("order__courier")
        .annotate(
            tickets=Count("id"),
            complaints=Count("id", filter=Q(dispute_type__code__in=COURIER_COMPLAINT_CODES)),
            damage=Count("id", filter=Q(dispute_type__code__in=DAMAGE_CODES)),
            loss=Count("id", filter=Q(dispute_type__code__in=LOSS_CODES)),
        )
    )
    money_rows = (
        Compensation.objects.filter(
            ticket__shop=period.shop, ticket__created_at__gte=period.start, ticket__created_at__lt=period.end, status__in=COST_STATUSES
        )
        .exclude(ticket__order__courier="")
        .values("ticket__order__courier")
        .annotate(
            cost=Sum("amount", filter=~Q(type=CompensationType.COURIER_CLAIM)),
            recovered=Sum("amount", filter=Q(type=CompensationType.COURIER_CLAIM)),
        )
    )
    shipments = dict(
        ShipmentStat.objects.filter(shop=period.shop, date__gte=period.date_from, date__lte=period.date_to)
        .values("courier")
        .annotate(n=Sum("shipments"))
        .values_list("courier", "n")
    )
    by_courier: dict[str, dict] = {}

    def row_for(name):
        return by_courier.setdefault(name, {"courier": name, "tickets": 0, "complaints": 0, "damage": 0, "loss": 0,
                                            "cost": Decimal("0.00"), "recovered": Decimal("0.00")})

    for r in tickets:
        row = row_for(r["order__courier"])
        row.update(tickets=r["tickets"], complaints=r["complaints"], damage=r["damage"], loss=r["loss"])
    for r in money_rows:
        row = row_for(r["ticket__order__courier"])
        row.update(cost=money(r["cost"]), recovered=money(r["recovered"]))
    for name in shipments:
        row_for(name)
    threshold = settings_for(period.shop).courier_complaint_threshold
    result = []
    for row in by_courier.values():
        row["shipments"] = shipments.get(row["courier"], 0)
        row["per_1000"] = ratio(row["complaints"] * 1000, row["shipments"]) if row["shipments"] else None
        row["damage_share"] = ratio(row["damage"], row["complaints"], Decimal("0.0001"))
        row["loss_share"] = ratio(row["loss"], row["complaints"], Decimal("0.0001"))
        row["threshold"] = threshold
        row["flagged"] = row["per_1000"] is not None and row["per_1000"] > threshold
        row["suggestion"] = (
            f"{row['per_1000']} complaints per 1,000 shipments is above the shop's {threshold}: "
            "file claims, talk to the courier, consider switching (建议更换快递)."
            if row["flagged"] else ""
        )
        result.append(row)
    result.sort(key=lambda r: (r["per_1000"] is None, -(r["per_1000"] or 0), -r["complaints"], r["courier"]))
    return result


def agent_kpis(period: Period) -> list[dict]:
    first_response = ExpressionWrapper(F("first_responded_at") - F("created_at"), output_field=DurationField())
    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    rows = (
        period_tickets(period)
        .filter(assignee__isnull=False)
        .values("assignee_id", "assignee__username")
        .annotate(
            tickets=Count("id"),
            resolved=Count("id", filter=Q(resolved_at__isnull=False)),
            avg_first_response=Avg(first_response),
            avg_resolution=Avg(resolution),
            answered=Count("id", filter=Q(survey__score__isnull=False)),
            avg_score=Avg("survey__score"),
            sla_breached=Count("id", filter=Q(sla_breached_at__isnull=False)),
        )
        .order_by("assignee__username")
    )
    target = settings_for(period.shop).satisfaction_target
    result = []
    for r in rows:
        score = ratio(r["avg_score"], 1) if r["avg_score"] is not None else None
        result.append({
            "agent": r["assignee__username"],
            "tickets": r["tickets"],
            "resolved": r["resolved"],
            "avg_first_response_minutes": minutes(r["avg_first_response"]),
            "avg_resolution_minutes": minutes(r["avg_resolution"]),
            "surveys_answered": r["answered"],
            "satisfaction": score,
            "sla_breached": r["sla_breached"],
            "below_target": score is not None and score < target,
        })
    return result


def alerts_for(shop_ids: list[int], status: str | None = None):
    qs = BatchAlert.objects.filter(shop_id__in=shop_ids).select_related("shop").annotate(ticket_count=Count("links"))
    if status:
        qs = qs.filter(status=status)
    return qs.order_by("-created_at", "-id")


def alert_tickets(alert: BatchAlert):
    return (
        Ticket.objects.filter(pk__in=alert.links.values("ticket_id"))
        .select_related("customer", "dispute_type", "order")
        .order_by("created_at", "id")
    )


def dashboard(period: Period) -> dict:
    """Everything the dashboard and the summary API show, cached for ANALYTICS_CACHE_SECONDS
    (default 60): at 1M tickets the dozen aggregates over a month of one shop take seconds on a
    loaded 2-core machine, and a supervisor's reloads and filter round-trips repeat them. The key
    holds the shop's latest ticket change, so a new or updated ticket shows at once."""
    seconds = getattr(settings, "ANALYTICS_CACHE_SECONDS", 60)
    if not seconds:
        return dashboard_uncached(period)
    latest = Ticket.objects.filter(shop=period.shop).order_by("-updated_at").values_list("updated_at", flat=True).first()
    key = "analytics:dashboard:" + hashlib.sha256(
        f"{connection.settings_dict['NAME']}|{period.shop.pk}|{period.date_from}|{period.date_to}|"
        f"{period.dispute_type.pk if period.dispute_type else ''}|{latest}".encode()
    ).hexdigest()
    data = cache.get(key)
    if data is None:
        data = dashboard_uncached(period)
        cache.set(key, data, seconds)
    return data


def dashboard_uncached(period: Period) -> dict:
    if connection.vendor != "postgresql":
        return _figures(period)
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Each aggregate costs just over PostgreSQL's JIT threshold at 1M tickets, and compiling
            # it (~100 ms a query here) costs more than it saves on a month of one shop.
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


def by_party(period: Period) -> list[dict]:
    """Tickets by their latest judgment's party ("unjudged" when none yet)."""
    latest_party = Judgment.objects.filter(ticket=OuterRef("pk")).order_by("-version").values("party")[:1]
    rows = period_tickets(period).annotate(party=Subquery(latest_party)).values("party").annotate(n=Count("id")).order_by("party")
    return [{"party": r["party"] or "unjudged", "tickets": r["n"]} for r in rows]
