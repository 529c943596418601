"""Django-admin permissions for the shop `admin` role (configuration, scoped to their shops)."""

from django.contrib.auth.models import Group, Permission

SHOP_ADMINS_GROUP = "Shop admins"
SHOP_ADMIN_PERMISSIONS = {
    "shops": [
        "view_shop",
        "change_shop",
        "view_membership",
        "add_membership",
        "change_membership",
        "delete_membership",
        "view_shopapikey",
        "add_shopapikey",
        "change_shopapikey",
    ],
    "disputes": ["view_disputetype", "add_disputetype", "change_disputetype"],
    "tickets": [
        "view_ticket",
        "view_replytemplate",
        "add_replytemplate",
        "change_replytemplate",
        "delete_replytemplate",
    ],
}


def shop_admins_group() -> Group:
    group, _ = Group.objects.get_or_create(name=SHOP_ADMINS_GROUP)
    for app_label, codenames in SHOP_ADMIN_PERMISSIONS.items():
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label=app_label, codename__in=codenames)
        )
    return group
