"""Online submission (portal item 3) and its receipt (item 4).

Shared helpers for the other test_portal_* modules live here: file contents of each
accepted type, an online procedure with required documents, and valid form data.
"""

import io
import re
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core import mail
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation
from pypdf import PdfReader

from procedures.catalogue.services import procedure_create
from procedures.core.constants import Channel, OnlineLevel
from procedures.core.constants import DossierStatus as S
from procedures.dossiers.services import pin_matches
from procedures.models import Dossier, DossierDocument, RequiredDocument
from tests.files import minimal_pdf, office_zip

pytestmark = pytest.mark.django_db

# ------------------------------------------------------------------ shared helpers

PDF = minimal_pdf()  # a real PDF: the upload checks read its structure
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64


DOCX = office_zip("word", compression=zipfile.ZIP_STORED)
XLSX = office_zip("xl", compression=zipfile.ZIP_STORED)


def upload(name: str, content: bytes = PDF, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


@pytest.fixture(autouse=True)
def _english():
    """Pages under /en/: assertions read the English source text, which the Vietnamese
    translation pass will not change."""
    with translation.override("en"):
        yield


@pytest.fixture
def online_procedure(procedure):
    """The conftest procedure (fully online, 5 days / 3 online) with two documents."""
    form = RequiredDocument.objects.create(
        procedure=procedure,
        name="Đơn đề nghị cấp Giấy phép bán lẻ rượu",
        order=1,
        mandatory=True,
    )
    form.template.save("mau-don.docx", ContentFile(DOCX), save=True)
    RequiredDocument.objects.create(
        procedure=procedure,
        name="Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
        order=2,
        kind="copy",
        mandatory=True,
    )
    RequiredDocument.objects.create(
        procedure=procedure,
        name="Giấy ủy quyền (nếu có)",
        order=3,
        mandatory=False,
    )
    return procedure


def slots(procedure):
    return list(procedure.documents.order_by("order"))


def form_data(procedure, **overrides):
    first, second, _optional = slots(procedure)
    data = {
        "applicant_type": "individual",
        "applicant_name": "Nguyễn Thị Bình",
        "id_number": "001199012345",
        "address": "Số 1 đường Hoàng Văn Thụ, TP Thái Nguyên",
        "phone": "0912 345 678",
        "email": "binh@example.com",
        "result_delivery": "online",
        "note": "Xin nhận kết quả sớm.",
        "consent": "on",
        "website": "",
        f"doc_{first.pk}": upload("don-de-nghi.pdf"),
        f"doc_{second.pk}": upload("giay-chung-nhan.png", PNG, "image/png"),
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def submit_url(procedure):
    return reverse("procedures:submit", args=[procedure.pk])


def errors_of(response) -> dict:
    form = response.context["form"]
    return {k: [str(e) for e in v] for k, v in form.errors.items()}


# ------------------------------------------------------------------ the happy path


def test_submission_creates_an_online_dossier_and_shows_code_and_pin(
    client, online_procedure, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(submit_url(online_procedure), form_data(online_procedure))
    dossier = Dossier.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:receipt", args=[dossier.code])
    assert (dossier.status, dossier.channel) == (S.SUBMITTED, Channel.ONLINE)
    assert dossier.processing_amount == Decimal("3")  # the online time
    assert dossier.applicant_phone == "0912345678"
    assert dossier.result_delivery == "online"
    assert dossier.received_by is None
    assert dossier.events.get().by_applicant

    docs = list(dossier.documents.order_by("slot__order"))
    assert [d.original_name for d in docs] == ["don-de-nghi.pdf", "giay-chung-nhan.png"]
    assert [d.content_type for d in docs] == ["application/pdf", "image/png"]
    assert docs[0].file.read() == PDF
    assert all(d.by_applicant for d in docs)

    page = client.get(response["Location"])
    assert page.status_code == 200
    assert page["Cache-Control"].startswith("max-age=0")
    pin = re.search(r'id="dossier-pin">(\d{8})<', page.content.decode()).group(1)
    assert pin_matches(dossier=dossier, pin=pin)
    assert dossier.code in page.content.decode()
    assert "don-de-nghi.pdf" in page.content.decode()

    # The receipt mail: what was received and the next step; never the PIN.
    (message,) = mail.outbox
    assert message.to == ["binh@example.com"]
    assert message.subject == f"Dossier {dossier.code} received"
    assert "don-de-nghi.pdf" in message.body and "giay-chung-nhan.png" in message.body
    assert f"/tra-cuu/?code={dossier.code}" in message.body
    assert pin not in message.body


def test_receipt_pdf_carries_code_pin_and_a_qr_code(client, online_procedure):
    client.post(submit_url(online_procedure), form_data(online_procedure))
    dossier = Dossier.objects.get()
    page = client.get(reverse("procedures:receipt", args=[dossier.code])).content.decode()
    pin = re.search(r'id="dossier-pin">(\d{8})<', page).group(1)

    response = client.get(reverse("procedures:receipt-pdf", args=[dossier.code]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = "".join(p.extract_text() for p in reader.pages)
    assert dossier.code in text
    assert pin in text
    assert "Nguyễn Thị Bình" in text
    assert "don-de-nghi.pdf" in text
    # The QR code is drawn as vector shapes: many filled rectangles on the page.
    assert len(reader.pages[0].get_contents().get_data()) > 5000


def test_receipt_is_only_for_the_session_that_submitted(client, online_procedure):
    client.post(submit_url(online_procedure), form_data(online_procedure))
    dossier = Dossier.objects.get()
    stranger = Client()
    for name in ("procedures:receipt", "procedures:receipt-pdf"):
        response = stranger.get(reverse(name, args=[dossier.code]))
        assert response.status_code == 302
        assert response["Location"] == f"{reverse('procedures:lookup')}?code={dossier.code}"


def test_receipt_forgets_the_pin_after_the_access_window(client, online_procedure, settings):
    import time_machine

    with time_machine.travel("2026-06-01 09:00 +0700", tick=False) as clock:
        client.post(submit_url(online_procedure), form_data(online_procedure))
        dossier = Dossier.objects.get()
        receipt = client.get(reverse("procedures:receipt", args=[dossier.code]))
        assert receipt.status_code == 200
        assert re.fullmatch(r"\d{8}", receipt.context["pin"])
        assert pin_matches(dossier=dossier, pin=receipt.context["pin"])
        clock.shift(settings.PORTAL_ACCESS_MINUTES * 60 + 1)
        response = client.get(reverse("procedures:receipt", args=[dossier.code]))
    assert response.status_code == 302


def test_the_receipt_is_a_cookie_and_no_table_holds_the_pin(client, online_procedure):
    from django.contrib.sessions.models import Session

    client.post(submit_url(online_procedure), form_data(online_procedure))
    dossier = Dossier.objects.get()
    receipt = client.get(reverse("procedures:receipt", args=[dossier.code]))
    pin = receipt.context["pin"]
    assert re.fullmatch(r"\d{8}", pin)
    assert pin_matches(dossier=dossier, pin=pin)
    # The grant is the receipt cookie: a submission writes no session at all.
    assert not Session.objects.exists()
    assert "sessionid" not in client.cookies
    # The cookie does not show the PIN, is out of scripts' reach, and opens the dossier.
    cookie = client.cookies["motcua_receipt"]
    assert pin not in cookie.value and cookie["httponly"] and cookie["samesite"] == "Lax"
    assert client.get(reverse("procedures:lookup-dossier", args=[dossier.code])).status_code == 200
    # Tampered, for another dossier, or from no cookie at all: no access.
    for value in (cookie.value[:-2] + "xx", cookie.value.replace(f"{dossier.pk}:", "999999:", 1)):
        forger = Client()
        forger.cookies["motcua_receipt"] = value
        assert forger.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 302
    assert Client().get(reverse("procedures:receipt", args=[dossier.code])).status_code == 302
    # The PDF carries the PIN from the cookie as before.
    pdf = client.get(reverse("procedures:receipt-pdf", args=[dossier.code]))
    assert pdf.status_code == 200
    # Closing the dossier on this device deletes the receipt: access ends.
    client.post(reverse("procedures:lookup-close", args=[dossier.code]))
    assert client.get(reverse("procedures:receipt", args=[dossier.code])).status_code == 302


def test_files_are_stored_privately_under_random_names(client, online_procedure):
    first = slots(online_procedure)[0]
    client.post(
        submit_url(online_procedure),
        form_data(online_procedure, **{f"doc_{first.pk}": upload("../../../etc/passwd.pdf")}),
    )
    doc = DossierDocument.objects.get(slot=first)
    assert doc.original_name == "passwd.pdf"
    path = Path(doc.file.path).resolve()
    assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "dossiers")
    assert "passwd" not in path.name
    # MEDIA is never routed: the storage path is not a public URL.
    assert Client().get("/media/" + doc.file.name).status_code == 404
    assert Client().get("/" + doc.file.name).status_code == 404


# ------------------------------------------------------------------ validation, per field


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        (
            {"applicant_name": ""},
            "applicant_name",
            "Enter your full name or the organisation's name.",
        ),
        ({"id_number": ""}, "id_number", "Enter the citizen ID or the tax code."),
        ({"id_number": "12345"}, "id_number", "A citizen ID number has exactly 12 digits."),
        (
            {"applicant_type": "organisation", "id_number": "001199012345"},
            "id_number",
            "A tax code has 10 digits, or 13 digits for a branch",
        ),
        ({"phone": "12345"}, "phone", "Enter a Vietnamese phone number"),
        ({"email": "binh@"}, "email", "Enter an email address like name@example.com."),
        ({"email": ""}, "email", "Enter an email address for the receipt and updates."),
        ({"phone": ""}, "phone", "Enter a phone number we can call you on."),
        (
            {"consent": None},
            "consent",
            "Tick the box to agree to the processing of your personal data",
        ),
        (
            {"result_delivery": "post", "address": ""},
            "address",
            "Enter the postal address the result should be sent to.",
        ),
        ({"result_delivery": "pigeon"}, "result_delivery", "Choose one of the ways listed"),
        ({"applicant_type": "robot"}, "applicant_type", "Choose individual or organisation."),
        ({"website": "http://spam.example"}, "website", "looks automated"),
    ],
)
def test_each_invalid_field_gets_its_own_message(
    client, online_procedure, overrides, field, message
):
    response = client.post(submit_url(online_procedure), form_data(online_procedure, **overrides))
    assert response.status_code == 400
    errors = errors_of(response)
    assert list(errors) == [field]
    assert message in errors[field][0]
    assert not Dossier.objects.exists()


def test_an_organisation_may_use_a_branch_tax_code(client, online_procedure):
    response = client.post(
        submit_url(online_procedure),
        form_data(
            online_procedure,
            applicant_type="organisation",
            id_number="4600123459-001",
            applicant_name="Công ty TNHH Chè Tân Cương",
        ),
    )
    assert response.status_code == 302
    assert Dossier.objects.get().applicant_id_number == "4600123459-001"


def test_a_failed_validation_keeps_what_was_typed_and_ties_errors_to_fields(
    client, online_procedure
):
    response = client.post(
        submit_url(online_procedure),
        form_data(online_procedure, id_number="12AB", note="Ghi chú của tôi"),
    )
    html = response.content.decode()
    assert 'value="Nguyễn Thị Bình"' in html
    assert 'value="binh@example.com"' in html
    assert "Ghi chú của tôi</textarea>" in html
    assert 'value="online" id="id_result_delivery_2" required checked' in html
    # The error is announced in the summary, linked to the field, and tied to the input.
    assert 'href="#id_id_number"' in html
    assert 'id="id_id_number_error"' in html
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_id_number"', html)
    assert re.search(r'aria-describedby="id_id_number_helptext id_id_number_error"', html)
    assert "choose the files again" in html


# ------------------------------------------------------------------ upload rejections


def test_a_missing_mandatory_document_is_named(client, online_procedure):
    first, second, optional = slots(online_procedure)
    response = client.post(
        submit_url(online_procedure), form_data(online_procedure, **{f"doc_{second.pk}": None})
    )
    errors = errors_of(response)
    assert errors == {
        f"doc_{second.pk}": [
            "Attach “Bản sao Giấy chứng nhận đăng ký doanh nghiệp”: this document is mandatory."
        ]
    }
    assert f"doc_{optional.pk}" not in errors  # optional slot may stay empty


@override_settings(PORTAL_UPLOAD_MAX_FILE_MB=1)
def test_an_oversized_file_is_refused_before_its_content_is_read(
    client, online_procedure, monkeypatch
):
    first = slots(online_procedure)[0]
    sniffed = []
    from procedures.core import uploads

    monkeypatch.setattr(uploads, "sniff_type", lambda f: sniffed.append(f) or "pdf")
    big = upload("scan.pdf", PDF + b"0" * (1024 * 1024))
    response = client.post(
        submit_url(online_procedure), form_data(online_procedure, **{f"doc_{first.pk}": big})
    )
    (error,) = errors_of(response)[f"doc_{first.pk}"]
    assert error == "“scan.pdf” is 1.0 MB; a file may be at most 1 MB."
    assert len(sniffed) == 1  # only the other, valid file was sniffed
    assert not Dossier.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        (
            "virus.pdf",
            b"MZ\x90\x00 this is a windows program",
            "is not a PDF, JPEG, PNG, DOCX, XLSX file",
        ),
        (
            "page.pdf",
            b"<html><script>alert(1)</script></html>",
            "is not a PDF, JPEG, PNG, DOCX, XLSX file",
        ),
        ("macro.pdf", office_zip("word", macro=True), "is not a PDF, JPEG, PNG, DOCX, XLSX file"),
        ("photo.pdf", JPEG, "is named as a .pdf file but its content is JPEG"),
        ("empty.pdf", b"", "is empty"),
    ],
)
def test_wrong_content_is_refused_whatever_the_name(
    client, online_procedure, name, content, message
):
    first = slots(online_procedure)[0]
    response = client.post(
        submit_url(online_procedure),
        form_data(online_procedure, **{f"doc_{first.pk}": upload(name, content)}),
    )
    (error,) = errors_of(response)[f"doc_{first.pk}"]
    assert message in error
    assert not Dossier.objects.exists()


@override_settings(PORTAL_UPLOAD_MAX_FILES=3)
def test_too_many_files_are_refused(client, online_procedure):
    first, second, optional = slots(online_procedure)
    response = client.post(
        submit_url(online_procedure),
        form_data(online_procedure, **{f"doc_{optional.pk}": [upload("a.pdf"), upload("b.pdf")]}),
    )
    # Refused while the body is parsed (procedures.core.middleware), before any file is
    # checked: the form is not rendered again, the page says why.
    assert response.status_code == 413
    assert (
        "A dossier may hold at most 3 files; this request carried at least 4."
        in response.content.decode()
    )
    assert "Nothing was saved." in response.content.decode()
    assert not Dossier.objects.exists()


@override_settings(PORTAL_UPLOAD_MAX_FILE_MB=1, PORTAL_UPLOAD_MAX_DOSSIER_MB=1)
def test_files_over_the_dossier_total_are_refused(client, online_procedure):
    first, second, _optional = slots(online_procedure)
    half = minimal_pdf(pad_to=600 * 1024)
    response = client.post(
        submit_url(online_procedure),
        form_data(
            online_procedure,
            **{f"doc_{first.pk}": upload("a.pdf", half), f"doc_{second.pk}": upload("b.pdf", half)},
        ),
    )
    (error,) = errors_of(response)["__all__"]
    assert error.startswith("The files of a dossier may total at most 1 MB; these make 1.2 MB")


def test_several_files_in_one_slot_and_every_accepted_type(client, online_procedure):
    first, second, optional = slots(online_procedure)
    response = client.post(
        submit_url(online_procedure),
        form_data(
            online_procedure,
            **{
                f"doc_{first.pk}": [upload("don.docx", DOCX), upload("bang-ke.xlsx", XLSX)],
                f"doc_{second.pk}": [upload("trang-1.jpg", JPEG), upload("trang 2", PNG)],
                f"doc_{optional.pk}": upload("uy-quyen.PDF"),
            },
        ),
    )
    assert response.status_code == 302
    names = sorted(DossierDocument.objects.values_list("original_name", "content_type"))
    assert names == [
        ("bang-ke.xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
        ("don.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
        ("trang 2.png", "image/png"),  # no extension: named after its content
        ("trang-1.jpg", "image/jpeg"),
        ("uy-quyen.PDF", "application/pdf"),
    ]


# ------------------------------------------------------------------ abuse and availability


def test_csrf_is_enforced(online_procedure):
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 403
    assert not Dossier.objects.exists()


def _limits(**submit):
    return {**settings.PORTAL_RATE_LIMITS, "submit": submit}


def test_failed_submissions_do_not_eat_the_quota(client, online_procedure, settings):
    settings.PORTAL_RATE_LIMITS = _limits(attempts="20/h", successes="2/h")
    for _ in range(5):  # typos: refused, and not counted against the quota
        assert (
            client.post(
                submit_url(online_procedure), form_data(online_procedure, id_number="bad")
            ).status_code
            == 400
        )
    for _ in range(2):
        assert (
            client.post(submit_url(online_procedure), form_data(online_procedure)).status_code
            == 302
        )
    response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 429
    assert "Too many submissions from your connection" in errors_of(response)["__all__"][0]
    assert 0 < int(response["Retry-After"]) <= 3600
    assert 'value="Nguyễn Thị Bình"' in response.content.decode()  # still kept
    assert Dossier.objects.count() == 2
    # Another address is not affected.
    other = client.post(
        submit_url(online_procedure), form_data(online_procedure), REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code == 302


def test_a_flood_of_invalid_posts_meets_the_higher_attempts_limit(
    client, online_procedure, settings
):
    import time_machine

    settings.PORTAL_RATE_LIMITS = _limits(attempts="3/h", successes="20/h")
    with time_machine.travel("2026-06-01 09:45 +0700", tick=False):
        for _ in range(3):
            assert (
                client.post(
                    submit_url(online_procedure), form_data(online_procedure, id_number="bad")
                ).status_code
                == 400
            )
        response = client.post(submit_url(online_procedure), form_data(online_procedure))
    assert response.status_code == 429
    # The true wait: the hour window ends at 10:00, 15 minutes away.
    assert response["Retry-After"] == "900"
    assert "Try again in 15 minutes" in errors_of(response)["__all__"][0]
    assert not Dossier.objects.exists()


def test_behind_a_proxy_the_address_our_proxy_saw_counts(client, online_procedure, settings):
    settings.PORTAL_RATE_LIMITS = _limits(attempts="1/h")
    settings.TRUSTED_PROXY_COUNT = 1
    data = lambda: form_data(online_procedure, id_number="bad")  # noqa: E731
    client.post(submit_url(online_procedure), data(), HTTP_X_FORWARDED_FOR="1.1.1.1, 203.0.113.7")
    # A spoofed first hop does not give a fresh counter: the proxy-appended one counts.
    response = client.post(
        submit_url(online_procedure), data(), HTTP_X_FORWARDED_FOR="9.9.9.9, 203.0.113.7"
    )
    assert response.status_code == 429
    # A different client behind the same proxy has its own counter.
    response = client.post(submit_url(online_procedure), data(), HTTP_X_FORWARDED_FOR="203.0.113.8")
    assert response.status_code == 400


def test_without_a_trusted_proxy_a_spoofed_forwarded_for_is_ignored(
    client, online_procedure, settings
):
    settings.PORTAL_RATE_LIMITS = _limits(attempts="1/h")
    settings.TRUSTED_PROXY_COUNT = 0
    data = lambda: form_data(online_procedure, id_number="bad")  # noqa: E731
    client.post(submit_url(online_procedure), data(), HTTP_X_FORWARDED_FOR="1.1.1.1")
    response = client.post(submit_url(online_procedure), data(), HTTP_X_FORWARDED_FOR="2.2.2.2")
    assert response.status_code == 429


def test_a_procedure_without_online_submission_sends_people_to_its_page(client, trade_field):
    offline = procedure_create(
        name="Cấp Giấy phép sử dụng vật liệu nổ công nghiệp",
        field=trade_field,
        decision_number="QĐ 2/2026",
        decision_date=None,
        effective_from=__import__("datetime").date(2026, 1, 1),
        processing_amount=10,
        online_level=OnlineLevel.NONE,
    )
    response = client.get(submit_url(offline))
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:procedure-detail", args=[offline.pk])
    assert client.post(submit_url(offline), {}).status_code == 302
    assert not Dossier.objects.exists()


def test_the_form_lists_one_slot_per_document_with_its_template(client, online_procedure):
    html = client.get(submit_url(online_procedure)).content.decode()
    for doc in slots(online_procedure):
        assert f'name="doc_{doc.pk}"' in html
        assert doc.name in html
    assert html.count('type="file"') == 3
    assert 'accept=".pdf,.jpg,.jpeg,.png,.docx,.xlsx,' in html
    assert "Download the blank form" in html
    assert 'class="hp-field" aria-hidden="true"' in html
    assert "Decree 13/2023" in html


def test_the_form_follows_a_catalogue_change_made_after_it_was_served(client, online_procedure):
    """The procedure and its list of documents come from the catalogue cache (issue
    13); a change to either drops the cached copy, so the next POST sees it."""
    data = form_data(online_procedure)
    assert client.get(submit_url(online_procedure)).status_code == 200  # cached now
    extra = RequiredDocument.objects.create(
        procedure=online_procedure, name="Bản kê khai địa điểm", order=4, mandatory=True
    )
    response = client.post(submit_url(online_procedure), data)
    assert response.status_code == 400
    assert f"doc_{extra.pk}" in errors_of(response)
    online_procedure.channel_online = False
    online_procedure.save(update_fields=["channel_online"])
    response = client.post(submit_url(online_procedure), data)
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "procedures:procedure-detail", args=[online_procedure.pk]
    )
    assert not Dossier.objects.exists()


# ------------------------------------------------------------------ slots (issue 15)


def test_a_procedure_without_a_published_list_takes_the_dossier_in_one_generic_slot(
    client, procedure
):
    assert not procedure.documents.exists()
    html = client.get(submit_url(procedure)).content.decode()
    assert html.count('type="file"') == 1
    assert 'name="doc_dossier"' in html
    assert 'id="documents-not-published"' in html

    data = {
        "applicant_type": "individual",
        "applicant_name": "Nguyễn Thị Bình",
        "id_number": "001199012345",
        "phone": "0912345678",
        "email": "binh@example.com",
        "result_delivery": "desk",
        "consent": "on",
        "website": "",
    }
    # The slot is required: a dossier with no paper at all is not a dossier.
    response = client.post(submit_url(procedure), data)
    assert response.status_code == 400
    assert "doc_dossier" in errors_of(response)
    assert not Dossier.objects.exists()

    response = client.post(
        submit_url(procedure),
        {**data, "doc_dossier": [upload("ho-so-1.pdf"), upload("ho-so-2.png", PNG, "image/png")]},
    )
    assert response.status_code == 302, errors_of(response)
    dossier = Dossier.objects.get()
    assert sorted(dossier.documents.values_list("original_name", "slot")) == [
        ("ho-so-1.pdf", None),
        ("ho-so-2.png", None),
    ]


def test_a_district_level_procedure_takes_no_dossier_here(client, procedure):
    procedure.level = "district"
    procedure.save(update_fields=["level"])
    response = client.get(submit_url(procedure))
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:procedure-detail", args=[procedure.pk])
    assert client.post(submit_url(procedure), {}).status_code == 302
    assert not Dossier.objects.exists()


def test_the_service_refuses_a_district_procedure_with_its_own_reason(procedure):
    from procedures.core.errors import DomainError
    from procedures.dossiers.services import Applicant, dossier_register

    procedure.level = "district"
    procedure.save(update_fields=["level"])
    with pytest.raises(DomainError) as refused:
        dossier_register(
            procedure=procedure,
            channel=Channel.DIRECT,
            actor=None,
            applicant=Applicant(type="individual", name="Hoàng Văn Dũng", id_number="001099012345"),
        )
    assert refused.value.code == "not_departmental"
    assert not Dossier.objects.exists()
