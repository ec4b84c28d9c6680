from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from procedures.constants import Satisfaction
from procedures.models.dossier import Dossier

_score = [MaxValueValidator(2)]


class Rating(models.Model):
    """The applicant's evaluation of one dossier, once (Circular 01/2018)."""

    dossier = models.OneToOneField(
        Dossier, on_delete=models.CASCADE, related_name="rating", verbose_name=_("dossier")
    )
    overall = models.CharField(_("overall"), max_length=20, choices=Satisfaction.choices)
    # Criterion scores 0-2 (Circular 01/2018 scores each index 0-2); empty = not rated.
    timeliness = models.PositiveSmallIntegerField(_("timeliness"), null=True, blank=True,
                                                  validators=_score)
    attitude = models.PositiveSmallIntegerField(
        _("attitude of staff (4 xin, 4 luôn)"), null=True, blank=True, validators=_score
    )
    visits = models.PositiveSmallIntegerField(_("number of visits"), null=True, blank=True,
                                              validators=_score)
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
