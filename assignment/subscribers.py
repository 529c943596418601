"""What assignment does when a ticket changes (aftersales.hooks): a new ticket finds its agent
before it is inserted (the NEW_TICKET_ASSIGNEE extension point); a ticket leaving an agent's open
work (resolved, closed, or taken from them) frees a place under the cap, so the shop's waiting
tickets are handed out once that has committed."""

from aftersales import hooks
from assignment.models import Mode
from assignment.services import assignee_choose, tickets_hand_out
from tickets.states import ACTIVE_STATUSES


@hooks.provide(hooks.NEW_TICKET_ASSIGNEE)
def assignee_of_new_ticket(*, shop, dispute_type):
    chosen = assignee_choose(shop_id=shop.pk, dispute_type=dispute_type)
    return {"assignee": chosen[0], "mode": chosen[1]} if chosen else {}


@hooks.subscribe(hooks.TICKET_STATUS_CHANGED, after_commit=True)
def hand_out_when_a_place_frees(*, ticket, previous, **_):
    if ticket.assignee_id and previous in ACTIVE_STATUSES and ticket.status not in ACTIVE_STATUSES:
        tickets_hand_out(shop_id=ticket.shop_id)


@hooks.subscribe(hooks.TICKET_UPDATED, after_commit=True)
def hand_out_when_taken_from_an_agent(*, ticket, changes, previous_assignee_id=None, **_):
    """An open ticket taken from an agent (unassigned, or given to someone else) frees a place
    under that agent's cap; handing a waiting ticket out fills one and frees none."""
    if "assignee" in changes and previous_assignee_id and ticket.status in ACTIVE_STATUSES:
        tickets_hand_out(shop_id=ticket.shop_id)


@hooks.provide(hooks.WORKSPACE_LABELS)
def assignment_labels():
    return {"assignment_mode": Mode}
