"""Month close: freeze a period's report as signed, mail it to the leaders, compare later.

- ``report_freeze`` stores the figures (by procedure, unit and officer, and the
  satisfaction summary) and the XLSX / CSV / PDF files once per period: the unique
  constraint on ``ReportSnapshot(period, start)`` makes a second call, or a concurrent
  one, return the snapshot already frozen. Later edits to dossiers never touch it.
- ``report_email`` sends the files to the directors and ``REPORT_RECIPIENTS``, once:
  the snapshot row is locked and ``emailed_at`` is the marker.
- ``report_close`` is what the beat task runs every morning: on the first working day
  of a month it freezes the month just ended (and the quarter and year when they end).
- ``report_compare`` regenerates a frozen period and lists every figure that differs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.base import ContentFile
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from procedures.calendar import working_time as calendar
from procedures.core.constants import ROLE_GROUP_NAMES, ReportPeriod, Role
from procedures.core.errors import DomainError
from procedures.core.formatting import percent
from procedures.models import ReportSnapshot
from procedures.reports.export import (
    CSV_CONTENT_TYPE,
    PDF_CONTENT_TYPE,
    XLSX_CONTENT_TYPE,
    report_csv,
    report_filename,
    report_pdf,
    report_xlsx,
)
from procedures.reports.selectors import (
    BY_OFFICER,
    BY_PROCEDURE,
    BY_UNIT,
    COLUMN_KEYS,
    RATE_KEYS,
    STEP_KEYS,
    MonthlyReport,
    Period,
    report_monthly,
    report_satisfaction,
)

logger = logging.getLogger(__name__)

SNAPSHOT_VIEWS = (BY_PROCEDURE, BY_UNIT, BY_OFFICER)
FIGURES_VERSION = 1


def report_figures(*, period: Period, now: datetime) -> dict:
    """Everything a snapshot keeps, as JSON: the three views and the satisfaction summary."""
    return {
        "version": FIGURES_VERSION,
        "period": period.as_dict(),
        "generated_at": now.isoformat(),
        "views": {
            by: report_monthly(period=period, by=by, now=now).as_dict() for by in SNAPSHOT_VIEWS
        },
        "satisfaction": report_satisfaction(period=period),
    }


def snapshot_report(*, snapshot: ReportSnapshot, by: str = BY_PROCEDURE) -> MonthlyReport:
    """The frozen report of one view, as the selectors build it."""
    return MonthlyReport.from_dict(snapshot.figures["views"][by])


def report_freeze(
    *, period: str, start: date, now: datetime | None = None, actor=None
) -> tuple[ReportSnapshot, bool]:
    """Freeze the report of the period of kind `period` starting on `start`.

    Returns (snapshot, created). Idempotent: the period's snapshot, if any, is returned
    unchanged, so the beat task and a hand-triggered close can both run.
    """
    now = now or timezone.now()
    p = Period.starting(period, start)
    if p.end_at > now:
        raise DomainError(
            _("%(period)s has not ended yet: it can be frozen from %(date)s.")
            % {"period": p.label, "date": f"{p.end + timedelta(days=1):%d/%m/%Y}"},
            code="period_not_ended",
        )
    existing = ReportSnapshot.objects.filter(period=p.kind, start=p.start).first()
    if existing is not None:
        return existing, False
    figures = report_figures(period=p, now=now)
    report = MonthlyReport.from_dict(figures["views"][BY_PROCEDURE])
    files = {
        "xlsx": report_xlsx(report=report),
        "csv": report_csv(report=report),
        "pdf": report_pdf(report=report),
    }
    try:
        with transaction.atomic():
            snapshot = ReportSnapshot.objects.create(
                period=p.kind,
                start=p.start,
                end=p.end,
                figures=figures,
                frozen_at=now,
                frozen_by=actor,
            )
            # Files are written only once this transaction owns the period's row.
            for attr, content in files.items():
                getattr(snapshot, attr).save(
                    report_filename(report=report, extension=attr), ContentFile(content), save=False
                )
            snapshot.save(update_fields=list(files))
    except IntegrityError:
        # A concurrent close froze the same period first (report_snapshot_once).
        return ReportSnapshot.objects.get(period=p.kind, start=p.start), False
    logger.info("Report %s frozen (snapshot %s)", p.key, snapshot.pk)
    return snapshot, True


# --------------------------------------------------------------------------- e-mail


def report_recipients() -> list[tuple[str, str]]:
    """(address, language) of the directors with an address, then REPORT_RECIPIENTS."""
    users = (
        get_user_model()
        .objects.filter(is_active=True, groups__name=ROLE_GROUP_NAMES[Role.DIRECTOR])
        .exclude(email="")
        .select_related("staff_profile")
        .order_by("pk")
        .distinct()
    )
    out: dict[str, tuple[str, str]] = {}
    for user in users:
        profile = getattr(user, "staff_profile", None)
        out.setdefault(user.email.lower(), (user.email, profile.language if profile else "vi"))
    for address in getattr(settings, "REPORT_RECIPIENTS", []) or []:
        address = address.strip()
        if address:
            out.setdefault(address.lower(), (address, settings.LANGUAGE_CODE))
    return list(out.values())


def report_email(*, snapshot_id: int, now: datetime | None = None) -> int:
    """Mail the frozen files to the leaders, once; returns the number of messages sent.

    The row is locked while sending and ``emailed_at`` set in the same transaction, so a
    re-run (task retry, second worker) sends nothing. A failed send raises and leaves
    ``emailed_at`` empty for the retry.
    """
    now = now or timezone.now()
    recipients = report_recipients()
    with transaction.atomic():
        snapshot = ReportSnapshot.objects.select_for_update().get(pk=snapshot_id)
        if snapshot.emailed_at is not None:
            return 0
        if not recipients:
            logger.warning(
                "Report snapshot %s: no director with an e-mail address and no "
                "REPORT_RECIPIENTS; nothing sent",
                snapshot.pk,
            )
            return 0
        report = snapshot_report(snapshot=snapshot)
        attachments = []
        for attr, mime in (
            ("xlsx", XLSX_CONTENT_TYPE),
            ("pdf", PDF_CONTENT_TYPE),
            ("csv", CSV_CONTENT_TYPE),
        ):
            field = getattr(snapshot, attr)
            if field:
                with field.open("rb") as fh:
                    attachments.append(
                        (report_filename(report=report, extension=attr), fh.read(), mime)
                    )
        by_language: dict[str, list[str]] = {}
        for address, language in recipients:
            by_language.setdefault(language or settings.LANGUAGE_CODE, []).append(address)
        sent = 0
        for language, addresses in sorted(by_language.items()):
            with translation.override(language):
                message = EmailMessage(
                    subject=_report_subject(report),
                    body=_report_body(report, snapshot),
                    from_email=settings.DEFAULT_FROM_EMAIL,
                    to=addresses,
                )
            for attachment in attachments:
                message.attach(*attachment)
            message.send(fail_silently=False)
            sent += 1
        snapshot.emailed_at = now
        snapshot.save(update_fields=["emailed_at"])
    return sent


def _report_subject(report: MonthlyReport) -> str:
    return _("%(department)s: dossier report for %(period)s (table 06/VPCP/KSTT)") % {
        "department": settings.DEPARTMENT_NAME,
        "period": report.period.label,
    }


def _report_body(report: MonthlyReport, snapshot: ReportSnapshot) -> str:
    f = report.total.figures
    rate = percent(f["on_time_rate"])
    lines = [
        _(
            "The report for %(period)s was frozen at %(time)s. The signed figures are attached "
            "(XLSX laid out like table 06/VPCP/KSTT, PDF, CSV)."
        )
        % {
            "period": report.period.label,
            "time": f"{timezone.localtime(snapshot.frozen_at):%H:%M %d/%m/%Y}",
        },
        "",
        _(
            "Received: %(received)s (carried over %(carried)s, newly accepted %(new)s, of which "
            "online %(online)s)."
        )
        % {
            "received": f["received"],
            "carried": f["carried_over"],
            "new": f["received_new"],
            "online": f["received_online"],
        },
        _(
            "Resolved: %(resolved)s (early %(early)s, on time %(on_time)s, late %(late)s); "
            "on-time rate %(rate)s."
        )
        % {
            "resolved": f["resolved"],
            "early": f["resolved_early"],
            "on_time": f["resolved_on_time"],
            "late": f["resolved_late"],
            "rate": rate,
        },
        _("In progress at the end: %(open)s (overdue %(overdue)s).")
        % {"open": f["in_progress"], "overdue": f["in_progress_overdue"]},
        "",
        _("Report page: %(url)s")
        % {
            "url": settings.SITE_URL.rstrip("/") + "/admin/procedures/"
            f"reportsnapshot/report/?period={report.period.key}"
        },
    ]
    return "\n".join(lines)


# --------------------------------------------------------------------------- close


def is_first_working_day_of_month(day: date) -> bool:
    if not calendar.is_working_day(day):
        return False
    return not any(calendar.is_working_day(day.replace(day=d)) for d in range(1, day.day))


def periods_closing(*, today: date) -> list[Period]:
    """The month that ended before `today`'s month, and its quarter / year if they end too."""
    month = Period.month(today.year, today.month).previous()
    periods = [month]
    if month.end.month in (3, 6, 9, 12):
        periods.append(Period.containing(ReportPeriod.QUARTER, month.start))
    if month.end.month == 12:
        periods.append(Period.containing(ReportPeriod.YEAR, month.start))
    return periods


def report_close(
    *, now: datetime | None = None, actor=None, only_on_first_working_day: bool = True
) -> list[tuple[ReportSnapshot, bool]]:
    """Freeze what closes at `now`: by default only on the month's first working day."""
    now = now or timezone.now()
    today = timezone.localdate(now)
    if only_on_first_working_day and not is_first_working_day_of_month(today):
        return []
    return [
        report_freeze(period=p.kind, start=p.start, now=now, actor=actor)
        for p in periods_closing(today=today)
    ]


# --------------------------------------------------------------------------- compare


@dataclass(frozen=True)
class Difference:
    by: str
    row_key: str
    label: str
    column: str
    frozen: object
    current: object


def _flat(view: dict) -> dict[str, dict]:
    out = {}
    for row in view["rows"]:
        out[row["key"]] = row
        for child in row.get("children", []):
            out[child["key"]] = child
    out[view["total"]["key"]] = view["total"]
    return out


def report_compare(*, snapshot: ReportSnapshot, now: datetime | None = None) -> list[Difference]:
    """Every figure of a regenerated report that differs from the frozen one."""
    now = now or timezone.now()
    period = Period.starting(snapshot.period, snapshot.start)
    keys = COLUMN_KEYS + RATE_KEYS + STEP_KEYS
    differences = []
    for by in SNAPSHOT_VIEWS:
        frozen = _flat(snapshot.figures["views"][by])
        current = _flat(report_monthly(period=period, by=by, now=now).as_dict())
        for row_key in list(frozen) + [k for k in current if k not in frozen]:
            old, new = frozen.get(row_key), current.get(row_key)
            row = new or old
            assert row is not None  # the key comes from one of the two
            label = row["label"]
            for column in keys:
                # A row missing on one side counts 0 (rates: empty).
                empty = None if column in RATE_KEYS else 0
                before = old["figures"].get(column, empty) if old else empty
                after = new["figures"].get(column, empty) if new else empty
                if before != after:
                    differences.append(Difference(by, row_key, label, column, before, after))
    return differences
