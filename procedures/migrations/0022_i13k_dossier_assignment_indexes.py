"""The dossier's assigned unit and officer lose their single-column indexes: the
composite indexes dossier_unit_status_idx and dossier_officer_status_idx start with
the same columns and serve every look-up by them (the PROTECT checks on deleting a unit
or a user too), while each index is one more B-tree written by every registration.

Only the indexes are dropped (the foreign keys stay as they are, not re-validated over
every row, as AlterField's own SQL would do).
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

INDEXES = {
    "procedures_dossier_assigned_officer_id_4ede6f99": "assigned_officer_id",
    "procedures_dossier_assigned_unit_id_bb92802c": "assigned_unit_id",
}


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0021_i13j_delivery_item_channel"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "procedures_dossier" ("{column}")',
                )
                for name, column in INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="dossier",
                    name="assigned_officer",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="assigned_dossiers",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assigned officer",
                    ),
                ),
                migrations.AlterField(
                    model_name="dossier",
                    name="assigned_unit",
                    field=models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="dossiers",
                        to="procedures.unit",
                        verbose_name="assigned unit",
                    ),
                ),
            ],
        ),
    ]
