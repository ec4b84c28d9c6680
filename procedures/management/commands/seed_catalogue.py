"""python manage.py seed_catalogue: units, the bundled procedure list with its required
documents, unit per field.

Idempotent: a second run finds everything in place and creates nothing.
"""

import datetime
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.catalogue.importing import procedure_import_file
from procedures.catalogue.process import process_seed_defaults
from procedures.catalogue.selectors import procedure_documents_coverage
from procedures.catalogue.services import field_assign_implementing_unit, field_canonical_name
from procedures.core.errors import DomainError
from procedures.management.commands.import_procedures import write_report
from procedures.models import Field, Unit

DATA = Path(__file__).resolve().parents[2] / "data"
REFERENCE_CSV = DATA / "procedures_reference.csv"
# Thành phần hồ sơ of the procedures above, from the published procedure texts, with the
# source page of each list (procedures/data/README.md says how it was compiled).
DOCUMENTS_CSV = DATA / "procedure_documents.csv"

# The usual organisation of a provincial Department of Industry and Trade. Unit names
# are proper names in the working language, not interface text, so they are not
# translated. Staff may rename units afterwards: an existing code is never overwritten.
UNITS = [
    ("VP", "Văn phòng Sở (Bộ phận một cửa)", True),
    ("QLCN", "Phòng Quản lý Công nghiệp", False),
    ("QLTM", "Phòng Quản lý Thương mại", False),
    ("KTAT", "Phòng Kỹ thuật an toàn - Môi trường", False),
    ("QLNL", "Phòng Quản lý Năng lượng", False),
    ("TTRA", "Thanh tra Sở", False),
]

# Which unit usually processes each field. A plausible default, not law: departments
# divide the work differently, so staff correct it in the admin and the seed keeps
# their choice on later runs.
UNIT_BY_FIELD = {
    "An toàn thực phẩm": "KTAT",
    "Hóa chất": "KTAT",
    "Kinh doanh khí": "KTAT",
    "Vật liệu nổ công nghiệp, tiền chất thuốc nổ": "KTAT",
    "Công nghiệp địa phương": "QLCN",
    "Công nghiệp nặng": "QLCN",
    "Công nghiệp tiêu dùng": "QLCN",
    "Cụm công nghiệp": "QLCN",
    "Điện": "QLNL",
    "Năng lượng": "QLNL",
    "Dầu khí": "QLNL",
    "An toàn đập, hồ chứa thủy điện": "QLNL",
    "Lưu thông hàng hóa trong nước": "QLTM",
    "Dịch vụ thương mại": "QLTM",
    "Quản lý cạnh tranh": "QLTM",
    "Thương mại quốc tế": "QLTM",
    "Xuất nhập khẩu": "QLTM",
    "Xúc tiến thương mại": "QLTM",
    "Giám định thương mại": "QLTM",
}


class Command(BaseCommand):
    help = _("Create the department's units and import the bundled procedure list.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--file",
            default=str(REFERENCE_CSV),
            help=_("Procedure list to import instead of the bundled reference CSV."),
        )
        parser.add_argument(
            "--documents",
            default=None,
            help=_("List of required documents to import instead of the bundled one."),
        )
        parser.add_argument(
            "--effective-from",
            type=datetime.date.fromisoformat,
            default=None,
            help=_(
                "Date from which the seeded versions are in force (YYYY-MM-DD). The bundled "
                "list records no publishing dates; the default, 1 January of last year, lets "
                "a year of demo dossiers bind to it."
            ),
        )

    def handle(self, *args, **options):
        units_created = 0
        with transaction.atomic():
            for code, name, one_stop in UNITS:
                _unit, created = Unit.objects.get_or_create(
                    code=code, defaults={"name": name, "is_one_stop_desk": one_stop}
                )
                units_created += created
        self.stdout.write(
            _("Units: %(created)d created, %(existing)d already there.")
            % {"created": units_created, "existing": len(UNITS) - units_created}
        )

        try:
            effective_from = options["effective_from"] or datetime.date(
                timezone.localdate().year - 1, 1, 1
            )
            documents = options["documents"] or (DOCUMENTS_CSV if DOCUMENTS_CSV.exists() else None)
            report = procedure_import_file(
                path=options["file"], documents_path=documents, effective_from=effective_from
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        write_report(self, report)
        coverage = procedure_documents_coverage()
        self.stdout.write(
            _(
                "Procedures taking online dossiers: %(with)d with their list of documents, "
                "%(without)d without (the portal says the list is not published and offers "
                "one file slot for the whole dossier)."
            )
            % {"with": coverage["online_with"], "without": coverage["online_without"]}
        )

        units = {u.code: u for u in Unit.objects.filter(code__in=set(UNIT_BY_FIELD.values()))}
        canonical_units = {
            field_canonical_name(name=name)[0]: code for name, code in UNIT_BY_FIELD.items()
        }
        assigned = 0
        for field in Field.objects.all():
            unit_code = canonical_units.get(field_canonical_name(name=field.name)[0])
            if unit_code and unit_code in units:
                assigned += field_assign_implementing_unit(field=field, unit=units[unit_code])
        self.stdout.write(
            _("Implementing unit assigned to %(count)d procedure(s).") % {"count": assigned}
        )
        desk = Unit.objects.filter(is_one_stop_desk=True).order_by("pk").first()
        processes = process_seed_defaults(desk=desk)
        self.stdout.write(
            _("Default internal process given to %(count)d procedure(s).") % {"count": processes}
        )
        if report.rejected:
            raise CommandError(
                _("%(count)d row(s) rejected; the other rows were saved.")
                % {"count": len(report.rejected)}
            )
