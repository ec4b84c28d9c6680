"""`manage.py rebuild_report_rollup`: recompute the report's daily counts
(``ReportDailyCount``) from the dossiers and their event log.

The transitions keep the table up to date themselves; run this after loading dossiers
in bulk (imports, the demo generator, the benchmarks) or to repair it. Idempotent: the
table is replaced in one transaction, so a second run gives the same rows.
"""

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from procedures.reports.rollup import rollup_rebuild


class Command(BaseCommand):
    help = "Recompute the report's per-day, per-procedure counts from the dossiers and events."

    def handle(self, *args, **options):
        rows = rollup_rebuild()
        if options["verbosity"]:
            self.stdout.write(_("Report rollup rebuilt: %(rows)s day rows.") % {"rows": rows})
