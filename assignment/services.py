"""Automatic assignment: who gets a ticket, and the writes that give it.

Fairness under concurrency rests on one lock per shop: every choice of an agent — a new ticket
(`assignee_choose`, inside the creation's transaction, before its INSERT) or the hand-out of
waiting tickets (`tickets_hand_out`) — first takes the shop's `AssignmentSettings` row with
SELECT … FOR UPDATE and only then counts the agents' open tickets. Two choices in one shop
therefore take turns, and the second counts what the first gave, so no agent goes over the cap.
The hand-out also claims the waiting tickets with SKIP LOCKED (as the SLA sweep claims its
timers): a ticket someone is working on right now is left for the next hand-out instead of being
waited for, and a ticket is never given twice.
"""

from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Case, Count, IntegerField, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext

from aftersales.db import unique_row
from aftersales.exceptions import ApplicationError
from assignment.models import (
    AUTOMATIC_MODES,
    DEFAULT_MAX_OPEN_PER_AGENT,
    AssignmentSettings,
    Availability,
    Mode,
)
from shops.config import shop_config
from shops.models import Membership, Shop
from tickets.models import DisputeType, Ticket
from tickets.services import Actor, ticket_assign_held
from tickets.states import ACTIVE_STATUS_LIST, Priority

User = get_user_model()

MAX_OPEN_LIMIT = 1000
# Waiting tickets handed out first: the most urgent, then the oldest.
_URGENCY = Case(
    When(priority=Priority.URGENT, then=Value(0)),
    When(priority=Priority.HIGH, then=Value(1)),
    When(priority=Priority.NORMAL, then=Value(2)),
    default=Value(3),
    output_field=IntegerField(),
)


# --- choosing -----------------------------------------------------------------------------


def _locked_settings(shop_id: int, *, automatic_only: bool = False) -> AssignmentSettings | None:
    """The shop's settings row, locked. `automatic_only`: only if the shop assigns automatically
    (one query for the check and the lock; PostgreSQL re-checks the mode once the lock is had,
    and a manual shop's row is not locked)."""
    rows = AssignmentSettings.objects.select_for_update(of=("self",)).select_related(
        "last_assignee"
    )
    if automatic_only:
        rows = rows.filter(mode__in=AUTOMATIC_MODES)
    return unique_row(rows.filter(shop_id=shop_id))


def _assigns_automatically(shop_id: int) -> bool:
    """Whether the shop's mode is an automatic one, kept per process until the shop's
    configuration changes (shops.config; the mode's column is watched, round robin's position is
    not)."""
    return shop_config(
        shop_id,
        "assigns_automatically",
        lambda: AssignmentSettings.objects.filter(
            shop_id=shop_id, mode__in=AUTOMATIC_MODES
        ).exists(),
    )


def _agents_with_counts(shop_id: int) -> tuple[list, dict[int, int]]:
    """The shop's staff who take tickets now, by username (the round's order), and how many of
    the shop's active tickets each has: one query (a count per agent, read from the partial
    index of each one's active tickets)."""
    open_in_shop = (
        Ticket.objects.filter(
            assignee=OuterRef("pk"), shop_id=shop_id, status__in=ACTIVE_STATUS_LIST
        )
        .order_by()
        .values("assignee")
        .annotate(n=Count("id"))
        .values("n")
    )
    agents = list(
        User.objects.filter(
            memberships__shop_id=shop_id, is_active=True, availability__available=True
        ).annotate(open_in_shop=Coalesce(Subquery(open_in_shop), 0))
    )
    # Sorted here, not by the database's collation: choose_agent compares usernames in Python.
    agents.sort(key=lambda agent: agent.get_username())
    return agents, {agent.pk: agent.open_in_shop for agent in agents}


def takes_type(settings: AssignmentSettings, agent, type_code: str) -> bool:
    """An agent without skills takes every type."""
    skills = (settings.skills or {}).get(agent.get_username())
    return not skills or type_code in skills


def choose_agent(
    settings: AssignmentSettings, *, agents: list, counts: dict[int, int], type_code: str
):
    """The agent who gets a ticket of `type_code` now, or None when nobody qualifies (available,
    with the skill, under the cap). round_robin: the next one after the last (by username, around
    the circle); least_loaded: the fewest open tickets, ties by username."""
    eligible = [
        agent
        for agent in agents
        if counts.get(agent.pk, 0) < settings.max_open_per_agent
        and takes_type(settings, agent, type_code)
    ]
    if not eligible:
        return None
    if settings.mode == Mode.LEAST_LOADED:
        return min(eligible, key=lambda agent: (counts.get(agent.pk, 0), agent.get_username()))
    last = settings.last_assignee.get_username() if settings.last_assignee else None
    if last is not None:
        for agent in eligible:
            if agent.get_username() > last:
                return agent
    return eligible[0]


def _give(settings: AssignmentSettings, *, ticket: Ticket, agent, counts: dict[int, int]) -> None:
    # The caller holds the ticket (claimed FOR NO KEY UPDATE) and chose the agent among the shop's
    # members.
    ticket_assign_held(ticket=ticket, assignee=agent, actor=Actor.system(), mode=settings.mode)
    counts[agent.pk] = counts.get(agent.pk, 0) + 1
    settings.last_assignee = agent


# --- new tickets and waiting tickets ---------------------------------------------------------


def assignee_choose(*, shop_id: int, dispute_type: DisputeType):
    """Who gets an unassigned ticket of `dispute_type` in a shop in an automatic mode: (agent,
    mode), or None (a manual shop, or nobody qualifies: the ticket waits for `tickets_hand_out`).
    Call inside the transaction that gives the ticket: the shop's lock is held until it commits,
    so concurrent choices count each other's tickets. `ticket_create` asks before the ticket's
    INSERT (the ticket is written with its assignee), a rule's "assign: auto" for an existing one."""
    # Manual shops read nothing (their mode is kept per process) and take no lock.
    if not _assigns_automatically(shop_id):
        return None
    settings = _locked_settings(shop_id, automatic_only=True)
    if settings is None:
        return None
    agents, counts = _agents_with_counts(shop_id)
    agent = choose_agent(settings, agents=agents, counts=counts, type_code=dispute_type.code)
    if agent is None:
        return None
    if settings.mode == Mode.ROUND_ROBIN:
        # Where the round goes on from; least_loaded does not use it.
        AssignmentSettings.objects.filter(pk=settings.pk).update(
            last_assignee=agent, updated_at=timezone.now()
        )
    return agent, settings.mode


def ticket_auto_assign(*, ticket: Ticket):
    """An existing unassigned ticket (a rule's "assign: auto") goes to the agent `assignee_choose`
    names, as a new one would; with nobody qualifying it stays waiting. Inside the caller's
    transaction (the rule's own change: no `ticket_updated`, as before)."""
    # No savepoint: inside the caller's transaction, whose failure undoes this anyway.
    with transaction.atomic(savepoint=False):
        # ticket_assign_held needs the ticket's lock: the caller (a rule after the SLA chunk's
        # commit, say) may not hold it.
        locked = Ticket.objects.locked().select_related("dispute_type").get(pk=ticket.pk)
        if locked.assignee_id is not None:
            return None
        chosen = assignee_choose(shop_id=locked.shop_id, dispute_type=locked.dispute_type)
        if chosen is None:
            return None
        agent, mode = chosen
        ticket_assign_held(
            ticket=locked, assignee=agent, actor=Actor.system(), mode=mode, announce=False
        )
        return agent


def tickets_hand_out(*, shop_id: int) -> list[int]:
    """Give the shop's waiting tickets (active, unassigned), most urgent and oldest first, to the
    agents who qualify now, until nobody does. The ids of the tickets given."""
    given: list[int] = []
    with transaction.atomic():
        settings = _locked_settings(shop_id)
        if settings is None or settings.mode not in AUTOMATIC_MODES:
            return given
        agents, counts = _agents_with_counts(shop_id)
        seen: set[int] = set()
        while True:
            free = [a for a in agents if counts[a.pk] < settings.max_open_per_agent]
            if not free:
                break
            skills = settings.skills or {}
            waiting = Ticket.objects.filter(
                shop_id=shop_id, assignee__isnull=True, status__in=ACTIVE_STATUS_LIST
            ).exclude(pk__in=seen)
            if all(skills.get(a.get_username()) for a in free):
                codes = {code for a in free for code in skills[a.get_username()]}
                waiting = waiting.filter(dispute_type__code__in=codes)
            room = sum(settings.max_open_per_agent - counts[a.pk] for a in free)
            batch = list(
                waiting.locked(skip_locked=True)
                .select_related("dispute_type")
                .order_by(_URGENCY, "created_at", "id")[: min(room, 200)]
            )
            if not batch:
                break
            for ticket in batch:
                seen.add(ticket.pk)
                agent = choose_agent(
                    settings, agents=agents, counts=counts, type_code=ticket.dispute_type.code
                )
                if agent is not None:
                    _give(settings, ticket=ticket, agent=agent, counts=counts)
                    given.append(ticket.pk)
        if given:
            settings.save(update_fields=["last_assignee", "updated_at"])
    return given


# --- availability and settings ---------------------------------------------------------------


def availability_set(*, user, available: bool) -> Availability:
    """Mark a staff user available or away (one flag for every shop they work for). Becoming
    available hands out the waiting tickets of their shops, shop by shop in id order (the locks
    always taken in the same order)."""
    with transaction.atomic():
        row, _ = Availability.objects.select_for_update().get_or_create(user=user)
        became_available = available and not row.available
        row.available = available
        row.save(update_fields=["available", "changed_at"])
        if became_available:
            shop_ids = (
                Membership.objects.filter(user=user)
                .values_list("shop_id", flat=True)
                .order_by("shop_id")
            )
            for shop_id in shop_ids:
                tickets_hand_out(shop_id=shop_id)
    return row


def is_available(user) -> bool:
    """The nav's 在线 / 离开 state, read on every page: written out, as the ORM's exists() took
    three times as long to build as the query takes to run."""
    with connection.cursor() as cursor:
        cursor.execute(_AVAILABLE_SQL, [user.pk, True])
        return cursor.fetchone() is not None


_AVAILABLE_SQL = (
    f"SELECT 1 FROM {Availability._meta.db_table} WHERE user_id = %s AND available = %s LIMIT 1"
)


def assignment_settings_get(*, shop: Shop) -> AssignmentSettings:
    """The shop's settings; a shop that never set them assigns by hand (not stored)."""
    settings = AssignmentSettings.objects.filter(shop=shop).first()
    return settings or AssignmentSettings(shop=shop)


def known_type_codes(shop: Shop) -> set[str]:
    return set(
        DisputeType.objects.filter(Q(shop__isnull=True) | Q(shop=shop)).values_list(
            "code", flat=True
        )
    )


def _validate(*, shop: Shop, data: dict) -> dict:
    errors: dict[str, list[str]] = {}
    if "mode" in data and data["mode"] not in Mode.values:
        errors["mode"] = [gettext("Choose manual, round robin or least loaded.")]
    cap = data.get("max_open_per_agent", DEFAULT_MAX_OPEN_PER_AGENT)
    if isinstance(cap, bool) or not isinstance(cap, int) or not 1 <= cap <= MAX_OPEN_LIMIT:
        errors["max_open_per_agent"] = [
            gettext("Give a whole number from 1 to %(max)s.") % {"max": MAX_OPEN_LIMIT}
        ]
    skills = data.get("skills", {})
    if not isinstance(skills, dict) or not all(
        isinstance(codes, list) and all(isinstance(code, str) for code in codes)
        for codes in skills.values()
    ):
        errors["skills"] = [gettext("Give each username a list of dispute type codes.")]
        return errors
    members = set(
        Membership.objects.filter(shop=shop, user__username__in=list(skills)).values_list(
            "user__username", flat=True
        )
    )
    known = known_type_codes(shop)
    problems = []
    for username in sorted(set(skills) - members):
        problems.append(
            gettext("%(name)s does not work for this shop.") % {"name": username or "''"}
        )
    unknown = sorted({code for codes in skills.values() for code in codes} - known)
    for code in unknown:
        problems.append(gettext("Unknown dispute type '%(code)s'.") % {"code": code})
    if problems:
        errors["skills"] = problems
    return errors


def assignment_settings_update(*, shop: Shop, data: dict) -> AssignmentSettings:
    """Store the shop's assignment settings (PUT: what is not given goes back to its default).
    Waiting tickets are handed out at once under the new settings."""
    errors = _validate(shop=shop, data=data)
    if not errors and not data:
        # As the SLA PUT: an empty body would put every setting back, almost surely a client's bug.
        errors = {
            "non_field_errors": [
                gettext(
                    "Send the settings to store; to go back to the defaults, send them explicitly."
                )
            ]
        }
    if errors:
        raise ApplicationError(
            "validation_error", gettext("The request has invalid fields."), fields=errors
        )
    with transaction.atomic():
        AssignmentSettings.objects.get_or_create(shop=shop)
        settings = _locked_settings(shop.pk)
        settings.mode = data.get("mode", Mode.MANUAL)
        settings.max_open_per_agent = data.get("max_open_per_agent", DEFAULT_MAX_OPEN_PER_AGENT)
        settings.skills = {
            username: sorted(set(codes)) for username, codes in data.get("skills", {}).items()
        }
        settings.save()
        tickets_hand_out(shop_id=shop.pk)
    return settings


def assignment_public(settings: AssignmentSettings) -> dict:
    return {
        "mode": settings.mode,
        "max_open_per_agent": settings.max_open_per_agent,
        "skills": settings.skills or {},
    }
