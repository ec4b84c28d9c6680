"""Checking the files the public uploads: size first, then the type from the content.

Order matters (style.md, Open Forms habit): the size is known before a byte is read,
so an oversized file is refused without parsing it; the type is then read from the
first bytes (magic numbers), never trusted from the name or the browser's
Content-Type; the name is sanitised last and must agree with the content.
No python-magic: it needs libmagic, and five signatures are enough here.
"""
from __future__ import annotations

import os
import zipfile
from dataclasses import dataclass
from typing import IO, Iterable

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.services.documents import sanitize_filename
from procedures.services.dossiers import UploadedDocument

MB = 1024 * 1024


@dataclass(frozen=True)
class FileType:
    key: str
    label: str
    extensions: tuple[str, ...]
    content_type: str


FILE_TYPES: dict[str, FileType] = {
    t.key: t
    for t in [
        FileType("pdf", "PDF", (".pdf",), "application/pdf"),
        FileType("jpeg", "JPEG", (".jpg", ".jpeg"), "image/jpeg"),
        FileType("png", "PNG", (".png",), "image/png"),
        FileType(
            "docx", "DOCX", (".docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        FileType(
            "xlsx", "XLSX", (".xlsx",),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        ),
    ]
}

_PNG = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class UploadLimits:
    max_file_bytes: int
    max_dossier_bytes: int
    max_files: int
    types: tuple[FileType, ...]

    @property
    def file_mb(self) -> int:
        return self.max_file_bytes // MB

    @property
    def dossier_mb(self) -> int:
        return self.max_dossier_bytes // MB

    @property
    def type_labels(self) -> str:
        return ", ".join(t.label for t in self.types)

    @property
    def accept(self) -> str:
        """Value of the input's `accept` attribute, so phones offer the right files."""
        exts = [e for t in self.types for e in t.extensions]
        return ",".join(exts + [t.content_type for t in self.types])


def upload_limits() -> UploadLimits:
    """Read at call time so override_settings in tests and env changes apply."""
    unknown = [k for k in settings.PORTAL_UPLOAD_TYPES if k not in FILE_TYPES]
    if unknown:
        raise ValueError(
            f"PORTAL_UPLOAD_TYPES has unknown types {unknown}; known: {sorted(FILE_TYPES)}"
        )
    return UploadLimits(
        max_file_bytes=settings.PORTAL_UPLOAD_MAX_FILE_MB * MB,
        max_dossier_bytes=settings.PORTAL_UPLOAD_MAX_DOSSIER_MB * MB,
        max_files=settings.PORTAL_UPLOAD_MAX_FILES,
        types=tuple(FILE_TYPES[k] for k in settings.PORTAL_UPLOAD_TYPES),
    )


def megabytes(size: int) -> str:
    # number_format cuts off digits; round first so 1.17 MB reads 1.2, not 1.1.
    return number_format(round(size / MB, 1), decimal_pos=1)


def sniff_type(fileobj: IO[bytes]) -> str | None:
    """The key of FILE_TYPES that the content is, or None. Leaves the position at 0."""
    fileobj.seek(0)
    head = fileobj.read(8)
    fileobj.seek(0)
    try:
        if head.startswith(b"%PDF-"):
            return "pdf"
        if head.startswith(b"\xff\xd8\xff"):
            return "jpeg"
        if head.startswith(_PNG):
            return "png"
        if head.startswith(b"PK\x03\x04"):
            return _office_type(fileobj)
        return None
    finally:
        fileobj.seek(0)


def _office_type(fileobj: IO[bytes]) -> str | None:
    # DOCX and XLSX are ZIP packages; only the central directory is read (no member
    # is decompressed, so a zip bomb costs nothing here).
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    if "[Content_Types].xml" not in names:
        return None
    # Macro-enabled documents (.docm/.xlsm) carry a VBA project: not accepted.
    if any(n.endswith("vbaProject.bin") for n in names):
        return None
    if any(n.startswith("word/") for n in names):
        return "docx"
    if any(n.startswith("xl/") for n in names):
        return "xlsx"
    return None


def check_upload(upload, *, slot_id: int | None, limits: UploadLimits | None = None
                 ) -> UploadedDocument:
    """One file from a form, checked; raises ValidationError naming the file and the rule."""
    limits = limits or upload_limits()
    name = sanitize_filename(upload.name or "")
    size = upload.size
    if size is None or size > limits.max_file_bytes:
        raise ValidationError(
            _("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.")
            % {"name": name, "size": megabytes(size or 0),
               "limit": settings.PORTAL_UPLOAD_MAX_FILE_MB},
            code="file_too_large",
        )
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="file_empty")
    kind = sniff_type(upload)
    allowed = {t.key for t in limits.types}
    if kind is None or kind not in allowed:
        raise ValidationError(
            _("“%(name)s” is not a %(types)s file (its content was checked, not only its "
              "name). Save or scan it in one of these formats and attach it again.")
            % {"name": name, "types": limits.type_labels},
            code="file_type",
        )
    file_type = FILE_TYPES[kind]
    stem, ext = os.path.splitext(name)
    ext = ext.lower()
    if not ext:
        name = f"{name}{file_type.extensions[0]}"
    elif ext not in file_type.extensions:
        raise ValidationError(
            _("“%(name)s” is named as a %(ext)s file but its content is %(label)s. "
              "Attach the right file, or rename it to end in %(right)s.")
            % {"name": name, "ext": ext, "label": file_type.label,
               "right": file_type.extensions[0]},
            code="file_name_mismatch",
        )
    upload.seek(0)
    content = b"".join(upload.chunks())
    return UploadedDocument(slot_id=slot_id, name=name, content=content,
                            content_type=file_type.content_type)


def check_totals(documents: Iterable[UploadedDocument], *, existing_count: int = 0,
                 existing_bytes: int = 0, limits: UploadLimits | None = None) -> None:
    """The per-dossier limits: number of files and their total size."""
    limits = limits or upload_limits()
    documents = list(documents)
    count = existing_count + len(documents)
    if count > limits.max_files:
        raise ValidationError(
            ngettext(
                "A dossier may hold at most %(limit)d file; this would make %(count)d.",
                "A dossier may hold at most %(limit)d files; this would make %(count)d.",
                limits.max_files,
            ) % {"limit": limits.max_files, "count": count},
            code="too_many_files",
        )
    total = existing_bytes + sum(len(d.content) for d in documents)
    if total > limits.max_dossier_bytes:
        raise ValidationError(
            _("The files of a dossier may total at most %(limit)s MB; these make %(size)s MB.")
            % {"limit": settings.PORTAL_UPLOAD_MAX_DOSSIER_MB, "size": megabytes(total)},
            code="dossier_too_large",
        )
