"""Workspace notifications (the bell). Outbound channels (SMS, email) live elsewhere."""

import datetime as dt
from collections.abc import Iterable
from typing import NamedTuple

from django.utils import timezone

from aftersales.db import rows_insert
from notifications.models import Notification
from shops.models import Membership, Shop
from shops.permissions import SUPERVISOR_ROLES


def shop_staff(*, shop: Shop, roles: Iterable[str]) -> list:
    """The users holding one of `roles` in `shop` (admins count as supervisors where asked)."""
    return shops_staff(shop_ids=[shop.pk], roles=roles).get(shop.pk, [])


def shops_staff(*, shop_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list]:
    """shop_staff for several shops in one query: shop id -> users, in membership order."""
    staff: dict[int, list] = {}
    memberships = (
        Membership.objects.filter(shop_id__in=list(shop_ids), role__in=list(roles))
        .select_related("user")
        .order_by("pk")
    )
    for membership in memberships:
        staff.setdefault(membership.shop_id, []).append(membership.user)
    return staff


def shop_supervisors(*, shop: Shop) -> list:
    return shop_staff(shop=shop, roles=SUPERVISOR_ROLES)


class NewNotification(NamedTuple):
    """An unsaved notification as plain values (writers of thousands skip the model instances)."""

    recipient_id: int
    shop_id: int
    ticket_id: int | None
    kind: str
    title: str
    body: str
    params: dict | None
    url: str
    created_at: dt.datetime


def notifications_build(
    *,
    recipients: Iterable,
    shop: Shop,
    kind: str,
    title: str,
    body: str = "",
    params: dict | None = None,
    ticket=None,
    url: str = "",
) -> list[NewNotification]:
    """The rows of notification_send, one per distinct recipient, for callers that write many
    at once (notifications_insert). `title` and `body` are English templates marked with
    gettext_noop, `params` their %-parameters: the text is rendered when read, in the reader's
    language (Notification.title_text)."""
    params = dict(params or {})
    now, seen, rows = timezone.now(), set(), []
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(
            NewNotification(
                user.pk,
                shop.pk,
                ticket.pk if ticket else None,
                kind,
                title[:200],
                body,
                params,
                url,
                now,
            )
        )
    return rows


def notifications_insert(rows: list[NewNotification]) -> None:
    rows_insert(Notification, NewNotification._fields, rows)


def notification_send(
    *,
    recipients: Iterable,
    shop: Shop,
    kind: str,
    title: str,
    body: str = "",
    params: dict | None = None,
    ticket=None,
    url: str = "",
) -> list[Notification]:
    """One notification per distinct recipient, in the caller's transaction (texts as in
    notifications_build)."""
    rows = notifications_build(
        recipients=recipients,
        shop=shop,
        kind=kind,
        title=title,
        body=body,
        params=params,
        ticket=ticket,
        url=url,
    )
    return Notification.objects.bulk_create([Notification(**row._asdict()) for row in rows])


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ids is None)."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
