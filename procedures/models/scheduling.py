"""Scheduled runs (reminder sweeps, the month close) recorded in the database.

Beat's tick is a message on the broker: one that fires while Redis is down is
dropped, and one taken by a worker that dies waits for the broker's visibility
timeout. So each slot of the schedule ("07:30" of a day) gets a row here, unique per
(job, day, slot). Whoever runs the slot first claims the row (a lease refreshed as it
progresses), records its progress, and marks it finished; the outbox drain and a
starting worker run any slot of today that is due and not finished
(procedures/services/scheduling.py).
"""
from django.db import models
from django.utils.translation import gettext_lazy as _


class ScheduledJob(models.TextChoices):
    REMINDERS_SWEEP = "reminders_sweep", _("Reminder sweep")
    MONTH_CLOSE = "month_close", _("Month close")


class ScheduledRun(models.Model):
    job = models.CharField(_("job"), max_length=30, choices=ScheduledJob.choices)
    day = models.DateField(_("day"))
    slot = models.CharField(_("slot"), max_length=5, help_text=_("Local time, HH:MM."))
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    claimed_by = models.CharField(_("claimed by"), max_length=200, blank=True)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    # How far the run got, written in the same transaction as the work it describes
    # (for a sweep: the last recipient whose digest was committed, and the counts).
    progress = models.JSONField(_("progress"), default=dict, blank=True)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    outcome = models.CharField(_("outcome"), max_length=200, blank=True)

    class Meta:
        ordering = ["-day", "-slot", "job"]
        verbose_name = _("scheduled run")
        verbose_name_plural = _("scheduled runs")
        constraints = [
            models.UniqueConstraint(fields=["job", "day", "slot"], name="scheduled_run_once"),
        ]

    def __str__(self) -> str:
        return f"{self.get_job_display()} {self.day} {self.slot}"
