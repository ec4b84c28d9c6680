"""Faults with real processes (issue 14): a Redis we stop, restart and freeze, an SMTP
server we stop or make answer 451, workers killed with SIGKILL, two beats.

Every test counts the mail that arrived against the delivery ledger and records the
figures (`fault_record`) for the table of docs/reliability.md. In `make test` the
outages last a few seconds and the worker's delays are shortened to match (retry
delays 1 s, claim and sweep leases 3 s, drain every second); bench/bench_faults.py
runs the same tests with FAULT_REAL=1: Redis down 60 s and 300 s across a real beat
tick, SMTP down 300 s.
"""

import os
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from procedures.calendar import working_time as calendar
from procedures.core.constants import Channel
from procedures.dossiers import services as svc
from procedures.models import CalendarOverride, Delivery, DeliveryStatus, Dossier, ScheduledRun

from .conftest import ROOT, database_url, fault_seconds, wait_until

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

REAL = os.environ.get("FAULT_REAL") == "1"
# The worker's settings for these tests (read from its environment).
FAST = {
    "DELIVERY_RETRY_DELAYS": "1" if not REAL else "5,15,30,60,120",
    "DELIVERY_MAX_ATTEMPTS": "12",
    "DELIVERY_CLAIM_TIMEOUT": "3",
    "SCHEDULED_RUN_LEASE_SECONDS": "3",
    "CELERY_BROKER_SOCKET_TIMEOUT": "2",
    "CELERY_BROKER_CONNECT_TIMEOUT": "2",
}


# ------------------------------------------------------------------ helpers


def drain_every_second():
    from django_celery_beat.models import IntervalSchedule, PeriodicTask

    every = IntervalSchedule.objects.create(every=1, period=IntervalSchedule.SECONDS)
    PeriodicTask.objects.create(name="drain", task="procedures.deliver_pending", interval=every)


def sweep_at(moment) -> str:
    """A beat row for the sweep at `moment` (local, to the minute); returns "HH:MM"."""
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    local = timezone.localtime(moment, calendar.LOCAL_TZ)
    cron = CrontabSchedule.objects.create(
        minute=str(local.minute), hour=str(local.hour), timezone=calendar.LOCAL_TZ
    )
    PeriodicTask.objects.create(
        name=f"sweep {local:%H:%M}", task="procedures.reminders_sweep", crontab=cron
    )
    return f"{local:%H:%M}"


def sweep_slot():
    """The sweep's slot: in `make test` a minute just past (beat will not fire it today:
    its tick is the one lost; create it while the broker is down); with FAULT_REAL=1 the
    next minute, so beat's real tick fires during the outage. Returns (slot, seconds
    until the tick)."""
    now = timezone.now()
    if not REAL:
        return sweep_at(now - timedelta(minutes=1)), 0.0
    tick = (now + timedelta(minutes=1)).replace(second=0, microsecond=0)
    if (tick - now).total_seconds() < 20:
        tick += timedelta(minutes=1)
    return sweep_at(tick), (tick - now).total_seconds()


def overdue_for_officers(register, staff, units, n=4):
    """Today is a working day (override) and n dossiers of two officers are overdue."""
    today = timezone.localdate()
    CalendarOverride.objects.update_or_create(
        date=today, defaults={"is_working": True, "reason": "fault test"}
    )
    calendar.invalidate()
    past = timezone.now() - timedelta(days=30)
    for i in range(n):
        officer, unit = [("specialist", "QLTM"), ("other_specialist", "QLCN")][i % 2]
        d = register(now=past)
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=past)
        d = svc.dossier_assign(
            dossier=d, actor=staff["intake"], unit=units[unit], officer=staff[officer], now=past
        )
        d.steps.update(completed_at=past, started_at=past)


def no_enqueue(monkeypatch):
    """Set-up writes must not reach a broker: the rows are what is under test."""
    monkeypatch.setattr("procedures.notifications.services.enqueue_deliveries", lambda ids: 0)


def expected_mail() -> set[int]:
    return set(
        Delivery.objects.filter(channel="email")
        .exclude(status=DeliveryStatus.IN_DIGEST)
        .values_list("pk", flat=True)
    )


def digest_recipients() -> int:
    return len(
        set(
            Delivery.objects.filter(kind="staff.digest", channel="email").values_list(
                "recipient", flat=True
            )
        )
    )


def all_sent():
    return (
        not Delivery.objects.filter(channel="email")
        .exclude(status__in=[DeliveryStatus.SENT, DeliveryStatus.IN_DIGEST])
        .exists()
    )


def accept_by_api(client: APIClient, dossier: Dossier) -> tuple[int, float]:
    version = Dossier.objects.get(pk=dossier.pk).version
    started = time.monotonic()
    r = client.post(
        f"/api/v1/dossiers/{dossier.code}/actions/accept/",
        {"expected_version": version},
        format="json",
    )
    return r.status_code, time.monotonic() - started


def healthcheck(redis_url: str, **env_extra) -> tuple[int, float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.test",
            "DATABASE_URL": database_url(),
            "REDIS_URL": redis_url,
            "PYTHONPATH": str(ROOT),
        }
    )
    env.update({k: str(v) for k, v in env_extra.items()})
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "manage.py", "celery_healthcheck", "--timeout", "1", "--skip-workers"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done.returncode, time.monotonic() - started, done.stdout + done.stderr


def settle(mailbox, seconds: float = 3.0):
    """Wait through a few more drains: anything sent twice has time to arrive."""
    time.sleep(seconds)
    return mailbox


# ------------------------------------------------------------------ Redis


def test_redis_down_across_a_sweep_tick(
    own_redis, workers, publish_to, register, staff, units, monkeypatch, fault_record
):
    """The sweep's tick falls while Redis is down (dropped by beat); staff accept
    dossiers meanwhile. When Redis is back the drain runs the lost slot; every message
    arrives once and no request failed or waited."""
    no_enqueue(monkeypatch)
    overdue_for_officers(register, staff, units)
    online = [register(channel=Channel.ONLINE) for _ in range(4)]
    Delivery.objects.all().delete()
    monkeypatch.undo()
    drain_every_second()
    down = float(os.environ.get("FAULT_DOWN") or fault_seconds(60, 3))
    publish_to(own_redis.url)
    if REAL:
        slot, until_tick = sweep_slot()
    worker = workers(own_redis.url, name="tick").start(beat=True, **FAST)
    if REAL:
        time.sleep(max(0, until_tick - 10))  # Redis goes down 10 s before the tick
    own_redis.stop()
    if not REAL:
        slot, _until = sweep_slot()  # its time comes (and goes) while Redis is down
    client = APIClient()
    client.force_login(staff["intake"])
    answers = [accept_by_api(client, d) for d in online]
    time.sleep(max(0, down - sum(t for _c, t in answers)))
    assert not ScheduledRun.objects.filter(slot=slot, finished_at__isnull=False).exists()
    own_redis.start()
    wait_until(
        lambda: ScheduledRun.objects.filter(slot=slot, finished_at__isnull=False).exists()
        and all_sent(),
        90 if REAL else 45,
        "the lost slot and every mail",
    )
    settle(workers.mailbox)
    row = fault_record(
        f"Redis down {down:.0f} s across a sweep tick",
        expected_mail(),
        workers.mailbox,
        http_5xx=sum(c >= 500 for c, _t in answers),
        slowest_request_s=round(max(t for _c, t in answers), 2),
    )
    assert [c for c, _t in answers] == [200] * 4
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row
    digests = Delivery.objects.filter(kind="staff.digest", channel="email")
    assert digests.count() >= 2 and row["expected"] == digests.count() + 4  # + acceptances
    assert "caught up reminders_sweep" in worker.log.read_text()


def test_redis_frozen_requests_answer_and_the_healthcheck_says_so(
    own_redis, workers, publish_to, register, staff, monkeypatch, fault_record
):
    """SIGSTOP: TCP connections open, nothing answers. Actions commit and answer in
    about CELERY_ENQUEUE_TIMEOUT; the health check answers within its timeout with
    exit 1; after SIGCONT everything is sent once."""
    no_enqueue(monkeypatch)
    dossiers = [register(channel=Channel.ONLINE) for _ in range(5)]
    monkeypatch.undo()
    drain_every_second()
    publish_to(own_redis.url)
    workers(own_redis.url, name="frozen").start(beat=True, **FAST)
    wait_until(all_sent, 30, "the receipts, Redis up")
    # Freeze between two drain ticks, not on the ack of the tick that sent the receipts:
    # a worker whose late ack times out inside a freeze stops itself for its supervisor
    # to restart (test_lost_ack.py); that is not what this test measures.
    time.sleep(0.5)
    frozen_for = fault_seconds(60, 4)
    own_redis.freeze()
    started = time.monotonic()
    client = APIClient()
    client.force_login(staff["intake"])
    answers = [accept_by_api(client, d) for d in dossiers]
    code, took, output = healthcheck(own_redis.url)
    time.sleep(max(0, frozen_for - (time.monotonic() - started)))
    assert Dossier.objects.filter(pk__in=[d.pk for d in dossiers], status=2).count() == 5
    own_redis.thaw()
    wait_until(all_sent, 90, "the acceptances after SIGCONT")
    settle(workers.mailbox)
    row = fault_record(
        f"Redis frozen (SIGSTOP) {frozen_for:.0f} s",
        expected_mail(),
        workers.mailbox,
        http_5xx=sum(c >= 500 for c, _t in answers),
        slowest_request_s=round(max(t for _c, t in answers), 2),
        healthcheck_exit=code,
        healthcheck_s=round(took, 1),
    )
    assert [c for c, _t in answers] == [200] * 5
    assert max(t for _c, t in answers) < 1.5
    assert code == 1 and took < 10 and "broker" in output, output
    assert row["expected"] == 10
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row


def test_two_beats_send_each_digest_once(
    own_redis, workers, publish_to, register, staff, units, monkeypatch, fault_record
):
    """Two workers each with an embedded beat (a second beat started by mistake): both
    fire the sweep's tick and both drains catch it up; the slot's row lets one run."""
    no_enqueue(monkeypatch)
    overdue_for_officers(register, staff, units, n=6)
    Delivery.objects.all().delete()
    monkeypatch.undo()
    drain_every_second()
    slot, until_tick = sweep_slot()
    publish_to(own_redis.url)
    workers(own_redis.url, name="beat1").start(beat=True, concurrency=2, **FAST)
    workers(own_redis.url, name="beat2").start(beat=True, concurrency=2, **FAST)
    if REAL:
        time.sleep(until_tick + 2)
    else:  # the ticks of both beats, as beat publishes them (no arguments)
        from procedures.tasks import reminders_sweep

        reminders_sweep.apply_async()
        reminders_sweep.apply_async()
    wait_until(
        lambda: ScheduledRun.objects.filter(slot=slot, finished_at__isnull=False).exists()
        and all_sent(),
        60,
        "the slot and its digests",
    )
    settle(workers.mailbox)
    row = fault_record("two beats", expected_mail(), workers.mailbox)
    assert row["expected"] == digest_recipients() >= 2  # one digest per recipient
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row
    assert ScheduledRun.objects.get(slot=slot).attempts == 1


# ------------------------------------------------------------------ killed worker


def test_worker_killed_mid_sweep_resumes_after_the_lease(
    own_redis, workers, publish_to, register, staff, units, monkeypatch, fault_record
):
    """SIGKILL while the sweep waits on its second recipient (a row lock held by this
    test); the first recipient's digest is committed. Another worker takes the slot
    over when the lease expires and adds the rest, nothing twice."""
    import psycopg

    no_enqueue(monkeypatch)
    overdue_for_officers(register, staff, units)
    Delivery.objects.all().delete()
    monkeypatch.undo()
    drain_every_second()
    slot, _until = sweep_slot()
    from procedures.notifications.reminders import reminders_plan

    plan = reminders_plan(now=timezone.now())
    officers = sorted(uid for uid, items in plan.items.items() if items)
    second = plan.directory.users[officers[1]]
    day = timezone.localdate().isoformat()
    blocker = psycopg.connect(database_url())  # a transaction of its own, left open
    blocker.execute(
        "INSERT INTO procedures_delivery (kind, channel, recipient, subject_key, language, "
        "payload, status, attempts, last_error, created_at, claimed_by) VALUES "
        "('staff.digest', 'email', %s, %s, 'vi', '{}', 'cancelled', 0, '', now(), '')",
        [second.email, f"digest:{day}:{slot.replace(':', '')}"],
    )
    publish_to(own_redis.url)
    worker = workers(own_redis.url, name="sweeper").start(beat=True, **FAST)
    wait_until(
        lambda: (
            ScheduledRun.objects.filter(slot=slot).values_list("progress", flat=True).first() or {}
        ).get("recipients")
        == 1,
        30,
        "the first recipient done, the sweep waiting on the second",
    )
    worker.kill()
    blocker.rollback()
    blocker.close()
    run = ScheduledRun.objects.get(slot=slot)
    assert run.finished_at is None and run.claimed_at is not None
    workers(own_redis.url, name="other").start(beat=True, **FAST)
    wait_until(
        lambda: ScheduledRun.objects.filter(slot=slot, finished_at__isnull=False).exists()
        and all_sent(),
        45,
        "the sweep resumed by another worker",
    )
    settle(workers.mailbox)
    run.refresh_from_db()
    row = fault_record("worker killed mid-sweep (SIGKILL)", expected_mail(), workers.mailbox)
    assert run.attempts == 2 and run.progress["recipients"] == len(officers)
    assert row["expected"] == digest_recipients() >= 2
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row


# ------------------------------------------------------------------ mail server


def test_smtp_down_then_busy_then_back(
    own_redis, workers, publish_to, register, staff, smtp_sink, monkeypatch, fault_record
):
    """The mail server is stopped (connection refused), then answers 451 to everything,
    then recovers. Rows wait with readable reasons, the health check reports the
    failing backlog, and every message arrives once."""
    no_enqueue(monkeypatch)
    dossiers = [register(channel=Channel.ONLINE) for _ in range(5)]
    monkeypatch.undo()
    drain_every_second()
    outage = fault_seconds(300, 4)
    smtp_sink.stop()
    publish_to(own_redis.url)
    workers(own_redis.url, name="smtp").start(beat=True, **FAST, **smtp_sink.env())
    client = APIClient()
    client.force_login(staff["intake"])
    answers = [accept_by_api(client, d) for d in dossiers]
    time.sleep(outage / 2)
    smtp_sink.start()
    smtp_sink.busy(True)
    time.sleep(outage / 2)
    waiting = Delivery.objects.filter(status=DeliveryStatus.PENDING, attempts__gt=0)
    reasons = set(waiting.values_list("last_error", flat=True))
    code, took, output = healthcheck(own_redis.url, DELIVERY_FAILING_ALERT_MINUTES=0)
    smtp_sink.busy(False)
    wait_until(all_sent, 200 if REAL else 45, "every message once the server is back")
    settle(smtp_sink.mailbox)
    row = fault_record(
        f"SMTP down {outage:.0f} s (refused, then 451)",
        expected_mail(),
        smtp_sink.mailbox,
        http_5xx=sum(c >= 500 for c, _t in answers),
        healthcheck_exit=code,
    )
    assert [c for c, _t in answers] == [200] * 5
    assert waiting.model.objects.filter(status=DeliveryStatus.FAILED).count() == 0
    assert any("451" in r or "Could not reach" in r for r in reasons), reasons
    assert code == 1 and "failing at the mail server" in output, output
    assert row["expected"] == 10
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row
