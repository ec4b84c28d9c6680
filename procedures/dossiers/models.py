"""Dossiers (hồ sơ), their steps, documents and append-only events.

The rules they follow are in docs/legal-rules.md (statuses, clock, steps, codes).
"""

from django.conf import settings
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procedures.catalogue.models import Procedure, ProcedureVersion, RequiredDocument, Unit
from procedures.core.constants import (
    OPEN_STATUSES,
    Action,
    ApplicantType,
    Channel,
    DossierStatus,
    OnTimeResult,
    Outcome,
    ResultDelivery,
    Satisfaction,
    StepRole,
    TimeUnit,
)


class DossierCodeSequence(models.Model):
    """The daily counters behind dossier codes and submission references.

    One row per kind, unit code and day, incremented under a row lock, so two desks
    accepting at the same instant never draw the same number. The legal code
    (Circular 01/2018 art. 19; docs/legal-rules.md "Dossier code") has its own counter
    drawn only at acceptance, so refused or withdrawn submissions leave no gaps in it.
    """

    KIND_CODE = "code"
    KIND_REFERENCE = "ref"

    kind = models.CharField(max_length=4, default=KIND_CODE)
    unit_code = models.CharField(max_length=30)
    day = models.DateField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "unit_code", "day"], name="dossier_code_sequence_kind_day"
            )
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.unit_code} {self.day:%Y-%m-%d}: {self.last}"


class DossierQuerySet(models.QuerySet):
    def open(self):
        return self.filter(status__in=OPEN_STATUSES)

    def numbered(self, number: str):
        """The dossier printed with `number`: its legal code or its submission reference
        (both unique, both indexed; printed upper-case)."""
        number = (number or "").strip()
        numbers = {number, number.upper()}
        return self.filter(Q(code__in=numbers) | Q(submission_ref__in=numbers))

    def visible_to(self, user):
        from procedures.dossiers.selectors import dossier_visible_filter

        return self.filter(dossier_visible_filter(user))


def _indexed_where_set(field: str, name: str) -> models.Index:
    """An index of `field` holding only the rows where it is set (not NULL)."""
    return models.Index(fields=[field], name=name, condition=Q(**{f"{field}__isnull": False}))


class Dossier(models.Model):
    # The number printed on the dossier's papers: its submission reference until it is
    # accepted, then the legal code `<unit>-YYMMDD-XXXX` issued at acceptance (Circular
    # 01/2018 art. 19). The look-up finds a dossier by either.
    code = models.CharField(_("dossier code"), max_length=40, unique=True)
    submission_ref = models.CharField(_("submission reference"), max_length=40, unique=True)
    procedure = models.ForeignKey(
        Procedure, on_delete=models.PROTECT, related_name="dossiers", verbose_name=_("procedure")
    )
    # Snapshot of the version in force, so a later amendment never moves this deadline.
    procedure_version = models.ForeignKey(
        ProcedureVersion,
        on_delete=models.PROTECT,
        null=True,
        related_name="dossiers",
        verbose_name=_("procedure version"),
    )
    processing_amount = models.DecimalField(
        _("processing time"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    processing_unit = models.CharField(
        _("time unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    fee_vnd = models.PositiveBigIntegerField(_("fee (VND)"), null=True, blank=True)
    fee_text = models.TextField(_("fees and charges"), blank=True)

    applicant_type = models.CharField(
        _("applicant type"),
        max_length=20,
        choices=ApplicantType.choices,
        default=ApplicantType.INDIVIDUAL,
    )
    applicant_name = models.CharField(_("applicant name"), max_length=255)
    applicant_id_number = models.CharField(
        _("citizen ID or tax code"),
        max_length=20,
        help_text=_(
            "Citizen ID (12 digits) for individuals, tax code (10 or 13) for organisations."
        ),
    )
    applicant_address = models.CharField(_("address"), max_length=500, blank=True)
    applicant_phone = models.CharField(_("phone"), max_length=20, blank=True)
    applicant_email = models.EmailField(_("email"), blank=True)
    # The applicant agreed to status updates by SMS (issue 12 item 5).
    applicant_sms_consent = models.BooleanField(_("SMS updates agreed"), default=False)
    applicant_language = models.CharField(
        _("applicant's language"), max_length=5, choices=settings.LANGUAGES, default="vi"
    )
    channel = models.PositiveSmallIntegerField(_("channel"), choices=Channel.choices)
    result_delivery = models.CharField(
        _("result delivery"),
        max_length=10,
        choices=ResultDelivery.choices,
        default=ResultDelivery.DESK,
    )
    note = models.TextField(_("applicant's note"), blank=True)

    status = models.PositiveSmallIntegerField(
        _("status"), choices=DossierStatus.choices, default=DossierStatus.SUBMITTED
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    # When the legal clock last (re)started: acceptance, or a received supplement under
    # the restart policy (Decree 61/2018 art. 19(4)).
    clock_started_at = models.DateTimeField(_("clock started at"), null=True, blank=True)
    paused_at = models.DateTimeField(_("paused at"), null=True, blank=True)
    paused_seconds = models.PositiveBigIntegerField(_("paused working seconds"), default=0)
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)
    returned_at = models.DateTimeField(_("result returned at"), null=True, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    original_due_at = models.DateTimeField(_("original due"), null=True, blank=True)
    due_at = models.DateTimeField(_("current due"), null=True, blank=True)
    reappointment_count = models.PositiveSmallIntegerField(_("re-appointments"), default=0)
    supplement_count = models.PositiveSmallIntegerField(_("supplement requests"), default=0)
    supplement_reason = models.TextField(_("what is missing"), blank=True)
    # Intake supplement requests after the first one, each allowed only because the
    # applicant's own supplement was itself incomplete (docs/legal-rules.md, "Supplement
    # at intake": guidance is given once and completely).
    supplement_repeats = models.PositiveSmallIntegerField(
        _("repeated intake supplement requests"), default=0
    )
    payment_note = models.TextField(_("payment requested"), blank=True)

    # No index of their own: dossier_unit_status_idx and dossier_officer_status_idx
    # start with these columns and serve every look-up by them (the PROTECT checks
    # too), and each index is one more B-tree written by every registration (issue 13).
    assigned_unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="dossiers",
        verbose_name=_("assigned unit"),
        db_index=False,
    )
    assigned_officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="assigned_dossiers",
        verbose_name=_("assigned officer"),
        db_index=False,
    )
    # Indexed only where set (Meta.indexes): online dossiers have no receiving officer.
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("received by"),
        db_index=False,
    )
    # Transfer from the desk to the processing unit: the same working day, or the next
    # working morning when received after the cut-off (docs/legal-rules.md, "Transfer").
    transfer_due_at = models.DateTimeField(_("transfer due"), null=True, blank=True)
    transferred_at = models.DateTimeField(_("transferred at"), null=True, blank=True)
    transferred_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("transferred by"),
        db_index=False,
    )
    transfer_on_time_result = models.CharField(
        _("transfer on-time result"), max_length=10, choices=OnTimeResult.choices, blank=True
    )

    outcome = models.CharField(_("outcome"), max_length=10, choices=Outcome.choices, blank=True)
    outcome_note = models.TextField(_("result or reasons"), blank=True)
    on_time_result = models.CharField(
        _("on-time result"), max_length=10, choices=OnTimeResult.choices, blank=True
    )
    working_seconds_used = models.PositiveBigIntegerField(
        _("working time used (seconds)"), null=True, blank=True
    )

    # HMAC-SHA256 of the applicant's look-up PIN (style.md habit 11), never the PIN.
    pin_hash = models.CharField(max_length=64, blank=True)
    # Bumped by every transition: a form carries the version it was drawn from, so a
    # second officer acting on a stale page gets a conflict instead of a silent overwrite.
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DossierQuerySet.as_manager()

    class Meta:
        ordering = ["-submitted_at", "-id"]
        verbose_name = _("dossier")
        verbose_name_plural = _("dossiers")
        # Who may act on a dossier and who sees which is by role, from the registry of
        # actions (procedures/dossiers/actions.py) and procedures/dossiers/selectors.py;
        # only the reports are guarded by a permission of their own.
        permissions = [("view_reports", "Can see statistics and reports")]
        constraints = [
            models.CheckConstraint(
                condition=Q(reappointment_count__lte=1), name="dossier_one_reappointment"
            ),
            models.CheckConstraint(
                condition=Q(status__gte=1) & Q(status__lte=10), name="dossier_status_code"
            ),
            models.CheckConstraint(
                condition=Q(accepted_at__isnull=True)
                | Q(original_due_at__isnull=False)
                | Q(processing_amount__isnull=True),
                name="dossier_accepted_has_due",
            ),
            models.CheckConstraint(
                condition=~Q(status=DossierStatus.FINISHED) | ~Q(on_time_result=""),
                name="dossier_finished_has_on_time_result",
            ),
        ]
        indexes = [
            # Reminder sweeps and "due soon / overdue" queues touch only open dossiers.
            models.Index(
                fields=["due_at"],
                name="dossier_open_due_idx",
                condition=Q(status__in=[int(s) for s in OPEN_STATUSES]),
            ),
            # The dashboard's queue counts read only this covering index (PostgreSQL).
            models.Index(
                fields=["status", "due_at"],
                name="dossier_open_queue_idx",
                include=["assigned_unit", "assigned_officer"],
                condition=Q(status__in=[int(s) for s in OPEN_STATUSES]),
            ),
            # Due-date ranges in the staff list, open or not.
            models.Index(fields=["due_at"], name="dossier_due_idx"),
            models.Index(fields=["status", "submitted_at"], name="dossier_status_submitted_idx"),
            # The staff list and API page newest first on (submitted_at, id).
            models.Index(fields=["-submitted_at", "-id"], name="dossier_submitted_idx"),
            # Report periods filter on these dates. Each index holds only the dossiers
            # that have the date (a range on a column implies it is set, so every such
            # filter still uses it): a new dossier has none of them, and so is written
            # to none of these B-trees, nor to those of the officers below (issue 13).
            _indexed_where_set("accepted_at", "dossier_accepted_set_idx"),
            _indexed_where_set("finished_at", "dossier_finished_set_idx"),
            _indexed_where_set("ended_at", "dossier_ended_set_idx"),
            # Setting a deleted user's dossiers to NULL finds them by these.
            _indexed_where_set("received_by", "dossier_received_by_idx"),
            _indexed_where_set("transferred_by", "dossier_transferred_by_idx"),
            models.Index(fields=["assigned_unit", "status"], name="dossier_unit_status_idx"),
            models.Index(fields=["assigned_officer", "status"], name="dossier_officer_status_idx"),
            models.Index(fields=["applicant_id_number"], name="dossier_applicant_id_idx"),
            # The search finds a dossier by the applicant's phone (dossier_search_filter).
            models.Index(fields=["applicant_phone"], name="dossier_applicant_phone_idx"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def has_legal_code(self) -> bool:
        """True once the code `<unit>-YYMMDD-XXXX` was issued (at acceptance)."""
        return self.accepted_at is not None and self.code != self.submission_ref


class DossierStep(models.Model):
    """A step of the dossier's internal process, with its own due time (form 05)."""

    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="steps", verbose_name=_("dossier")
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("step"), max_length=255)
    role = models.CharField(_("role"), max_length=20, choices=StepRole.choices)
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("unit"),
    )
    officer = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("officer"),
    )
    allotted_seconds = models.PositiveIntegerField(_("allotted working seconds"))
    started_at = models.DateTimeField(_("received at"), null=True, blank=True)
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    completed_at = models.DateTimeField(_("handed over at"), null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("handed over by"),
    )
    working_seconds_used = models.PositiveIntegerField(
        _("working seconds used"), null=True, blank=True
    )
    # Working time of the step during which the dossier's clock stood still (supplement,
    # payment): the applicant's time, not charged to the unit holding the step.
    paused_seconds = models.PositiveIntegerField(_("paused working seconds"), default=0)
    on_time_result = models.CharField(
        _("on-time result"), max_length=10, choices=OnTimeResult.choices, blank=True
    )
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["dossier", "order"]
        verbose_name = _("dossier step")
        verbose_name_plural = _("dossier steps")
        constraints = [
            models.UniqueConstraint(fields=["dossier", "order"], name="dossier_step_order_unique")
        ]
        indexes = [
            # Per-unit lateness in the reports filters steps by hand-over time.
            models.Index(fields=["completed_at"], name="dossier_step_completed_idx"),
            models.Index(
                fields=["due_at"],
                name="dossier_step_open_due_idx",
                condition=Q(completed_at__isnull=True, started_at__isnull=False),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.dossier_id}#{self.order} {self.name}"


class DossierEvent(models.Model):
    """Append-only log of everything done to a dossier: it is evidence (form 06)."""

    # No index of its own: dossier_event_idx (dossier, at) serves every look-up by
    # dossier, and one index fewer is written with each event.
    dossier = models.ForeignKey(
        Dossier,
        on_delete=models.PROTECT,
        related_name="events",
        verbose_name=_("dossier"),
        db_index=False,
    )
    action = models.CharField(_("action"), max_length=30, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    by_applicant = models.BooleanField(_("by the applicant"), default=False)
    at = models.DateTimeField(_("at"))
    from_status = models.PositiveSmallIntegerField(
        _("from status"), choices=DossierStatus.choices, null=True, blank=True
    )
    to_status = models.PositiveSmallIntegerField(
        _("to status"), choices=DossierStatus.choices, null=True, blank=True
    )
    # The dossier's current due time right after the event: the report reads the due
    # time in force at a past moment from here, not from the row (which moves on).
    due_at = models.DateTimeField(_("due after the event"), null=True, blank=True)
    note = models.TextField(_("note"), blank=True)
    data = models.JSONField(_("details"), default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        verbose_name = _("dossier event")
        verbose_name_plural = _("dossier events")
        indexes = [models.Index(fields=["dossier", "at"], name="dossier_event_idx")]

    def __str__(self) -> str:
        return f"{self.dossier_id} {self.action} {self.at:%Y-%m-%d %H:%M}"

    def save(self, *args, **kwargs):
        # Evidence is never rewritten: only inserts are allowed.
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Dossier events are append-only")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Dossier events are append-only")


DOSSIERS_PER_FOLDER = 1000


def dossier_upload_path(instance: "DossierDocument", filename: str) -> str:
    """Private storage: the path carries the dossier id and a random name, never the
    applicant's own file name (kept sanitised in original_name).

    One folder holds the files of 1,000 consecutive dossiers (`dossiers/0012/` has
    those of dossiers 12,000-12,999): a folder per dossier made every submission
    create a directory, about 1.5 ms of file-system work (a new inode and directory
    block to write back) on top of the files themselves, and left a million entries
    in one directory (issue 13). Files stored under the former layout
    (`dossiers/<id>/...`) keep their names."""
    folder = (instance.dossier_id or 0) // DOSSIERS_PER_FOLDER
    return f"dossiers/{folder:04d}/{instance.dossier_id}-{instance.sha256[:16]}-{instance.token}"


def dossier_signed_path(instance: "DossierDocument", filename: str) -> str:
    return f"{dossier_upload_path(instance, filename)}-signed"


class DossierDocument(models.Model):
    dossier = models.ForeignKey(
        Dossier, on_delete=models.CASCADE, related_name="documents", verbose_name=_("dossier")
    )
    slot = models.ForeignKey(
        RequiredDocument,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("required document"),
    )
    event = models.ForeignKey(
        DossierEvent,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="attachments",
        verbose_name=_("event"),
    )
    file = models.FileField(_("file"), upload_to=dossier_upload_path, max_length=255)
    token = models.CharField(max_length=32, editable=False)
    original_name = models.CharField(_("file name"), max_length=255)
    size = models.PositiveBigIntegerField(_("size (bytes)"))
    content_type = models.CharField(_("content type"), max_length=100)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    by_applicant = models.BooleanField(_("uploaded by the applicant"), default=False)
    is_result = models.BooleanField(_("result document"), default=False)
    # A PDF result as the applicant downloads it: signed by the department on the first
    # download and kept (procedures/dossiers/documents.py, document_result_signed).
    signed_file = models.FileField(
        _("signed copy"), upload_to=dossier_signed_path, max_length=255, blank=True
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["dossier", "slot", "version"]
        verbose_name = _("dossier document")
        verbose_name_plural = _("dossier documents")

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_pdf(self) -> bool:
        return self.content_type == "application/pdf" or self.original_name.lower().endswith(".pdf")


_score = [MaxValueValidator(2)]


class Rating(models.Model):
    """The applicant's evaluation of one dossier, once (Circular 01/2018)."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, related_name="rating", verbose_name=_("dossier")
    )
    overall = models.CharField(_("overall"), max_length=20, choices=Satisfaction.choices)
    # Criterion scores 0-2 (Circular 01/2018 scores each index 0-2); empty = not rated.
    timeliness = models.PositiveSmallIntegerField(
        _("timeliness"), null=True, blank=True, validators=_score
    )
    attitude = models.PositiveSmallIntegerField(
        _("attitude of staff (4 xin, 4 luôn)"), null=True, blank=True, validators=_score
    )
    visits = models.PositiveSmallIntegerField(
        _("number of visits"), null=True, blank=True, validators=_score
    )
    information = models.PositiveSmallIntegerField(
        _("accuracy of published information"), null=True, blank=True, validators=_score
    )
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("rated at"))

    class Meta:
        verbose_name = _("rating")
        verbose_name_plural = _("ratings")
        constraints = [
            models.CheckConstraint(
                condition=(Q(timeliness__isnull=True) | Q(timeliness__lte=2))
                & (Q(attitude__isnull=True) | Q(attitude__lte=2))
                & (Q(visits__isnull=True) | Q(visits__lte=2))
                & (Q(information__isnull=True) | Q(information__lte=2)),
                name="rating_scores_0_to_2",
            )
        ]
        indexes = [models.Index(fields=["created_at"], name="rating_created_idx")]

    def __str__(self) -> str:
        return f"{self.dossier_id}: {self.get_overall_display()}"
