"""Signed webhooks to shop backends, through a transactional outbox.

An event is written in the same transaction as the change it announces; each
(event, endpoint) pair is a delivery row that a worker claims for a short while,
POSTs, and records. Retries are rows with a due time swept by Celery beat, not
Celery countdowns, so a crashed worker or a broker restart loses nothing; each
event id is delivered at least once and receivers de-duplicate by id.
"""

import datetime as dt
import hashlib
import hmac
import json
import secrets
import time

import requests
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from aftersales.db import rows_insert
from aftersales.exceptions import ApplicationError
from shops.config import shops_config
from shops.models import Shop
from webhooks.addresses import failure_category, post, url_error
from webhooks.models import (
    EVENT_TYPES,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)

SIGNATURE_HEADER = "X-Aftersales-Signature"
CLAIM_SECONDS = 60
RETRY_WINDOW = dt.timedelta(hours=24)


# --- signing ----------------------------------------------------------------


def signature_header(*, secret: str, body: bytes, timestamp: int) -> str:
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def signature_valid(
    *, secret: str, header: str, body: bytes, tolerance_seconds: int = 300, now: float | None = None
) -> bool:
    """What a receiver does: recompute the HMAC and reject stale timestamps (replays)."""
    try:
        parts = dict(item.split("=", 1) for item in header.split(","))
        timestamp = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs((now or time.time()) - timestamp) > tolerance_seconds:
        return False
    expected = signature_header(secret=secret, body=body, timestamp=timestamp)
    return hmac.compare_digest(expected, header)


def retry_delay(attempts: int) -> dt.timedelta:
    """30 s, 1 min, 2 min, ... doubling, at most 1 h between attempts."""
    return dt.timedelta(seconds=min(30 * 2 ** max(attempts - 1, 0), 3600))


# --- endpoints --------------------------------------------------------------


def endpoint_create(*, shop: Shop, url: str, events: list[str]) -> WebhookEndpoint:
    errors = {}
    if error := url_error(url):
        errors["url"] = error
    unknown = [e for e in events if e != "*" and e not in EVENT_TYPES]
    if not events or unknown:
        errors["events"] = _("Give '*' or some of: %(types)s.") % {"types": ", ".join(EVENT_TYPES)}
        if unknown:
            errors["events"] += " " + _("Unknown: %(unknown)s.") % {
                "unknown": ", ".join(str(e) for e in unknown)
            }
    if errors:
        raise ApplicationError(
            "validation_error", _("The request has invalid fields."), fields=errors
        )
    return WebhookEndpoint.objects.create(
        shop=shop, url=url, events=events, secret=f"whsec_{secrets.token_hex(24)}"
    )


@transaction.atomic
def endpoint_deactivate(*, endpoint: WebhookEndpoint) -> None:
    """The endpoint gets nothing more: what was still waiting to be sent to it is dropped (marked,
    and kept in the delivery log)."""
    if endpoint.active:
        endpoint.active = False
        endpoint.deactivated_at = timezone.now()
        endpoint.save(update_fields=["active", "deactivated_at"])
    WebhookDelivery.objects.filter(endpoint=endpoint, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.DROPPED, claimed_until=None
    )


# --- the outbox -------------------------------------------------------------


def event_emit(*, shop: Shop, type: str, data: dict) -> WebhookEvent | None:
    """Record an event for the shop's endpoints; delivery starts after the transaction commits."""
    events, delivery_ids = _outbox_write([(shop, type, data)])
    if not events:
        return None
    from webhooks.tasks import deliver_webhook

    # robust: if the broker is down the deliveries stay due for the beat sweep; the caller's work
    # (a ticket created, a compensation approved) is committed and must be answered as done.
    transaction.on_commit(lambda: [deliver_webhook.delay(pk) for pk in delivery_ids], robust=True)
    return WebhookEvent.from_db("default", EVENT_FIELDS, events[0])


def events_emit(*, events: list[tuple[Shop, str, dict]]) -> int:
    """event_emit for many (shop, type, data) at once, e.g. a chunk of SLA breaches: the
    endpoints are read once, each table gets one INSERT, and after commit one task sends the
    deliveries in turn (those it does not reach stay due for the beat sweep of deliveries).
    Returns how many events were recorded."""
    if not events:
        return 0
    rows, delivery_ids = _outbox_write(events)
    if delivery_ids:
        from webhooks.tasks import deliver_webhooks

        # robust: if the broker is down the deliveries stay due for the beat sweep; the caller's work is committed.
        transaction.on_commit(lambda: deliver_webhooks.delay(delivery_ids), robust=True)
    return len(rows)


EVENT_FIELDS = ("id", "shop_id", "type", "data", "created_at")
DELIVERY_FIELDS = ("event_id", "endpoint_id", "status", "attempts", "next_attempt_at", "created_at")


def _outbox_write(events: list[tuple[Shop, str, dict]]) -> tuple[list[tuple], list[int]]:
    """The outbox rows of `events` for the endpoints that want them, written from plain values
    (a chunk of SLA timers writes thousands): (event rows in EVENT_FIELDS order, delivery ids)."""
    endpoints = shops_config(
        {shop.pk for shop, _type, _data in events}, "webhook_endpoints", _active_endpoints
    )
    now = timezone.now()
    rows, deliveries = [], []
    for shop, type, data in events:
        assert type in EVENT_TYPES, type
        wanted = [e for e in endpoints.get(shop.pk, []) if e.wants(type)]
        if not wanted:
            continue
        # Round-trip through JSON now, so what is stored is exactly what will be sent.
        event_id = WebhookEvent.new_id()
        rows.append(
            (event_id, shop.pk, type, json.loads(json.dumps(data, cls=DjangoJSONEncoder)), now)
        )
        deliveries += [
            (event_id, endpoint.pk, WebhookDelivery.Status.PENDING.value, 0, now, now)
            for endpoint in wanted
        ]
    rows_insert(WebhookEvent, EVENT_FIELDS, rows)
    return rows, rows_insert(WebhookDelivery, DELIVERY_FIELDS, deliveries, returning="id")


def _active_endpoints(shop_ids: set[int]) -> dict[int, list[WebhookEndpoint]]:
    """Each shop's active endpoints (kept per process until its configuration changes)."""
    endpoints: dict[int, list[WebhookEndpoint]] = {pk: [] for pk in shop_ids}
    for endpoint in WebhookEndpoint.objects.filter(shop_id__in=shop_ids, active=True):
        endpoints[endpoint.shop_id].append(endpoint)
    return endpoints


def event_body(event: WebhookEvent) -> bytes:
    payload = {
        "id": event.id,
        "type": event.type,
        "created_at": event.created_at.isoformat(),
        "data": event.data,
    }
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def _claim(delivery_id: int, now: dt.datetime) -> WebhookDelivery | None:
    """Take the delivery for CLAIM_SECONDS if it is pending, due and not held by another worker."""
    with transaction.atomic():
        delivery = (
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .select_related("event", "endpoint")
            .filter(pk=delivery_id, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .first()
        )
        if delivery is None:
            return None
        if not delivery.endpoint.active:  # removed while this was being written
            delivery.status = WebhookDelivery.Status.DROPPED
            delivery.save(update_fields=["status"])
            return None
        delivery.claimed_until = now + dt.timedelta(seconds=CLAIM_SECONDS)
        delivery.save(update_fields=["claimed_until"])
        return delivery


def delivery_attempt(*, delivery_id: int) -> str | None:
    """POST one delivery if it is ours to send; returns its status afterwards (None if skipped)."""
    started = timezone.now()
    delivery = _claim(delivery_id, started)
    if delivery is None:
        return None
    body = event_body(delivery.event)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Aftersales-Webhooks/1",
        "X-Aftersales-Event-Id": delivery.event_id,
        SIGNATURE_HEADER: signature_header(
            secret=delivery.endpoint.secret, body=body, timestamp=int(time.time())
        ),
    }
    status_code, error = None, ""
    clock = time.monotonic()
    try:
        response = post(delivery.endpoint.url, data=body, headers=headers)
        status_code = response.status_code
        if not 200 <= status_code < 300:
            error = f"HTTP {status_code}"
    except requests.RequestException as exc:
        error = failure_category(exc)
    duration_ms = int((time.monotonic() - clock) * 1000)
    return _record(
        delivery.pk, started=started, status_code=status_code, error=error, duration_ms=duration_ms
    )


@transaction.atomic
def _record(delivery_id: int, *, started, status_code, error, duration_ms) -> str:
    delivery = (
        WebhookDelivery.objects.select_for_update().select_related("event").get(pk=delivery_id)
    )
    WebhookAttempt.objects.create(
        delivery=delivery,
        attempted_at=started,
        status_code=status_code,
        error=error,
        duration_ms=duration_ms,
    )
    now = timezone.now()
    delivery.attempts += 1
    delivery.claimed_until = None
    if not error:
        delivery.status = WebhookDelivery.Status.DELIVERED
        delivery.delivered_at = now
    else:
        next_at = now + retry_delay(delivery.attempts)
        if next_at > delivery.event.created_at + RETRY_WINDOW:
            delivery.status = WebhookDelivery.Status.FAILED
        else:
            delivery.next_attempt_at = next_at
    delivery.save(
        update_fields=["attempts", "claimed_until", "status", "delivered_at", "next_attempt_at"]
    )
    return delivery.status


def deliveries_send(*, delivery_ids: list[int]) -> dict[str, int]:
    """Send deliveries one after the other (a chunk of SLA breaches; what the beat sweep found due
    for one endpoint). Once an endpoint fails, its other deliveries here are not tried now: they
    wait until the failed one's next attempt, so an endpoint that is down or hangs costs the
    workers one timeout per batch, not one per delivery. Returns counts by outcome."""
    endpoint_of = dict(
        WebhookDelivery.objects.filter(pk__in=delivery_ids).values_list("pk", "endpoint_id")
    )
    retry_at: dict[int, dt.datetime] = {}  # endpoint id -> when its failed delivery is tried again
    held: dict[int, list[int]] = {}
    counts = {"delivered": 0, "pending": 0, "failed": 0, "skipped": 0, "held": 0}
    for pk in delivery_ids:
        endpoint = endpoint_of.get(pk)
        if endpoint in retry_at:
            held.setdefault(endpoint, []).append(pk)
            continue
        status = delivery_attempt(delivery_id=pk) if endpoint is not None else None
        counts[status or "skipped"] += 1
        if status == WebhookDelivery.Status.PENDING:
            retry_at[endpoint] = WebhookDelivery.objects.values_list(
                "next_attempt_at", flat=True
            ).get(pk=pk)
        elif (
            status == WebhookDelivery.Status.FAILED
        ):  # its retry window is over; the endpoint is still down
            retry_at[endpoint] = timezone.now() + retry_delay(1)
    for endpoint, ids in held.items():
        counts["held"] += WebhookDelivery.objects.filter(
            pk__in=ids,
            status=WebhookDelivery.Status.PENDING,
            next_attempt_at__lt=retry_at[endpoint],
        ).update(next_attempt_at=retry_at[endpoint])
    return counts


def deliveries_due_by_endpoint(
    *, now: dt.datetime | None = None, limit: int = 500, batch: int = 50
) -> list[list[int]]:
    """deliveries_due in batches of at most `batch`, each for one endpoint (for deliveries_send)."""
    per_endpoint: dict[int, list[int]] = {}
    for pk, endpoint in _due(now).values_list("pk", "endpoint_id")[:limit]:
        per_endpoint.setdefault(endpoint, []).append(pk)
    return [
        ids[start : start + batch]
        for ids in per_endpoint.values()
        for start in range(0, len(ids), batch)
    ]


def deliveries_due(*, now: dt.datetime | None = None, limit: int = 500) -> list[int]:
    """Pending deliveries whose time has come and that no live worker holds (beat enqueues them)."""
    return list(_due(now).values_list("pk", flat=True)[:limit])


def _due(now: dt.datetime | None):
    now = now or timezone.now()
    return (
        WebhookDelivery.objects.filter(
            status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now
        )
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .order_by("next_attempt_at", "pk")
    )
