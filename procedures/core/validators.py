"""Identity numbers of applicants (shared by dossiers and dialogue registrations)."""

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from stdnum.exceptions import InvalidChecksum
from stdnum.exceptions import ValidationError as NumberError
from stdnum.vn import mst

_CITIZEN_ID = re.compile(r"^\d{12}$")


def normalize_identity(value: str) -> str:
    return re.sub(r"\s+", "", value or "")


def validate_citizen_id(value: str) -> None:
    """Căn cước công dân: exactly 12 digits."""
    if not _CITIZEN_ID.match(normalize_identity(value)):
        raise ValidationError(
            _("A citizen ID number has exactly 12 digits."), code="invalid_citizen_id"
        )


def validate_tax_code(value: str) -> None:
    """Mã số thuế: 10 digits, or 13 for a dependent unit (e.g. 0100109106-001).

    The tenth digit is a check digit over the first nine; python-stdnum knows the rule,
    so a mistyped code is caught at the desk rather than at the tax office.
    """
    try:
        mst.validate(normalize_identity(value))
    except InvalidChecksum:
        raise ValidationError(
            _(
                "This tax code's check digit is wrong: please check the number on the "
                "business registration certificate."
            ),
            code="invalid_tax_code_checksum",
        ) from None
    except NumberError:
        raise ValidationError(
            _("A tax code has 10 digits, or 13 digits for a branch (e.g. 0101234567-001)."),
            code="invalid_tax_code",
        ) from None
