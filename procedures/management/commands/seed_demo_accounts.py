from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from procedures.catalogue.staff import DEMO_PASSWORD, demo_accounts_ensure


class Command(BaseCommand):
    help = "Create the role groups and the demo staff accounts (idempotent)."

    def handle(self, *args, **options):
        rows = demo_accounts_ensure()
        self.stdout.write(_("Demo staff accounts (password: %(pw)s):") % {"pw": DEMO_PASSWORD})
        for username, role, created in rows:
            state = _("created") if created else _("already there")
            self.stdout.write(f"  {username:<14} {role:<28} {state}")
