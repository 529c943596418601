"""Sample tickets for the demo shop, spread over dispute types and states."""

import datetime as dt
import io
import random
from contextlib import suppress
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from risk.samples import exif_taken, jpeg_bytes, resized, sample_photo
from shops.models import Shop
from tickets import services
from tickets.catalogue import DISPUTE_TYPES
from tickets.models import Ticket

PRODUCTS = [
    ("GLASS-500", "玻璃瓶 500ml", Decimal("10.50"), False),
    ("HAM-12", "火腿肠 12支装", Decimal("29.90"), True),
    ("TEE-L", "纯棉T恤 L码", Decimal("59.00"), False),
    ("MUG-01", "陶瓷马克杯", Decimal("35.00"), False),
    ("SERUM-30", "精华液 30ml", Decimal("128.00"), False),
    ("NUTS-500", "每日坚果 500g", Decimal("45.80"), True),
]
CUSTOMERS = [
    ("c-1001", "张三", "13800000000"),
    ("c-1002", "李四", "13911112222"),
    ("c-1003", "王芳", "13722223333"),
    ("c-1004", "赵敏", "13633334444"),
    ("c-1005", "陈晨", "13544445555"),
    ("c-1006", "刘洋", "13355556666"),
]
# The customer whose page (/customers/demo/c-1006/) the tour shows: several tickets, compensation
# granted and still awaiting a supervisor, a follow-up text message (tests/test_demo.py checks it).
HISTORY_CUSTOMER = "c-1006"
COURIERS = ["SF", "ZTO", "YTO", "JD", "EMS"]
STORIES = {
    "damaged_on_arrival": "收到的时候瓶子碎了,外箱也压扁了,有照片。",
    "spoiled_food": "火腿肠打开有异味,生产日期是上个月的,孩子吃了一根。",
    "missing_item": "买了两件只收到一件。",
    "wrong_item": "我买的是L码,收到的是M码。",
    "late_shipment": "下单三天了还没发货,说好的48小时发货呢?",
    "lost_parcel": "物流一直停在中转站,已经5天没有更新了。",
    "signed_not_received": "显示已签收,但我没有收到,也没人通知我。",
    "no_reason_return": "不喜欢颜色,想七天无理由退货。",
    "price_dispute": "刚买完就降价30元,能不能退差价?",
    "invoice": "需要开具增值税普通发票,抬头是公司。",
}


def demo_tickets_create(
    *, shop: Shop, agent, count: int = 30, seed: int = 7, days: int = 28
) -> int:
    """Create `count` sample tickets unless the shop already has some. Returns how many were made.

    They are spread over the last `days` days, each created, answered and (the older ones)
    resolved at its own past moments — the clock is moved with time-machine while the services
    run, so timelines, SLA due times and timers agree — and some resolved ones carry a survey
    answer, so the dashboard's trend, funnel and satisfaction have something to show. The
    newest are still open, waiting or new."""
    import time_machine  # the tests' clock library; only the demo moves the clock

    if Ticket.objects.filter(shop=shop).exists():
        return 0
    rng = random.Random(seed)
    now = timezone.now()
    codes = [row[0] for row in DISPUTE_TYPES]
    # Half arrived in the last day and a half (the queue's work); the rest over the weeks before.
    recent_count = count // 2
    ages = sorted(
        [dt.timedelta(hours=rng.uniform(0.2, 36)) for _ in range(recent_count)]
        + [dt.timedelta(days=rng.uniform(2, days)) for _ in range(count - recent_count)],
        reverse=True,
    )
    for index, age in enumerate(ages):
        with time_machine.travel(now - age, tick=False) as clock:
            _demo_ticket(
                shop=shop,
                agent=agent,
                rng=rng,
                code=codes[index % len(codes)],
                index=index,
                recent=age < dt.timedelta(days=2),
                clock=clock,
                now=now,
            )
    _demo_follow_up_text(shop=shop, now=now)
    count += _demo_duplicates(shop=shop, agent=agent, now=now)
    _demo_tags_and_view(shop=shop, agent=agent)
    _demo_risky_evidence(shop=shop)
    _demo_assignment(shop=shop, agent=agent)
    _demo_rules(shop=shop)
    return count


# The demo's own automation rules (Settings → 自动化规则), besides the shipped ones.
DEMO_RULES = [
    {
        "name": "大额订单优先",
        "event": "ticket.created",
        "conditions": {"all": [{"field": "order.amount", "op": "gte", "value": "200.00"}]},
        "actions": [
            {"type": "add_tag", "value": "大额订单"},
            {"type": "set_priority", "value": "high"},
        ],
    },
    {
        "name": "内部处理超过 24 小时：备注并提醒处理人",
        "event": "time",
        "after": {"field": "status_since", "hours": 24},
        "conditions": {"all": [{"field": "status", "op": "eq", "value": "pending_internal"}]},
        "actions": [
            {"type": "internal_note", "value": "已等待内部处理超过 24 小时，请跟进。"},
            {"type": "notify", "value": "assignee"},
        ],
    },
]
DEMO_COMPLAINT = "你们再不处理，我就去12315投诉，还要在网上曝光！"


def _demo_rules(*, shop: Shop) -> None:
    """The shipped rules (the complaint-words one switched on) and the demo's two, enabled; then
    a customer writes a complaint on an open ticket, so its timeline shows a rule acting (the
    tag 投诉风险, the supervisors' bell). The time rule acts when beat sweeps in `make run`."""
    from automation.models import Rule
    from automation.services import rule_create, rule_update, rules_defaults_ensure

    rules_defaults_ensure(shop=shop)
    for rule in Rule.objects.filter(shop=shop, default_key="complaint_words"):
        rule_update(rule=rule, data={"enabled": True})
    for position, data in enumerate(DEMO_RULES, start=4):
        rule_create(shop=shop, data={**data, "enabled": True, "position": position})
    ticket = (
        Ticket.objects.filter(shop=shop, status="open", merged_into__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if ticket is not None:
        services.message_add(ticket=ticket, body=DEMO_COMPLAINT, actor=services.Actor.shop(shop))


def _demo_assignment(*, shop: Shop, agent) -> None:
    """Round robin with the demo agent available: the tickets still waiting for someone go to
    them now, and new ones (a shop backend's, the New ticket page's) as they arrive."""
    from assignment.services import assignment_settings_update, availability_set

    assignment_settings_update(shop=shop, data={"mode": "round_robin", "max_open_per_agent": 40})
    availability_set(user=agent, available=True)


# Customers of the duplicate pairs (their own, so the other customers' histories stay as they are).
DUPLICATE_CUSTOMERS = [("c-1007", "周杰", "13266667777"), ("c-1008", "吴倩", "13177778888")]


def _demo_duplicates(*, shop: Shop, agent, now: dt.datetime) -> int:
    """Two pairs of duplicates (one customer, one order, asked twice): the first pair still open,
    so its ticket pages suggest each other; the second already merged, so its target shows the
    duplicate's message under "Merged from" and the duplicate its banner. Returns how many."""
    import time_machine

    made = []
    for pair, (external_id, name, phone) in enumerate(DUPLICATE_CUSTOMERS, start=1):
        for attempt, hours_ago in enumerate((5 - pair, 4 - pair), start=1):
            with time_machine.travel(now - dt.timedelta(hours=hours_ago), tick=False):
                ticket = services.ticket_create(
                    shop=shop,
                    actor=services.Actor.shop(shop),
                    dispute_type_code="damaged_on_arrival",
                    description=STORIES["damaged_on_arrival"],
                    external_ref=f"DEMO-DUP-{pair}-{attempt}",
                    requested_resolution="refund",
                    customer={"external_id": external_id, "name": name, "phone": phone},
                    order={
                        "order_no": f"TDUP{now:%Y%m%d}{pair:02d}",
                        "amount": Decimal("35.00"),
                        "paid_at": now - dt.timedelta(days=3),
                        "shipped_at": now - dt.timedelta(days=2),
                        "courier": "SF",
                        "tracking_no": f"SF90000{pair}",
                        "items": [
                            {
                                "sku": "MUG-01",
                                "name": "陶瓷马克杯",
                                "batch_no": "B2310",
                                "unit_price": Decimal("35.00"),
                                "quantity": 1,
                            }
                        ],
                    },
                    affected_items=[{"sku": "MUG-01", "quantity": 1}],
                )
                body = (
                    "杯子收到就裂了。"
                    if attempt == 1
                    else "刚才提交过一次，没看到回复，再提交一次：杯子把手也掉了。"
                )
                services.message_add(ticket=ticket, body=body, actor=services.Actor.shop(shop))
                # The same picture twice on one order (a duplicate, not reused evidence).
                photo = SimpleUploadedFile(
                    f"dup-{pair}-{attempt}.png", demo_photo_of(900 + pair), content_type="image/png"
                )
                services.attachment_add(
                    ticket=ticket,
                    uploaded_file=photo,
                    kind="photo",
                    actor=services.Actor.shop(shop),
                )
                made.append(ticket)
    target, duplicate = made[2], made[3]
    with time_machine.travel(now - dt.timedelta(minutes=90), tick=False):
        services.ticket_merge(
            source=duplicate,
            target=target,
            note="客户重复提交同一订单",
            actor=services.Actor.staff(agent),
        )
    return len(made)


# The saved view the agent finds in the queue (tests/test_demo.py checks it).
DEMO_VIEW = ("加急工单", "tag=加急")


def _demo_tags_and_view(*, shop: Shop, agent) -> None:
    """Tags on the active tickets, as agents would set them (食品 on food complaints, 大客户 on the
    history customer's, 加急 on those with a marketplace deadline), and the agent's saved view."""
    actor = services.Actor.staff(agent)
    active = Ticket.objects.filter(shop=shop).exclude(status__in=["resolved", "closed"])
    for ticket in active.select_related("customer", "dispute_type").order_by("id"):
        names = []
        if ticket.dispute_type.code == "spoiled_food":
            names.append("食品")
        if ticket.customer.external_id == HISTORY_CUSTOMER:
            names.append("大客户")
        if ticket.platform_deadline_at:
            names.append("加急")
        if names:
            services.ticket_tags_set(ticket=ticket, names=names, actor=actor)
    name, query = DEMO_VIEW
    services.saved_view_create(user=agent, name=name, query=query, shop_id=shop.pk)
    _demo_macro(shop=shop)


# The shop's own macro (⚡ in the ticket page's reply picker; Settings → 话术与宏).
DEMO_MACRO = "回访完结（解决并加标签）"


def _demo_macro(*, shop: Shop) -> None:
    from tickets.macros import macro_save

    if not shop.reply_templates.filter(title=DEMO_MACRO).exists():
        macro_save(
            shop=shop,
            fields={
                "category": "followup",
                "title": DEMO_MACRO,
                "body": "亲，{customer_name}，订单 {order_no} 的问题已经处理完毕，"
                "感谢您的耐心！如还有问题随时联系我们。",
                "language": "zh-hans",
            },
            actions=[
                {"type": "set_status", "value": "resolve"},
                {"type": "add_tag", "value": "已回访"},
            ],
        )


def _demo_risky_evidence(*, shop: Shop) -> None:
    """What the risk section shows (README "Risk"): one photo sent on two orders' tickets, and a
    photo whose EXIF says it was taken long before the order was delivered."""
    tickets = list(
        Ticket.objects.filter(shop=shop, dispute_type__photo_required=True)
        .select_related("order", "shop")
        .order_by("created_at")[:3]
    )
    if len(tickets) < 3:
        return
    actor = services.Actor.shop(shop)
    reused = sample_photo(2026, size=(480, 320))
    for ticket, data in ((tickets[0], reused), (tickets[1], resized(reused, 0.8))):
        services.attachment_add(
            ticket=ticket,
            uploaded_file=SimpleUploadedFile("photo-again.jpg", jpeg_bytes(data, quality=70)),
            kind="photo",
            actor=actor,
        )
    services.attachment_add(
        ticket=tickets[2],
        uploaded_file=SimpleUploadedFile(
            "photo-old.jpg",
            jpeg_bytes(sample_photo(2027, size=(480, 320)), exif=exif_taken("2025:03:08 14:20:00")),
        ),
        kind="photo",
        actor=actor,
    )
    _demo_risk_decisions(shop=shop, reused=tickets[1], old_photo=tickets[2])


def _demo_risk_decisions(*, shop: Shop, reused: Ticket, old_photo: Ticket) -> None:
    """What a supervisor does with flags: the reused photo is dismissed with a note (the ticket
    page shows it dismissed, the timeline records it), and the old photo's ticket gets a small
    goodwill that waits for approval — the dashboard's risk panel counts both."""
    from aftersales.exceptions import ApplicationError
    from disputes import services as disputes
    from risk.services import flag_dismiss
    from shops.models import Membership

    boss = Membership.objects.filter(shop=shop, role="supervisor").select_related("user").first()
    clerk = Membership.objects.filter(shop=shop, role="agent").select_related("user").first()
    # A flag not raised (a shop without the pair) or a goodwill the standard refuses for this
    # ticket is skipped: the demo shows what applies.
    if boss is not None:
        with suppress(ApplicationError):
            flag_dismiss(
                ticket=reused,
                code="reused_evidence",
                note="买家两次购买同款，两张订单截图已核实，照片相似属正常。",
                actor=services.Actor.staff(boss.user),
            )
    if clerk is not None:
        with suppress(ApplicationError):
            disputes.compensation_propose(
                ticket=old_photo,
                type="coupon",
                amount=Decimal("2.00"),
                actor=services.Actor.staff(clerk.user),
                note="小额补偿（照片拍摄时间早于签收，待主管确认）",
            )


def demo_photo_of(index: int) -> bytes:
    """A different picture for each demo ticket (PNG)."""
    buffer = io.BytesIO()
    sample_photo(index, size=(480, 320)).save(buffer, "PNG")
    return buffer.getvalue()


def _demo_follow_up_text(*, shop: Shop, now: dt.datetime) -> None:
    """The history customer's latest resolved ticket gets its follow-up text message, sent the
    way the follow-up timer sends it (within the contact window, counted against the daily
    limit), at the next 11:00 shop time after the ticket's last event that has already passed."""
    import time_machine

    from sla.services import contact_customer

    tz = ZoneInfo(shop.timezone)
    resolved = Ticket.objects.filter(
        shop=shop, customer__external_id=HISTORY_CUSTOMER, resolved_at__isnull=False
    ).order_by("-resolved_at")
    for ticket in resolved:
        last = ticket.events.order_by("-created_at").values_list("created_at", flat=True).first()
        local = last.astimezone(tz)
        moment = dt.datetime.combine(local.date(), dt.time(11), tzinfo=tz)
        if moment <= local:
            moment += dt.timedelta(days=1)
        if moment >= now:
            continue
        with time_machine.travel(moment, tick=False), transaction.atomic():
            body = (
                f"亲，您的售后工单 {ticket.number} 已处理完毕，请为我们的服务打分（1-5 星），谢谢！"
            )
            if contact_customer(ticket=ticket, purpose="follow_up", body=body, now=moment) is None:
                return


def _demo_ticket(*, shop, agent, rng, code, index, recent, clock, now) -> None:
    from sla.services import survey_answer, survey_for

    def later(
        minutes: float,
    ) -> None:  # forward, but never past the real now (a third of what is left at most)
        clock.move_to(
            timezone.now() + min(dt.timedelta(minutes=minutes), (now - timezone.now()) / 3)
        )

    sku, name, price, perishable = rng.choice(PRODUCTS)
    external_id, customer_name, phone = rng.choice(CUSTOMERS)
    quantity = rng.randint(1, 3)
    paid = timezone.now() - dt.timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 23))
    ticket = services.ticket_create(
        shop=shop,
        actor=services.Actor.shop(shop),
        dispute_type_code=code,
        description=STORIES.get(code, "商品有问题,请尽快处理。"),
        external_ref=f"DEMO-{index + 1:04d}",
        requested_resolution=rng.choice(["refund", "return_refund", "reship", "exchange", ""]),
        customer={"external_id": external_id, "name": customer_name, "phone": phone},
        order={
            "order_no": f"T{paid:%Y%m%d}{index + 1:04d}",
            "amount": price * quantity,
            "paid_at": paid,
            "shipped_at": paid + dt.timedelta(hours=rng.randint(6, 80)),
            "courier": rng.choice(COURIERS),
            "tracking_no": f"{rng.randint(10**11, 10**12 - 1)}",
            "items": [
                {
                    "sku": sku,
                    "name": name,
                    "batch_no": f"B{rng.randint(2300, 2312)}",
                    "unit_price": price,
                    "quantity": quantity,
                    "perishable": perishable,
                }
            ],
        },
        affected_items=[{"sku": sku, "quantity": 1}],
        # A few recent ones carry the marketplace's own deadline: the queue puts them by the earliest.
        platform_deadline_at=now + dt.timedelta(minutes=40 + 100 * (index % 3))
        if recent and index % 4 == 1
        else None,
    )
    services.message_add(
        ticket=ticket, body=ticket.description or "?", actor=services.Actor.shop(shop)
    )
    if (
        ticket.dispute_type.photo_required
    ):  # the customer's photo, as the standard asks before compensating
        # each customer's own picture: the same one on two orders is what risk flags
        photo = SimpleUploadedFile(
            f"photo-{index + 1}.png", demo_photo_of(index), content_type="image/png"
        )
        services.attachment_add(
            ticket=ticket, uploaded_file=photo, kind="photo", actor=services.Actor.shop(shop)
        )
    stage = index % 5 if recent else 4
    if stage == 0:
        return  # new: nobody has looked at it yet
    later(rng.uniform(5, 150))
    services.ticket_assign(ticket=ticket, assignee=agent, actor=services.Actor.staff(agent))
    services.message_add(
        ticket=ticket,
        body="亲,非常抱歉给您带来这个困扰,这边马上为您核实处理,请您放心。",
        actor=services.Actor.staff(agent),
    )
    if (
        stage in (1, 3)
    ):  # open or waiting internally: where one is larger than the agent may grant, the supervisor's inbox has it
        _demo_compensation(ticket=ticket, agent=agent, above_authority=True)
    if stage == 2:
        services.ticket_transition(
            ticket=ticket,
            action="wait_customer",
            actor=services.Actor.staff(agent),
            note="已请客户补充照片",
        )
    elif stage == 3:
        services.ticket_transition(
            ticket=ticket,
            action="wait_internal",
            actor=services.Actor.staff(agent),
            note="已联系仓库核实",
        )
    elif stage == 4 and (not recent or index % 2):
        later(rng.uniform(60, 60 * 30))
        if not recent:
            # One in six stays approved with the shop backend not having reported it yet: staff mark it by hand.
            _demo_compensation(
                ticket=ticket, agent=agent, above_authority=False, shop_reports=index % 6 != 0
            )
            later(rng.uniform(10, 120))
        services.ticket_transition(
            ticket=ticket, action="resolve", actor=services.Actor.staff(agent)
        )
        if not recent and rng.random() < 0.6:
            later(rng.uniform(60, 60 * 24))
            survey = survey_for(ticket=ticket, now=timezone.now())
            survey_answer(token=survey.token, score=rng.choice([5, 5, 4, 4, 3, 2]), comment="")


def _demo_compensation(*, ticket, agent, above_authority: bool, shop_reports: bool = True) -> None:
    """The agent confirms the suggested responsibility and proposes the standard's first option:
    within authority it is approved at once and the shop backend reports it executed; above it,
    it waits for a supervisor. Skipped where the standard wants what the demo lacks (a photo)."""
    from aftersales.exceptions import ApplicationError
    from disputes import services as disputes

    actor = services.Actor.staff(agent)
    suggestion = disputes.judgment_suggest(ticket=ticket)
    disputes.judgment_create(
        ticket=ticket, party=suggestion.party or "merchant", actor=actor, reason="按规则建议确认"
    )
    authority = disputes.policy_of(disputes.policy_current(shop=ticket.shop)).agent_authority
    options = [
        o
        for o in disputes.compensation_options(ticket=ticket)
        if o.amount > 0 and (o.requires_approval or o.amount > authority) == above_authority
    ]
    for option in (
        sorted(options, key=lambda o: o.amount, reverse=True) if above_authority else options
    ):
        try:
            compensation = disputes.compensation_propose(
                ticket=ticket,
                type=option.type,
                amount=option.amount,
                actor=actor,
                note=option.rationale_zh,
            )
            break
        except ApplicationError:
            continue
    else:
        return
    if compensation.status == "approved" and shop_reports:
        disputes.compensation_report_executed(
            compensation=compensation,
            actor=services.Actor.shop(ticket.shop),
            external_ref=f"PAY-{ticket.number}",
        )


def demo_photo(width: int = 480, height: int = 320) -> bytes:
    """A stand-in for a customer's photo: a parcel on a grey table with a crack across it (PNG)."""
    rows = []
    for y in range(height):
        row = bytearray(b"\xe6\xe6\xe6" * width)
        if height // 5 <= y < height * 4 // 5:  # the parcel
            row[width // 5 * 3 : width * 4 // 5 * 3] = b"\xc8\xa0\x6e" * (
                width * 4 // 5 - width // 5
            )
            x = width // 5 + (y - height // 5) * 3 * width // 5 // (
                height * 3 // 5
            )  # the crack, corner to corner
            row[x * 3 : (x + 4) * 3] = b"\x50\x32\x1e" * 4
        rows.append(bytes(row))
    return png(width, height, rows)


def png(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG from its rows of pixels (3 bytes each)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data))
            + kind
            + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"".join(b"\x00" + row for row in rows), 9)  # filter type 0 per row
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")
    )
