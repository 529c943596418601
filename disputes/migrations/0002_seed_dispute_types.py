from django.db import migrations

from disputes.catalogue import DISPUTE_TYPES


def seed(apps, schema_editor):
    DisputeType = apps.get_model("disputes", "DisputeType")
    for code, name_zh, name_en, category, priority, photo in DISPUTE_TYPES:
        DisputeType.objects.update_or_create(
            code=code,
            shop=None,
            defaults={
                "name_zh": name_zh,
                "name_en": name_en,
                "category": category,
                "default_priority": priority,
                "photo_required": photo,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("disputes", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
