from django.db import migrations

from tickets.reply_templates import REPLY_TEMPLATES


def seed(apps, schema_editor):
    ReplyTemplate = apps.get_model("tickets", "ReplyTemplate")
    if ReplyTemplate.objects.filter(shop__isnull=True).exists():
        return
    ReplyTemplate.objects.bulk_create(
        ReplyTemplate(category=category, title=title, body=body, position=index)
        for index, (category, title, body) in enumerate(REPLY_TEMPLATES)
    )


class Migration(migrations.Migration):
    dependencies = [("tickets", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
