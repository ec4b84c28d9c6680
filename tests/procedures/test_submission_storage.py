"""What an online submission costs and what it leaves behind (issue 13).

Files Django streamed to temporary files are moved into the storage, not copied, and
arrive intact; a submission that fails part-way leaves no row, no file and no used
number; the daily counter is one statement; a first visit's session is written once.
"""

import hashlib
import os
import random
import re
from pathlib import Path

import pytest
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.db import transaction
from django.test import Client
from django.urls import reverse

from procedures.core import uploads
from procedures.dossiers import documents as documents_module
from procedures.dossiers import services as svc
from procedures.models import Dossier, DossierCodeSequence, DossierDocument, DossierEvent
from tests.files import minimal_pdf

from .conftest import at
from .test_portal_submission import (  # noqa: F401
    _english,
    form_data,
    online_procedure,
    slots,
    submit_url,
)

pytestmark = pytest.mark.django_db

MB = 1024 * 1024


@pytest.fixture
def media(settings, tmp_path):
    """A storage and an upload folder of this test's own, to see exactly what is left."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.FILE_UPLOAD_TEMP_DIR = str(tmp_path / "uploads")
    (tmp_path / "uploads").mkdir()
    return tmp_path


def stored_files(media: Path) -> list[Path]:
    return sorted(p for p in (media / "media").rglob("*") if p.is_file())


def streamed(name: str, content: bytes) -> TemporaryUploadedFile:
    """An upload as Django's TemporaryFileUploadHandler leaves it: on disk."""
    upload = TemporaryUploadedFile(name, "image/jpeg", len(content), None)
    upload.write(content)
    upload.flush()
    upload.seek(0)
    return upload


def jpeg(size: int, seed: int) -> bytes:
    return b"\xff\xd8\xff\xe0" + random.Random(seed).randbytes(size - 4)


# ------------------------------------------------------------------ files


def test_a_streamed_file_is_moved_into_the_storage_intact(media, register):
    content = jpeg(MB + 17, seed=1)
    upload = streamed("scan.jpg", content)
    temporary = upload.temporary_file_path()
    document = uploads.check_upload(upload, slot_id=None)

    dossier = register(documents=[document])

    # Moved: the temporary file is gone before the request would close it ...
    assert not os.path.exists(temporary)
    (doc,) = dossier.documents.all()
    # ... and the stored copy is the upload, byte for byte, with its hash and size.
    with default_storage.open(doc.file.name, "rb") as stored:
        assert stored.read() == content
    assert doc.sha256 == hashlib.sha256(content).hexdigest()
    assert doc.size == len(content)
    assert doc.version == 1 and doc.original_name == "scan.jpg"
    upload.close()  # what Django does at the end of the request: no error, nothing left
    assert [p.name for p in stored_files(media)] == [Path(doc.file.name).name]


def test_an_upload_stored_twice_is_copied_the_second_time(media, register):
    """The first storage moved the temporary file away; a second one (another dossier
    from the same upload) copies from the handle that is still open."""
    content = jpeg(4096, seed=2)
    document = uploads.check_upload(streamed("scan.jpg", content), slot_id=None)
    first, second = (register(documents=[document]) for _ in range(2))
    for dossier in (first, second):
        (doc,) = dossier.documents.all()
        with default_storage.open(doc.file.name, "rb") as stored:
            assert stored.read() == content
    document.file.close()


@pytest.mark.skipif(not hasattr(os, "posix_fadvise"), reason="no posix_fadvise here")
def test_each_stored_file_is_written_back_at_once(media, register, monkeypatch):
    """Each file moved into the storage has its write-back started (POSIX_FADV_DONTNEED
    on the stored file itself), so a busy hour's uploads do not pile up as dirty pages."""
    advised = []
    real = os.posix_fadvise

    def advise(fd, offset, length, advice):
        advised.append((os.fstat(fd).st_ino, offset, length, advice))
        return real(fd, offset, length, advice)

    monkeypatch.setattr(os, "posix_fadvise", advise)
    documents = [
        uploads.check_upload(streamed(f"scan-{i}.jpg", jpeg(MB + i, seed=i)), slot_id=None)
        for i in range(2)
    ]
    dossier = register(documents=documents)
    stored = dossier.documents.all()
    inodes = sorted(os.stat(default_storage.path(d.file.name)).st_ino for d in stored)
    assert sorted(a[0] for a in advised) == inodes
    assert {a[1:] for a in advised} == {(0, 0, os.POSIX_FADV_DONTNEED)}
    for i, doc in enumerate(dossier.documents.order_by("original_name")):
        with default_storage.open(doc.file.name, "rb") as stored:  # the bytes are all there
            assert stored.read() == jpeg(MB + i, seed=i)
    for document in documents:
        document.file.close()


def _submit_pdf_and_jpeg(client, procedure, contents: dict):
    """Submit the form with the first slot's PDF and the second's JPEG of `contents`."""
    first, second, _optional = slots(procedure)
    return client.post(
        submit_url(procedure),
        form_data(
            procedure,
            **{
                f"doc_{first.pk}": SimpleUploadedFile("don.pdf", contents[first.pk]),
                f"doc_{second.pk}": SimpleUploadedFile("anh.jpg", contents[second.pk]),
            },
        ),
    )


def test_a_submission_through_the_form_stores_streamed_files_intact(
    client, online_procedure, media, settings
):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024  # every file of the request to disk
    first, second, _optional = slots(online_procedure)
    contents = {first.pk: minimal_pdf(pad_to=MB), second.pk: jpeg(MB, seed=3)}
    response = _submit_pdf_and_jpeg(client, online_procedure, contents)
    assert response.status_code == 302
    docs = DossierDocument.objects.order_by("slot__order")
    assert [d.slot_id for d in docs] == [first.pk, second.pk]
    for doc in docs:
        content = contents[doc.slot_id]
        with default_storage.open(doc.file.name, "rb") as stored:
            assert stored.read() == content
        assert (doc.size, doc.sha256) == (len(content), hashlib.sha256(content).hexdigest())
    assert len(stored_files(media)) == 2
    assert list((media / "uploads").iterdir()) == []  # no temporary file left behind


def test_the_submission_hashes_files_as_they_arrive_and_stores_them_by_thousands(
    client, online_procedure, media, settings, monkeypatch
):
    """The digest taken while the body streamed in is the one stored: the file is not
    read back to hash it. Files go to the folder of their thousand of dossiers (one
    folder for dossiers 0-999), not to a folder made for each dossier."""
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    first, second, _optional = slots(online_procedure)
    contents = {first.pk: minimal_pdf(pad_to=64 * 1024), second.pk: jpeg(300_000, seed=4)}
    reads = []
    chunks = svc.UploadedDocument.chunks
    monkeypatch.setattr(
        svc.UploadedDocument, "chunks", lambda self: reads.append(self.name) or chunks(self)
    )
    response = _submit_pdf_and_jpeg(client, online_procedure, contents)
    assert response.status_code == 302
    assert reads == []  # hashed on arrival, never re-read for it
    dossier = Dossier.objects.get()
    for doc in DossierDocument.objects.all():
        assert doc.sha256 == hashlib.sha256(contents[doc.slot_id]).hexdigest()
        folder, name = doc.file.name.rsplit("/", 1)
        assert folder == f"dossiers/{dossier.pk // 1000:04d}"
        assert name.startswith(f"{dossier.pk}-{doc.sha256[:16]}-")
        with default_storage.open(doc.file.name, "rb") as stored:
            assert stored.read() == contents[doc.slot_id]


def test_only_views_that_store_uploads_hash_them(rf, settings, media):
    """The storing parser (which hashes) serves views marked `uploads_hashed` alone."""
    from procedures.core.middleware import UploadGuardMiddleware, uploads_hashed

    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1024
    content = jpeg(5000, seed=5)
    seen = {}

    def plain(request):
        seen["plain"] = [getattr(f, "sha256", None) for f in request.FILES.getlist("f")]

    @uploads_hashed
    def storing(request):
        seen["storing"] = [getattr(f, "sha256", None) for f in request.FILES.getlist("f")]

    middleware = UploadGuardMiddleware(lambda request: None)
    for view in (plain, storing):
        files = [SimpleUploadedFile("a.jpg", content), SimpleUploadedFile("b.jpg", b"x" * 2000)]
        request = rf.post("/", {"f": files})
        assert middleware.process_view(request, view, (), {}) is None
        view(request)
    assert seen["plain"] == [None, None]
    assert seen["storing"] == [
        hashlib.sha256(content).hexdigest(),
        hashlib.sha256(b"x" * 2000).hexdigest(),
    ]


def test_a_stored_digest_is_used_and_a_missing_one_computed(register, media):
    dossier = register(
        documents=[
            svc.UploadedDocument(slot_id=None, name="a.pdf", content=b"a", sha256="ab" * 32),
            svc.UploadedDocument(slot_id=None, name="b.pdf", content=b"b"),
        ],
    )
    assert sorted(dossier.documents.values_list("original_name", "sha256")) == [
        ("a.pdf", "ab" * 32),
        ("b.pdf", hashlib.sha256(b"b").hexdigest()),
    ]


def test_files_sent_together_share_a_version_and_a_later_one_is_the_next(register, media):
    """Versions are read in one query per call (none for a new dossier)."""
    dossier = register(
        documents=[
            svc.UploadedDocument(slot_id=None, name="a.pdf", content=b"a"),
            svc.UploadedDocument(slot_id=None, name="b.pdf", content=b"b"),
        ],
    )
    assert sorted(dossier.documents.values_list("version", flat=True)) == [1, 1]
    later = documents_module.documents_store(
        dossier=dossier,
        uploads=[svc.UploadedDocument(slot_id=None, name="c.pdf", content=b"c")],
        event=DossierEvent.objects.create(
            dossier=dossier, action="receive_supplement", at=at(2026, 6, 2, 9, 0), to_status=1
        ),
    )
    assert [d.version for d in later] == [2]
    # Without an event, each file is a version of its own, as one call per file was.
    alone = documents_module.documents_store(
        dossier=dossier,
        uploads=[
            svc.UploadedDocument(slot_id=None, name="d.pdf", content=b"d"),
            svc.UploadedDocument(slot_id=None, name="e.pdf", content=b"e"),
        ],
    )
    assert [d.version for d in alone] == [3, 4]


# ------------------------------------------------------------------ failure part-way


def test_a_submission_failing_after_its_files_are_stored_leaves_nothing(
    client, online_procedure, media, monkeypatch
):
    def broken(**kwargs):
        raise RuntimeError("notification queue unavailable")

    monkeypatch.setattr("procedures.notifications.services.notify_dossier_event", broken)
    with pytest.raises(RuntimeError):
        client.post(submit_url(online_procedure), form_data(online_procedure))
    assert not Dossier.objects.exists()
    assert not DossierDocument.objects.exists()
    assert not DossierEvent.objects.exists()
    assert stored_files(media) == []
    assert not Session.objects.exists()

    # The reference it drew was given back: the next submission gets the first number.
    monkeypatch.undo()
    response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 302
    assert Dossier.objects.get().code.endswith("-0001")
    assert len(stored_files(media)) == 2


def test_a_storage_failure_on_the_second_file_removes_the_first(register, media, monkeypatch):
    real_save = default_storage.save
    calls = []

    def save(name, content, **kwargs):
        calls.append(name)
        if len(calls) == 2:
            raise OSError("disk full")
        return real_save(name, content, **kwargs)

    monkeypatch.setattr(default_storage, "save", save)
    with pytest.raises(OSError):
        register(
            documents=[
                svc.UploadedDocument(slot_id=None, name="a.pdf", content=b"a" * 100),
                svc.UploadedDocument(slot_id=None, name="b.pdf", content=b"b" * 100),
            ],
        )
    assert len(calls) == 2
    assert stored_files(media) == []
    assert not Dossier.objects.exists()


def test_a_supplement_whose_rows_fail_removes_the_files_it_stored(
    register, staff, media, monkeypatch
):
    dossier = register()
    svc.dossier_request_supplement(
        dossier=dossier, actor=staff["intake"], reason="Thiếu bản sao", now=at(2026, 6, 1, 10)
    )

    def refused(objs, **kwargs):
        raise RuntimeError("insert refused")

    # The files are in the storage when their rows are inserted: the insert fails.
    monkeypatch.setattr("procedures.dossiers.documents.insert_rows", refused)
    with pytest.raises(RuntimeError):
        svc.dossier_receive_supplement(
            dossier=dossier,
            actor=None,
            documents=[svc.UploadedDocument(slot_id=None, name="x.pdf", content=b"x")],
            now=at(2026, 6, 2, 9, 0),
        )
    assert stored_files(media) == []
    assert not DossierDocument.objects.filter(dossier=dossier).exists()
    dossier.refresh_from_db()
    assert dossier.status == svc.S.SUPPLEMENT_REQUESTED  # the transition rolled back


# ------------------------------------------------------------------ numbers and session


def test_the_daily_counter_draws_in_one_statement_and_gives_back_a_rolled_back_number(
    django_assert_num_queries,
):
    day = at(2026, 6, 1, 9, 0)
    with django_assert_num_queries(1):
        assert svc._next_reference(day).endswith("-260601-0001")
    with pytest.raises(RuntimeError), transaction.atomic():
        assert svc._next_reference(day).endswith("-0002")
        raise RuntimeError("rolled back")
    with django_assert_num_queries(1):
        assert svc._next_reference(day).endswith("-0002")
    assert svc._next_code(day).endswith("-260601-0001")  # a counter of its own
    assert DossierCodeSequence.objects.get(kind="ref").last == 2


def test_a_submission_writes_no_session(client, online_procedure, django_assert_num_queries):
    """The procedure and its documents come from the catalogue cache (the form's page
    put them there); in one transaction (a savepoint here, inside the test's) the
    reference (one statement), the version in force, the dossier, its event, its two
    files (one insert), the receipt mail (one insert, ON CONFLICT DO NOTHING). The grant
    to the browser is its receipt cookie: no session row is written."""
    data = form_data(online_procedure)
    assert client.get(submit_url(online_procedure)).status_code == 200
    assert not Session.objects.exists()  # the form's page stores no session
    with django_assert_num_queries(8) as captured:
        response = client.post(submit_url(online_procedure), data)
    assert response.status_code == 302
    # Inside the registration (its own savepoint first, its release last): no savepoint
    # of its own for the receipt mail, and nothing for a session.
    assert not any("SAVEPOINT" in q["sql"] for q in captured.captured_queries[1:-1])
    assert not any("django_session" in q["sql"] for q in captured.captured_queries)
    assert not Session.objects.exists() and "sessionid" not in client.cookies
    dossier = Dossier.objects.get()
    assert client.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 200


def test_a_submission_from_an_existing_session_puts_no_grant_in_it(client, online_procedure):
    """A session someone else may know (fixed before the visit) gains nothing: the
    access is in the receipt cookie only, and the session is left as it was."""
    client.get(submit_url(online_procedure))
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key
    response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 302
    dossier = Dossier.objects.get()
    assert client.cookies["sessionid"].value == before
    decoded = Session.objects.get(session_key=before).get_decoded()
    assert decoded["visited"] is True and "portal_access" not in decoded
    assert client.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 200
    # Whoever holds the same session key, without the receipt, does not get in.
    other = Client()
    other.cookies["sessionid"] = before
    assert other.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 302
    assert other.get(reverse("procedures:lookup-dossier", args=[dossier.code])).status_code != 200


def test_an_unknown_session_key_is_not_kept(client, online_procedure):
    """A key the server never issued (a fixation attempt) is never stored."""
    client.cookies["sessionid"] = "attackerchosenkey0000000000000000"
    response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 302
    assert not Session.objects.filter(session_key="attackerchosenkey0000000000000000").exists()
    dossier = Dossier.objects.get()
    attacker = Client()
    attacker.cookies["sessionid"] = "attackerchosenkey0000000000000000"
    assert attacker.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 302


# ------------------------------------------------------------------ the PDF marker scan


_REFERENCE = re.compile(
    rb"<\s*(?:html|script|body|iframe|object|embed|svg|meta|!doctype)[\s>/]|javascript:",
    re.IGNORECASE,
)


@pytest.mark.parametrize(
    "window",
    [
        b"<html>",
        b"<HTML ",
        b"< \t\r\n ScRiPt>",
        b"<!DocType html>",
        b"<svg/onload=x>",
        b"<iframe\x0bsrc=",
        b"JavaScript:alert(1)",
        b"jAvAsCrIpT:",
        b"<htm>",
        b"<scripts>",
        b"java script:",
        b"<\xc0html>",
        b"%PDF-1.7 stream <meta",
        b"<meta",  # cut at the window's end: no delimiter yet
        b"\x00" * 10,
    ],
)
def test_the_web_marker_scan_matches_the_case_insensitive_pattern(window):
    assert uploads._has_web_marker(window) == (_REFERENCE.search(window) is not None)


def test_the_web_marker_scan_agrees_on_random_windows():
    rng = random.Random(13)
    pieces = [b"<", b" ", b"\t", b"html", b"HtMl", b"script", b">", b"/", b"javascript:"]
    pieces += [b"JAVASCRIPT", b":", b"svg", b"!DOCTYPE", b"x", b"\xff", b"meta", b"\n"]
    for _ in range(3000):
        window = b"".join(rng.choice(pieces) for _ in range(rng.randint(1, 8)))
        window += rng.randbytes(rng.randint(0, 8))
        assert uploads._has_web_marker(window) == (_REFERENCE.search(window) is not None)


# ------------------------------------------------------------------ indexes a new dossier skips


@pytest.mark.serial
def test_period_and_officer_filters_use_the_indexes_of_set_values_on_postgresql(
    require_postgres,
):
    """A new dossier has no acceptance, end or officers yet: their indexes hold only
    dossiers that have them (none of those B-trees is written at registration), and
    every filter on them still reads them, a range or an equality implying a value."""
    from django.db import connection

    start, end = at(2026, 6, 1, 0, 0), at(2026, 7, 1, 0, 0)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")
        try:
            for queryset, index in [
                (
                    Dossier.objects.filter(accepted_at__gte=start, accepted_at__lt=end),
                    "dossier_accepted_set_idx",
                ),
                (
                    Dossier.objects.filter(finished_at__range=(start, end)),
                    "dossier_finished_set_idx",
                ),
                (Dossier.objects.filter(ended_at__lt=end), "dossier_ended_set_idx"),
                (Dossier.objects.filter(received_by_id=1), "dossier_received_by_idx"),
                (Dossier.objects.filter(transferred_by_id=1), "dossier_transferred_by_idx"),
            ]:
                plan = queryset.explain()
                assert index in plan, plan
        finally:
            cursor.execute("RESET enable_seqscan")
    partial = {i.name: i.condition for i in Dossier._meta.indexes if i.condition is not None}
    for name in ("dossier_accepted_set_idx", "dossier_received_by_idx"):
        assert name in partial


@pytest.mark.serial
def test_a_dossiers_events_are_read_through_the_composite_index_alone(require_postgres):
    """The event log has one index by dossier, (dossier, at): the timeline and the
    look-up by dossier read it; the single-column one, written with every event for
    nothing, is gone."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexdef FROM pg_indexes WHERE tablename = 'procedures_dossierevent'"
        )
        by_dossier = [d for (d,) in cursor.fetchall() if "(dossier_id" in d]
        assert len(by_dossier) == 1 and "(dossier_id, at)" in by_dossier[0], by_dossier
        cursor.execute("SET enable_seqscan = off")
        try:
            plan = DossierEvent.objects.filter(dossier_id=1).order_by("at").explain()
            assert "dossier_event_idx" in plan, plan
        finally:
            cursor.execute("RESET enable_seqscan")
