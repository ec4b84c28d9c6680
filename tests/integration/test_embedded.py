"""The embedded default under load (issue 14, item 1): SQLite and kombu's filesystem
broker, the worker started with the command line of `make run`, mail to a real SMTP
server. 30 desk registrations, acceptances and assignments from three counters while
the worker sends: before the fix 45 messages arrived for 30 ("database is locked"
after sending, the row left pending, sent again by the next drain).

Needs no service, so it runs everywhere `make test` runs (marked slow).
"""

import json
import os
import subprocess
import sys
import time
from collections import Counter

import pytest

from .conftest import ROOT, wait_until

pytestmark = pytest.mark.slow

# `make run`'s worker line (Makefile, target run), with a schedule file of the test's own.
MAKE_RUN_WORKER = [
    "-m",
    "celery",
    "-A",
    "config",
    "worker",
    "--beat",
    "--loglevel=INFO",
    "--concurrency=2",
]


def _sqlite(db, sql: str) -> list[tuple]:
    import sqlite3

    with sqlite3.connect(db, timeout=30) as conn:
        return conn.execute(sql).fetchall()


def test_embedded_default_sends_each_message_once(tmp_path, smtp_sink, fault_record):
    db = tmp_path / "db.sqlite3"
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("PYTEST", "DJANGO_", "CELERY_", "DELIVERY_"))
    }
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "config.settings.local",  # what `make run` uses
            "DATABASE_URL": f"sqlite:///{db}",
            "REDIS_URL": "",
            "CELERY_BROKER_DIR": str(tmp_path / "broker"),
            "PYTHONPATH": str(ROOT),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_sink.port),
            "EMAIL_TIMEOUT": "5",
            "LOG_LEVEL": "INFO",
        }
    )

    def manage(*args) -> str:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        ).stdout

    manage("migrate", "--noinput", "-v", "0")
    manage("seed_catalogue")
    manage("seed_demo_accounts")
    manage("setup_periodic_tasks")
    # The drain every 2 s instead of every minute, so that a message left pending
    # would be sent again within the test (the row is the admin's to edit).
    _sqlite(db, "UPDATE django_celery_beat_intervalschedule SET every = 2, period = 'seconds'")
    log = tmp_path / "worker.log"
    worker = subprocess.Popen(
        [sys.executable, *MAKE_RUN_WORKER, f"--schedule={tmp_path / 'celerybeat-schedule'}"],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        wait_until(lambda: b" ready." in log.read_bytes(), 60, "the worker of make run")
        load_started = time.monotonic()
        load = subprocess.run(
            [
                sys.executable,
                "-m",
                "tests.integration.desk_load",
                "--count",
                "30",
                "--counters",
                "3",
            ],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert load.returncode == 0, load.stderr[-3000:]
        result = json.loads(load.stdout.strip().splitlines()[-1])
        result["load_s"] = round(time.monotonic() - load_started, 1)
        expected_sql = (
            "SELECT id FROM procedures_delivery WHERE channel = 'email' AND status != 'in_digest'"
        )
        wait_until(
            lambda: not _sqlite(db, expected_sql + " AND status != 'sent'"),
            90,
            "every message marked sent",
        )
        time.sleep(5)  # two more drains: nothing may go out again
    finally:
        worker.terminate()  # warm shutdown of the worker and its beat
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(worker.pid, 9)
            worker.wait(10)
    expected = {pk for (pk,) in _sqlite(db, expected_sql)}
    row = fault_record(
        "embedded default (SQLite + filesystem broker, make run worker)",
        expected,
        smtp_sink.mailbox,
        action_errors=len(result["errors"]),
        slowest_action_s=result["slowest_action_s"],
        load_s=result["load_s"],
    )
    assert result["errors"] == [] and result["dossiers"] == 30
    # An acceptance for the applicant and an assignment for the officer, per dossier.
    kinds = Counter(
        k for (k,) in _sqlite(db, "SELECT kind FROM procedures_delivery WHERE channel = 'email'")
    )
    assert kinds["applicant.accepted"] == 30 and row["expected"] == sum(kinds.values())
    assert row["lost"] == row["duplicated"] == row["unexpected"] == 0, row
    assert "database is locked" not in log.read_text()
