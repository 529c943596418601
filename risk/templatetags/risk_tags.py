from django import template

from shops.permissions import is_supervisor
from shops.selectors import user_role_in_shop

register = template.Library()


@register.simple_tag(takes_context=True)
def can_dismiss_flags(context, ticket) -> bool:
    """Whether the page's reader may dismiss the ticket's risk flags (a supervisor or admin of
    its shop): agents see no button, and risk.services.flag_dismiss refuses them anyway."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return is_supervisor(user_role_in_shop(user=user, shop_id=ticket.shop_id))


@register.filter
def risk_flag_label(code: str) -> str:
    """A flag code's name in the reader's language."""
    from risk.selectors import flag_label

    return flag_label(code)
