"""The delivery ledger: every message the app sends is first a row here.

Rows are written in the same transaction as the change that causes them (an outbox),
so a broker outage never loses a message, and the unique key makes a second attempt
to queue the same message a no-op (exactly once).

Reminders use two kinds of rows (see procedures/notifications/reminders.py):
- an *item* row per person and thing to remind about (channel "item", recipient
  "user:<id>"), keyed by the deadline version or the digest day (`subject_key` =
  "dossier:12:due_soon:<due timestamp>"); it is never sent itself (status "in_digest")
  and its unique key is what stops a second reminder, on any channel;
- a *digest* row per recipient, channel and sweep, the one message that is sent; the
  items point at the person's first digest of the sweep through `digest`, and the
  other digest names that one in `payload["items_of"]`.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _


class DeliveryChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    IN_APP = "in_app", _("In the app")
    # The national public-service portal's dossier sync (national_sync.py).
    NATIONAL = "national", _("National portal")
    SMS = "sms", _("SMS")
    # A reminder item: what a person has been told, whatever channels their digests go
    # by (reminders.py); never sent itself.
    ITEM = "item", _("Reminder item (shared by the person's digests)")


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", _("Waiting to be sent")
    SENDING = "sending", _("Being sent")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    CANCELLED = "cancelled", _("Cancelled")
    IN_DIGEST = "in_digest", _("Part of a digest")


class Delivery(models.Model):
    kind = models.CharField(_("kind"), max_length=50)
    channel = models.CharField(
        _("channel"), max_length=10, choices=DeliveryChannel.choices, default=DeliveryChannel.EMAIL
    )
    recipient = models.CharField(_("recipient"), max_length=255)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="deliveries",
        verbose_name=_("staff recipient"),
        # Looked up through delivery_inbox_idx (user, channel, read_at), whose first
        # column it is: an index of its own only cost every insert (a sweep's items).
        db_index=False,
        # No database foreign key either, as `digest` below: PostgreSQL checks one per
        # inserted row (a query and a row lock on the user), a quarter of the CPU of a
        # sweep writing ~290,000 items (issue 13, item 3). The rows are written with the
        # ids of active accounts read in the same transaction; deleting a user goes
        # through Django, whose CASCADE (done by Django, not the database) removes them.
        db_constraint=False,
    )
    # What the message is about, and for reminders which deadline version or digest
    # day: a changed due time yields a new key, hence a new reminder.
    subject_key = models.CharField(_("about"), max_length=200)
    language = models.CharField(_("language"), max_length=5, default="vi")
    payload = models.JSONField(_("data"), default=dict, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # A reminder item points at the digest message that carried it. No database
    # foreign key: PostgreSQL checks one per inserted row at commit, and on a freshly
    # analysed empty ledger that check became a sequential scan, making the first big
    # sweep quadratic (90 s instead of 3 s for 28,000 items; docs/benchmarks.md). Items
    # are only ever written by the sweep, in the transaction that creates their digest.
    digest = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="items",
        verbose_name=_("sent in digest"),
        db_constraint=False,
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    # The claim of a worker that is sending the row (status "sending"): when, and which
    # Celery node. A claim older than DELIVERY_CLAIM_TIMEOUT belongs to a dead worker
    # and is taken over (procedures/notifications/delivery.py).
    claimed_at = models.DateTimeField(_("claimed at"), null=True, blank=True)
    # A database default too: the sweep inserts reminder items with raw SQL.
    claimed_by = models.CharField(
        _("claimed by"), max_length=200, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["recipient", "channel", "kind", "subject_key"], name="delivery_once"
            ),
            # Only reminder items ride in a digest, and they are never sent alone.
            models.CheckConstraint(
                condition=Q(digest__isnull=True) | Q(status="in_digest"),
                name="delivery_digest_item_status",
            ),
        ]
        indexes = [
            # The outbox drain: pending rows whose next attempt has come.
            models.Index(
                fields=["next_attempt_at"],
                name="delivery_pending_idx",
                condition=Q(status="pending"),
            ),
            # Claims left behind by a dead worker: in-flight rows by claim time.
            models.Index(
                fields=["claimed_at"],
                name="delivery_sending_idx",
                condition=Q(status="sending"),
            ),
            models.Index(fields=["user", "channel", "read_at"], name="delivery_inbox_idx"),
            # "Was this message queued already?" (dialogues/selectors.py) looks rows up by
            # kind and subject. Not the reminder items ("reminder.*", most of the rows):
            # nothing looks them up so (the sweep has the unique key), and keeping them
            # in this index was an eighth of the sweep's time. The condition is a range,
            # not a LIKE, so that PostgreSQL proves a query's `kind = '<another kind>'`
            # falls inside it and uses the index.
            models.Index(
                fields=["kind", "subject_key"],
                name="delivery_kind_subject_idx",
                condition=Q(kind__lt="reminder.") | Q(kind__gte="reminder/"),
            ),
            # Admin "failed" filter and the health check.
            models.Index(
                fields=["created_at"],
                name="delivery_failed_idx",
                condition=Q(status="failed"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} → {self.recipient} ({self.get_status_display()})"

    @property
    def message_id(self) -> str:
        """Stable Message-ID: a resend after a crash is recognisably the same message."""
        domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
        return f"<motcua.delivery.{self.pk}@{domain}>"


# Scheduled runs (reminder sweeps, the month close) recorded in the database.
#
# Beat's tick is a message on the broker: one that fires while Redis is down is
# dropped, and one taken by a worker that dies waits for the broker's visibility
# timeout. So each slot of the schedule ("07:30" of a day) gets a row here, unique per
# (job, day, slot). Whoever runs the slot first claims the row (a lease refreshed as it
# progresses), records its progress, and marks it finished; the outbox drain and a
# starting worker run any slot of today that is due and not finished
# (procedures/notifications/scheduling.py).
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
