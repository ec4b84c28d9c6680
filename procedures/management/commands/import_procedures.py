"""manage.py import_procedures FILE [--documents FILE] [--decision N] [--decision-date D]
[--effective-from D]"""

import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.translation import gettext as _

from procedures.catalogue.importing import ImportReport, procedure_import_file
from procedures.core.errors import DomainError


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError as exc:
        raise CommandError(_("%(value)s is not a date (YYYY-MM-DD).") % {"value": value}) from exc


def write_report(command: BaseCommand, report: ImportReport) -> None:
    """Counts, then every rejected row with its reason: staff fix the file from this."""
    command.stdout.write(
        _(
            "Created: %(created)d, updated: %(updated)d, unchanged: %(unchanged)d, "
            "rejected: %(rejected)d"
        )
        % {
            "created": report.created,
            "updated": report.updated,
            "unchanged": report.unchanged,
            "rejected": len(report.rejected),
        }
    )
    if report.documents_set is not None:
        command.stdout.write(
            _("Required documents: %(set)d list(s) written or changed, %(unchanged)d unchanged.")
            % {"set": report.documents_set, "unchanged": report.documents_unchanged}
        )
    for rejection in report.rejected:
        values = {"row": rejection.row, "name": rejection.name or "-", "reason": rejection.reason}
        if rejection.sheet == "documents":
            command.stderr.write(
                _("Documents row %(row)d rejected (%(name)s): %(reason)s") % values
            )
        else:
            command.stderr.write(_("Row %(row)d rejected (%(name)s): %(reason)s") % values)


class Command(BaseCommand):
    help = _(
        "Import a published procedure list (CSV or XLSX with the columns of "
        "procedures/data/procedures_reference.csv) and its required documents (a "
        '"documents" sheet of the XLSX, or --documents FILE with the columns of '
        "procedures/data/procedure_documents.csv). Safe to run again: existing "
        "procedures are matched by national code, or by name within the field."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help=_("CSV (UTF-8) or XLSX file"))
        parser.add_argument(
            "--documents",
            default=None,
            help=_("CSV (UTF-8) or XLSX list of required documents, one row per document."),
        )
        parser.add_argument(
            "--decision",
            default=None,
            help=_('Number of the publishing decision; default "import <file name>".'),
        )
        parser.add_argument("--decision-date", type=_date, default=None, help=_("YYYY-MM-DD"))
        parser.add_argument(
            "--effective-from",
            type=_date,
            default=None,
            help=_("Date the listed values take effect (YYYY-MM-DD); default today."),
        )

    def handle(self, *args, **options):
        try:
            report = procedure_import_file(
                path=options["file"],
                documents_path=options["documents"],
                decision_number=options["decision"],
                decision_date=options["decision_date"],
                effective_from=options["effective_from"],
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        write_report(self, report)
        if report.rejected:
            # Non-zero exit so a script or CI notices; the good rows are already saved.
            raise CommandError(
                _("%(count)d row(s) rejected; the other rows were saved.")
                % {"count": len(report.rejected)}
            )
