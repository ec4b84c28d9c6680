"""manage.py generate_demo_dossiers --count 1000000: a realistic year of dossiers.

Each run adds --count dossiers submitted over the --days days before --end. With
--clear the earlier demo dossiers (applicants at demo.invalid) are deleted first, so
`--clear --count N` always leaves exactly N demo dossiers; `--clear --count 0` only
deletes. Same seed, catalogue and staff: same dossiers. Needs the catalogue
(seed_catalogue) and, for assignments, the staff (seed_demo_accounts).
"""

import os
from datetime import datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _

from procedures.calendar import working_time as calendar
from procedures.core.constants import Channel, DossierStatus, OnTimeResult
from procedures.core.errors import DomainError
from procedures.demo.generator import DEMO_PIN, demo_dossiers_clear, demo_dossiers_generate


def _end(value: str) -> datetime:
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(_("--end must be a date (2026-11-26) or an ISO 8601 date-time."))
        moment = datetime.combine(day, time(0, 0))
    if timezone.is_naive(moment):
        moment = moment.replace(tzinfo=calendar.LOCAL_TZ)
    return moment


class Command(BaseCommand):
    help = _("Generate demo dossiers over a past year, with events, for the demo and benchmarks.")

    def add_arguments(self, parser):
        parser.add_argument(
            "--count", type=int, default=1000, help=_("How many dossiers to add (default 1000).")
        )
        parser.add_argument(
            "--days",
            type=int,
            default=365,
            help=_("Length of the period in days, ending the day before --end."),
        )
        parser.add_argument(
            "--end",
            type=_end,
            default=None,
            help=_(
                "The moment the demo stops at (default: now); later steps "
                "have not happened, so recent dossiers are still open."
            ),
        )
        parser.add_argument("--seed", type=int, default=2026)
        parser.add_argument(
            "--no-events",
            action="store_true",
            help=_("Skip the event log (about four rows per dossier)."),
        )
        parser.add_argument(
            "--pin",
            default=DEMO_PIN,
            help=_("Look-up PIN of every demo dossier (default %(default)s)."),
        )
        parser.add_argument("--batch-size", type=int, default=5000)
        parser.add_argument(
            "--workers",
            type=int,
            default=min(4, os.cpu_count() or 1),
            help=_(
                "Processes writing disjoint days in parallel (PostgreSQL "
                "only; default: the CPUs, at most 4)."
            ),
        )
        parser.add_argument(
            "--clear", action="store_true", help=_("Delete earlier demo dossiers first.")
        )

    def handle(self, *args, **o):
        if o["count"] < 0 or o["batch_size"] < 1 or o["workers"] < 1:
            raise CommandError(
                _("--count must be 0 or more, --batch-size and --workers at least 1.")
            )
        if o["clear"]:
            deleted = demo_dossiers_clear()
            for label, n in deleted.items():
                self.stdout.write(_("Deleted %(n)d %(label)s rows.") % {"n": n, "label": label})
        if not o["count"]:
            return
        verbosity = o["verbosity"]

        def progress(result):
            if verbosity >= 1:
                self.stdout.write(
                    _("  %(n)d dossiers, %(e)d events ...")
                    % {"n": result.dossiers, "e": result.events}
                )

        try:
            result = demo_dossiers_generate(
                count=o["count"],
                end=o["end"],
                days=o["days"],
                seed=o["seed"],
                with_events=not o["no_events"],
                pin=o["pin"],
                batch_size=o["batch_size"],
                workers=o["workers"],
                progress=progress,
            )
        except DomainError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "%(n)d dossiers, %(e)d events, %(s)d steps from %(first)s to %(last)s in "
                    "%(sec).1f s (%(method)s). Look-up PIN: %(pin)s"
                )
                % {
                    "n": result.dossiers,
                    "e": result.events,
                    "s": result.steps,
                    "first": result.first_day,
                    "last": result.last_day,
                    "sec": result.seconds,
                    "method": result.method,
                    "pin": o["pin"],
                }
            )
        )
        for status in DossierStatus:
            n = result.by_status.get(status, 0)
            self.stdout.write(f"  {status.value:>2} {status.label:<28} {n:>9}")
        for channel in Channel:
            self.stdout.write(f"     {channel.label:<28} {result.by_channel.get(channel, 0):>9}")
        for result_kind in OnTimeResult:
            n = result.on_time.get(result_kind, 0)
            self.stdout.write(f"     {result_kind.label:<28} {n:>9}")
