"""How risk takes part in the core (aftersales.hooks): it hashes each photo as it is stored, and
answers the risk flags of tickets, customers and attachments, and why a flagged ticket's
compensation waits for a supervisor."""

from aftersales import hooks
from risk import selectors
from risk.services import photo_hash_store


@hooks.subscribe(hooks.ATTACHMENT_ADDED)
def hash_photo(*, attachment, **_):
    photo_hash_store(attachment=attachment)


def _by_code(findings) -> dict:
    return {f.code: {"message": f.message, "refs": f.refs} for f in findings}


@hooks.provide(hooks.TICKET_RISK)
def tickets_risk(*, tickets):
    return {pk: _by_code(found) for pk, found in selectors.tickets_findings(tickets).items()}


@hooks.provide(hooks.ATTACHMENT_RISK)
def attachments_risk(*, attachments):
    return {
        pk: _by_code(found) for pk, found in selectors.attachments_findings(attachments).items()
    }


@hooks.provide(hooks.CUSTOMER_RISK)
def customer_risk(*, customer):
    return _by_code(selectors.customer_findings(customer))


@hooks.provide(hooks.COMPENSATION_REVIEW_REASONS)
def flagged_tickets(*, tickets):
    """A flagged ticket's compensation always waits for a supervisor (API.md "Risk")."""
    return {
        pk: {f.code: f.message for f in found}
        for pk, found in selectors.tickets_findings(tickets).items()
        if found
    }


@hooks.provide(hooks.TICKET_PAGE_CONTEXT)
def risk_section(*, ticket):
    return {"risk_findings": selectors.ticket_findings(ticket)}
