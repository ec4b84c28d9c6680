from django.urls import include, path

from procedures.calendar import api as calendar
from procedures.catalogue import api as catalogue

app_name = "api"

urlpatterns = [
    path("procedures/", catalogue.ProcedureListView.as_view(), name="procedure-list"),
    path(
        "procedures/<str:code>/", catalogue.ProcedureDetailView.as_view(), name="procedure-detail"
    ),
    path("calendar/due/", calendar.DueView.as_view(), name="calendar-due"),
    path("calendar/year/<int:year>/", calendar.YearView.as_view(), name="calendar-year"),
    path("", include("procedures.dossiers.api_urls")),
    path("reports/", include("procedures.reports.api_urls")),
]
