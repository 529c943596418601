"""The dashboard's daily rollup (DailyStat): kept from the tickets, so the dashboard and the
summary API read a few thousand pre-aggregated rows instead of aggregating a year of tickets.

How it stays right:
- Database triggers (installed by `triggers_install`, after every `migrate`) write a
  DailyStatStale marker whenever a ticket, its order or items, a judgment, a compensation or a
  survey changes, and a whole-shop marker when a shop's time zone changes. Every write path —
  services, ORM `.update()`, raw SQL, the admin — is covered without remembering to call anything.
- `stats_refresh` recomputes the marked shop-local days from the tickets in INSERT … SELECT
  statements (nothing passes through Python), in runs of up to RUN_DAYS consecutive days, each
  run one transaction under a per-shop lock. A marker is deleted before the day is recomputed,
  so a change committed meanwhile leaves its own marker and is recomputed next time.
- Celery beat (`analytics.tasks.refresh_stats`, every ANALYTICS_REFRESH_SECONDS) refreshes
  every marked day. Before it reads, the dashboard recomputes its period's stale days itself
  when they are few (`stats_refresh_period`), so in most shops a change shows at once.
"""

import datetime as dt
import logging
import time
from collections.abc import Iterable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import (
    CharField,
    Count,
    DateField,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Cast, Coalesce, ExtractHour, TruncDate

from analytics.models import UNJUDGED, DailyStat, DailyStatStale
from analytics.selectors import Period, shop_tz
from disputes.models import Compensation, CompensationStatus, CompensationType, Judgment
from shops.models import Shop
from tickets.models import OrderItem, Ticket

logger = logging.getLogger(__name__)

RUN_DAYS = 31  # days recomputed in one transaction
COST_STATUSES = (
    CompensationStatus.APPROVED,
    CompensationStatus.EXECUTING,
    CompensationStatus.EXECUTED,
)
SATISFIED_SCORE = 4
D = DailyStat.Dimension
MEASURES = [
    f.name
    for f in DailyStat._meta.get_fields()
    if f.concrete and f.name not in ("id", "shop", "date", "dimension", "type_id", "key")
]


# --- triggers ------------------------------------------------------------------------------

# table -> (columns whose change matters, how to find the affected tickets' (shop_id, created_at) from row R)
WATCHED = {
    "tickets_ticket": (
        [
            "shop_id",
            "created_at",
            "dispute_type_id",
            "assignee_id",
            "order_id",
            "first_responded_at",
            "first_response_due_at",
            "resolved_at",
            "resolution_due_at",
            "sla_breached_at",
        ],
        "SELECT R.shop_id, R.created_at",
    ),
    "tickets_order": (
        ["courier"],
        "SELECT shop_id, created_at FROM tickets_ticket WHERE order_id = R.id",
    ),
    "tickets_orderitem": (
        ["order_id", "sku"],
        "SELECT shop_id, created_at FROM tickets_ticket WHERE order_id = R.order_id",
    ),
    "disputes_judgment": (
        ["ticket_id", "version", "party"],
        "SELECT shop_id, created_at FROM tickets_ticket WHERE id = R.ticket_id",
    ),
    "disputes_compensation": (
        ["ticket_id", "type", "status", "amount"],
        "SELECT shop_id, created_at FROM tickets_ticket WHERE id = R.ticket_id",
    ),
    "tickets_satisfactionsurvey": (
        ["ticket_id", "score"],
        "SELECT shop_id, created_at FROM tickets_ticket WHERE id = R.ticket_id",
    ),
}
# A new time zone moves every ticket to other local days: the whole shop is recomputed.
SHOP_WATCHED = ("shops_shop", ["timezone"], "SELECT R.id, NULL")
MARK = "INSERT INTO analytics_dailystatstale (shop_id, created_at) "


def _trigger_sql(vendor: str) -> list[str]:
    statements = []
    tables = [(t, cols, sel, True) for t, (cols, sel) in WATCHED.items()] + [(*SHOP_WATCHED, False)]
    for table, columns, select, on_insert_delete in tables:
        name = f"analytics_stale_{table}"
        if vendor == "postgresql":
            changed = " OR ".join(f"OLD.{c} IS DISTINCT FROM NEW.{c}" for c in columns)
            statements += [
                f"""CREATE OR REPLACE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
                BEGIN
                    IF TG_OP IN ('UPDATE', 'DELETE') THEN {MARK}{select.replace("R.", "OLD.")}; END IF;
                    IF TG_OP IN ('UPDATE', 'INSERT') THEN {MARK}{select.replace("R.", "NEW.")}; END IF;
                    RETURN NULL;
                END $$""",
                f"DROP TRIGGER IF EXISTS {name}_upd ON {table}",
                f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {table} FOR EACH ROW WHEN ({changed}) EXECUTE FUNCTION {name}()",
            ]
            if on_insert_delete:
                statements += [
                    f"DROP TRIGGER IF EXISTS {name}_ins_del ON {table}",
                    f"CREATE TRIGGER {name}_ins_del AFTER INSERT OR DELETE ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()",
                ]
        else:  # SQLite (`make run` without DATABASE_URL)
            changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in columns)
            old, new = MARK + select.replace("R.", "OLD."), MARK + select.replace("R.", "NEW.")
            statements.append(
                f"CREATE TRIGGER IF NOT EXISTS {name}_upd AFTER UPDATE ON {table} WHEN {changed} BEGIN {old}; {new}; END"
            )
            if on_insert_delete:
                statements += [
                    f"CREATE TRIGGER IF NOT EXISTS {name}_ins AFTER INSERT ON {table} BEGIN {new}; END",
                    f"CREATE TRIGGER IF NOT EXISTS {name}_del AFTER DELETE ON {table} BEGIN {old}; END",
                ]
    return statements


def triggers_install(*, using: str = "default") -> None:
    """Create (or replace) the marker triggers. Run after every migrate: idempotent, and on
    SQLite a later migration that rebuilds a table drops that table's triggers."""
    from django.db import connections

    conn = connections[using]
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    tables = set(conn.introspection.table_names())
    if not {"analytics_dailystatstale", *WATCHED, SHOP_WATCHED[0]} <= tables:
        return  # migrating backwards or part-way
    with conn.cursor() as cursor:
        for statement in _trigger_sql(conn.vendor):
            cursor.execute(statement)


# --- computing a run of days ----------------------------------------------------------------


def _insert(queryset: QuerySet) -> int:
    """INSERT INTO analytics_dailystat (…) SELECT …: the queryset's columns are annotations
    named `out_<DailyStat field>`; the column list is read off the compiled SELECT, in its order."""
    compiler = queryset.query.get_compiler(connection=connection)
    sql, params = compiler.as_sql()
    columns = [
        DailyStat._meta.get_field(alias.removeprefix("out_")).column
        for _expr, _sql, alias in compiler.select
    ]
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {DailyStat._meta.db_table} ({', '.join(columns)}) {sql}", params
        )
        return cursor.rowcount


def _ticket_measures() -> dict:
    """What the `total` and `agent` rows count of tickets."""
    first_response = ExpressionWrapper(
        F("first_responded_at") - F("created_at"), output_field=DurationField()
    )
    resolution = ExpressionWrapper(F("resolved_at") - F("created_at"), output_field=DurationField())
    responded, resolved = Q(first_responded_at__isnull=False), Q(resolved_at__isnull=False)
    return {
        "out_tickets": Count("id"),
        "out_responded": Count("id", filter=responded),
        "out_responded_in_time": Count(
            "id", filter=responded & Q(first_responded_at__lte=F("first_response_due_at"))
        ),
        "out_resolved": Count("id", filter=resolved),
        "out_resolved_in_time": Count(
            "id", filter=resolved & Q(resolved_at__lte=F("resolution_due_at"))
        ),
        "out_breached": Count("id", filter=Q(sla_breached_at__isnull=False)),
        "out_first_response_total": Sum(first_response),
        "out_resolution_total": Sum(resolution),
        "out_surveys_answered": Count("id", filter=Q(survey__score__isnull=False)),
        "out_score_total": Coalesce(Sum("survey__score"), 0),
        "out_satisfied": Count("id", filter=Q(survey__score__gte=SATISFIED_SCORE)),
    }


def _rows(
    qs: QuerySet, *, shop: Shop, day, type_id, dimension: str, key, measures: dict
) -> QuerySet:
    keys = {
        "out_shop": Value(shop.pk),
        "out_date": day,
        "out_dimension": Value(dimension),
        "out_type_id": type_id,
        "out_key": key,
    }
    return qs.annotate(**keys).values(*keys).annotate(**measures).order_by()


def _compute(shop: Shop, first: dt.date, last: dt.date) -> None:
    tz = shop_tz(shop)
    tickets = Ticket.objects.filter(shop=shop, **_span(shop, first, last))
    day = TruncDate("created_at", tzinfo=tz)
    common = {"shop": shop, "day": day, "type_id": F("dispute_type_id")}
    latest_party = Coalesce(
        Subquery(
            Judgment.objects.filter(ticket=OuterRef("pk")).order_by("-version").values("party")[:1]
        ),
        Value(UNJUDGED),
    )
    cost = Q(compensations__status__in=COST_STATUSES)
    claim = Q(compensations__type=CompensationType.COURIER_CLAIM)
    text = CharField()

    _insert(_rows(tickets, **common, dimension=D.TOTAL, key=Value(""), measures=_ticket_measures()))
    _insert(
        _rows(
            tickets.filter(assignee__isnull=False),
            **common,
            dimension=D.AGENT,
            key=Cast("assignee_id", text),
            measures=_ticket_measures(),
        )
    )
    _insert(
        _rows(
            tickets,
            **common,
            dimension=D.HOUR,
            key=Cast(ExtractHour("created_at", tzinfo=tz), text),
            measures={"out_tickets": Count("id")},
        )
    )
    _insert(
        _rows(
            tickets.exclude(order__courier=""),
            **common,
            dimension=D.COURIER,
            key=F("order__courier"),
            measures={
                "out_tickets": Count("id", distinct=True),
                "out_amount": Coalesce(
                    Sum("compensations__amount", filter=cost & ~claim),
                    Value(0),
                    output_field=DailyStat._meta.get_field("amount"),
                ),
                "out_recovered": Coalesce(
                    Sum("compensations__amount", filter=cost & claim),
                    Value(0),
                    output_field=DailyStat._meta.get_field("amount"),
                ),
            },
        )
    )
    _insert(
        _rows(
            tickets,
            **common,
            dimension=D.PARTY,
            key=latest_party,
            measures={
                "out_tickets": Count("id", distinct=True),
                "out_compensations": Count("compensations", filter=cost & ~claim),
                "out_amount": Coalesce(
                    Sum("compensations__amount", filter=cost & ~claim),
                    Value(0),
                    output_field=DailyStat._meta.get_field("amount"),
                ),
            },
        )
    )
    compensations = Compensation.objects.filter(ticket__in=tickets, status__in=COST_STATUSES)
    _insert(
        _rows(
            compensations,
            shop=shop,
            day=TruncDate("ticket__created_at", tzinfo=tz),
            type_id=F("ticket__dispute_type_id"),
            dimension=D.COMP_TYPE,
            key=F("type"),
            measures={"out_compensations": Count("id"), "out_amount": Sum("amount")},
        )
    )
    items = OrderItem.objects.filter(order__ticket__in=tickets)
    _insert(
        _rows(
            items,
            shop=shop,
            day=TruncDate("order__ticket__created_at", tzinfo=tz),
            type_id=F("order__ticket__dispute_type_id"),
            dimension=D.SKU,
            key=F("sku"),
            measures={"out_tickets": Count("order_id", distinct=True)},
        )
    )

    # All types together (type_id 0): the sums of the per-type rows (a ticket has one type).
    typed = (
        DailyStat.objects.filter(shop=shop, date__range=(first, last))
        .exclude(type_id=0)
        .exclude(dimension=D.SKU_MONTH)
    )
    sums = {f"out_{name}": Sum(name) for name in MEASURES}
    _insert(
        typed.annotate(
            out_shop=F("shop_id"),
            out_date=F("date"),
            out_dimension=F("dimension"),
            out_type_id=Value(0),
            out_key=F("key"),
        )
        .values("out_shop", "out_date", "out_dimension", "out_type_id", "out_key")
        .annotate(**sums)
        .order_by()
    )
    # SKUs per month, all types: a year of SKU figures reads 12 month rows per SKU, not 365 day rows.
    for month in _months(first, last):
        DailyStat.objects.filter(shop=shop, dimension=D.SKU_MONTH, date=month).delete()
        in_month = DailyStat.objects.filter(
            shop=shop, dimension=D.SKU, type_id=0, date__gte=month, date__lt=_next_month(month)
        )
        _insert(
            _rows(
                in_month,
                shop=shop,
                day=Value(month, output_field=DateField()),
                type_id=Value(0, output_field=IntegerField()),
                dimension=D.SKU_MONTH,
                key=F("key"),
                measures={"out_tickets": Sum("tickets")},
            )
        )


def _next_month(day: dt.date) -> dt.date:
    return (day.replace(day=1) + dt.timedelta(days=32)).replace(day=1)


def _months(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], first.replace(day=1)
    while month <= last:
        months.append(month)
        month = _next_month(month)
    return months


# --- refreshing -----------------------------------------------------------------------------


def _lock_shop(shop_id: int, *, wait: bool = True) -> bool:
    """One refresh of a shop at a time. wait=False: give up at once if another holds it.
    (SQLite serialises writers by itself.)"""
    if connection.vendor != "postgresql":
        return True
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {'pg_advisory_xact_lock' if wait else 'pg_try_advisory_xact_lock'}(%s, hashtext('analytics-daily-stats'))",
            [shop_id],
        )
        return wait or cursor.fetchone()[0]


def _span(shop: Shop, first: dt.date, last: dt.date) -> dict:
    """Filter arguments for what was created on the shop-local days [first, last]."""
    days = Period(shop=shop, date_from=first, date_to=last)
    return {"created_at__gte": days.start, "created_at__lt": days.end}


def _runs(days: Iterable[dt.date]) -> list[tuple[dt.date, dt.date]]:
    """Consecutive days as (first, last) runs of at most RUN_DAYS."""
    runs = []
    for day in sorted(set(days)):
        if runs and (day - runs[-1][1]).days == 1 and (day - runs[-1][0]).days < RUN_DAYS:
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    return runs


def _reset_if_marked(shop: Shop) -> bool:
    """A whole-shop marker: forget the shop's rows and mark every day that has tickets."""
    if not DailyStatStale.objects.filter(shop_id=shop.pk, created_at__isnull=True).exists():
        return False
    with transaction.atomic():
        _lock_shop(shop.pk)
        if not DailyStatStale.objects.filter(shop_id=shop.pk, created_at__isnull=True).delete()[0]:
            return False
        DailyStat.objects.filter(shop=shop).delete()
        tz = shop_tz(shop)
        days = (
            Ticket.objects.filter(shop=shop)
            .annotate(day=TruncDate("created_at", tzinfo=tz))
            .values_list("day", flat=True)
            .distinct()
            .order_by()
        )
        DailyStatStale.objects.bulk_create(  # noon of each day: a moment inside it
            [
                DailyStatStale(
                    shop_id=shop.pk,
                    created_at=_span(shop, day, day)["created_at__gte"] + dt.timedelta(hours=12),
                )
                for day in days
            ]
        )
        return True


def stale_days(shop: Shop) -> set[dt.date]:
    """The shop-local days whose rows are out of date (a whole-shop marker is not a day)."""
    return set(
        DailyStatStale.objects.filter(shop_id=shop.pk, created_at__isnull=False)
        .annotate(day=TruncDate("created_at", tzinfo=shop_tz(shop)))
        .values_list("day", flat=True)
        .distinct()
        .order_by()
    )


def _refresh_run(shop: Shop, first: dt.date, last: dt.date, *, wait: bool = True) -> bool:
    with transaction.atomic():
        if not _lock_shop(shop.pk, wait=wait):
            return False
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SET LOCAL jit = off"
                )  # a month of tickets is just over the JIT threshold; compiling costs more
        DailyStatStale.objects.filter(shop_id=shop.pk, **_span(shop, first, last)).delete()
        DailyStat.objects.filter(shop=shop, date__range=(first, last)).exclude(
            dimension=D.SKU_MONTH
        ).delete()
        _compute(shop, first, last)
    return True


def stats_refresh(*, shop: Shop, deadline: float | None = None) -> int:
    """Recompute the shop's stale days, newest first, a run of days per transaction. Stops
    starting runs once time.monotonic() passes `deadline`, or when another worker holds the
    shop (it is on it). Returns how many days were recomputed."""
    _reset_if_marked(shop)
    done = 0
    for first, last in reversed(_runs(stale_days(shop))):
        if deadline is not None and time.monotonic() > deadline:
            break
        if not _refresh_run(shop, first, last, wait=False):
            break
        done += (last - first).days + 1
    return done


def _tickets_at_most(shop: Shop, days: Iterable[dt.date], limit: int) -> bool:
    """Whether the shop created at most `limit` tickets on these days (counts no further)."""
    where = Q(pk__in=[])
    for first, last in _runs(days):
        where |= Q(**_span(shop, first, last))
    return Ticket.objects.filter(where, shop=shop).values("pk")[: limit + 1].count() <= limit


def _stale_days_between(
    shop: Shop, first: dt.date, last: dt.date, *, scan_limit: int = 2000
) -> set[dt.date]:
    """The stale days in [first, last], cheaply even after a bulk change left many markers: read
    up to `scan_limit` markers; past that, ask day by day whether one exists (an index probe each)."""
    markers = DailyStatStale.objects.filter(shop_id=shop.pk, **_span(shop, first, last))
    moments = list(markers.values_list("created_at", flat=True)[: scan_limit + 1])
    if len(moments) <= scan_limit:
        return {moment.astimezone(shop_tz(shop)).date() for moment in moments}
    days = Period(shop=shop, date_from=first, date_to=last).days()
    return {day for day in days if markers.filter(**_span(shop, day, day)).exists()}


def stats_refresh_period(period) -> int:
    """Before the dashboard, the summary API or an export reads `period` (a selectors.Period):
    if its stale days hold at most ANALYTICS_INLINE_REFRESH_TICKETS tickets, recompute them
    now, so a change shows at once. More (a busy shop's day, a bulk change) would make the page
    slow: that is left to the beat task, which runs every ANALYTICS_REFRESH_SECONDS. Returns
    how many days of the period are still stale."""
    limit = settings.ANALYTICS_INLINE_REFRESH_TICKETS
    shop = period.shop
    if DailyStatStale.objects.filter(shop_id=shop.pk, created_at__isnull=True).exists():
        if Ticket.objects.filter(shop=shop).values("pk")[: limit + 1].count() > limit:
            return len(period.days())  # the whole shop is being recomputed
        _reset_if_marked(shop)
    todo = _stale_days_between(shop, period.date_from, period.date_to)
    if not todo or not _tickets_at_most(shop, todo, limit):
        return len(todo)
    for first, last in _runs(todo):
        if not _refresh_run(shop, first, last, wait=False):
            break  # the beat task is on this shop right now
    return len(_stale_days_between(shop, period.date_from, period.date_to))


def stats_refresh_all(*, budget_seconds: float | None = None) -> int:
    """Every shop with markers: the beat task. With a budget it stops starting new runs once it
    is spent, so a backlog (a bulk change, a new time zone) is worked off over several ticks
    instead of one task holding a worker for minutes."""
    deadline = time.monotonic() + budget_seconds if budget_seconds is not None else None
    shop_ids = DailyStatStale.objects.values_list("shop_id", flat=True).distinct().order_by()
    done = 0
    for shop in Shop.objects.filter(pk__in=list(shop_ids)).order_by("pk"):
        done += stats_refresh(shop=shop, deadline=deadline)
    DailyStatStale.objects.exclude(shop_id__in=Shop.objects.values("pk")).delete()  # deleted shops
    return done


def stats_rebuild(*, shop: Shop, progress=None) -> int:
    """Recompute every day of the shop now (after a bulk load, or to check the rollup)."""
    DailyStatStale.objects.create(shop_id=shop.pk, created_at=None)
    _reset_if_marked(shop)
    todo = sorted(stale_days(shop))
    runs = _runs(todo)
    for n, (first, last) in enumerate(runs, 1):
        _refresh_run(shop, first, last)
        if progress:
            progress(shop=shop, first=first, last=last, run=n, runs=len(runs))
    return len(todo)
