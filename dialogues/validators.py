"""Checks on uploaded files: size before reading, type by content (not by name)."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from dialogues import conf

# Magic numbers of the formats businesses send: PDF, PNG, JPEG, and the Office Open
# XML formats (DOCX/XLSX are ZIP containers).
_SIGNATURES = {
    b"%PDF-": "pdf",
    b"\x89PNG\r\n\x1a\n": "png",
    b"\xff\xd8\xff": "jpeg",
    b"PK\x03\x04": "zip",
}


def sniff_type(upload) -> str | None:
    upload.seek(0)
    head = upload.read(16)
    upload.seek(0)
    for signature, kind in _SIGNATURES.items():
        if head.startswith(signature):
            return kind
    return None


def validate_attachment(upload) -> None:
    limit = conf.upload_max_bytes()
    if upload.size > limit:
        raise ValidationError(
            _("The file is too large (at most %(mb)d MB).") % {"mb": limit // (1024 * 1024)},
            code="too_large",
        )
    if sniff_type(upload) is None:
        raise ValidationError(
            _("Only PDF, Word, Excel, PNG or JPEG files are accepted."), code="bad_type"
        )
