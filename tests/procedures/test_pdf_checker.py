"""The PDF checker process kept beside each worker (procedures/core/pdfcheck.py).

pypdf reads every uploaded PDF in that process, under a memory cap for the process and
a CPU cap per file; any failure of the checker is a refusal, and the next file gets a
new checker. Where none can be started, a capped child is forked for the file.
"""

import io
import os
import signal
import time

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import TemporaryUploadedFile

from procedures.core import pdfcheck, uploads
from tests.files import minimal_pdf, pdf_html_polyglot, pdf_with_huge_string

MB = 1024 * 1024


@pytest.fixture
def checker():
    one = pdfcheck.Checker()
    yield one
    one._stop()


def test_plain_pdfs_pass_from_memory_and_from_a_temporary_file(checker):
    assert checker.verdict(io.BytesIO(minimal_pdf(pad_to=MB))) == pdfcheck.PDF_OK
    upload = TemporaryUploadedFile("scan.pdf", "application/pdf", 0, None)
    upload.write(minimal_pdf(pad_to=2 * MB))
    upload.flush()
    assert checker.verdict(upload) == pdfcheck.PDF_OK
    upload.close()
    # One process answered both, and it is still there for the next file.
    assert checker._checks == 2 and checker._proc.poll() is None


def test_what_is_not_a_pdf_is_refused_and_the_checker_goes_on(checker):
    assert checker.verdict(io.BytesIO(b"%PDF-1.7\nnot a pdf at all\n%%EOF")) == 1
    first = checker._proc.pid
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
    assert checker._proc.pid == first


SPINNING_CHECKER = """
import sys, time
from procedures.core import pdfcheck

def spin(fileobj):  # burns the CPU seconds the file names, then says it is a PDF
    seconds = float(fileobj.read())
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass
    return pdfcheck.PDF_OK

pdfcheck.structure_verdict = spin
pdfcheck.checker_main(96 * 1024 * 1024, 1)
"""


def test_the_cpu_cap_is_per_file_and_a_file_over_it_ends_the_checker():
    """1 s of CPU a file: two files of 0.6 s each pass (1.2 s in all), one of 3 s ends
    the checker (SIGXCPU) without an answer, which the worker takes as a refusal."""
    import subprocess
    import sys
    from pathlib import Path

    root = Path(pdfcheck.__file__).resolve().parents[2]
    files = [b"0.6", b"0.6", b"3"]
    message = b"".join(b"B %d\n" % len(f) + f for f in files)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", SPINNING_CHECKER],
        input=message,
        capture_output=True,
        cwd=root,
        timeout=30,
    )
    assert done.stdout == b"ready\n0\n0\n"  # the third file got no answer
    assert done.returncode == -signal.SIGXCPU
    assert time.monotonic() - started < 10


def test_a_file_over_the_memory_cap_is_refused_and_a_scan_after_it_passes(checker):
    assert checker.verdict(io.BytesIO(pdf_with_huge_string(9 * MB))) == pdfcheck.PDF_REFUSED
    assert checker.verdict(io.BytesIO(minimal_pdf(pad_to=10 * MB - 4096))) == pdfcheck.PDF_OK


def test_a_checker_answers_many_files_and_is_replaced_after_its_quota(checker, monkeypatch):
    """Thousands of files per checker (a new one costs a hundred times a check); past
    the quota the next file gets a new checker, and passes there."""
    assert pdfcheck.CHECKS_PER_CHECKER >= 5000
    monkeypatch.setattr(pdfcheck, "CHECKS_PER_CHECKER", 3)
    pids = []
    for _ in range(4):
        assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
        pids.append(checker._proc.pid)
    assert pids[0] == pids[1] == pids[2] != pids[3]
    assert checker._checks == 1


LEAVING_CHECKER = """
from procedures.core import pdfcheck

sizes = iter([256 * 1024 * 1024] + [64 * 1024 * 1024 * 1024] * 100)
pdfcheck.address_space = lambda: next(sizes)  # after the first file the heap "grew"
pdfcheck.checker_main(96 * 1024 * 1024, 5)
"""


class LeavingChecker(pdfcheck.Checker):
    """A checker process that leaves after every file, as one whose heap grew does."""

    def command(self) -> list[str]:
        import sys

        return [sys.executable, "-c", LEAVING_CHECKER]


def test_a_checker_that_leaves_after_its_answer_is_replaced_before_the_next_file():
    """It says so with its answer: the next file goes to a new checker and passes (it
    was sent to the exiting one, and refused, one time in about 500 files)."""
    checker = LeavingChecker()
    try:
        for _ in range(3):
            assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
            assert checker._proc is None  # stopped at once: the next file starts a new one
        assert checker.verdict(io.BytesIO(b"%PDF-1.7\nnot a pdf\n%%EOF")) == 1
    finally:
        checker._stop()


def test_a_checker_answers_thousands_of_scans_in_a_row_and_refuses_none(checker):
    """What a day of submissions sends one worker's checker: every scan passes, and one
    checker answers them all, its heap collected after each file (it used to grow by a
    quarter of the cap every 450-550 files, and the checker had to be replaced)."""
    upload = TemporaryUploadedFile("scan.pdf", "application/pdf", 0, None)
    upload.write(minimal_pdf(pad_to=MB))
    upload.flush()
    verdicts, pids = [], set()
    for _ in range(1500):
        verdicts.append(checker.verdict(upload))
        pids.add(checker._proc.pid)
    upload.close()
    assert verdicts.count(pdfcheck.PDF_OK) == 1500
    assert len(pids) == 1


def test_a_killed_checker_is_replaced(checker):
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
    first = checker._proc
    os.kill(first.pid, signal.SIGKILL)
    first.wait(timeout=5)
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
    assert checker._proc is not first


def test_a_stuck_checker_is_a_refusal_after_the_wait_and_is_replaced(checker, monkeypatch):
    monkeypatch.setattr(pdfcheck, "CHECK_WAIT_SECONDS", 0.5)
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
    stuck = checker._proc
    os.kill(stuck.pid, signal.SIGSTOP)
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_REFUSED
    assert stuck.poll() is not None  # killed, not left behind
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK


def test_a_forked_worker_does_not_share_its_parents_checker(checker):
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK
    parent_checker = checker._proc
    pid = os.fork()
    if pid == 0:  # the child: no checker of its own yet, and the parent's untouched
        checker.forget_after_fork()
        os._exit(0 if checker._proc is None else 1)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    assert parent_checker.poll() is None
    assert checker.verdict(io.BytesIO(minimal_pdf())) == pdfcheck.PDF_OK


def test_without_a_checker_the_file_is_checked_in_a_forked_child(monkeypatch):
    def cannot_start(self):
        raise OSError("no interpreter")

    monkeypatch.setattr(pdfcheck.Checker, "_start", cannot_start)
    monkeypatch.setattr(pdfcheck, "checker", pdfcheck.Checker())
    forked = []
    run_capped = uploads._run_capped
    monkeypatch.setattr(
        uploads, "_run_capped", lambda check, **caps: forked.append(1) or run_capped(check, **caps)
    )
    uploads.check_pdf(io.BytesIO(minimal_pdf()), name="don.pdf")
    with pytest.raises(ValidationError):
        uploads.check_pdf(io.BytesIO(pdf_with_huge_string(9 * MB)), name="don.pdf")
    assert forked == [1, 1]
    with pytest.raises(ValidationError):  # refused before any parse
        uploads.check_pdf(io.BytesIO(pdf_html_polyglot()), name="don.pdf")


def test_a_checker_that_never_says_ready_is_not_used(monkeypatch):
    """A broken interpreter or environment: the start fails (OSError) instead of every
    PDF being refused, and check_pdf forks a child for the file."""
    import subprocess
    import sys

    real_popen = subprocess.Popen

    def broken(args, **kwargs):
        return real_popen([sys.executable, "-c", "import sys; sys.exit(3)"], **kwargs)

    monkeypatch.setattr(pdfcheck.subprocess, "Popen", broken)
    one = pdfcheck.Checker()
    with pytest.raises(OSError):
        one.start()
    monkeypatch.setattr(pdfcheck, "checker", one)
    uploads.check_pdf(io.BytesIO(minimal_pdf()), name="don.pdf")  # passes, by the fork
    with pytest.raises(ValidationError):
        uploads.check_pdf(io.BytesIO(pdf_with_huge_string(9 * MB)), name="don.pdf")
