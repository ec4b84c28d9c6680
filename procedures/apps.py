from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProceduresConfig(AppConfig):
    name = "procedures"
    verbose_name = _("Administrative procedures")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from procedures.calendar import signals  # noqa: F401
        from procedures.catalogue import cache as catalogue_cache
        from procedures.core import checks  # noqa: F401
        from procedures.payments import checks as payment_checks  # noqa: F401

        catalogue_cache.connect_signals()
