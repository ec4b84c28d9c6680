"""Storing dossier files: private storage, content hash, sanitised names, versions."""

from __future__ import annotations

import hashlib
import logging
import os
import re
import secrets
import unicodedata

from django.core.files.base import ContentFile, File
from django.db.models import Max
from django.utils.translation import gettext as _

from procedures.core.prepared import insert_rows
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
    """Save one checked upload in the slot (required document) it answers."""
    return documents_store(
        dossier=dossier, uploads=[upload], event=event, actor=actor, is_result=is_result
    )[0]


def documents_store(
    *,
    dossier,
    uploads,
    event=None,
    actor=None,
    is_result: bool = False,
    new_dossier: bool = False,
) -> list[DossierDocument]:
    """Save checked uploads, each in the slot (required document) it answers.

    A file sent later for the same slot (a supplement) is that document's next version;
    the files sent together in one event (the pages of one paper) share a version: the
    versions are read in one query (none for a dossier created in this transaction,
    `new_dossier`) and the rows inserted in one statement. Each content is hashed in
    chunks, and a file Django streamed to a temporary file is moved into the storage,
    not copied (stored_content): a 10 MB scan is never held whole in the worker's memory
    nor written twice. Call inside the transaction that records the event, and delete
    the files (documents_discard) if it does not commit: the storage is not transactional.
    """
    uploads = list(uploads)
    if not uploads:
        return []
    latest: dict[int | None, int] = {}
    if not new_dossier:
        earlier = DossierDocument.objects.filter(dossier=dossier, is_result=is_result)
        if event is not None:
            earlier = earlier.exclude(event=event)
        latest = dict(earlier.order_by().values_list("slot_id").annotate(Max("version")))
    docs = []
    try:
        for upload in uploads:
            digest = upload.sha256
            if not digest:
                hasher = hashlib.sha256()
                for chunk in upload.chunks():
                    hasher.update(chunk)
                digest = hasher.hexdigest()
            doc = DossierDocument(
                dossier=dossier,
                slot_id=upload.slot_id,
                event=event,
                token=secrets.token_hex(8),
                original_name=sanitize_filename(upload.name),
                size=upload.size,
                content_type=upload.content_type,
                sha256=digest,
                version=latest.get(upload.slot_id, 0) + 1,
                uploaded_by=actor,
                by_applicant=actor is None,
                is_result=is_result,
            )
            if event is None:  # no event to share: each file is a version of its own
                latest[upload.slot_id] = doc.version
            doc.file.save("upload", stored_content(upload), save=False)
            docs.append(doc)
            _written_through(doc.file)
        insert_rows(docs)  # one fixed, prepared statement (procedures/core/prepared.py)
        return docs
    except BaseException:
        documents_discard(docs)
        raise


def _written_through(field_file) -> None:
    """Start writing a stored file to disk now, and let its pages leave the page cache.

    Left to the kernel, the files of a busy hour pile up in memory as dirty pages
    (gigabytes under load) and are then flushed in bursts; each burst queues the
    database's commits behind it (each registration waits for its commit to reach the
    disk), and commits stalled for up to a third of a second (issue 13, measured: 6-13 %
    of the CPU idle in iowait at 125 submissions/s). POSIX_FADV_DONTNEED starts the
    write-back of the file at once, without waiting for it, and drops whatever of it is
    already clean from the cache: nobody reads a stored file again soon. Only where the
    storage is a local file system and the call exists (Linux); never an error for the
    caller.
    """
    advise = getattr(os, "posix_fadvise", None)
    if advise is None:
        return
    try:
        path = field_file.path
    except (NotImplementedError, ValueError):  # a remote storage, or no file
        return
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        advise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    except OSError:
        logger.debug("could not start the write-back of %s", path, exc_info=True)
    finally:
        os.close(fd)


def documents_discard(documents) -> None:
    """Delete the stored files of documents whose rows were not committed."""
    for doc in documents:
        if doc.file.name:
            try:
                doc.file.storage.delete(doc.file.name)
            except OSError:
                logger.exception("could not delete the stored file %s", doc.file.name)


def stored_content(upload) -> File:
    """What the storage saves: the bytes, Django's temporary file (moved), or a copy.

    A file Django streamed to a temporary file is handed over as such, so that the
    file system storage moves it into place (a rename on the same file system) instead
    of copying it in chunks; its open handle still reads the same content afterwards.
    If it was moved already (the same upload stored a second time), the open handle
    is copied in chunks, wrapped in a plain File so that the storage does not try to
    move it again.
    """
    if upload.content is not None:
        return ContentFile(upload.content)
    path = getattr(upload.file, "temporary_file_path", None)
    if path is not None and os.path.exists(path()):
        return upload.file
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
