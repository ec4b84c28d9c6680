"""Trigram index for searching dossiers by applicant name (PostgreSQL only).

`applicant_name__icontains` becomes UPPER(applicant_name) LIKE UPPER('%…%'), which no
B-tree can answer; a GIN trigram index on the same expression can. SQLite has no such
index and does not need one at its sizes.
"""

from django.db import migrations

CREATE = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS dossier_applicant_name_trgm "
    "ON procedures_dossier USING gin (UPPER(applicant_name) gin_trgm_ops)",
]
DROP = ["DROP INDEX IF EXISTS dossier_applicant_name_trgm"]


def forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("procedures", "0008_dossier_queue_indexes")]
    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
