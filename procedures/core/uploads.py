"""Checking the files the public uploads: size first, then the type from the content.

Order matters (style.md, Open Forms habit): the request's size and number of files
are checked before its body is parsed (`UploadGuardMiddleware`, `UploadGuardHandler`),
and Django streams every file to a temporary file; a file's size is then known before
a byte of it is read, so an oversized file is refused without parsing it; the type is
read from the first bytes (magic numbers), never trusted from the name or the
browser's Content-Type; packages and PDFs are then checked through their structure
(zip bombs, PDF/HTML polyglots, scripts); the name is sanitised last and must agree
with the content. Content is only ever read in chunks.
No python-magic: it needs libmagic, and five signatures are enough here.
"""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.core import pdfcheck
from procedures.dossiers.documents import sanitize_filename
from procedures.dossiers.services import UploadedDocument

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
            "docx",
            "DOCX",
            (".docx",),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
        FileType(
            "xlsx",
            "XLSX",
            (".xlsx",),
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
    # is decompressed, so a zip bomb costs nothing here; check_archive refuses it).
    try:
        with zipfile.ZipFile(fileobj) as archive:
            names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
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


# Zip bombs: limits on what the package says it holds, read from the central directory
# without inflating a byte. A real Word or Excel file inflates its XML 5-20 times;
# Apache POI (which reads these formats for a living) refuses members inflating more
# than 100 times, and so does this check, past a first megabyte where tiny members
# of repeated XML legitimately reach high ratios.
ARCHIVE_MAX_RATIO = 100
ARCHIVE_RATIO_FLOOR = MB
ARCHIVE_MAX_MEMBERS = 2000
# DEFLATE never grows data by more than 5 bytes per 16 KB block, so a member whose
# compressed size exceeds its declared size by more than that lies about its size,
# which is how a bomb hides from checks like the ones above.
_DEFLATE_OVERHEAD = 5 / 16384


def check_archive(fileobj: IO[bytes], *, name: str) -> None:
    """Refuse an Office package that would inflate beyond the limits when opened."""
    limit = settings.PORTAL_UPLOAD_MAX_UNCOMPRESSED_MB * MB
    refused = ValidationError(
        _(
            "“%(name)s” would expand to more than %(limit)s MB when opened, or its "
            "compressed content is not what it declares. It was refused as a possible "
            "“zip bomb”; save the document again from Word or Excel and attach it."
        )
        % {"name": name, "limit": settings.PORTAL_UPLOAD_MAX_UNCOMPRESSED_MB},
        code="archive_bomb",
    )
    fileobj.seek(0)
    try:
        with zipfile.ZipFile(fileobj) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise refused from None
    finally:
        fileobj.seek(0)
    if len(members) > ARCHIVE_MAX_MEMBERS:
        raise refused
    total = 0
    for member in members:
        if member.flag_bits & 0x1:  # encrypted: its content cannot be checked
            raise refused
        if member.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise refused
        size, packed = member.file_size, member.compress_size
        if size > limit or packed > size * (1 + _DEFLATE_OVERHEAD) + 64:
            raise refused
        if size > ARCHIVE_RATIO_FLOOR and size > packed * ARCHIVE_MAX_RATIO:
            raise refused
        total += size
        if total > limit:
            raise refused


# PDF/HTML polyglots: a file that a PDF reader opens and a browser renders as a page.
# Markers of web content are looked for in the raw bytes, where a polyglot must keep
# them in clear; in a real PDF they could only come from an uncompressed text stream.
# The opening of an HTML element (any case, spaces allowed after "<") or a javascript:
# URL. Looked for in the lower-cased bytes (bytes.lower folds ASCII only, as the
# IGNORECASE of a bytes pattern does) with a pattern that starts with a literal "<",
# which the regular expression engine skips to quickly, and the URL as a plain
# substring: the same matches as one case-insensitive alternation, about 25 times
# faster on a 1 MB scan (that alternation costs ~30 ms a megabyte).
_WEB_TAGS = re.compile(rb"<\s*(?:html|script|body|iframe|object|embed|svg|meta|!doctype)[\s>/]")
_WEB_URL = b"javascript:"
_MARKER_OVERLAP = 64


def _has_web_marker(window: bytes) -> bool:
    lowered = window.lower()
    return _WEB_URL in lowered or _WEB_TAGS.search(lowered) is not None


def _pdf_refused(name: str) -> ValidationError:
    return ValidationError(
        _(
            "“%(name)s” is not a plain PDF document: it is damaged, or it holds web-page "
            "code, scripts or embedded files. Print it to PDF again (or scan the paper "
            "copy) and attach the new file."
        )
        % {"name": name},
        code="pdf_unsafe",
    )


def check_pdf(fileobj: IO[bytes], *, name: str) -> None:
    """Refuse a PDF that is not a PDF throughout, or that carries active content.

    The structure is read with pypdf: pure Python (no compiled qpdf to keep patched on
    the servers, unlike pikepdf), maintained, already used by the tests, and it reads
    the cross-reference table lazily, so a 10 MB scan is checked by seeking, not by
    loading it. It is lenient with the small defects of real scanners' output (it
    rebuilds a broken cross-reference table) but fails on anything that is not a PDF.
    It runs in the worker's checker process (pdfcheck.checker), or where none can be
    started in a capped child forked for the file (_run_capped).
    """
    fileobj.seek(0)
    tail = b""
    for chunk in iter(lambda: fileobj.read(256 * 1024), b""):
        window = tail + chunk
        if _has_web_marker(window):
            raise _pdf_refused(name)
        tail = window[-_MARKER_OVERLAP:]
    # A PDF ends with %%EOF; readers look for it in the last 1024 bytes.
    size = fileobj.seek(0, os.SEEK_END)
    fileobj.seek(max(0, size - 1024))
    found = b"%%EOF" in fileobj.read()
    fileobj.seek(0)
    if not found:
        raise _pdf_refused(name)
    try:
        verdict = pdfcheck.checker.verdict(fileobj)
    except OSError:
        verdict = _forked_verdict(fileobj)
    finally:
        fileobj.seek(0)
    if verdict != pdfcheck.PDF_OK:
        raise _pdf_refused(name)


def _forked_verdict(fileobj: IO[bytes]) -> int:
    """The check in a child forked for this file, under the checker's caps (where no
    checker process can run). pypdf is imported in the worker, once: each child
    inherits it instead of importing it afresh (about 0.2 s, more than the parse)."""
    import pypdf  # noqa: F401

    fileobj.seek(0)
    return _run_capped(
        lambda: pdfcheck.structure_verdict(fileobj),
        memory_bytes=pdfcheck.PDF_CHECK_MEMORY_BYTES,
        cpu_seconds=pdfcheck.PDF_CHECK_CPU_SECONDS,
    )


def _run_capped(check: Callable[[], int], *, memory_bytes: int, cpu_seconds: int) -> int:
    """Run `check` in a forked child whose extra memory and CPU time are capped.

    The child shares nothing it could harm: it only reads the upload (a copy of an
    in-memory one, or the same temporary file, rewound by the caller) and answers by
    its exit code; it leaves with os._exit so that no database connection, atexit hook
    or buffered output of the worker is touched. Any failure in it (out of memory,
    out of CPU time, a crash) is a refusal. Where fork is missing, it runs in-process.
    """
    if not hasattr(os, "fork"):
        return check()
    pid = os.fork()
    if pid == 0:  # the child
        code = pdfcheck.PDF_REFUSED
        try:
            import resource

            pdfcheck.cap_memory(resource, memory_bytes)
            resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds + 1))
            code = check()
        except BaseException:  # noqa: BLE001 - any failure of the child is a refusal
            code = pdfcheck.PDF_REFUSED
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


def check_upload(
    upload, *, slot_id: int | None, limits: UploadLimits | None = None
) -> UploadedDocument:
    """One file from a form, checked; raises ValidationError naming the file and the rule.

    The file stays where Django put it (a temporary file above
    FILE_UPLOAD_MAX_MEMORY_SIZE) and is only read in chunks or by seeking.
    """
    limits = limits or upload_limits()
    name = sanitize_filename(upload.name or "")
    size = upload.size
    if size is None or size > limits.max_file_bytes:
        raise ValidationError(
            _("“%(name)s” is %(size)s MB; a file may be at most %(limit)s MB.")
            % {"name": name, "size": megabytes(size or 0), "limit": limits.file_mb},
            code="file_too_large",
        )
    if size == 0:
        raise ValidationError(_("“%(name)s” is empty.") % {"name": name}, code="file_empty")
    kind = sniff_type(upload)
    allowed = {t.key for t in limits.types}
    if kind is None or kind not in allowed:
        raise ValidationError(
            _(
                "“%(name)s” is not a %(types)s file (its content was checked, not only its "
                "name). Save or scan it in one of these formats and attach it again."
            )
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
            _(
                "“%(name)s” is named as a %(ext)s file but its content is %(label)s. "
                "Attach the right file, or rename it to end in %(right)s."
            )
            % {
                "name": name,
                "ext": ext,
                "label": file_type.label,
                "right": file_type.extensions[0],
            },
            code="file_name_mismatch",
        )
    if kind in ("docx", "xlsx"):
        check_archive(upload, name=name)
    elif kind == "pdf":
        check_pdf(upload, name=name)
    upload.seek(0)
    return UploadedDocument(
        slot_id=slot_id,
        name=name,
        file=upload,
        content_type=file_type.content_type,
        # Taken as the bytes arrived (uploads_hashed views); the checks above only read.
        sha256=getattr(upload, "sha256", ""),
    )


def check_totals(
    documents: Iterable[UploadedDocument],
    *,
    existing_count: int = 0,
    existing_bytes: int = 0,
    limits: UploadLimits | None = None,
) -> None:
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
            )
            % {"limit": limits.max_files, "count": count},
            code="too_many_files",
        )
    total = existing_bytes + sum(d.size for d in documents)
    if total > limits.max_dossier_bytes:
        raise ValidationError(
            _("The files of a dossier may total at most %(limit)s MB; these make %(size)s MB.")
            % {"limit": settings.PORTAL_UPLOAD_MAX_DOSSIER_MB, "size": megabytes(total)},
            code="dossier_too_large",
        )
