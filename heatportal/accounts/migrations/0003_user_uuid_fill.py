import uuid

from django.db import migrations


def fill_user_uuids(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    for user in User.objects.filter(uuid__isnull=True).only("pk").iterator():
        User.objects.filter(pk=user.pk).update(uuid=uuid.uuid4())


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_uuid_add"),
    ]

    operations = [
        migrations.RunPython(fill_user_uuids, migrations.RunPython.noop, elidable=True),
    ]
