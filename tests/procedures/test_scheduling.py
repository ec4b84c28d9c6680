"""Scheduled runs recorded in the database (issue 14, item 2): a beat tick lost with
the broker is caught up by the drain, a sweep interrupted mid-way resumes where it
stopped, two beats run a slot once, and the month close is caught up too.

1 June 2026 is a Monday; 1 July 2026 (Wednesday) is the first working day of July.
"""

from datetime import date, timedelta

import pytest
import time_machine
from django.core import mail
from django.core.management import call_command

from procedures.models import Delivery, ReportSnapshot, ScheduledJob, ScheduledRun
from procedures.notifications import reminders as reminders_service
from procedures.notifications.scheduling import (
    scheduled_run_release,
    scheduled_runs_catch_up,
    scheduled_slot_due,
)
from procedures.tasks import deliver_pending, reminders_sweep

from .conftest import at
from .test_reminders import finish_steps, processing

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_in_english")]


@pytest.fixture
def schedule(db, capsys):
    call_command("setup_periodic_tasks")  # 07:30 and 13:30 sweeps, 06:00 month close
    capsys.readouterr()


@pytest.fixture
def overdue(register, staff, units):
    """Three dossiers of two officers, overdue on Monday 8 June."""
    for officer, unit in [
        ("specialist", "QLTM"),
        ("other_specialist", "QLCN"),
        ("specialist", "QLTM"),
    ]:
        d = processing(register, staff, units, officer=officer, unit=unit)
        finish_steps(d, staff, at(2026, 6, 1, 10, 0))
    Delivery.objects.all().delete()  # event notifications are not under test here


def digests_sent():
    """Recipients of the digests mailed so far (the event notifications were deleted)."""
    return sorted(m.to[0] for m in mail.outbox)


def email_digests() -> int:
    return Delivery.objects.filter(kind="staff.digest", channel="email").count()


def drain_at(moment):
    with time_machine.travel(moment, tick=False):
        return deliver_pending.apply().get()


def test_slots_come_from_the_beat_schedule(schedule):
    assert scheduled_slot_due(job=ScheduledJob.REMINDERS_SWEEP, now=at(2026, 6, 8, 7, 29)) is None
    slot = scheduled_slot_due(job=ScheduledJob.REMINDERS_SWEEP, now=at(2026, 6, 8, 9, 0))
    assert (slot.day, slot.slot) == (date(2026, 6, 8), "07:30")
    assert (
        scheduled_slot_due(job=ScheduledJob.REMINDERS_SWEEP, now=at(2026, 6, 8, 13, 30)).slot
        == "13:30"
    )
    assert (
        scheduled_slot_due(job=ScheduledJob.MONTH_CLOSE, now=at(2026, 6, 8, 6, 0)).slot == "06:00"
    )


def test_a_tick_lost_with_the_broker_is_caught_up_by_the_drain_once(schedule, overdue, staff):
    """Redis was down at 07:30: beat's tick was dropped. The first drain after it comes
    back runs the 07:30 sweep; further drains and the late tick itself add nothing."""
    assert drain_at(at(2026, 6, 8, 7, 0))["selected"] == 0  # before the slot: nothing
    assert not ScheduledRun.objects.filter(job=ScheduledJob.REMINDERS_SWEEP).exists()
    counts = drain_at(at(2026, 6, 8, 7, 50))
    run = ScheduledRun.objects.get(job=ScheduledJob.REMINDERS_SWEEP)
    assert (run.day, run.slot, run.attempts) == (date(2026, 6, 8), "07:30", 1)
    assert run.finished_at is not None and run.outcome.startswith("4 digests")
    sent = digests_sent()
    assert len(sent) == len(set(sent)) == email_digests() == 2  # the two officers
    assert counts["sent"] == 4  # and their in-app digests
    mail.outbox.clear()
    drain_at(at(2026, 6, 8, 7, 51))
    drain_at(at(2026, 6, 8, 8, 30))
    with time_machine.travel(at(2026, 6, 8, 7, 52), tick=False):
        reminders_sweep.apply()  # the beat tick, published late by a retry
    assert mail.outbox == []
    assert ScheduledRun.objects.filter(job=ScheduledJob.REMINDERS_SWEEP).count() == 1


def test_two_beats_run_a_slot_once(schedule, overdue):
    with time_machine.travel(at(2026, 6, 8, 7, 30), tick=False):
        first = reminders_sweep.apply().get()
        second = reminders_sweep.apply().get()
    assert first["outcome"].startswith("4 digests") and second["outcome"] is None
    drain_at(at(2026, 6, 8, 7, 31))
    assert digests_sent() == sorted(set(digests_sent())) and len(digests_sent()) == 2


def test_a_sweep_killed_mid_way_resumes_where_it_stopped(schedule, overdue, monkeypatch):
    real_insert = reminders_service._insert_digest
    users = []

    def killed_at_the_second_recipient(**kw):
        if kw["user"].pk not in users:
            users.append(kw["user"].pk)
        if len(users) == 2:
            raise SystemExit("SIGKILL")  # nothing after this point runs or commits
        return real_insert(**kw)

    monkeypatch.setattr(reminders_service, "_insert_digest", killed_at_the_second_recipient)
    with time_machine.travel(at(2026, 6, 8, 7, 30), tick=False), pytest.raises(SystemExit):
        reminders_sweep.apply(throw=True)
    monkeypatch.undo()
    run = ScheduledRun.objects.get(job=ScheduledJob.REMINDERS_SWEEP)
    assert run.finished_at is None
    assert run.progress == {"last_user": users[0], "recipients": 1}
    first = dict(Delivery.objects.filter(kind="staff.digest").values_list("pk", "user_id"))
    assert set(first.values()) == {users[0]}  # email and in-app digests of the first
    # The claim is alive for the lease: a drain meanwhile does not start it twice...
    drain_at(at(2026, 6, 8, 7, 32))
    run.refresh_from_db()
    assert run.attempts == 1 and run.finished_at is None
    assert len(mail.outbox) == 1  # the digest committed before the kill went out
    # ...after the lease the drain resumes after the last recipient done.
    drain_at(at(2026, 6, 8, 7, 36))
    run.refresh_from_db()
    assert run.finished_at is not None and run.attempts == 2
    assert run.progress == {"last_user": users[1], "recipients": 2}
    sent = digests_sent()
    assert len(sent) == len(set(sent)) == email_digests() == 2
    # The first recipient's digests were not generated again.
    again = Delivery.objects.filter(kind="staff.digest", user_id=users[0])
    assert set(again.values_list("pk", flat=True)) == set(first)


def test_a_restarted_worker_resumes_its_sweep_at_once(schedule, overdue, monkeypatch):
    monkeypatch.setattr(
        reminders_service,
        "_insert_digest",
        lambda **kw: (_ for _ in ()).throw(SystemExit("SIGKILL")),
    )
    with time_machine.travel(at(2026, 6, 8, 7, 30), tick=False), pytest.raises(SystemExit):
        reminders_sweep.apply(throw=True)
    monkeypatch.undo()
    node = ScheduledRun.objects.get(job=ScheduledJob.REMINDERS_SWEEP).claimed_by
    assert node  # the Celery node name of the task's worker
    assert scheduled_run_release(claimed_by="celery@another-node") == 0
    assert scheduled_run_release(claimed_by=node) == 1
    drain_at(at(2026, 6, 8, 7, 31))
    assert len(digests_sent()) == email_digests() == 2


def test_a_non_working_day_slot_is_done_without_mail(schedule, overdue):
    drain_at(at(2026, 6, 6, 8, 0))  # Saturday
    run = ScheduledRun.objects.get(job=ScheduledJob.REMINDERS_SWEEP)
    assert run.outcome == "not a working day" and run.finished_at is not None
    assert mail.outbox == []


def test_the_month_close_is_caught_up_once(schedule, june, staff):  # noqa: F811
    """Beat's 06:00 tick on 1 July was lost: the drain at 08:00 freezes and mails June."""
    drain_at(at(2026, 7, 1, 8, 0))
    assert sorted(ReportSnapshot.objects.values_list("period", "start")) == [
        ("month", date(2026, 6, 1)),
        ("quarter", date(2026, 4, 1)),
    ]

    def report_mails():
        return [m for m in mail.outbox if m.attachments]

    assert len(report_mails()) == 2  # one per frozen period
    drain_at(at(2026, 7, 1, 8, 1))
    assert len(report_mails()) == 2
    close = ScheduledRun.objects.get(job=ScheduledJob.MONTH_CLOSE)
    assert close.outcome == "2 report(s) frozen, 2 message(s) sent"


def test_a_failing_job_does_not_stop_the_drain(schedule, overdue, monkeypatch, caplog):
    monkeypatch.setattr(
        reminders_service, "reminders_plan", lambda **kw: (_ for _ in ()).throw(RuntimeError("bug"))
    )
    with time_machine.travel(at(2026, 6, 8, 7, 45), tick=False):
        assert ScheduledJob.REMINDERS_SWEEP not in scheduled_runs_catch_up(claimed_by="w")
    run = ScheduledRun.objects.get(job=ScheduledJob.REMINDERS_SWEEP)
    assert run.finished_at is None and run.outcome == "RuntimeError: bug"
    assert "catching up reminders_sweep" in caplog.text
    monkeypatch.undo()
    # Tried again once the lease has passed, not in a tight loop.
    assert drain_at(at(2026, 6, 8, 7, 46)) is not None
    assert ScheduledRun.objects.get(pk=run.pk).finished_at is None
    drain_at(at(2026, 6, 8, 7, 45) + timedelta(seconds=301))
    assert ScheduledRun.objects.get(pk=run.pk).finished_at is not None


def test_the_admin_lists_the_runs_read_only(schedule, overdue, admin_client):
    drain_at(at(2026, 6, 8, 7, 50))
    page = admin_client.get("/admin/procedures/scheduledrun/")
    assert page.status_code == 200
    assert "07:30" in page.content.decode() and "4 digests" in page.content.decode()
    assert admin_client.get("/admin/procedures/scheduledrun/add/").status_code == 403
