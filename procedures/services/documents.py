"""Storing dossier files: private storage, content hash, sanitised names, versions."""
from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata

from django.core.files.base import ContentFile

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
    the files sent together in one event (the pages of one paper) share a version.
    """
    content = upload.content
    digest = hashlib.sha256(content).hexdigest()
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
        size=len(content),
        content_type=upload.content_type,
        sha256=digest,
        version=(previous or 0) + 1,
        uploaded_by=actor,
        by_applicant=actor is None,
        is_result=is_result,
    )
    doc.file.save("upload", ContentFile(content), save=False)
    doc.save()
    return doc
