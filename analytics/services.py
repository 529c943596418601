"""Writes of the analytics app: batch-quality alerts (DOMAIN.md §7, rule R7) and shipment counts."""

import datetime as dt
import logging
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, pgettext_lazy

from aftersales.db import instance_read, instances_insert, joined_columns, prepared_execute
from aftersales.exceptions import ApplicationError, IllegalTransition
from analytics.models import AnalyticsSettings, BatchAlert, BatchAlertTicket, ShipmentStat
from disputes.quality import is_quality_type, quality_ticket_ids, ticket_batches
from shops.models import Shop
from tickets.models import Ticket

logger = logging.getLogger(__name__)

# status -> (statuses it may start from, the status it leads to)
ALERT_TRANSITIONS = {
    "acknowledge": (frozenset({BatchAlert.Status.OPEN}), BatchAlert.Status.ACKNOWLEDGED),
    "resolve": (
        frozenset({BatchAlert.Status.OPEN, BatchAlert.Status.ACKNOWLEDGED}),
        BatchAlert.Status.RESOLVED,
    ),
}
ALERT_ACTION_PAST = {
    "acknowledge": pgettext_lazy("alert action", "acknowledged"),
    "resolve": pgettext_lazy("alert action", "resolved"),
}


def _lock_batch(shop_id: int, sku: str, batch_no: str) -> None:
    """Serialise checks of one shop+SKU+batch until the end of the transaction. (SQLite, used by
    `make run` without DATABASE_URL, serialises all writes anyway; the unique constraint backs both.)"""
    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s, hashtext(%s))",
            [shop_id, f"batch-alert:{sku}\x1f{batch_no}"],
        )


# The batch's open alert (params: shop, sku, batch, the resolved status): read, or joined.
_OPEN_ALERT_FROM = (
    f" FROM {BatchAlert._meta.db_table} a"
    " WHERE a.shop_id = %s AND a.sku = %s AND a.batch_no = %s AND a.status <> %s"
    " ORDER BY a.id LIMIT 1"
)
_OPEN_ALERT_SQL = f"SELECT {joined_columns(('a', BatchAlert))}{_OPEN_ALERT_FROM}"


def _join_open_alert(*, ticket: Ticket, sku: str, batch_no: str, now: dt.datetime) -> bool:
    """The common case of a quality create, in one statement and without the lock: the batch's
    alert is open and the ticket joins it. The lock serialises deciding whether to raise an
    alert; joining an open one decides nothing (and resolving an alert does not take the lock
    either). False when no alert is open, or the ticket is in it already: the locked check
    decides (SQLite: always)."""
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        prepared_execute(
            cursor,
            _JOIN_OPEN_ALERT_SQL,
            [ticket.pk, now, ticket.shop_id, sku, batch_no, BatchAlert.Status.RESOLVED.value],
        )
        return cursor.fetchone() is not None


_JOIN_OPEN_ALERT_SQL = (
    f"INSERT INTO {BatchAlertTicket._meta.db_table} (alert_id, ticket_id, added_at)"
    f" SELECT a.id, %s, %s{_OPEN_ALERT_FROM} ON CONFLICT DO NOTHING RETURNING alert_id"
)


def batch_check(*, ticket: Ticket, now: dt.datetime | None = None) -> list[BatchAlert]:
    """Raise (once) or extend the batch alerts this ticket's SKU+batch pairs call for.
    Returns the alerts raised by this call (not those the ticket was merely added to).
    `ticket`: with its shop, type, order and items (the creation's instance, just committed)."""
    from disputes.services import policy_current, policy_of

    if not is_quality_type(ticket.dispute_type):
        return []
    now = now or timezone.now()
    policy = policy_of(policy_current(shop=ticket.shop))
    threshold, window_days = policy.batch_alert_threshold, policy.batch_alert_window_days
    raised = []
    for sku, batch_no in ticket_batches(ticket):
        if _join_open_alert(ticket=ticket, sku=sku, batch_no=batch_no, now=now):
            continue
        with transaction.atomic():
            _lock_batch(ticket.shop_id, sku, batch_no)
            # Written out: the ORM took longer to build these than to run them.
            alert = instance_read(
                _OPEN_ALERT_SQL,
                [ticket.shop_id, sku, batch_no, BatchAlert.Status.RESOLVED.value],
                BatchAlert,
            )
            if alert is not None:
                instances_insert([BatchAlertTicket(alert=alert, ticket=ticket)], skip_conflict=True)
                continue
            since = now - dt.timedelta(days=window_days)
            last_resolved = (
                BatchAlert.objects.filter(
                    shop_id=ticket.shop_id,
                    sku=sku,
                    batch_no=batch_no,
                    status=BatchAlert.Status.RESOLVED,
                )
                .order_by("-resolved_at")
                .values_list("resolved_at", flat=True)
                .first()
            )
            if last_resolved and last_resolved > since:
                since = last_resolved  # a resolved alert's tickets do not raise the next one
            ids = quality_ticket_ids(
                shop_id=ticket.shop_id, sku=sku, batch_no=batch_no, since=since
            )
            if len(ids) < threshold:
                continue
            try:
                with transaction.atomic():
                    alert = BatchAlert.objects.create(
                        shop=ticket.shop,
                        sku=sku,
                        batch_no=batch_no,
                        threshold=threshold,
                        window_days=window_days,
                    )
            except IntegrityError:  # another process raised it without taking the lock: join it
                alert = BatchAlert.objects.exclude(status=BatchAlert.Status.RESOLVED).get(
                    shop_id=ticket.shop_id, sku=sku, batch_no=batch_no
                )
                BatchAlertTicket.objects.bulk_create(
                    [BatchAlertTicket(alert=alert, ticket=ticket)], ignore_conflicts=True
                )
                continue
            BatchAlertTicket.objects.bulk_create(
                [BatchAlertTicket(alert=alert, ticket_id=i) for i in ids], ignore_conflicts=True
            )
            _notify_supervisors(alert=alert, count=len(ids), ticket=ticket)
            raised.append(alert)
    return raised


def _notify_supervisors(*, alert: BatchAlert, count: int, ticket: Ticket) -> None:
    from notifications.services import notification_send, shop_supervisors

    notification_send(
        recipients=shop_supervisors(shop=alert.shop),
        shop=alert.shop,
        kind="batch_alert",
        title=gettext_noop("Batch quality alert: %(sku)s %(batch)s (%(count)s tickets)"),
        body=gettext_noop(
            "%(count)s quality tickets on SKU %(sku)s, batch %(batch)s within %(days)s days. Consider a recall or taking it off sale."
        ),
        params={
            "sku": alert.sku,
            "batch": alert.batch_no,
            "count": count,
            "days": alert.window_days,
        },
        ticket=ticket,
        url=reverse("analytics:alert", args=[alert.pk]),
    )


@transaction.atomic
def batch_alert_transition(*, alert: BatchAlert, action: str, user, note: str = "") -> BatchAlert:
    if action not in ALERT_TRANSITIONS:
        raise ApplicationError(
            "validation_error",
            _("Unknown action."),
            fields={"action": _("Unknown action '%(action)s'.") % {"action": str(action)[:30]}},
        )
    note = (note or "").strip()
    if action == "resolve" and not note:
        raise ApplicationError(
            "validation_error",
            _("A note is required to resolve an alert."),
            fields={"note": _("Say how the alert was resolved.")},
        )
    alert = BatchAlert.objects.select_for_update().get(pk=alert.pk)
    sources, target = ALERT_TRANSITIONS[action]
    if alert.status not in sources:
        raise IllegalTransition(
            _("An alert that is %(status)s cannot be %(action)s.")
            % {"status": BatchAlert.Status(alert.status).label, "action": ALERT_ACTION_PAST[action]}
        )
    now = timezone.now()
    alert.status = target
    if action == "acknowledge":
        alert.acknowledged_at, alert.acknowledged_by = now, user
    else:
        alert.resolved_at, alert.resolved_by = now, user
    if note:
        alert.note = f"{alert.note}\n{note}".strip()
    alert.save()
    return alert


def shipment_stat_record(
    *, shop: Shop, date: dt.date, courier: str, shipments: int
) -> tuple[ShipmentStat, bool]:
    """Store (or replace) the shop's count of parcels handed to `courier` on `date`."""
    row, created = ShipmentStat.objects.update_or_create(
        shop=shop, date=date, courier=courier.strip(), defaults={"shipments": shipments}
    )
    return row, created


SETTINGS_FIELDS = ("courier_complaint_threshold", "satisfaction_target")


@transaction.atomic
def analytics_settings_update(*, shop: Shop, data: dict, user) -> AnalyticsSettings:
    """A shop admin sets the early-warning thresholds. Every field is checked before anything is
    saved; errors name the field. Who changed them and when is kept on the row."""
    row = AnalyticsSettings.objects.select_for_update().filter(
        shop=shop
    ).first() or AnalyticsSettings(shop=shop)
    errors = {}
    for name in SETTINGS_FIELDS:
        if name not in data:
            continue
        field = AnalyticsSettings._meta.get_field(name)
        try:
            value = Decimal(str(data[name]).strip())
            if not value.is_finite():
                raise InvalidOperation
            setattr(row, name, field.clean(value, row))
        except (InvalidOperation, ValueError):
            errors[name] = _("Enter a number.")
        except ValidationError as exc:
            errors[name] = " ".join(exc.messages)
    if errors:
        raise ApplicationError("validation_error", _("The settings are invalid."), fields=errors)
    row.updated_by = user
    row.save()
    return row
