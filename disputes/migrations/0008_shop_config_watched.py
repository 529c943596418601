"""A change to these tables gives the shop a new configuration version (shops.config)."""

from django.db import migrations

from shops.config import watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0007_dispute_type_moved_to_tickets"),
        ("shops", "0002_shop_config_version"),
    ]

    operations = [
        migrations.RunPython(*watch_table("disputes_shoppolicy")),
    ]
