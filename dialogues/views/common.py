"""What the public and staff dialogue pages share."""

import mimetypes

from django.http import FileResponse, Http404


def download_response(fieldfile, *, filename: str, content_type: str = "") -> FileResponse:
    """A stored file as a download: never rendered by the browser, never sniffed."""
    try:
        handle = fieldfile.open("rb")
    except FileNotFoundError as exc:
        raise Http404("The file is missing from storage.") from exc
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=filename,
        content_type=content_type
        or mimetypes.guess_type(filename)[0]
        or "application/octet-stream",
    )
    response["X-Content-Type-Options"] = "nosniff"
    return response
