from django import template

from assignment.services import is_available

register = template.Library()


@register.inclusion_tag("assignment/_nav_toggle.html", takes_context=True)
def availability_toggle(context):
    """The nav's 在线 / 离开 switch: the user's state and a button to change it."""
    request = context["request"]
    return {
        "request": request,
        "csrf_token": context.get("csrf_token"),
        "available": is_available(request.user),
    }
