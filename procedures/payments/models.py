"""Online fee payments of dossiers awaiting payment (status 6), and every callback the
payment platform sent (docs/legal-rules.md "Payment pause", README "Online payment").

A payment is confirmed only by the platform's signed server-to-server notification
(IPN), never by the applicant's browser coming back: the return address can be typed
by anyone. Each callback is recorded as it arrived, forged ones included, as evidence.
"""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procedures.dossiers.models import Dossier, DossierEvent


class PaymentStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for the payment platform")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Not paid")
    # The applicant paid twice for the same request (two tabs, two devices): the money
    # was taken, so the row is kept, and the desk refunds it.
    DUPLICATE = "duplicate", _("Paid twice: to be refunded")


class Payment(models.Model):
    dossier = models.ForeignKey(
        Dossier, on_delete=models.PROTECT, related_name="payments", verbose_name=_("dossier")
    )
    # The "payment requested" event this pays: a dossier may be asked to pay more than
    # once in its life (a fee, later a tax), and each request is paid once.
    request_event = models.ForeignKey(
        DossierEvent,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("payment request"),
    )
    txn_ref = models.CharField(_("transaction reference"), max_length=40, unique=True)
    amount_vnd = models.PositiveBigIntegerField(_("amount (VND)"))
    status = models.CharField(
        _("status"), max_length=10, choices=PaymentStatus.choices, default=PaymentStatus.PENDING
    )
    gateway = models.CharField(_("payment platform"), max_length=30)
    gateway_txn = models.CharField(_("platform transaction number"), max_length=60, blank=True)
    response_code = models.CharField(_("platform response code"), max_length=10, blank=True)
    # The IPN that settled the payment, exactly as received (signature included).
    raw_callback = models.JSONField(_("callback received"), default=dict, blank=True)
    created_at = models.DateTimeField(_("started at"))
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("payment")
        verbose_name_plural = _("payments")
        constraints = [
            models.UniqueConstraint(
                fields=["request_event"],
                condition=Q(status="paid"),
                name="payment_paid_once_per_request",
            ),
            models.CheckConstraint(condition=Q(amount_vnd__gt=0), name="payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.txn_ref} ({self.get_status_display()})"


class CallbackKind(models.TextChoices):
    IPN = "ipn", _("Server notification (IPN)")
    RETURN = "return", _("Applicant's return")


class CallbackOutcome(models.TextChoices):
    CONFIRMED = "confirmed", _("Payment confirmed")
    REPLAY = "replay", _("Repeated: nothing changed")
    NOT_PAID = "not_paid", _("Platform reports not paid")
    DUPLICATE = "duplicate", _("Paid twice: to be refunded")
    BAD_SIGNATURE = "bad_signature", _("Refused: signature does not match")
    WRONG_AMOUNT = "wrong_amount", _("Refused: amount does not match")
    UNKNOWN = "unknown", _("Refused: unknown transaction")
    SHOWN = "shown", _("Shown to the applicant")


class PaymentCallback(models.Model):
    """Append-only log of what the platform (or anyone) sent to our callback addresses."""

    kind = models.CharField(_("kind"), max_length=10, choices=CallbackKind.choices)
    payment = models.ForeignKey(
        Payment,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="callbacks",
        verbose_name=_("payment"),
    )
    params = models.JSONField(_("parameters"), default=dict)
    outcome = models.CharField(_("outcome"), max_length=20, choices=CallbackOutcome.choices)
    remote_addr = models.CharField(_("sender address"), max_length=64, blank=True)
    received_at = models.DateTimeField(_("received at"))

    class Meta:
        ordering = ["-received_at", "-id"]
        verbose_name = _("payment callback")
        verbose_name_plural = _("payment callbacks")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.received_at:%Y-%m-%d %H:%M}: {self.outcome}"
