"""The report's daily rollup (procedures/reports/rollup.py), filled from the dossiers
already there; and, on PostgreSQL, a raised statistics target on the searched
applicant name (README "PostgreSQL settings the plans rely on").
"""

import django.db.models.deletion
from django.db import migrations, models

# The name search (trigram index on UPPER(applicant_name), 0009) is planned from these
# statistics; the default target (100) sampled too few distinct names at 1,000,000
# dossiers. The index's expression column has statistics of its own.
STATISTICS = [
    "ALTER TABLE procedures_dossier ALTER COLUMN applicant_name SET STATISTICS 1000",
    "ALTER INDEX IF EXISTS dossier_applicant_name_trgm ALTER COLUMN 1 SET STATISTICS 1000",
]
STATISTICS_BACK = [
    "ALTER TABLE procedures_dossier ALTER COLUMN applicant_name SET STATISTICS -1",
    "ALTER INDEX IF EXISTS dossier_applicant_name_trgm ALTER COLUMN 1 SET STATISTICS -1",
]


def raise_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in STATISTICS:
            schema_editor.execute(sql)


def reset_statistics(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in STATISTICS_BACK:
            schema_editor.execute(sql)


def fill_rollup(apps, schema_editor):
    # The live code, not historical models: the rollup is defined by it, and a
    # later change of the definition ships its own rebuild.
    from procedures.reports.rollup import rollup_rebuild

    if apps.get_model("procedures", "Dossier").objects.exists():
        rollup_rebuild()


class Migration(migrations.Migration):
    dependencies = [
        ("procedures", "0017_i12a_signed_results_sms"),
    ]

    operations = [
        migrations.CreateModel(
            name="ReportDailyCount",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("day", models.DateField(verbose_name="day")),
                ("received_online", models.IntegerField(default=0)),
                ("received_direct_postal", models.IntegerField(default=0)),
                ("resolved", models.IntegerField(default=0)),
                ("resolved_early", models.IntegerField(default=0)),
                ("resolved_on_time", models.IntegerField(default=0)),
                ("resolved_late", models.IntegerField(default=0)),
                ("withdrawn", models.IntegerField(default=0)),
                ("stopped", models.IntegerField(default=0)),
                ("refused_intake", models.IntegerField(default=0)),
                ("open_delta", models.IntegerField(default=0)),
                ("supplement_delta", models.IntegerField(default=0)),
                ("payment_delta", models.IntegerField(default=0)),
                ("overdue_delta", models.IntegerField(default=0)),
                (
                    "procedure",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to="procedures.procedure",
                        verbose_name="procedure",
                    ),
                ),
            ],
            options={
                "verbose_name": "report daily count",
                "verbose_name_plural": "report daily counts",
                "indexes": [models.Index(fields=["day"], name="report_daily_count_day_idx")],
                "constraints": [
                    models.UniqueConstraint(
                        fields=("procedure", "day"), name="report_daily_count_once"
                    )
                ],
            },
        ),
        migrations.RunPython(fill_rollup, migrations.RunPython.noop, elidable=True),
        migrations.RunPython(raise_statistics, reset_statistics, elidable=False),
    ]
