"""The compensation standard (DOMAIN.md §5, seed 002 天猫售后处理标准), row by row, with exact figures."""

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest

from disputes.facts import (
    ItemFact,
    LogisticsFact,
    Policy,
    TicketFacts,
    money,
    policy_from_changes,
    policy_from_dict,
)
from disputes.standard import (
    cash_equivalent,
    compensation_options,
    food_safety_exposure,
    is_review_conditioned,
    needs_supervisor,
    refundable_total,
    two_options,
    within_standard,
)

D = Decimal
SHANGHAI = timezone(timedelta(hours=8))
PAID = datetime(2026, 11, 20, 10, 0, tzinfo=SHANGHAI)
POLICY = Policy()


def hours(n):
    return PAID + timedelta(hours=n)


def item(price="10.50", quantity=2, affected=1, sku="GLASS-500", perishable=False):
    return ItemFact(sku, sku, "B2311", D(price), quantity, perishable, affected)


def facts(**changes) -> TicketFacts:
    """The issue's reference ticket: two ¥10.50 glass bottles, one arrived broken."""
    base = TicketFacts(
        dispute_type="damaged_on_arrival",
        reported_at=hours(60),
        order_amount=D("21.00"),
        paid_at=PAID,
        shipped_at=hours(23),
        delivered_at=hours(53),
        courier="SF",
        items=(item(),),
        logistics=(),
        has_photo=True,
        same_batch_ticket_count=1,
        now=hours(61),
    )
    return replace(base, **changes)


def single_bottle(**changes):
    return facts(items=(item(quantity=1, affected=1),), order_amount=D("10.50"), **changes)


def summary(options):
    return [(o.type, o.amount, o.rule) for o in options]


def pick(options, rule, type_=None):
    found = [o for o in options if o.rule == rule and (type_ is None or o.type == type_)]
    assert len(found) == 1, summary(options)
    return found[0]


# --- damaged / quality, still usable: goodwill ¥2 up to ¥5 ----------------------------------------


def test_usable_damage_first_offer_is_2_yuan_coupon_then_cash():
    options = compensation_options(facts(), POLICY)
    assert summary(options) == [("coupon", D("2.00"), "goodwill"), ("cash", D("2.00"), "goodwill")]
    coupon, cash = options
    assert (coupon.virtual, cash.virtual) == (True, False)
    assert not any(o.requires_return or o.requires_approval for o in options)
    assert "≤ ¥5.00" in coupon.rationale


@pytest.mark.parametrize(
    "granted, offer",
    [("0", "2.00"), ("2.00", "2.00"), ("3.50", "1.50"), ("4.00", "1.00"), ("4.99", "0.01")],
)
def test_goodwill_total_stays_within_5_yuan(granted, offer):
    options = compensation_options(facts(), POLICY, already_granted=D(granted))
    assert [(o.type, o.amount) for o in options] == [("coupon", D(offer)), ("cash", D(offer))]


def test_goodwill_used_up_moves_on_to_the_return_route():
    options = compensation_options(single_bottle(), POLICY, already_granted=D("5.00"))
    assert summary(options) == [("return_refund", D("10.50"), "return_refund")]
    assert "ask the customer" in options[0].rationale.lower()


@pytest.mark.parametrize("kind", ["quality_defect", "not_as_described", "damaged_in_transit"])
def test_quality_problems_follow_the_damage_rows(kind):
    options = compensation_options(facts(dispute_type=kind), POLICY, party="merchant")
    assert summary(options) == [("coupon", D("2.00"), "goodwill"), ("cash", D("2.00"), "goodwill")]


# --- damaged / quality, unusable: full refund, no return ------------------------------------------


def test_unusable_is_a_full_refund_of_the_affected_items_without_return():
    options = compensation_options(facts(), POLICY, usable=False)
    assert summary(options) == [
        ("refund", D("10.50"), "unusable_full_refund"),
        ("reship", D("10.50"), "reship_replacement"),
    ]
    assert not any(o.requires_return or o.requires_approval for o in options)


def test_unusable_above_the_agents_authority_waits_for_a_supervisor():
    options = compensation_options(
        facts(items=(item(price="60.00", quantity=1),)), POLICY, usable=False
    )
    assert options[0].amount == D("60.00") and options[0].requires_approval


# --- usable but the customer refuses goodwill: return, subsidy ≤ ¥13, else more goodwill ≤ 50 % --


def test_refused_goodwill_with_12_yuan_quote_is_return_with_12_yuan_subsidy():
    options = compensation_options(
        single_bottle(), POLICY, customer_refused="goodwill", return_shipping_quote=D("12")
    )
    assert summary(options) == [
        ("return_refund", D("10.50"), "return_refund"),
        ("return_shipping_subsidy", D("12.00"), "return_shipping_subsidy"),
    ]
    assert all(o.requires_return and not o.requires_approval for o in options)


def test_quote_of_exactly_13_yuan_is_still_subsidised():
    options = compensation_options(
        single_bottle(), POLICY, customer_refused="goodwill", return_shipping_quote=D("13.00")
    )
    assert pick(options, "return_shipping_subsidy").amount == D("13.00")
    assert not [o for o in options if o.rule == "goodwill_instead_of_return"]


def test_refused_goodwill_with_15_yuan_quote_is_more_goodwill_capped_at_half_the_price():
    options = compensation_options(
        single_bottle(), POLICY, customer_refused="goodwill", return_shipping_quote=D("15")
    )
    assert summary(options) == [
        ("coupon", D("5.25"), "goodwill_instead_of_return"),
        ("cash", D("5.25"), "goodwill_instead_of_return"),
        ("return_refund", D("10.50"), "return_refund"),
        ("return_shipping_subsidy", D("13.00"), "return_shipping_subsidy"),
    ]
    assert not options[0].requires_return and not options[0].requires_approval
    assert "50 %" in options[0].rationale


def test_more_goodwill_counts_what_was_already_granted():
    options = compensation_options(
        single_bottle(),
        POLICY,
        customer_refused="goodwill",
        return_shipping_quote=D("15"),
        already_granted=D("2.00"),
    )
    assert pick(options, "goodwill_instead_of_return", "cash").amount == D("3.25")


def test_seed_example_20_yuan_bottle_gets_10_yuan():
    bottle = facts(items=(item(price="20.00", quantity=1),), order_amount=D("20.00"))
    options = compensation_options(
        bottle, POLICY, customer_refused="goodwill", return_shipping_quote=D("18")
    )
    assert pick(options, "goodwill_instead_of_return", "coupon").amount == D("10.00")


def test_half_price_rounds_half_up():
    bottle = facts(items=(item(price="10.25", quantity=1),), order_amount=D("10.25"))
    options = compensation_options(
        bottle, POLICY, customer_refused="goodwill", return_shipping_quote=D("20")
    )
    assert pick(options, "goodwill_instead_of_return", "cash").amount == D("5.13")  # 5.125 → 5.13


# --- leaking / stained: goodwill ¥2 + re-ship the seal --------------------------------------------


def test_leaking_is_goodwill_plus_the_seal_part():
    options = compensation_options(facts(dispute_type="leaking_stained"), POLICY)
    assert summary(options) == [
        ("reship", D("0.00"), "reship_seal_part"),
        ("coupon", D("2.00"), "goodwill"),
        ("cash", D("2.00"), "goodwill"),
    ]
    assert [o.rule for o in two_options(options)] == ["goodwill", "goodwill"]


def test_leaking_refused_follows_the_return_rule():
    options = compensation_options(
        single_bottle(dispute_type="leaking_stained"),
        POLICY,
        customer_refused="goodwill",
        return_shipping_quote=D("8"),
    )
    assert summary(options) == [
        ("return_shipping_subsidy", D("8.00"), "return_shipping_subsidy"),
        ("return_refund", D("10.50"), "return_refund"),
    ]


# --- minor defect: ¥1–2 ---------------------------------------------------------------------------


def test_minor_defect_is_1_to_2_yuan():
    options = compensation_options(facts(dispute_type="minor_defect"), POLICY)
    assert [(o.type, o.amount) for o in options] == [
        ("coupon", D("1.00")),
        ("cash", D("1.00")),
        ("coupon", D("2.00")),
        ("cash", D("2.00")),
    ]
    assert {o.rule for o in options} == {"minor_defect_goodwill"}


def test_minor_defect_stays_within_the_5_yuan_total():
    options = compensation_options(
        facts(dispute_type="minor_defect"), POLICY, already_granted=D("4.50")
    )
    assert [(o.type, o.amount) for o in options] == [("coupon", D("0.50")), ("cash", D("0.50"))]


# --- missing item: re-ship or refund --------------------------------------------------------------


def test_missing_items_are_reshipped_or_refunded_at_their_price():
    order = facts(
        dispute_type="missing_item",
        items=(
            item(price="15.00", quantity=3, affected=2),
            item(price="9.90", quantity=1, affected=0, sku="LID"),
        ),
    )
    options = compensation_options(order, POLICY)
    assert summary(options) == [
        ("reship", D("30.00"), "reship_missing"),
        ("refund", D("30.00"), "refund_missing"),
    ]
    assert not any(o.requires_return or o.requires_approval for o in options)


# --- wrong item (R1): exchange, shop pays the return ----------------------------------------------


def test_wrong_item_is_exchanged_with_return_shipping_paid():
    options = compensation_options(
        single_bottle(dispute_type="wrong_item"), POLICY, return_shipping_quote=D("8")
    )
    assert summary(options) == [
        ("return_shipping_subsidy", D("8.00"), "return_shipping_subsidy"),
        ("exchange", D("10.50"), "exchange_wrong_item"),
        ("return_refund", D("10.50"), "return_refund_wrong_item"),
    ]
    assert [o.type for o in two_options(options)] == ["exchange", "return_refund"]


# --- slow / undelivered ---------------------------------------------------------------------------


def undelivered(kind, **changes):
    return facts(dispute_type=kind, items=(item(affected=0),), delivered_at=None, **changes)


def test_late_shipment_pacify_or_intercept_and_the_penalty():
    options = compensation_options(undelivered("late_shipment", shipped_at=hours(80)), POLICY)
    assert summary(options) == [
        ("cash", D("1.05"), "late_ship_penalty"),
        ("coupon", D("2.00"), "pacify_accept_delivery"),
        ("refund", D("21.00"), "intercept_and_refund"),
    ]
    assert [o.rule for o in two_options(options)] == [
        "pacify_accept_delivery",
        "intercept_and_refund",
    ]


def test_slow_parcel_shipped_on_time_owes_no_penalty():
    options = compensation_options(undelivered("late_shipment", shipped_at=hours(20)), POLICY)
    assert [o.rule for o in options] == ["pacify_accept_delivery", "intercept_and_refund"]


def test_lost_parcel_with_pickup_scan_adds_a_courier_claim_last():
    lost = undelivered("lost_parcel", logistics=(LogisticsFact("picked_up", hours(25)),))
    options = compensation_options(lost, POLICY)
    assert summary(options) == [
        ("reship", D("21.00"), "reship_order"),
        ("refund", D("21.00"), "intercept_and_refund"),
        ("courier_claim", D("21.00"), "courier_claim"),
    ]
    assert "not paid to the customer" in options[-1].rationale
    assert [o.type for o in two_options(options)] == ["reship", "refund"]


def test_lost_parcel_never_handed_over_has_no_courier_claim():
    options = compensation_options(undelivered("lost_parcel"), POLICY)
    assert [o.type for o in options] == ["reship", "refund"]


def test_no_tracking_update_pacify_reship_or_refund():
    options = compensation_options(undelivered("no_tracking_update"), POLICY)
    assert [(o.type, o.rule) for o in options] == [
        ("coupon", "pacify_accept_delivery"),
        ("reship", "reship_order"),
        ("refund", "intercept_and_refund"),
    ]


def test_signed_by_someone_the_customer_authorised_offers_nothing():
    signed = LogisticsFact("signed", hours(50), signed_by="邻居", authorized=True)
    assert (
        compensation_options(undelivered("signed_not_received", logistics=(signed,)), POLICY) == []
    )


def test_transit_damage_with_photo_claims_from_the_courier():
    options = compensation_options(facts(dispute_type="damaged_in_transit"), POLICY, usable=False)
    assert summary(options)[-1] == ("courier_claim", D("10.50"), "courier_claim")


# --- several items, some defective ----------------------------------------------------------------


def test_several_items_shop_pays_return_shipping_only_for_the_defective_ones():
    order = facts(items=(item(price="10.00", quantity=3, affected=1),), order_amount=D("30.00"))
    options = compensation_options(
        order, POLICY, customer_refused="goodwill", return_shipping_quote=D("9")
    )
    assert summary(options) == [
        ("return_shipping_subsidy", D("9.00"), "return_shipping_subsidy"),
        ("return_refund", D("10.00"), "return_refund"),
        ("return_refund", D("30.00"), "return_all_items"),
    ]
    everything = pick(options, "return_all_items")
    assert "¥3.00 of the ¥9.00 shipping" in everything.rationale  # 9 × 1/3
    assert "pays for the good ones" in everything.rationale


def test_several_items_share_is_capped_at_13_yuan():
    order = facts(items=(item(price="10.00", quantity=2, affected=1),), order_amount=D("20.00"))
    options = compensation_options(
        order, POLICY, customer_refused="goodwill", return_shipping_quote=D("30")
    )
    assert "¥13.00 of the ¥30.00 shipping" in pick(options, "return_all_items").rationale
    assert pick(options, "return_shipping_subsidy").amount == D("13.00")


def test_reference_bottle_pair_returning_both_pays_half_the_shipping():
    options = compensation_options(
        facts(), POLICY, customer_refused="goodwill", return_shipping_quote=D("12")
    )
    assert pick(options, "return_shipping_subsidy").amount == D("12.00")
    assert pick(options, "return_refund").amount == D("10.50")
    assert pick(options, "return_all_items").amount == D("21.00")
    assert "¥6.00 of the ¥12.00 shipping" in pick(options, "return_all_items").rationale


# --- 7-day no-reason return -----------------------------------------------------------------------


def test_no_reason_return_customer_pays_shipping():
    options = compensation_options(
        facts(dispute_type="no_reason_return"), POLICY, return_shipping_quote=D("10")
    )
    assert summary(options) == [("return_refund", D("10.50"), "no_reason_return")]
    assert options[0].requires_return and not options[0].requires_approval
    assert (
        "customer pays the return shipping" in options[0].rationale
        and "resaleable" in options[0].rationale
    )


def test_no_reason_return_of_an_expensive_item_needs_no_approval():
    order = facts(dispute_type="no_reason_return", items=(item(price="300.00", quantity=1),))
    assert compensation_options(order, POLICY)[0].requires_approval is False


# --- customer's fault (R6): shipping deducted -----------------------------------------------------


def returned_to_sender(reason="wrong_address"):
    return undelivered(
        "lost_parcel",
        logistics=(
            LogisticsFact("picked_up", hours(25)),
            LogisticsFact("returned", hours(70), reason=reason),
        ),
    )


def test_customer_fault_deducts_the_shipping_from_the_refund():
    options = compensation_options(returned_to_sender(), POLICY, return_shipping_quote=D("8.00"))
    assert summary(options) == [
        ("refund", D("13.00"), "customer_fault_shipping_deducted"),
        ("reship", D("21.00"), "reship_corrected_address"),
    ]
    assert not any(o.type == "courier_claim" for o in options)


def test_customer_fault_refund_never_goes_below_zero():
    order = replace(
        returned_to_sender("refused_without_reason"),
        items=(item(price="3.00", quantity=1, affected=0),),
    )
    options = compensation_options(order, POLICY, return_shipping_quote=D("8.00"))
    assert pick(options, "customer_fault_shipping_deducted").amount == D("0.00")


def test_customer_fault_without_a_quote_refunds_in_full_and_asks_for_the_cost():
    refund = pick(
        compensation_options(returned_to_sender(), POLICY), "customer_fault_shipping_deducted"
    )
    assert refund.amount == D("21.00") and "enter its cost" in refund.rationale


# --- difficult customer: ⅓ → ⅔ → full ------------------------------------------------------------


@pytest.mark.parametrize(
    "price, step, amount",
    [
        ("10.50", 0, "3.50"),
        ("10.50", 1, "7.00"),
        ("10.50", 2, "10.50"),
        ("10.00", 0, "3.33"),
        ("10.00", 1, "6.67"),
        ("10.00", 2, "10.00"),
        ("10.00", 7, "10.00"),
    ],
)
def test_partial_refund_ladder(price, step, amount):
    order = facts(items=(item(price=price, quantity=1),))
    options = compensation_options(order, POLICY, customer_refused="return", ladder_step=step)
    ladder = pick(options, "partial_refund_ladder")
    assert (ladder.type, ladder.amount, ladder.requires_return) == ("refund", D(amount), False)


def test_ladder_step_alone_shows_the_ladder():
    options = compensation_options(facts(dispute_type="quality_defect"), POLICY, ladder_step=1)
    assert pick(options, "partial_refund_ladder").amount == D("7.00")


def test_no_ladder_unless_asked():
    assert not [o for o in compensation_options(facts(), POLICY) if "ladder" in o.rule]


# --- food safety ----------------------------------------------------------------------------------


def ham(price="10.50", quantity=1, **changes):
    return facts(
        dispute_type="spoiled_food",
        items=(
            item(price=price, quantity=quantity, affected=quantity, sku="HAM", perishable=True),
        ),
        **changes,
    )


def test_spoiled_food_options_show_the_exposure_and_all_need_a_supervisor():
    options = compensation_options(ham(), POLICY)
    assert summary(options) == [
        ("coupon", D("2.00"), "food_goodwill"),
        ("cash", D("2.00"), "food_goodwill"),
        ("reship", D("10.50"), "food_reship"),
        ("refund", D("10.50"), "food_refund"),
        ("cash", D("1000.00"), "food_safety_claim"),
    ]
    assert all(o.requires_approval for o in options)
    assert [o.rule for o in two_options(options)] == ["food_goodwill", "food_goodwill"]


def test_spoiled_food_difficult_customer_ladder_needs_a_supervisor():
    options = compensation_options(ham(), POLICY, customer_refused="goodwill")
    ladder = pick(options, "food_partial_refund_ladder")
    assert (ladder.amount, ladder.requires_approval) == (D("3.50"), True)
    assert not [o for o in options if o.rule == "food_goodwill"]
    assert pick(options, "food_safety_claim").amount == D("1000.00")


def test_spoiled_food_slow_courier_adds_a_claim_that_needs_no_approval():
    options = compensation_options(ham(shipped_at=hours(10), delivered_at=hours(100)), POLICY)
    claim = options[-1]
    assert (claim.type, claim.amount, claim.requires_approval) == (
        "courier_claim",
        D("10.50"),
        False,
    )


@pytest.mark.parametrize(
    "price, quantity, loss, exposure",
    [
        ("10.50", 1, None, "1000.00"),
        ("150.00", 1, None, "1500.00"),
        ("60.00", 2, None, "1200.00"),
        ("50.00", 1, "600.00", "1800.00"),
        ("99.99", 1, None, "1000.00"),
        ("100.01", 1, None, "1000.10"),
    ],
)
def test_food_safety_exposure_article_148(price, quantity, loss, exposure):
    order = ham(price=price, quantity=quantity)
    assert food_safety_exposure(order, POLICY, None if loss is None else D(loss)) == D(exposure)


# --- counterfeit, misuse, service -----------------------------------------------------------------


def test_counterfeit_is_outside_the_standard():
    options = compensation_options(facts(dispute_type="counterfeit"), POLICY)
    assert summary(options) == [("return_refund", D("10.50"), "counterfeit_return_refund")]
    assert options[0].requires_approval


def test_misuse_allows_goodwill():
    options = compensation_options(facts(dispute_type="customer_misuse"), POLICY)
    assert [(o.type, o.amount, o.rule) for o in options] == [
        ("coupon", D("2.00"), "misuse_goodwill"),
        ("cash", D("2.00"), "misuse_goodwill"),
    ]
    assert (
        compensation_options(
            facts(dispute_type="customer_misuse"), POLICY, customer_refused="goodwill"
        )
        == []
    )


def test_service_complaint_is_an_apology_goodwill():
    options = compensation_options(
        facts(dispute_type="service_attitude"), POLICY, already_granted=D("4.00")
    )
    assert [(o.type, o.amount, o.rule) for o in options] == [
        ("coupon", D("1.00"), "apology_goodwill"),
        ("cash", D("1.00"), "apology_goodwill"),
    ]


def test_refusing_coupons_leaves_cash():
    options = compensation_options(facts(), POLICY, customer_refused="coupon")
    assert [(o.type, o.amount) for o in options] == [("cash", D("2.00"))]


# --- policy drives the figures --------------------------------------------------------------------


def test_shop_policy_changes_the_figures():
    policy = Policy(
        goodwill_step=D("3.00"), goodwill_total_cap=D("8.00"), return_shipping_cap=D("10.00")
    )
    assert compensation_options(facts(), policy)[0].amount == D("3.00")
    over = compensation_options(
        single_bottle(), policy, customer_refused="goodwill", return_shipping_quote=D("12")
    )
    assert pick(over, "goodwill_instead_of_return", "coupon").amount == D("5.25")
    assert pick(over, "return_shipping_subsidy").amount == D("10.00")


# --- authority, refundable total, photo, review condition -----------------------------------------


@pytest.mark.parametrize(
    "amount, granted, within, supervisor, waits",
    [
        ("45.00", "5.00", True, False, False),
        ("45.01", "5.00", True, False, True),
        ("50.00", "0", True, False, False),
        ("2.00", "0", False, False, True),
        ("500.00", "0", True, True, False),
        ("2.00", "0", False, True, False),
    ],
)
def test_needs_supervisor(amount, granted, within, supervisor, waits):
    assert needs_supervisor(D(amount), D(granted), POLICY, within, supervisor) is waits


def test_authority_follows_the_policy():
    assert (
        needs_supervisor(D("60.00"), D("0"), Policy(agent_authority=D("100.00")), True, False)
        is False
    )


def test_goodwill_option_after_large_grants_needs_approval():
    options = compensation_options(
        facts(dispute_type="service_attitude"),
        Policy(goodwill_total_cap=D("100.00")),
        already_granted=D("49.00"),
    )
    assert options[0].amount == D("2.00") and options[0].requires_approval


def test_cash_equivalent_counts_only_what_leaves_for_good():
    assert cash_equivalent("coupon", D("2")) == D("2.00")
    assert cash_equivalent("reship", D("10.5")) == D("10.50")
    assert cash_equivalent("return_refund", D("300")) == D("0.00")
    assert cash_equivalent("courier_claim", D("21")) == D("0.00")


def test_refundable_total_is_the_affected_items():
    assert refundable_total(facts()) == D("10.50")
    two_lines = facts(
        items=(item(quantity=2, affected=2), item(price="3.33", quantity=3, affected=1, sku="LID"))
    )
    assert refundable_total(two_lines) == D("24.33")
    assert refundable_total(facts(items=(item(affected=0),))) == D(
        "21.00"
    )  # nothing marked: whole order


def test_within_standard():
    options = compensation_options(facts(), POLICY, usable=False)
    assert within_standard(options, "refund", D("10.50"))
    assert within_standard(options, "refund", D("5.00"))
    assert not within_standard(options, "refund", D("10.51"))
    assert not within_standard(options, "cash", D("1.00"))
    assert not within_standard(compensation_options(ham(), POLICY), "refund", D("1.00"))


@pytest.mark.parametrize("condition", ["good_review", "GOOD_REVIEW", " good_review ", "好评返现"])
def test_review_conditioned_money_is_refused(condition):
    assert is_review_conditioned(condition)


@pytest.mark.parametrize("condition", [None, "", "photo_received"])
def test_other_conditions_pass(condition):
    assert not is_review_conditioned(condition)


# --- never float ----------------------------------------------------------------------------------


def all_walks():
    lost = undelivered("lost_parcel", logistics=(LogisticsFact("picked_up", hours(25)),))
    cases = [
        (facts(), {}),
        (facts(), {"usable": False}),
        (facts(), {"customer_refused": "goodwill", "return_shipping_quote": D("12")}),
        (facts(), {"customer_refused": "goodwill", "return_shipping_quote": D("15")}),
        (facts(dispute_type="leaking_stained"), {}),
        (facts(dispute_type="minor_defect"), {"already_granted": D("1.10")}),
        (facts(dispute_type="missing_item"), {}),
        (facts(dispute_type="wrong_item"), {"return_shipping_quote": D("7.5")}),
        (undelivered("late_shipment", shipped_at=hours(99), order_amount=D("33.33")), {}),
        (lost, {}),
        (returned_to_sender(), {"return_shipping_quote": D("6")}),
        (facts(dispute_type="no_reason_return"), {}),
        (facts(), {"customer_refused": "return", "ladder_step": 1}),
        (ham(), {"customer_refused": "goodwill"}),
        (facts(dispute_type="counterfeit"), {}),
        (facts(dispute_type="invoice"), {}),
    ]
    for case, kwargs in cases:
        yield compensation_options(case, POLICY, **kwargs)


def test_every_amount_is_a_two_place_decimal_never_a_float():
    walked = 0
    for options in all_walks():
        for option in options:
            walked += 1
            assert isinstance(option.amount, Decimal) and not isinstance(option.amount, float)
            assert option.amount.as_tuple().exponent == -2
            assert option.amount >= 0
            assert option.type in {
                "refund",
                "return_refund",
                "exchange",
                "reship",
                "repair",
                "coupon",
                "cash",
                "return_shipping_subsidy",
                "courier_claim",
            }
            assert option.rationale and option.rationale_zh
            assert not any(isinstance(value, float) for value in vars(option).values())
    assert walked > 40


def test_options_are_cheapest_first_with_courier_claims_last():
    for options in all_walks():
        customer = [o for o in options if o.type != "courier_claim"]
        assert [o.amount for o in customer] == sorted(o.amount for o in customer)
        assert all(o.type == "courier_claim" for o in options[len(customer) :])


def test_floats_are_refused():
    with pytest.raises(TypeError):
        money(10.5)
    with pytest.raises(TypeError):
        ItemFact("X", "x", "b", 10.5, 1, False, 1)
    with pytest.raises(TypeError):
        facts(order_amount=21.0)


# --- the Policy -----------------------------------------------------------------------------------


def test_policy_defaults_are_domain_md():
    assert Policy().as_dict() == {
        "goodwill_step": "2.00",
        "goodwill_total_cap": "5.00",
        "minor_defect_goodwill_min": "1.00",
        "return_shipping_cap": "13.00",
        "goodwill_price_ratio_cap": "0.50",
        "agent_authority": "50.00",
        "perishable_window_days": 7,
        "batch_alert_threshold": 3,
        "batch_alert_window_days": 30,
        "ship_within_hours": 72,
        "late_ship_penalty_rate": "0.05",
        "late_ship_penalty_points": 3,
        "courier_usual_transit_hours": 72,
        "food_safety_min_claim": "1000.00",
        "food_safety_price_multiple": 10,
        "food_safety_loss_multiple": 3,
        "risk_window_days": 90,
        "frequent_claimant_tickets": 3,
        "frequent_claimant_amount": "200.00",
    }
    assert Policy().validate() == {}


def test_policy_validate_reports_bad_fields():
    bad = Policy(
        goodwill_step=D("-1.00"),
        goodwill_price_ratio_cap=D("1.5"),
        agent_authority=50.0,
        ship_within_hours=-1,
    )
    assert set(bad.validate()) == {
        "goodwill_step",
        "goodwill_price_ratio_cap",
        "agent_authority",
        "ship_within_hours",
    }


def test_policy_changes_apply():
    policy, errors = policy_from_changes(
        Policy(),
        {
            "goodwill_total_cap": "6.00",
            "return_shipping_cap": 15,
            "late_ship_penalty_rate": 0.1,
            "perishable_window_days": "10",
        },
    )
    assert errors == {}
    assert (
        policy.goodwill_total_cap,
        policy.return_shipping_cap,
        policy.late_ship_penalty_rate,
        policy.perishable_window_days,
    ) == (
        D("6.00"),
        D("15.00"),
        D("0.1"),
        10,
    )
    assert policy.goodwill_step == D("2.00")


@pytest.mark.parametrize(
    "field, value",
    [
        ("goodwill_total_cap", "-1"),
        ("goodwill_total_cap", "abc"),
        ("goodwill_total_cap", True),
        ("goodwill_total_cap", None),
        ("goodwill_total_cap", [5]),
        ("goodwill_total_cap", "5.001"),
        ("goodwill_total_cap", "NaN"),
        ("goodwill_total_cap", "1e40"),
        ("goodwill_price_ratio_cap", "1.01"),
        ("late_ship_penalty_rate", 2),
        ("late_ship_penalty_rate", "-0.01"),
        ("perishable_window_days", -1),
        ("perishable_window_days", "seven"),
        ("perishable_window_days", 1.5),
        ("batch_alert_threshold", 0),
        ("ship_within_hours", {"h": 72}),
        ("no_such_field", 1),
    ],
)
def test_invalid_policy_changes_are_field_errors(field, value):
    base = Policy()
    policy, errors = policy_from_changes(base, {field: value})
    assert policy is base
    assert list(errors) == [field] and errors[field]


def test_policy_round_trips_through_json():
    policy = Policy(goodwill_step=D("3.00"), batch_alert_threshold=5)
    assert policy_from_dict(policy.as_dict()) == policy
    assert policy_from_dict({}) == Policy()
    with pytest.raises(ValueError):
        policy_from_dict({"agent_authority": "-5"})


def test_policy_json_helpers_used_by_the_services():
    policy = Policy(agent_authority=D("80.00"))
    assert Policy.from_json(policy.to_json()) == policy
    assert Policy.errors_for({**Policy().to_json(), "goodwill_price_ratio_cap": "2"}) == {
        "goodwill_price_ratio_cap": "Must be between 0 and 1."
    }
    assert Policy.errors_for(Policy().to_json()) == {}
