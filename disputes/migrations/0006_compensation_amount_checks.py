"""The database refuses a compensation amount that does not fit the books (12 digits with 2 places:
below 10^10, never negative) and a live money compensation of ¥0.00.

Rows written before these checks are repaired first, with plain SQL: on SQLite an amount too long
for the column cannot even be read through the ORM (its Decimal converter raises), so such a row
made every page that lists it answer 500. A row that cannot stand is cancelled with amount 0 and a
note saying what was stored, and the ticket's timeline records it (as the system)."""

from decimal import Decimal

from django.db import migrations, models
from django.utils import timezone

MONEY_TYPES_SQL = "('refund', 'return_refund', 'coupon', 'cash', 'return_shipping_subsidy', 'courier_claim')"
LIVE_SQL = "('proposed', 'pending_approval', 'approved', 'executing')"
NOTE = "升级时取消:金额 ¥{amount} {why_zh}。 / Cancelled by the upgrade: the amount ¥{amount} {why}."


def repair_amounts(apps, schema_editor):
    Ticket = apps.get_model("tickets", "Ticket")
    TicketEvent = apps.get_model("tickets", "TicketEvent")
    now = timezone.now()
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, ticket_id, CAST(amount AS TEXT), amount < 0, amount = 0 FROM disputes_compensation"
            " WHERE amount >= 10000000000 OR amount < 0"
            f" OR (amount = 0 AND type IN {MONEY_TYPES_SQL} AND status IN {LIVE_SQL})"
        )
        bad = cursor.fetchall()
        for compensation_id, ticket_id, amount, negative, zero in bad:
            if zero:
                why, why_zh = "is not a compensation", "不是补偿"
            elif negative:
                why, why_zh = "is negative", "为负数"
            else:
                why, why_zh = "does not fit the books (at most 9,999,999,999.99)", "超出账目可记范围(最多 9,999,999,999.99)"
            note = NOTE.format(amount=amount, why=why, why_zh=why_zh)
            cursor.execute(
                "UPDATE disputes_compensation SET amount = 0, status = 'cancelled', decision_note = %s, updated_at = %s WHERE id = %s",
                [note, now, compensation_id],
            )
            TicketEvent.objects.create(
                ticket_id=ticket_id,
                kind="compensation_cancelled",
                actor=None,
                actor_label="system",
                data={"id": compensation_id, "note": note},
            )
            Ticket.objects.filter(pk=ticket_id).update(updated_at=now)


class Migration(migrations.Migration):

    dependencies = [
        ("disputes", "0005_dispute_type_rules_as"),
        ("tickets", "0007_event_kinds_for_disputes"),
    ]

    operations = [
        migrations.RunPython(repair_amounts, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="compensation",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0), ("amount__lt", Decimal("10000000000"))), name="compensation_amount_fits"
            ),
        ),
        migrations.AddConstraint(
            model_name="compensation",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("amount__gt", 0),
                    ("type__in", ("reship", "exchange", "repair")),
                    ("status__in", ("rejected", "executed", "failed", "cancelled")),
                    _connector="OR",
                ),
                name="compensation_money_above_zero",
            ),
        ),
    ]
