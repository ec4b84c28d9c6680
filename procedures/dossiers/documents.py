"""Storing dossier files: private storage, content hash, sanitised names, versions."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from django.core.files.base import ContentFile, File

from procedures.models import DossierDocument


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
