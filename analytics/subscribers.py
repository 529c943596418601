"""How analytics takes part in the core (aftersales.hooks)."""

from aftersales import hooks
from aftersales.db import instances_read, joined_columns
from analytics.models import BatchAlert, BatchAlertTicket
from analytics.services import batch_check
from disputes.quality import is_quality_type


@hooks.subscribe(hooks.TICKET_CREATED, after_commit=True)
def check_batch(*, ticket, **_):
    """After the ticket's transaction commits, so concurrent creations see each other's tickets
    and a failure of the check never undoes (or fails) the ticket."""
    if is_quality_type(ticket.dispute_type):
        # The creation's own instance (shop, type, order and items as written): no read-back.
        batch_check(ticket=ticket)


@hooks.provide(hooks.TICKET_PAGE_CONTEXT)
def batch_alerts_of_ticket(*, ticket):
    """Open batch-quality alerts that counted this ticket: it is part of a batch problem."""
    # Written out: on every ticket page, and the ORM took longer to build it than to run it.
    alerts = instances_read(
        _ALERTS_OF_TICKET_SQL, [ticket.pk, BatchAlert.Status.RESOLVED.value], BatchAlert
    )
    return {"batch_alerts": alerts}


_ALERTS_OF_TICKET_SQL = (
    f"SELECT {joined_columns(('a', BatchAlert))} FROM {BatchAlert._meta.db_table} a"
    f" JOIN {BatchAlertTicket._meta.db_table} link ON link.alert_id = a.id"
    " WHERE link.ticket_id = %s AND a.status <> %s ORDER BY a.id"
)
