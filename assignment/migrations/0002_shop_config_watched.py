"""A change to these tables gives the shop a new configuration version (shops.config)."""

from django.db import migrations

from shops.config import watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("assignment", "0001_initial"),
        ("shops", "0002_shop_config_version"),
    ]

    operations = [
        migrations.RunPython(*watch_table("assignment_assignmentsettings", columns=('shop_id', 'mode'))),
    ]
