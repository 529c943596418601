import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.translation import gettext

from shops.models import Membership, Role, Shop, ShopAPIKey
from shops.roles import shop_admins_group

User = get_user_model()


def _password() -> str:
    return secrets.token_urlsafe(12)


@transaction.atomic
def shop_bootstrap(*, code: str, name: str | None = None, user_prefix: str = "") -> dict:
    """Create (or refresh) a shop with a fresh API key and one user per role.

    Re-running is safe: it issues a new key and resets the users' passwords.
    Returns {"shop", "api_key", "users": {role: {"username", "password"}}}.
    """
    shop, _ = Shop.objects.get_or_create(code=code, defaults={"name": name or code.title()})
    _, key = ShopAPIKey.objects.create_key(name=f"{code} backend", shop=shop)
    users = {}
    for role in (Role.AGENT, Role.SUPERVISOR, Role.ADMIN):
        username = f"{user_prefix}{role.value}"
        password = _password()
        user, _ = User.objects.get_or_create(username=username)
        user.set_password(password)
        user.is_active = True
        # Admins manage configuration in Django admin too.
        user.is_staff = role == Role.ADMIN
        user.save()
        Membership.objects.update_or_create(user=user, shop=shop, defaults={"role": role.value})
        if role == Role.ADMIN:
            user.groups.add(shop_admins_group())
        users[role.value] = {"username": username, "password": password}
    return {"shop": shop.code, "api_key": key, "users": users}


def shop_sla_update(*, shop: Shop, data: dict, replace: bool) -> Shop:
    """Validate and store the shop's SLA settings. `replace` (PUT): settings not given go back
    to the defaults; otherwise (PATCH) they are kept. Tickets already created keep their due
    times: new targets apply to tickets created afterwards."""
    from aftersales.exceptions import ApplicationError
    from shops.sla import DEFAULT_SLA, sla_validate

    errors = sla_validate(data)
    if replace and not errors and not data:
        # An empty PUT would put every setting back to the defaults: almost surely a client's bug.
        errors = {
            "non_field_errors": gettext(
                "Send the settings to store; to go back to the defaults, send them explicitly."
            )
        }
    if errors:
        raise ApplicationError(
            "validation_error", gettext("The request has invalid fields."), fields=errors
        )
    with transaction.atomic():
        locked = Shop.objects.select_for_update().get(pk=shop.pk)
        settings = {} if replace else dict(locked.sla_settings or {})
        for key, value in data.items():
            if key in ("timezone", "shop"):
                continue
            if key == "business_hours":
                base = settings.get("business_hours") or DEFAULT_SLA["business_hours"]
                value = {**base, **value}
            settings[key] = value
        locked.sla_settings = settings
        if "timezone" in data:
            locked.timezone = data["timezone"]
        locked.save(update_fields=["sla_settings", "timezone"])
    return locked
