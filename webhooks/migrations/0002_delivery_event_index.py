"""Two of the outbox's indexes that only cost writes (a chunk of SLA breaches writes 500 events
and deliveries): deliveries by event are served by delivery_unique_event_endpoint, and event ids
are only ever compared whole, so the LIKE index Django adds to a varchar primary key goes."""

import django.db.models.deletion
from django.db import migrations, models


LIKE_INDEX = "webhooks_webhookevent_id_b40855ca_like"  # PostgreSQL only


def drop_event_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {LIKE_INDEX}")


def create_event_like_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {LIKE_INDEX} ON webhooks_webhookevent (id varchar_pattern_ops)")


class Migration(migrations.Migration):

    dependencies = [
        ('webhooks', '0001_initial'),
    ]

    operations = [
        migrations.AlterField(
            model_name='webhookdelivery',
            name='event',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='deliveries', to='webhooks.webhookevent'),
        ),
        migrations.RunPython(drop_event_like_index, create_event_like_index),
    ]
