from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from procedures.models.catalogue import Unit


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
