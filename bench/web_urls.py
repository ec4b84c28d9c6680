"""URL conf of bench_web.py (bench/web_settings.py only, never production's).

The project's URLs plus the baselines each public endpoint is divided by, measured in
the same run through the same middleware and gunicorn:

- /bench/bare/: a JSON answer that touches nothing;
- /bench/one/<pk>/: one dossier read by primary key, a few of its fields as JSON;
- /bench/multipart/: receives a multipart POST (the files parsed to temporary files as
  for the online submission) and answers with their sizes.
"""

from django.http import JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path

from config.urls import handler404  # noqa: F401  (the project's own 404 page)
from config.urls import urlpatterns as project_urlpatterns
from procedures.models import Dossier


def bare(request):
    return JsonResponse({"ok": True})


def one_row(request, pk: int):
    dossier = get_object_or_404(Dossier, pk=pk)
    return JsonResponse(
        {
            "code": dossier.code,
            "status": dossier.status,
            "submitted_at": dossier.submitted_at,
            "due_at": dossier.due_at,
        }
    )


def multipart(request):
    if request.method != "POST":
        return JsonResponse({"error": "POST only"}, status=405)
    sizes = {name: [f.size for f in request.FILES.getlist(name)] for name in request.FILES}
    return JsonResponse({"fields": len(request.POST), "files": sizes})


urlpatterns = [
    path("bench/bare/", bare),
    path("bench/one/<int:pk>/", one_row),
    path("bench/multipart/", multipart),
    *project_urlpatterns,
]
