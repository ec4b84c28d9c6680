"""`make bench`: every benchmark on the bench's own database, in one go, as one table.

    .venv/bin/python bench/run_all.py [--dossiers 1000000] [--only web,reports,...]

1. The database BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/motcua_bench)
   is created when missing and migrated; it is filled once with BENCH_DOSSIERS (default
   1,000,000) demo dossiers by `generate_demo_dossiers` (catalogue and demo staff seeded
   first) and analysed. The size is recorded in the table `bench_fill`; a later run
   with the same size reuses the data, another size replaces the demo dossiers.
   When the project has `manage.py rebuild_report_rollup`, it is run after the fill
   (reports read their rollup), so the harness works before and after that command.
2. The benches, each a standalone script in this folder that also prints its own table:
   bench_web.py (gunicorn, 4 sync workers, production settings, wrk: the public
   endpoints against a one-row read view and a bare multipart view, the admin list at
   page 20,000), bench_reports.py (the monthly report against a hand-written query over
   the raw rows), bench_reminders.py (the sweep, 50,000 due of 200,000 open, in its own
   database `<bench>_reminders`, which it fills), then bench_admin.py,
   bench_calendar.py and bench_upload_memory.py. bench_faults.py (about 20 minutes of
   real outages) runs only with --faults.
3. One table with every row of issue 13's table: measure, figure, baseline measured in
   the same run, ratio, target, pass or fail, and the load average before and after.

Exit status 1 when a bench failed to run (not when a target is missed: the table says so).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
PY = sys.executable
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
# The PIN hashes of the demo dossiers are keyed with SECRET_KEY: the fill and the web
# bench must use the same one (the development default unless set).
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-dev-key-change-me")
END = os.environ.get("BENCH_END", "2026-12-01")  # the demo year ends here: same data each run
MAIN = ("web", "reports", "reminders")
EXTRA = ("admin", "calendar", "upload")


def _env(**extra: str) -> dict:
    return {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": DB_URL,
        "BENCH_DATABASE_URL": DB_URL,
        "BENCH_REDIS_URL": REDIS_URL,
        "SECRET_KEY": SECRET_KEY,
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def _manage(*args: str, capture: bool = False) -> str:
    # The development settings (SECRET_KEY from the environment, like the web bench).
    env = _env(DJANGO_SETTINGS_MODULE="config.settings.local", DEBUG="false")
    out = subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        text=True,
        capture_output=capture,
    )
    return out.stdout or ""


def _sql(query: str, params: tuple = (), *, database: str | None = None):
    import psycopg

    url = DB_URL if database is None else DB_URL.rsplit("/", 1)[0] + "/" + database
    with psycopg.connect(url, autocommit=True) as conn:
        cursor = conn.execute(query, params)
        return cursor.fetchall() if cursor.description else None


def ensure_database(dossiers: int) -> str:
    """Create, migrate and fill the bench database unless it holds `dossiers` already."""
    name = DB_URL.rsplit("/", 1)[1]
    if not _sql("SELECT 1 FROM pg_database WHERE datname = %s", (name,), database="postgres"):
        _sql(f'CREATE DATABASE "{name}"', database="postgres")
    print(f"migrating {name} ...", flush=True)
    _manage("migrate", "--noinput", "-v", "0", "--skip-checks")
    _sql(
        "CREATE TABLE IF NOT EXISTS bench_fill (dossiers integer NOT NULL, end_day date "
        "NOT NULL, filled_at timestamptz NOT NULL DEFAULT now(), seconds real)"
    )
    demo = _sql(
        "SELECT count(*) FROM procedures_dossier WHERE applicant_email LIKE %s", ("%demo.invalid",)
    )[0][0]
    marker = _sql("SELECT dossiers, end_day::text, filled_at FROM bench_fill")
    if marker and marker[0][0] == dossiers == demo and marker[0][1] == END:
        return f"reused: {demo:,} demo dossiers filled {marker[0][2]:%Y-%m-%d %H:%M} UTC"
    if not marker and demo == dossiers:  # filled by hand with the same command
        _sql("INSERT INTO bench_fill (dossiers, end_day) VALUES (%s, %s)", (dossiers, END))
        return f"reused: {demo:,} demo dossiers (marker written)"
    print(f"filling {name} with {dossiers:,} demo dossiers (was {demo:,}) ...", flush=True)
    started = time.perf_counter()
    _manage("seed_catalogue", "-v", "0")
    _manage("seed_demo_accounts", "-v", "0")
    _manage("generate_demo_dossiers", "--clear", "--count", str(dossiers), "--end", END, "-v", "0")
    _sql("VACUUM ANALYZE")
    seconds = time.perf_counter() - started
    _sql("DELETE FROM bench_fill")
    _sql(
        "INSERT INTO bench_fill (dossiers, end_day, seconds) VALUES (%s, %s, %s)",
        (dossiers, END, seconds),
    )
    return f"filled: {dossiers:,} demo dossiers in {seconds:.0f} s"


def rebuild_rollup() -> str:
    """Run `rebuild_report_rollup` when the project has it (issue 13 item 2)."""
    commands = _manage("help", "--commands", capture=True).split()
    if "rebuild_report_rollup" not in commands:
        return "no rebuild_report_rollup command: reports read the raw rows"
    started = time.perf_counter()
    _manage("rebuild_report_rollup", "--skip-checks")
    return f"rebuild_report_rollup: {time.perf_counter() - started:.1f} s"


def run(script: str, *args: str, env: dict | None = None) -> bool:
    print(f"\n=== {script} {' '.join(args)}", flush=True)
    return subprocess.call([PY, str(HERE / script), *args], cwd=ROOT, env=env or _env()) == 0


def _load(load) -> str:
    return " / ".join(f"{x:.2f}" for x in load)


def summary(figures: dict, load_before, load_after, header: list[str]) -> str:
    """The issue's table, one row per measure, with the baseline of the same run."""
    rows = []

    def row(measure, figure, baseline, ratio, target, ok):
        verdict = "n/a" if ok is None else ("pass" if ok else "FAIL")
        rows.append(f"| {measure} | {figure} | {baseline} | {ratio} | {target} | {verdict} |")

    web = figures.get("web")
    if web:
        one = web["one_row_rps"]
        for key, label in (
            ("lookup_api", "public look-up API vs the one-row read view"),
            ("lookup_page", "public look-up page vs the one-row read view"),
            ("procedure_page", "procedure page vs the one-row read view"),
            ("procedure_api", "procedure API list vs the one-row read view"),
        ):
            base = web[key].get("baseline", one)  # the one-row runs on either side
            ratio = web[key].get("ratio", web[key]["rps"] / base)
            row(
                label,
                f"{web[key]['rps']:.1f} req/s",
                f"{base:.1f} req/s",
                f"{ratio:.2f}x",
                ">= 0.6x",
                ratio >= 0.6,
            )
        for key in ("submit", "submit_pdf"):
            if key not in web:
                continue
            s = web[key]
            base = s.get("baseline", web["multipart_rps"])
            ratio = s.get("ratio", s["rps"] / base)
            other = sum(v for k, v in s["statuses"].items() if k != "302") + s["socket_errors"]
            row(
                f"online submission 2 x 1 MB {s.get('kind', '').upper()} vs a bare multipart "
                f"view ({s['answered_302']} answered 302, {s['stored']} stored, {s['lost']} "
                f"lost, {other} other answers or errors)",
                f"{s['rps']:.2f} req/s",
                f"{base:.2f} req/s",
                f"{ratio:.2f}x",
                ">= 0.5x, 0 lost",
                ratio >= 0.5 and s["lost"] == 0 and other == 0,
            )
    reports = figures.get("reports")
    if reports:
        for key, label, limit in (("month", "one month", 50), ("year", "one year", 200)):
            r = reports[key]
            ratio = r["app_ms"] / r["sql_ms"]
            row(
                f"monthly report, {label} ({r['period']}; hand-written SQL over the raw "
                f"rows as baseline; same figures: {'yes' if r['same'] else 'NO'})",
                f"{r['app_ms']:.0f} ms",
                f"{r['sql_ms']:.0f} ms",
                f"{ratio:.2f}x",
                f"< {limit} ms and < 1x",
                r["app_ms"] < limit and ratio < 1 and r["same"],
            )
    rem = figures.get("reminders")
    if rem:
        row(
            f"reminder sweep, {rem['due']:,} due of {rem['open']:,} open (first sweep of "
            f"the day: {rem['cold_items']:,} items, {rem['cold_digests']} digests; plan "
            f"{rem['plan_ms']:,.0f} ms)",
            f"{rem['cold_ms'] / 1000:.2f} s",
            "",
            "",
            "< 5 s",
            rem["cold_ms"] < 5000,
        )
    if web:
        a = web["admin"]
        ok = a["deep_status"] == 200 and a["deep_ms"] < 150
        row(
            f"admin dossier list, page {web['admin_page']:,} as the director (by "
            f"{a.get('by', 'offset')}, HTTP {a['deep_status']}"
            + (f"; by number: {a['offset_ms']:.0f} ms" if a.get("by") == "keyset" else "")
            + "; baseline page 1)",
            f"{a['deep_ms']:.0f} ms",
            f"{a['page1_ms']:.0f} ms",
            f"{a['deep_ms'] / a['page1_ms']:.2f}x",
            "< 150 ms",
            ok,
        )
    return "\n".join(
        [
            *header,
            f"Load average (1 / 5 / 15 min) before: {_load(load_before)}; after: "
            f"{_load(load_after)}",
            "",
            "| measure | figure | baseline (same run) | ratio | target | result |",
            "|---|---:|---:|---:|---|---|",
            *rows,
        ]
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--dossiers", type=int, default=int(os.environ.get("BENCH_DOSSIERS", 1_000_000))
    )
    parser.add_argument(
        "--only", default=",".join(MAIN + EXTRA), help="comma list of " + ",".join(MAIN + EXTRA)
    )
    parser.add_argument("--faults", action="store_true", help="also bench_faults.py (~20 min)")
    parser.add_argument("--duration", default="5", help="seconds per wrk run")
    parser.add_argument("--rounds", default="3", help="interleaved cycles of the web bench")
    parser.add_argument("--open", default="200000", help="open dossiers of the sweep bench")
    parser.add_argument("--due", default="50000", help="due dossiers of the sweep bench")
    parser.add_argument("--runs", default="5", help="timed runs per report period")
    parser.add_argument("--skip-fill", action="store_true", help="use the database as it is")
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(MAIN + EXTRA):
        parser.error(f"--only: unknown {sorted(only - set(MAIN + EXTRA))}")
    started = time.time()
    load_before = os.getloadavg()
    header = [
        f"Date: {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: "
        f"{os.cpu_count()} CPUs ({platform.machine()}), Python {platform.python_version()}",
    ]
    if args.skip_fill:
        header.append("Database used as it is (--skip-fill).")
    else:
        header.append(ensure_database(args.dossiers))
    # The fill writes by COPY, past the services that keep the rollup: the report bench
    # rebuilds it (about a minute on an idle machine); the others do not read it.
    if "reports" in only:
        header.append(rebuild_rollup())
    version = _sql("SHOW server_version")[0][0]
    count = _sql("SELECT count(*) FROM procedures_dossier")[0][0]
    header.append(f"PostgreSQL {version}; {count:,} dossiers in {DB_URL.rsplit('/', 1)[1]}")
    load_start = os.getloadavg()

    figures: dict = {}
    failed: list[str] = []
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp)
        plan = []
        # Reports first: the web bench's submissions (deleted afterwards) must not be
        # in a rollup the report reads.
        if "reports" in only:
            plan.append(("reports", "bench_reports.py", ["--runs", args.runs], _env()))
        if "web" in only:
            plan.append(
                (
                    "web",
                    "bench_web.py",
                    ["--duration", args.duration, "--rounds", args.rounds],
                    _env(),
                )
            )
        if "reminders" in only:
            plan.append(
                (
                    "reminders",
                    "bench_reminders.py",
                    ["--open", args.open, "--due", args.due, "--no-drain"],
                    _env(BENCH_DATABASE_URL=DB_URL + "_reminders"),
                )
            )
        for name, script, extra, env in plan:
            path = out / f"{name}.json"
            if run(script, *extra, "--json", str(path), env=env) and path.exists():
                figures[name] = json.loads(path.read_text())
            else:
                failed.append(script)
        load_main = os.getloadavg()
        if "admin" in only:
            count_arg = ["--count", str(min(count, args.dossiers)), "--repeat", "5"]
            if not run("bench_admin.py", *count_arg):
                failed.append("bench_admin.py")
        if "calendar" in only and not run("bench_calendar.py"):
            failed.append("bench_calendar.py")
        if "upload" in only and not run("bench_upload_memory.py", env=_env(REDIS_URL="")):
            failed.append("bench_upload_memory.py")
        if args.faults and not run("bench_faults.py", env=_env(REDIS_URL=REDIS_URL)):
            failed.append("bench_faults.py")

    print("\n=== summary (issue 13)\n")
    print(summary(figures, load_start, load_main, header))
    print(
        f"\nLoad average at the start of make bench: {_load(load_before)}; at the end: "
        f"{_load(os.getloadavg())}; total {time.time() - started:.0f} s"
    )
    if failed:
        print("failed:", ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
