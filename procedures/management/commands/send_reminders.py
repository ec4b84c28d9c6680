"""Run the reminder sweep by hand: `manage.py send_reminders [--dry-run] [--now ISO]`."""

from datetime import datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.calendar import working_time as calendar
from procedures.notifications.reminders import reminders_sweep


class Command(BaseCommand):
    help = _(
        "Build and queue the deadline reminder digests now (what beat does at the set "
        "times). With --dry-run, list what would go out and change nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help=_("List the digests that would go out; write nothing."),
        )
        parser.add_argument(
            "--now",
            help=_(
                "Pretend it is this moment (ISO 8601, e.g. 2026-06-01T07:30+07:00); for testing."
            ),
        )
        parser.add_argument("--slot", help=_("Digest slot label (default: the time of day)."))
        parser.add_argument(
            "--force", action="store_true", help=_("Run even if the day is not a working day.")
        )

    def handle(self, *args, **options):
        now = timezone.now()
        if options["now"]:
            try:
                now = datetime.fromisoformat(options["now"])
            except ValueError as exc:
                raise CommandError(
                    _("--now: %(value)s is not an ISO 8601 date and time.")
                    % {"value": options["now"]}
                ) from exc
            if timezone.is_naive(now):
                now = timezone.make_aware(now, calendar.LOCAL_TZ)
        result = reminders_sweep(
            now=now, slot=options["slot"], dry_run=options["dry_run"], force=options["force"]
        )
        if result.skipped:
            self.stdout.write(
                _("%(day)s is not a working day: no reminders (use --force).") % {"day": result.day}
            )
            return
        if options["dry_run"]:
            for recipient, channel, items in result.would_send:
                self.stdout.write(
                    f"{recipient} [{channel}]: " + _("%(n)s new item(s)") % {"n": len(items)}
                )
                for kind, key in items:
                    self.stdout.write(f"    {kind:<28} {key}")
            self.stdout.write(
                _(
                    "Dry run: %(d)s digest(s) with %(i)s new item(s) would go out; "
                    "%(a)s item(s) were reminded before. Nothing was written."
                )
                % {"d": len(result.would_send), "i": result.items, "a": result.already_sent}
            )
            return
        self.stdout.write(
            _("Queued %(d)s digest(s) with %(i)s new item(s); %(a)s item(s) were reminded before.")
            % {"d": len(result.digests), "i": result.items, "a": result.already_sent}
        )
