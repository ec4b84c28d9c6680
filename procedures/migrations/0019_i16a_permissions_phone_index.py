"""Drop the dossier permissions nothing checked, and index the applicant's phone.

`act_on_dossier` and `view_all_dossiers` were granted to groups but no code asked for
them: what a user may do and see follows their role (procedures/dossiers/actions.py,
procedures/dossiers/selectors.py). Their rows go, and with them the groups' grants.
The search finds a dossier by phone (dossier_search_filter), so the phone is indexed.
"""

from django.db import migrations, models

UNCHECKED = ("act_on_dossier", "view_all_dossiers")


def drop_unchecked_permissions(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(
        content_type__app_label="procedures",
        content_type__model="dossier",
        codename__in=UNCHECKED,
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("procedures", "0018_i13b_report_daily_count"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="dossier",
            options={
                "ordering": ["-submitted_at", "-id"],
                "permissions": [("view_reports", "Can see statistics and reports")],
                "verbose_name": "dossier",
                "verbose_name_plural": "dossiers",
            },
        ),
        # Nothing to restore on the way back: post_migrate recreates declared permissions.
        migrations.RunPython(drop_unchecked_permissions, migrations.RunPython.noop),
        migrations.AddIndex(
            model_name="dossier",
            index=models.Index(fields=["applicant_phone"], name="dossier_applicant_phone_idx"),
        ),
    ]
