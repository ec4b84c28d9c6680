"""Faults with real processes, at their real lengths (issue 14): the table of
docs/reliability.md.

Runs the fault tests of tests/integration with FAULT_REAL=1 (Redis down 60 s and
300 s across a real beat tick, Redis frozen 60 s, SMTP down 300 s, two beats on a
real tick) and the compressed ones that need no waiting (kills, the embedded
default), then prints expected / received / lost / duplicated per scenario.

Needs PostgreSQL (DATABASE_URL), a Redis for the throwaway servers' check
(REDIS_URL; the tests start their own redis-server, and the mid-send kill uses db 2),
and redis-server on PATH. About 20 minutes:

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/motcua_bench \\
    REDIS_URL=redis://127.0.0.1:6379/2 python bench/bench_faults.py
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (test node id, extra environment)
SCENARIOS = [
    (
        "tests/integration/test_celery_delivery.py::"
        "test_worker_killed_mid_batch_then_restarted_delivers_the_rest_exactly_once",
        {},
    ),
    ("tests/integration/test_faults.py::test_worker_killed_mid_sweep_resumes_after_the_lease", {}),
    (
        "tests/integration/test_faults.py::test_redis_down_across_a_sweep_tick",
        {"FAULT_REAL": "1", "FAULT_DOWN": "60"},
    ),
    (
        "tests/integration/test_faults.py::test_redis_down_across_a_sweep_tick",
        {"FAULT_REAL": "1", "FAULT_DOWN": "300"},
    ),
    (
        "tests/integration/test_faults.py::"
        "test_redis_frozen_requests_answer_and_the_healthcheck_says_so",
        {"FAULT_REAL": "1"},
    ),
    ("tests/integration/test_faults.py::test_smtp_down_then_busy_then_back", {"FAULT_REAL": "1"}),
    ("tests/integration/test_faults.py::test_two_beats_send_each_digest_once", {"FAULT_REAL": "1"}),
    ("tests/integration/test_embedded.py::test_embedded_default_sends_each_message_once", {}),
]
NOTES = (
    "http_5xx",
    "slowest_request_s",
    "healthcheck_exit",
    "healthcheck_s",
    "action_errors",
    "slowest_action_s",
)


def main() -> int:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        print("bench_faults: skipped, needs DATABASE_URL=postgres://... and REDIS_URL")
        return 0
    if not shutil.which("redis-server"):
        print("bench_faults: skipped, redis-server is not on PATH")
        return 0
    results = Path(tempfile.mkdtemp(prefix="bench-faults-")) / "results.jsonl"
    failed = []
    for node, extra in SCENARIOS:
        env = {**os.environ, "FAULT_RESULTS": str(results), "REQUIRE_SERVICES": "1", **extra}
        started = time.monotonic()
        print(f"--- {node.split('::')[1]} {extra or ''}", flush=True)
        rc = subprocess.call(
            [sys.executable, "-m", "pytest", node, "-q", "-p", "no:cacheprovider", "-x"],
            cwd=ROOT,
            env=env,
        )
        print(
            f"    {'ok' if rc == 0 else 'FAILED'} in {time.monotonic() - started:.0f} s", flush=True
        )
        if rc:
            failed.append(node)
    rows = (
        [json.loads(line) for line in results.read_text().splitlines()] if results.exists() else []
    )
    print("\n| scenario | expected | received | lost | duplicated | notes |")
    print("|---|---:|---:|---:|---:|---|")
    for r in rows:
        notes = ", ".join(f"{k} {r[k]}" for k in NOTES if r.get(k) is not None)
        print(
            f"| {r['scenario']} | {r['expected']} | {r['received']} | {r['lost']} | "
            f"{r['duplicated']} | {notes} |"
        )
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
