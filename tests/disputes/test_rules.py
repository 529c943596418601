"""Responsibility rules R1–R10 (DOMAIN.md §4): each fires and stays quiet where it should."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from disputes.facts import ItemFact, LogisticsFact, Policy, TicketFacts
from disputes.rules import (
    R10_TYPES,
    r1_warehouse_error,
    r2_damaged_in_transit,
    r3_late_shipment,
    r4_no_tracking,
    r5_third_party_signature,
    r6_customer_delivery_fault,
    r7_spoiled_food,
    r8_no_reason_return,
    r9_customer_misuse,
    r10_shop_service,
    suggest_responsibility,
)

SHANGHAI = timezone(timedelta(hours=8))
PAID = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
POLICY = Policy()


def hours(n):
    return PAID + timedelta(hours=n)


def glass(affected=1):
    return ItemFact("GLASS-500", "玻璃瓶 500ml", "B2311", Decimal("10.50"), 2, False, affected)


def facts(**changes) -> TicketFacts:
    base = TicketFacts(
        dispute_type="damaged_on_arrival",
        reported_at=hours(60),
        order_amount=Decimal("21.00"),
        paid_at=PAID,
        shipped_at=hours(23),
        delivered_at=hours(53),
        courier="SF",
        items=(glass(),),
        logistics=(),
        has_photo=True,
        same_batch_ticket_count=1,
        now=hours(61),
    )
    return replace(base, **changes)


def event(kind, at_hours, **kw):
    return LogisticsFact(event=kind, at=hours(at_hours), **kw)


def has_chinese(text):
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


# --- R1 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["wrong_item", "missing_item"])
def test_r1_wrong_or_missing_item_is_the_warehouse(kind):
    hit = r1_warehouse_error(facts(dispute_type=kind), POLICY)
    assert (hit.id, hit.party, hit.courier_claim) == ("R1", "merchant", False)
    assert "warehouse" in hit.text and has_chinese(hit.text_zh)


def test_r1_quiet_for_other_types():
    assert r1_warehouse_error(facts(dispute_type="damaged_in_transit"), POLICY) is None


# --- R2 -------------------------------------------------------------------------------------------


def test_r2_transit_damage_with_packaging_photo_is_the_courier():
    hit = r2_damaged_in_transit(facts(dispute_type="damaged_in_transit", has_photo=True), POLICY)
    assert (hit.id, hit.party, hit.courier_claim) == ("R2", "courier", True)
    assert "Compensate the customer first" in hit.text


def test_r2_needs_the_photo():
    assert (
        r2_damaged_in_transit(facts(dispute_type="damaged_in_transit", has_photo=False), POLICY)
        is None
    )


def test_r2_only_for_damaged_in_transit():
    assert (
        r2_damaged_in_transit(facts(dispute_type="damaged_on_arrival", has_photo=True), POLICY)
        is None
    )


# --- R3 -------------------------------------------------------------------------------------------


def test_r3_shipped_after_72_hours_costs_5_percent():
    hit = r3_late_shipment(facts(shipped_at=hours(73)), POLICY)
    assert (hit.id, hit.party) == ("R3", "merchant")
    assert hit.penalty_exposure == Decimal("1.05")
    assert "73 h" in hit.text and "5 %" in hit.text and "3 points" in hit.text
    assert "¥1.05" in hit.text_zh


def test_r3_exactly_72_hours_is_on_time():
    assert r3_late_shipment(facts(shipped_at=hours(72)), POLICY) is None
    assert r3_late_shipment(facts(shipped_at=hours(71)), POLICY) is None


def test_r3_not_shipped_and_72_hours_passed():
    hit = r3_late_shipment(facts(shipped_at=None, delivered_at=None, now=hours(80)), POLICY)
    assert hit.penalty_exposure == Decimal("1.05")
    assert "still not shipped 80 h" in hit.text


def test_r3_not_shipped_yet_within_72_hours():
    assert (
        r3_late_shipment(facts(shipped_at=None, delivered_at=None, now=hours(10)), POLICY) is None
    )


def test_r3_pickup_scan_counts_as_shipped_when_shipped_at_unknown():
    on_time = facts(shipped_at=None, now=hours(100), logistics=(event("picked_up", 30),))
    late = facts(shipped_at=None, now=hours(100), logistics=(event("picked_up", 75),))
    assert r3_late_shipment(on_time, POLICY) is None
    assert r3_late_shipment(late, POLICY).penalty_exposure == Decimal("1.05")


def test_r3_penalty_rounds_half_up():
    hit = r3_late_shipment(facts(shipped_at=hours(90), order_amount=Decimal("10.10")), POLICY)
    assert hit.penalty_exposure == Decimal("0.51")  # 0.505 → 0.51, not banker's 0.50


def test_r3_penalty_base_falls_back_to_the_items():
    hit = r3_late_shipment(facts(shipped_at=hours(90), order_amount=None), POLICY)
    assert hit.penalty_exposure == Decimal("1.05")  # 2 × 10.50 × 5 %


def test_r3_follows_the_shop_policy():
    policy = Policy(
        ship_within_hours=48, late_ship_penalty_rate=Decimal("0.10"), late_ship_penalty_points=6
    )
    hit = r3_late_shipment(facts(shipped_at=hours(50)), policy)
    assert hit.penalty_exposure == Decimal("2.10")
    assert "48 h" in hit.text and "10 %" in hit.text and "6 points" in hit.text


def test_r3_quiet_without_payment_time():
    assert r3_late_shipment(facts(paid_at=None, shipped_at=hours(200)), POLICY) is None


# --- R4 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["no_tracking_update", "lost_parcel"])
def test_r4_no_pickup_scan_is_the_shop(kind):
    hit = r4_no_tracking(facts(dispute_type=kind, logistics=()), POLICY)
    assert (hit.id, hit.party, hit.courier_claim) == ("R4", "merchant", False)


@pytest.mark.parametrize("scan", ["picked_up", "in_transit", "delivered", "signed"])
def test_r4_with_a_pickup_scan_is_the_courier(scan):
    hit = r4_no_tracking(facts(dispute_type="lost_parcel", logistics=(event(scan, 30),)), POLICY)
    assert (hit.party, hit.courier_claim) == ("courier", True)


def test_r4_a_bare_lost_event_is_no_pickup_scan():
    hit = r4_no_tracking(facts(dispute_type="lost_parcel", logistics=(event("lost", 40),)), POLICY)
    assert hit.party == "merchant"


def test_r4_quiet_for_other_types():
    assert (
        r4_no_tracking(
            facts(dispute_type="late_shipment", logistics=(event("picked_up", 30),)), POLICY
        )
        is None
    )


# --- R5 -------------------------------------------------------------------------------------------


def test_r5_unauthorised_signer_is_the_courier():
    signed = event("signed", 50, signed_by="门卫", authorized=False)
    hit = r5_third_party_signature(
        facts(dispute_type="signed_not_received", logistics=(signed,)), POLICY
    )
    assert (hit.id, hit.party, hit.courier_claim) == ("R5", "courier", True)
    assert "门卫" in hit.text and "without the customer's authorisation" in hit.text


def test_r5_authorised_signer_is_the_customer():
    signed = event("signed", 50, signed_by="邻居", authorized=True)
    hit = r5_third_party_signature(
        facts(dispute_type="signed_not_received", logistics=(signed,)), POLICY
    )
    assert (hit.party, hit.courier_claim) == ("customer", False)


def test_r5_unknown_authorisation_does_not_fire():
    signed = event("signed", 50, signed_by="someone")
    assert (
        r5_third_party_signature(
            facts(dispute_type="signed_not_received", logistics=(signed,)), POLICY
        )
        is None
    )


def test_r5_only_for_not_received_tickets():
    signed = event("signed", 50, authorized=False)
    assert (
        r5_third_party_signature(facts(dispute_type="quality_defect", logistics=(signed,)), POLICY)
        is None
    )


def test_r5_latest_signature_counts():
    first = event("signed", 50, authorized=False)
    later = event("signed", 55, authorized=True)
    hit = r5_third_party_signature(
        facts(dispute_type="lost_parcel", logistics=(later, first)), POLICY
    )
    assert hit.party == "customer"


# --- R6 -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "reason, words",
    [
        ("wrong_address", "wrong address"),
        ("unreachable", "could not be reached"),
        ("refused_without_reason", "refused"),
    ],
)
def test_r6_customer_caused_return(reason, words):
    returned = event("returned", 70, reason=reason)
    hit = r6_customer_delivery_fault(
        facts(dispute_type="late_shipment", logistics=(returned,)), POLICY
    )
    assert (hit.id, hit.party) == ("R6", "customer")
    assert words in hit.text and "bears the shipping" in hit.text


def test_r6_return_without_a_customer_reason_does_not_fire():
    returned = event("returned", 70, reason="")
    assert r6_customer_delivery_fault(facts(logistics=(returned,)), POLICY) is None
    assert r6_customer_delivery_fault(facts(logistics=(event("in_transit", 30),)), POLICY) is None


# --- R7 -------------------------------------------------------------------------------------------


def food(**changes):
    ham = ItemFact("HAM-1", "火腿肠", "F0901", Decimal("29.90"), 1, True, 1)
    return facts(
        dispute_type="spoiled_food", items=(ham,), order_amount=Decimal("29.90"), **changes
    )


def test_r7_third_ticket_on_the_batch_is_the_manufacturer_with_an_alert():
    hit = r7_spoiled_food(food(same_batch_ticket_count=3), POLICY)
    assert (hit.id, hit.party, hit.batch_alert) == ("R7", "manufacturer", True)
    assert "batch alert" in hit.text


def test_r7_two_tickets_on_the_batch_are_not_yet_a_batch():
    assert r7_spoiled_food(food(same_batch_ticket_count=2), POLICY) is None


def test_r7_reported_after_the_perishable_window_is_storage():
    hit = r7_spoiled_food(food(reported_at=hours(53) + timedelta(days=8)), POLICY)
    assert (hit.party, hit.batch_alert, hit.courier_claim) == ("customer", False, False)
    assert "8 days after delivery" in hit.text and "storage" in hit.text


def test_r7_reported_exactly_at_the_window_end_is_in_time():
    assert r7_spoiled_food(food(reported_at=hours(53) + timedelta(days=7)), POLICY) is None


def test_r7_slow_transit_is_the_courier():
    hit = r7_spoiled_food(food(shipped_at=hours(10), delivered_at=hours(90)), POLICY)
    assert (hit.party, hit.courier_claim) == ("courier", True)
    assert "80 h" in hit.text


def test_r7_usual_transit_is_nobody_yet():
    assert r7_spoiled_food(food(shipped_at=hours(10), delivered_at=hours(82)), POLICY) is None


def test_r7_precedence_batch_then_courier_then_customer():
    everything = food(
        same_batch_ticket_count=4,
        shipped_at=hours(10),
        delivered_at=hours(90),
        reported_at=hours(90) + timedelta(days=9),
    )
    hit = r7_spoiled_food(everything, POLICY)
    assert hit.party == "manufacturer"
    assert (
        "Also:" in hit.text
        and "transit took 80 h" in hit.text
        and "9 days after delivery" in hit.text
    )
    slow_and_late = replace(everything, same_batch_ticket_count=1)
    assert r7_spoiled_food(slow_and_late, POLICY).party == "courier"


def test_r7_uses_the_signed_event_when_delivered_at_is_unknown():
    late = food(
        delivered_at=None,
        logistics=(event("signed", 40, authorized=True),),
        reported_at=hours(40 + 24 * 10),
    )
    assert r7_spoiled_food(late, POLICY).party == "customer"


def test_r7_follows_the_shop_policy():
    policy = Policy(batch_alert_threshold=5, perishable_window_days=3)
    assert r7_spoiled_food(food(same_batch_ticket_count=4), policy) is None
    assert (
        r7_spoiled_food(food(reported_at=hours(53) + timedelta(days=4)), policy).party == "customer"
    )


def test_r7_only_for_spoiled_food():
    assert (
        r7_spoiled_food(facts(dispute_type="quality_defect", same_batch_ticket_count=9), POLICY)
        is None
    )


# --- R8, R9, R10 ----------------------------------------------------------------------------------


def test_r8_no_reason_return_is_nobody():
    hit = r8_no_reason_return(facts(dispute_type="no_reason_return"), POLICY)
    assert (hit.id, hit.party) == ("R8", "none")
    assert "pays the return shipping" in hit.text and "resaleable" in hit.text
    assert r8_no_reason_return(facts(dispute_type="quality_defect"), POLICY) is None


def test_r9_misuse_is_the_customer():
    hit = r9_customer_misuse(facts(dispute_type="customer_misuse"), POLICY)
    assert (hit.id, hit.party) == ("R9", "customer")
    assert "goodwill" in hit.text
    assert r9_customer_misuse(facts(dispute_type="quality_defect"), POLICY) is None


@pytest.mark.parametrize("kind", sorted(R10_TYPES))
def test_r10_shop_service_is_the_merchant(kind):
    hit = r10_shop_service(facts(dispute_type=kind), POLICY)
    assert (hit.id, hit.party) == ("R10", "merchant")


@pytest.mark.parametrize("kind", ["harassment", "no_reason_return", "quality_defect"])
def test_r10_quiet_for_other_types(kind):
    assert r10_shop_service(facts(dispute_type=kind), POLICY) is None


def test_r10_covers_exactly_the_codes_domain_md_names():
    assert {
        "service_attitude",
        "service_unresponsive",
        "price_dispute",
        "coupon_misleading",
        "invoice",
        "broken_promise",
        "refund_delay",
    } == R10_TYPES


# --- suggest_responsibility -----------------------------------------------------------------------


def test_nothing_fires_the_agent_judges():
    suggestion = suggest_responsibility(facts(dispute_type="damaged_on_arrival"), POLICY)
    assert (
        suggestion.party,
        suggestion.rules,
        suggestion.penalty_exposure,
        suggestion.batch_alert,
    ) == (
        None,
        [],
        None,
        False,
    )


def test_late_shipment_alone_is_the_merchant_with_penalty():
    suggestion = suggest_responsibility(
        facts(dispute_type="late_shipment", shipped_at=hours(80)), POLICY
    )
    assert suggestion.party == "merchant"
    assert [hit.id for hit in suggestion.rules] == ["R3"]
    assert suggestion.penalty_exposure == Decimal("1.05")


def test_type_rule_names_the_party_and_r3_adds_the_penalty():
    late_transit_damage = facts(
        dispute_type="damaged_in_transit", shipped_at=hours(80), delivered_at=hours(100)
    )
    suggestion = suggest_responsibility(late_transit_damage, POLICY)
    assert [hit.id for hit in suggestion.rules] == ["R2", "R3"]
    assert suggestion.party == "courier"
    assert suggestion.penalty_exposure == Decimal("1.05")


def test_customer_caused_return_beats_the_pickup_scan():
    lost = facts(
        dispute_type="lost_parcel",
        logistics=(event("picked_up", 25), event("returned", 70, reason="wrong_address")),
    )
    suggestion = suggest_responsibility(lost, POLICY)
    assert [hit.id for hit in suggestion.rules] == ["R4", "R6"]
    assert suggestion.party == "customer"


def test_authorised_signature_beats_the_pickup_scan():
    lost = facts(
        dispute_type="lost_parcel",
        logistics=(event("picked_up", 25), event("signed", 50, authorized=True)),
    )
    suggestion = suggest_responsibility(lost, POLICY)
    assert [hit.id for hit in suggestion.rules] == ["R4", "R5"]
    assert suggestion.party == "customer"


def test_unauthorised_signature_is_the_courier():
    lost = facts(
        dispute_type="signed_not_received", logistics=(event("signed", 50, authorized=False),)
    )
    assert suggest_responsibility(lost, POLICY).party == "courier"


def test_no_reason_return_stays_no_fault_even_if_refused_at_the_door():
    refused = facts(
        dispute_type="no_reason_return",
        logistics=(event("returned", 70, reason="refused_without_reason"),),
    )
    suggestion = suggest_responsibility(refused, POLICY)
    assert [hit.id for hit in suggestion.rules] == ["R6", "R8"]
    assert suggestion.party == "none"


def test_spoiled_food_batch_is_the_manufacturer_and_raises_the_alert():
    suggestion = suggest_responsibility(food(same_batch_ticket_count=3), POLICY)
    assert (suggestion.party, suggestion.batch_alert) == ("manufacturer", True)


def test_quality_ticket_on_a_bad_batch_raises_the_alert_without_naming_the_manufacturer():
    suggestion = suggest_responsibility(
        facts(dispute_type="quality_defect", same_batch_ticket_count=3), POLICY
    )
    assert (suggestion.party, suggestion.batch_alert) == (None, True)
    misuse = suggest_responsibility(
        facts(dispute_type="customer_misuse", same_batch_ticket_count=3), POLICY
    )
    assert misuse.batch_alert is False


def test_every_hit_speaks_english_and_chinese():
    cases = [
        facts(dispute_type="wrong_item", shipped_at=hours(80)),
        facts(dispute_type="damaged_in_transit"),
        facts(dispute_type="lost_parcel", logistics=(event("returned", 70, reason="unreachable"),)),
        facts(
            dispute_type="signed_not_received", logistics=(event("signed", 50, authorized=False),)
        ),
        food(same_batch_ticket_count=3),
        facts(dispute_type="no_reason_return"),
        facts(dispute_type="customer_misuse"),
        facts(dispute_type="invoice"),
    ]
    ids = set()
    for case in cases:
        for hit in suggest_responsibility(case, POLICY).rules:
            ids.add(hit.id)
            assert hit.text and not has_chinese(hit.text)
            assert has_chinese(hit.text_zh)
    assert ids == {f"R{n}" for n in range(1, 11)}
