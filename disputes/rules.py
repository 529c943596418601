"""Responsibility rules R1–R10 of DOMAIN.md §4 (判断责任), one small function per rule.

Each rule looks at `TicketFacts` and the shop's `Policy` and returns a `RuleHit` (the party it
points at and why, in words an agent understands) or None when it does not apply.
`suggest_responsibility()` runs them all and picks the suggested party; the agent confirms or
overrides it with a note.

Decisions on points DOMAIN.md leaves open (also listed in each rule's docstring):
- "Pickup scan" (R4) = any courier event picked_up, in_transit, delivered or signed.
- R2 needs `has_photo` (a photo of the damaged outer packaging); without it R2 does not fire.
- R5 only looks at "I did not get it" tickets (signed_not_received, lost_parcel,
  no_tracking_update) with a `signed` event whose `authorized` is known; the latest one counts.
- R6 fires on any ticket with a `returned` / `refused` event whose reason is the customer's doing.
- R3 is measured from payment to `shipped_at`, or to the first pickup scan when `shipped_at` is
  unknown; the penalty base is `order_amount`, or the items' total when it is unknown.
- R7 (spoiled_food) picks, in this order: batch (manufacturer) > slow transit (courier) > reported
  after the perishable window (customer). Seed 003 checks the courier's transit time before the
  customer's storage ("如果物流时效是正常的就看…"), and a bad batch outweighs both.
- R10 covers the codes it names; `harassment` is left to the agent (it may be the shop
  harassing the customer or the customer harassing the shop).

Seed numbers are the files in /work/shared/seeds/. Note: DOMAIN.md cites 003 for R3 and 004 for
R7, but the 72-hour/5 %/3-point text is in seed 004 and the spoiled-food/batch text in seed 003.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from disputes.facts import Policy, TicketFacts, money

PARTIES = ("merchant", "courier", "customer", "manufacturer", "none")

NOT_RECEIVED_TYPES = frozenset({"signed_not_received", "lost_parcel", "no_tracking_update"})
PICKUP_SCAN_EVENTS = frozenset({"picked_up", "in_transit", "delivered", "signed"})
CUSTOMER_RETURN_REASONS = frozenset({"wrong_address", "unreachable", "refused_without_reason"})
R10_TYPES = frozenset(
    {
        "service_attitude",
        "service_unresponsive",
        "price_dispute",
        "coupon_misleading",
        "invoice",
        "broken_promise",
        "refund_delay",
    }
)


@dataclass(frozen=True)
class RuleHit:
    id: str
    party: str
    text: str
    text_zh: str
    penalty_exposure: Decimal | None = None
    batch_alert: bool = False
    courier_claim: bool = False


@dataclass(frozen=True)
class Suggestion:
    party: str | None
    rules: list[RuleHit]
    penalty_exposure: Decimal | None
    batch_alert: bool


# --- helpers --------------------------------------------------------------------------------------


def shipped_time(facts: TicketFacts) -> datetime | None:
    """When the parcel left: `shipped_at`, else the first picked_up/in_transit scan."""
    if facts.shipped_at is not None:
        return facts.shipped_at
    scans = [e.at for e in facts.logistics if e.event in ("picked_up", "in_transit")]
    return min(scans, default=None)


def delivered_time(facts: TicketFacts) -> datetime | None:
    """When the parcel arrived: `delivered_at`, else the first delivered/signed event."""
    if facts.delivered_at is not None:
        return facts.delivered_at
    arrivals = [e.at for e in facts.logistics if e.event in ("delivered", "signed")]
    return min(arrivals, default=None)


def _whole_hours(delta: timedelta) -> int:
    return delta // timedelta(hours=1)


def late_ship_penalty(facts: TicketFacts, policy: Policy) -> Decimal | None:
    """5 % (policy) of the order amount, or of the items' total when the amount is unknown."""
    base = facts.order_amount
    if base is None and facts.items:
        base = sum((i.unit_price * i.quantity for i in facts.items), Decimal("0"))
    if base is None:
        return None
    return money(base * policy.late_ship_penalty_rate)


# --- the rules ------------------------------------------------------------------------------------


def r1_warehouse_error(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R1 — `wrong_item` or `missing_item` → merchant (the warehouse picked or packed it wrong).
    Seeds 001 (发错货/少发货 是商家的问题), 003."""
    if facts.dispute_type not in ("wrong_item", "missing_item"):
        return None
    return RuleHit(
        id="R1",
        party="merchant",
        text="Wrong or missing item: the shop's warehouse picked or packed the order wrongly, so the shop is responsible.",
        text_zh="发错货/少发货:仓库拣货或打包出错,责任在商家。",
    )


def r2_damaged_in_transit(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R2 — `damaged_in_transit` with a photo of damaged outer packaging → courier; the shop
    compensates the customer first, then claims from the courier. Without the photo (`has_photo`)
    the rule does not fire: the damage may be the packing. Seeds 000 (判断责任…物流的责任), 001."""
    if facts.dispute_type != "damaged_in_transit" or not facts.has_photo:
        return None
    return RuleHit(
        id="R2",
        party="courier",
        text=(
            "Damaged in transit and the photo shows damaged outer packaging: the courier is responsible. "
            "Compensate the customer first, then file a claim with the courier."
        ),
        text_zh="运输破损且有外包装破损照片:责任在快递。先赔付顾客,再向快递索赔。",
        courier_claim=True,
    )


def r3_late_shipment(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R3 — not shipped within `ship_within_hours` (72 h) of payment → merchant, with the
    platform penalty exposure of `late_ship_penalty_rate` (5 %) of the order amount (+3 points).
    Late = shipped (or first pickup scan) more than 72 h after payment, or still not shipped and
    `now` is more than 72 h after payment; exactly 72 h is on time. Any dispute type.
    Seed 004 (七十二小时之内不发货 … 支付实际成交额的百分之五作为违约金,同时店铺被扣除三分)."""
    if facts.paid_at is None:
        return None
    limit = timedelta(hours=policy.ship_within_hours)
    shipped = shipped_time(facts)
    if shipped is not None:
        waited = shipped - facts.paid_at
        if waited <= limit:
            return None
        how_en = f"shipped {_whole_hours(waited)} h after payment"
        how_zh = f"付款后 {_whole_hours(waited)} 小时才发货"
    else:
        waited = facts.now - facts.paid_at
        if waited <= limit:
            return None
        how_en = f"still not shipped {_whole_hours(waited)} h after payment"
        how_zh = f"付款后 {_whole_hours(waited)} 小时仍未发货"
    penalty = late_ship_penalty(facts, policy)
    rate_pct = (policy.late_ship_penalty_rate * 100).normalize()
    amount_en = f" = ¥{penalty}" if penalty is not None else ""
    return RuleHit(
        id="R3",
        party="merchant",
        text=(
            f"Not shipped within {policy.ship_within_hours} h of payment ({how_en}): the shop is responsible. "
            f"Platform penalty exposure: {rate_pct:f} % of the order amount{amount_en}, "
            f"and {policy.late_ship_penalty_points} points."
        ),
        text_zh=(
            f"超过 {policy.ship_within_hours} 小时未发货({how_zh}):责任在商家。"
            f"平台违约金 {rate_pct:f}% 订单金额{amount_en},扣 {policy.late_ship_penalty_points} 分。"
        ),
        penalty_exposure=penalty,
    )


def r4_no_tracking(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R4 — `no_tracking_update` / `lost_parcel`: no pickup scan → merchant (never handed over);
    with a pickup scan (picked_up, in_transit, delivered or signed) → courier, and a courier claim.
    A bare `lost` event is not a pickup scan. Seeds 001 (查询发货底单看是否有发货), 004 (物流无轨迹)."""
    if facts.dispute_type not in ("no_tracking_update", "lost_parcel"):
        return None
    if any(e.event in PICKUP_SCAN_EVENTS for e in facts.logistics):
        return RuleHit(
            id="R4",
            party="courier",
            text="The courier scanned the parcel at pickup, so it was handed over: the courier is responsible for the missing tracking or the loss.",
            text_zh="快递已揽收扫描,包裹已交给快递:物流无轨迹/丢件责任在快递。",
            courier_claim=True,
        )
    return RuleHit(
        id="R4",
        party="merchant",
        text="No pickup scan: the parcel was never handed to the courier, so the shop is responsible.",
        text_zh="没有揽收记录:包裹从未交给快递,责任在商家。",
    )


def r5_third_party_signature(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R5 — the parcel shows as signed but the customer did not get it: signed by someone the
    customer did not authorise → courier (the shop makes good toward the customer, then claims);
    authorised → customer. Looks only at signed_not_received / lost_parcel / no_tracking_update and
    at the latest `signed` event with `authorized` True or False (None = unknown: no hit).
    Seed 001 (快递未签收或者未授权第三方签收需要卖家承担,反之则买家承担责任)."""
    if facts.dispute_type not in NOT_RECEIVED_TYPES:
        return None
    signed = [e for e in facts.logistics if e.event == "signed" and e.authorized is not None]
    if not signed:
        return None
    latest = max(signed, key=lambda e: e.at)
    who = f" by {latest.signed_by}" if latest.signed_by else ""
    who_zh = f"({latest.signed_by})" if latest.signed_by else ""
    if latest.authorized:
        return RuleHit(
            id="R5",
            party="customer",
            text=f"Signed{who}, whom the customer authorised: the customer is responsible for collecting it.",
            text_zh=f"由顾客授权的人签收{who_zh}:责任在顾客。",
        )
    return RuleHit(
        id="R5",
        party="courier",
        text=(
            f"Signed{who} without the customer's authorisation: the courier is responsible. "
            "The shop makes good toward the customer, then claims from the courier."
        ),
        text_zh=f"未经顾客授权的第三方代签{who_zh}:责任在快递。商家先对顾客负责,再向快递索赔。",
        courier_claim=True,
    )


def r6_customer_delivery_fault(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R6 — the parcel came back because the customer gave a wrong address, could not be reached,
    or refused it without reason (`returned` or `refused` event with that reason) → customer, who bears the
    shipping (deducted from the refund). Any dispute type. Seed 002 (十、因客户自己留错地址、
    电话打不通、无理由拒收等产生的运费由客户承担,在申请退款的时候扣除)."""
    returned = [
        e
        for e in facts.logistics
        if e.event in ("returned", "refused") and e.reason in CUSTOMER_RETURN_REASONS
    ]
    if not returned:
        return None
    reason = max(returned, key=lambda e: e.at).reason
    words = {
        "wrong_address": ("the customer gave a wrong address", "顾客留错地址"),
        "unreachable": ("the customer's phone could not be reached", "顾客电话打不通"),
        "refused_without_reason": (
            "the customer refused delivery without a reason",
            "顾客无理由拒收",
        ),
    }[reason]
    return RuleHit(
        id="R6",
        party="customer",
        text=f"The parcel came back because {words[0]}: the customer is responsible and bears the shipping.",
        text_zh=f"包裹被退回,原因是{words[1]}:责任在顾客,运费由顾客承担。",
    )


def r7_spoiled_food(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R7 — `spoiled_food`, three checks (seed 003, 双汇 case: 看下单以及收货的时间…是否是快递过久;
    物流时效正常就看反馈时间…是否超出售后期; 其他产品会不会有同样的问题…批量):
    - `same_batch_ticket_count` ≥ `batch_alert_threshold` (3) → manufacturer, and a batch alert;
    - transit (delivered − shipped) longer than `courier_usual_transit_hours` (72) → courier;
    - reported more than `perishable_window_days` (7) after delivery → customer (storage).
    Precedence when several hold: manufacturer > courier > customer; the others are named in the
    text. None of them → no hit (the agent judges)."""
    if facts.dispute_type != "spoiled_food":
        return None
    shipped, delivered = shipped_time(facts), delivered_time(facts)
    findings = []  # (party, English, Chinese), in precedence order
    if facts.same_batch_ticket_count >= policy.batch_alert_threshold:
        findings.append(
            (
                "manufacturer",
                f"{facts.same_batch_ticket_count} quality tickets on the same SKU and batch within "
                f"{policy.batch_alert_window_days} days: likely a batch problem of the manufacturer — batch alert",
                f"{policy.batch_alert_window_days} 天内同一 SKU 同一批次已有 {facts.same_batch_ticket_count} 张质量工单:"
                "可能是批次问题,责任在厂家——批次预警",
            )
        )
    if (
        shipped
        and delivered
        and delivered - shipped > timedelta(hours=policy.courier_usual_transit_hours)
    ):
        hours = _whole_hours(delivered - shipped)
        findings.append(
            (
                "courier",
                f"transit took {hours} h, longer than the courier's usual {policy.courier_usual_transit_hours} h",
                f"运输用时 {hours} 小时,超过快递正常时效 {policy.courier_usual_transit_hours} 小时",
            )
        )
    if delivered and facts.reported_at > delivered + timedelta(days=policy.perishable_window_days):
        days = (facts.reported_at - delivered).days
        findings.append(
            (
                "customer",
                f"reported {days} days after delivery, past the {policy.perishable_window_days}-day "
                "after-sales window for perishables: likely storage",
                f"签收 {days} 天后才反馈,超过生鲜售后期 {policy.perishable_window_days} 天:可能是保存不当",
            )
        )
    if not findings:
        return None
    party = findings[0][0]
    verdict = {
        "manufacturer": ("the manufacturer is responsible", "责任在厂家"),
        "courier": ("the courier is responsible", "责任在快递"),
        "customer": ("the customer is responsible (storage)", "责任在顾客(保存不当)"),
    }[party]
    text = f"Spoiled food: {findings[0][1]}; {verdict[0]}."
    text_zh = f"食品变质:{findings[0][2]};{verdict[1]}。"
    if len(findings) > 1:
        text += " Also: " + "; ".join(f[1] for f in findings[1:]) + "."
        text_zh += "另:" + ";".join(f[2] for f in findings[1:]) + "。"
    return RuleHit(
        id="R7",
        party=party,
        text=text,
        text_zh=text_zh,
        batch_alert=party == "manufacturer",
        courier_claim=party == "courier",
    )


def r8_no_reason_return(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R8 — `no_reason_return` → none (no-fault); the customer pays the return shipping and the
    goods must be resaleable. Seeds 001 (七天无理由…不能影响二次销售), 002 (九、客户自己承担运费)."""
    if facts.dispute_type != "no_reason_return":
        return None
    return RuleHit(
        id="R8",
        party="none",
        text="7-day no-reason return: nobody is at fault. The customer pays the return shipping; the goods must be resaleable.",
        text_zh="七天无理由退货:无责任方。顾客承担退货运费,商品须不影响二次销售。",
    )


def r9_customer_misuse(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R9 — `customer_misuse` → customer; guide correct use, goodwill is allowed.
    Seed 001 (顾客使用不当:引导买家正确的使用产品)."""
    if facts.dispute_type != "customer_misuse":
        return None
    return RuleHit(
        id="R9",
        party="customer",
        text="Misuse: the customer is responsible. Explain the correct use; a small goodwill gesture is allowed.",
        text_zh="使用不当:责任在顾客。引导顾客正确使用,可酌情给予补偿。",
    )


def r10_shop_service(facts: TicketFacts, policy: Policy) -> RuleHit | None:
    """R10 — service (service_attitude, service_unresponsive), pricing (price_dispute,
    coupon_misleading), invoice, broken_promise, refund_delay → merchant: the shop's own service
    and promises. Seeds 000 (售后服务/优惠券/商品价格/退款), 002 (发票、包邮、违背承诺)."""
    if facts.dispute_type not in R10_TYPES:
        return None
    return RuleHit(
        id="R10",
        party="merchant",
        text="The complaint is about the shop's own service, prices, invoice or promises: the shop is responsible.",
        text_zh="投诉涉及店铺自身的服务、价格、发票或承诺:责任在商家。",
    )


RULES = (
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
)

# Which hit names the party when several fire. Rules tied to the dispute type first (they are
# mutually exclusive: each covers its own types); then the logistics evidence — a customer-caused
# return (R6) explains a parcel better than an authorisation question (R5), which is more specific
# than "was it scanned at all" (R4); R3 (late shipping) only when nothing else fires, since a late
# shipment is a penalty on top of whatever the dispute is about.
PARTY_PRECEDENCE = ("R7", "R1", "R2", "R8", "R9", "R10", "R6", "R5", "R4", "R3")


def suggest_responsibility(facts: TicketFacts, policy: Policy) -> Suggestion:
    """Run R1–R10; list every hit (in rule order) and suggest the party of the first hit in
    `PARTY_PRECEDENCE`. No hit → party None: the agent judges. `penalty_exposure` comes from R3.
    `batch_alert` is raised by R7, and also for any quality ticket whose SKU+batch reached the
    threshold (DOMAIN.md §7) — without making the manufacturer the party for non-food tickets."""
    hits = [hit for rule in RULES if (hit := rule(facts, policy)) is not None]
    by_id = {hit.id: hit for hit in hits}
    party = next((by_id[rule_id].party for rule_id in PARTY_PRECEDENCE if rule_id in by_id), None)
    penalty = by_id["R3"].penalty_exposure if "R3" in by_id else None
    batch_alert = any(hit.batch_alert for hit in hits) or (
        facts.quality_type and facts.same_batch_ticket_count >= policy.batch_alert_threshold
    )
    return Suggestion(party=party, rules=hits, penalty_exposure=penalty, batch_alert=batch_alert)
