"""A shop's staff (memberships, and the names and active flags of its users) is part of its
configuration version (shops.config)."""

from django.conf import settings
from django.db import migrations

from shops.config import users_watch_install, users_watch_remove, watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("shops", "0002_shop_config_version"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(*watch_table("shops_membership")),
        migrations.RunPython(users_watch_install, users_watch_remove),
    ]
