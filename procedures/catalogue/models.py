"""The catalogue of administrative procedures (Decree 63/2010 art. 8; docs/legal-rules.md:
"Procedure catalogue")."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procedures.core.constants import (
    ChangeKind,
    DocumentKind,
    Level,
    OnlineLevel,
    ProcedureStatus,
    StepRole,
    TimeUnit,
)


class Field(models.Model):
    """Lĩnh vực: a field of the department's work, with the ministry's code when known."""

    name = models.CharField(_("name"), max_length=255, unique=True)
    ministry_code = models.CharField(
        _("ministry code"), max_length=20, blank=True, help_text=_("G02-CTxx when known.")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["order", "name"]
        verbose_name = _("field")
        verbose_name_plural = _("fields")

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    """Phòng ban: a unit of the department that processes dossiers."""

    code = models.CharField(_("code"), max_length=30, unique=True)
    name = models.CharField(_("name"), max_length=255)
    email = models.EmailField(_("email"), blank=True)
    is_one_stop_desk = models.BooleanField(_("one-stop desk"), default=False)

    class Meta:
        ordering = ["name"]
        verbose_name = _("unit")
        verbose_name_plural = _("units")

    def __str__(self) -> str:
        return self.name


# What makes a procedure take dossiers at this department, written once as a Q for the
# queries and once as a predicate for a loaded row (Procedure.accepts_dossiers /
# accepts_online); tests/procedures/test_portal_catalogue.py checks the two agree.
# District-level procedures are published in the same provincial set but are received
# by the district (since 1 July 2025 the commune) one-stop desk, never here.
ACCEPTS_DOSSIERS = (
    Q(status=ProcedureStatus.ACTIVE) & Q(level=Level.PROVINCE) & Q(processing_amount__isnull=False)
)
# Online: one of the two Decree 42/2022 levels (toàn trình, một phần) and the online
# channel open.
ACCEPTS_ONLINE = (
    ACCEPTS_DOSSIERS
    & Q(online_level__in=(OnlineLevel.FULL, OnlineLevel.PARTIAL))
    & Q(channel_online=True)
)


class ProcedureQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=ProcedureStatus.ACTIVE)

    def departmental(self):
        """In force and handled by the department itself: its public list."""
        return self.active().filter(level=Level.PROVINCE)

    def accepting_dossiers(self):
        return self.filter(ACCEPTS_DOSSIERS)

    def accepting_online(self):
        """The one rule for "accepts online dossiers": the home count and the submit
        button both come from it."""
        return self.filter(ACCEPTS_ONLINE)


class Procedure(models.Model):
    """Thủ tục hành chính. Current values; every change is kept in ProcedureVersion."""

    code = models.CharField(
        _("national code"),
        max_length=30,
        unique=True,
        null=True,
        blank=True,
        help_text=_("Code in the National Database on Administrative Procedures, e.g. 2.000004."),
    )
    name = models.TextField(_("name"))
    field = models.ForeignKey(
        Field, on_delete=models.PROTECT, related_name="procedures", verbose_name=_("field")
    )
    level = models.CharField(
        _("level"), max_length=10, choices=Level.choices, default=Level.PROVINCE
    )
    processing_amount = models.DecimalField(
        _("processing time"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5"))],
        help_text=_("Empty while the time is not yet published: no dossier can be accepted."),
    )
    processing_unit = models.CharField(
        _("time unit"), max_length=20, choices=TimeUnit.choices, default=TimeUnit.WORKING_DAYS
    )
    online_processing_amount = models.DecimalField(
        _("processing time when submitted online"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0.5"))],
    )
    fee_vnd = models.PositiveBigIntegerField(_("fee (VND)"), null=True, blank=True)
    fee_text = models.TextField(
        _("fees and charges"), blank=True, help_text=_("Tiered or conditional fees in words.")
    )
    online_level = models.CharField(
        _("online level"), max_length=10, choices=OnlineLevel.choices, default=OnlineLevel.NONE
    )
    online_level_text = models.CharField(_("online level as published"), max_length=255, blank=True)
    channel_direct = models.BooleanField(_("at the one-stop desk"), default=True)
    channel_postal = models.BooleanField(_("by public postal service"), default=True)
    channel_online = models.BooleanField(_("online"), default=False)
    steps = models.TextField(_("steps"), blank=True)
    applicants = models.TextField(_("who may apply"), blank=True)
    conditions = models.TextField(_("conditions"), blank=True)
    result = models.TextField(_("result document"), blank=True)
    legal_basis = models.TextField(_("legal basis"), blank=True)
    implementing_unit = models.ForeignKey(
        Unit,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="procedures",
        verbose_name=_("implementing unit"),
    )
    publishing_decision = models.CharField(_("publishing decision"), max_length=255, blank=True)
    effective_from = models.DateField(_("effective from"), null=True, blank=True)
    effective_to = models.DateField(_("effective to"), null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=ProcedureStatus.choices, default=ProcedureStatus.ACTIVE
    )
    source = models.TextField(_("source"), blank=True)
    documents_source = models.TextField(
        _("source of the document list"),
        blank=True,
        help_text=_(
            "Where the list of required documents was taken from (addresses of the "
            "published procedure pages)."
        ),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = ProcedureQuerySet.as_manager()

    class Meta:
        ordering = ["field__order", "field__name", "name"]
        verbose_name = _("procedure")
        verbose_name_plural = _("procedures")
        constraints = [
            models.CheckConstraint(
                condition=Q(processing_amount__isnull=True) | Q(processing_amount__gt=0),
                name="procedure_processing_amount_positive",
            ),
            models.CheckConstraint(
                condition=Q(online_processing_amount__isnull=True)
                | (
                    Q(processing_amount__isnull=False)
                    & Q(online_processing_amount__gt=0)
                    & Q(online_processing_amount__lte=models.F("processing_amount"))
                ),
                name="procedure_online_time_not_longer",
            ),
            models.CheckConstraint(
                condition=Q(effective_to__isnull=True)
                | Q(effective_from__isnull=True)
                | Q(effective_to__gte=models.F("effective_from")),
                name="procedure_effective_range",
            ),
        ]
        indexes = [models.Index(fields=["status", "field"])]

    def __str__(self) -> str:
        return f"{self.code} {self.name}" if self.code else self.name

    @property
    def time_published(self) -> bool:
        return self.processing_amount is not None

    @property
    def is_departmental(self) -> bool:
        return self.level == Level.PROVINCE

    @property
    def accepts_dossiers(self) -> bool:
        """Same rule as ACCEPTS_DOSSIERS, for a row already loaded."""
        return (
            self.status == ProcedureStatus.ACTIVE and self.is_departmental and self.time_published
        )

    @property
    def accepts_online(self) -> bool:
        """Same rule as ACCEPTS_ONLINE, for a row already loaded."""
        return (
            self.accepts_dossiers
            and self.online_level in (OnlineLevel.FULL, OnlineLevel.PARTIAL)
            and self.channel_online
        )


class RequiredDocument(models.Model):
    """Thành phần hồ sơ: one paper the applicant must bring or upload."""

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="documents", verbose_name=_("procedure")
    )
    name = models.TextField(_("name"))
    kind = models.CharField(
        _("original or copy"),
        max_length=20,
        choices=DocumentKind.choices,
        default=DocumentKind.ORIGINAL,
    )
    copies = models.PositiveSmallIntegerField(_("number of copies"), default=1)
    mandatory = models.BooleanField(_("mandatory"), default=True)
    template = models.FileField(
        _("form template"),
        upload_to="templates/%Y/",
        blank=True,
        help_text=_("Blank form the applicant can download."),
    )
    template_name = models.TextField(
        _("form template (as the law names it)"),
        blank=True,
        help_text=_(
            'The form the law prescribes, e.g. "Mẫu số 01 Phụ lục I Nghị định '
            '105/2017/NĐ-CP"; shown when no blank form file is attached.'
        ),
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)

    class Meta:
        ordering = ["procedure", "order", "id"]
        verbose_name = _("required document")
        verbose_name_plural = _("required documents")
        constraints = [
            models.CheckConstraint(condition=Q(copies__gte=1), name="document_copies_at_least_one")
        ]

    def __str__(self) -> str:
        return self.name


class ProcedureVersion(models.Model):
    """One published state of a procedure, with the decision that made it.

    Append-only: a dossier points at the version in force when it was accepted, so a
    later amendment never moves a running deadline.
    """

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="versions", verbose_name=_("procedure")
    )
    number = models.PositiveIntegerField(_("version"))
    kind = models.CharField(_("change"), max_length=10, choices=ChangeKind.choices)
    decision_number = models.CharField(_("decision number"), max_length=255, blank=True)
    decision_date = models.DateField(_("decision date"), null=True, blank=True)
    effective_from = models.DateField(_("effective from"))
    changes = models.JSONField(
        _("changes"),
        default=dict,
        blank=True,
        help_text=_("Changed attributes as {name: [old, new]}."),
    )
    processing_amount = models.DecimalField(
        _("processing time"), max_digits=6, decimal_places=1, null=True, blank=True
    )
    processing_unit = models.CharField(_("time unit"), max_length=20, choices=TimeUnit.choices)
    online_processing_amount = models.DecimalField(
        _("processing time when submitted online"),
        max_digits=6,
        decimal_places=1,
        null=True,
        blank=True,
    )
    fee_vnd = models.PositiveBigIntegerField(_("fee (VND)"), null=True, blank=True)
    fee_text = models.TextField(_("fees and charges"), blank=True)
    note = models.TextField(_("note"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("recorded at"), auto_now_add=True)

    class Meta:
        ordering = ["procedure", "-number"]
        verbose_name = _("procedure version")
        verbose_name_plural = _("procedure versions")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "number"], name="procedure_version_unique")
        ]
        indexes = [models.Index(fields=["effective_from", "kind"])]

    def __str__(self) -> str:
        return f"{self.procedure_id} v{self.number} ({self.get_kind_display()})"

    @property
    def time_saved(self) -> Decimal | None:
        """Processing time cut by this amendment, in the procedure's unit."""
        change = self.changes.get("processing_amount")
        if not change or change[0] is None or change[1] is None:
            return None
        return Decimal(str(change[0])) - Decimal(str(change[1]))


class ProcessStep(models.Model):
    """One step of a procedure's approved internal process (quy trình nội bộ).

    The steps split the procedure's time among units (Decree 61/2018 art. 15-20); the
    sum must equal the procedure time, which services/process.py checks.
    """

    procedure = models.ForeignKey(
        Procedure,
        on_delete=models.CASCADE,
        related_name="process_steps",
        verbose_name=_("procedure"),
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
        help_text=_("Empty: the unit the dossier is assigned to."),
    )
    allotted_hours = models.DecimalField(
        _("allotted working hours"),
        max_digits=7,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )

    class Meta:
        ordering = ["procedure", "order"]
        verbose_name = _("internal process step")
        verbose_name_plural = _("internal process steps")
        constraints = [
            models.UniqueConstraint(
                fields=["procedure", "order"], name="process_step_order_unique"
            ),
            models.CheckConstraint(
                condition=Q(allotted_hours__gt=0), name="process_step_hours_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"


class StaffProfile(models.Model):
    """What the department knows of a staff account beyond Django's user."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_profile",
        verbose_name=_("user"),
    )
    unit = models.ForeignKey(
        Unit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="staff",
        verbose_name=_("unit"),
    )
    title = models.CharField(_("job title"), max_length=255, blank=True)
    notify_by_email = models.BooleanField(_("reminders by email"), default=True)
    notify_in_app = models.BooleanField(_("reminders in the app"), default=True)
    language = models.CharField(
        _("language"), max_length=5, choices=settings.LANGUAGES, default="vi"
    )

    class Meta:
        verbose_name = _("staff profile")
        verbose_name_plural = _("staff profiles")

    def __str__(self) -> str:
        return str(self.user)
