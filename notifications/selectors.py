from django.db import connection
from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for(*, user) -> QuerySet:
    return Notification.objects.filter(recipient=user).select_related("ticket")


def unread_count(*, user) -> int:
    """The bell's number, read on every page: written out, as the ORM's count() took three times
    as long to build as the query takes to run."""
    with connection.cursor() as cursor:
        cursor.execute(_UNREAD_COUNT_SQL, [user.pk])
        return cursor.fetchone()[0]


_UNREAD_COUNT_SQL = (
    f"SELECT COUNT(*) FROM {Notification._meta.db_table}"
    " WHERE recipient_id = %s AND read_at IS NULL"
)
