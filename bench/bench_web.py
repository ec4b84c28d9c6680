"""Public endpoints and the staff list through gunicorn, as ratios to baselines of the same run.

    .venv/bin/python bench/bench_web.py [--duration 10] [--connections 8] [--json out.json]

Starts gunicorn (config/gunicorn.py, 4 sync workers) on bench/web_settings.py
(production settings over plain HTTP) against the bench database (BENCH_DATABASE_URL,
default motcua_bench, filled by run_all.py) and Redis (BENCH_REDIS_URL), and loads it
from a second process with wrk (Debian package `wrk`). Each public endpoint's
requests/s is divided by a baseline taken in the same run through the same stack:

- look-up API and page, procedure page and procedure API list: the view that reads one
  dossier by primary key (/bench/one/<pk>/, bench/web_urls.py), measured before and
  after them (mean of the two);
- online submission with 2 x 1 MB files: the bare view receiving the same multipart
  POST (/bench/multipart/); every 302 answered must have left one dossier ("lost" counts
  those that did not); the dossiers it created are deleted afterwards;
- the admin dossier list at page 20,000 (or the last page of a smaller database):
  sequential requests logged in as the director, median ms, against page 1.

Paths rotate over many dossiers and procedures (random sample, fixed seed), so no
single row stays hot. Prints a markdown table; --json writes the figures for run_all.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "bench"), str(ROOT)]
DB_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/motcua_bench")
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/5")
# The demo dossiers' PIN hashes are keyed with the key they were generated under
# (run_all.py passes the same one to the generator).
SECRET_KEY = os.environ.get("SECRET_KEY", "insecure-dev-key-change-me")
TMP = Path(tempfile.mkdtemp(prefix="bench-web-"))
ENV = {
    **os.environ,
    "DJANGO_SETTINGS_MODULE": "web_settings",
    "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
    "DATABASE_URL": DB_URL,
    "REDIS_URL": REDIS_URL,
    "SECRET_KEY": SECRET_KEY,
    "MEDIA_ROOT": str(TMP / "media"),
    "FILE_UPLOAD_TEMP_DIR": str(TMP / "uploads"),
    "GUNICORN_ACCESS_LOG": str(TMP / "access.log"),
    # No recycling of workers mid-run: a restart (imports, first queries) would land in
    # whichever measurement happened to be running.
    "GUNICORN_MAX_REQUESTS": "0",
    "LOG_LEVEL": "WARNING",
}
os.environ.update({k: v for k, v in ENV.items() if k != "PYTHONPATH"})

import django

django.setup()

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.backends.base import SessionBase
from django.db import connection
from django.test import Client
from django.utils.module_loading import import_string

from procedures.catalogue.models import ACCEPTS_ONLINE
from procedures.demo.generator import DEMO_PIN, demo_dossiers_clear
from procedures.models import Dossier, Procedure
from procedures.portal.forms import GENERIC_DOCUMENT_FIELD
from procedures.portal.views import common as portal_common

MB = 1024 * 1024
SUBMIT_DOMAIN = "bench.invalid"  # the bench's submissions, deleted afterwards
LUA = r"""
-- Rotates over the paths in BENCH_PATHS (one a line); optional body file and headers.
local paths, body = {}, nil
counts = {}  -- global: done() reads it from each thread
local headers = {}
for line in io.lines(os.getenv("BENCH_PATHS")) do paths[#paths + 1] = line end
if os.getenv("BENCH_BODY") ~= "" then
  local f = io.open(os.getenv("BENCH_BODY"), "rb"); body = f:read("*a"); f:close()
end
if os.getenv("BENCH_COOKIE") ~= "" then headers["Cookie"] = os.getenv("BENCH_COOKIE") end
if os.getenv("BENCH_CTYPE") ~= "" then headers["Content-Type"] = os.getenv("BENCH_CTYPE") end
local method = os.getenv("BENCH_METHOD")
local threads, i = {}, 0
function setup(thread) table.insert(threads, thread) end
function init(args) i = math.random(#paths) end
function request()
  i = i % #paths + 1
  return wrk.format(method, paths[i], headers, body)
end
function response(status, hdrs, b)
  counts[tostring(status)] = (counts[tostring(status)] or 0) + 1
end
function done(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    local c = t:get("counts")
    for k, v in pairs(c) do total[k] = (total[k] or 0) + v end
  end
  local parts = {}
  for k, v in pairs(total) do parts[#parts + 1] = '"' .. k .. '": ' .. v end
  io.write("STATUS {" .. table.concat(parts, ", ") .. "}\n")
  io.write(string.format("ERRORS %d %d %d %d %d\n", summary.errors.connect,
    summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
  io.write(string.format("TOTAL %d %f\n", summary.requests, summary.duration / 1e6))
end
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    def __init__(self, workers: int):
        self.port = free_port()
        (TMP / "uploads").mkdir(parents=True, exist_ok=True)
        (TMP / "media").mkdir(parents=True, exist_ok=True)
        self.log = open(TMP / "gunicorn.log", "w")
        self.proc = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "gunicorn"),
                "-c",
                "config/gunicorn.py",
                "--workers",
                str(workers),
                "--bind",
                f"127.0.0.1:{self.port}",
            ],
            cwd=ROOT,
            env=ENV,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        for _ in range(300):
            try:
                self.get("/bench/bare/")
                return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError((TMP / "gunicorn.log").read_text()[-3000:])

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def get(self, path: str, cookie: str = "") -> tuple[int, bytes, dict]:
        request = urllib.request.Request(self.url(path), headers={"Cookie": cookie})
        opener = urllib.request.build_opener(NoRedirect)
        try:
            with opener.open(request, timeout=60) as response:
                return response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as exc:
            return exc.code, exc.read(), dict(exc.headers)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=60)
        self.log.close()


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def wrk(server: Server, paths: list[str], *, duration: int, connections: int, **opts) -> dict:
    """requests/s and status counts of one wrk run over `paths`."""
    (TMP / "paths.txt").write_text("\n".join(paths) + "\n")
    (TMP / "script.lua").write_text(LUA)
    env = {
        **os.environ,
        "BENCH_PATHS": str(TMP / "paths.txt"),
        "BENCH_BODY": opts.get("body", ""),
        "BENCH_COOKIE": opts.get("cookie", ""),
        "BENCH_CTYPE": opts.get("ctype", ""),
        "BENCH_METHOD": opts.get("method", "GET"),
    }
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{connections}",
            f"-d{duration}s",
            "--timeout",
            "60s",
            "-s",
            str(TMP / "script.lua"),
            server.url("/"),
        ],
        env=env,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        raise RuntimeError(f"wrk failed: {out.stdout[-2000:]} {out.stderr[-2000:]}")
    out = out.stdout
    statuses = json.loads(re.search(r"^STATUS (.*)$", out, re.M).group(1))
    errors = [int(x) for x in re.search(r"^ERRORS (.*)$", out, re.M).group(1).split()]
    total, seconds = re.search(r"^TOTAL (\S+) (\S+)$", out, re.M).groups()
    answered = sum(statuses.values())
    return {
        "rps": answered / float(seconds),
        "requests": int(total),
        "answered": answered,
        "statuses": statuses,
        # connect, read, write, timeout (status errors are the non-2xx/3xx, in statuses)
        "socket_errors": sum(errors[:4]),
        "latency_note": "",
    }


def _ok(result: dict, expected: str) -> None:
    other = {k: v for k, v in result["statuses"].items() if k != expected}
    if other or result["socket_errors"]:
        print(
            f"   unexpected answers {other}, socket errors {result['socket_errors']}",
            file=sys.stderr,
        )


def _session(data: dict) -> str:
    """A stored session holding `data`; its cookie value."""
    store: SessionBase = import_string(settings.SESSION_ENGINE + ".SessionStore")()
    for key, value in data.items():
        store[key] = value
    store.create()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


def sample_dossiers(n: int, seed: int) -> list[tuple[int, str]]:
    """`n` demo dossiers spread over the table (ids drawn at random between min and max)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM procedures_dossier")
        low, high = cursor.fetchone()
    rng = random.Random(seed)
    wanted = sorted({rng.randint(low, high) for _ in range(n * 2)})
    rows = list(
        Dossier.objects.filter(pk__in=wanted, applicant_email__endswith="demo.invalid")
        .exclude(pin_hash="")
        .values_list("pk", "code")[:n]
    )
    rng.shuffle(rows)
    return rows


def submission_target() -> tuple[int, str]:
    """An online procedure without a published document list: one generic file field."""
    procedure = (
        Procedure.objects.filter(ACCEPTS_ONLINE, documents__isnull=True).order_by("pk").first()
    )
    if procedure is None:
        sys.exit("No online procedure without a document list: seed the catalogue.")
    return procedure.pk, GENERIC_DOCUMENT_FIELD


def multipart_body(fields: dict[str, str], files: list[tuple[str, str, bytes]]) -> tuple:
    boundary = "----benchboundary7MA4YWxkTrZu0gW"
    out = bytearray()
    for name, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'.encode()
        out += value.encode() + b"\r\n"
    for name, filename, content in files:
        out += (
            f"--{boundary}\r\nContent-Disposition: form-data; name="
            f'"{name}"; filename="{filename}"\r\nContent-Type: application/pdf\r\n\r\n'
        ).encode()
        out += content + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def admin_times(server: Server, cookie: str, path: str, repeat: int) -> tuple[float, int]:
    status, _, _ = server.get(path, cookie)  # warm-up
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        status, _, _ = server.get(path, cookie)
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), status


PARTS = ("lookup_api", "lookup_page", "procedure_page", "procedure_api", "submit", "admin")


def main() -> int:  # noqa: C901 - one scenario after the other
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=5, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3, help="cycles of the GET runs")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--upload-duration", type=int, default=15)
    parser.add_argument("--upload-connections", type=int, default=4)
    parser.add_argument("--admin-page", type=int, default=20_000)
    parser.add_argument("--repeat", type=int, default=7, help="admin requests per page")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument(
        "--only",
        default=",".join(PARTS),
        help="comma list of " + ",".join(PARTS) + " (a profile of one endpoint)",
    )
    args = parser.parse_args()
    only = set(args.only.split(","))
    if only - set(PARTS):
        sys.exit(f"--only: unknown {sorted(only - set(PARTS))}; known: {','.join(PARTS)}")
    if shutil.which("wrk") is None:
        sys.exit("wrk not found: apt-get install -y wrk")

    total = Dossier.objects.count()
    sample = sample_dossiers(500, args.seed)
    if not sample:
        sys.exit("No demo dossier in the bench database: run bench/run_all.py first.")
    one_paths = [f"/bench/one/{pk}/" for pk, _ in sample]
    lookup_api = [f"/api/v1/dossiers/lookup/?code={code}&pin={DEMO_PIN}" for _, code in sample]
    # The page: a session that opened 50 dossiers with their PIN, as the form grants it.
    page_codes = sample[:50]
    lookup_cookie = _session(
        {portal_common.ACCESS_KEY: {str(pk): time.time() + 24 * 3600 for pk, _ in page_codes}}
    )
    lookup_pages = [f"/tra-cuu/{code}/" for _, code in page_codes]
    procedure_ids = list(
        Procedure.objects.filter(status="active").order_by("pk").values_list("pk", flat=True)
    ) or list(Procedure.objects.order_by("pk").values_list("pk", flat=True))
    procedure_pages = [f"/thu-tuc/{pk}/" for pk in procedure_ids]
    director = get_user_model().objects.get(username="giamdoc")
    client = Client()
    client.force_login(director)
    name = settings.SESSION_COOKIE_NAME
    staff_cookie = f"{name}={client.cookies[name].value}"
    # The unfiltered list counts by PostgreSQL's estimate, so its last page follows it.
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples FROM pg_class WHERE oid = 'procedures_dossier'::regclass")
        estimate = max(int(cursor.fetchone()[0]), 0) or total
    last_page = max(1, -(-min(total, estimate) // 50))
    admin_page = min(args.admin_page, last_page)
    submit_pk, file_field = submission_target()

    load_before = os.getloadavg()
    server = Server(args.workers)
    results: dict = {"dossiers": total, "admin_page": admin_page}
    try:
        d, c = args.duration, args.connections
        for path in (
            one_paths[0],
            lookup_api[0],
            lookup_pages[0],
            procedure_pages[0],
            "/api/v1/procedures/",
        ):
            cookie = lookup_cookie if path.startswith("/tra-cuu/") else ""
            status, body, _ = server.get(path, cookie)
            if status != 200:
                raise RuntimeError(f"{path}: {status} {body[:500]!r}")
        # Warm-up: each worker loads its views, templates and translations once.
        print("warming up ...", file=sys.stderr)
        for paths, cookie in (
            (one_paths, ""),
            (lookup_api, ""),
            (lookup_pages, lookup_cookie),
            (procedure_pages, ""),
            (["/api/v1/procedures/"], ""),
        ):
            wrk(server, paths, duration=2, connections=c, cookie=cookie)
        print("measuring (wrk) ...", file=sys.stderr)
        # Interleaved: each endpoint's run sits between two runs of the one-row view, and
        # its baseline is their mean, so load from other processes (which drifts over
        # minutes) hits both alike; --rounds such cycles, medians reported.
        targets = {
            "lookup_api": (lookup_api, ""),
            "lookup_page": (lookup_pages, lookup_cookie),
            "procedure_page": (procedure_pages, ""),
            "procedure_api": (["/api/v1/procedures/"], ""),
        }
        targets = {key: value for key, value in targets.items() if key in only}
        per: dict = {k: {"rps": [], "base": [], "statuses": Counter()} for k in targets}
        bare_rps, ones = [], []
        previous = wrk(server, one_paths, duration=d, connections=c)
        _ok(previous, "200")
        ones.append(previous["rps"])
        for round_ in range(args.rounds):
            bare_run = wrk(server, ["/bench/bare/"], duration=d, connections=c)
            _ok(bare_run, "200")
            bare_rps.append(bare_run["rps"])
            for key, (paths, cookie) in targets.items():
                run = wrk(server, paths, duration=d, connections=c, cookie=cookie)
                after = wrk(server, one_paths, duration=d, connections=c)
                _ok(run, "200")
                _ok(after, "200")
                base = (previous["rps"] + after["rps"]) / 2
                per[key]["rps"].append(run["rps"])
                per[key]["base"].append(base)
                per[key]["statuses"].update(run["statuses"])
                ones.append(after["rps"])
                previous = after
                print(
                    f"   round {round_ + 1} {key}: {run['rps']:.1f} req/s, one-row "
                    f"{base:.1f} req/s {dict(run['statuses'])}",
                    file=sys.stderr,
                )
        one = statistics.median(ones)
        results["one_row_rps"] = one
        results["bare_rps"] = statistics.median(bare_rps)
        for key, figures in per.items():
            results[key] = {
                "rps": statistics.median(figures["rps"]),
                "baseline": statistics.median(figures["base"]),
                "ratio": statistics.median(
                    r / b for r, b in zip(figures["rps"], figures["base"], strict=True)
                ),
                "rounds": list(zip(figures["rps"], figures["base"], strict=True)),
                "statuses": dict(figures["statuses"]),
            }

        # Online submission: CSRF cookie and token from the form, 2 files of 1 MB.
        if "submit" in only:
            submissions(server, results, args, submit_pk, file_field)
        if "admin" in only:
            admin_pages(server, results, args, staff_cookie, admin_page)
    finally:
        server.stop()
        # The event log refuses deletes through the models: plain SQL, as for demo rows.
        deleted = demo_dossiers_clear(email_domain=SUBMIT_DOMAIN)
        print(f"   removed the bench's submissions: {deleted}", file=sys.stderr)
        shutil.rmtree(TMP, ignore_errors=True)
    results["load_before"] = load_before
    results["load_after"] = os.getloadavg()
    report(results, args, total, one, admin_page)
    return 0


def submissions(server, results: dict, args, submit_pk: int, file_field: str) -> None:
    """Online submission with 2 x 1 MB files against the bare multipart view."""
    form_path = f"/thu-tuc/{submit_pk}/nop-ho-so/"
    status, page, headers = server.get(form_path)
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    csrf_cookie = re.search(r"csrftoken=([^;]+)", headers.get("Set-Cookie", "")).group(1)
    from tests.files import minimal_pdf

    rng = random.Random(args.seed)
    # A phone photo or scan (only its first bytes are checked) and a scanned PDF (also
    # parsed, in a capped child process, before it is accepted).
    contents = {
        "jpeg": b"\xff\xd8\xff\xe0" + rng.randbytes(MB - 4),
        "pdf": minimal_pdf(pad_to=MB),
    }

    def body_of(kind: str) -> dict:
        ext = "jpg" if kind == "jpeg" else "pdf"
        body, ctype = multipart_body(
            {
                "csrfmiddlewaretoken": token.decode(),
                "applicant_type": "individual",
                "applicant_name": "Nguyễn Thị Bình",
                "id_number": "001199012345",
                "address": "",
                "phone": "0912345678",
                "email": f"{kind}@{SUBMIT_DOMAIN}",
                "result_delivery": "desk",
                "note": "",
                "consent": "on",
                "website": "",
            },
            [
                (file_field, f"don.{ext}", contents[kind]),
                (file_field, f"giay-phep.{ext}", contents[kind]),
            ],
        )
        (TMP / f"{kind}.bin").write_bytes(body)
        return {
            "method": "POST",
            "body": str(TMP / f"{kind}.bin"),
            "ctype": ctype,
            "cookie": f"csrftoken={csrf_cookie}",
        }

    ud, uc = args.upload_duration, args.upload_connections

    def submission(kind: str) -> dict:
        post = body_of(kind)
        email = f"{kind}@{SUBMIT_DOMAIN}"
        before = Dossier.objects.filter(applicant_email=email).count()
        run = wrk(server, [form_path], duration=ud, connections=uc, **post)
        _ok(run, "302")
        stored = Dossier.objects.filter(applicant_email=email).count() - before
        answered = run["statuses"].get("302", 0)
        print(
            f"   submission ({kind}): {run['rps']:.2f} req/s {run['statuses']}, {stored} stored",
            file=sys.stderr,
        )
        return {
            "kind": kind,
            "rps": run["rps"],
            "statuses": run["statuses"],
            "socket_errors": run["socket_errors"],
            "answered_302": answered,
            "stored": stored,
            # A 302 says the dossier was registered: each must have left its row.
            "lost": max(0, answered - stored),
        }

    # Same interleaving: bare, JPEG submission, bare, PDF submission, bare.
    bare_post = body_of("jpeg")
    # Warm-up, as for the pages above: each worker loads once what a submission uses
    # (the broker's transport, the PDF reader, the e-mail validator's pattern, the
    # catalogue cache entry) outside the measured runs. Its dossiers are deleted with
    # the others at the end; each measured run counts only its own.
    for kind in ("jpeg", "pdf"):
        wrk(server, [form_path], duration=2, connections=uc, **body_of(kind))
    wrk(server, ["/bench/multipart/"], duration=2, connections=uc, **bare_post)

    def bare_multipart() -> float:
        run = wrk(server, ["/bench/multipart/"], duration=ud, connections=uc, **bare_post)
        _ok(run, "200")
        print(f"   bare multipart: {run['rps']:.2f} req/s", file=sys.stderr)
        return run["rps"]

    bares = [bare_multipart()]
    for key, kind in (("submit", "jpeg"), ("submit_pdf", "pdf")):
        results[key] = submission(kind)
        bares.append(bare_multipart())
        results[key]["baseline"] = (bares[-2] + bares[-1]) / 2
        results[key]["ratio"] = results[key]["rps"] / results[key]["baseline"]
    results["multipart_rps"] = statistics.median(bares)


def admin_pages(server, results: dict, args, staff_cookie: str, admin_page: int) -> None:
    """The admin list at a deep page against page 1, as the director."""
    # Admin list, deep page vs first page, as the director. The page is reached as
    # the list offers it: by keyset (?after=<last id of the page before>, in the
    # default order -id) when the list has it, else by number (?p=, an OFFSET).
    base = "/admin/procedures/dossier/"
    first_ms, first_status = admin_times(server, staff_cookie, base, args.repeat)
    offset_ms, offset_status = admin_times(
        server, staff_cookie, f"{base}?p={admin_page}", args.repeat
    )
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM procedures_dossier ORDER BY id DESC OFFSET %s LIMIT 1",
            [max(0, (admin_page - 1) * 50 - 1)],
        )
        after = cursor.fetchone()[0]
    keyset_ms, keyset_status = admin_times(
        server, staff_cookie, f"{base}?after={after}", args.repeat
    )
    keyset = keyset_status == 200  # before keyset pages: 302 to ?e=1 (unknown lookup)
    results["admin"] = {
        "page1_ms": first_ms,
        "page1_status": first_status,
        "offset_ms": offset_ms,
        "offset_status": offset_status,
        "keyset_ms": keyset_ms if keyset else None,
        "keyset_status": keyset_status,
        "by": "keyset" if keyset else "offset",
        "deep_ms": keyset_ms if keyset else offset_ms,
        "deep_status": keyset_status if keyset else offset_status,
    }


def report(results: dict, args, total: int, one: float, admin_page: int) -> None:
    print(
        f"gunicorn {args.workers} sync workers, wrk 1 thread x {args.connections} connections "
        f"x {args.duration} s per GET run, {args.rounds} rounds "
        f"({args.upload_connections} x {args.upload_duration} s "
        f"uploads); {total:,} dossiers"
    )
    print()
    print("| request | req/s | baseline req/s | ratio |")
    print("|---|---:|---:|---:|")
    print(f"| bare JSON view | {results['bare_rps']:.1f} | | |")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, default=str))
    print(f"| one-row read view (median of all its runs) | {one:.1f} | | |")
    for key, label in (
        ("lookup_api", "public look-up API"),
        ("lookup_page", "public look-up page"),
        ("procedure_page", "procedure page"),
        ("procedure_api", "procedure API list"),
    ):
        if key not in results:
            continue
        r = results[key]
        print(f"| {label} | {r['rps']:.1f} | {r['baseline']:.1f} | {r['ratio']:.2f} |")
    for s in (results[k] for k in ("submit", "submit_pdf") if k in results):
        print(
            f"| online submission 2 x 1 MB {s['kind'].upper()} ({s['answered_302']} answered, "
            f"{s['stored']} stored, {s['lost']} lost) | {s['rps']:.2f} | "
            f"{s['baseline']:.2f} | {s['ratio']:.2f} |"
        )
    print()
    if "admin" not in results:
        return
    a = results["admin"]
    print(
        f"Admin list as the director: page 1 {a['page1_ms']:.0f} ms ({a['page1_status']}); "
        f"page {admin_page:,} by number (?p=) {a['offset_ms']:.0f} ms ({a['offset_status']}), "
        f"by keyset (?after=) "
        + (f"{a['keyset_ms']:.0f} ms" if a["keyset_ms"] is not None else "not offered")
        + f" ({a['keyset_status']})"
    )


if __name__ == "__main__":
    sys.exit(main())
