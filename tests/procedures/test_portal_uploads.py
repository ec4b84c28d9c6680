"""Upload checks (procedures/core/uploads.py): type by content, names, limits from settings."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from procedures.core.uploads import check_totals, check_upload, sniff_type, upload_limits

from .test_portal_submission import DOCX, JPEG, PDF, PNG, XLSX, _english, office_zip  # noqa: F401


@pytest.mark.parametrize(
    ("content", "kind"),
    [
        (PDF, "pdf"),
        (JPEG, "jpeg"),
        (PNG, "png"),
        (DOCX, "docx"),
        (XLSX, "xlsx"),
        (office_zip("ppt"), None),  # a PowerPoint package
        (office_zip("word", macro=True), None),  # .docm with a VBA project
        (b"PK\x03\x04 not really a zip", None),
        (b"GIF89a", None),
        (b"", None),
        (b"%PDF", None),
    ],
)
def test_type_is_read_from_the_first_bytes(content, kind):
    stream = io.BytesIO(content)
    assert sniff_type(stream) == kind
    assert stream.tell() == 0


@pytest.mark.parametrize(
    ("name", "stored"),
    [
        ("../../etc/passwd.pdf", "passwd.pdf"),
        ("..\\..\\Windows\\system32\\x.pdf", "x.pdf"),
        ("đơn đề nghị.pdf", "đơn đề nghị.pdf"),
        ("a\x00b\x1f<script>.pdf", "ab_script_.pdf"),
        ("...pdf", "pdf.pdf"),
    ],
)
def test_names_are_sanitised(name, stored):
    doc = check_upload(SimpleUploadedFile(name, PDF), slot_id=3)
    assert doc.name == stored
    assert (doc.slot_id, b"".join(doc.chunks()), doc.content_type) == (3, PDF, "application/pdf")


@override_settings(PORTAL_UPLOAD_TYPES=["pdf"])
def test_the_accepted_types_are_a_setting():
    assert upload_limits().accept == ".pdf,application/pdf"
    with pytest.raises(ValidationError) as err:
        check_upload(SimpleUploadedFile("a.png", PNG), slot_id=None)
    assert err.value.code == "file_type"
    assert "is not a PDF file" in err.value.messages[0]


@override_settings(PORTAL_UPLOAD_TYPES=["pdf", "exe"])
def test_an_unknown_type_in_the_setting_is_a_clear_error():
    with pytest.raises(ValueError, match="PORTAL_UPLOAD_TYPES has unknown types"):
        upload_limits()


@override_settings(PORTAL_UPLOAD_MAX_FILES=2, PORTAL_UPLOAD_MAX_DOSSIER_MB=1)
def test_totals_count_files_already_in_the_dossier():
    doc = check_upload(SimpleUploadedFile("a.pdf", PDF), slot_id=None)
    check_totals([doc], existing_count=1)
    with pytest.raises(ValidationError) as err:
        check_totals([doc, doc], existing_count=1)
    assert err.value.code == "too_many_files"
    with pytest.raises(ValidationError) as err:
        check_totals([doc], existing_bytes=1024 * 1024)
    assert err.value.code == "dossier_too_large"
