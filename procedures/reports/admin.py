"""Admin: the report page (table 06/VPCP/KSTT), drill-down, exports, month close.

The pages hang off a small read-only admin of ``ReportSnapshot`` (the frozen reports):

- ``admin:procedures_report``: period picker, rows by field / procedure / unit /
  officer, the table with each figure linking to the dossiers behind it, three charts
  as inline SVG (no script, nothing from a CDN; their markup is in the templates under
  admin/procedures/charts/), satisfaction, and the frozen snapshot of the period if
  there is one;
- ``admin:procedures_report_cell``: the dossiers behind one figure (the same
  condition as the count, narrowed to the dossiers the user may see);
- ``admin:procedures_report_export``: XLSX / CSV / PDF of what is on screen;
- ``admin:procedures_report_freeze`` (POST): "freeze now", mailed after commit;
- ``admin:procedures_report_evaluation``: Circular 01/2018 scores per unit and officer;
- per snapshot: its files and the comparison with a regenerated report.

Everything needs ``procedures.view_reports``; freezing needs a director (or
``procedures.add_reportsnapshot``).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db import transaction
from django.http import FileResponse, Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.admin import ReadOnlyAdminMixin
from procedures.core.constants import ReportPeriod, Role
from procedures.core.errors import DomainError
from procedures.core.formatting import percent
from procedures.core.roles import user_roles
from procedures.dossiers.selectors import dossier_visible_filter
from procedures.models import ReportSnapshot
from procedures.reports import export
from procedures.reports.selectors import (
    BY_CHOICES,
    BY_PROCEDURE,
    COLUMN_KEYS,
    COLUMNS,
    MonthlyReport,
    Period,
    report_cell_dossiers,
    report_monthly,
    report_satisfaction,
    report_trend,
    without_jit,
)
from procedures.reports.services import report_compare, report_freeze, snapshot_report

BY_LABELS = {
    "field": gettext_lazy("By field"),
    "procedure": gettext_lazy("By field and procedure"),
    "unit": gettext_lazy("By unit"),
    "officer": gettext_lazy("By officer"),
}
FORMATS = {
    "xlsx": (export.report_xlsx, export.XLSX_CONTENT_TYPE),
    "csv": (export.report_csv, export.CSV_CONTENT_TYPE),
    "pdf": (export.report_pdf, export.PDF_CONTENT_TYPE),
}


def may_view_reports(user) -> bool:
    return bool(
        user and user.is_active and user.is_staff and user.has_perm("procedures.view_reports")
    )


def may_freeze(user) -> bool:
    return may_view_reports(user) and (
        user.has_perm("procedures.add_reportsnapshot") or Role.DIRECTOR in user_roles(user)
    )


# --------------------------------------------------------------------------- charts

_BLUE, _GREEN, _RED = "#2f6fb0", "#3c8d40", "#ba2121"
_CHARTS = "admin/procedures/charts/"


def _num(value):
    """A coordinate or count as the SVG gets it: floats to one decimal, as plain text
    (never localised: a decimal comma would break the drawing on Vietnamese pages)."""
    return f"{value:.1f}" if isinstance(value, float) else str(value)


def _nums(**values) -> dict:
    return {k: _num(v) if isinstance(v, (int, float)) else v for k, v in values.items()}


def _chart(template: str, *, width, height, title: str, **context) -> SafeString:
    """One chart: the geometry is computed here, the markup is in the templates under
    procedures/templates/admin/procedures/charts/ (autoescaped)."""
    html = render_to_string(
        _CHARTS + template, {"w": _num(width), "h": _num(height), "title": title, **context}
    )
    return mark_safe(html)  # noqa: S308 - rendered by an autoescaping template


def _month_label(label: str) -> str:
    return label[:2] + "/" + label[5:]


def chart_on_time_by_row(report: MonthlyReport) -> SafeString:
    """Horizontal bars: on-time rate (%) of each top-level row, with its resolved count."""
    rows = [r for r in report.rows if r.figures["resolved"]]
    title = _("On-time rate by %(rows)s (%%)") % {
        "rows": {"unit": _("unit"), "officer": _("officer")}.get(report.by, _("field"))
    }
    if not rows:
        return _chart(
            "on_time_by_row.html",
            width=600,
            height=40,
            title=title,
            bars=[],
            empty=_("Nothing resolved in the period."),
        )
    label_w, bar_w, row_h = 240, 300, 24
    bars = []
    for i, row in enumerate(rows):
        y = 10 + i * row_h
        rate = row.figures["on_time_rate"] or 0
        bars.append(
            _nums(
                lx=label_w - 6,
                ty=y + 13,
                label=row.label if len(row.label) <= 38 else row.label[:36] + "…",
                x=label_w,
                y=y,
                bw=bar_w,
                w=bar_w * rate / 100,
                c=_GREEN if rate >= 90 else (_BLUE if rate >= 70 else _RED),
                vx=label_w + bar_w + 6,
                rate=percent(rate),
                n=row.figures["resolved"],
            )
        )
    return _chart(
        "on_time_by_row.html",
        width=label_w + bar_w + 110,
        height=20 + row_h * len(rows),
        title=title,
        bars=bars,
    )


def _axes(width, height, left, bottom, top, max_value, ticks=4, rates=False) -> list[dict]:
    plot_h = height - bottom - top
    axes = []
    for t in range(ticks + 1):
        value = max_value * t / ticks
        y = height - bottom - plot_h * t / ticks
        axes.append(
            _nums(
                l=left,
                r=width - 10,
                y=y,
                tx=left - 4,
                ty=y + 4,
                v=percent(value, digits=0) if rates else round(value),
            )
        )
    return axes


def chart_trend(trend: list[dict]) -> SafeString:
    """Line: on-time rate over the 12 months ending with the period."""
    width, height, left, bottom, top = 640, 220, 44, 30, 12
    step = (width - left - 20) / max(1, len(trend) - 1)
    plot_h = height - bottom - top
    months, points = [], []
    for i, point in enumerate(trend):
        x = left + i * step
        months.append(_nums(x=x, y=height - 10, label=_month_label(point["label"])))
        if point["on_time_rate"] is not None:
            y = height - bottom - plot_h * point["on_time_rate"] / 100
            points.append((x, y, point))
    return _chart(
        "trend.html",
        width=width,
        height=height,
        title=_("On-time rate over 12 months (%)"),
        axes=_axes(width, height, left, bottom, top, 100, rates=True),
        months=months,
        colour=_BLUE,
        line=" ".join(f"{x:.1f},{y:.1f}" for x, y, _p in points),
        points=[
            _nums(x=x, y=y, label=p["label"], v=percent(p["on_time_rate"])) for x, y, p in points
        ],
    )


def chart_received_resolved(trend: list[dict]) -> SafeString:
    """Grouped bars: newly accepted vs resolved per month."""
    width, height, left, bottom, top = 640, 240, 44, 46, 12
    peak = max([1] + [max(p["received_new"], p["resolved"]) for p in trend])
    plot_h = height - bottom - top
    slot = (width - left - 20) / len(trend)
    bar = slot * 0.35
    months = []
    for i, point in enumerate(trend):
        x = left + i * slot + slot * 0.15
        bars = []
        for j, (key, colour) in enumerate((("received_new", _BLUE), ("resolved", _GREEN))):
            h = plot_h * point[key] / peak
            bars.append(
                _nums(
                    x=x + j * bar,
                    y=height - bottom - h,
                    w=bar,
                    h=h,
                    c=colour,
                    label=point["label"],
                    v=point[key],
                )
            )
        months.append(
            {
                "bars": bars,
                **_nums(x=x + bar, y=height - bottom + 14, label=_month_label(point["label"])),
            }
        )
    legend_y = height - 10
    return _chart(
        "received_resolved.html",
        width=width,
        height=height,
        title=_("Received vs resolved per month"),
        axes=_axes(width, height, left, bottom, top, peak),
        months=months,
        legend=_nums(
            x1=left,
            y=legend_y - 9,
            c1=_BLUE,
            t1=left + 14,
            ty=legend_y,
            l1=_("Newly accepted"),
            x2=left + 160,
            c2=_GREEN,
            t2=left + 174,
            l2=_("Resolved"),
        ),
    )


# --------------------------------------------------------------------------- table


def _header_rows(report: MonthlyReport) -> list[list[dict]]:
    """The official three-level header (same spans as the XLSX), in the page language."""
    words = export.labels(_current_language())
    rows: list[list[dict]] = [[], [], []]
    for cell in export.header_cells(report):
        rows[cell.row].append(
            {"text": words[cell.label_key], "rowspan": cell.rowspan, "colspan": cell.colspan}
        )
    return rows


def _current_language() -> str:
    from django.utils.translation import get_language

    # The page speaks the staff member's language; Vietnamese gets the form's wording.
    return "vi" if (get_language() or "vi").startswith("vi") else "en"


def _table_rows(report: MonthlyReport, *, base_query: dict, drill: bool) -> list[dict]:
    words = export.labels(_current_language())
    cell_url = reverse("admin:procedures_report_cell")
    flat = [report.total] + [x for r in report.rows for x in (r, *r.children)]
    out = []
    for (number, label, kind, figures), row in zip(
        export.body_rows(report, words), flat, strict=False
    ):
        cells = []
        for key in export.leaf_keys(report):
            value = figures.get(key)
            url = None
            if drill and key in COLUMN_KEYS and value:
                url = f"{cell_url}?{urlencode({**base_query, 'row': row.key, 'column': key})}"
            cells.append(
                {
                    "key": key,
                    "value": value,
                    "url": url,
                    "is_rate": key in ("on_time_rate", "online_share"),
                }
            )
        out.append({"number": number, "label": label, "kind": kind, "cells": cells})
    return out


# --------------------------------------------------------------------------- views


def _period_from(request) -> Period:
    value = request.GET.get("period") or request.POST.get("period")
    if value:
        return Period.parse(value)
    today = timezone.localdate()
    return Period.month(today.year, today.month).previous()


def _by_from(request) -> str:
    by = request.GET.get("by") or BY_PROCEDURE
    if by not in BY_CHOICES:
        raise DomainError(_("Rows can be by field, procedure, unit or officer."), field="by")
    return by


# Frozen reports are evidence: viewed, never edited here.
@admin.register(ReportSnapshot)
class ReportSnapshotAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "__str__",
        "start",
        "end",
        "frozen_at",
        "frozen_by",
        "emailed_at",
        "files",
        "compare_link",
    ]
    list_filter = ["period"]
    date_hierarchy = "start"
    fields = [
        "period",
        "start",
        "end",
        "frozen_at",
        "frozen_by",
        "emailed_at",
        "files",
        "compare_link",
        "report_link",
    ]
    readonly_fields = fields
    list_select_related = ["frozen_by"]

    def has_view_permission(self, request, obj=None):
        return may_view_reports(request.user) or super().has_view_permission(request, obj)

    def has_module_permission(self, request):
        return may_view_reports(request.user) or super().has_module_permission(request)

    @admin.display(description=gettext_lazy("files"))
    def files(self, obj):
        links = [
            (reverse("admin:procedures_reportsnapshot_file", args=[obj.pk, kind]), kind.upper())
            for kind in ("xlsx", "pdf", "csv")
            if getattr(obj, kind)
        ]
        return format_html_join(" · ", '<a href="{}">{}</a>', links) or "—"

    @admin.display(description=gettext_lazy("compare"))
    def compare_link(self, obj):
        return format_html(
            '<a href="{}">{}</a>',
            reverse("admin:procedures_reportsnapshot_compare", args=[obj.pk]),
            _("Compare with the data today"),
        )

    @admin.display(description=gettext_lazy("report page"))
    def report_link(self, obj):
        period = Period.starting(obj.period, obj.start)
        return format_html(
            '<a href="{}?period={}">{}</a>',
            reverse("admin:procedures_report"),
            period.key,
            period.label,
        )

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path("report/", view(self.report_view), name="procedures_report"),
            path("report/cell/", view(self.cell_view), name="procedures_report_cell"),
            path(
                "report/export/<str:fmt>/", view(self.export_view), name="procedures_report_export"
            ),
            path("report/freeze/", view(self.freeze_view), name="procedures_report_freeze"),
            path(
                "report/evaluation/",
                view(self.evaluation_view),
                name="procedures_report_evaluation",
            ),
            path(
                "<int:pk>/file/<str:kind>/",
                view(self.file_view),
                name="procedures_reportsnapshot_file",
            ),
            path(
                "<int:pk>/compare/",
                view(self.compare_view),
                name="procedures_reportsnapshot_compare",
            ),
            *super().get_urls(),
        ]

    def _context(self, request, title, **extra):
        # No navigation sidebar: table 06 has 18+ columns and must fit a 1440 px
        # screen without a horizontal scroll (the breadcrumbs lead back).
        return {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "is_nav_sidebar_enabled": False,
            **extra,
        }

    def _check(self, request):
        if not may_view_reports(request.user):
            raise PermissionDenied

    def _bad_request(self, request, error: DomainError):
        return TemplateResponse(
            request,
            "admin/procedures/report_error.html",
            self._context(request, _("Report"), error=error.message),
            status=400,
        )

    def report_view(self, request):
        self._check(request)
        try:
            period, by = _period_from(request), _by_from(request)
        except DomainError as error:
            return self._bad_request(request, error)
        snapshot = ReportSnapshot.objects.filter(period=period.kind, start=period.start).first()
        frozen = request.GET.get("frozen") == "1" and snapshot is not None
        report = (
            snapshot_report(snapshot=snapshot, by=by if by != "field" else BY_PROCEDURE)
            if frozen
            else report_monthly(period=period, by=by)
        )
        if frozen and by == "field":
            for row in report.rows:
                row.children = []
        trend = report_trend(period=period)
        query = {"period": period.key, "by": by}
        month = Period.month(period.end.year, period.end.month)
        context = self._context(
            request,
            _("Dossier report (table 06/VPCP/KSTT): %(period)s") % {"period": period.label},
            report=report,
            period=period,
            by=by,
            frozen=frozen,
            snapshot=snapshot,
            by_choices=[(k, BY_LABELS[k]) for k in BY_CHOICES],
            header=_header_rows(report),
            rows=_table_rows(report, base_query=query, drill=not frozen),
            balance_ok=all(r.balance()[0] == r.balance()[1] for r in report.flat_rows()),
            satisfaction=report_satisfaction(period=period),
            charts=[
                (_("On-time rate (%)"), chart_on_time_by_row(report)),
                (_("On-time rate over 12 months (%)"), chart_trend(trend)),
                (_("Received vs resolved per month"), chart_received_resolved(trend)),
            ],
            month_value=f"{month.start:%Y-%m}",
            shortcuts=[
                (period.previous().key, _("Previous")),
                (period.next().key, _("Next")),
                (
                    Period.containing(ReportPeriod.QUARTER, period.start).key,
                    Period.containing(ReportPeriod.QUARTER, period.start).label,
                ),
                (
                    Period.containing(ReportPeriod.YEAR, period.start).key,
                    Period.containing(ReportPeriod.YEAR, period.start).label,
                ),
            ],
            exports=[
                (
                    fmt.upper(),
                    f"{reverse('admin:procedures_report_export', args=[fmt])}?{urlencode(query)}",
                )
                for fmt in FORMATS
            ],
            ended=period.end_at <= timezone.now(),
            can_freeze=may_freeze(request.user),
        )
        return TemplateResponse(request, "admin/procedures/report.html", context)

    def cell_view(self, request):
        self._check(request)
        try:
            period = _period_from(request)
            by = _by_from(request)
            row, column = request.GET.get("row", ""), request.GET.get("column", "")
            qs = report_cell_dossiers(period=period, row_key=row, column=column)
        except DomainError as error:
            return self._bad_request(request, error)
        qs = qs.filter(dossier_visible_filter(request.user))
        with without_jit():  # the same status-at-end subquery as the report
            page = Paginator(qs, 50).get_page(request.GET.get("p"))
            page.object_list = list(page.object_list)
        try:
            change_url = reverse("admin:procedures_dossier_change", args=[0])[: -len("0/change/")]
        except NoReverseMatch:  # the dossier admin is not installed
            change_url = None
        words = export.labels(_current_language())
        column_label = next(
            (
                f"{words.get('g:' + c.group, '')} {words.get(c.key, c.label)}".strip()
                for c in COLUMNS
                if c.key == column
            ),
            column,
        )
        context = self._context(
            request,
            _("Dossiers behind the figure: %(column)s") % {"column": column_label},
            period=period,
            page=page,
            row_key=row,
            change_url=change_url,
            back=f"{reverse('admin:procedures_report')}?"
            f"{urlencode({'period': period.key, 'by': by})}",
        )
        return TemplateResponse(request, "admin/procedures/report_cell.html", context)

    def export_view(self, request, fmt):
        self._check(request)
        if fmt not in FORMATS:
            raise Http404
        try:
            period, by = _period_from(request), _by_from(request)
        except DomainError as error:
            return self._bad_request(request, error)
        report = report_monthly(period=period, by=by)
        build, content_type = FORMATS[fmt]
        response = HttpResponse(
            build(report=report, language=request.GET.get("lang", "vi")), content_type=content_type
        )
        response["Content-Disposition"] = (
            f'attachment; filename="{export.report_filename(report=report, extension=fmt)}"'
        )
        return response

    def freeze_view(self, request):
        if request.method != "POST":
            return HttpResponse(status=405, headers={"Allow": "POST"})
        self._check(request)
        if not may_freeze(request.user):
            raise PermissionDenied
        back = reverse("admin:procedures_report")
        try:
            period = _period_from(request)
            snapshot, created = report_freeze(
                period=period.kind, start=period.start, actor=request.user
            )
        except DomainError as error:
            messages.error(request, error.message)
            query = urlencode({"period": request.POST.get("period", "")})
            return HttpResponseRedirect(f"{back}?{query}")
        if created:
            from procedures.reports.tasks import report_mail

            transaction.on_commit(lambda: report_mail.delay(snapshot.pk))
            messages.success(
                request,
                _("%(period)s is frozen; the files are being mailed to the leaders.")
                % {"period": period.label},
            )
        else:
            messages.warning(
                request,
                _("%(period)s was already frozen at %(time)s; nothing changed.")
                % {
                    "period": period.label,
                    "time": f"{timezone.localtime(snapshot.frozen_at):%H:%M %d/%m/%Y}",
                },
            )
        return HttpResponseRedirect(f"{back}?{urlencode({'period': period.key})}")

    def file_view(self, request, pk, kind):
        self._check(request)
        snapshot = get_object_or_404(ReportSnapshot, pk=pk)
        if kind not in ("xlsx", "csv", "pdf") or not getattr(snapshot, kind):
            raise Http404
        report = snapshot_report(snapshot=snapshot)
        return FileResponse(
            getattr(snapshot, kind).open("rb"),
            as_attachment=True,
            filename=export.report_filename(report=report, extension=kind),
            content_type=FORMATS[kind][1],
        )

    def compare_view(self, request, pk):
        self._check(request)
        snapshot = get_object_or_404(ReportSnapshot, pk=pk)
        period = Period.starting(snapshot.period, snapshot.start)
        words = export.labels(_current_language())
        differences = [
            {
                "view": BY_LABELS.get(d.by, d.by),
                "label": d.label,
                "column": words.get(d.column, d.column),
                "frozen": d.frozen,
                "current": d.current,
            }
            for d in report_compare(snapshot=snapshot)
        ]
        context = self._context(
            request,
            _("%(period)s: frozen report compared with the data today") % {"period": period.label},
            snapshot=snapshot,
            period=period,
            differences=differences,
            back=f"{reverse('admin:procedures_report')}?{urlencode({'period': period.key})}",
        )
        return TemplateResponse(request, "admin/procedures/report_compare.html", context)

    def evaluation_view(self, request):
        from procedures.reports.evaluation import BANDS_LABELS, evaluation_quarter

        self._check(request)
        try:
            value = request.GET.get("period")
            if value:
                period = Period.parse(value)
            else:
                today = timezone.localdate()
                period = Period.containing(ReportPeriod.QUARTER, today).previous()
        except DomainError as error:
            return self._bad_request(request, error)
        result = evaluation_quarter(period=period)
        context = self._context(
            request,
            _("Evaluation (Circular 01/2018): %(period)s") % {"period": period.label},
            period=period,
            result=result,
            bands=BANDS_LABELS,
            shortcuts=[(period.previous().key, _("Previous")), (period.next().key, _("Next"))],
        )
        return TemplateResponse(request, "admin/procedures/report_evaluation.html", context)
