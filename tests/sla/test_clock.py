"""The SLA clock in business time: nights, weekends, National Day and its make-up Saturday,
pause while waiting on the customer and resume, and targets changed after creation."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from shops.business_time import (
    BusinessCalendar,
    add_business_minutes,
    business_minutes_between,
    subtract_business_minutes,
)
from shops.services import shop_sla_update
from tests.factories import make_ticket, staff_member
from tickets import services
from tickets.models import Ticket

SH = ZoneInfo("Asia/Shanghai")
CN = BusinessCalendar()


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=SH)


@pytest.mark.parametrize(
    "start, end, minutes",
    [
        ("2026-03-10 17:30", "2026-03-11 09:30", 60),  # across a night
        ("2026-03-13 17:00", "2026-03-16 10:00", 120),  # across a weekend
        ("2026-09-30 16:00", "2026-10-08 10:00", 180),  # across National Day (7 days off)
        ("2026-10-09 17:00", "2026-10-10 11:00", 180),  # into the make-up Saturday
        ("2026-10-10 17:00", "2026-10-12 10:00", 120),  # the Sunday after it is off
        ("2026-03-10 20:00", "2026-03-11 08:00", 0),  # closed all the time
    ],
)
def test_business_minutes_between_and_its_inverses(start, end, minutes):
    assert business_minutes_between(at(start), at(end), CN) == minutes
    if minutes:
        assert add_business_minutes(at(start), minutes, CN) == at(end)
        assert subtract_business_minutes(at(end), minutes, CN) == add_business_minutes(
            at(start), 0, CN
        )


def test_resolution_from_the_afternoon_before_national_day_lands_on_the_make_up_saturday():
    # 2 h on 09-30, 9 h on 10-08, 9 h on 10-09, the last 7 h on Saturday 10-10 (调休).
    assert add_business_minutes(at("2026-09-30 16:00"), 27 * 60, CN) == at("2026-10-10 16:00")


@pytest.fixture
def agent(shop):
    return staff_member(shop, "agent", username="agent")


def _ticket(shop, created: str) -> Ticket:
    with time_machine.travel(at(created), tick=False):
        return make_ticket(shop)


def _act(ticket, action, when, agent):
    with time_machine.travel(at(when), tick=False):
        services.ticket_transition(ticket=ticket, action=action, actor=services.Actor.staff(agent))
    ticket.refresh_from_db()


def test_waiting_on_the_customer_pauses_both_clocks_and_resume_keeps_the_business_time_left(
    shop, agent
):
    ticket = _ticket(shop, "2026-03-10 10:00")  # Tue: first response 11:00, resolution Fri 10:00
    assert ticket.first_response_due_at == at("2026-03-10 11:00")
    _act(ticket, "open", "2026-03-10 10:10", agent)
    _act(ticket, "wait_customer", "2026-03-10 10:30", agent)  # 30 min of first response left
    assert ticket.sla_paused_at == at("2026-03-10 10:30") and ticket.next_due_at is None
    _act(ticket, "open", "2026-03-12 15:00", agent)  # Thu afternoon
    assert ticket.sla_paused_at is None
    assert ticket.first_response_due_at == at("2026-03-12 15:30")
    # Resolution had 3 days - 30 min left at 10:30 Tue: 3 business days minus 30 min after Thu 15:00.
    assert ticket.resolution_due_at == add_business_minutes(
        at("2026-03-12 15:00"), 27 * 60 - 30, CN
    )
    assert ticket.next_due_at == ticket.first_response_due_at


def test_pause_over_national_day_costs_nothing_and_resume_lands_after_the_holiday(shop, agent):
    ticket = _ticket(shop, "2026-09-30 16:00")  # resolution due Sat 10-10 16:00 (make-up day)
    assert ticket.resolution_due_at == at("2026-10-10 16:00")
    services.message_add(ticket=ticket, body="您好", actor=services.Actor.staff(agent))
    _act(ticket, "wait_customer", "2026-09-30 17:00", agent)  # 26 business hours left
    with time_machine.travel(
        at("2026-10-05 12:00"), tick=False
    ):  # the customer answers during the holiday
        services.message_add(ticket=ticket, body="在吗", actor=services.Actor.shop(shop))
    ticket.refresh_from_db()
    assert ticket.status == "open"
    # The clock restarts at 10-08 09:00: 9 h + 9 h + 8 h on the make-up Saturday.
    assert ticket.resolution_due_at == at("2026-10-10 17:00")


def test_a_deadline_missed_before_the_pause_stays_missed(shop, agent):
    ticket = _ticket(shop, "2026-03-10 10:00")
    _act(ticket, "open", "2026-03-10 10:05", agent)
    _act(ticket, "wait_customer", "2026-03-10 11:30", agent)  # first response was due 11:00
    _act(ticket, "open", "2026-03-11 11:30", agent)
    assert ticket.first_response_due_at == at("2026-03-10 11:00")


def test_resolving_while_paused_stops_the_clock(shop, agent):
    ticket = _ticket(shop, "2026-03-10 10:00")
    _act(ticket, "open", "2026-03-10 10:10", agent)
    _act(ticket, "wait_customer", "2026-03-10 10:30", agent)
    _act(ticket, "resolve", "2026-03-11 10:30", agent)
    assert ticket.sla_paused_at is None and ticket.first_response_due_at == at("2026-03-10 11:00")


def test_targets_changed_after_creation_apply_only_to_new_tickets(shop):
    before = _ticket(shop, "2026-03-10 10:00")
    shop_sla_update(
        shop=shop,
        data={
            "targets": {
                "normal": {
                    "first_response_minutes": 30,
                    "resolution_minutes": 540,
                    "business_time": True,
                }
            }
        },
        replace=False,
    )
    shop.refresh_from_db()
    before.refresh_from_db()
    assert before.first_response_due_at == at("2026-03-10 11:00")
    assert before.resolution_due_at == at("2026-03-13 10:00")
    with time_machine.travel(at("2026-03-10 10:00"), tick=False):
        after = make_ticket(shop, order=_order("T2"))
    assert after.first_response_due_at == at("2026-03-10 10:30")
    assert after.resolution_due_at == at("2026-03-11 10:00")


def test_a_dispute_type_override_tightens_one_type(shop):
    shop_sla_update(
        shop=shop,
        data={"dispute_type_targets": {"damaged_on_arrival": {"first_response_minutes": 20}}},
        replace=False,
    )
    shop.refresh_from_db()
    ticket = _ticket(shop, "2026-03-10 10:00")
    assert ticket.first_response_due_at == at("2026-03-10 10:20")
    assert ticket.resolution_due_at == at("2026-03-13 10:00")


def _order(order_no):
    from tests.factories import ticket_payload

    order = ticket_payload()["order"]
    order["order_no"] = order_no
    return order
