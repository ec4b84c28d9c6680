"""A dialogue session with businesses (hội nghị đối thoại doanh nghiệp)."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dialogues.constants import UPCOMING_STATUSES, SessionFormat, SessionStatus


class DialogueSessionQuerySet(models.QuerySet):
    def public(self):
        return self.filter(is_published=True)

    def upcoming(self, *, now):
        return self.public().filter(ends_at__gte=now, status__in=UPCOMING_STATUSES)

    def past(self, *, now):
        return self.public().exclude(ends_at__gte=now, status__in=UPCOMING_STATUSES)


class DialogueSession(models.Model):
    title = models.CharField(_("title"), max_length=255)
    topic = models.CharField(_("topic"), max_length=255, blank=True)
    content = models.TextField(_("content"), blank=True)
    format = models.CharField(
        _("format"), max_length=20, choices=SessionFormat.choices, default=SessionFormat.CONFERENCE
    )
    starts_at = models.DateTimeField(_("starts at"))
    ends_at = models.DateTimeField(_("ends at"))
    venue = models.CharField(_("venue"), max_length=255, blank=True)
    online_link = models.URLField(_("online meeting link"), blank=True)
    chair = models.CharField(
        _("chair"), max_length=255, blank=True, help_text=_("Name and title of the chair.")
    )
    host_unit = models.ForeignKey(
        "procedures.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="hosted_dialogues",
        verbose_name=_("host unit"),
    )
    fields = models.ManyToManyField(
        "procedures.Field", blank=True, related_name="dialogues", verbose_name=_("fields concerned")
    )
    capacity = models.PositiveIntegerField(
        _("capacity"), help_text=_("Seats for business attendees.")
    )
    max_attendees_per_registration = models.PositiveSmallIntegerField(
        _("attendees per business at most"), default=3
    )
    registration_deadline = models.DateTimeField(_("registration deadline"))
    answer_working_days = models.PositiveSmallIntegerField(
        _("answer time (working days)"),
        default=15,
        help_text=_(
            "Time given to units for a written answer to each recommendation, counted "
            "from the end of the session (set by the chair's conclusions)."
        ),
    )
    status = models.CharField(
        _("status"), max_length=30, choices=SessionStatus.choices, default=SessionStatus.PLANNED
    )
    is_published = models.BooleanField(_("shown on the public site"), default=True)
    minutes = models.TextField(_("minutes"), blank=True)
    conclusions = models.TextField(_("chair's conclusions"), blank=True)
    # Bumped whenever time or place changes, so calendar clients update the invitation.
    sequence = models.PositiveIntegerField(_("invitation revision"), default=0, editable=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = DialogueSessionQuerySet.as_manager()

    class Meta:
        ordering = ["-starts_at"]
        verbose_name = _("dialogue session")
        verbose_name_plural = _("dialogue sessions")
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="dialogue_session_ends_after_start"
            ),
            models.CheckConstraint(
                condition=Q(registration_deadline__lte=F("starts_at")),
                name="dialogue_session_registration_before_start",
            ),
            models.CheckConstraint(condition=Q(capacity__gte=1), name="dialogue_session_capacity"),
            models.CheckConstraint(
                condition=Q(max_attendees_per_registration__gte=1),
                name="dialogue_session_attendees_per_registration",
            ),
            models.CheckConstraint(
                condition=Q(answer_working_days__gte=1), name="dialogue_session_answer_days"
            ),
        ]
        indexes = [models.Index(fields=["status", "starts_at"])]

    def __str__(self) -> str:
        local = timezone.localtime(self.starts_at)
        return f"{self.title} ({local:%d/%m/%Y})"

    @property
    def is_in_person(self) -> bool:
        return self.format != SessionFormat.ONLINE

    @property
    def is_remote(self) -> bool:
        return self.format in (SessionFormat.ONLINE, SessionFormat.HYBRID)


class AgendaItem(models.Model):
    session = models.ForeignKey(
        DialogueSession, on_delete=models.CASCADE, related_name="agenda", verbose_name=_("session")
    )
    order = models.PositiveSmallIntegerField(_("order"), default=0)
    starts_at = models.TimeField(_("time"), null=True, blank=True)
    title = models.CharField(_("item"), max_length=255)
    presenter = models.CharField(_("presenter"), max_length=255, blank=True)
    description = models.TextField(_("description"), blank=True)

    class Meta:
        ordering = ["session", "order", "starts_at", "id"]
        verbose_name = _("agenda item")
        verbose_name_plural = _("agenda items")

    def __str__(self) -> str:
        return self.title


class SessionDocument(models.Model):
    session = models.ForeignKey(
        DialogueSession,
        on_delete=models.CASCADE,
        related_name="documents",
        verbose_name=_("session"),
    )
    title = models.CharField(_("title"), max_length=255)
    file = models.FileField(_("file"), upload_to="dialogues/sessions/%Y/")
    is_public = models.BooleanField(
        _("public"), default=False, help_text=_("Ticked: businesses can download it.")
    )
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["session", "title"]
        verbose_name = _("session document")
        verbose_name_plural = _("session documents")

    def __str__(self) -> str:
        return self.title
