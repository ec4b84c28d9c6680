"""bench/run_all.py (`make bench`): its summary table judges each row of issue 13's table
against the baseline of the same run, and the benchmark's baseline views stay out of the
project's URLs. The benches themselves run only under `make bench`."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("bench_run_all", ROOT / "bench" / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


FIGURES = {
    "web": {
        "one_row_rps": 100.0,
        "multipart_rps": 10.0,
        "lookup_api": {"rps": 60.0},
        "lookup_page": {"rps": 59.0},
        "procedure_page": {"rps": 80.0},
        "procedure_api": {"rps": 30.0},
        "submit": {
            "kind": "jpeg",
            "rps": 6.0,
            "statuses": {"302": 90, "500": 1},
            "socket_errors": 0,
            "answered_302": 90,
            "stored": 89,
            "lost": 1,
        },
        "admin_page": 20000,
        "admin": {"page1_ms": 40.0, "deep_ms": 120.0, "page1_status": 200, "deep_status": 200},
    },
    "reports": {
        "month": {"period": "2026-10", "app_ms": 20.0, "sql_ms": 300.0, "same": True},
        "year": {"period": "2026", "app_ms": 250.0, "sql_ms": 1000.0, "same": True},
    },
    "reminders": {
        "open": 200000,
        "due": 50000,
        "plan_ms": 900.0,
        "cold_ms": 4200.0,
        "cold_items": 100000,
        "cold_digests": 114,
    },
}


def test_summary_has_every_row_with_its_ratio_and_verdict(run_all):
    table = run_all.summary(FIGURES, (1.0, 2.0, 3.0), (4.0, 5.0, 6.0), ["Date: today"])
    rows = [line for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    assert len(rows) == 1 + 9  # header + the rows (look-up and report split in two)
    by_measure = {row.split(" | ")[0][2:].split(" (")[0]: row for row in rows[1:]}
    assert by_measure["public look-up API vs the one-row read view"].endswith(
        "| 60.0 req/s | 100.0 req/s | 0.60x | >= 0.6x | pass |"
    )
    assert by_measure["public look-up page vs the one-row read view"].endswith(
        "0.59x | >= 0.6x | FAIL |"
    )
    # Fast enough, but one registered dossier missing: a failure.
    submission = by_measure["online submission 2 x 1 MB JPEG vs a bare multipart view"]
    assert "1 lost, 1 other answers or errors" in submission
    assert submission.endswith("| 6.00 req/s | 10.00 req/s | 0.60x | >= 0.5x, 0 lost | FAIL |")
    assert by_measure["monthly report, one month"].endswith(
        "| 20 ms | 300 ms | 0.07x | < 50 ms and < 1x | pass |"
    )
    assert by_measure["monthly report, one year"].endswith(
        "| 250 ms | 1000 ms | 0.25x | < 200 ms and < 1x | FAIL |"
    )
    assert by_measure["reminder sweep, 50,000 due of 200,000 open"].endswith(
        "| 4.20 s |  |  | < 5 s | pass |"
    )
    assert by_measure["admin dossier list, page 20,000 as the director"].endswith(
        "| 120 ms | 40 ms | 3.00x | < 150 ms | pass |"
    )
    assert "before: 1.00 / 2.00 / 3.00; after: 4.00 / 5.00 / 6.00" in table


def test_summary_leaves_out_the_benches_that_did_not_run(run_all):
    table = run_all.summary({"reports": FIGURES["reports"]}, (0, 0, 0), (0, 0, 0), [])
    assert "monthly report, one month" in table and "look-up" not in table


def test_help_runs_without_a_database():
    out = subprocess.run(
        [sys.executable, "bench/run_all.py", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
    ).stdout
    assert "--dossiers" in out and "--only" in out


def test_baseline_views_are_not_in_the_project_urls():
    for path in ("/bench/bare/", "/bench/one/1/", "/bench/multipart/"):
        with pytest.raises(Resolver404):
            resolve(path)
