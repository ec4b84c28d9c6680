"""The reminder sweep writes ~290,000 item rows at 50,000 dossiers due; each index of
the ledger and each foreign-key check costs every one of them (issue 13, item 3):

- ``delivery_kind_subject_idx`` leaves out the reminder items (``kind`` "reminder.*"):
  only other kinds are looked up by kind and subject (dialogues/selectors.py), the
  sweep finds its items by the unique key ``delivery_once``. The condition is a range
  so that PostgreSQL proves ``kind = 'dialogue....'`` implies it.
- the user column loses its own index: ``delivery_inbox_idx`` (user, channel,
  read_at) starts with it and serves every look-up by user (the inbox, the admin's
  own rows, Django's cascade when a user is deleted);
- and its database foreign key, checked once per inserted row (a query and a row
  lock on the user: a quarter of the sweep's CPU), as the digest column's before it
  (0006). Django still cascades a deleted user's rows.
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
        migrations.AlterField(
            model_name="delivery",
            name="user",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="deliveries",
                to=settings.AUTH_USER_MODEL,
                verbose_name="staff recipient",
            ),
        ),
    ]
