"""Recommendations (kiến nghị) of businesses and the department's answers."""

import secrets

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dialogues.constants import (
    AnswerKind,
    AnswerState,
    RecommendationAction,
    RecommendationSource,
    RecommendationStatus,
)


class RecommendationQuerySet(models.QuerySet):
    def published(self):
        return self.filter(published_at__isnull=False)


class Recommendation(models.Model):
    session = models.ForeignKey(
        "dialogues.DialogueSession",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommendations",
        verbose_name=_("session"),
        help_text=_("Empty for a recommendation sent between sessions."),
    )
    registration = models.ForeignKey(
        "dialogues.Registration",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="recommendations",
        verbose_name=_("registration"),
    )
    business = models.ForeignKey(
        "dialogues.Business",
        on_delete=models.PROTECT,
        related_name="recommendations",
        verbose_name=_("business"),
    )
    source = models.CharField(_("source"), max_length=20, choices=RecommendationSource.choices)
    field = models.ForeignKey(
        "procedures.Field",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommendations",
        verbose_name=_("field"),
    )
    content = models.TextField(_("content"))
    contact_email = models.EmailField(_("contact email"), blank=True)
    status = models.CharField(
        _("status"),
        max_length=30,
        choices=RecommendationStatus.choices,
        default=RecommendationStatus.RECEIVED,
    )
    unit = models.ForeignKey(
        "procedures.Unit",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="recommendations",
        verbose_name=_("unit responsible"),
    )
    received_at = models.DateTimeField(_("received at"))
    assigned_at = models.DateTimeField(_("assigned at"), null=True, blank=True)
    answer_due_at = models.DateTimeField(_("answer due"), null=True, blank=True)
    # Precomputed so the escalation scan is one indexed comparison (working days cannot
    # be counted inside the database).
    escalate_at = models.DateTimeField(_("escalate at"), null=True, blank=True, editable=False)
    # Draft and approval of the answer.
    answer_kind = models.CharField(
        _("answer given"), max_length=20, choices=AnswerKind.choices, blank=True
    )
    answer_text = models.TextField(_("answer"), blank=True)
    answer_document_number = models.CharField(
        _("answer document number"), max_length=100, blank=True
    )
    answer_state = models.CharField(
        _("answer state"), max_length=20, choices=AnswerState.choices, default=AnswerState.NONE
    )
    answer_drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer drafted by"),
    )
    answer_approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answer approved by"),
    )
    answer_approved_at = models.DateTimeField(_("answer approved at"), null=True, blank=True)
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)
    forwarded_to = models.CharField(_("forwarded to"), max_length=255, blank=True)
    forwarded_at = models.DateTimeField(_("forwarded at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("resolved or closed at"), null=True, blank=True)
    is_public = models.BooleanField(
        _("public"), default=True, help_text=_("Publish the approved answer for other businesses.")
    )
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    objects = RecommendationQuerySet.as_manager()

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("recommendation")
        verbose_name_plural = _("recommendations")
        permissions = [("approve_answer", "Can approve answers for publication")]
        constraints = [
            # Nothing reaches the public page without an approved answer.
            models.CheckConstraint(
                condition=Q(published_at__isnull=True)
                | Q(answer_state=AnswerState.APPROVED, is_public=True),
                name="dialogue_recommendation_published_needs_approval",
            ),
            models.CheckConstraint(
                condition=Q(answered_at__isnull=True) | Q(answer_state=AnswerState.APPROVED),
                name="dialogue_recommendation_answered_needs_approval",
            ),
            models.CheckConstraint(
                condition=~Q(
                    status__in=[
                        RecommendationStatus.ANSWERED_AT_SESSION,
                        RecommendationStatus.ANSWERED_IN_WRITING,
                    ]
                )
                | Q(answered_at__isnull=False),
                name="dialogue_recommendation_answered_status",
            ),
            models.CheckConstraint(
                condition=~Q(status=RecommendationStatus.ASSIGNED) | Q(unit__isnull=False),
                name="dialogue_recommendation_assigned_has_unit",
            ),
            models.CheckConstraint(
                condition=~Q(status=RecommendationStatus.FORWARDED) | Q(forwarded_at__isnull=False),
                name="dialogue_recommendation_forwarded_at",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "answer_due_at"]),
            models.Index(fields=["status", "escalate_at"]),
            models.Index(fields=["received_at"]),
            models.Index(fields=["session", "status"]),
            models.Index(fields=["published_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.content[:60]}"


def attachment_upload_path(instance: "RecommendationAttachment", filename: str) -> str:
    # Private storage under a random name: the uploader's name (kept, sanitised, in
    # original_name for display) never reaches the file system or a URL.
    return f"dialogues/recommendations/{instance.recommendation_id}/{secrets.token_hex(16)}"


class RecommendationAttachment(models.Model):
    recommendation = models.ForeignKey(
        Recommendation,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=_("recommendation"),
    )
    file = models.FileField(_("file"), upload_to=attachment_upload_path, max_length=200)
    original_name = models.CharField(_("file name"), max_length=255)
    # Read from the content by the upload checks, never from the browser.
    content_type = models.CharField(_("content type"), max_length=100, blank=True)
    size = models.PositiveBigIntegerField(_("size (bytes)"), default=0)
    uploaded_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)

    class Meta:
        ordering = ["recommendation", "id"]
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")

    def __str__(self) -> str:
        return self.original_name


class RecommendationEvent(models.Model):
    """Append-only history of a recommendation: who did what, when."""

    recommendation = models.ForeignKey(
        Recommendation,
        on_delete=models.CASCADE,
        related_name="events",
        verbose_name=_("recommendation"),
    )
    action = models.CharField(_("action"), max_length=20, choices=RecommendationAction.choices)
    from_status = models.CharField(_("from status"), max_length=30, blank=True)
    to_status = models.CharField(_("to status"), max_length=30, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("by"),
    )
    at = models.DateTimeField(_("at"))
    note = models.TextField(_("note"), blank=True)

    class Meta:
        ordering = ["recommendation", "at", "id"]
        verbose_name = _("recommendation event")
        verbose_name_plural = _("recommendation events")

    def __str__(self) -> str:
        return f"{self.get_action_display()} #{self.recommendation_id}"
