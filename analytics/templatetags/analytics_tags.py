from django import template

from shops.permissions import is_supervisor
from shops.selectors import memberships_for_request

register = template.Library()


@register.filter
def sees_analytics(request) -> bool:
    """Supervisors and admins (of any shop) get the dashboard link."""
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or any(
        is_supervisor(role) for _, _, role in memberships_for_request(request)
    )
