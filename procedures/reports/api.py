"""Report API: GET /api/v1/reports/monthly/?month=YYYY-MM&by=field|procedure|unit|officer.

Staff with ``procedures.view_reports`` only. JSON by default (rows, each with its
figures and, by field, its procedures; the total row; the column keys), or the files
with ``format=xlsx`` / ``format=csv`` (the same as the admin's downloads). ``period``
may replace ``month`` for a quarter (YYYY-Qn) or year (YYYY). Definitions of every
column: procedures/reports/selectors.py.
"""

from __future__ import annotations

from django.http import HttpResponse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication, TokenAuthentication
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.renderers import BaseRenderer, BrowsableAPIRenderer, JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from procedures.core.errors import DomainError
from procedures.reports import export
from procedures.reports.selectors import (
    BY_CHOICES,
    BY_PROCEDURE,
    COLUMN_KEYS,
    RATE_KEYS,
    STEP_KEYS,
    Period,
    report_monthly,
)


class CanViewReports(BasePermission):
    message = _("Seeing reports needs the “Can see statistics and reports” permission.")

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("procedures.view_reports"))


class _FileRenderer(BaseRenderer):
    """Lets ``?format=xlsx|csv`` through content negotiation; the view builds the bytes."""

    charset = None

    def render(self, data, accepted_media_type=None, renderer_context=None):
        return data if isinstance(data, bytes) else b""


class XLSXRenderer(_FileRenderer):
    media_type = export.XLSX_CONTENT_TYPE
    format = "xlsx"


class CSVRenderer(_FileRenderer):
    media_type = "text/csv"
    format = "csv"


# --- schema only: what the JSON looks like -------------------------------------------

_figures = {key: serializers.IntegerField() for key in COLUMN_KEYS}
_figures.update({key: serializers.FloatField(allow_null=True) for key in RATE_KEYS})
_figures.update({key: serializers.IntegerField(required=False) for key in STEP_KEYS})
FiguresSerializer = type("ReportFiguresSerializer", (serializers.Serializer,), _figures)


class ReportRowSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["field", "procedure", "unit", "officer", "total"])
    key = serializers.CharField(
        help_text="field:<id>, procedure:<id>, unit:<id>|none, officer:<id>|none or total"
    )
    label = serializers.CharField()
    code = serializers.CharField(
        help_text="Ministry field code, national procedure code, unit code or username"
    )
    figures = FiguresSerializer()
    children = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text="By procedure: the field's procedures.",
    )


class PeriodSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(["month", "quarter", "year"])
    key = serializers.CharField()
    start = serializers.DateField()
    end = serializers.DateField()


class MonthlyReportSerializer(serializers.Serializer):
    period = PeriodSerializer()
    by = serializers.ChoiceField(BY_CHOICES)
    columns = serializers.ListField(child=serializers.CharField())
    rows = ReportRowSerializer(many=True)
    total = ReportRowSerializer()
    generated_at = serializers.DateTimeField()


class ReportErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()
    field = serializers.CharField(allow_null=True)
    code = serializers.CharField(allow_null=True)


class MonthlyReportView(APIView):
    authentication_classes = [TokenAuthentication, SessionAuthentication]
    permission_classes = [IsAuthenticated, CanViewReports]
    renderer_classes = [JSONRenderer, BrowsableAPIRenderer, XLSXRenderer, CSVRenderer]

    def finalize_response(self, request, response, *args, **kwargs):
        # Errors (400, 401, 403) stay JSON even when a file was asked for.
        if isinstance(response, Response) and isinstance(
            getattr(request, "accepted_renderer", None), _FileRenderer
        ):
            request.accepted_renderer = JSONRenderer()
            request.accepted_media_type = JSONRenderer.media_type
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        operation_id="reports_monthly",
        summary="Monthly report (table 06/VPCP/KSTT)",
        description=(
            "Figures of the periodic report for a local month (Asia/Ho_Chi_Minh), with rows "
            "by field (with its procedures when by=procedure), unit or officer, and the "
            "total row. Every row balances: carried_over + received_new = resolved + "
            "withdrawn + stopped + in_progress. Rates are percentages with one decimal, "
            "null when there is nothing to divide by. format=xlsx gives the file laid out "
            "like the official table, format=csv a flat file."
        ),
        parameters=[
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM", required=False),
            OpenApiParameter(
                "period",
                OpenApiTypes.STR,
                required=False,
                description="Instead of month: YYYY-MM, YYYY-Qn or YYYY.",
            ),
            OpenApiParameter("by", OpenApiTypes.STR, enum=list(BY_CHOICES), default=BY_PROCEDURE),
            OpenApiParameter(
                "format", OpenApiTypes.STR, enum=["json", "xlsx", "csv"], default="json"
            ),
        ],
        responses={
            200: OpenApiResponse(
                MonthlyReportSerializer, description="JSON, or the XLSX / CSV file with format="
            ),
            400: OpenApiResponse(ReportErrorSerializer, description="Bad month, period or by."),
            401: OpenApiResponse(description="Not logged in."),
            403: OpenApiResponse(description="Without the view_reports permission."),
        },
    )
    def get(self, request):
        value = request.query_params.get("month") or request.query_params.get("period")
        try:
            if not value:
                raise DomainError(
                    _("Give the month as month=YYYY-MM."), field="month", code="required"
                )
            period = Period.parse(value)
            report = report_monthly(
                period=period, by=request.query_params.get("by") or BY_PROCEDURE
            )
        except DomainError as exc:
            return Response(
                {"detail": exc.message, "field": exc.field, "code": exc.code}, status=400
            )
        fmt = getattr(request.accepted_renderer, "format", "json")
        if fmt in ("xlsx", "csv"):
            build = export.report_xlsx if fmt == "xlsx" else export.report_csv
            content_type = export.XLSX_CONTENT_TYPE if fmt == "xlsx" else export.CSV_CONTENT_TYPE
            response = HttpResponse(build(report=report), content_type=content_type)
            response["Content-Disposition"] = (
                f'attachment; filename="{export.report_filename(report=report, extension=fmt)}"'
            )
            return response
        return Response(report.as_dict())
