"""An applicant known through the identity provider, and the dossiers that are theirs."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from procedures.dossiers.models import Dossier


class ApplicantAccount(models.Model):
    """One person or business as the identity provider names it: (issuer, subject).

    The other fields are the provider's claims at the last sign-in; they pre-fill the
    submission form and are never trusted as the dossier's data (the applicant confirms
    them on the form, where they are validated like typed values).
    """

    issuer = models.CharField(_("identity provider"), max_length=255)
    subject = models.CharField(_("subject identifier"), max_length=255)
    name = models.CharField(_("name"), max_length=255, blank=True)
    email = models.EmailField(_("email"), blank=True)
    phone = models.CharField(_("phone"), max_length=20, blank=True)
    id_number = models.CharField(_("citizen ID"), max_length=20, blank=True)
    tax_code = models.CharField(_("tax code"), max_length=20, blank=True)
    created_at = models.DateTimeField(_("created at"))
    last_sign_in_at = models.DateTimeField(_("last sign-in"))

    class Meta:
        verbose_name = _("applicant account")
        verbose_name_plural = _("applicant accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["issuer", "subject"], name="applicant_account_issuer_subject_uniq"
            )
        ]

    def __str__(self) -> str:
        return self.name or self.subject


class ApplicantDossier(models.Model):
    """A dossier belongs to at most one account: submitted while signed in, or claimed
    once with its code and PIN."""

    account = models.ForeignKey(
        ApplicantAccount,
        on_delete=models.CASCADE,
        related_name="dossier_links",
        verbose_name=_("applicant account"),
    )
    dossier = models.OneToOneField(
        Dossier,
        on_delete=models.CASCADE,
        related_name="applicant_link",
        verbose_name=_("dossier"),
    )
    claimed = models.BooleanField(
        _("claimed with code and PIN"),
        default=False,
        help_text=_("False when the dossier was submitted while signed in."),
    )
    linked_at = models.DateTimeField(_("linked at"))

    class Meta:
        verbose_name = _("dossier of an applicant account")
        verbose_name_plural = _("dossiers of applicant accounts")

    def __str__(self) -> str:
        return f"{self.account} · {self.dossier_id}"
