"""`make run` (dry run): links follow HOST/PORT, and Ctrl-C stops each process by id.

The real stop was checked by hand: `make run PORT=8765` in tmux, Ctrl-C (and a SIGTERM
to make) left no process and printed no "Segmentation fault".
"""

import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def dry_run(*args: str) -> str:
    if not shutil.which("make"):
        pytest.skip("make is not installed")
    # -o: never remake the virtualenv stamps, even on a dry run.
    result = subprocess.run(
        ["make", "-n", "run", "-o", ".venv/.installed", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return result.stdout


def test_site_url_follows_host_and_port():
    assert 'SITE_URL="${SITE_URL:-http://127.0.0.1:8765}"' in dry_run("PORT=8765")
    out = dry_run("HOST=0.0.0.0", "PORT=8080")
    assert 'SITE_URL="${SITE_URL:-http://127.0.0.1:8080}"' in out  # a reachable address
    assert "runserver 0.0.0.0:8080" in out


def test_stop_signals_each_process_once_by_id():
    out = dry_run("PORT=8765")
    assert "kill 0" not in out  # signalled its own shell: endless SIGTERMs, a segfault
    assert "--beat" not in out  # worker and beat are two processes
    assert "celery -A config worker" in out and "celery -A config beat" in out
    assert "kill -TERM $web $worker $beat" in out
