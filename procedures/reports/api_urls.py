"""Routes of the report API, included at /api/v1/reports/."""

from django.urls import path

from procedures.reports import api as reports

urlpatterns = [
    path("monthly/", reports.MonthlyReportView.as_view(), name="report-monthly"),
]
