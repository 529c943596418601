import factory
from django.contrib.auth import get_user_model

from shops.models import Membership, Shop, ShopAPIKey
from tickets import services


class ShopFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Shop
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"shop{n}")
    name = factory.LazyAttribute(lambda o: f"Shop {o.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")

    @factory.post_generation
    def password(user, create, extracted, **kwargs):
        user.set_password(extracted or "pw-123456")
        if create:
            user.save(update_fields=["password"])


def staff_member(shop: Shop, role: str = "agent", username: str | None = None):
    user = UserFactory(username=username or f"{shop.code}-{role}")
    Membership.objects.update_or_create(user=user, shop=shop, defaults={"role": role})
    return user


def api_key_for(shop: Shop) -> str:
    _, key = ShopAPIKey.objects.create_key(name="test", shop=shop)
    return key


def ticket_payload(**overrides) -> dict:
    """A valid create-ticket body (the glass bottle of API.md)."""
    payload = {
        "dispute_type": "damaged_on_arrival",
        "description": "瓶子碎了",
        "channel": "api",
        "requested_resolution": "refund",
        "customer": {"external_id": "c-1001", "name": "张三", "phone": "13800000000"},
        "order": {
            "order_no": "T20261122001",
            "amount": "21.00",
            "paid_at": "2026-11-20T10:00:00+08:00",
            "shipped_at": "2026-11-21T09:00:00+08:00",
            "delivered_at": "2026-11-22T15:00:00+08:00",
            "courier": "SF",
            "tracking_no": "SF123",
            "items": [
                {
                    "sku": "GLASS-500",
                    "name": "玻璃瓶 500ml",
                    "batch_no": "B2311",
                    "unit_price": "10.50",
                    "quantity": 2,
                    "perishable": False,
                }
            ],
        },
        "affected_items": [{"sku": "GLASS-500", "quantity": 1}],
    }
    payload.update(overrides)
    return payload


def make_ticket(shop: Shop, **overrides):
    """Create a ticket through the same service the API uses."""
    data = ticket_payload(**overrides)
    return services.ticket_create(
        shop=shop,
        actor=services.Actor.shop(shop),
        dispute_type_code=data["dispute_type"],
        customer=data["customer"],
        order={**data["order"], "items": data["order"]["items"]},
        description=data["description"],
        external_ref=data.get("external_ref"),
        affected_items=data.get("affected_items"),
        platform_deadline_at=data.get("platform_deadline_at"),
    )


def make_ticket_for(
    shop: Shop,
    *,
    order_no: str = "T20261122001",
    dispute_type: str = "damaged_on_arrival",
    customer_id: str = "c-1001",
    external_ref: str | None = None,
    status: str | None = None,
):
    """A ticket with its own order number (and optionally dispute type, status) for list tests."""
    data = ticket_payload(dispute_type=dispute_type, external_ref=external_ref)
    data["order"]["order_no"] = order_no
    data["customer"]["external_id"] = customer_id
    ticket = make_ticket(
        shop, **{k: data[k] for k in ("dispute_type", "order", "customer", "external_ref")}
    )
    if status is not None:
        type(ticket).objects.filter(pk=ticket.pk).update(status=status)
        ticket.refresh_from_db()
    return ticket


# --- tiny files whose bytes really are what they claim (content is sniffed, not names) ----


def png_bytes() -> bytes:
    from demo.tickets import png

    return png(1, 1, [b"\xff\x00\x00"])  # 1×1 red


JPEG_BYTES = (
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    + b"\x00" * 64
    + b"\xff\xd9"
)
PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
MP4_BYTES = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free"
EXE_BYTES = b"MZ\x90\x00" + b"\x00" * 200


def zip_bytes() -> bytes:
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("a.txt", "hi")
    return buffer.getvalue()


def fire_timer(timer_id: int, now=None) -> str:
    """Fire one claimed timer as the Celery task fires a chunk (sla.services.timers_fire)."""
    from sla.services import timers_fire

    return timers_fire(timer_ids=[timer_id], now=now).get(timer_id, "gone")
