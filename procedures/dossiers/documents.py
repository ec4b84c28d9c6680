"""Storing dossier files: private storage, content hash, sanitised names, versions."""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata

from django.core.files.base import ContentFile, File
from django.utils.translation import gettext as _

from procedures.models import DossierDocument

logger = logging.getLogger(__name__)


def sanitize_filename(name: str, *, max_length: int = 120) -> str:
    """Keep a readable name but drop any path, control character or odd symbol."""
    name = (name or "").replace("\\", "/").split("/")[-1]
    name = unicodedata.normalize("NFC", name)
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = re.sub(r"[^\w.\- ()]+", "_", name, flags=re.UNICODE).strip(" .")
    name = re.sub(r"\.{2,}", ".", name)
    if not name:
        name = "file"
    if len(name) > max_length:
        stem, dot, ext = name.rpartition(".")
        name = (stem[: max_length - len(ext) - 1] + "." + ext) if dot else name[:max_length]
    return name


def document_store(*, dossier, upload, event=None, actor=None, is_result: bool = False):
    """Save one checked upload in the slot (required document) it answers.

    A file sent later for the same slot (a supplement) is that document's next version;
    the files sent together in one event (the pages of one paper) share a version. The
    content is hashed and copied chunk by chunk: a 10 MB scan streamed to a temporary
    file by Django is never held whole in the worker's memory.
    """
    hasher = hashlib.sha256()
    for chunk in upload.chunks():
        hasher.update(chunk)
    digest = hasher.hexdigest()
    earlier = DossierDocument.objects.filter(
        dossier=dossier, slot_id=upload.slot_id, is_result=is_result
    )
    if event is not None:
        earlier = earlier.exclude(event=event)
    previous = earlier.order_by("-version").values_list("version", flat=True).first()
    doc = DossierDocument(
        dossier=dossier,
        slot_id=upload.slot_id,
        event=event,
        token=secrets.token_hex(8),
        original_name=sanitize_filename(upload.name),
        size=upload.size,
        content_type=upload.content_type,
        sha256=digest,
        version=(previous or 0) + 1,
        uploaded_by=actor,
        by_applicant=actor is None,
        is_result=is_result,
    )
    doc.file.save("upload", stored_content(upload), save=False)
    doc.save()
    return doc


def stored_content(upload) -> File:
    """What the storage copies: the bytes, or the upload's file rewound.

    Wrapped in a plain File so the storage copies it in chunks instead of moving
    Django's temporary file away (the same upload may be stored again on a retry).
    """
    if upload.content is not None:
        return ContentFile(upload.content)
    upload.file.seek(0)
    return File(upload.file)


def document_result_signed(*, document: DossierDocument) -> DossierDocument:
    """The result as the applicant gets it: a PDF result signed by the department.

    Signed on its first download and the signed copy kept (`signed_file`), so every
    later download is the same bytes. Two first downloads at once may both sign; the
    first copy saved wins and the other is dropped. Not a PDF, no certificate
    configured, or a PDF that cannot be signed (encrypted, broken; logged): the file
    as uploaded, with `signed_file` empty.
    """
    from procedures.core import signing

    if document.signed_file or not document.is_result or not document.is_pdf:
        return document
    if not signing.signing_configured():
        return document
    from pyhanko.pdf_utils.misc import PdfError

    with document.file.open("rb") as handle:
        data = handle.read()
    reason = _("Result of dossier %(code)s") % {"code": document.dossier.code}
    try:
        signed = signing.pdf_sign(data, reason=reason)
    except (signing.SigningError, PdfError, ValueError) as exc:
        logger.error(
            "result %s of dossier %s left unsigned: %s", document.pk, document.dossier_id, exc
        )
        return document
    document.signed_file.save("signed", ContentFile(signed), save=False)
    saved = DossierDocument.objects.filter(pk=document.pk, signed_file="").update(
        signed_file=document.signed_file.name
    )
    if not saved:
        # Another download signed it first: serve that copy, drop ours.
        document.signed_file.storage.delete(document.signed_file.name)
        document.refresh_from_db(fields=["signed_file"])
    return document
