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

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "pw-123456")


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
