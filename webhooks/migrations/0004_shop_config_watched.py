"""A change to these tables gives the shop a new configuration version (shops.config)."""

from django.db import migrations

from shops.config import watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("webhooks", "0003_delivery_dropped"),
        ("shops", "0002_shop_config_version"),
    ]

    operations = [
        migrations.RunPython(*watch_table("webhooks_webhookendpoint")),
    ]
