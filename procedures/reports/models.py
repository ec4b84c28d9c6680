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
