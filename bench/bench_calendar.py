"""Benchmark of the working-time calendar: due-time computations per second.

    .venv/bin/python bench/bench_calendar.py [--calls 100000] [--seed 2026]

Runs on a throwaway in-memory SQLite database (migrated here) unless DATABASE_URL
is set, in which case that database is only read: the calendar creates no rows.
Prints a markdown table; the figures in docs/benchmarks.md come from it.
"""

import argparse
import os
import platform
import random
import sys
import time
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
_THROWAWAY_DB = "DATABASE_URL" not in os.environ
if _THROWAWAY_DB:
    os.environ["DATABASE_URL"] = "sqlite:///:memory:"

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from procedures.calendar import working_time as calendar  # noqa: E402


def _cases(count: int, seed: int):
    rng = random.Random(seed)
    origin = datetime(2025, 1, 1, tzinfo=calendar.LOCAL_TZ)
    span = int(timedelta(days=730).total_seconds())
    starts = [origin + timedelta(seconds=rng.randrange(span)) for _ in range(count)]
    # Random amounts 0.5-30 working days in half-day steps, as published procedures use.
    days = [Decimal(rng.randint(1, 60)) / 2 for _ in range(count)]
    whole_days = [rng.randint(1, 30) for _ in range(count)]
    ends = [s + timedelta(seconds=rng.randrange(60 * 86400)) for s in starts]
    return starts, days, whole_days, ends


def _measure(label: str, func, args: list[tuple]) -> dict:
    calendar.invalidate()
    with CaptureQueriesContext(connection) as cold_queries:
        cold_start = time.perf_counter()
        func(*args[0])
        cold = time.perf_counter() - cold_start
        for a in args:  # warm every year the cases touch
            func(*a)
    with CaptureQueriesContext(connection) as warm_queries:
        begin = time.perf_counter()
        for a in args:
            func(*a)
        elapsed = time.perf_counter() - begin
    return {
        "label": label,
        "calls": len(args),
        "per_second": len(args) / elapsed,
        "micro": elapsed / len(args) * 1e6,
        "cold_ms": cold * 1e3,
        "warm_queries": len(warm_queries),
        "load_queries": len(cold_queries),
    }


def run(calls: int = 100_000, seed: int = 2026) -> list[dict]:
    if _THROWAWAY_DB:
        call_command("migrate", verbosity=0, interactive=False)
    starts, days, whole_days, ends = _cases(calls, seed)
    return [
        _measure(
            "add_working_days (0.5-30 days)",
            calendar.add_working_days,
            list(zip(starts, days, strict=False)),
        ),
        _measure(
            "add_calendar_days (1-30 days)",
            calendar.add_calendar_days,
            list(zip(starts, whole_days, strict=False)),
        ),
        _measure(
            "working_seconds_between (0-60 days apart)",
            calendar.working_seconds_between,
            list(zip(starts, ends, strict=False)),
        ),
    ]


def markdown(rows: list[dict]) -> str:
    lines = [
        "| function | calls | calls/s | µs/call | first call incl. year load (ms) "
        "| queries while warming | queries in timed loop |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| `{r['label']}` | {r['calls']:,} | {r['per_second']:,.0f} | {r['micro']:.1f} "
            f"| {r['cold_ms']:.1f} | {r['load_queries']} | {r['warm_queries']} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2026)
    options = parser.parse_args()
    print(
        f"Python {platform.python_version()} on {platform.machine()}, "
        f"{os.cpu_count()} CPU(s), database: {connection.vendor}"
        f"{' (in-memory)' if _THROWAWAY_DB else ''}; random starts over 2025-2026, "
        f"seed {options.seed}\n"
    )
    print(markdown(run(options.calls, options.seed)))


if __name__ == "__main__":
    main()
