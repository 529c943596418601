"""DisputeType moves from the disputes app to the core (tickets): a ticket is classified by it.
Only Django's idea of which app owns the model changes; the table (disputes_disputetype), its
rows, constraints and the tickets' foreign key stay as they are."""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shops', '0001_initial'),
        ('tickets', '0009_ticket_follow_up_of'),
        ('disputes', '0006_compensation_amount_checks'),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
            migrations.CreateModel(
                name='DisputeType',
                fields=[
                    ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                    ('code', models.SlugField(verbose_name='code')),
                    ('name_zh', models.CharField(max_length=100, verbose_name='Chinese name')),
                    ('name_en', models.CharField(max_length=100, verbose_name='English name')),
                    ('category', models.CharField(choices=[('product', 'Product'), ('logistics', 'Logistics'), ('pricing', 'Pricing'), ('refund', 'Refund'), ('service', 'Service'), ('commitment', 'Commitment')], max_length=20, verbose_name='category')),
                    ('default_priority', models.CharField(default='normal', max_length=10, verbose_name='default priority')),
                    ('photo_required', models.BooleanField(default=False, verbose_name='photo required before compensation')),
                    ('rules_as', models.SlugField(blank=True, verbose_name='follows the rules of')),
                    ('active', models.BooleanField(default=True)),
                    ('shop', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='dispute_types', to='shops.shop')),
                ],
                options={
                    'verbose_name': 'dispute type',
                    'verbose_name_plural': 'dispute types',
                    'db_table': 'disputes_disputetype',
                    'ordering': ['category', 'code'],
                },
            ),
            migrations.AlterField(
                model_name='ticket',
                name='dispute_type',
                field=models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='tickets', to='tickets.disputetype'),
            ),
            migrations.AddConstraint(
                model_name='disputetype',
                constraint=models.UniqueConstraint(condition=models.Q(('shop__isnull', True)), fields=('code',), name='dispute_type_unique_global_code'),
            ),
            migrations.AddConstraint(
                model_name='disputetype',
                constraint=models.UniqueConstraint(fields=('shop', 'code'), name='dispute_type_unique_shop_code'),
            ),
            ],
        ),
    ]
