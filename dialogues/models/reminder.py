"""Sent-markers that make dialogue mail exactly-once per deadline.

Insert first, then send: the unique row is the lock. A re-run of a task, or two
workers racing, fail on the constraint and send nothing. A failed send is recorded
on the row for staff to see (and not retried automatically: a duplicate reminder is
worse than a visible failure). To be moved onto the shared notification ledger.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from dialogues.constants import ReminderKind


class DialogueReminder(models.Model):
    kind = models.CharField(_("kind"), max_length=30, choices=ReminderKind.choices)
    object_id = models.BigIntegerField(_("object id"))
    # The deadline the mail is about (answer due time, session start): when it moves,
    # a new reminder is due.
    deadline = models.DateTimeField(_("deadline"))
    recipients = models.TextField(_("recipients"), blank=True)
    created_at = models.DateTimeField(_("created at"))
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    error = models.TextField(_("error"), blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("dialogue reminder")
        verbose_name_plural = _("dialogue reminders")
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "object_id", "deadline"], name="dialogue_reminder_once"
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.object_id}"
