"""The dossier's date indexes for report periods (accepted, finished, ended) and its
receiving and transferring officers are indexed only where set.

A range or an equality on a column implies it is not NULL, so every filter that used
the full indexes uses these; a new dossier has none of these values and so is written
to none of these five B-trees (it was written to all five, with NULLs). The foreign
keys keep their constraints: only their plain indexes are replaced.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

FK_INDEXES = {
    "procedures_dossier_received_by_id_f00d1f8e": "received_by_id",
    "procedures_dossier_transferred_by_id_eea03289": "transferred_by_id",
}


def _user_fk(verbose_name: str):
    return models.ForeignKey(
        blank=True,
        db_index=False,
        null=True,
        on_delete=django.db.models.deletion.SET_NULL,
        related_name="+",
        to=settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
    )


def _set_index(field: str, name: str) -> models.Index:
    return models.Index(condition=models.Q((f"{field}__isnull", False)), fields=[field], name=name)


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0022_i13k_dossier_assignment_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="dossier", name="dossier_accepted_idx"),
        migrations.RemoveIndex(model_name="dossier", name="dossier_finished_idx"),
        migrations.RemoveIndex(model_name="dossier", name="dossier_ended_idx"),
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RunSQL(
                    sql=f'DROP INDEX IF EXISTS "{name}"',
                    reverse_sql=f'CREATE INDEX "{name}" ON "procedures_dossier" ("{column}")',
                )
                for name, column in FK_INDEXES.items()
            ],
            state_operations=[
                migrations.AlterField(
                    model_name="dossier", name="received_by", field=_user_fk("received by")
                ),
                migrations.AlterField(
                    model_name="dossier", name="transferred_by", field=_user_fk("transferred by")
                ),
            ],
        ),
        migrations.AddIndex(
            model_name="dossier", index=_set_index("accepted_at", "dossier_accepted_set_idx")
        ),
        migrations.AddIndex(
            model_name="dossier", index=_set_index("finished_at", "dossier_finished_set_idx")
        ),
        migrations.AddIndex(
            model_name="dossier", index=_set_index("ended_at", "dossier_ended_set_idx")
        ),
        migrations.AddIndex(
            model_name="dossier", index=_set_index("received_by", "dossier_received_by_idx")
        ),
        migrations.AddIndex(
            model_name="dossier",
            index=_set_index("transferred_by", "dossier_transferred_by_idx"),
        ),
    ]
