"""Workspace notifications (the bell). Outbound channels (SMS, email) live elsewhere."""

from collections.abc import Iterable

from django.utils import timezone

from notifications.models import Notification
from shops.models import Membership, Role, Shop


SUPERVISOR_ROLES = (Role.SUPERVISOR, Role.ADMIN)


def shop_staff(*, shop: Shop, roles: Iterable[str]) -> list:
    """The users holding one of `roles` in `shop` (admins count as supervisors where asked)."""
    return shops_staff(shop_ids=[shop.pk], roles=roles).get(shop.pk, [])


def shops_staff(*, shop_ids: Iterable[int], roles: Iterable[str]) -> dict[int, list]:
    """shop_staff for several shops in one query: shop id -> users, in membership order."""
    staff: dict[int, list] = {}
    memberships = Membership.objects.filter(shop_id__in=list(shop_ids), role__in=list(roles)).select_related("user").order_by("pk")
    for membership in memberships:
        staff.setdefault(membership.shop_id, []).append(membership.user)
    return staff


def shop_supervisors(*, shop: Shop) -> list:
    return shop_staff(shop=shop, roles=SUPERVISOR_ROLES)


def notifications_build(*, recipients: Iterable, shop: Shop, kind: str, title: str, body: str = "", ticket=None, url: str = "") -> list[Notification]:
    """The unsaved rows of notification_send: one per distinct recipient (for callers that
    write many at once with one bulk_create)."""
    seen, rows = set(), []
    for user in recipients:
        if user is None or user.pk in seen:
            continue
        seen.add(user.pk)
        rows.append(Notification(recipient=user, shop=shop, ticket=ticket, kind=kind, title=title[:200], body=body, url=url))
    return rows


def notification_send(*, recipients: Iterable, shop: Shop, kind: str, title: str, body: str = "", ticket=None, url: str = "") -> list[Notification]:
    """One notification per distinct recipient, in the caller's transaction."""
    rows = notifications_build(recipients=recipients, shop=shop, kind=kind, title=title, body=body, ticket=ticket, url=url)
    return Notification.objects.bulk_create(rows)


def notification_mark_read(*, user, ids: Iterable[int] | None = None) -> int:
    """Mark the user's notifications read (all unread ones when ids is None)."""
    rows = Notification.objects.filter(recipient=user, read_at__isnull=True)
    if ids is not None:
        rows = rows.filter(pk__in=list(ids))
    return rows.update(read_at=timezone.now())
