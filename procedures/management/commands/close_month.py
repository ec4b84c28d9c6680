"""Freeze a period's report by hand (the beat task does it on the first working day).

python manage.py close_month                 # the month before this one
python manage.py close_month --period 2026-06
python manage.py close_month --period 2026-Q2 --no-email
python manage.py close_month --if-due        # exactly what the beat task does
"""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from procedures.core.errors import DomainError
from procedures.reports.selectors import Period
from procedures.reports.services import report_close, report_email, report_freeze


class Command(BaseCommand):
    help = "Freeze the report of a month, quarter or year and mail it to the leaders."

    def add_arguments(self, parser):
        parser.add_argument("--period", help="YYYY-MM, YYYY-Qn or YYYY; default: last month.")
        parser.add_argument("--no-email", action="store_true", help="Freeze without mailing.")
        parser.add_argument(
            "--if-due",
            action="store_true",
            help="Act only on the first working day of the month, closing "
            "the month just ended (and its quarter / year).",
        )

    def handle(self, *args, period=None, no_email=False, if_due=False, **options):
        now = timezone.now()
        try:
            if if_due:
                if period:
                    raise CommandError("--if-due closes the month just ended; drop --period.")
                results = report_close(now=now)
                if not results:
                    self.stdout.write("Not the first working day of the month: nothing to do.")
            else:
                today = timezone.localdate(now)
                p = (
                    Period.parse(period)
                    if period
                    else Period.month(today.year, today.month).previous()
                )
                results = [report_freeze(period=p.kind, start=p.start, now=now)]
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        for snapshot, created in results:
            state = "frozen" if created else "already frozen"
            self.stdout.write(
                f"{snapshot.period} {snapshot.start:%Y-%m-%d}: {state} (snapshot {snapshot.pk})"
            )
            if not no_email:
                sent = report_email(snapshot_id=snapshot.pk, now=now)
                self.stdout.write(
                    f"  e-mailed: {sent} message(s)"
                    if sent
                    else "  e-mail: already sent or no recipient"
                )
