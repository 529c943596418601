"""The compensation standard of DOMAIN.md §5 (补偿标准), walked as plain functions.

`compensation_options()` turns a ticket's facts plus where the conversation stands (is the item
still usable? did the customer refuse goodwill? what does the return shipping cost?) into the
options the standard allows, cheapest first. Source: seed 002 (天猫售后处理标准) unless noted.

Decisions on points DOMAIN.md leaves open:
- Amounts are what the shop gives: money for refund/cash/coupon/subsidy, the goods' value for
  reship/exchange, the refunded price for return_refund. `courier_claim` is money recovered *from*
  the courier (the affected goods' value) and is always listed last.
- Ties at the same amount: coupon (virtual) before cash (seed 001: 先优惠券…然后是现金类), then the
  row's own order (e.g. missing item: re-ship before refund, as the standard lists them).
- Goodwill: each offer is `goodwill_step` (¥2) as a coupon and as cash; the total stays within
  `goodwill_total_cap` (¥5) minus `already_granted`. The seed's "好评返现3元" is not offered (see
  `is_review_conditioned`). Once the cap is used up, the next step is the return route.
- `already_granted` is the cash-equivalent the ticket already got (see `cash_equivalent`); it counts
  against both the goodwill cap and the agent's authority.
- Cash-equivalent (counts toward `agent_authority`): cash, coupon, refund, reship and
  return_shipping_subsidy — what leaves the shop for good. return_refund and exchange bring the
  goods back; courier_claim is money in; they count 0.
- Refused goodwill with a quote over `return_shipping_cap` (¥13): more goodwill instead, at most
  `goodwill_price_ratio_cap` (50 %) of the affected items' price minus `already_granted`
  (seed: 赔偿金额不能超过瓶子价格的一半). Return & refund stays listed with the subsidy at the cap.
- Several items, some defective: returning only the defective ones → subsidy min(quote, ¥13);
  returning everything (option `return_all_items`) → the shop pays only the defective units'
  share of the quote (quote × defective units / all units, ≤ ¥13, named in the rationale), the
  customer the rest. The same quote is used for both (one parcel either way).
- `customer_refused`: "goodwill" → the return route; "return" → the difficult-customer ladder
  (⅓ → ⅔ → full refund, keep the goods; seed 003); any other value drops the options of that
  type or rule (e.g. "coupon" → cash only). `ladder_step` > 0 also shows the ladder.
- Food safety (spoiled_food): goodwill, re-ship, refund and the Art. 148 claim figure; every
  option waits for a supervisor. Counterfeit is outside the standard: supervisor.
- A photo is required before paying damage/defect compensation when the ticket's dispute type
  says so (`DisputeType.photo_required`, read by the compensation panel); the options are still
  computed so the agent sees what the standard would allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from disputes.facts import Policy, TicketFacts, money
from disputes.rules import r3_late_shipment, r6_customer_delivery_fault, suggest_responsibility

OPTION_TYPES = (
    "refund",
    "return_refund",
    "exchange",
    "reship",
    "repair",
    "coupon",
    "cash",
    "return_shipping_subsidy",
    "courier_claim",
)
# What leaves the shop for good; these count toward the agent's authority.
CASH_EQUIVALENT_TYPES = frozenset({"cash", "coupon", "refund", "reship", "return_shipping_subsidy"})
# Options that go *with* another option rather than being a choice for the customer.
COMPANION_RULES = frozenset(
    {
        "return_shipping_subsidy",
        "reship_seal_part",
        "late_ship_penalty",
        "food_safety_claim",
        "courier_claim",
    }
)
# Goodwill kept by the customer; what "customer_refused=goodwill" refuses.
GOODWILL_RULES = frozenset(
    {
        "goodwill",
        "minor_defect_goodwill",
        "pacify_accept_delivery",
        "misuse_goodwill",
        "apology_goodwill",
        "food_goodwill",
    }
)
# Options outside the standard or on food safety: a supervisor decides, whatever the amount.
SUPERVISOR_RULES = frozenset(
    {
        "food_goodwill",
        "food_reship",
        "food_refund",
        "food_partial_refund_ladder",
        "food_safety_claim",
        "counterfeit_return_refund",
    }
)
DAMAGE_TYPES = frozenset(
    {"damaged_on_arrival", "damaged_in_transit", "quality_defect", "not_as_described"}
)
UNDELIVERED_TYPES = frozenset(
    {"late_shipment", "no_tracking_update", "lost_parcel", "signed_not_received"}
)
REVIEW_CONDITIONS = frozenset(
    {"good_review", "positive_review", "five_star_review", "review", "好评", "好评返现"}
)
ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Option:
    type: str
    amount: Decimal
    requires_return: bool
    requires_approval: bool
    rule: str
    rationale: str
    rationale_zh: str
    virtual: bool


# --- money helpers --------------------------------------------------------------------------------


def refundable_total(facts: TicketFacts) -> Decimal:
    """Σ unit_price × affected_quantity — the most that may be refunded for this ticket. When no
    item is marked affected (e.g. a lost parcel), the whole order is affected."""
    if any(item.affected_quantity for item in facts.items):
        return money(sum((i.unit_price * i.affected_quantity for i in facts.items), Decimal("0")))
    return order_items_total(facts)


def order_items_total(facts: TicketFacts) -> Decimal:
    return money(sum((i.unit_price * i.quantity for i in facts.items), Decimal("0")))


def cash_equivalent(option_type: str, amount: Decimal) -> Decimal:
    """What an option costs against the agent's authority (0 for return_refund, exchange, repair
    and courier_claim)."""
    return money(amount) if option_type in CASH_EQUIVALENT_TYPES else ZERO


def _percent(ratio: Decimal) -> str:
    return f"{(ratio * 100).normalize():f}"


def goodwill_remaining(policy: Policy, already_granted: Decimal) -> Decimal:
    return max(money(policy.goodwill_total_cap - already_granted), ZERO)


def over_agent_authority(total: Decimal, policy: Policy) -> bool:
    """More cash-equivalent on one ticket than an agent may grant alone (`agent_authority`, ¥50)."""
    return money(total) > policy.agent_authority


def needs_supervisor(
    amount: Decimal,
    already_granted: Decimal,
    policy: Policy,
    within_standard: bool,
    is_supervisor: bool,
    review_reasons: Mapping[str, str] | None = None,
) -> bool:
    """True when the proposal must wait for a supervisor. An agent may grant up to
    `agent_authority` (¥50) cash-equivalent per ticket in total, counting `already_granted`;
    anything outside the standard waits, and so does anything on a ticket with review reasons
    (a feature's flags, e.g. risk's: whatever the amount). A supervisor (or admin) never waits.
    Seed 001: 如果消费者提的条件超出自己的权限范围,也可以请主管出面处理."""
    if is_supervisor:
        return False
    if not within_standard or review_reasons:
        return True
    return over_agent_authority(money(already_granted) + money(amount), policy)


def food_safety_exposure(
    facts: TicketFacts, policy: Policy, loss: Decimal | None = None
) -> Decimal:
    """食品安全法 Art. 148: 10 × the price of the affected food or 3 × the loss, at least ¥1,000.
    The loss defaults to the affected items' price. Seed 003 (风险小贴士)."""
    price = refundable_total(facts)
    loss = price if loss is None else money(loss)
    return money(
        max(
            price * policy.food_safety_price_multiple,
            loss * policy.food_safety_loss_multiple,
            policy.food_safety_min_claim,
        )
    )


def is_review_conditioned(condition: str | None) -> bool:
    """Compensation conditioned on a good review (e.g. condition "good_review") is refused:
    《网络反不正当竞争暂行规定》(2024) Art. 9 forbids luring good reviews with cash-back, red packets
    or coupons; the seed's "好评返现3元" is therefore never offered."""
    return bool(condition) and condition.strip().lower() in REVIEW_CONDITIONS


def within_standard(options: list[Option], option_type: str, amount: Decimal) -> bool:
    """Is a proposal (type, amount) inside the standard, i.e. covered by an offered option of the
    same type with at least that amount that is not supervisor-only?"""
    amount = money(amount)
    return any(
        o.type == option_type and amount <= o.amount and o.rule not in SUPERVISOR_RULES
        for o in options
    )


def two_options(options: list[Option]) -> list[Option]:
    """The 2-选-1 pair (seeds 001/003): the two cheapest options the customer can choose between —
    companions (a shipping subsidy, the seal part, the late-shipping penalty, the food-safety claim
    figure, a courier claim) go with another option or inform the agent, and are not offered on
    their own. `options` is cheapest first."""
    return [o for o in options if o.rule not in COMPANION_RULES][:2]


# --- building options -----------------------------------------------------------------------------


def _offer(
    option_type: str,
    amount: Decimal,
    rule: str,
    rationale: str,
    rationale_zh: str,
    policy: Policy,
    granted: Decimal,
    *,
    requires_return: bool = False,
) -> Option:
    amount = money(amount)
    supervisor_only = rule in SUPERVISOR_RULES
    return Option(
        type=option_type,
        amount=amount,
        requires_return=requires_return,
        requires_approval=needs_supervisor(
            cash_equivalent(option_type, amount), granted, policy, not supervisor_only, False
        ),
        rule=rule,
        rationale=rationale,
        rationale_zh=rationale_zh,
        virtual=option_type == "coupon",
    )


def _goodwill_pair(
    amount: Decimal, rule: str, why: str, why_zh: str, policy, granted
) -> list[Option]:
    """The same goodwill as a coupon (virtual, offered first) and as cash; none if amount ≤ 0."""
    amount = money(amount)
    if amount <= 0:
        return []
    return [
        _offer(
            "coupon",
            amount,
            rule,
            f"Coupon ¥{amount}: {why}",
            f"优惠券 ¥{amount}:{why_zh}",
            policy,
            granted,
        ),
        _offer(
            "cash",
            amount,
            rule,
            f"Cash ¥{amount}: {why}",
            f"现金/红包 ¥{amount}:{why_zh}",
            policy,
            granted,
        ),
    ]


def _goodwill_step(policy, granted, rule="goodwill", why=None, why_zh=None) -> list[Option]:
    """One goodwill offer of `goodwill_step`, within what is left of `goodwill_total_cap`."""
    remaining = goodwill_remaining(policy, granted)
    amount = min(policy.goodwill_step, remaining)
    why = why or (
        f"goodwill while the customer keeps the goods (total ≤ ¥{policy.goodwill_total_cap}, "
        f"¥{remaining} left on this ticket)."
    )
    why_zh = (
        why_zh
        or f"顾客保留商品的补偿(合计不超过 ¥{policy.goodwill_total_cap},本工单剩余 ¥{remaining})。"
    )
    return _goodwill_pair(amount, rule, why, why_zh, policy, granted)


def _unusable(facts, policy, granted) -> list[Option]:
    """Damaged/quality, unusable → full refund of the affected items, no return (seed 002 一.2:
    破损到无法使用的,全额赔偿); or send a new one (seed 001: 或者补发新的)."""
    total = refundable_total(facts)
    return [
        _offer(
            "refund",
            total,
            "unusable_full_refund",
            f"The goods can no longer be used: refund the affected items in full (¥{total}); no return needed.",
            f"商品已无法使用:全额退款受影响商品(¥{total}),无需退货。",
            policy,
            granted,
        ),
        _offer(
            "reship",
            total,
            "reship_replacement",
            f"Or send a replacement for the affected items (worth ¥{total}); no return needed.",
            f"或补发受影响商品(价值 ¥{total}),无需退货。",
            policy,
            granted,
        ),
    ]


def _return_route(facts, policy, quote: Decimal | None, granted) -> list[Option]:
    """Usable, but the customer refuses goodwill (seed 002 一.3, 八): return & refund; the shop
    pays the return shipping up to `return_shipping_cap`; over it, more goodwill instead (≤ 50 % of
    the price). With several items of which only some are defective, the shop pays shipping only
    for the defective ones."""
    total = refundable_total(facts)
    cap = policy.return_shipping_cap
    options = []

    def refund_back(why: str, why_zh: str) -> Option:
        return _offer(
            "return_refund",
            total,
            "return_refund",
            why,
            why_zh,
            policy,
            granted,
            requires_return=True,
        )

    if quote is None:
        options.append(
            refund_back(
                f"Return & refund ¥{total}. Ask the customer for the cheapest return-shipping quote: up to "
                f"¥{cap} the shop pays it; above ¥{cap}, offer more goodwill instead of the return.",
                f"退货退款 ¥{total}。请顾客找最便宜的快递报价:¥{cap} 以内商家补运费;超过 ¥{cap} 则改为加赔不退货。",
            )
        )
    elif quote <= cap:
        options.append(
            refund_back(
                f"Return & refund ¥{total}; the shop pays the ¥{quote} return shipping.",
                f"退货退款 ¥{total};商家承担 ¥{quote} 退货运费。",
            )
        )
        options.append(
            _offer(
                "return_shipping_subsidy",
                quote,
                "return_shipping_subsidy",
                f"Return shipping ¥{quote} paid by the shop (within the ¥{cap} cap).",
                f"商家补贴退货运费 ¥{quote}(不超过 ¥{cap})。",
                policy,
                granted,
                requires_return=True,
            )
        )
    else:
        ratio_cap = money(total * policy.goodwill_price_ratio_cap)
        more = max(money(ratio_cap - granted), ZERO)
        options += _goodwill_pair(
            more,
            "goodwill_instead_of_return",
            f"return shipping (¥{quote}) is over ¥{cap}, so more goodwill instead of a return — at most "
            f"{_percent(policy.goodwill_price_ratio_cap)} % of the item price (¥{ratio_cap}) in total.",
            f"退货运费 ¥{quote} 超过 ¥{cap},改为加赔不退货——合计不超过商品价格的 {_percent(policy.goodwill_price_ratio_cap)}%(¥{ratio_cap})。",
            policy,
            granted,
        )
        options.append(
            refund_back(
                f"If the customer still wants to return: refund ¥{total}; the shop pays ¥{cap} of the "
                f"¥{quote} shipping, the customer the rest.",
                f"如顾客坚持退货:退款 ¥{total};运费 ¥{quote} 中商家承担 ¥{cap},其余由顾客承担。",
            )
        )
        options.append(
            _offer(
                "return_shipping_subsidy",
                cap,
                "return_shipping_subsidy",
                f"Return shipping subsidy capped at ¥{cap} (quote ¥{quote}).",
                f"退货运费补贴上限 ¥{cap}(报价 ¥{quote})。",
                policy,
                granted,
                requires_return=True,
            )
        )
    options += _return_all_items(facts, policy, quote, granted)
    return options


def _return_all_items(facts, policy, quote, granted) -> list[Option]:
    """Seed 002 八: 只负责有问题产品的运费(共计不超过13元);所有产品都退回,则客户自己承担无问题产品的运费.
    The shop's share when everything comes back is quote × defective units / all units (≤ the cap);
    it is named in the rationale and is covered by the return_shipping_subsidy option above."""
    all_units = sum(i.quantity for i in facts.items)
    bad_units = sum(i.affected_quantity for i in facts.items)
    if not 0 < bad_units < all_units:
        return []
    everything = order_items_total(facts)
    if quote is None:
        pays, pays_zh = "the defective units' share of the shipping", "问题商品部分的运费"
    else:
        share = min(money(quote * bad_units / all_units), policy.return_shipping_cap)
        pays, pays_zh = f"¥{share} of the ¥{quote} shipping", f"¥{quote} 运费中的 ¥{share}"
    return [
        _offer(
            "return_refund",
            everything,
            "return_all_items",
            f"If the customer returns all {all_units} units: refund ¥{everything}; the shop pays only {pays} "
            f"(the {bad_units} defective unit(s)), the customer pays for the good ones.",
            f"如顾客退回全部 {all_units} 件:退款 ¥{everything};商家只承担{pays_zh}({bad_units} 件问题商品),"
            "无问题商品的运费由顾客承担。",
            policy,
            granted,
            requires_return=True,
        )
    ]


def _damage(facts, policy, granted, *, usable, refused_goodwill, quote) -> list[Option]:
    """Damaged / quality / leaking / minor defect (seed 002 一, 二, 三, 六, 七)."""
    if not usable:
        return _unusable(facts, policy, granted)
    if refused_goodwill or goodwill_remaining(policy, granted) <= 0:
        return _return_route(facts, policy, quote, granted)
    if facts.dispute_type == "minor_defect":
        return _minor_defect_goodwill(facts, policy, granted)
    options = _goodwill_step(policy, granted)
    if facts.dispute_type == "leaking_stained":
        options.append(
            _offer(
                "reship",
                ZERO,
                "reship_seal_part",
                "With the goodwill, re-ship the seal part (密封圈) so the customer can keep using the item.",
                "同时补寄密封圈。",
                policy,
                granted,
            )
        )
    return options


def _minor_defect_goodwill(facts, policy, granted) -> list[Option]:
    """Scratch, bubble, scissor mark (seed 002 三, 七: 赔偿1~2元): ¥1 then ¥2, within the ¥5 total."""
    remaining = goodwill_remaining(policy, granted)
    low = min(policy.minor_defect_goodwill_min, policy.goodwill_step, remaining)
    high = min(policy.goodwill_step, remaining)
    options = []
    for amount in sorted({low, high}):
        options += _goodwill_pair(
            amount,
            "minor_defect_goodwill",
            f"goodwill for a minor defect (¥{policy.minor_defect_goodwill_min}–¥{policy.goodwill_step}, "
            f"total ≤ ¥{policy.goodwill_total_cap}).",
            f"小瑕疵补偿(¥{policy.minor_defect_goodwill_min}–¥{policy.goodwill_step},合计不超过 ¥{policy.goodwill_total_cap})。",
            policy,
            granted,
        )
    return options


def _missing_item(facts, policy, granted) -> list[Option]:
    """Seed 002 四 (缺货的补货或退款), seed 001 (少发货…退还或者重新补发)."""
    total = refundable_total(facts)
    return [
        _offer(
            "reship",
            total,
            "reship_missing",
            f"Re-ship the missing items (worth ¥{total}).",
            f"补发缺少的商品(价值 ¥{total})。",
            policy,
            granted,
        ),
        _offer(
            "refund",
            total,
            "refund_missing",
            f"Or refund the missing items: ¥{total}.",
            f"或退还缺少商品的货款 ¥{total}。",
            policy,
            granted,
        ),
    ]


def _wrong_item(facts, policy, quote, granted) -> list[Option]:
    """Seed 001: 让消费者把错发的货退回,并且马上把正确的商品发出. The shop is at fault (R1), so it
    pays the return shipping (within the standard's cap)."""
    total = refundable_total(facts)
    options = [
        _offer(
            "exchange",
            total,
            "exchange_wrong_item",
            f"Send the right items at once (worth ¥{total}) and take back the wrong ones; the shop pays the return shipping.",
            f"立即补发正确商品(价值 ¥{total})并收回错发商品,退货运费由商家承担。",
            policy,
            granted,
            requires_return=True,
        ),
        _offer(
            "return_refund",
            total,
            "return_refund_wrong_item",
            f"Or return the wrong items for a refund of ¥{total}; the shop pays the return shipping.",
            f"或退回错发商品,退款 ¥{total},退货运费由商家承担。",
            policy,
            granted,
            requires_return=True,
        ),
    ]
    if quote is not None:
        subsidy = min(quote, policy.return_shipping_cap)
        options.append(
            _offer(
                "return_shipping_subsidy",
                subsidy,
                "return_shipping_subsidy",
                f"Return shipping ¥{subsidy} paid by the shop (quote ¥{quote}, cap ¥{policy.return_shipping_cap}).",
                f"商家承担退货运费 ¥{subsidy}(报价 ¥{quote},上限 ¥{policy.return_shipping_cap})。",
                policy,
                granted,
                requires_return=True,
            )
        )
    return options


def _undelivered(facts, policy, granted) -> list[Option]:
    """Slow / undelivered (seed 002 五: 安抚客户,尽可能让客户同意快递派送,不行就退回…如果是快递的原因的,
    第一时间投诉快递; seed 004: 物流无轨迹仅退款; seed 001: 如没有及时补发). The courier claim, when the
    courier is at fault, is added by the caller."""
    total = refundable_total(facts)
    kind = facts.dispute_type
    options = []
    if kind in ("late_shipment", "no_tracking_update"):
        options += _goodwill_pair(
            min(policy.goodwill_step, goodwill_remaining(policy, granted)),
            "pacify_accept_delivery",
            "apologise and ask the customer to accept the delivery; a small goodwill for the wait.",
            "道歉安抚,请顾客同意快递派送;为等待给予小额补偿。",
            policy,
            granted,
        )[:1]  # the coupon only: pacifying is virtual, not cash
    if kind != "late_shipment":
        options.append(
            _offer(
                "reship",
                total,
                "reship_order",
                f"Re-ship the order (worth ¥{total}).",
                f"重新补发(价值 ¥{total})。",
                policy,
                granted,
            )
        )
    options.append(
        _offer(
            "refund",
            total,
            "intercept_and_refund",
            f"If the customer won't wait: intercept the parcel (or cancel the shipment) and refund ¥{total}.",
            f"顾客不愿等待:拦截退回(或取消发货)并退款 ¥{total}。",
            policy,
            granted,
        )
    )
    late = r3_late_shipment(facts, policy)
    if late is not None and late.penalty_exposure is not None:
        pct, penalty = _percent(policy.late_ship_penalty_rate), late.penalty_exposure
        options.append(
            _offer(
                "cash",
                penalty,
                "late_ship_penalty",
                f"Shipped late: the shop owes the customer {pct} % of the order amount, ¥{penalty} (seed 004: 违约金).",
                f"延迟发货:按订单金额的 {pct}% 向顾客支付违约金 ¥{penalty}。",
                policy,
                granted,
            )
        )
    return options


def _customer_fault(facts, policy, quote, granted) -> list[Option]:
    """R6 — wrong address, unreachable, refused delivery (seed 002 十: 运费由客户承担,在申请退款的时候扣除;
    seed 001: 顾客收货信息填错…联系买家重新发货)."""
    total = refundable_total(facts)
    shipping = quote if quote is not None else ZERO
    refund = max(money(total - shipping), ZERO)
    known = f"the ¥{shipping} shipping" if quote is not None else "the shipping (enter its cost)"
    known_zh = f"运费 ¥{shipping}" if quote is not None else "运费(请填写金额)"
    return [
        _offer(
            "refund",
            refund,
            "customer_fault_shipping_deducted",
            f"Refund ¥{total} minus {known}: ¥{refund}. The customer caused the return, so the customer bears the shipping.",
            f"退款 ¥{total} 扣除{known_zh}:¥{refund}。因顾客原因退回,运费由顾客承担。",
            policy,
            granted,
        ),
        _offer(
            "reship",
            total,
            "reship_corrected_address",
            f"Or re-send the goods (worth ¥{total}) to a corrected address; the customer pays the shipping.",
            f"或按更正后的地址重新发货(价值 ¥{total}),运费由顾客承担。",
            policy,
            granted,
        ),
    ]


def _no_reason_return(facts, policy, granted) -> list[Option]:
    """Seed 002 九 (七天无理由退货的客户自己承担运费差价), seed 001 (不能影响二次销售)."""
    total = refundable_total(facts)
    return [
        _offer(
            "return_refund",
            total,
            "no_reason_return",
            f"7-day no-reason return: refund ¥{total} once the goods are back. The customer pays the return "
            "shipping; the goods must be resaleable (unused, tags on).",
            f"七天无理由退货:收到退货后退款 ¥{total}。退货运费由顾客承担;商品须不影响二次销售(未使用、吊牌完好)。",
            policy,
            granted,
            requires_return=True,
        )
    ]


def _counterfeit(facts, policy, granted) -> list[Option]:
    """Not in the standard: a supervisor handles a counterfeit claim."""
    total = refundable_total(facts)
    return [
        _offer(
            "return_refund",
            total,
            "counterfeit_return_refund",
            f"Counterfeit claim: outside the standard — a supervisor decides. Default: return & refund ¥{total}.",
            f"假货投诉:超出标准,由主管处理。默认退货退款 ¥{total}。",
            policy,
            granted,
            requires_return=True,
        )
    ]


def _spoiled_food(facts, policy, granted) -> list[Option]:
    """Seed 003 (双汇): 补偿*钱,或者是给您重新补发一包 (2 选 1); the rest is thrown away, not returned.
    Food safety (食品安全法 Art. 148): every option waits for a supervisor; the claim figure is shown."""
    total = refundable_total(facts)
    exposure = food_safety_exposure(facts, policy)
    options = _goodwill_pair(
        min(policy.goodwill_step, goodwill_remaining(policy, granted)),
        "food_goodwill",
        "goodwill for the spoiled item (food safety: supervisor approves).",
        "变质商品补偿(食品安全:需主管审批)。",
        policy,
        granted,
    )
    options += [
        _offer(
            "reship",
            total,
            "food_reship",
            f"Re-ship the affected food (worth ¥{total}); ask the customer to throw the spoiled one away.",
            f"补发受影响食品(价值 ¥{total}),请顾客丢弃变质商品。",
            policy,
            granted,
        ),
        _offer(
            "refund",
            total,
            "food_refund",
            f"Refund the affected food: ¥{total}; no return.",
            f"退还受影响食品货款 ¥{total},无需退货。",
            policy,
            granted,
        ),
        _offer(
            "cash",
            exposure,
            "food_safety_claim",
            f"Food-safety claim exposure (食品安全法 Art. 148): up to 10× the price or 3× the loss, at least "
            f"¥{policy.food_safety_min_claim}: ¥{exposure}. Supervisor only.",
            f"食品安全法第148条赔偿风险:价款十倍或损失三倍,最低 ¥{policy.food_safety_min_claim}:¥{exposure}。仅主管可批。",
            policy,
            granted,
        ),
    ]
    return options


def _ladder(facts, policy, granted, step: int, rule: str) -> Option:
    """Difficult customer (seed 003: 退1/3的钱,如果不行那我再给你退2/3的钱,大不了我全额给你退款)."""
    step = min(max(step, 0), 2)
    total = refundable_total(facts)
    amount = money(total * (step + 1) / 3)
    share, share_zh = [("one third", "1/3"), ("two thirds", "2/3"), ("all", "全额")][step]
    nxt = (
        " Next step: two thirds."
        if step == 0
        else " Next step: the full price."
        if step == 1
        else ""
    )
    return _offer(
        "refund",
        amount,
        rule,
        f"Difficult customer: refund {share} of the affected items' price (¥{amount} of ¥{total}); the customer keeps the goods.{nxt}",
        f"难缠客户:退还受影响商品价格的{share_zh}(¥{amount} / ¥{total}),商品不退回。",
        policy,
        granted,
    )


def _courier_claim(facts, policy, granted) -> Option:
    total = refundable_total(facts)
    return _offer(
        "courier_claim",
        total,
        "courier_claim",
        f"The courier is at fault: file a claim for ¥{total} with the courier the same day (money recovered, not paid to the customer).",
        f"快递责任:当天向快递投诉索赔 ¥{total}(向快递追回,不是付给顾客)。",
        policy,
        granted,
    )


def _sorted(options: list[Option]) -> list[Option]:
    """Cheapest first; coupon before cash at the same amount; courier claims (money in) last."""
    return sorted(options, key=lambda o: (o.type == "courier_claim", o.amount, not o.virtual))


def compensation_options(
    facts: TicketFacts,
    policy: Policy,
    *,
    usable: bool = True,
    customer_refused: str | None = None,
    return_shipping_quote: Decimal | None = None,
    already_granted: Decimal = Decimal("0"),
    party: str | None = None,
    ladder_step: int = 0,
) -> list[Option]:
    """The options the standard allows for this ticket at this step, cheapest first.

    `party` is the confirmed responsibility; when None, the suggestion of `rules.py` is used.
    `requires_approval` on each option is for an agent proposing it (see `needs_supervisor`).
    """
    granted = money(already_granted)
    quote = None if return_shipping_quote is None else money(return_shipping_quote)
    if quote is not None and quote < 0:
        raise ValueError("return_shipping_quote must not be negative")
    if party is None:
        party = suggest_responsibility(facts, policy).party
    kind = facts.dispute_type
    refused_goodwill = customer_refused == "goodwill"

    if kind == "spoiled_food":
        options = _spoiled_food(facts, policy, granted)
    elif party == "customer" and r6_customer_delivery_fault(facts, policy) is not None:
        options = _customer_fault(facts, policy, quote, granted)
    elif kind in DAMAGE_TYPES or kind in ("leaking_stained", "minor_defect"):
        options = _damage(
            facts, policy, granted, usable=usable, refused_goodwill=refused_goodwill, quote=quote
        )
    elif kind == "counterfeit":
        options = _counterfeit(facts, policy, granted)
    elif kind == "missing_item":
        options = _missing_item(facts, policy, granted)
    elif kind == "wrong_item":
        options = _wrong_item(facts, policy, quote, granted)
    elif kind in UNDELIVERED_TYPES:
        # An authorised signer took it (R5 → customer): the standard offers nothing.
        options = [] if party == "customer" else _undelivered(facts, policy, granted)
    elif kind == "no_reason_return":
        options = _no_reason_return(facts, policy, granted)
    elif kind == "customer_misuse":
        options = _goodwill_step(
            policy,
            granted,
            "misuse_goodwill",
            "goodwill after explaining the correct use (the customer is at fault; goodwill is allowed).",
            "引导正确使用后的酌情补偿(顾客责任,可给补偿)。",
        )
    else:
        options = _goodwill_step(
            policy,
            granted,
            "apology_goodwill",
            f"an apology for the shop's service (goodwill total ≤ ¥{policy.goodwill_total_cap}).",
            f"为服务问题致歉的补偿(合计不超过 ¥{policy.goodwill_total_cap})。",
        )

    damage_row = kind in DAMAGE_TYPES or kind in ("leaking_stained", "minor_defect")
    if refused_goodwill and not damage_row:
        options = [o for o in options if o.rule not in GOODWILL_RULES]
    if (
        customer_refused == "return"
        or ladder_step > 0
        or (kind == "spoiled_food" and customer_refused)
    ):
        rule = "food_partial_refund_ladder" if kind == "spoiled_food" else "partial_refund_ladder"
        options.append(_ladder(facts, policy, granted, ladder_step, rule))
    if customer_refused not in (None, "goodwill", "return"):
        options = [
            o
            for o in options
            if o.rule in COMPANION_RULES or customer_refused not in (o.type, o.rule)
        ]
    if party == "courier" and options:
        options.append(_courier_claim(facts, policy, granted))
    return _sorted(options)
