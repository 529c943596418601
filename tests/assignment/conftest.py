import itertools

import pytest

from assignment.models import AssignmentSettings, Availability
from tests.factories import make_ticket_for, staff_member

_orders = itertools.count(1)


def automatic(shop, mode: str, *, cap: int = 40, skills: dict | None = None):
    return AssignmentSettings.objects.update_or_create(
        shop=shop,
        defaults={"mode": mode, "max_open_per_agent": cap, "skills": skills or {}},
    )[0]


def available(*users, state: bool = True):
    for user in users:
        Availability.objects.update_or_create(user=user, defaults={"available": state})


def new_ticket(shop, dispute_type: str = "damaged_on_arrival"):
    n = next(_orders)
    return make_ticket_for(
        shop, order_no=f"A-{n}", customer_id=f"c-a{n}", dispute_type=dispute_type
    )


@pytest.fixture
def agents(shop):
    """Two agents of the shop, both available."""
    pair = [staff_member(shop, "agent", username=name) for name in ("ann", "bob")]
    available(*pair)
    return pair
