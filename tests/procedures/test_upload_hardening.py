"""Hostile uploads (hardening issue, items 1 and 2): memory, zip bombs, PDF polyglots.

Each test reproduces the attack first: the request or file the probe sent.
"""

import hashlib
import io
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import (
    InMemoryUploadedFile,
    SimpleUploadedFile,
    TemporaryUploadedFile,
)
from django.urls import reverse
from django.utils import translation

from procedures.core.uploads import check_upload
from procedures.models import Dossier, DossierDocument
from procedures.portal import forms as portal_forms
from tests.files import (
    docx_zip_bomb,
    minimal_pdf,
    office_zip,
    pdf_html_polyglot,
    pdf_with_huge_string,
    pdf_with_open_action_js,
)

from .test_portal_submission import (  # noqa: F401
    PNG,
    _english,
    form_data,
    online_procedure,
    slots,
    submit_url,
    upload,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def online(request):
    """The portal tests' procedure with its three document slots."""
    return request.getfixturevalue("online_procedure")


MB = 1024 * 1024


class UnreadableBody(io.RawIOBase):
    """The request body of the probe: reading any of it fails the test."""

    def read(self, *args):
        raise AssertionError("the body of a refused upload was read")

    readline = readinto = read


def hostile_post(client, url, *, files=99, size=int(9.9 * MB)):
    """What the probe sent: 99 files of 9.9 MB (claimed by Content-Length; the body
    itself must never be read, so it is not built)."""
    return client.generic(
        "POST",
        url,
        b"--BoUnDaRy--",
        content_type="multipart/form-data; boundary=BoUnDaRy",
        CONTENT_LENGTH=str(files * size + 20_000),
        **{"wsgi.input": UnreadableBody()},
    )


# ------------------------------------------------------------------ item 1: memory


def test_99_files_of_10_mb_are_refused_unread_with_a_clear_message(client, online):
    response = hostile_post(client, submit_url(online))
    assert response.status_code == 413
    page = response.content.decode()
    assert "The files sent total 980.1 MB; the files of a dossier may total at most 50 MB." in page
    assert "Nothing was saved." in page
    assert f'href="{submit_url(online)}"' in page  # back to an empty form
    assert not Dossier.objects.exists()
    assert not DossierDocument.objects.exists()


def test_the_refusal_is_in_vietnamese_by_default(client, online):
    with translation.override("vi"):
        url = submit_url(online)
    response = hostile_post(client, url)
    assert response.status_code == 413
    page = response.content.decode()
    assert "Các tệp gửi lên tổng cộng 980,1 MB" in page
    assert "Chưa có gì được lưu." in page


def test_the_supplement_and_the_dialogue_forms_are_guarded_too(client, online):
    for url in (
        reverse("procedures:lookup-supplement", args=["H56.16-260601-0001"]),
        reverse("dialogues:recommendation-submit"),
    ):
        assert hostile_post(client, url).status_code == 413


def test_more_files_than_a_dossier_may_hold_are_refused_while_parsing(client, online, settings):
    settings.PORTAL_UPLOAD_MAX_FILES = 20
    first = slots(online)[0]
    files = [upload(f"trang-{i}.pdf") for i in range(21)]
    with mock.patch.object(portal_forms, "check_upload", wraps=check_upload) as checked:
        response = client.post(submit_url(online), form_data(online, **{f"doc_{first.pk}": files}))
    assert response.status_code == 413
    assert (
        "A dossier may hold at most 20 files; this request carried at least 21."
        in response.content.decode()
    )
    assert checked.call_count == 0  # no file was opened
    assert not Dossier.objects.exists()


def test_large_files_are_streamed_to_disk_and_hashed_in_chunks(client, online, settings):
    settings.FILE_UPLOAD_MAX_MEMORY_SIZE = 1 * MB
    first, second, _optional = slots(online)
    scan = minimal_pdf(pad_to=3 * MB)
    seen = []

    def spy(upload, **kwargs):
        seen.append(type(upload))
        return check_upload(upload, **kwargs)

    with mock.patch.object(portal_forms, "check_upload", side_effect=spy):
        response = client.post(
            submit_url(online), form_data(online, **{f"doc_{first.pk}": upload("scan.pdf", scan)})
        )
    assert response.status_code == 302
    assert seen == [TemporaryUploadedFile, TemporaryUploadedFile]  # the PNG too: whole body
    doc = DossierDocument.objects.get(slot=first)
    assert doc.size == len(scan)
    assert doc.sha256 == hashlib.sha256(scan).hexdigest()
    with doc.file.open("rb") as fh:
        assert fh.read() == scan


def test_a_small_request_stays_in_memory(client, online):
    seen = []

    def spy(upload, **kwargs):
        seen.append(type(upload))
        return check_upload(upload, **kwargs)

    with mock.patch.object(portal_forms, "check_upload", side_effect=spy):
        response = client.post(submit_url(online), form_data(online))
    assert response.status_code == 302
    assert seen == [InMemoryUploadedFile, InMemoryUploadedFile]


# ------------------------------------------------------------------ item 2: office documents


@pytest.fixture(scope="module")
def gib_bomb():
    return docx_zip_bomb()  # 1 GiB of zeros in about 1 MB


def _checked(name, content):
    return check_upload(SimpleUploadedFile(name, content), slot_id=None)


def test_a_docx_with_a_1_gib_member_is_refused_without_inflating_it(gib_bomb):
    assert len(gib_bomb) < 2 * MB
    with mock.patch("zipfile.ZipExtFile.read", side_effect=AssertionError("inflated")):
        with pytest.raises(ValidationError) as err:
            _checked("bao-cao.docx", gib_bomb)
    assert err.value.code == "archive_bomb"
    assert "would expand to more than 100 MB" in err.value.messages[0]


def test_a_member_lying_about_its_size_is_refused():
    bomb = docx_zip_bomb(member_size=64 * MB, declared_size=4096)
    with pytest.raises(ValidationError) as err:
        _checked("bao-cao.docx", bomb)
    assert err.value.code == "archive_bomb"


def test_a_member_inflating_more_than_100_times_is_refused():
    bomb = docx_zip_bomb(member_size=20 * MB)  # under the total, ~1000:1
    with pytest.raises(ValidationError) as err:
        _checked("bao-cao.docx", bomb)
    assert err.value.code == "archive_bomb"


def test_members_adding_up_past_the_limit_are_refused(settings):
    settings.PORTAL_UPLOAD_MAX_UNCOMPRESSED_MB = 1
    text = bytes(range(256)) * 3000  # 768 KB that compresses little
    package = office_zip("xl", extra={"xl/a.bin": text, "xl/b.bin": text})
    with pytest.raises(ValidationError) as err:
        _checked("bang-ke.xlsx", package)
    assert err.value.code == "archive_bomb"


def test_a_bomb_through_the_portal_saves_nothing(client, online, gib_bomb):
    first = slots(online)[0]
    response = client.post(
        submit_url(online), form_data(online, **{f"doc_{first.pk}": upload("don.docx", gib_bomb)})
    )
    assert response.status_code == 400
    (error,) = response.context["form"].errors[f"doc_{first.pk}"]
    assert error.startswith("“don.docx” would expand to more than 100 MB when opened")
    assert not Dossier.objects.exists()


def test_an_ordinary_office_document_passes():
    text = b"<w:t>Xin cam on</w:t>" * 5000  # ordinary XML, about 50:1 and small
    doc = _checked("don.docx", office_zip("word", extra={"word/styles.xml": text}))
    assert doc.content_type.endswith("wordprocessingml.document")


@pytest.mark.parametrize(
    ("content", "why"),
    [
        (pdf_html_polyglot(), "HTML in a comment after the header"),
        (minimal_pdf() + b"<!DOCTYPE html><html><script>alert(1)</script>", "a page after %%EOF"),
        (pdf_with_open_action_js(), "a script run on opening, names hex-escaped"),
        (minimal_pdf(javascript="app.alert('x')"), "a document-level script"),
        (b"%PDF-1.7\n" + b"x" * 2000 + b"\n%%EOF\n", "a header and nothing of a PDF behind it"),
        (b"%PDF-1.7\n1 0 obj<<>>endobj\n", "no end of file marker"),
    ],
)
def test_pdfs_that_are_not_pdfs_throughout_are_refused(content, why):
    with pytest.raises(ValidationError) as err:
        _checked("don.pdf", content)
    assert err.value.code == "pdf_unsafe", why
    assert err.value.messages[0].startswith("“don.pdf” is not a plain PDF document")


def test_the_polyglot_through_the_portal_saves_nothing(client, online):
    first = slots(online)[0]
    response = client.post(
        submit_url(online),
        form_data(online, **{f"doc_{first.pk}": upload("don.pdf", pdf_html_polyglot())}),
    )
    assert response.status_code == 400
    assert f"doc_{first.pk}" in response.context["form"].errors
    assert not Dossier.objects.exists()


def test_real_pdfs_pass():
    from procedures.core import pdf

    generated = pdf.build([pdf.para("Đơn đề nghị")], title="Đơn", author="Sở Công Thương")
    for content in (minimal_pdf(), generated):
        assert _checked("don.pdf", content).content_type == "application/pdf"


def test_a_pdf_built_to_be_expensive_to_parse_is_refused_within_its_caps():
    """A 9 MB string object costs pypdf about 200 MB: over the child's memory cap."""
    import time

    content = pdf_with_huge_string(9 * MB)
    started = time.monotonic()
    with pytest.raises(ValidationError) as err:
        _checked("don.pdf", content)
    assert err.value.code == "pdf_unsafe"
    assert time.monotonic() - started < 10


def test_the_parse_runs_in_a_capped_child():
    import os

    from procedures.core.uploads import _run_capped

    parent = os.getpid()
    assert (
        _run_capped(lambda: 0 if os.getpid() != parent else 1, memory_bytes=32 * MB, cpu_seconds=5)
        == 0
    )
    # Out of memory, or out of CPU time, in the child: a refusal, the worker unharmed.
    assert (
        _run_capped(lambda: len(bytearray(256 * MB)) and 0, memory_bytes=32 * MB, cpu_seconds=5)
        == 1
    )
    assert _run_capped(lambda: sum(iter(int, 1)), memory_bytes=32 * MB, cpu_seconds=1) != 0


def test_a_large_scan_passes_the_caps():
    scan = minimal_pdf(pad_to=10 * MB - 4096)
    assert _checked("scan.pdf", scan).size == len(scan)
