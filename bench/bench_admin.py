"""Benchmark of the staff admin on a million dossiers: the dossier list and the dashboard.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/motcua_bench \\
        .venv/bin/python bench/bench_admin.py [--count 1000000] [--repeat 15] [--explain]

PostgreSQL only (the point is the million-row plans). The database is migrated and,
if it holds fewer than --count dossiers, filled by `generate_demo_dossiers` (the
catalogue and demo staff are seeded first when missing); if that command is absent
the missing rows are inserted by one `INSERT ... SELECT generate_series` here. An
existing fill is reused and never changed, so other benchmarks can share it.

Each page is fetched through Django's test client (URL routing, middleware, admin,
templates: what a browser waits for, minus the network), logged in as a demo
account; one warm-up, then --repeat timed runs. Prints a markdown table: median and
90th percentile in ms, queries per request and the time spent inside them.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_bench")

import django

django.setup()

from django.contrib.auth import get_user_model
from django.core.management import call_command, get_commands
from django.db import connection
from django.db.models import Count
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from procedures.core.constants import OPEN_STATUSES, DossierStatus
from procedures.core.roles import user_roles
from procedures.models import Dossier, Field, Procedure, Unit


def _dossier_count() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM procedures_dossier")
        return cursor.fetchone()[0]


def ensure_data(count: int, fill: str = "auto") -> str:
    """Make sure the database holds at least `count` dossiers; say how they got there."""
    # A shared, filled database is only read: migrating it could apply someone's
    # unfinished migration. An empty one is migrated first.
    if "procedures_dossier" not in connection.introspection.table_names():
        call_command("migrate", verbosity=0)
    have = _dossier_count()
    if have >= count:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = 'procedures_dossier'::regclass"
            )
            if cursor.fetchone()[0] < 0:  # never analysed: the planner and the list need it
                cursor.execute("ANALYZE procedures_dossier")
        return f"existing data ({have:,} dossiers)"
    if not Procedure.objects.exists():
        call_command("seed_catalogue", verbosity=0)
    if not get_user_model().objects.filter(username="giamdoc").exists():
        call_command("seed_demo_accounts", verbosity=0)
    missing = count - have
    started = time.perf_counter()
    if fill == "command" or (fill == "auto" and "generate_demo_dossiers" in get_commands()):
        call_command("generate_demo_dossiers", count=missing, verbosity=1)
        how = "generate_demo_dossiers"
    else:
        _insert_series(missing)
        how = "INSERT ... SELECT generate_series"
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE procedures_dossier")
    return f"{how}: {missing:,} dossiers in {time.perf_counter() - started:.0f} s"


def _insert_series(n: int) -> None:
    """Fallback fill for this benchmark only: plausible rows, not a simulated life.

    Statuses and dates are spread over the past year; open dossiers (about 5 %) have
    due times around now, so the queues are not empty.
    """
    procedures = list(Procedure.objects.accepting_dossiers().values_list("id", flat=True))
    units = list(Unit.objects.filter(is_one_stop_desk=False).values_list("id", flat=True))
    officers = list(
        get_user_model()
        .objects.filter(staff_profile__unit__is_one_stop_desk=False)
        .values_list("id", flat=True)
    )
    if not procedures or not units:
        raise SystemExit("Seed the catalogue first: manage.py seed_catalogue")
    start = _dossier_count() + 1
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO procedures_dossier (
                code, procedure_id, processing_amount, processing_unit, fee_text,
                applicant_type, applicant_name, applicant_id_number, applicant_address,
                applicant_phone, applicant_email, applicant_language, channel, result_delivery,
                note, status, submitted_at, accepted_at, clock_started_at, paused_seconds,
                finished_at, original_due_at, due_at, reappointment_count, supplement_count,
                supplement_reason, payment_note, assigned_unit_id, assigned_officer_id,
                outcome, outcome_note, on_time_result, pin_hash, version, created_at, updated_at
            )
            SELECT
                -- shaped like real codes (<unit>-YYMMDD-XXXX) and unique through the unit part
                'BENCH' || (g / 10000) || '-' || to_char(sub, 'YYMMDD') || '-'
                    || lpad((g %% 10000)::text, 4, '0'),
                (%(procedures)s::bigint[])[1 + g %% cardinality(%(procedures)s::bigint[])],
                5, 'working_days', '',
                'individual', 'Nguyễn Văn ' || g,
                lpad((g::bigint * 7919 %% 1000000000000)::text, 12, '0'),
                '', '', '', 'vi', 1 + g %% 3, 'desk', '',
                st, sub, acc, acc, 0,
                CASE WHEN st IN (9, 10) THEN acc + interval '5 days' END,
                acc + interval '7 days', acc + interval '7 days', 0, 0, '', '',
                CASE WHEN st <> 1
                     THEN (%(units)s::bigint[])[1 + g %% cardinality(%(units)s::bigint[])] END,
                CASE WHEN st <> 1 AND cardinality(%(officers)s::bigint[]) > 0
                     THEN (%(officers)s::bigint[])[1 + g %% cardinality(%(officers)s::bigint[])]
                END,
                CASE WHEN st IN (9, 10) THEN 'granted' ELSE '' END, '',
                CASE WHEN st IN (9, 10) THEN 'early' ELSE '' END, '', 1, now(), now()
            FROM (
                SELECT g,
                       now() - (g %% 365) * interval '1 day'
                           - (g %% 480) * interval '1 minute' AS sub,
                       CASE WHEN g %% 20 = 0 THEN (ARRAY[1, 2, 4, 4, 5, 6])[1 + g / 20 %% 6]
                            ELSE (ARRAY[9, 10, 10, 10, 3, 7, 8])[1 + g %% 7] END AS st
                FROM generate_series(%(start)s, %(stop)s) AS g
            ) AS s, LATERAL (SELECT CASE WHEN s.st IN (1, 3) THEN NULL ELSE s.sub END AS acc) AS a
            """,
            {
                "procedures": procedures,
                "units": units,
                "officers": officers or [0],
                "start": start,
                "stop": start + n - 1,
            },
        )


def measure(client: Client, url: str, repeat: int) -> dict:
    response = client.get(url)  # warm-up (and a check that the page works)
    if response.status_code != 200:
        raise SystemExit(f"{url}: HTTP {response.status_code}")
    times, sql_times, queries = [], [], []
    for _ in range(repeat):
        with CaptureQueriesContext(connection) as ctx:
            begin = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - begin) * 1000)
        queries.append(len(ctx.captured_queries))
        sql_times.append(sum(float(q["time"]) for q in ctx.captured_queries) * 1000)
    times.sort()
    return {
        "median": statistics.median(times),
        "p90": times[min(len(times) - 1, int(len(times) * 0.9))],
        "queries": max(queries),
        "sql": statistics.median(sql_times),
        "content": response.content.decode(),
        "ctx": ctx,
    }


def explain(ctx) -> None:
    """EXPLAIN ANALYZE of the slowest query of the last run."""
    slowest = max(ctx.captured_queries, key=lambda q: float(q["time"]))
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + slowest["sql"])
        print("    " + "\n    ".join(row[0] for row in cursor.fetchall()))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--fill",
        choices=["auto", "command", "sql"],
        default="auto",
        help="how to add missing dossiers (auto: the demo command if present)",
    )
    parser.add_argument(
        "--explain", action="store_true", help="print the plan of each page's slowest query"
    )
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        print("bench_admin needs PostgreSQL: set DATABASE_URL", file=sys.stderr)
        return 2
    fill = ensure_data(args.count, args.fill)

    total = _dossier_count()
    by_status = dict(Dossier.objects.values_list("status").annotate(n=Count("id")).order_by())
    open_count = sum(by_status.get(int(s), 0) for s in OPEN_STATUSES)
    User = get_user_model()
    director = (
        User.objects.filter(groups__name="Lãnh đạo Sở").first()
        or User.objects.filter(is_superuser=True).first()
    )
    specialist = User.objects.filter(groups__name="Chuyên viên").first()
    intake = User.objects.filter(groups__name="Một cửa").first()
    field = Field.objects.filter(procedures__dossiers__status=DossierStatus.PROCESSING).first()
    sample = Dossier.objects.filter(status=DossierStatus.PROCESSING).order_by("-id").first()
    name_word = sample.applicant_name.split()[-1]
    local_today = timezone.localdate()
    year_ago = local_today - timedelta(days=360)
    changelist = reverse("admin:procedures_dossier_changelist")
    cases = [
        ("List, page 1, no filter (director)", director, changelist),
        ("List, page 2, no filter (director)", director, changelist + "?p=2"),
        (
            "List, filtered: being processed + field (director)",
            director,
            (
                f"{changelist}?status__exact={DossierStatus.PROCESSING}"
                f"&procedure__field__id__exact={field.pk}"
            ),
        ),
        (
            "List, filtered: due in the next 7 days (director)",
            director,
            f"{changelist}?due_from={local_today}&due_to={local_today + timedelta(days=7)}",
        ),
        (
            # few matches: the worst case of a range on due_at, which only open
            # dossiers index
            "List, filtered: due on one day a year ago (director)",
            director,
            f"{changelist}?due_from={year_ago}&due_to={year_ago}",
        ),
        ("List, page 100, no filter (director)", director, changelist + "?p=100"),
        (
            "List, queue overdue, sorted by due (director)",
            director,
            f"{changelist}?queue=overdue&o=6",
        ),
        ("List, page 1 (specialist: own unit only)", specialist, changelist),
        ("List, search exact dossier code (desk)", intake, f"{changelist}?q={sample.code}"),
        ("List, search ID number (desk)", intake, f"{changelist}?q={sample.applicant_id_number}"),
        ("List, search part of a name (desk)", intake, f"{changelist}?q={name_word}"),
        ("List, search a name nobody has (desk)", intake, f"{changelist}?q=Xyzzy"),
        ("Dashboard (director)", director, reverse("admin:procedures_dashboard")),
        ("Dashboard (desk)", intake, reverse("admin:procedures_dashboard")),
        ("Dashboard (specialist)", specialist, reverse("admin:procedures_dashboard")),
        (
            "Dossier page (director)",
            director,
            reverse("admin:procedures_dossier_change", args=[sample.pk]),
        ),
    ]
    rows = []
    for label, user, url in cases:
        # A host from ALLOWED_HOSTS: no test environment, so no template instrumentation.
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        user_roles(user)
        result = measure(client, url, args.repeat)
        count_note = ""
        if "About " in result["content"]:
            count_note = "estimated count"
        elif "More than " in result["content"]:
            count_note = "count capped"
        rows.append((label, result, count_note))
        print(f"  {label}: {result['median']:.1f} ms", file=sys.stderr, flush=True)
        if args.explain:
            print(f"\n  -- {label}: slowest query", file=sys.stderr)
            explain(result["ctx"])

    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        pg_version = cursor.fetchone()[0]
    print(
        f"\nData: {fill}. {total:,} dossiers, {open_count:,} open "
        f"({', '.join(f'{DossierStatus(s).value}: {n:,}' for s, n in sorted(by_status.items()))})."
    )
    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}, PostgreSQL {pg_version}; {args.repeat} runs each "
        f"after one warm-up.\n"
    )
    print("| page | median ms | p90 ms | queries | of which in SQL (ms) | note |")
    print("|---|---:|---:|---:|---:|---|")
    for label, r, note in rows:
        print(
            f"| {label} | {r['median']:.1f} | {r['p90']:.1f} | {r['queries']} | "
            f"{r['sql']:.1f} | {note} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
