from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DialoguesConfig(AppConfig):
    name = "dialogues"
    verbose_name = _("Business dialogues")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The shared delivery ledger learns the dialogue mail kinds from here.
        from dialogues.notifications import register_kinds

        register_kinds()
