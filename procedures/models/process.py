from decimal import Decimal

from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procedures.constants import StepRole
from procedures.models.catalogue import Procedure, Unit


class ProcessStep(models.Model):
    """One step of a procedure's approved internal process (quy trình nội bộ).

    The steps split the procedure's time among units (Decree 61/2018 art. 15-20); the
    sum must equal the procedure time, which services/process.py checks.
    """

    procedure = models.ForeignKey(
        Procedure, on_delete=models.CASCADE, related_name="process_steps",
        verbose_name=_("procedure"),
    )
    order = models.PositiveSmallIntegerField(_("order"))
    name = models.CharField(_("step"), max_length=255)
    role = models.CharField(_("role"), max_length=20, choices=StepRole.choices)
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("unit"),
        help_text=_("Empty: the unit the dossier is assigned to."),
    )
    allotted_hours = models.DecimalField(
        _("allotted working hours"), max_digits=7, decimal_places=2,
        validators=[MinValueValidator(Decimal("0.25"))],
    )

    class Meta:
        ordering = ["procedure", "order"]
        verbose_name = _("internal process step")
        verbose_name_plural = _("internal process steps")
        constraints = [
            models.UniqueConstraint(fields=["procedure", "order"], name="process_step_order_unique"),
            models.CheckConstraint(condition=Q(allotted_hours__gt=0), name="process_step_hours_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.order}. {self.name}"
