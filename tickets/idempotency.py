"""Idempotent requests with Stripe's semantics: the same key and body within 24 h
replays the first response; the same key with another body is refused; concurrent
requests with one key run the action once (the unique index serialises them)."""

import hashlib
import json
import re
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from aftersales.exceptions import ApplicationError
from shops.models import Shop
from tickets.models import IdempotencyRecord

MAX_KEY_LENGTH = 255
# Visible ASCII, spaces only inside (a UUID, an order id): what every HTTP stack carries unchanged.
KEY_PATTERN = r"[!-~]([ -~]{0,253}[!-~])?"


def request_fingerprint(payload) -> str:
    canonical = json.dumps(
        payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False, cls=DjangoJSONEncoder
    )
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotent_run(
    *, shop: Shop, key: str, payload, action: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """Run `action` once per (shop, key); returns (status, body, replayed)."""
    if not re.fullmatch(KEY_PATTERN, key):
        raise ApplicationError(
            "invalid_idempotency_key",
            gettext("Idempotency-Key must be 1 to %(limit)s visible ASCII characters.")
            % {"limit": MAX_KEY_LENGTH},
        )
    fingerprint = request_fingerprint(payload)
    now = timezone.now()
    with transaction.atomic():
        IdempotencyRecord.objects.filter(
            shop=shop, key=key, created_at__lt=now - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
        ).delete()
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(
                    shop=shop,
                    key=key,
                    request_hash=fingerprint,
                    response_status=0,
                    response_body={},
                    created_at=now,
                )
        except IntegrityError:
            # Another request with this key committed first (we waited on its row lock).
            first = IdempotencyRecord.objects.get(shop=shop, key=key)
            if first.request_hash != fingerprint:
                raise ApplicationError(
                    "idempotency_key_reused",
                    gettext("This Idempotency-Key was already used with a different request body."),
                    status_code=422,
                ) from None
            return first.response_status, first.response_body, True
        status, body = action()
        record.response_status = status
        record.response_body = body
        record.save(update_fields=["response_status", "response_body"])
        return status, body, False


def idempotency_purge_expired() -> int:
    cutoff = timezone.now() - timedelta(hours=settings.IDEMPOTENCY_TTL_HOURS)
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
