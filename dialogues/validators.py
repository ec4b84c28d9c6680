"""Checks on the files businesses attach: the portal's own (procedures/core/uploads.py).

Size before reading, type by content, Office packages checked for zip bombs, PDFs
through their structure, names sanitised and matching the content. Only the limit on
a file's size is the dialogues' own (DIALOGUE_UPLOAD_MAX_BYTES).
"""

from django import forms

from dialogues import conf
from procedures.core.uploads import FILE_TYPES, UploadLimits, check_upload
from procedures.dossiers.services import UploadedDocument

# The formats businesses send: PDF, Word, Excel, PNG, JPEG (no macros, no archives).
ATTACHMENT_TYPES = ("pdf", "docx", "xlsx", "png", "jpeg")

# Magic numbers used by the XLSX import (imports.py), which reads its own format.
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


def attachment_limits() -> UploadLimits:
    limit = conf.upload_max_bytes()
    return UploadLimits(
        max_file_bytes=limit,
        max_dossier_bytes=limit,
        max_files=1,
        types=tuple(FILE_TYPES[k] for k in ATTACHMENT_TYPES),
    )


def check_attachment(upload) -> UploadedDocument:
    """The portal's checks with the dialogues' limits; raises a translated ValidationError."""
    return check_upload(upload, slot_id=None, limits=attachment_limits())


class AttachmentField(forms.FileField):
    """A file field that cleans to a checked `UploadedDocument` (or None)."""

    def clean(self, data, initial=None):
        upload = super().clean(data, initial)
        return check_attachment(upload) if upload else None
