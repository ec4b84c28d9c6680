"""Refusing oversized uploads before their body is read.

Django parses a multipart body the first time anything touches `request.POST` (the
CSRF check does, before the view runs) and only then would a form see how many files
came and how big they are. A hostile request of 99 files of 9.9 MB was therefore
received whole before being refused. This middleware runs before the CSRF check:

- a body larger than a whole dossier may be (Content-Length, known before a byte is
  read) is refused at once, unread;
- otherwise `UploadGuardHandler` stands first among the upload handlers and stops the
  parse at the first file over the per-dossier count.

The page says what was refused and why, in the visitor's language; nothing is saved.
Behind nginx the same body limit is `client_max_body_size` (README, Deployment).

A view that stores the files it receives (`uploads_hashed`) also has each file's
SHA-256 computed while its bytes stream in (`DigestUploadHandler`), so storing it does
not read the file back from disk to hash it.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from procedures.core.uploads import megabytes, upload_limits


def request_body_limit() -> int:
    """The largest body accepted: a full dossier's files plus the other form fields."""
    return upload_limits().max_dossier_bytes + settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def too_many_files_error(*, count: int, limit: int) -> ValidationError:
    return ValidationError(
        ngettext(
            "A dossier may hold at most %(limit)d file; this request carried at least %(count)d.",
            "A dossier may hold at most %(limit)d files; this request carried at least %(count)d.",
            limit,
        )
        % {"limit": limit, "count": count},
        code="too_many_files",
    )


def too_large_error(*, size: int) -> ValidationError:
    return ValidationError(
        _(
            "The files sent total %(size)s MB; the files of a dossier may total at most "
            "%(limit)s MB."
        )
        % {"size": megabytes(size), "limit": upload_limits().dossier_mb},
        code="dossier_too_large",
    )


class UploadGuardHandler(FileUploadHandler):
    """First of the upload handlers: counts the files and stops at one too many.

    It stores nothing (the next handlers stream each file to memory or to a temporary
    file); on refusal it records why, and the middleware answers with that.
    """

    def __init__(self, request=None, *, max_files: int):
        super().__init__(request)
        self.max_files = max_files
        self.count = 0
        self.refusal: ValidationError | None = None

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self.count += 1
        if self.count > self.max_files:
            self.refusal = too_many_files_error(count=self.count, limit=self.max_files)
            # connection_reset=False: Django drains the rest (at most the body limit)
            # so that the browser reads the answer instead of a reset connection.
            raise StopUpload(connection_reset=False)

    def receive_data_chunk(self, raw_data, start):
        return raw_data

    def file_complete(self, file_size):
        return None


class DigestUploadHandler(FileUploadHandler):
    """Hashes each file (SHA-256) as its chunks pass on to the handler that keeps them.

    It keeps nothing itself: every chunk goes on unchanged to the next handler (memory
    or temporary file), which makes the file object; the middleware then sets each
    file's `sha256` from the digests recorded here, in the order the files came.
    """

    def __init__(self, request=None):
        super().__init__(request)
        self.digests: dict[str, list[str]] = defaultdict(list)
        self._hasher = hashlib.sha256()

    def new_file(self, *args, **kwargs):
        super().new_file(*args, **kwargs)
        self._hasher = hashlib.sha256()

    def receive_data_chunk(self, raw_data, start):
        self._hasher.update(raw_data)
        return raw_data

    def file_complete(self, file_size):
        self.digests[self.field_name].append(self._hasher.hexdigest())
        return None

    def label(self, files) -> None:
        """Set `sha256` on the parsed files (request.FILES), field by field in order."""
        for field_name, uploads in files.lists():
            for upload, digest in zip(uploads, self.digests.get(field_name, ()), strict=False):
                upload.sha256 = digest


def uploads_hashed(view):
    """Mark a view that stores its uploads: their SHA-256 is computed on receipt."""
    view.uploads_hashed = True
    return view


class UploadGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if request.method not in ("POST", "PUT", "PATCH"):
            return None
        if request.content_type != "multipart/form-data":
            return None  # no files; DATA_UPLOAD_MAX_MEMORY_SIZE bounds these bodies
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > request_body_limit():
            return refused(request, too_large_error(size=length))
        guard = UploadGuardHandler(request, max_files=upload_limits().max_files)
        request.upload_handlers.insert(0, guard)
        digest = None
        if getattr(view_func, "uploads_hashed", False):
            digest = DigestUploadHandler(request)
            request.upload_handlers.insert(1, digest)
        # Parse now, with the guard in place (the CSRF check would do it next anyway).
        request.POST  # noqa: B018
        if guard.refusal is not None:
            return refused(request, guard.refusal)
        if digest is not None:
            digest.label(request.FILES)
        return None


def refused(request, error: ValidationError):
    response = render(
        request,
        "procedures/upload_refused.html",
        {
            "message": error.messages[0],
            "limits": upload_limits(),
            "again_url": request.path,
        },
        status=413,
    )
    return response
