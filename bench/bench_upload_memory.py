"""Memory of a web worker under hostile uploads (hardening issue, item 1).

    .venv/bin/python bench/bench_upload_memory.py [--files 99] [--file-mb 9.9]

Starts a real gunicorn (config/gunicorn.py, one worker) on production settings with
SQLite (bench/upload_settings.py) in a temporary directory, and sends, over a plain
socket, requests whose bodies are generated on the fly and streamed in 1 MB chunks
(the client never holds a file). Like a browser or curl, the client stops sending
once the server has answered. For each request it reads the worker's resident memory
(VmRSS) before and after, and its peak (VmHWM, reset before each request through
/proc/<pid>/clear_refs), and prints a markdown table:

- the probe's request: --files files of --file-mb MB in one online submission;
- too many small files: PORTAL_UPLOAD_MAX_FILES + 1 files of 100 KB;
- the largest request accepted: 20 PDFs making up a full 50 MB dossier, parsed,
  checked and stored.

Linux only (/proc). Target: under 50 MB of growth for each.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import secrets
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

MB = 1024 * 1024
CHUNK = MB
BLOCK = bytes(CHUNK)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def proc_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


def reset_peak(pid: int) -> None:
    Path(f"/proc/{pid}/clear_refs").write_text("5")  # resets VmHWM to the current RSS


def worker_pid(master: int) -> int:
    for _ in range(100):
        children = Path(f"/proc/{master}/task/{master}/children").read_text().split()
        if children:
            return int(children[0])
        time.sleep(0.1)
    raise RuntimeError("gunicorn started no worker")


# ------------------------------------------------------------------ a streaming client


class Part:
    def __init__(
        self,
        name: str,
        *,
        value: bytes = b"",
        filename: str = "",
        size: int = 0,
        head: bytes = b"",
        content: bytes | None = None,
    ):
        self.name, self.value, self.filename = name, value, filename
        self.content = content
        self.head = head
        self.size = len(content) if content is not None else (size if filename else len(value))

    def header(self, boundary: bytes) -> bytes:
        disposition = f'form-data; name="{self.name}"'
        lines = [b"--" + boundary]
        if self.filename:
            disposition += f'; filename="{self.filename}"'
            lines += [
                f"Content-Disposition: {disposition}".encode(),
                b"Content-Type: application/pdf",
            ]
        else:
            lines += [f"Content-Disposition: {disposition}".encode()]
        return b"\r\n".join(lines) + b"\r\n\r\n"

    def chunks(self):
        if not self.filename:
            yield self.value
            return
        if self.content is not None:
            for i in range(0, len(self.content), CHUNK):
                yield self.content[i : i + CHUNK]
            return
        # A hostile file made of a PDF header and zeros, a megabyte at a time.
        yield self.head
        left = self.size - len(self.head)
        while left > 0:
            n = min(left, CHUNK)
            yield BLOCK[:n]
            left -= n


def post_multipart(port: int, path: str, parts: list[Part], cookie: str):
    """Stream the body; stop as soon as the server answers. (status, sent, total, body)."""
    boundary = secrets.token_hex(16).encode()
    total = sum(len(p.header(boundary)) + p.size + 2 for p in parts) + len(boundary) + 6
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Content-Type: multipart/form-data; boundary={boundary.decode()}\r\n"
        f"Content-Length: {total}\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
    )
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(head.encode())
    sent = 0

    def pieces():
        for p in parts:
            yield p.header(boundary)
            yield from p.chunks()
            yield b"\r\n"
        yield b"--" + boundary + b"--\r\n"

    answered = False
    try:
        for piece in pieces():
            if select.select([sock], [], [], 0)[0]:
                answered = True
                break
            sock.sendall(piece)
            sent += len(piece)
    except (BrokenPipeError, ConnectionResetError):
        answered = True
    response = b""
    try:
        sock.settimeout(120)
        while chunk := sock.recv(65536):
            response += chunk
    except (ConnectionResetError, TimeoutError):
        pass
    sock.close()
    status = int(response.split(b" ", 2)[1]) if response.startswith(b"HTTP/") else 0
    return status, sent, total, response, answered


def get(port: int, path: str, cookie: str = "") -> tuple[int, bytes]:
    sock = socket.create_connection(("127.0.0.1", port))
    extra = f"Cookie: {cookie}\r\n" if cookie else ""
    sock.sendall(
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n{extra}"
        "Connection: close\r\n\r\n".encode()
    )
    response = b""
    while chunk := sock.recv(65536):
        response += chunk
    sock.close()
    return int(response.split(b" ", 2)[1]), response


# ------------------------------------------------------------------ the server


SETUP = """
from decimal import Decimal
from datetime import date
from procedures.core.constants import OnlineLevel
from procedures.models import Field, RequiredDocument, Unit
from procedures.catalogue.services import procedure_create
unit = Unit.objects.create(code="QLTM", name="Phòng Quản lý Thương mại")
field = Field.objects.create(name="Lưu thông hàng hóa trong nước")
p = procedure_create(name="Cấp Giấy phép bán lẻ sản phẩm rượu", code="2.000633", field=field,
    decision_number="QĐ 1/2026", decision_date=date(2026, 1, 1), effective_from=date(2026, 1, 1),
    processing_amount=Decimal("5"), online_processing_amount=Decimal("3"),
    online_level=OnlineLevel.FULL, fee_vnd=0, implementing_unit=unit)
RequiredDocument.objects.create(procedure=p, name="Hồ sơ", order=1, mandatory=True)
print("PROCEDURE", p.pk, p.documents.get().pk)
"""


def start(tmp: Path) -> tuple[subprocess.Popen, int, dict]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "upload_settings",
        "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "SECRET_KEY": secrets.token_hex(32),
        "ALLOWED_HOSTS": "127.0.0.1",
        "MEDIA_ROOT": str(tmp / "media"),
        "FILE_UPLOAD_TEMP_DIR": str(tmp / "uploads"),
        "SECURE_SSL_REDIRECT": "false",
        "REDIS_URL": "",
    }
    (tmp / "uploads").mkdir()
    python = sys.executable
    subprocess.run([python, "manage.py", "migrate", "-v", "0"], cwd=ROOT, env=env, check=True)
    out = subprocess.run(
        [python, "manage.py", "shell", "-c", SETUP],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    procedure, slot = out.split("PROCEDURE")[1].split()[:2]
    port = free_port()
    log = open(tmp / "gunicorn.log", "w")
    server = subprocess.Popen(
        [
            str(Path(python).parent / "gunicorn"),
            "-c",
            "config/gunicorn.py",
            "--workers",
            "1",
            "--bind",
            f"127.0.0.1:{port}",
        ],
        cwd=ROOT,
        env={**env, "GUNICORN_ACCESS_LOG": str(tmp / "access.log")},
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    for _ in range(150):
        try:
            get(port, "/")
            break
        except OSError:
            time.sleep(0.2)
    else:
        raise RuntimeError((tmp / "gunicorn.log").read_text())
    return server, port, {"procedure": int(procedure), "slot": int(slot)}


def form_parts(port: int, path: str, slot: int) -> tuple[str, list[Part]]:
    status, page = get(port, path)
    assert status == 200, page[:500]
    cookie = re.search(rb"Set-Cookie: csrftoken=([^;]+)", page).group(1).decode()
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    fields = {
        "csrfmiddlewaretoken": token,
        "applicant_type": b"individual",
        "applicant_name": "Nguyễn Thị Bình".encode(),
        "id_number": b"001199012345",
        "address": b"",
        "phone": b"0912345678",
        "email": b"binh@example.com",
        "result_delivery": b"desk",
        "note": b"",
        "consent": b"on",
        "website": b"",
    }
    return f"csrftoken={cookie}", [Part(k, value=v) for k, v in fields.items()]


def measure(pid: int, action) -> dict:
    before = proc_kb(pid, "VmRSS")
    reset_peak(pid)
    started = time.perf_counter()
    status, sent, total, response, answered = action()
    elapsed = time.perf_counter() - started
    time.sleep(0.5)
    return {
        "status": status,
        "sent": sent,
        "total": total,
        "answered_early": answered,
        "before": before,
        "after": proc_kb(pid, "VmRSS"),
        "peak": proc_kb(pid, "VmHWM"),
        "seconds": elapsed,
        "response": response,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=99)
    parser.add_argument("--file-mb", type=float, default=9.9)
    args = parser.parse_args()

    from tests.files import minimal_pdf

    tmp = Path(tempfile.mkdtemp(prefix="bench-upload-"))
    server, port, ids = start(tmp)
    try:
        pid = worker_pid(server.pid)
        path = f"/thu-tuc/{ids['procedure']}/nop-ho-so/"
        field = f"doc_{ids['slot']}"
        small = minimal_pdf()

        def submit(files: list[Part]):
            cookie, parts = form_parts(port, path, ids["slot"])
            return post_multipart(port, path, parts + files, cookie)

        # Warm-up: an honest submission loads every module the upload path uses.
        warm = submit([Part(field, filename="don.pdf", content=small)])
        assert warm[0] == 302, warm[3][:2000]
        rows = []
        hostile_size = int(args.file_mb * MB)
        rows.append(
            (
                f"probe: {args.files} files × {args.file_mb} MB",
                measure(
                    pid,
                    lambda: submit(
                        [
                            Part(
                                field,
                                filename=f"scan-{i}.pdf",
                                size=hostile_size,
                                head=b"%PDF-1.7\n",
                            )
                            for i in range(args.files)
                        ]
                    ),
                ),
            )
        )
        rows.append(
            (
                "21 files × 100 KB (one over the count)",
                measure(
                    pid,
                    lambda: submit(
                        [
                            Part(
                                field,
                                filename=f"trang-{i}.pdf",
                                size=100 * 1024,
                                head=b"%PDF-1.7\n",
                            )
                            for i in range(21)
                        ]
                    ),
                ),
            )
        )
        full = minimal_pdf(pad_to=int(2.45 * MB))
        rows.append(
            (
                "largest accepted: 20 PDFs × 2.45 MB, stored",
                measure(
                    pid,
                    lambda: submit(
                        [Part(field, filename=f"trang-{i}.pdf", content=full) for i in range(20)]
                    ),
                ),
            )
        )
        assert rows[-1][1]["status"] == 302, rows[-1][1]["response"][:3000]
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    stored = sum(f.stat().st_size for f in (tmp / "media").rglob("*") if f.is_file())
    leftover = list((tmp / "uploads").iterdir())
    shutil.rmtree(tmp)

    print(
        f"Machine: {os.cpu_count()} cores, {platform.machine()}, Python "
        f"{platform.python_version()}; gunicorn 1 sync worker, config/gunicorn.py"
    )
    print()
    print(
        "| request | answer | body sent / announced | worker RSS before | after | growth "
        "| peak growth | time |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for label, r in rows:
        print(
            f"| {label} | {r['status']} | {r['sent'] / MB:,.1f} / {r['total'] / MB:,.1f} MB "
            f"| {r['before'] / 1024:.1f} MB | {r['after'] / 1024:.1f} MB "
            f"| {(r['after'] - r['before']) / 1024:+.1f} MB "
            f"| {(r['peak'] - r['before']) / 1024:+.1f} MB | {r['seconds']:.2f} s |"
        )
    print()
    print(
        f"Stored under MEDIA_ROOT: {stored / MB:.1f} MB; temporary upload files left: "
        f"{len(leftover)}"
    )
    worst = max((r["peak"] - r["before"]) / 1024 for _, r in rows)
    print(f"Worst peak growth: {worst:.1f} MB (target: under 50 MB)")
    return 0 if worst < 50 else 1


if __name__ == "__main__":
    sys.exit(main())
