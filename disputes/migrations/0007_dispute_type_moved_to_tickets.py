"""DisputeType now belongs to the core (tickets.0010); the table stays where it is."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("disputes", "0006_compensation_amount_checks"),
        ("tickets", "0010_dispute_type_in_core"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="DisputeType")],
        ),
    ]
