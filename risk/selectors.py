"""Reads of risk (API.md "Risk"): the flags of tickets, customers and photos. Flags explain; they
never reject. Each function reads a fixed number of queries however many tickets it is given, so
the ticket list's query count stays constant.

A finding carries the API's code, message and refs, plus `evidence` for the ticket page (the two
photos and tickets, the two dates): the API shows only code, message and refs."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field, replace
from decimal import Decimal

from django.db import connection
from django.db.models import Count, Exists, F, OuterRef, Q, Window
from django.db.models.functions import Coalesce, RowNumber
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy, ngettext

from aftersales.db import instances_read, joined_columns, joined_rows, prepared_execute
from aftersales.prefetch import prefetched
from disputes.models import Compensation
from disputes.services import GRANTED_STATUSES, compensation_totals, policy_current, policy_of
from risk import photos as photo_hashing
from risk.models import FlagDismissal, PhotoBand, PhotoHash, PhotoMatch
from tickets.models import Attachment, Customer, Ticket

REUSED_EVIDENCE = "reused_evidence"
EVIDENCE_PREDATES_ORDER = "evidence_predates_order"
FREQUENT_CLAIMANT = "frequent_claimant"
LINKED_ACCOUNTS = "linked_accounts"
LINKED_SHOWN = 10  # linked accounts named in a flag; past that, the newest and the count
CODES = (REUSED_EVIDENCE, EVIDENCE_PREDATES_ORDER, FREQUENT_CLAIMANT, LINKED_ACCOUNTS)
FLAG_LABELS = {
    REUSED_EVIDENCE: gettext_lazy("Reused evidence"),
    EVIDENCE_PREDATES_ORDER: gettext_lazy("Photo older than the order"),
    FREQUENT_CLAIMANT: gettext_lazy("Frequent claimant"),
    LINKED_ACCOUNTS: gettext_lazy("Linked accounts"),
}


def flag_label(code: str) -> str:
    """A flag's name in the reader's language (its code when unknown)."""
    return str(FLAG_LABELS.get(code, code))


@dataclass
class Finding:
    code: str
    message: str
    refs: list[str]
    evidence: list[dict] = field(default_factory=list)
    # A supervisor's dismissal covering this flag on this ticket (risk.services.flag_dismiss).
    dismissal: FlagDismissal | None = None

    @property
    def label(self) -> str:
        return flag_label(self.code)

    def as_flag(self) -> dict:
        return {
            "code": self.code,
            "message": self.message,
            "refs": self.refs,
            "dismissed": dismissal_out(self.dismissal),
        }


def dismissal_out(dismissal: FlagDismissal | None) -> dict | None:
    if dismissal is None:
        return None
    return {
        "by": dismissal.dismissed_by_label,
        "at": _moment(dismissal.created_at),
        "note": dismissal.note,
    }


def covers(dismissal: FlagDismissal | None, finding: Finding) -> bool:
    """A dismissal covers the flag while the flag names nothing it did not name then."""
    return dismissal is not None and set(finding.refs) <= set(dismissal.refs)


def flags_of(findings: list[Finding]) -> dict:
    return {"flags": [finding.as_flag() for finding in findings]}


# --- the index: stored photos near a hash ---------------------------------------------------


def photo_candidates(*, shop_id: int, phash: int):
    """The shop's stored photos that share a band with one of the hash's probes (index-only:
    photo id and hash), each once per band it shares."""
    return PhotoBand.objects.filter(
        shop_id=shop_id, band__any_of=frozenset(photo_hashing.probes(phash))
    ).values_list("photo_id", "phash")


def photos_within(*, shop_id: int, phash: int) -> list[tuple[int, int]]:
    """(photo id, distance) of the shop's stored photos within MATCH_DISTANCE of the hash: the
    index's candidates, measured exactly (risk.photos). Never another shop's."""
    found = {}
    for photo_id, other in photo_candidates(shop_id=shop_id, phash=phash):
        if photo_id not in found:
            distance = photo_hashing.distance(phash, other)
            if distance <= photo_hashing.MATCH_DISTANCE:
                found[photo_id] = distance
    return sorted(found.items())


# --- the evidence: reused photos, photos older than the order --------------------------------


def _order_time(order) -> tuple[str, dt.datetime | None]:
    if order.delivered_at is not None:
        return "delivered_at", order.delivered_at
    return "paid_at", order.paid_at


def _moment(value: dt.datetime) -> str:
    return timezone.localtime(value).isoformat()


def _shown(value: dt.datetime) -> str:
    return date_format(timezone.localtime(value), "DATETIME_FORMAT")


def _photo_evidence(**which) -> tuple[list[PhotoHash], dict[int, list[PhotoMatch]]]:
    """Photos (PhotoHash.objects.filter(**which)) with their ticket's order, and their matches on
    another order's ticket (a second query only when there are photos)."""
    photos = list(
        PhotoHash.objects.filter(**which)
        .select_related("attachment", "ticket__order")
        .order_by("attachment_id")
    )
    matches: dict[int, list[PhotoMatch]] = defaultdict(list)
    if not any(photo.compared for photo in photos):
        return photos, matches
    rows = (
        PhotoMatch.objects.filter(photo_id__in=[p.pk for p in photos])
        .exclude(other__order_no=F("photo__order_no"))
        .select_related("other__attachment", "other__ticket")
        .order_by("other__ticket__number", "other__attachment_id")
    )
    for match in rows:
        matches[match.photo_id].append(match)
    return photos, matches


def _reused(photos: list[PhotoHash], matches: dict[int, list[PhotoMatch]]) -> Finding | None:
    numbers: list[str] = []
    evidence = []
    for photo in photos:
        for match in matches.get(photo.pk, []):
            if match.other.ticket.number not in numbers:
                numbers.append(match.other.ticket.number)
            evidence.append(
                {
                    "attachment": photo.attachment,
                    "ticket": photo.ticket,
                    "other_attachment": match.other.attachment,
                    "other_ticket": match.other.ticket,
                    "distance": match.distance,
                }
            )
    if not numbers:
        return None
    message = ngettext(
        "A photo matches one sent on another order's ticket: %(numbers)s.",
        "Photos match ones sent on other orders' tickets: %(numbers)s.",
        len(numbers),
    ) % {"numbers": ", ".join(numbers)}
    return Finding(REUSED_EVIDENCE, message, numbers, evidence)


def _predates(photos: list[PhotoHash]) -> Finding | None:
    refs: list[str] = []
    evidence = []
    for photo in photos:
        which, order_time = _order_time(photo.ticket.order)
        if photo.taken_at is None or order_time is None or photo.taken_at >= order_time:
            continue
        refs += [
            f"attachment:{photo.attachment_id}",
            f"taken_at:{_moment(photo.taken_at)}",
            f"{which}:{_moment(order_time)}",
        ]
        evidence.append(
            {
                "attachment": photo.attachment,
                "ticket": photo.ticket,
                "taken_at": photo.taken_at,
                "order_time": order_time,
                "delivered": which == "delivered_at",
            }
        )
    if not evidence:
        return None
    first = evidence[0]
    if first["delivered"]:
        text = gettext(
            "A photo was taken on %(taken)s, before the order was delivered (%(order)s)."
        )
    else:
        text = gettext("A photo was taken on %(taken)s, before the order was paid (%(order)s).")
    message = text % {"taken": _shown(first["taken_at"]), "order": _shown(first["order_time"])}
    return Finding(EVIDENCE_PREDATES_ORDER, message, refs, evidence)


def attachments_findings(attachments) -> dict[int, list[Finding]]:
    """Each photo's own findings (reused, predates), by attachment id: 2 queries."""
    ids = [a.pk for a in attachments]
    photos, matches = _photo_evidence(attachment_id__in=ids)
    result: dict[int, list[Finding]] = {pk: [] for pk in ids}
    for photo in photos:
        found = [_reused([photo], matches), _predates([photo])]
        result[photo.attachment_id] = [f for f in found if f]
    return result


# --- the customer: frequent claims, linked accounts -------------------------------------------


def _customers_findings(
    customers: list[Customer], shops: dict | None = None
) -> dict[int, list[Finding]]:
    """Frequent claimant and linked accounts of each customer, by customer id: one query per shop
    for its policy, then 3 queries whatever the number of customers."""
    result: dict[int, list[Finding]] = {c.pk: [] for c in customers}
    if not customers:
        return result
    now = timezone.now()
    policies = {}
    for customer in customers:
        if customer.shop_id not in policies:
            shop = (shops or {}).get(customer.shop_id) or customer.shop
            policies[customer.shop_id] = policy_of(policy_current(shop=shop))
    since = {
        shop_id: now - dt.timedelta(days=policy.risk_window_days)
        for shop_id, policy in policies.items()
    }
    # One query: the customers' tickets of the window, each with its compensations (a row per
    # compensation, or one row with none); granted is compensation_totals' own definition.
    # Customers whose tickets and their compensations are known (a new customer, as ticket_create
    # answers) are counted from those instead.
    tickets_of = defaultdict(set)
    rows = defaultdict(list)
    known = {c.pk: _known_tickets(c) for c in customers}
    for customer in customers:
        for ticket in known[customer.pk] or []:
            if ticket.created_at >= since[customer.shop_id]:
                tickets_of[customer.pk].add(ticket.pk)
                rows[customer.pk] += [
                    (c.type, c.status, c.amount) for c in ticket.compensations.all()
                ]
    phones = defaultdict(set)  # shop -> the phones of its customers on the page
    for c in customers:
        if c.phone:
            phones[c.shop_id].add(c.phone)
    unknown = any(tickets is None for tickets in known.values())
    window, (linked, sharing) = _window_tickets_and_sharers(customers, since, phones, unknown)
    for (compensation,), (ticket_id, customer_id) in window:
        if known.get(customer_id) is not None:
            continue
        tickets_of[customer_id].add(ticket_id)
        if compensation is not None:
            rows[customer_id].append((compensation.type, compensation.status, compensation.amount))
    counts = {customer_id: len(ids) for customer_id, ids in tickets_of.items()}
    for customer in customers:
        policy = policies[customer.shop_id]
        found = result[customer.pk]
        tickets = counts.get(customer.pk, 0)
        granted = compensation_totals(rows[customer.pk])["granted"]
        too_many = tickets > policy.frequent_claimant_tickets
        too_much = granted > policy.frequent_claimant_amount
        if too_many or too_much:
            found.append(_frequent(tickets, granted, policy, too_many=too_many))
        if customer.phone:
            finding = _linked(customer, linked, sharing)
            if finding:
                found.append(finding)
    return result


def _window_tickets_and_sharers(
    customers: list[Customer], since: dict[int, dt.datetime], phones: dict, window: bool
) -> tuple[list, tuple[dict, dict]]:
    """_window_tickets' rows (when `window`: some customer's tickets are not in hand) and
    _phone_sharers' answer. For one customer with a phone (a ticket's page, a create's answer
    for a known customer) one statement answers both: a round trip fewer."""
    pairs = [(shop_id, phone) for shop_id, shop_phones in phones.items() for phone in shop_phones]
    if not (window and len(customers) == 1 and len(pairs) == 1):
        return (_window_tickets(customers, since) if window else []), _phone_sharers(phones)
    (customer,) = customers
    (shop_id, phone) = key = pairs[0]
    start = connection.ops.adapt_datetimefield_value(since[customer.shop_id])
    read = joined_rows(
        _ONE_CUSTOMER_SQL,
        [customer.pk, start, shop_id, phone, shop_id, phone, LINKED_SHOWN + 1],
        (Compensation,),
    )
    tickets, linked, sharing = [], defaultdict(list), {}
    for (compensation,), (ticket_id, customer_id, sharer_id, external_id, count) in read:
        if ticket_id is not None:  # a row of the window's tickets
            tickets.append(((compensation,), (ticket_id, customer_id)))
        else:  # a customer with the phone
            linked[key].append((sharer_id, external_id))
            sharing[key] = count
    return tickets, (linked, sharing)


def _window_tickets(customers: list[Customer], since: dict[int, dt.datetime]) -> list:
    """The customers' tickets created since their shop's window opened, a row per compensation
    (or one with None): ((compensation,), (ticket id, customer id)). Written out (as
    _phone_sharers): the ORM took longer to build it than PostgreSQL takes to answer it, on
    every ticket page."""
    conditions, params = [], []
    for shop_id, start in since.items():
        ids = [c.pk for c in customers if c.shop_id == shop_id]
        conditions.append(
            f"(t.customer_id IN ({', '.join(['%s'] * len(ids))}) AND t.created_at >= %s)"
        )
        params += [*ids, connection.ops.adapt_datetimefield_value(start)]
    return joined_rows(f"{_WINDOW_SQL} WHERE {' OR '.join(conditions)}", params, (Compensation,))


# _window_tickets' statement, without its conditions.
_WINDOW_SQL = (
    f"SELECT {joined_columns(('cmp', Compensation))}, t.id, t.customer_id"
    f" FROM {Ticket._meta.db_table} t"
    f" LEFT JOIN {Compensation._meta.db_table} cmp ON cmp.ticket_id = t.id"
)


def _phone_sharers(phones: dict[int, set[str]]) -> tuple[dict, dict]:
    """The customers of each shop with each of the phones: (shop, phone) -> the newest
    LINKED_SHOWN + 1 of them as (pk, external id) (the customer itself may be one), and
    (shop, phone) -> how many have it. A phone shared by thousands of ids is read in a few rows."""
    linked = defaultdict(list)
    sharing = {}
    pairs = [(shop_id, phone) for shop_id, shop_phones in phones.items() for phone in shop_phones]
    if len(pairs) == 1:
        # One customer (a ticket's page, a create's answer): its newest sharers straight off the
        # (shop, phone, id) index, with the number of all (an uncorrelated subquery: counted
        # once). The windowed query below sorts every sharer of the phone.
        # Written out: the ORM took four times as long to build this query as to run it (on
        # every create and ticket page).
        (shop_id, phone) = key = pairs[0]
        with connection.cursor() as cursor:
            prepared_execute(
                cursor, _ONE_PHONE_SHARERS_SQL, [shop_id, phone, shop_id, phone, LINKED_SHOWN + 1]
            )
            for pk, external_id, count in cursor.fetchall():
                linked[key].append((pk, external_id))
                sharing[key] = count
        return linked, sharing
    if pairs:
        # One condition per shop (phone IN …), not one per customer: compiling 25 OR-ed pairs
        # cost more than running the query. Only the newest LINKED_SHOWN + 1 of a phone come
        # back, with their number.
        same_phone = Q(
            *[Q(shop_id=shop_id, phone__in=sorted(p)) for shop_id, p in phones.items()],
            _connector=Q.OR,
        )
        group = {"partition_by": [F("shop_id"), F("phone")]}
        for pk, shop_id, phone, external_id, total in (
            Customer.objects.filter(same_phone)
            .annotate(
                newest=Window(RowNumber(), order_by=F("pk").desc(), **group),
                total=Window(Count("pk"), **group),
            )
            .filter(newest__lte=LINKED_SHOWN + 1)
            .values_list("pk", "shop_id", "phone", "external_id", "total")
        ):
            linked[(shop_id, phone)].append((pk, external_id))
            sharing[(shop_id, phone)] = total
    return linked, sharing


_ONE_PHONE_SHARERS_SQL = f"""
SELECT id, external_id,
       (SELECT COUNT(*) FROM {Customer._meta.db_table} WHERE shop_id = %s AND phone = %s)
  FROM {Customer._meta.db_table}
 WHERE shop_id = %s AND phone = %s
 ORDER BY id DESC
 LIMIT %s
"""


# _window_tickets' statement for one customer, then _ONE_PHONE_SHARERS_SQL's rows (with no
# ticket id): ((compensation,), (ticket id, customer id, sharer id, sharer external id, count)).
_ONE_CUSTOMER_SQL = (
    "SELECT window_ticket.*, NULL, NULL, NULL"
    f" FROM ({_WINDOW_SQL} WHERE t.customer_id = %s AND t.created_at >= %s) window_ticket"
    f" UNION ALL SELECT {', '.join(['NULL'] * len(Compensation._meta.concrete_fields))},"
    f" NULL, NULL, sharer.* FROM ({_ONE_PHONE_SHARERS_SQL}) sharer"
)


def _linked(customer: Customer, linked: dict, sharing: dict) -> Finding | None:
    """Other customer ids of the shop with the customer's phone. Past LINKED_SHOWN of them, the
    newest are named (so a new account is always among the refs, and a dismissal does not cover
    it) with the number of all."""
    key = (customer.shop_id, customer.phone)
    newest = [row for row in sorted(linked.get(key, []), reverse=True) if row[0] != customer.pk]
    others = sorted(external_id for _, external_id in newest[:LINKED_SHOWN])
    if not others:
        return None
    count = sharing[key] - 1  # the customer itself has the phone too
    if count <= LINKED_SHOWN:
        message = ngettext(
            "The same phone number is used by another customer id of the shop: %(ids)s.",
            "The same phone number is used by other customer ids of the shop: %(ids)s.",
            len(others),
        ) % {"ids": ", ".join(others)}
    else:
        message = gettext(
            "The same phone number is used by %(count)s other customer ids of the shop; "
            "the %(shown)s newest: %(ids)s."
        ) % {"count": count, "shown": len(others), "ids": ", ".join(others)}
    return Finding(LINKED_ACCOUNTS, message, others)


def _known_tickets(customer: Customer) -> list[Ticket] | None:
    """The customer's tickets if they and each one's compensations are already in hand."""
    tickets = prefetched(customer, "tickets")
    if tickets is None or any(prefetched(t, "compensations") is None for t in tickets):
        return None
    return tickets


def _frequent(tickets: int, granted: Decimal, policy, *, too_many: bool) -> Finding:
    values = {
        "tickets": tickets,
        "granted": f"{granted:.2f}",
        "days": policy.risk_window_days,
        "max_tickets": policy.frequent_claimant_tickets,
        "max_amount": f"{policy.frequent_claimant_amount:.2f}",
    }
    if too_many:
        message = gettext(
            "%(tickets)s tickets in the last %(days)s days (more than %(max_tickets)s); "
            "¥%(granted)s granted."
        )
    else:
        message = gettext(
            "¥%(granted)s compensation granted in the last %(days)s days (more than "
            "¥%(max_amount)s); %(tickets)s tickets."
        )
    return Finding(FREQUENT_CLAIMANT, message % values, [])


# --- tickets and customers ------------------------------------------------------------------


def tickets_findings(tickets) -> dict[int, list[Finding]]:
    """Every finding of each ticket, by ticket id, in a fixed number of queries (the tickets come
    with their customer and order)."""
    tickets = list(tickets)
    # A ticket whose attachments are known to be none (a new one, as ticket_create answers) has
    # no photos: no query for them.
    with_photos = [t.pk for t in tickets if not _known_without_attachments(t)]
    photos, matches = (
        _photo_evidence(ticket_id__in=with_photos) if with_photos else ([], defaultdict(list))
    )
    by_ticket = defaultdict(list)
    for photo in photos:
        by_ticket[photo.ticket_id].append(photo)
    customers = list({t.customer_id: t.customer for t in tickets}.values())
    of_customer = _customers_findings(customers, {t.shop_id: t.shop for t in tickets})
    result = {}
    for ticket in tickets:
        ticket_photos = by_ticket.get(ticket.pk, [])
        found = [_reused(ticket_photos, matches), _predates(ticket_photos)]
        # The customer's findings are shared by their tickets: each ticket its own copy, to
        # carry its own dismissal.
        result[ticket.pk] = [f for f in found if f] + [
            replace(f) for f in of_customer[ticket.customer_id]
        ]
    # One query whether or not a flag is found, so a page's query count does not depend on it;
    # none for tickets whose dismissals are known (a new ticket, as ticket_create answers).
    dismissals = {}
    unknown = []
    for ticket in tickets:
        known = prefetched(ticket, "risk_dismissals")
        if known is None:
            unknown.append(ticket.pk)
        dismissals.update({(d.ticket_id, d.code): d for d in known or []})
    if unknown:
        # Written out (as _window_tickets).
        read = instances_read(
            f"SELECT {joined_columns(('d', FlagDismissal))} FROM {FlagDismissal._meta.db_table} d"
            f" WHERE d.ticket_id IN ({', '.join(['%s'] * len(unknown))})",
            unknown,
            FlagDismissal,
        )
        dismissals.update({(d.ticket_id, d.code): d for d in read})
    for pk, found in result.items():
        for finding in found:
            dismissal = dismissals.get((pk, finding.code))
            finding.dismissal = dismissal if covers(dismissal, finding) else None
    return result


def _known_without_attachments(ticket: Ticket) -> bool:
    return prefetched(ticket, "attachments") == []


def open_findings(findings: list[Finding]) -> list[Finding]:
    """The flags no supervisor has dismissed: what holds compensation for a supervisor."""
    return [finding for finding in findings if finding.dismissal is None]


def ticket_findings(ticket: Ticket) -> list[Finding]:
    return tickets_findings([ticket])[ticket.pk]


def ticket_risk(ticket: Ticket) -> dict:
    """API.md "Risk": {"flags": [{"code", "message", "refs"}]}, empty when nothing is found."""
    return flags_of(ticket_findings(ticket))


def customer_findings(customer: Customer) -> list[Finding]:
    """The customer's own flags (frequent claims, linked accounts) and the evidence flags of
    their tickets (refs: those tickets' numbers)."""
    photos, matches = _photo_evidence(ticket__customer=customer)
    by_ticket = defaultdict(list)
    for photo in photos:
        by_ticket[photo.ticket.number].append(photo)
    evidence = []
    for code, message, check in (
        (
            REUSED_EVIDENCE,
            gettext("Photos on these tickets match ones on other orders' tickets: %(numbers)s."),
            lambda found: _reused(found, matches),
        ),
        (
            EVIDENCE_PREDATES_ORDER,
            gettext("Photos on these tickets were taken before the order: %(numbers)s."),
            _predates,
        ),
    ):
        numbers, shown = [], []
        for number, found in sorted(by_ticket.items()):
            finding = check(found)
            if finding:
                numbers.append(number)
                shown += finding.evidence
        if numbers:
            evidence.append(
                Finding(code, message % {"numbers": ", ".join(numbers)}, numbers, shown)
            )
    return evidence + _customers_findings([customer])[customer.pk]


def customer_risk(customer: Customer) -> dict:
    return flags_of(customer_findings(customer))


def attachment_risk(attachment: Attachment) -> dict:
    return flags_of(attachments_findings([attachment])[attachment.pk])


# --- the dashboard: flags of a period ------------------------------------------------------------

SUMMARY_CHUNK = 500


def _maybe_flagged(tickets, *, shop, policy, now: dt.datetime):
    """The tickets that may carry a flag, in SQL (index reads): a photo matching another order's,
    a photo older than the order, a phone shared with another customer id, a customer with more
    tickets than the policy allows or with granted compensation in its window. Which of them
    really are flagged (and dismissed) is then told by tickets_findings, the one rule."""
    since = now - dt.timedelta(days=policy.risk_window_days)
    reused = Exists(
        PhotoMatch.objects.filter(photo__ticket_id=OuterRef("pk")).exclude(
            other__order_no=F("photo__order_no")
        )
    )
    predates = Exists(
        PhotoHash.objects.filter(
            ticket_id=OuterRef("pk"),
            taken_at__lt=Coalesce(OuterRef("order__delivered_at"), OuterRef("order__paid_at")),
        )
    )
    linked = Exists(
        Customer.objects.filter(shop_id=OuterRef("shop_id"), phone=OuterRef("customer__phone"))
        .exclude(pk=OuterRef("customer_id"))
        .exclude(phone="")
    )
    busy = (
        Ticket.objects.filter(shop=shop, created_at__gte=since)
        .values("customer_id")
        .annotate(n=Count("id"))
        .filter(n__gt=policy.frequent_claimant_tickets)
        .values("customer_id")
    )
    paid = Compensation.objects.filter(
        ticket__shop=shop, ticket__created_at__gte=since, status__in=GRANTED_STATUSES
    ).values("ticket__customer_id")
    return tickets.filter(
        reused | predates | linked | Q(customer_id__in=busy) | Q(customer_id__in=paid)
    )


def flags_summary(*, shop, start: dt.datetime, end: dt.datetime, dispute_type=None) -> dict:
    """The supervisor dashboard's risk panel for the shop's tickets created in [start, end): how
    many are flagged (and how many of those a supervisor cleared of every flag), and their
    compensation — held back (awaiting a decision), refused, and granted despite the flags
    (disputes' compensation_totals) — in total and by flag (a ticket with two flags counts in
    both rows, once in the total)."""
    tickets = Ticket.objects.filter(shop=shop, created_at__gte=start, created_at__lt=end)
    if dispute_type is not None:
        tickets = tickets.filter(dispute_type=dispute_type)
    policy = policy_of(policy_current(shop=shop))
    candidates = list(
        _maybe_flagged(tickets, shop=shop, policy=policy, now=timezone.now())
        .select_related("customer", "order", "shop")
        .order_by("pk")
    )
    findings: dict[int, list[Finding]] = {}
    for first in range(0, len(candidates), SUMMARY_CHUNK):
        found = tickets_findings(candidates[first : first + SUMMARY_CHUNK])
        findings.update({pk: codes for pk, codes in found.items() if codes})
    rows = defaultdict(list)
    for ticket_id, *row in Compensation.objects.filter(ticket_id__in=list(findings)).values_list(
        "ticket_id", "type", "status", "amount"
    ):
        rows[ticket_id].append(tuple(row))
    money_of = {pk: compensation_totals(rows[pk]) for pk in findings}

    def line(ticket_ids: list[int], cleared: int) -> dict:
        money = {key: Decimal("0.00") for key in ("pending", "rejected", "granted")}
        for pk in ticket_ids:
            for key in money:
                money[key] += money_of[pk][key]
        return {"tickets": len(ticket_ids), "dismissed": cleared, **money}

    by_code = []
    for code in CODES:
        flagged = [pk for pk, found in findings.items() if any(f.code == code for f in found)]
        if flagged:
            cleared = sum(
                1 for pk in flagged if all(f.dismissal for f in findings[pk] if f.code == code)
            )
            by_code.append({"code": code, "label": flag_label(code), **line(flagged, cleared)})
    cleared_all = sum(1 for found in findings.values() if not open_findings(found))
    return {
        "tickets": tickets.count(),
        "total": line(list(findings), cleared_all),
        "by_code": by_code,
    }
