"""Benchmark of the reminder sweep: 200,000 open dossiers, 5,000 of them due.

    .venv/bin/python bench/bench_reminders.py [--open 200000] [--due 5000] [--officers 50]

Runs on PostgreSQL database ``motcua_bench_reminders`` (created and migrated here;
override with BENCH_DATABASE_URL). The data is built once and reused while its size
matches; the delivery ledger is emptied before each run. Nothing is sent: the sweep
ends at queueing digests, so the broker is not involved (the drain is timed apart,
with the in-memory mail backend). Prints a markdown table for docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import random
import statistics
import sys
import time
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
DB_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_bench_reminders"
)
os.environ["DATABASE_URL"] = DB_URL


def _ensure_database() -> None:
    import psycopg

    name = DB_URL.rsplit("/", 1)[1]
    admin = DB_URL.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')


_ensure_database()

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from procedures.catalogue.services import procedure_create  # noqa: E402
from procedures.catalogue.staff import roles_ensure_groups, staff_create  # noqa: E402
from procedures.core.constants import Channel, DossierStatus, Role, StepRole  # noqa: E402
from procedures.models import (  # noqa: E402
    Delivery,
    Dossier,
    DossierStep,
    Field,
    Procedure,
    Unit,
)
from procedures.notifications import selectors as sel  # noqa: E402
from procedures.notifications import services as notifications  # noqa: E402
from procedures.notifications.delivery import delivery_drain  # noqa: E402
from procedures.notifications.reminders import reminders_plan, reminders_sweep  # noqa: E402

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 6, 8, 7, 30, tzinfo=VN)  # Monday morning sweep
S = DossierStatus


def _staff(officers: int):
    groups = roles_ensure_groups()
    units = [
        Unit.objects.get_or_create(code=f"BU{i}", defaults={"name": f"Phòng {i}"})[0]
        for i in range(5)
    ]

    def account(prefix: str, title: str, role: Role, i: int, unit):
        user, _ = staff_create(
            username=f"bench_{prefix}{i}",
            full_name=f"{title} {i}",
            group=groups[role],
            unit=unit,
            email=f"{prefix}{i}@bench.example.gov.vn",
        )
        return user

    people = {
        "specialists": [
            account("cv", "Chuyên viên", Role.SPECIALIST, i, units[i % 5]) for i in range(officers)
        ],
        "heads": [
            account("tp", "Trưởng phòng", Role.UNIT_HEAD, i, unit) for i, unit in enumerate(units)
        ],
    }
    for i in range(2):
        account("gd", "Lãnh đạo", Role.DIRECTOR, i, None)
    for i in range(3):
        account("mc", "Một cửa", Role.INTAKE, i, None)
    return units, people


def build(open_count: int, due: int, officers: int, seed: int) -> None:
    rng = random.Random(seed)
    print(f"building {open_count:,} open dossiers ({due:,} due) ...", file=sys.stderr)
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE procedures_delivery, procedures_dossierstep, "
            "procedures_dossierevent, procedures_dossier CASCADE"
        )
    field, _ = Field.objects.get_or_create(name="Bench field")
    units, people = _staff(officers)
    procedure = Procedure.objects.filter(code=f"B.{seed}").first() or (
        procedure_create(
            name="Bench procedure",
            code=f"B.{seed}",
            field=field,
            decision_number="B/2026",
            decision_date=NOW.date(),
            effective_from=date(2026, 1, 1),
            processing_amount=Decimal("5"),
            implementing_unit=units[0],
        )
        if not hasattr(build, "_procedure")
        else build._procedure
    )
    version = procedure.versions.order_by("-number").first()
    soon_end = sel.reminder_windows(now=NOW).soon_end
    window = int((soon_end - (NOW - timedelta(days=10))).total_seconds())
    dossiers, t0 = [], time.perf_counter()
    for i in range(open_count):
        officer = people["specialists"][i % officers]
        is_due = i < due
        if is_due:
            # Spread over overdue (10 days back) .. closing of the next working day.
            due_at = NOW - timedelta(days=10) + timedelta(seconds=rng.randrange(window))
            status = rng.choice([S.ACCEPTED, S.PROCESSING, S.PROCESSING])
        else:
            due_at = soon_end + timedelta(days=1, seconds=rng.randrange(60 * 86400))
            status = rng.choice(
                [
                    S.ACCEPTED,
                    S.PROCESSING,
                    S.PROCESSING,
                    S.PROCESSING,
                    S.SUPPLEMENT_REQUESTED,
                    S.PAYMENT_REQUESTED,
                    S.SUBMITTED,
                ]
            )
        submitted = due_at - timedelta(days=7)
        dossiers.append(
            Dossier(
                code=f"BENCH-{i:07d}",
                submission_ref=f"BENCH-{i:07d}",
                procedure=procedure,
                procedure_version=version,
                processing_amount=Decimal("5"),
                applicant_name=f"Người nộp {i}",
                applicant_id_number=f"{i:012d}",
                channel=Channel.DIRECT,
                status=status,
                submitted_at=submitted,
                accepted_at=None if status == S.SUBMITTED else submitted,
                clock_started_at=None if status == S.SUBMITTED else submitted,
                original_due_at=None if status == S.SUBMITTED else due_at,
                due_at=None if status == S.SUBMITTED else due_at,
                assigned_officer=None if status == S.SUBMITTED else officer,
                assigned_unit=None if status == S.SUBMITTED else units[(i % officers) % 5],
            )
        )
    Dossier.objects.bulk_create(dossiers, batch_size=5000)
    ids = list(
        Dossier.objects.filter(code__startswith="BENCH-")
        .exclude(status=S.SUBMITTED)
        .order_by("code")
        .values_list("pk", "due_at")
    )
    # One open specialist step per running dossier, due with it (steps index is used too).
    steps = [
        DossierStep(
            dossier_id=pk,
            order=2,
            name="Thẩm định",
            role=StepRole.SPECIALIST,
            allotted_seconds=28 * 3600,
            started_at=d - timedelta(days=3),
            due_at=d,
        )
        for pk, d in ids
    ]
    DossierStep.objects.bulk_create(steps, batch_size=5000)
    print(f"built in {time.perf_counter() - t0:.0f} s", file=sys.stderr)


def _timed(func, repeat: int = 1):
    """Median wall time and the number of statements of one run.

    Statements are counted by an execute wrapper, not CaptureQueriesContext: that one
    renders every statement with its parameters, which costs more than the sweep.
    """
    runs, result, counter = [], None, [0]

    def count(execute, sql, params, many, context):
        counter[0] += 1
        return execute(sql, params, many, context)

    for _ in range(repeat):
        counter[0] = 0
        with connection.execute_wrapper(count):
            start = time.perf_counter()
            result = func()
            runs.append(time.perf_counter() - start)
    return statistics.median(runs), counter[0], result


def _backend_cpu() -> float | None:
    """CPU seconds used so far by this connection's PostgreSQL backend (user + system),
    from /proc when the server runs on this machine; None otherwise."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _cpu_timed(func):
    """`_timed` plus the CPU of this process and of the database backend: on a machine
    shared with other work, CPU varies less than wall time."""
    backend, python = _backend_cpu(), time.process_time()
    wall, queries, result = _timed(func)
    python = time.process_time() - python
    after = _backend_cpu()
    backend = after - backend if after is not None and backend is not None else None
    return wall, queries, result, python, backend


def run(open_count: int, due: int, officers: int, seed: int = 2026, drain: bool = True) -> dict:
    call_command("migrate", verbosity=0, interactive=False)
    open_now = Dossier.objects.filter(
        status__in=[
            int(s)
            for s in (
                S.SUBMITTED,
                S.ACCEPTED,
                S.PROCESSING,
                S.SUPPLEMENT_REQUESTED,
                S.PAYMENT_REQUESTED,
            )
        ]
    ).count()
    w = sel.reminder_windows(now=NOW)
    due_now = Dossier.objects.filter(status__in=sel.RUNNING, due_at__lte=w.soon_end).count()
    # Reuse the data only when both sizes match what was asked (--open and --due).
    if (
        open_now != open_count
        or due_now != due
        or not Dossier.objects.filter(code="BENCH-0000000").exists()
    ):
        print(
            f"the database holds {open_now:,} open dossiers ({due_now:,} due): rebuilding",
            file=sys.stderr,
        )
        build(open_count, due, officers, seed)
        open_now = open_count
    Delivery.objects.all().delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE procedures_dossier")
        cursor.execute("VACUUM ANALYZE procedures_dossierstep")
        cursor.execute("VACUUM ANALYZE procedures_delivery")
    # The sweep ends at queueing: measure it, not the broker.
    notifications.enqueue_deliveries = lambda ids: 0
    due_rows = Dossier.objects.filter(status__in=sel.RUNNING, due_at__lte=w.soon_end).count()
    plan_t, plan_q, plan = _timed(lambda: reminders_plan(now=NOW), repeat=3)
    items = sum(len(v) for v in plan.items.values())
    dry_t, dry_q, _ = _timed(lambda: reminders_sweep(now=NOW, dry_run=True))
    cold_t, cold_q, cold, cold_py, cold_db = _cpu_timed(
        lambda: reminders_sweep(now=NOW, slot="0730")
    )
    warm_t, warm_q, warm = _timed(lambda: reminders_sweep(now=NOW, slot="1330"))
    explain = sel.dossiers_due(until=w.soon_end).explain(analyze=True, buffers=True)
    explain_steps = (
        DossierStep.objects.filter(
            started_at__isnull=False, completed_at__isnull=True, due_at__lte=w.soon_end
        )
        .order_by("due_at", "id")
        .explain(analyze=True, buffers=True)
    )
    # Sending the digests (render + in-memory mail backend), from the outbox drain.
    drain_t, drain_q, drain = (
        _timed(lambda: delivery_drain(limit=10_000)) if drain else (0.0, 0, {"sent": 0})
    )
    steps = DossierStep.objects.filter(dossier__code__startswith="BENCH-").count()
    return {
        "steps": steps,
        "open": open_now,
        "due": due_rows,
        "items": items,
        "recipients": len(plan.items),
        "plan": (plan_t, plan_q),
        "dry": (dry_t, dry_q),
        "cold": (cold_t, cold_q, len(cold.digests), cold.items),
        "cold_cpu": (cold_py, cold_db),
        "warm": (warm_t, warm_q, len(warm.digests), warm.already_sent),
        "drain": (drain_t, drain_q, drain.get("sent", 0)),
        "explain": explain,
        "explain_steps": explain_steps,
    }


def markdown(r: dict) -> str:
    lines = [
        f"Built: {r['open']:,} open dossiers, {r['due']:,} of them due within the window "
        f"(running clock, due before the closing of the next working day), "
        f"{r['steps']:,} open internal steps; "
        f"reminder items: {r['items']:,} for {r['recipients']} staff (email + in-app each).",
        "",
        "| step | time | queries | result |",
        "|---|---:|---:|---|",
        f"| plan (reads only, median of 3) | {r['plan'][0] * 1000:,.0f} ms | {r['plan'][1]} | "
        f"{r['items']:,} items |",
        f"| `send_reminders --dry-run` | {r['dry'][0] * 1000:,.0f} ms | {r['dry'][1]} | "
        f"nothing written |",
        f"| sweep, first run of the day (insert items + digests) | {r['cold'][0] * 1000:,.0f} ms "
        f"| {r['cold'][1]} | {r['cold'][2]} digests, {r['cold'][3]:,} items |",
        f"| sweep again, same items (all conflicts) | {r['warm'][0] * 1000:,.0f} ms | "
        f"{r['warm'][1]} | {r['warm'][2]} digests, {r['warm'][3]:,} already sent |",
    ]
    if r["drain"][1]:
        lines.append(
            f"| drain: render and send the digests (locmem mail) | {r['drain'][0] * 1000:,.0f} "
            f"ms | {r['drain'][1]} | {r['drain'][2]} sent |"
        )
    py, db = r["cold_cpu"]
    lines.append(
        f"\nFirst sweep's CPU: Python {py * 1000:,.0f} ms, PostgreSQL backend "
        + (f"{db * 1000:,.0f} ms." if db is not None else "not measured (remote server).")
    )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--open", type=int, default=200_000)
    parser.add_argument("--due", type=int, default=5_000)
    parser.add_argument("--officers", type=int, default=50)
    parser.add_argument(
        "--no-drain", action="store_true", help="skip rendering and sending the digests"
    )
    parser.add_argument("--json", help="write the figures to this file (for run_all.py)")
    options = parser.parse_args()
    result = run(options.open, options.due, options.officers, drain=not options.no_drain)
    if options.json:
        Path(options.json).write_text(
            json.dumps(
                {
                    "open": result["open"],
                    "due": result["due"],
                    "steps": result["steps"],
                    "items": result["items"],
                    "recipients": result["recipients"],
                    "plan_ms": result["plan"][0] * 1000,
                    "cold_ms": result["cold"][0] * 1000,
                    "cold_queries": result["cold"][1],
                    "cold_digests": result["cold"][2],
                    "cold_items": result["cold"][3],
                    "cold_cpu_python_ms": result["cold_cpu"][0] * 1000,
                    "cold_cpu_backend_ms": (
                        result["cold_cpu"][1] * 1000 if result["cold_cpu"][1] is not None else None
                    ),
                    "warm_ms": result["warm"][0] * 1000,
                },
                indent=1,
            )
        )
    version = connection.cursor().connection.info.server_version
    print(
        f"Python {platform.python_version()}, PostgreSQL {version // 10000}."
        f"{version % 10000}, {os.cpu_count()} CPU(s); sweep at {NOW:%H:%M %d/%m/%Y}\n"
    )
    print(markdown(result))
    print("\nEXPLAIN ANALYZE of the due-dossiers query:\n")
    print("```\n" + result["explain"] + "\n```")
    print("\nEXPLAIN ANALYZE of the due-steps query:\n")
    print("```\n" + result["explain_steps"] + "\n```")


if __name__ == "__main__":
    main()
