"""Identity numbers of applicants (shared by dossiers and dialogue registrations)."""
import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

_CITIZEN_ID = re.compile(r"^\d{12}$")
# Enterprise tax codes: 10 digits, or 13 for a branch (10 digits, optional hyphen, 3).
_TAX_CODE = re.compile(r"^\d{10}(-?\d{3})?$")


def normalize_identity(value: str) -> str:
    return re.sub(r"\s+", "", value or "")


def validate_citizen_id(value: str) -> None:
    """Căn cước công dân: exactly 12 digits."""
    if not _CITIZEN_ID.match(normalize_identity(value)):
        raise ValidationError(
            _("A citizen ID number has exactly 12 digits."), code="invalid_citizen_id"
        )


def validate_tax_code(value: str) -> None:
    """Mã số thuế: 10 digits, or 13 digits for a dependent unit (e.g. 0101234567-001)."""
    if not _TAX_CODE.match(normalize_identity(value)):
        raise ValidationError(
            _("A tax code has 10 digits, or 13 digits for a branch (e.g. 0101234567-001)."),
            code="invalid_tax_code",
        )
