from django.db import models
from django.utils.translation import gettext_lazy as _


class CalendarOverride(models.Model):
    """A decision the `holidays` package does not know yet; it wins over the package.

    Example: the Prime Minister moves a working Saturday to give a longer Tết break.
    """

    date = models.DateField(_("date"), unique=True)
    is_working = models.BooleanField(
        _("working day"),
        help_text=_("Ticked: staff work on this date. Unticked: the office is closed."),
    )
    reason = models.CharField(_("reason"), max_length=255)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        ordering = ["date"]
        verbose_name = _("calendar override")
        verbose_name_plural = _("calendar overrides")

    def __str__(self) -> str:
        state = _("working") if self.is_working else _("day off")
        return f"{self.date:%d/%m/%Y} ({state}): {self.reason}"
