"""The PDF structure check, run in a checker process kept beside each web worker.

pypdf reads each uploaded PDF in a process of its own, so that a PDF built to be costly
to parse (a 10 MB string object costs pypdf about 230 MB and 3 s) exhausts that
process's caps, never the worker's memory or time. The checker used to be a child forked
from the worker for every file: the fork of a ~150 MB worker and the copy-on-write
faults of the child cost about 20 ms of CPU per PDF, twenty times the parse of a 1 MB
scan (issue 13). The checker is now started once per worker and answers one file after
another under the same caps:

- memory: its address space is capped (RLIMIT_AS) at what it holds after start-up plus
  PDF_CHECK_MEMORY_BYTES; a parse that needs more fails in the checker (a refusal) and
  the checker is replaced;
- CPU: before each file its RLIMIT_CPU is set to the CPU time used so far plus
  PDF_CHECK_CPU_SECONDS, so one file can use at most that much; past it the kernel ends
  the checker (a refusal), and the next file starts a new one;
- time: the worker waits at most CHECK_WAIT_SECONDS for an answer (a checker stopped
  or stuck is killed: a refusal).

Any failure of the checker is a refusal of the file; the worker is never harmed. A new
checker says it is ready once pypdf is loaded; where none starts (or says so), the file
is checked in a capped child forked for it (`uploads._run_capped`), as before.

Protocol, over the checker's standard input and output: the checker first writes
`ready\n`; then the worker writes
`P <path>\\n` (a temporary file) or `B <length>\\n` and the bytes (an upload held in
memory); the checker answers `0\\n` (a plain PDF) or `1\\n` (refused), followed by
` leaving` before the newline when it ends after this answer (its heap grew, or its
memory ran out): the worker then starts a new checker for the next file, instead of
sending it to a process that is exiting.

This module imports nothing of Django: the checker runs it as `python -m
procedures.core.pdfcheck` and loads only pypdf.
"""

from __future__ import annotations

import io
import math
import os
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import IO

MB = 1024 * 1024
PDF_CHECK_MEMORY_BYTES = 96 * MB
PDF_CHECK_CPU_SECONDS = 5
CHECK_WAIT_SECONDS = 30
# How long a new checker may take to load pypdf and say it is ready; one that does not
# (a broken interpreter or environment) is not used: the worker forks a child instead.
START_WAIT_SECONDS = 20
READY = b"ready\n"
LEAVING = b"leaving"
# A checker is also replaced after this many files, so that whatever a long run of
# parses leaves in its heap never counts against a later file's memory cap (a parse that
# grows the heap by a quarter of the cap already leaves it at once). Not sooner: a new
# checker costs about 160 ms of CPU (an interpreter and pypdf loaded), against 0.7 ms
# for the check of a 1 MB scan; every 500 files that was 0.3 ms a file (issue 13).
CHECKS_PER_CHECKER = 10_000
PDF_OK, PDF_REFUSED = 0, 1

# Keys a PDF reader acts on (PDF 2.0, ISO 32000-2 s. 12.6.4): scripts, launching
# programs, embedded files, XFA forms.
ACTIVE_KEYS = (
    "/JS",
    "/JavaScript",
    "/Launch",
    "/EmbeddedFile",
    "/EmbeddedFiles",
    "/XFA",
    "/RichMedia",
)
ACTIVE_ACTIONS = ("/JavaScript", "/Launch", "/RichMediaExecute")


def structure_verdict(fileobj: IO[bytes]) -> int:
    """PDF_OK when pypdf reads a page tree and no object carries active content."""
    from pypdf import PdfReader
    from pypdf.errors import PyPdfError
    from pypdf.generic import DictionaryObject, IndirectObject, NameObject

    fileobj.seek(0)
    try:
        reader = PdfReader(fileobj, strict=False)
        if reader.is_encrypted or len(reader.pages) < 1:
            return PDF_REFUSED
        ids = [
            IndirectObject(num, gen, reader) for gen, nums in reader.xref.items() for num in nums
        ]
        ids += [IndirectObject(num, 0, reader) for num in reader.xref_objStm]
        for ref in ids:
            obj = ref.get_object()
            if not isinstance(obj, DictionaryObject):
                continue
            if any(key in obj for key in ACTIVE_KEYS):
                return PDF_REFUSED
            if obj.get(NameObject("/S")) in ACTIVE_ACTIONS:
                return PDF_REFUSED
    except (PyPdfError, ValueError, KeyError, TypeError, AttributeError, RecursionError, OSError):
        return PDF_REFUSED
    return PDF_OK


def cap_memory(resource, memory_bytes: int) -> int | None:
    """Cap this process's address space at its current size plus `memory_bytes`;
    returns the size it counted from (None where it is unknown: no cap)."""
    current = address_space()
    if current is not None:
        resource.setrlimit(resource.RLIMIT_AS, (current + memory_bytes,) * 2)
    return current


def address_space() -> int | None:
    """This process's virtual size (Linux; elsewhere None and only CPU time is capped)."""
    try:
        with open("/proc/self/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


# ---------------------------------------------------------------- the checker process


def _cap_cpu_for_next_file(resource, cpu_seconds: int) -> None:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    # The soft limit only: past it the kernel sends SIGXCPU, which ends the process. A
    # process may lower its hard limit but never raise it again, so that one stays.
    _soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    soft = used + cpu_seconds
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def checker_main(memory_bytes: int, cpu_seconds: int) -> None:
    """Answer files until the worker closes the pipe (or a cap ends this process)."""
    import gc
    import resource

    import pypdf  # noqa: F401  (loaded before the cap is measured)

    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))  # ended by a cap: no core file
    # What start-up loaded stays for the process's life: the collections after each file
    # (below) need not look at it again.
    gc.freeze()
    current = cap_memory(resource, memory_bytes)
    source, answer = sys.stdin.buffer, sys.stdout.buffer
    answer.write(READY)  # loaded and capped: the worker may send files
    answer.flush()
    while True:
        header = source.readline()
        if not header:
            return
        kind, _, value = header.strip().partition(b" ")
        verdict, leave = PDF_REFUSED, False
        try:
            if kind == b"B":
                fileobj: IO[bytes] = io.BytesIO(source.read(int(value)))
            else:
                fileobj = open(os.fsdecode(value), "rb")  # noqa: SIM115 - closed below
            _cap_cpu_for_next_file(resource, cpu_seconds)
            with fileobj:
                verdict = structure_verdict(fileobj)
        except MemoryError:
            leave = True  # the heap may be in any state: the worker starts a new checker
        except Exception:  # noqa: BLE001 - anything else about the file is a refusal
            verdict = PDF_REFUSED
        # A parsed document is a web of objects that refer to each other, freed only by
        # a full collection, which Python runs ever more rarely as objects accumulate:
        # the heap grew by a quarter of the cap every 450-550 files and the checker had
        # to be replaced. Collected after each file (the frozen start-up objects are not
        # scanned), the heap stays at its start-up size, and a check costs 0.46 ms of
        # CPU instead of 0.70 for a 1 MB scan.
        gc.collect()
        # A parse that grew the heap (a refused costly file does) leaves it to a new
        # checker: the next file's cap counts from a clean start.
        grown = address_space()
        if current is not None and grown is not None and grown > current + memory_bytes // 4:
            leave = True
        answer.write(b"%d %s\n" % (verdict, LEAVING) if leave else b"%d\n" % verdict)
        answer.flush()
        if leave:
            return


# ---------------------------------------------------------------- the worker's side


class Checker:
    """The worker's checker process, started on first use and replaced when it fails."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._proc: subprocess.Popen | None = None
        self._pid = 0
        self._checks = 0

    def command(self) -> list[str]:
        """How a checker is started: this module, run with the caps."""
        return [
            sys.executable,
            "-m",
            "procedures.core.pdfcheck",
            str(PDF_CHECK_MEMORY_BYTES),
            str(PDF_CHECK_CPU_SECONDS),
        ]

    def _start(self) -> subprocess.Popen:
        root = str(Path(__file__).resolve().parents[2])
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")]),
        }
        proc = subprocess.Popen(
            self.command(),
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            cwd=root,
            env=env,
            close_fds=True,
        )
        assert proc.stdout is not None
        ready, _, _ = select.select([proc.stdout], [], [], START_WAIT_SECONDS)
        if not ready or proc.stdout.readline() != READY:
            proc.kill()
            proc.wait()
            raise OSError("the PDF checker did not start")
        return proc

    def _stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None or self._pid != os.getpid():
            return  # a forked child lets go of its parent's checker, untouched
        try:
            proc.kill()
            proc.wait(timeout=5)
        except (OSError, subprocess.TimeoutExpired):
            pass
        for stream in (proc.stdin, proc.stdout):
            try:
                if stream is not None:
                    stream.close()
            except OSError:
                pass

    def forget_after_fork(self) -> None:
        """In a forked child: the parent's checker and lock are not this process's."""
        self._lock = threading.Lock()
        self._proc = None

    def start(self) -> None:
        """Start the checker now (a worker's start-up), so the first PDF does not wait."""
        with self._lock:
            self._ensure()

    def _ensure(self) -> subprocess.Popen:
        if self._pid != os.getpid():
            self._proc = None  # inherited through fork: the parent's, not ours
        if (
            self._proc is None
            or self._proc.poll() is not None
            or self._checks >= CHECKS_PER_CHECKER
        ):
            self._stop()
            self._proc = self._start()
            self._pid, self._checks = os.getpid(), 0
        return self._proc

    def verdict(self, fileobj: IO[bytes]) -> int:
        """PDF_OK or PDF_REFUSED for the file; raises OSError when no checker can run."""
        path = getattr(fileobj, "temporary_file_path", None)
        if path is not None:
            message = b"P " + os.fsencode(path()) + b"\n"
        else:
            fileobj.seek(0)
            data = fileobj.read()
            message = b"B %d\n" % len(data) + data
        with self._lock:
            proc = self._ensure()
            assert proc.stdin is not None and proc.stdout is not None
            self._checks += 1
            try:
                proc.stdin.write(message)
                proc.stdin.flush()
                ready, _, _ = select.select([proc.stdout], [], [], CHECK_WAIT_SECONDS)
                line = proc.stdout.readline() if ready else b""
            except (BrokenPipeError, ValueError):
                line = b""
            words = line.split()
            verdict = words[0] if words else b""
            if verdict not in (b"0", b"1") or words[1:] == [LEAVING] or proc.poll() is not None:
                # Ended by a cap, crashed or stuck, or leaving after this answer: the
                # next file gets a new checker.
                self._stop()
            return PDF_OK if verdict == b"0" else PDF_REFUSED


checker = Checker()

if hasattr(os, "register_at_fork"):
    # A forked child (a gunicorn worker forked after the master checked a file) must not
    # share the parent's pipes: it starts a checker of its own when it needs one.
    os.register_at_fork(after_in_child=checker.forget_after_fork)


if __name__ == "__main__":
    checker_main(int(sys.argv[1]), int(sys.argv[2]))
