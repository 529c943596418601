"""The dispute types of DOMAIN.md §2, seeded as data. (code, 中文, English, category, priority, photo required)"""

DISPUTE_TYPES = [
    ("quality_defect", "商品质量问题/做工瑕疵", "Quality defect", "product", "normal", True),
    ("not_as_described", "与描述不符", "Not as described", "product", "normal", True),
    ("counterfeit", "假货", "Counterfeit", "product", "high", True),
    ("spoiled_food", "食品变质", "Spoiled food", "product", "urgent", True),
    ("damaged_on_arrival", "收到破损", "Damaged on arrival", "product", "normal", True),
    ("leaking_stained", "漏液/污损", "Leaking or stained", "product", "normal", True),
    (
        "minor_defect",
        "划痕/气泡/剪刀纹等小瑕疵",
        "Minor defect (scratch, bubble)",
        "product",
        "low",
        True,
    ),
    ("customer_misuse", "使用不当", "Customer misuse", "product", "low", False),
    ("late_shipment", "发货慢/超时未发货", "Late shipment", "logistics", "normal", False),
    ("no_tracking_update", "物流无轨迹", "No tracking update", "logistics", "normal", False),
    ("lost_parcel", "丢件", "Lost parcel", "logistics", "high", False),
    ("damaged_in_transit", "运输破损", "Damaged in transit", "logistics", "normal", True),
    ("wrong_item", "发错货/派错件", "Wrong item", "logistics", "normal", True),
    ("missing_item", "少发/漏发/缺货", "Missing item", "logistics", "normal", False),
    (
        "signed_not_received",
        "显示签收但未收到(代签)",
        "Signed but not received",
        "logistics",
        "high",
        False,
    ),
    (
        "price_dispute",
        "大促价格纠纷/价保",
        "Price dispute / price protection",
        "pricing",
        "normal",
        False,
    ),
    ("coupon_misleading", "优惠券/满减误导", "Misleading coupon", "pricing", "normal", False),
    ("refund_delay", "退款慢/流程繁琐", "Slow refund", "refund", "high", False),
    ("no_reason_return", "七天无理由退货", "7-day no-reason return", "refund", "low", False),
    ("service_attitude", "服务态度", "Service attitude", "service", "high", False),
    ("service_unresponsive", "推诿/反应迟钝", "Unresponsive service", "service", "high", False),
    ("harassment", "恶意骚扰投诉", "Harassing complaints", "service", "normal", False),
    ("invoice", "发票问题", "Invoice", "commitment", "normal", False),
    (
        "broken_promise",
        "违背承诺(包邮/加价/货到付款)",
        "Broken promise",
        "commitment",
        "high",
        False,
    ),
]


def dispute_types_seed(DisputeType) -> None:
    """Create or refresh the global types above; `DisputeType` is the model class (a migration's
    historical one or the live one). Idempotent."""
    for code, name_zh, name_en, category, priority, photo in DISPUTE_TYPES:
        DisputeType.objects.update_or_create(
            code=code,
            shop=None,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "category": category,
                "default_priority": priority,
                "photo_required": photo,
            },
        )
