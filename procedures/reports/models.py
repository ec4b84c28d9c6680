from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from procedures.core.constants import ReportPeriod


class ReportSnapshot(models.Model):
    """A frozen periodic report (table 06/VPCP/KSTT): figures and files as signed.

    Later edits to dossiers never change it; a regenerated report is compared with it.
    """

    period = models.CharField(_("period"), max_length=10, choices=ReportPeriod.choices)
    start = models.DateField(_("first day"))
    end = models.DateField(_("last day"))
    figures = models.JSONField(_("figures"))
    xlsx = models.FileField(_("XLSX file"), upload_to="reports/%Y/", blank=True)
    csv = models.FileField(_("CSV file"), upload_to="reports/%Y/", blank=True)
    pdf = models.FileField(_("PDF file"), upload_to="reports/%Y/", blank=True)
    frozen_at = models.DateTimeField(_("frozen at"))
    frozen_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("frozen by"),
    )
    emailed_at = models.DateTimeField(_("emailed at"), null=True, blank=True)

    class Meta:
        ordering = ["-start"]
        verbose_name = _("frozen report")
        verbose_name_plural = _("frozen reports")
        constraints = [
            models.UniqueConstraint(fields=["period", "start"], name="report_snapshot_once")
        ]

    def __str__(self) -> str:
        return f"{self.get_period_display()} {self.start:%m/%Y}"


class ReportDailyCount(models.Model):
    """Per procedure and local day, what the report counts (procedures/reports/rollup.py).

    Flow columns count what happened that day (accepted, resolved, ended). The ``*_delta``
    columns are changes of a state at midnight: the number of dossiers open, paused for a
    supplement or a payment, or overdue at the midnight that starts day D is the sum of
    the deltas of the days before D, so a period's carried-over and still-open figures
    are running sums, never a pass over the dossiers. Kept in the transaction of every
    transition; ``manage.py rebuild_report_rollup`` recomputes it from the dossiers and
    their event log.
    """

    procedure = models.ForeignKey(
        "procedures.Procedure",
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("procedure"),
    )
    day = models.DateField(_("day"))
    received_online = models.IntegerField(default=0)
    received_direct_postal = models.IntegerField(default=0)
    resolved = models.IntegerField(default=0)
    resolved_early = models.IntegerField(default=0)
    resolved_on_time = models.IntegerField(default=0)
    resolved_late = models.IntegerField(default=0)
    withdrawn = models.IntegerField(default=0)
    stopped = models.IntegerField(default=0)
    refused_intake = models.IntegerField(default=0)
    open_delta = models.IntegerField(default=0)
    supplement_delta = models.IntegerField(default=0)
    payment_delta = models.IntegerField(default=0)
    overdue_delta = models.IntegerField(default=0)

    class Meta:
        verbose_name = _("report daily count")
        verbose_name_plural = _("report daily counts")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "day"], name="report_daily_count_once")
        ]
        indexes = [models.Index(fields=["day"], name="report_daily_count_day_idx")]

    def __str__(self) -> str:
        return f"{self.procedure_id} {self.day}"
