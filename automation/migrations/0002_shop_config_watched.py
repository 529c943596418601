"""A change to these tables gives the shop a new configuration version (shops.config)."""

from django.db import migrations

from shops.config import watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("automation", "0001_initial"),
        ("shops", "0002_shop_config_version"),
    ]

    operations = [
        migrations.RunPython(*watch_table("automation_rule", columns=('shop_id', 'name', 'position', 'enabled', 'event', 'after_field', 'after_hours', 'conditions', 'actions', 'version', 'default_key', 'updated_at', 'deleted_at'))),
    ]
