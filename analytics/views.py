"""Workspace pages of analytics: the supervisor dashboard, batch alerts, and streamed CSV exports."""

import csv
from zoneinfo import ZoneInfo

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from aftersales.auth import login_required
from aftersales.exceptions import ApplicationError
from analytics import rollup, selectors, services
from analytics.api import plain
from analytics.models import UNJUDGED, BatchAlert
from analytics.params import period_from_params
from disputes.models import CompensationType, Party
from shops.selectors import admin_shop
from tickets.models import DisputeType
from tickets.selectors import queue_tickets
from tickets.states import Channel, Priority, Status
from tickets.views import queue_params

EXPORT_CHUNK = 2000
FUNNEL_LABELS = {
    "received": gettext_lazy("Received"),
    "first_response": gettext_lazy("First response"),
    "resolved": gettext_lazy("Resolved"),
    "satisfied": gettext_lazy("Satisfied (4–5 stars)"),
}


PARTY_LABELS = {**dict(Party.choices), UNJUDGED: gettext_lazy("Not judged yet")}
WEEKDAY_LABELS = {
    1: gettext_lazy("Monday"),
    2: gettext_lazy("Tuesday"),
    3: gettext_lazy("Wednesday"),
    4: gettext_lazy("Thursday"),
    5: gettext_lazy("Friday"),
    6: gettext_lazy("Saturday"),
    7: gettext_lazy("Sunday"),
}


def _labelled(rows: list[dict], key: str, labels: dict) -> list[dict]:
    """The rows with the words for their code (the charts show words; the API keeps codes)."""
    return [{**row, "label": str(labels.get(row[key], row[key]))} for row in rows]


class Echo:
    """csv.writer target that hands each formatted line back instead of storing it."""

    def write(self, value):
        return value


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value):
    """A text cell a spreadsheet would run as a formula (=HYPERLINK(...) typed by a customer as
    their name) is prefixed with ' so it shows as text (OWASP's CSV injection advice). Numbers
    are left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_response(filename: str, header: list[str], rows) -> StreamingHttpResponse:
    writer = csv.writer(Echo())

    def lines():
        yield "\ufeff"  # BOM: Excel opens UTF-8 (Chinese names) correctly
        yield writer.writerow(header)
        for row in rows:
            yield writer.writerow([csv_safe(value) for value in row])

    response = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def _period_or_error(request):
    """(period, None), or (None, the 400 error to show); not a supervisor -> 403."""
    try:
        return period_from_params(request.GET, user=request.user), None
    except ApplicationError as exc:
        if exc.status_code == 403:
            raise PermissionDenied(exc.message) from None
        return None, exc


# --- dashboard -------------------------------------------------------------------------------


@login_required
@require_GET
def dashboard(request):
    period, error = _period_or_error(request)
    shops = selectors.supervised_shops(request.user)
    context = {"shops": shops, "error": error, "period": period, "params": request.GET}
    if period is None:
        return render(
            request,
            "analytics/dashboard.html",
            _refused_filters_context(context, error),
            status=400,
        )
    stale_days = rollup.stats_refresh_period(period)
    data = selectors.dashboard(period)
    funnel = _labelled(data["funnel"], "step", FUNNEL_LABELS)
    context.update(
        data=data,
        funnel=funnel,
        stale_days=stale_days,
        chart_data=plain(
            {
                **{
                    k: data[k]
                    for k in (
                        "volume_by_day",
                        "volume_by_week",
                        "by_dispute_type",
                        "by_sku",
                        "by_hour",
                        "by_weekday",
                    )
                },
                "funnel": funnel,
                "compensation_by_type": _labelled(
                    data["compensation_by_type"], "type", dict(CompensationType.choices)
                ),
                "compensation_by_party": _labelled(
                    data["compensation_by_party"], "party", PARTY_LABELS
                ),
            }
        ),
        dispute_types=DisputeType.objects.filter(
            Q(shop__isnull=True) | Q(shop=period.shop), active=True
        ).order_by("category", "code"),
        open_alerts=selectors.alerts_for([period.shop.pk]).exclude(
            status=BatchAlert.Status.RESOLVED
        )[:20],
        query=request.GET.urlencode(),
        risk=selectors.risk_flags(period),
    )
    return render(request, "analytics/dashboard.html", context)


def _refused_filters_context(context: dict, error: ApplicationError) -> dict:
    """The dashboard's filter form as the supervisor filled it in, with each error under the
    filter's label, so a refused filter can be corrected in place."""
    shop_ids = [s.pk for s in context["shops"]]
    return {
        **context,
        "error_fields": _named_errors(error.fields, FILTER_LABELS),
        "dispute_types": DisputeType.objects.filter(
            Q(shop__isnull=True) | Q(shop_id__in=shop_ids), active=True
        ).order_by("category", "code"),
    }


# --- thresholds (shop admins) ----------------------------------------------------------------


SETTINGS_LABELS = {
    "courier_complaint_threshold": gettext_lazy(
        "Flag a courier above this many complaints per 1,000 shipments"
    ),
    "satisfaction_target": gettext_lazy(
        "Flag an agent whose average satisfaction (1–5 stars) is below"
    ),
}
FILTER_LABELS = {
    "shop": gettext_lazy("Shop"),
    "from": gettext_lazy("From"),
    "to": gettext_lazy("To"),
    "dispute_type": gettext_lazy("Dispute type"),
}


def _named_errors(fields: dict | None, labels: dict) -> list[tuple[str, str]]:
    """(the field's label on the page, the message) for a form's errors."""
    return [(str(labels.get(key, "")), message) for key, message in (fields or {}).items()]


@login_required
@require_http_methods(["GET", "POST"])
def analytics_settings(request, code):
    shop = admin_shop(user=request.user, code=code)
    errors, values = {}, None
    if request.method == "POST":
        values = {name: request.POST.get(name, "") for name in services.SETTINGS_FIELDS}
        try:
            services.analytics_settings_update(shop=shop, data=values, user=request.user)
            messages.success(request, _("Thresholds saved."))
            return redirect("analytics:settings", code=shop.code)
        except ApplicationError as exc:
            errors = exc.fields or {"non_field_errors": exc.message}
    row = selectors.settings_for(shop)
    values = values or {name: getattr(row, name) for name in services.SETTINGS_FIELDS}
    return render(
        request,
        "analytics/settings.html",
        {
            "shop": shop,
            "row": row,
            "values": values,
            "labels": SETTINGS_LABELS,
            "errors": _named_errors(errors, SETTINGS_LABELS),
        },
        status=400 if errors else 200,
    )


# --- alerts ----------------------------------------------------------------------------------


def _alert_for(request, pk: int) -> BatchAlert:
    shop_ids = [s.pk for s in selectors.supervised_shops(request.user)]
    if not shop_ids:
        raise PermissionDenied
    alert = selectors.alerts_for(shop_ids).filter(pk=pk).first()
    if alert is None:
        raise Http404
    return alert


@login_required
@require_GET
def alert_list(request):
    shop_ids = [s.pk for s in selectors.supervised_shops(request.user)]
    if not shop_ids:
        raise PermissionDenied
    status = request.GET.get("status") or None
    if status not in (None, *BatchAlert.Status.values):
        status = None
    return render(
        request,
        "analytics/alerts.html",
        {
            "alerts": selectors.alerts_for(shop_ids, status)[:200],
            "status": status,
            "statuses": BatchAlert.Status.choices,
        },
    )


@login_required
@require_GET
def alert_detail(request, pk):
    alert = _alert_for(request, pk)
    tickets = list(selectors.alert_tickets(alert))
    customers = {t.customer_id for t in tickets}
    return render(
        request,
        "analytics/alert.html",
        {"alert": alert, "tickets": tickets, "customers_affected": len(customers)},
    )


@login_required
@require_POST
def alert_action(request, pk, action):
    alert = _alert_for(request, pk)
    try:
        services.batch_alert_transition(
            alert=alert, action=action, user=request.user, note=request.POST.get("note", "")
        )
    except ApplicationError as exc:
        messages.error(request, exc.message)
    return redirect("analytics:alert", pk=alert.pk)


# --- CSV exports -----------------------------------------------------------------------------


TICKET_EXPORT_FIELDS = [
    ("number", "number"),
    ("shop__code", "shop"),
    ("shop__timezone", None),
    ("status", "status"),
    ("priority", "priority"),
    ("dispute_type__code", "dispute_type"),
    ("created_at", "created_at"),
    ("first_responded_at", "first_responded_at"),
    ("resolved_at", "resolved_at"),
    ("closed_at", "closed_at"),
    ("sla_breached_at", "sla_breached_at"),
    ("assignee__username", "assignee"),
    ("customer__external_id", "customer"),
    ("order__order_no", "order_no"),
    ("order__courier", "courier"),
    # After the codes: the words for them (in the reader's language) and the deadlines the queue sorts by.
    ("dispute_type__name_zh", None),
    ("dispute_type__name_en", None),
    ("channel", "channel"),
    ("platform_deadline_at", "platform_deadline_at"),
    ("next_due_at", "sla_due_at"),
    ("earliest_due_at", "earliest_due_at"),
]
TICKET_EXPORT_WORDS = ["status_name", "priority_name", "dispute_type_name", "channel_name"]


@login_required
@require_GET
def export_tickets(request):
    """The queue exactly as on screen (the same query-string filters, search, tab and sort; all pages),
    streamed from a server-side cursor. Codes stay in their columns; *_name columns give the words."""
    _form, filters, shop_ids = queue_params(request)
    qs = queue_tickets(user=request.user, shop_ids=shop_ids, filters=filters, now=timezone.now())
    columns = [f for f, _label in TICKET_EXPORT_FIELDS]
    header = [label for _f, label in TICKET_EXPORT_FIELDS if label] + TICKET_EXPORT_WORDS
    index = {c: i for i, c in enumerate(columns)}
    time_indexes = [
        index[c]
        for c in (
            "created_at",
            "first_responded_at",
            "resolved_at",
            "closed_at",
            "sla_breached_at",
            "platform_deadline_at",
            "next_due_at",
            "earliest_due_at",
        )
    ]
    dropped = sorted((index[c] for c, label in TICKET_EXPORT_FIELDS if label is None), reverse=True)
    chinese = (get_language() or "").startswith("zh")
    zones = {}

    def rows():
        for values in qs.values_list(*columns).iterator(chunk_size=EXPORT_CHUNK):
            values = list(values)
            tz_name = values[index["shop__timezone"]]
            tz = zones.get(tz_name) or zones.setdefault(tz_name, ZoneInfo(tz_name))
            for i in time_indexes:
                if values[i] is not None:
                    values[i] = values[i].astimezone(tz).isoformat(timespec="seconds")
            words = [
                label_of(Status, values[index["status"]]),
                label_of(Priority, values[index["priority"]]),
                values[
                    index["dispute_type__name_zh"] if chinese else index["dispute_type__name_en"]
                ],
                label_of(Channel, values[index["channel"]]),
            ]
            for i in dropped:
                del values[i]
            yield ["" if v is None else v for v in values + words]

    return csv_response("tickets.csv", header, rows())


def label_of(choices, code: str) -> str:
    """The words for a stored code in the active language; an unknown code as it is."""
    try:
        return str(choices(code).label)
    except ValueError:
        return code


TABLES = {
    # name: (columns, function of (period, data) -> rows)
    "volume_by_day": (["date", "tickets"], lambda p: selectors.volume_by_day(p)),
    "by_dispute_type": (
        ["code", "name_zh", "name_en", "tickets"],
        lambda p: selectors.by_dispute_type(p),
    ),
    "by_sku": (["sku", "tickets"], lambda p: selectors.by_sku(p, limit=None)),
    "by_hour": (["hour", "tickets"], lambda p: selectors.by_hour_and_weekday(p)[0]),
    "by_weekday": (["weekday", "tickets"], lambda p: selectors.by_hour_and_weekday(p)[1]),
    "funnel": (["step", "tickets", "drop", "drop_rate"], lambda p: selectors.totals(p)["funnel"]),
    "compensation_by_type": (
        ["type", "count", "amount"],
        lambda p: selectors.compensation_by_type(p),
    ),
    "compensation_by_party": (
        ["party", "count", "amount"],
        lambda p: selectors.compensation_by_party(p),
    ),
    "couriers": (
        [
            "courier",
            "shipments",
            "tickets",
            "complaints",
            "per_1000",
            "damage_share",
            "loss_share",
            "cost",
            "recovered",
            "flagged",
            "suggestion",
        ],
        lambda p: selectors.courier_ranking(p),
    ),
    "agents": (
        [
            "agent",
            "tickets",
            "resolved",
            "avg_first_response_minutes",
            "avg_resolution_minutes",
            "surveys_answered",
            "satisfaction",
            "sla_breached",
            "below_target",
        ],
        lambda p: selectors.agent_kpis(p),
    ),
}


# Tables whose rows carry a code: the CSV adds a "<code>_name" column with the words, in the
# reader's language, next to the code (kept for spreadsheets that match on it).
TABLE_CODE_LABELS = {
    "funnel": ("step", FUNNEL_LABELS),
    "by_weekday": ("weekday", WEEKDAY_LABELS),
    "compensation_by_type": ("type", dict(CompensationType.choices)),
    "compensation_by_party": ("party", PARTY_LABELS),
}


@login_required
@require_GET
def export_table(request, table):
    if table not in TABLES:
        raise Http404
    period, error = _period_or_error(request)
    if error is not None:
        context = {
            "error": error,
            "shops": selectors.supervised_shops(request.user),
            "params": request.GET,
        }
        return render(
            request,
            "analytics/dashboard.html",
            _refused_filters_context(context, error),
            status=400,
        )
    columns, fetch = TABLES[table]
    header = list(columns)
    code_column, labels = TABLE_CODE_LABELS.get(table, (None, {}))
    if code_column:
        header.insert(columns.index(code_column) + 1, f"{code_column}_name")
    rollup.stats_refresh_period(period)

    def rows():
        for row in fetch(period):
            values = [plain(row.get(c, "")) if row.get(c) is not None else "" for c in columns]
            if code_column:
                code = row.get(code_column)
                values.insert(columns.index(code_column) + 1, str(labels.get(code, code)))
            yield values

    return csv_response(
        f"{table}-{period.shop.code}-{period.date_from}-{period.date_to}.csv", header, rows()
    )
