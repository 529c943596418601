"""Ticket numbers: the unique constraint moves to Meta.constraints (`ticket_unique_number`), so
PostgreSQL drops the varchar_pattern_ops LIKE index `unique=True` gave it (nothing searches
numbers by prefix): one index entry fewer per ticket INSERT and non-HOT UPDATE.

On PostgreSQL the existing constraint is renamed (no rebuild at 1M tickets) and the LIKE index
dropped. SQLite (`make run`) keeps its table as it is: its column constraint already makes numbers
unique, and remaking the table here would trip analytics' triggers on it."""

from django.db import migrations, models

FORWARD = [
    'ALTER TABLE "tickets_ticket" RENAME CONSTRAINT "tickets_ticket_number_key" '
    'TO "ticket_unique_number"',
    'DROP INDEX IF EXISTS "tickets_ticket_number_5f958fbb_like"',
]
BACKWARD = [
    'ALTER TABLE "tickets_ticket" RENAME CONSTRAINT "ticket_unique_number" '
    'TO "tickets_ticket_number_key"',
    'CREATE INDEX IF NOT EXISTS "tickets_ticket_number_5f958fbb_like" '
    'ON "tickets_ticket" ("number" varchar_pattern_ops)',
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0017_alter_ticketevent_kind"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="ticket",
                    name="number",
                    field=models.CharField(max_length=20, verbose_name="number"),
                ),
                migrations.AddConstraint(
                    model_name="ticket",
                    constraint=models.UniqueConstraint(
                        fields=("number",), name="ticket_unique_number"
                    ),
                ),
            ],
            database_operations=[migrations.RunPython(_run(FORWARD), _run(BACKWARD))],
        ),
    ]
