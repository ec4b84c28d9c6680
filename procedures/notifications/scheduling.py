"""Scheduled runs that survive the broker (issue 14, item 2).

Beat's tick is a broker message: one that fires while Redis is down is dropped
("Couldn't apply scheduled task"), and one taken by a worker that is killed waits for
the broker's visibility timeout (an hour). So the schedule's slots are recorded in
the database (``ScheduledRun``, unique per job, day and slot):

* a run *claims* its slot (conditional UPDATE) and refreshes the claim as it
  progresses; a claim not refreshed for ``SCHEDULED_RUN_LEASE_SECONDS`` belongs to a
  dead worker and may be taken over; a worker starting again under the same Celery
  node name releases its own old claims at once;
* a finished slot is never run again, so beat's tick, the catch-up and a second beat
  run it once between them;
* ``scheduled_runs_catch_up`` (every outbox drain, and so at worker start) runs the
  latest slot of today that is due and not finished, for each job. Only the latest:
  a sweep reminds of everything due when it runs, so a later slot covers a missed
  earlier one, and the month close checks the day itself.

A sweep resumes where it stopped: its progress (the last recipient done) is written
in the transaction of that recipient's digests, and the ledger's unique keys keep a
resumed run from adding anything a first attempt already queued.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone

from procedures.calendar import working_time as calendar
from procedures.models import ScheduledJob, ScheduledRun
from procedures.notifications.delivery import db_write_retrying

logger = logging.getLogger(__name__)

# The beat task behind each job (rows of django-celery-beat's PeriodicTask).
JOB_TASKS: dict[str, str] = {
    ScheduledJob.REMINDERS_SWEEP: "procedures.reminders_sweep",
    ScheduledJob.MONTH_CLOSE: "procedures.report_month_close",
}


def _lease() -> timedelta:
    return timedelta(seconds=getattr(settings, "SCHEDULED_RUN_LEASE_SECONDS", 300))


@dataclass(frozen=True)
class Slot:
    job: str
    day: date
    slot: str  # local "HH:MM"


def scheduled_slot_due(*, job: str, now: datetime) -> Slot | None:
    """The latest slot of `job` today whose time has come, from the beat schedule."""
    from django_celery_beat.models import PeriodicTask

    latest = None
    rows = PeriodicTask.objects.filter(
        enabled=True, task=JOB_TASKS[job], crontab__isnull=False
    ).select_related("crontab")
    for row in rows:
        cron = row.crontab.schedule  # celery's crontab: sets of hours, minutes, days
        local = timezone.localtime(now, row.crontab.timezone or calendar.LOCAL_TZ)
        if (
            local.isoweekday() % 7 not in cron.day_of_week
            or local.day not in cron.day_of_month
            or local.month not in cron.month_of_year
        ):
            continue
        due = [
            (h, m) for h in cron.hour for m in cron.minute if (h, m) <= (local.hour, local.minute)
        ]
        if due:
            candidate = Slot(job, local.date(), "{:02d}:{:02d}".format(*max(due)))
            if latest is None or (candidate.day, candidate.slot) > (latest.day, latest.slot):
                latest = candidate
    return latest


def scheduled_slot_for(*, job: str, now: datetime) -> Slot:
    """The slot a beat tick at `now` stands for: the schedule's latest due slot, or the
    quarter-hour of `now` when the job has no schedule row (a run by hand)."""
    slot = scheduled_slot_due(job=job, now=now)
    if slot is not None:
        return slot
    local = timezone.localtime(now, calendar.LOCAL_TZ)
    return Slot(job, local.date(), f"{local:%H}:{local.minute // 15 * 15:02d}")


def scheduled_run_claim(*, slot: Slot, claimed_by: str) -> ScheduledRun | None:
    """Take the slot for this worker; None when it is finished or someone alive holds it."""
    wall = timezone.now()

    def claim() -> ScheduledRun | None:
        try:
            with transaction.atomic():
                run, _created = ScheduledRun.objects.get_or_create(
                    job=slot.job, day=slot.day, slot=slot.slot
                )
        except IntegrityError:  # created by a concurrent claimer a moment ago
            run = ScheduledRun.objects.get(job=slot.job, day=slot.day, slot=slot.slot)
        won = ScheduledRun.objects.filter(
            Q(claimed_at__isnull=True) | Q(claimed_at__lt=wall - _lease()),
            pk=run.pk,
            finished_at__isnull=True,
        ).update(claimed_at=wall, claimed_by=claimed_by[:200], attempts=F("attempts") + 1)
        if not won:
            return None
        run.refresh_from_db()
        return run

    return db_write_retrying(claim, what=f"claiming {slot}")


def scheduled_run_progress(*, run: ScheduledRun, **progress) -> None:
    """Record progress and refresh the claim; call inside the transaction of the work."""
    run.progress.update(progress)
    run.claimed_at = timezone.now()
    ScheduledRun.objects.filter(pk=run.pk).update(progress=run.progress, claimed_at=run.claimed_at)


def scheduled_run_finish(*, run: ScheduledRun, outcome: str) -> None:
    def finish() -> int:
        return ScheduledRun.objects.filter(pk=run.pk, finished_at__isnull=True).update(
            finished_at=timezone.now(), outcome=outcome[:200], claimed_at=None
        )

    db_write_retrying(finish, what=f"finishing {run}")


def scheduled_run_release(*, claimed_by: str) -> int:
    """At worker start: the previous process of this node name is gone with its claims."""
    if not claimed_by:
        return 0
    released = db_write_retrying(
        lambda: ScheduledRun.objects.filter(
            finished_at__isnull=True, claimed_by=claimed_by[:200], claimed_at__isnull=False
        ).update(claimed_at=None),
        what=f"releasing the scheduled runs of {claimed_by}",
    )
    if released:
        logger.warning("released %s unfinished scheduled run(s) of %s", released, claimed_by)
    return released


def scheduled_run(
    *, slot: Slot, claimed_by: str, work: Callable[[ScheduledRun], str]
) -> str | None:
    """Run `work(run)` for the slot unless it is finished or running elsewhere.

    Returns the outcome, or None when nothing was run. A failure leaves the slot
    claimed (so it is tried again after the lease, not in a tight loop) with the
    error as its outcome, and is raised.
    """
    run = scheduled_run_claim(slot=slot, claimed_by=claimed_by)
    if run is None:
        logger.info("%s %s %s: finished or running elsewhere", slot.job, slot.day, slot.slot)
        return None
    try:
        outcome = work(run)
    except Exception as exc:
        ScheduledRun.objects.filter(pk=run.pk).update(
            outcome=f"{type(exc).__name__}: {exc}"[:200], claimed_at=timezone.now()
        )
        raise
    scheduled_run_finish(run=run, outcome=outcome)
    logger.info("%s %s %s finished: %s", slot.job, slot.day, slot.slot, outcome)
    return outcome


# --------------------------------------------------------------------------- the jobs


def reminders_sweep_run(*, run: ScheduledRun, now: datetime) -> str:
    from procedures.notifications.reminders import reminders_sweep

    result = reminders_sweep(now=now, slot=run.slot.replace(":", ""), run=run)
    if result.skipped:
        return result.skipped
    return (
        f"{len(result.digests)} digests, {result.items} new items, "
        f"{result.already_sent} already sent"
    )


def month_close_run(*, run: ScheduledRun | None = None, now: datetime) -> str:
    """Freeze what closes today (first working day of a month) and mail it, once."""
    from procedures.reports.services import report_close, report_email

    closed = report_close(now=now)
    mailed = 0
    for snapshot, created in closed:
        if created:
            logger.info("Month close: froze %s %s", snapshot.period, snapshot.start)
        mailed += report_email(snapshot_id=snapshot.pk, now=now)
    if not closed:
        return "nothing closes today"
    return f"{len(closed)} report(s) frozen, {mailed} message(s) sent"


JOB_WORK: dict[str, Callable[..., str]] = {
    ScheduledJob.REMINDERS_SWEEP: reminders_sweep_run,
    ScheduledJob.MONTH_CLOSE: month_close_run,
}


def _job_work(job: str, *, now: datetime) -> Callable[[ScheduledRun], str]:
    """The work of `job` for one claimed run."""
    return lambda run: JOB_WORK[job](run=run, now=now)


def scheduled_job_run(*, job: str, now: datetime, claimed_by: str) -> str | None:
    """A beat tick of `job` at `now`: run its slot once (see the module docstring)."""
    slot = scheduled_slot_for(job=job, now=now)
    return scheduled_run(slot=slot, claimed_by=claimed_by, work=_job_work(job, now=now))


def scheduled_runs_catch_up(*, now: datetime | None = None, claimed_by: str) -> dict[str, str]:
    """Run every job's latest due slot of today that no one finished (drain, start-up).

    A failing job is logged with its traceback and recorded on its slot; the other
    jobs and the drain that called this go on.
    """
    now = now or timezone.now()
    done: dict[str, str] = {}
    for job in JOB_TASKS:
        slot = scheduled_slot_due(job=job, now=now)
        if (
            slot is None
            or ScheduledRun.objects.filter(
                job=job, day=slot.day, slot=slot.slot, finished_at__isnull=False
            ).exists()
        ):
            continue
        try:
            outcome = scheduled_run(
                slot=slot,
                claimed_by=claimed_by,
                work=_job_work(job, now=now),
            )
        except SoftTimeLimitExceeded:
            raise  # the task's time is up: the slot stays claimed and resumes later
        except Exception:  # noqa: BLE001 - recorded on the slot; the drain must go on
            logger.exception(
                "catching up %s %s %s failed; tried again after the lease", job, slot.day, slot.slot
            )
            continue
        if outcome is not None:
            logger.warning(
                "caught up %s %s %s (its beat tick was lost): %s", job, slot.day, slot.slot, outcome
            )
            done[job] = outcome
    return done
