from django import template

from shops.models import Membership, Role

register = template.Library()


@register.filter
def sees_analytics(user) -> bool:
    """Supervisors and admins (of any shop) get the dashboard link."""
    if not getattr(user, "is_authenticated", False):
        return False
    return user.is_superuser or Membership.objects.filter(user=user, role__in=[Role.SUPERVISOR, Role.ADMIN]).exists()
