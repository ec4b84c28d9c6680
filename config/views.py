"""Error pages: under /api/ a JSON body like every other API error, elsewhere Django's."""

from django.http import JsonResponse
from django.utils.translation import gettext as _
from django.views import defaults


def page_not_found(request, exception):
    # A URL that matches no route (e.g. /api/v1/dialogues/sessions/abc/) answers like
    # DRF's own 404, with the content type the OpenAPI schema documents.
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": _("Not found.")}, status=404)
    return defaults.page_not_found(request, exception)
