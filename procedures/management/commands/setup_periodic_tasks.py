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

        def ensure(name: str, task: str, description: str, **schedule) -> None:
            # Created once; an admin's later changes to the schedule are kept.
            _task, new = PeriodicTask.objects.get_or_create(
                name=name, defaults={"task": task, "description": description, **schedule}
            )
            if new:
                created.append(name)

        with transaction.atomic():
            every_minute, _c = IntervalSchedule.objects.get_or_create(
                every=1, period=IntervalSchedule.MINUTES
            )
            ensure(
                DRAIN_NAME,
                "procedures.deliver_pending",
                _(
                    "Sends messages left pending by a broker outage "
                    "and retries failed sends with backoff."
                ),
                interval=every_minute,
            )
            for value in settings.REMINDER_SWEEP_TIMES:
                hour, minute = _parse(value)
                ensure(
                    SWEEP_NAME.format(time=f"{hour:02d}:{minute:02d}"),
                    "procedures.reminders_sweep",
                    _(
                        "Deadline digests to officers, unit heads and "
                        "directors; skipped on non-working days."
                    ),
                    crontab=self._daily(hour, minute),
                )
            ensure(
                MONTH_CLOSE_NAME,
                "procedures.report_month_close",
                _(
                    "Freezes and mails the previous month's report; "
                    "acts only on the first working day of a month."
                ),
                crontab=self._daily(*MONTH_CLOSE_AT),
            )
            ensure(
                SESSIONS_CLEAR_NAME,
                "procedures.sessions_clear",
                _("Deletes expired sessions from the database, every night."),
                crontab=self._daily(*SESSIONS_CLEAR_AT),
            )
        for name in created:
            self.stdout.write(_("created: %(name)s") % {"name": name})
        if not created:
            self.stdout.write(_("Periodic tasks already set up; nothing changed."))
