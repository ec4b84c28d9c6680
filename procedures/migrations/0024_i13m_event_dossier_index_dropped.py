"""The dossier event log loses the single-column index of its dossier: the composite
index dossier_event_idx (dossier, at) starts with the same column and serves every
look-up by dossier (a dossier's timeline, the PROTECT check on deleting a dossier),
while each index is one more B-tree written with every event.

Only the index is dropped (the foreign key stays as it is, not re-validated over every
row, as AlterField's own SQL would do).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEX = "procedures_dossierevent_dossier_id_a36c70e2"


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0023_i13l_dossier_indexes_where_set"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{INDEX}"',
                    reverse_sql=(
                        f'CREATE INDEX "{INDEX}" ON "procedures_dossierevent" ("dossier_id")'
                    ),
                )
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="dossierevent",
                    name="dossier",
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="procedures.dossier",
                        verbose_name="dossier",
                    ),
                ),
            ],
        ),
    ]
