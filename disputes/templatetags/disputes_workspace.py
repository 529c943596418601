"""The approval inbox link (with the pending count) and the policy link in the workspace nav."""

from django import template

from disputes import selectors

register = template.Library()


def _carry(context) -> dict:
    return {key: context.get(key) for key in ("request", "user", "csrf_token", "LANGUAGE_CODE")}


@register.inclusion_tag("disputes/_nav.html", takes_context=True)
def disputes_nav(context, oob=False):
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"show": False, "oob": oob}
    deciders = selectors.decider_shop_ids(user=user)
    return {
        **_carry(context),
        "show": bool(deciders),
        "oob": oob,
        "pending": selectors.pending_approval_count(user=user) if deciders else 0,
        "admin_shops": selectors.admin_shop_codes(user=user) if deciders else [],
        # The out-of-band copy is sent from the inbox, whose link stays the current page.
        "url_name": "approvals" if oob else (request.resolver_match.url_name if request.resolver_match else ""),
    }
