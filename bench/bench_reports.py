"""Benchmark of the monthly report (table 06/VPCP/KSTT) on PostgreSQL.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/motcua_bench \\
        .venv/bin/python bench/bench_reports.py [--month 2026-10] [--year 2026] [--runs 5]

Times, in the same run and on the same warm cache, the report as the app computes it
(``procedures.reports.selectors.report_monthly``: the ORM aggregate, the names query and
the Python that builds the rows) against the best single SQL statement I could write by
hand for the same numbers, and checks that both give identical figures. The database is
only read. Prints a markdown table for docs/benchmarks.md.

Periods measured: the last complete month of the data (the month close), an older month
(its carried-over dossiers reach further back), and the calendar year.
"""

import argparse
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
if "DATABASE_URL" not in os.environ:
    sys.exit("Set DATABASE_URL to the PostgreSQL database to read (e.g. motcua_bench).")

import django  # noqa: E402

django.setup()

from django.db import connection, transaction  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from procedures.reports.selectors import COLUMN_KEYS, Period, report_monthly  # noqa: E402

# The hand-written statement: the row's conditions computed once in a derived table
# (including the status at the period end, looked up only for still-open dossiers that
# were ever paused), then one FILTERed count per column. Same WHERE as the app.
HAND_SQL = """
SELECT procedure_id,
  count(*) FILTER (WHERE carried OR new_)                        AS received,
  count(*) FILTER (WHERE new_)                                   AS received_new,
  count(*) FILTER (WHERE new_ AND channel = 2)                   AS received_online,
  count(*) FILTER (WHERE new_ AND channel IN (1, 3))             AS received_direct_postal,
  count(*) FILTER (WHERE carried)                                AS carried_over,
  count(*) FILTER (WHERE resolved)                               AS resolved,
  count(*) FILTER (WHERE resolved AND on_time_result = 'early')   AS resolved_early,
  count(*) FILTER (WHERE resolved AND on_time_result = 'on_time') AS resolved_on_time,
  count(*) FILTER (WHERE resolved AND on_time_result = 'late')    AS resolved_late,
  count(*) FILTER (WHERE open_)                                  AS in_progress,
  count(*) FILTER (WHERE open_ AND (due_at IS NULL OR due_at >= %(m)s OR paused))
                                                                 AS in_progress_within,
  count(*) FILTER (WHERE open_ AND due_at < %(m)s AND NOT paused) AS in_progress_overdue,
  count(*) FILTER (WHERE open_ AND st_end = 5)                   AS paused_supplement,
  count(*) FILTER (WHERE open_ AND st_end = 6)                   AS paused_payment,
  count(*) FILTER (WHERE ended AND status = 8)                   AS stopped,
  count(*) FILTER (WHERE ended AND status = 7)                   AS withdrawn,
  count(*) FILTER (WHERE status = 3 AND ended_at >= %(s)s AND ended_at < %(e)s)
                                                                 AS refused_intake
FROM (
  SELECT y.*, coalesce(y.st_end IN (5, 6), false) AS paused
  FROM (
    SELECT d.procedure_id, d.channel, d.status, d.on_time_result, d.due_at, d.ended_at,
      d.accepted_at >= %(s)s AND d.accepted_at < %(e)s AS new_,
      d.accepted_at < %(s)s AND (d.finished_at IS NULL OR d.finished_at >= %(s)s)
        AND (d.ended_at IS NULL OR d.ended_at >= %(s)s) AS carried,
      d.finished_at >= %(s)s AND d.finished_at < %(e)s AND d.accepted_at < %(e)s AS resolved,
      d.ended_at >= %(s)s AND d.ended_at < %(e)s AND d.accepted_at < %(e)s AS ended,
      d.accepted_at < %(e)s AND (d.finished_at IS NULL OR d.finished_at >= %(e)s)
        AND (d.ended_at IS NULL OR d.ended_at >= %(e)s) AS open_,
      CASE WHEN d.accepted_at < %(e)s AND (d.finished_at IS NULL OR d.finished_at >= %(e)s)
             AND (d.ended_at IS NULL OR d.ended_at >= %(e)s)
             AND (d.supplement_count > 0 OR d.payment_note <> '')
           THEN coalesce((SELECT ev.to_status FROM procedures_dossierevent ev
                          WHERE ev.dossier_id = d.id AND ev.at < %(e)s
                            AND ev.to_status IS NOT NULL
                          ORDER BY ev.at DESC, ev.id DESC LIMIT 1), d.status)
      END AS st_end
    FROM procedures_dossier d
    WHERE (d.accepted_at >= %(s)s AND d.accepted_at < %(e)s)
       OR (d.finished_at >= %(s)s AND d.accepted_at < %(e)s)
       OR (d.ended_at >= %(s)s AND d.accepted_at < %(e)s)
       OR (d.status IN (1, 2, 4, 5, 6) AND d.accepted_at < %(e)s)
       OR (d.status = 3 AND d.ended_at >= %(s)s AND d.ended_at < %(e)s)
  ) y
) x
GROUP BY procedure_id
"""


def hand_written(period: Period, jit: bool = False) -> dict[int, dict]:
    """The statement above; like the app, without JIT unless `jit` (PostgreSQL default)."""
    with transaction.atomic(), connection.cursor() as cursor:
        if not jit:
            cursor.execute("SET LOCAL jit = off")
        # "Overdue" is judged at the period end once it is over, else now (as the app).
        moment = min(timezone.now(), period.end_at)
        cursor.execute(HAND_SQL, {"s": period.start_at, "e": period.end_at, "m": moment})
        names = [c.name for c in cursor.description]
        return {row[0]: dict(zip(names[1:], row[1:], strict=False)) for row in cursor.fetchall()}


def hand_written_with_jit(period: Period) -> dict[int, dict]:
    return hand_written(period, jit=True)


def orm(period: Period) -> dict[int, dict]:
    report = report_monthly(period=period, by="procedure")
    return {
        int(child.key.split(":")[1]): {k: child.figures[k] for k in COLUMN_KEYS}
        for row in report.rows
        for child in row.children
    }


def _timed(func, period: Period) -> float:
    begin = time.perf_counter()
    func(period)
    return (time.perf_counter() - begin) * 1000


def _compare(period: Period, runs: int) -> dict:
    """Both implementations, warmed, then timed in alternating order (ORM first on even
    runs, SQL first on odd ones) so that load from other processes hits both alike."""
    app_result, sql_result = orm(period), hand_written(period)
    app_times, sql_times = [], []
    with CaptureQueriesContext(connection) as queries:
        orm(period)
    for i in range(runs):
        if i % 2:
            sql_times.append(_timed(hand_written, period))
            app_times.append(_timed(orm, period))
        else:
            app_times.append(_timed(orm, period))
            sql_times.append(_timed(hand_written, period))
    return {
        "app_ms": statistics.median(app_times),
        "sql_ms": statistics.median(sql_times),
        "app_queries": len(queries),
        "app": app_result,
        "sql": sql_result,
        "jit_ms": statistics.median(
            _timed(hand_written_with_jit, period) for _ in range(max(1, runs // 3))
        ),
    }


def _plan_nodes(period: Period) -> str:
    """How PostgreSQL reads the dossiers for the raw-row query (EXPLAIN, no ANALYZE)."""
    from django.db.models import Count

    try:
        from procedures.reports.selectors import column_filters, report_dossiers
    except ImportError:  # a report that no longer reads the raw rows has no such plan
        return "n/a"

    filters = column_filters(period)
    qs = (
        report_dossiers(period)
        .values("procedure_id")
        .annotate(**{k: Count("pk", filter=filters[k]) for k in COLUMN_KEYS})
    )
    sql, params = qs.query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    found = []

    def walk(node, in_subplan=False):
        sub = in_subplan or node.get("Parent Relationship") == "SubPlan"
        if not sub and (
            node.get("Relation Name") == "procedures_dossier"
            or str(node.get("Index Name", "")).startswith("dossier_")
        ):
            found.append(f"{node['Node Type']} {node.get('Index Name', '')}".strip())
        for child in node.get("Plans", []):
            walk(child, sub)

    walk(plan[0]["Plan"])
    return ", ".join(dict.fromkeys(found))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--month", help="YYYY-MM; default: the last complete month of data")
    parser.add_argument("--older", help="YYYY-MM; default: six months before --month")
    parser.add_argument("--year", help="YYYY; default: the year of --month")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--json", help="write the figures to this file (for run_all.py)")
    args = parser.parse_args()
    if connection.vendor != "postgresql":
        sys.exit("This benchmark needs PostgreSQL.")

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*), max(accepted_at) FROM procedures_dossier")
        total, last = cursor.fetchone()
        cursor.execute("SELECT count(*) FROM procedures_dossierevent")
        (events,) = cursor.fetchone()
        cursor.execute("SHOW server_version")
        (pg_version,) = cursor.fetchone()
    if not total:
        sys.exit("The database holds no dossier.")
    last_day = timezone.localdate(last)
    month = (
        Period.parse(args.month)
        if args.month
        else Period.month(last_day.year, last_day.month).previous()
    )
    older = Period.parse(args.older) if args.older else month
    if not args.older:
        for _ in range(6):
            older = older.previous()
    year = Period.parse(args.year) if args.year else Period.year(month.start.year)

    print(
        f"Dossiers: {total:,}; events: {events:,}; PostgreSQL {pg_version}; "
        f"Python {platform.python_version()}; {os.cpu_count()} CPUs; runs: {args.runs}"
    )
    print()
    print(
        "| period | rows (procedures) | received | app (ORM) median ms | app queries "
        "| hand-written SQL median ms | ratio app / SQL | same figures "
        "| SQL with JIT on (PostgreSQL default) ms | plan |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    figures = {}
    for key, label, period in (
        ("month", "month (last complete)", month),
        ("older", "month (six months earlier)", older),
        ("year", "year", year),
    ):
        r = _compare(period, args.runs)
        nonzero = {k: v for k, v in r["sql"].items() if any(v.values())}
        same = r["app"] == nonzero
        received = sum(v["received"] for v in r["app"].values())
        figures[key] = {
            "period": period.key,
            "app_ms": r["app_ms"],
            "sql_ms": r["sql_ms"],
            "same": same,
            "received": received,
            "app_queries": r["app_queries"],
        }
        print(
            f"| {label} {period.key} | {len(r['app'])} | {received:,} | {r['app_ms']:.0f} | "
            f"{r['app_queries']} | {r['sql_ms']:.0f} | {r['app_ms'] / r['sql_ms']:.2f} | "
            f"{'yes' if same else 'NO'} | {r['jit_ms']:.0f} | {_plan_nodes(period)} |"
        )
        if not same:
            diff = [
                (k, r["app"].get(k), nonzero.get(k))
                for k in set(r["app"]) | set(nonzero)
                if r["app"].get(k) != nonzero.get(k)
            ]
            print(f"   differences (first 3): {diff[:3]}", file=sys.stderr)
    print()
    print(f"Load average after the run: {os.getloadavg()[0]:.1f} (1 min)")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1))


if __name__ == "__main__":
    main()
