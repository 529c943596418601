"""A change to these tables gives the shop a new configuration version (shops.config)."""

from django.db import migrations

from shops.config import watch_table


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0019_customer_phone_index_with_id"),
        ("shops", "0002_shop_config_version"),
    ]

    operations = [
        migrations.RunPython(*watch_table("disputes_disputetype")),
        migrations.RunPython(*watch_table("tickets_replytemplate")),
    ]
