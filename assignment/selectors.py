from django.db.models import Count, Q

from assignment.models import Availability
from shops.models import Membership, Shop
from tickets.models import DisputeType
from tickets.states import ACTIVE_STATUS_LIST


def shop_staff_for_assignment(*, shop: Shop) -> list[dict]:
    """Each member of the shop with their role, whether they are available, and their open tickets
    in the shop (the settings page)."""
    memberships = (
        Membership.objects.filter(shop=shop, user__is_active=True)
        .select_related("user")
        .annotate(
            open_count=Count(
                "user__assigned_tickets",
                filter=Q(
                    user__assigned_tickets__shop=shop,
                    user__assigned_tickets__status__in=ACTIVE_STATUS_LIST,
                ),
            )
        )
        .order_by("user__username")
    )
    available = set(
        Availability.objects.filter(user__memberships__shop=shop, available=True).values_list(
            "user_id", flat=True
        )
    )
    return [
        {
            "user": m.user,
            "username": m.user.get_username(),
            "role": m.get_role_display(),
            "available": m.user_id in available,
            "open_count": m.open_count,
        }
        for m in memberships
    ]


def dispute_types_for_skills(*, shop: Shop) -> list[DisputeType]:
    return list(
        DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop)).order_by("category", "code")
    )
