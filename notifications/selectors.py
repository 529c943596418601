from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for(*, user) -> QuerySet:
    return Notification.objects.filter(recipient=user).select_related("ticket")


def unread_count(*, user) -> int:
    return Notification.objects.filter(recipient=user, read_at__isnull=True).count()
