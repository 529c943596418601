"""Canned replies (话术) distilled from the source documents (seeds 000, 001, 003, 004), and their
filling from a ticket: a blank is a word in braces ({option_1}); see reply_template_values for
the words a template can use."""

import re

from aftersales import hooks

REPLY_TEMPLATES = [
    # (category, title, body)
    (
        "apology",
        "诚恳道歉 · Apology",
        "亲,非常抱歉给您带来这个困扰,您的心情我们完全理解,换成是我们也会着急的。这边马上为您核实处理,请您放心。",
    ),
    (
        "apology",
        "发货延迟致歉 · Late shipment apology",
        "亲,真的非常抱歉,您的订单发货比承诺的时间晚了,这是我们的疏忽。我们已经加急处理,发出后第一时间把快递单号发给您。",
    ),
    (
        "verify",
        "核实问题 · Verification questions",
        "亲,为了尽快帮您处理,麻烦您提供一下:1. 商品问题部位的清晰照片(含外包装和快递面单);2. 问题是收到时就有,还是使用后出现的;3. 您希望的处理方式。收到后我们马上跟进。",
    ),
    (
        "verify",
        "物流核实 · Logistics check",
        "亲,这边已经帮您联系快递核实物流情况,预计今天内给您回复。如有最新进展,我们会第一时间通知您。",
    ),
    (
        "offer",
        "两个方案供选择(2选1) · Two-option offer",
        "亲,非常抱歉给您带来不便。针对这个情况,我们为您提供两个方案,您看哪个更合适:方案一:{option_1};方案二:{option_2}。您选好后回复我们,我们马上为您办理。",
    ),
    (
        "offer",
        "补发 · Re-ship",
        "亲,少发/错发的商品我们已经安排补发,今天内发出,发出后24小时内会把快递单号发给您,请您留意查收。",
    ),
    (
        "refusal",
        "说明原因的婉拒 · Refusal with reason",
        "亲,非常抱歉,这边看到您下单到反馈的时间已经超过了商品的售后期,我们无法核实问题产生的原因,所以暂时没办法按质量问题处理。很抱歉没能给您很好的解决,建议您下次收到后及时开包检验。如有其他需要,我们一定尽力帮您。",
    ),
    (
        "refusal",
        "无理由退货说明 · No-reason return terms",
        "亲,七天无理由退货是支持的哦,需要商品保持完好(未使用、吊牌齐全、不影响二次销售),退回运费需由您承担。您确认后我们把退货地址发给您。",
    ),
    (
        "followup",
        "完结回访 · Follow-up",
        "亲,您反馈的问题已经处理完毕,请问您对这次的处理结果还满意吗?如果还有任何问题,随时联系我们。感谢您的理解与支持!",
    ),
]

# --- filling a template from the ticket -------------------------------------------------------

# A blank to fill in: {option_1}, {customer_name}, {x}, {顾客姓名} — a word in braces.
PLACEHOLDER = re.compile(r"\{\s*([\w.-]{1,60})\s*\}")


def unfilled_placeholders(text: str) -> list[str]:
    """The blanks still in `text`, as written, each once, in order of appearance."""
    seen: list[str] = []
    for match in PLACEHOLDER.finditer(text or ""):
        if match.group(0) not in seen:
            seen.append(match.group(0))
    return seen


def reply_template_values(ticket) -> dict[str, str]:
    """What a reply template can say about this ticket: the ticket's own facts here, and what the
    features know (disputes: the refundable total and the standard's 2-选-1 pair) through
    aftersales.hooks. Missing facts are left out, so their blanks stay in the text for the agent
    (and a reply still holding one is refused by message_add)."""
    values = {
        "customer_name": ticket.customer.name,
        "order_no": ticket.order.order_no,
        "ticket_number": ticket.number,
        "shop_name": ticket.shop.name,
        "courier": ticket.order.courier,
        "tracking_no": ticket.order.tracking_no,
    }
    if ticket.order.amount is not None:
        values["order_amount"] = yuan(ticket.order.amount)
    values.update(hooks.collect(hooks.REPLY_TEMPLATE_VALUES, ticket=ticket))
    return {key: value for key, value in values.items() if value is not None and str(value) != ""}


def yuan(amount) -> str:
    return f"¥{amount:.2f}"


def reply_template_fill(body: str, values: dict, *, language: str | None = None) -> str:
    """The one filling of a reply template: each known blank replaced, unknown ones kept as written;
    `language`: the template's (ReplyTemplate.language), for the words that have one."""
    from django.utils import translation

    with translation.override(language or translation.get_language()):
        return PLACEHOLDER.sub(
            lambda match: str(values.get(match.group(1), match.group(0))), body or ""
        )
