"""The reminder sweep writes ~290,000 item rows at 50,000 dossiers due; each index of
the ledger costs every one of them. Two indexes lose the items (issue 13, item 3):

- ``delivery_kind_subject_idx`` leaves out the reminder items (``kind`` "reminder.*"):
  only other kinds are looked up by kind and subject (dialogues/selectors.py), the
  sweep finds its items by the unique key ``delivery_once``. The condition is a range
  so that PostgreSQL proves ``kind = 'dialogue....'`` implies it.
- the user foreign key's own index goes: ``delivery_inbox_idx`` (user, channel,
  read_at) starts with the column and serves every look-up by user (the inbox, the
  admin's own rows, the cascade when a user is deleted). Only the index is dropped,
  not the constraint (Django's AlterField would drop and re-validate it on the whole
  ledger), hence the state/database split.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0019_i16a_permissions_phone_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="delivery",
            name="delivery_kind_subject_idx",
        ),
        migrations.AddIndex(
            model_name="delivery",
            index=models.Index(
                condition=models.Q(
                    ("kind__lt", "reminder."), ("kind__gte", "reminder/"), _connector="OR"
                ),
                fields=["kind", "subject_key"],
                name="delivery_kind_subject_idx",
            ),
        ),
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="delivery",
                    name="user",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="deliveries",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff recipient",
                    ),
                ),
            ],
            database_operations=[
                # The name Django gave the index (the same on PostgreSQL and SQLite).
                migrations.RunSQL(
                    "DROP INDEX IF EXISTS procedures_delivery_user_id_8b8f25aa",
                    reverse_sql=(
                        "CREATE INDEX IF NOT EXISTS procedures_delivery_user_id_8b8f25aa "
                        "ON procedures_delivery (user_id)"
                    ),
                ),
            ],
        ),
    ]
