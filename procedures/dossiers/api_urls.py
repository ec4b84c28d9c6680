"""Routes of the staff dossier API and the public look-up, under /api/v1/.

`lookup/` comes before `<code>/`, or it would be read as a dossier code. Each action
has its own route (and its own documented request body); any other name answers 404
with the list of known actions.
"""

from django.urls import path

from procedures.dossiers import api as dossiers

urlpatterns = [
    path("dossiers/", dossiers.DossierListView.as_view(), name="dossier-list"),
    path("dossiers/lookup/", dossiers.DossierLookupView.as_view(), name="dossier-lookup"),
    path("dossiers/<str:code>/", dossiers.DossierDetailView.as_view(), name="dossier-detail"),
    *[
        path(
            f"dossiers/<str:code>/actions/{action}/",
            view.as_view(),
            name=f"dossier-action-{action}".replace("_", "-"),
        )
        for action, view in dossiers.ACTION_VIEWS.items()
    ],
    path(
        "dossiers/<str:code>/actions/<str:action>/",
        dossiers.UnknownActionView.as_view(),
        name="dossier-action-unknown",
    ),
]
