"""The shop's configuration version, and the trigger function that changes it (shops.config)."""

import shops.config
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('shops', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='shop',
            name='config_version',
            field=models.BigIntegerField(default=shops.config.new_version, editable=False),
        ),
        migrations.RunPython(shops.config.function_install, shops.config.function_remove),
    ]
