from django.db import migrations

from tickets.catalogue import dispute_types_seed


def seed(apps, schema_editor):
    dispute_types_seed(apps.get_model("disputes", "DisputeType"))


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
