import pytest

from automation import services
from tests.factories import staff_member


@pytest.fixture
def admin(shop):
    return staff_member(shop, "admin", username="admin")


@pytest.fixture
def admin_client(admin, token_client):
    return token_client(admin)


@pytest.fixture
def make_rule(shop):
    """make_rule(event=..., conditions=..., actions=..., **more) -> an enabled rule of the shop."""

    def make(event="ticket.created", conditions=None, actions=None, **more):
        target = more.pop("shop", shop)
        data = {
            "name": more.pop("name", f"rule {event}"),
            "enabled": more.pop("enabled", True),
            "event": event,
            "conditions": conditions or {},
            "actions": actions or [{"type": "add_tag", "value": "auto"}],
            **more,
        }
        return services.rule_create(shop=target, data=data)

    return make
