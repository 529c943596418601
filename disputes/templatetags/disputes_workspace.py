"""The approval inbox link (with the pending count) and the policy link in the workspace nav."""

from django import template

from disputes import selectors
from shops.permissions import SUPERVISOR_ROLES, is_shop_admin
from shops.selectors import memberships_for_request

register = template.Library()


def _carry(context) -> dict:
    return {key: context.get(key) for key in ("request", "user", "csrf_token", "LANGUAGE_CODE")}


@register.inclusion_tag("disputes/_nav.html", takes_context=True)
def disputes_nav(context, oob=False):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False, "oob": oob}
    memberships = memberships_for_request(request)
    deciders = [shop_id for shop_id, _, role in memberships if role in SUPERVISOR_ROLES]
    return {
        **_carry(context),
        "show": bool(deciders),
        "oob": oob,
        "pending": selectors.pending_approval_count_in(shop_ids=deciders) if deciders else 0,
        "admin_shops": [code for _, code, role in memberships if is_shop_admin(role)],
        # The out-of-band copy is sent from the inbox, whose link stays the current page.
        "url_name": "approvals"
        if oob
        else (request.resolver_match.url_name if request.resolver_match else ""),
    }
