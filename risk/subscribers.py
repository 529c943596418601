"""How risk takes part in the core (aftersales.hooks): it hashes each photo as it is stored, and
answers the risk flags of tickets, customers and attachments, and why a flagged ticket's
compensation waits for a supervisor."""

from django.utils.translation import gettext

from aftersales import hooks
from risk import selectors
from risk.services import photo_hash_store


@hooks.subscribe(hooks.ATTACHMENT_ADDED)
def hash_photo(*, attachment, **_):
    photo_hash_store(attachment=attachment)


def _by_code(findings) -> dict:
    return {f.code: f.as_flag() for f in findings}


@hooks.provide(hooks.TICKET_RISK)
def tickets_risk(*, tickets):
    return {pk: _by_code(found) for pk, found in selectors.tickets_findings(tickets).items()}


@hooks.provide(hooks.ATTACHMENT_RISK)
def attachments_risk(*, attachments):
    return {
        pk: _by_code(found) for pk, found in selectors.attachments_findings(attachments).items()
    }


def _customer_findings(customer):
    """The customer's findings, read once per customer object: the customer page asks for its
    flags (CUSTOMER_RISK) and for their evidence (CUSTOMER_PAGE_SECTIONS) in one request."""
    found = getattr(customer, "_risk_findings", None)
    if found is None:
        found = customer._risk_findings = selectors.customer_findings(customer)
    return found


@hooks.provide(hooks.CUSTOMER_RISK)
def customer_risk(*, customer):
    return _by_code(_customer_findings(customer))


@hooks.provide(hooks.COMPENSATION_REVIEW_REASONS)
def flagged_tickets(*, tickets):
    """A flagged ticket's compensation always waits for a supervisor (API.md "Risk"), unless a
    supervisor dismissed the flag."""
    result = {}
    for pk, found in selectors.tickets_findings(tickets).items():
        still = selectors.open_findings(found)
        if still:
            # The flag's name, then what it found: the inbox and the panel list these.
            result[pk] = {
                f.code: gettext("%(flag)s: %(message)s") % {"flag": f.label, "message": f.message}
                for f in still
            }
    return result


@hooks.provide(hooks.TICKET_PAGE_CONTEXT)
def risk_section(*, ticket):
    findings = selectors.ticket_findings(ticket)
    return {"risk_findings": findings, "risk_holds": bool(selectors.open_findings(findings))}


@hooks.provide(hooks.CUSTOMER_PAGE_SECTIONS)
def customer_risk_evidence(*, customer):
    """The customer page's evidence beside the flags: each reused photo next to the one it
    matches, each photo's capture time next to the order's delivery (or payment)."""
    findings = [f for f in _customer_findings(customer) if f.evidence]
    if not findings:
        return {}
    return {"risk": {"template": "risk/_customer_risk.html", "findings": findings}}
