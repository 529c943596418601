"""SLA timers, one module per part:

- sweep: claim due rows with SKIP LOCKED, enqueue after commit; the reaper
- firing: fire a claimed chunk as a batch (one timer at a time on failure), park what cannot fire
- handlers: what each kind of timer does, and the effects a batch writes together
- contact: contacting customers within the contact window and the daily limit (DOMAIN.md §6)
- survey: the satisfaction survey
"""

from sla.services.contact import (
    contact_customer,
    contact_next_allowed,
    contacts_sent_today,
)
from sla.services.firing import (
    BATCHED,
    FINISH_FIELDS,
    RESCHEDULE_FIELDS,
    TICKET_RELATED,
    timers_fire,
    timers_fire_batch,
    timers_fire_each,
)
from sla.services.handlers import (
    HANDLERS,
    TARGET_LABELS,
    Effects,
    reship_tracking_schedule,
)
from sla.services.survey import (
    survey_answer,
    survey_for,
    survey_get,
)
from sla.services.sweep import (
    MAX_BATCHES_PER_TICK,
    timers_claim_due,
    timers_reap,
    timers_release,
    timers_sweep,
)

__all__ = [
    "BATCHED",
    "FINISH_FIELDS",
    "HANDLERS",
    "MAX_BATCHES_PER_TICK",
    "RESCHEDULE_FIELDS",
    "TARGET_LABELS",
    "TICKET_RELATED",
    "Effects",
    "contact_customer",
    "contact_next_allowed",
    "contacts_sent_today",
    "reship_tracking_schedule",
    "survey_answer",
    "survey_for",
    "survey_get",
    "timers_claim_due",
    "timers_fire",
    "timers_fire_batch",
    "timers_fire_each",
    "timers_reap",
    "timers_release",
    "timers_sweep",
]
