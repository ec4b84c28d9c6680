"""Real Celery worker processes (and a throwaway Redis) for the integration tests.

The worker runs `celery -A config worker` with the test settings, pointed at the
test database (committed rows: tests use django_db(transaction=True)), at Redis
db 2 (or a redis-server of the test's own), and at a file mailbox it can count.
"""

import os
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from django.conf import settings
from django.db import connection

from tests.servers import celery_point_at, free_port, redis_server

ROOT = Path(__file__).resolve().parents[2]
# This area's Redis database on the shared server: 2, or 2 + n on pytest-xdist worker gwn
# (each worker flushes its own).
REDIS_DB = 2 + int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0)


def wait_until(predicate, timeout: float, message: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s: {message}")


def database_url() -> str:
    s = connection.settings_dict
    auth = quote(s["USER"] or "")
    if s.get("PASSWORD"):
        auth += ":" + quote(s["PASSWORD"])
    return f"postgres://{auth}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


class Mailbox:
    def __init__(self, folder: Path):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    def files(self):
        return [p for p in self.folder.glob("*.eml") if not p.name.startswith(".")]

    def per_delivery(self) -> Counter:
        return Counter(int(p.name.split("-", 1)[0]) for p in self.files())

    def blocked(self):
        return list(self.folder.glob("blocked-*"))


class Worker:
    """One `celery worker` process group; SIGKILL takes the pool children with it."""

    def __init__(self, *, broker: str, mailbox: Mailbox, log: Path, name: str):
        self.broker, self.mailbox, self.log, self.name = broker, mailbox, log, name
        self.proc = None

    def start(self, *, concurrency: int = 1, beat: bool = False, **env_extra) -> "Worker":
        """Start it; `env_extra` are settings read from the environment (shortened
        timeouts and retry delays: see docs/reliability.md)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
        env.update(
            {
                "DJANGO_SETTINGS_MODULE": "config.settings.test",
                "DATABASE_URL": database_url(),
                "REDIS_URL": self.broker,
                "CELERY_TASK_ALWAYS_EAGER": "0",
                "TEST_EMAIL_BACKEND": "tests.integration.mailbox.FileCountingBackend",
                "EMAIL_FILE_PATH": str(self.mailbox.folder),
                "PYTHONPATH": str(ROOT),
            }
        )
        env.update({k: str(v) for k, v in env_extra.items()})
        cmd = [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "-l",
            "INFO",
            "-c",
            str(concurrency),
            "-n",
            f"{self.name}@%h",
            "--without-mingle",
            "--without-gossip",
        ]
        if beat:
            cmd += ["--beat", "-s", str(self.log.with_suffix(".beat"))]
        self.log_offset = self.log.stat().st_size if self.log.exists() else 0
        self.proc = subprocess.Popen(
            cmd,
            cwd=ROOT,
            env=env,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_until(lambda: self._ready() or self._died(), 40, f"worker {self.name} start")
        if self._died():
            raise AssertionError(f"worker exited:\n{self.tail()}")
        return self

    def _ready(self) -> bool:
        return b" ready." in self.log.read_bytes()[self.log_offset :]

    def _died(self) -> bool:
        return self.proc.poll() is not None

    def kill(self) -> None:
        """SIGKILL the whole worker: main process and pool children, no clean-up."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def tail(self, n: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture
def shared_redis(require_redis):
    """Redis db 2 (2 + n on xdist worker gwn) of the machine's server, emptied (it is
    this area's database)."""
    import redis

    parsed = urlparse(require_redis)
    url = f"redis://{parsed.hostname or '127.0.0.1'}:{parsed.port or 6379}/{REDIS_DB}"
    redis.Redis.from_url(url).flushdb()
    return url


@pytest.fixture
def own_redis(require_redis):
    """A redis-server of this test's own, on a free port, that the test may stop."""
    port = free_port()

    class Server:
        url = f"redis://127.0.0.1:{port}/0"
        proc = None

        def start(self):
            self.proc = redis_server(port)

            wait_until(lambda: _pings(self.url), 10, "redis-server start")

        def stop(self):
            if self.proc and self.proc.poll() is None:
                self.proc.send_signal(signal.SIGCONT)  # a frozen server cannot stop
                self.proc.terminate()
                self.proc.wait(10)

        def freeze(self):
            """SIGSTOP: connections stay open and are accepted, nothing answers."""
            self.proc.send_signal(signal.SIGSTOP)

        def thaw(self):
            self.proc.send_signal(signal.SIGCONT)

    server = Server()
    server.start()
    yield server
    server.stop()


def _pings(url: str) -> bool:
    import redis

    try:
        return redis.Redis.from_url(url, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture
def workers(require_postgres, tmp_path):
    """Factory of worker processes; every one is stopped at the end of the test."""
    started: list[Worker] = []
    mailbox = Mailbox(tmp_path / "mail")

    def make(broker: str, name: str = "w") -> Worker:
        # A name used again is the same node restarted: a log of its own per start.
        log = tmp_path / f"{name}-{len(started)}.log"
        w = Worker(broker=broker, mailbox=mailbox, log=log, name=name)
        started.append(w)
        return w

    make.mailbox = mailbox
    yield make
    for w in started:
        w.stop()
    celery_point_at(settings.CELERY_BROKER_URL, eager=True)


class SmtpSink:
    """tests/integration/smtp_sink.py in a process of its own: stop it, restart it, or
    make it answer 451 to every message."""

    def __init__(self, folder: Path, log: Path):
        self.port = free_port()
        self.mailbox = Mailbox(folder)
        self.log = log
        self.proc = None

    def start(self) -> "SmtpSink":
        ready = self.mailbox.folder / ".ready"
        ready.unlink(missing_ok=True)
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.integration.smtp_sink",
                "--port",
                str(self.port),
                "--folder",
                str(self.mailbox.folder),
            ],
            cwd=ROOT,
            stdout=self.log.open("ab"),
            stderr=subprocess.STDOUT,
        )
        wait_until(ready.exists, 15, "SMTP sink start")
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def busy(self, on: bool) -> None:
        """Answer 451 "try again later" to every message while on."""
        mode = self.mailbox.folder / "mode"
        if on:
            mode.write_text("451")
        else:
            mode.unlink(missing_ok=True)

    def env(self) -> dict:
        return {
            "TEST_EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": self.port,
            "EMAIL_TIMEOUT": 5,
        }


@pytest.fixture
def smtp_sink(tmp_path):
    sink = SmtpSink(tmp_path / "smtp", tmp_path / "smtp.log").start()
    yield sink
    sink.stop()


def fault_seconds(real: float, compressed: float) -> float:
    """The outage lengths of the issue (60 s, 300 s) when FAULT_REAL=1 (bench/
    bench_faults.py); a few seconds in `make test`, with the worker's delays shortened
    to match."""
    return real if os.environ.get("FAULT_REAL") == "1" else compressed


@pytest.fixture
def fault_record(request):
    """Count what arrived against what the ledger says should have, and keep the row
    for the table of docs/reliability.md (FAULT_RESULTS=<file>, one JSON per line)."""
    import json

    def record(scenario: str, expected: set[int], mailbox: Mailbox, **notes) -> dict:
        counts = mailbox.per_delivery()
        row = {
            "scenario": scenario,
            "expected": len(expected),
            "received": sum(counts[pk] for pk in expected),
            "lost": len([pk for pk in expected if counts[pk] == 0]),
            "duplicated": sum(max(0, counts[pk] - 1) for pk in expected),
            "unexpected": sum(c for pk, c in counts.items() if pk not in expected),
            "test": request.node.name,
            **notes,
        }
        target = os.environ.get("FAULT_RESULTS")
        if target:
            with open(target, "a") as fh:
                fh.write(json.dumps(row) + "\n")
        return row

    return record


@pytest.fixture
def publish_to():
    """Make this test process publish tasks to `url` instead of running them eagerly."""
    return lambda url: celery_point_at(url, eager=False)


# The dossier fixtures of the unit tests (catalogue, staff in every role, register).
from tests.procedures.conftest import (  # noqa: E402,F401
    procedure,
    register,
    staff,
    trade_field,
    units,
)
