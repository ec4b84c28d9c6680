from django.urls import include, path

from procedures.api import calendar, catalogue

app_name = "api"

urlpatterns = [
    path("procedures/", catalogue.ProcedureListView.as_view(), name="procedure-list"),
    path("procedures/<str:code>/", catalogue.ProcedureDetailView.as_view(), name="procedure-detail"),
    path("calendar/due/", calendar.DueView.as_view(), name="calendar-due"),
    path("calendar/year/<int:year>/", calendar.YearView.as_view(), name="calendar-year"),
    path("", include("procedures.api.dossier_urls")),
    path("reports/", include("procedures.api.report_urls")),
]
