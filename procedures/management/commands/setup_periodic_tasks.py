"""Create the beat schedule rows (django-celery-beat) once; the admin edits them after.

Idempotent: rows are looked up by name and never overwritten, so times changed in
the admin ("Periodic tasks") survive every `make run` / deploy.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

DRAIN_NAME = "Deliveries: send pending messages (outbox drain)"
SWEEP_NAME = "Reminders: deadline digest at {time}"
MONTH_CLOSE_NAME = "Reports: freeze last month's report on the first working day"
MONTH_CLOSE_AT = (6, 0)
SESSIONS_CLEAR_NAME = "Sessions: delete expired sessions (clearsessions)"
SESSIONS_CLEAR_AT = (3, 15)


def _parse(value: str) -> tuple[int, int]:
    try:
        hour, minute = (int(p) for p in value.split(":"))
    except ValueError:
        raise CommandError(_("REMINDER_SWEEP_TIMES: %(v)s is not HH:MM.") % {"v": value}) from None
    if not (0 <= hour < 24 and 0 <= minute < 60):
        raise CommandError(_("REMINDER_SWEEP_TIMES: %(v)s is not HH:MM.") % {"v": value})
    return hour, minute


class Command(BaseCommand):
    help = _(
        "Create the periodic tasks of the reminders, the outbox drain, the month "
        "close and the session clean-up if missing."
    )

    @staticmethod
    def _daily(hour: int, minute: int) -> CrontabSchedule:
        # Every day: the tasks themselves skip non-working days, so holidays, Tết and
        # worked Saturdays follow the working-time calendar.
        crontab, _c = CrontabSchedule.objects.get_or_create(
            minute=str(minute),
            hour=str(hour),
            day_of_week="*",
            day_of_month="*",
            month_of_year="*",
            timezone=settings.TIME_ZONE,
        )
        return crontab

    def handle(self, *args, **options):
        created = []
        with transaction.atomic():
            every_minute, _c = IntervalSchedule.objects.get_or_create(
                every=1, period=IntervalSchedule.MINUTES
            )
            _task, new = PeriodicTask.objects.get_or_create(
                name=DRAIN_NAME,
                defaults={
                    "task": "procedures.deliver_pending",
                    "interval": every_minute,
                    "description": _(
                        "Sends messages left pending by a broker outage "
                        "and retries failed sends with backoff."
                    ),
                },
            )
            if new:
                created.append(DRAIN_NAME)
            for value in settings.REMINDER_SWEEP_TIMES:
                hour, minute = _parse(value)
                crontab = self._daily(hour, minute)
                name = SWEEP_NAME.format(time=f"{hour:02d}:{minute:02d}")
                _task, new = PeriodicTask.objects.get_or_create(
                    name=name,
                    defaults={
                        "task": "procedures.reminders_sweep",
                        "crontab": crontab,
                        "description": _(
                            "Deadline digests to officers, unit heads and "
                            "directors; skipped on non-working days."
                        ),
                    },
                )
                if new:
                    created.append(name)
            _task, new = PeriodicTask.objects.get_or_create(
                name=MONTH_CLOSE_NAME,
                defaults={
                    "task": "procedures.report_month_close",
                    "crontab": self._daily(*MONTH_CLOSE_AT),
                    "description": _(
                        "Freezes and mails the previous month's report; "
                        "acts only on the first working day of a month."
                    ),
                },
            )
            if new:
                created.append(MONTH_CLOSE_NAME)
            _task, new = PeriodicTask.objects.get_or_create(
                name=SESSIONS_CLEAR_NAME,
                defaults={
                    "task": "procedures.sessions_clear",
                    "crontab": self._daily(*SESSIONS_CLEAR_AT),
                    "description": _("Deletes expired sessions from the database, every night."),
                },
            )
            if new:
                created.append(SESSIONS_CLEAR_NAME)
        for name in created:
            self.stdout.write(_("created: %(name)s") % {"name": name})
        if not created:
            self.stdout.write(_("Periodic tasks already set up; nothing changed."))
