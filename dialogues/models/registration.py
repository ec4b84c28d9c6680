"""Businesses and their registrations for a session."""

import uuid

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from dialogues.constants import RegistrationStatus


class Business(models.Model):
    """A business known to the department by its tax code (mã số thuế)."""

    tax_code = models.CharField(_("tax code"), max_length=14, unique=True)
    name = models.CharField(_("name"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        ordering = ["name"]
        verbose_name = _("business")
        verbose_name_plural = _("businesses")

    def __str__(self) -> str:
        return f"{self.name} ({self.tax_code})"


class Registration(models.Model):
    # The personal link carries public_id (not guessable, not a counter) and a token
    # whose keyed hash only is stored: a leaked database gives no working links.
    public_id = models.UUIDField(_("public id"), default=uuid.uuid4, unique=True, editable=False)
    token_hash = models.CharField(max_length=64, editable=False)
    session = models.ForeignKey(
        "dialogues.DialogueSession",
        on_delete=models.CASCADE,
        related_name="registrations",
        verbose_name=_("session"),
    )
    business = models.ForeignKey(
        Business, on_delete=models.PROTECT, related_name="registrations", verbose_name=_("business")
    )
    business_name = models.CharField(_("business name"), max_length=255)
    tax_code = models.CharField(_("tax code"), max_length=14)
    representative = models.CharField(_("representative"), max_length=255)
    position = models.CharField(_("position"), max_length=255, blank=True)
    email = models.EmailField(_("email"))
    phone = models.CharField(_("phone"), max_length=30)
    attendees = models.PositiveSmallIntegerField(_("number of attendees"), default=1)
    questions = models.TextField(_("questions in advance"), blank=True)
    status = models.CharField(_("status"), max_length=20, choices=RegistrationStatus.choices)
    language = models.CharField(_("language"), max_length=10, default="vi")
    attended = models.BooleanField(_("attended"), null=True, blank=True)
    created_at = models.DateTimeField(_("registered at"))
    promoted_at = models.DateTimeField(
        _("promoted from the waiting list at"), null=True, blank=True
    )
    cancelled_at = models.DateTimeField(_("cancelled at"), null=True, blank=True)

    class Meta:
        ordering = ["session", "created_at", "id"]
        verbose_name = _("registration")
        verbose_name_plural = _("registrations")
        constraints = [
            # One live registration per business and session; a cancelled one may be
            # followed by a new one.
            models.UniqueConstraint(
                fields=["session", "tax_code"],
                condition=~Q(status=RegistrationStatus.CANCELLED),
                name="dialogue_registration_one_live_per_business",
            ),
            models.CheckConstraint(
                condition=Q(attendees__gte=1), name="dialogue_registration_attendees"
            ),
            models.CheckConstraint(
                condition=Q(status=RegistrationStatus.CANCELLED, cancelled_at__isnull=False)
                | (~Q(status=RegistrationStatus.CANCELLED) & Q(cancelled_at__isnull=True)),
                name="dialogue_registration_cancelled_at",
            ),
        ]
        indexes = [models.Index(fields=["session", "status", "created_at"])]

    def __str__(self) -> str:
        return f"{self.business_name} – {self.session_id}"
