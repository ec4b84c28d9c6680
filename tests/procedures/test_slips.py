"""Printable slips (forms 01-05 of Circular 01/2018): the PDF text is read back with pypdf.

1 June 2026 is a Monday; office hours 07:00-11:30, 13:30-17:00.
"""

import io
import unicodedata

import pypdf
import pytest
from django.utils import translation

from procedures.core import pdf
from procedures.core.constants import Channel, Outcome
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.dossiers.slips import (
    SlipKind,
    lookup_url,
    slip_build,
    slip_filename,
    slip_render_html,
    slip_render_pdf,
    slips_available,
)
from procedures.models import RequiredDocument

from .conftest import at

pytestmark = pytest.mark.django_db

PDF_BYTES = b"%PDF-1.4 test\n%%EOF"


def pdf_text(data: bytes) -> str:
    assert data.startswith(b"%PDF-")
    reader = pypdf.PdfReader(io.BytesIO(data))
    text = "\n".join(page.extract_text() for page in reader.pages)
    return unicodedata.normalize("NFC", text)


def squash(text: str) -> str:
    """Words wrapped onto the next line still count as found."""
    return " ".join(text.split())


def vi(message: str, **values) -> str:
    """A label as the Vietnamese slip prints it (whatever the catalogue says today)."""
    with translation.override("vi"):
        return squash(
            translation.gettext(message) % values if values else translation.gettext(message)
        )


@pytest.fixture
def slots(procedure):
    return [
        RequiredDocument.objects.create(
            procedure=procedure,
            order=1,
            name="Đơn đề nghị cấp Giấy phép",
            kind="original",
            copies=1,
            mandatory=True,
        ),
        RequiredDocument.objects.create(
            procedure=procedure,
            order=2,
            name="Bản sao Giấy chứng nhận đăng ký doanh nghiệp",
            kind="copy",
            copies=1,
            mandatory=True,
        ),
    ]


@pytest.fixture
def accepted(register, staff, slots):
    d = register(
        now=at(2026, 6, 1, 9, 0),
        documents=[
            svc.UploadedDocument(
                slot_id=slots[0].pk,
                name="don-de-nghi.pdf",
                content=PDF_BYTES,
                content_type="application/pdf",
            ),
        ],
    )
    accepted = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    accepted.pin = d.pin
    return accepted


@pytest.fixture
def assigned(accepted, staff, units):
    """Accepted at 10:00, handed to QLTM's specialist at 11:00."""
    return svc.dossier_assign(
        dossier=accepted,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 11, 0),
    )


def lookup(dossier) -> str:
    """The look-up address in the applicant's language, as the slip prints it."""
    with translation.override(dossier.applicant_language):
        return lookup_url(dossier=dossier)


def test_receipt_pdf_carries_vietnamese_text_and_the_due_time(accepted):
    slip = slip_build(dossier=accepted, kind=SlipKind.RECEIPT, now=at(2026, 6, 1, 10, 5))
    text = squash(pdf_text(slip_render_pdf(slip=slip)))
    assert accepted.code in text
    for words in [
        "Nguyễn Văn An",
        "Cấp Giấy phép bán lẻ sản phẩm rượu",
        "2.000633",
        "Sở Công Thương tỉnh Thái Nguyên".upper(),
        "Đơn đề nghị cấp Giấy phép",
        "don-de-nghi.pdf",
        "Phường Phan Đình Phùng",
        vi("%(place)s, %(date)s", place="Thái Nguyên", date="01/06/2026"),
        "Cán bộ intake",
    ]:
        assert words in text, words
    # Accepted Monday 10:00 with 5 working days: due Monday 8 June at 10:00.
    assert "10:00, 08/06/2026" in text
    assert "10:00, 01/06/2026" in text  # received at
    # The second mandatory paper was not handed over and the slip says so.
    assert vi("Not received") in text
    assert lookup(accepted) in text
    assert vi("%(amount)s VND", amount="1.200.000") in text
    assert vi("Receipt and appointment slip").upper() in text
    assert vi("Form %(number)s", number="01") in text


def test_receipt_html_has_a_qr_code_to_the_lookup_page(accepted):
    slip = slip_build(dossier=accepted, kind=SlipKind.RECEIPT, pin="12345678")
    html = slip_render_html(slip=slip, pdf_url="/x.pdf")
    url = lookup(accepted)
    assert url.endswith(f"?code={accepted.code}")
    assert "<svg" in html and vi("QR code of the look-up page") in html
    assert url in html
    assert "12345678" in html  # printed only when the desk passes the PIN
    assert "10:00, 08/06/2026" in html
    assert 'href="/x.pdf"' in html


def test_receipt_without_pin_never_prints_one(accepted):
    text = squash(
        pdf_text(slip_render_pdf(slip=slip_build(dossier=accepted, kind=SlipKind.RECEIPT)))
    )
    assert accepted.pin not in text
    assert (
        vi(
            "This copy does not show the look-up PIN: it is given only once, on the "
            "receipt issued when the dossier was registered."
        )
        in text
    )


def test_receipt_of_an_online_submission_before_acceptance(register):
    d = register(channel=Channel.ONLINE, now=at(2026, 6, 1, 20, 0))
    slip = slip_build(dossier=d, kind=SlipKind.RECEIPT, pin=d.pin)
    text = squash(pdf_text(slip_render_pdf(slip=slip)))
    assert (
        vi("Set when the dossier is accepted; you will be told by email and on the look-up page.")
        in text
    )
    assert vi("Look-up PIN: %(pin)s (keep it private).", pin=d.pin) in text
    assert "20:00, 01/06/2026" in text
    assert f"3 {vi('working days')}" in text  # the shorter online time


def test_supplement_request_slip(register, staff):
    d = register()
    d = svc.dossier_request_supplement(
        dossier=d,
        actor=staff["intake"],
        now=at(2026, 6, 1, 9, 30),
        reason="Thiếu bản sao Giấy chứng nhận đăng ký doanh nghiệp",
    )
    slip = slip_build(dossier=d, kind=SlipKind.SUPPLEMENT)
    assert slip.form_number == "02"
    text = squash(pdf_text(slip_render_pdf(slip=slip)))
    assert "Thiếu bản sao Giấy chứng nhận đăng ký doanh nghiệp" in text
    assert "09:30, 01/06/2026" in text
    assert "Nguyễn Văn An" in text


def test_refusal_slip(register, staff):
    d = register()
    d = svc.dossier_refuse_intake(
        dossier=d,
        actor=staff["intake"],
        now=at(2026, 6, 1, 9, 30),
        reason="Thủ tục thuộc thẩm quyền của Ủy ban nhân dân cấp huyện",
    )
    assert slips_available(dossier=d) == [SlipKind.REFUSAL]
    text = squash(pdf_text(slip_render_pdf(slip=slip_build(dossier=d, kind=SlipKind.REFUSAL))))
    assert "Thủ tục thuộc thẩm quyền của Ủy ban nhân dân cấp huyện" in text
    assert vi("Form %(number)s", number="03") in text


def test_apology_slip_has_old_and_new_appointment(assigned, staff, units):
    d = assigned
    svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        now=at(2026, 6, 4, 9, 0),
        new_due_at=at(2026, 6, 12, 16, 0),
        reason="Cần xác minh thực tế tại cơ sở kinh doanh",
    )
    text = squash(pdf_text(slip_render_pdf(slip=slip_build(dossier=d, kind=SlipKind.APOLOGY))))
    assert "Cần xác minh thực tế tại cơ sở kinh doanh" in text
    assert "10:00, 08/06/2026" in text  # the appointment missed
    assert "16:00, 12/06/2026" in text  # the new one
    assert "Cán bộ unit_head" in text


def test_control_slip_records_each_hand_over(assigned, staff, units):
    d = assigned
    svc.dossier_complete_step(
        dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 11, 0), note="Chuyển phòng chuyên môn"
    )
    d.refresh_from_db()
    svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 5, 15, 0)
    )
    slip = slip_build(dossier=d, kind=SlipKind.CONTROL)
    text = squash(pdf_text(slip_render_pdf(slip=slip)))
    for words in [
        "Tiếp nhận, chuyển hồ sơ",
        "Thẩm định",
        "Ký duyệt",
        "Văn phòng Sở",
        "Chuyển phòng chuyên môn",
        "Phòng Quản lý Thương mại",
        "11:00, 01/06/2026",
        "15:00, 05/06/2026",
        vi("Early"),
    ]:
        assert words in text, words
    html = slip_render_html(slip=slip)
    assert "landscape" in html
    reader = pypdf.PdfReader(io.BytesIO(slip_render_pdf(slip=slip)))
    box = reader.pages[0].mediabox
    assert box.width > box.height  # landscape, for the ten columns


def test_slip_in_english_for_an_english_speaking_applicant(register, staff):
    d = register(
        applicant=svc.Applicant(
            type="individual", name="John Smith", id_number="001099012345", language="en"
        )
    )
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    with translation.override("vi"):
        slip = slip_build(dossier=d, kind=SlipKind.RECEIPT)
    assert slip.language == "en"
    text = squash(pdf_text(slip_render_pdf(slip=slip)))
    assert "RECEIPT AND APPOINTMENT SLIP" in text
    assert "SOCIALIST REPUBLIC OF VIETNAM" in text


def test_a_slip_that_does_not_apply_is_refused(register, staff):
    d = register()
    assert slips_available(dossier=d) == [SlipKind.RECEIPT]
    for kind in [SlipKind.SUPPLEMENT, SlipKind.REFUSAL, SlipKind.APOLOGY, SlipKind.CONTROL]:
        with pytest.raises(DomainError) as err:
            slip_build(dossier=d, kind=kind)
        assert err.value.code == "no_slip"
    with pytest.raises(DomainError):
        slip_build(dossier=d, kind="nonsense")


def test_slip_filename(accepted):
    assert (
        slip_filename(dossier=accepted, kind=SlipKind.RECEIPT) == f"{accepted.code}-01-receipt.pdf"
    )


def test_pdf_helper_keeps_vietnamese_and_escapes_markup():
    data = pdf.build(
        [
            pdf.para("Quyết định <b>số</b> 1 & 2", "title"),
            pdf.table([["Lĩnh vực", "Số hồ sơ"], ["Xúc tiến thương mại", "12"]]),
        ],
        title="Báo cáo",
    )
    text = pdf_text(data)
    assert "Quyết định <b>số</b> 1 & 2" in text
    assert "Xúc tiến thương mại" in text
    assert pypdf.PdfReader(io.BytesIO(data)).metadata.title == "Báo cáo"


def test_pdf_helper_composes_decomposed_accents():
    decomposed = unicodedata.normalize("NFD", "Thương mại điện tử")
    assert decomposed != "Thương mại điện tử"
    text = pdf_text(pdf.build([pdf.para(decomposed)]))
    assert "Thương mại điện tử" in text


def _step_rows(slip) -> dict[str, tuple[str, str]]:
    table = next(b for b in slip.blocks if b.kind == "table")
    return {row[1]: (row[2], row[3]) for row in table.rows}


def test_control_slip_names_who_really_did_each_step(assigned, staff, units):
    """Before: every step showed the unit the dossier is assigned to now."""
    d = assigned
    # The first transfer to a unit ends the desk's step (its hand-over).
    svc.dossier_complete_step(dossier=d, actor=staff["specialist"], now=at(2026, 6, 3, 9, 0))
    d.refresh_from_db()
    # Transferred to another unit for the last step.
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLCN"],
        officer=staff["other_specialist"],
        now=at(2026, 6, 3, 10, 0),
    )
    rows = _step_rows(slip_build(dossier=d, kind=SlipKind.CONTROL))
    assert rows["Tiếp nhận, chuyển hồ sơ"] == ("Văn phòng Sở", "Cán bộ intake")
    assert rows["Thẩm định"] == ("Phòng Quản lý Thương mại", "Cán bộ specialist")
    # Open: with the unit and officer holding it now.
    assert rows["Ký duyệt"] == ("Phòng Quản lý Công nghiệp", "Cán bộ other_specialist")
    d.refresh_from_db()
    d = svc.dossier_resolve(
        dossier=d, actor=staff["other_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 4, 15, 0)
    )
    rows = _step_rows(slip_build(dossier=d, kind=SlipKind.CONTROL))
    assert rows["Ký duyệt"] == ("Phòng Quản lý Công nghiệp", "Cán bộ other_head")
    assert rows["Thẩm định"] == ("Phòng Quản lý Thương mại", "Cán bộ specialist")


LONG_ADDRESS = (
    "Lô CN-05, Khu công nghiệp Điềm Thụy (phần diện tích 180 ha), xã Điềm Thụy, huyện Phú "
    "Bình, tỉnh Thái Nguyên; văn phòng giao dịch: tầng 12, tòa nhà Thái Nguyên Tower, số 268 "
    "đường Hoàng Văn Thụ, phường Phan Đình Phùng, thành phố Thái Nguyên"
)


def test_receipt_and_control_slip_fit_one_page_with_a_long_address(procedure, staff):
    """Before: a long organisation address pushed the receipt's signer onto page 2."""
    for i in range(5):
        RequiredDocument.objects.create(
            procedure=procedure,
            order=i,
            kind="copy",
            copies=1,
            mandatory=True,
            name=f"Bản sao Giấy chứng nhận đủ điều kiện số {i} kèm hồ sơ pháp lý của doanh nghiệp",
        )
    applicant = svc.Applicant(
        type="organisation",
        id_number="4600123480",
        address=LONG_ADDRESS,
        name="Công ty Trách nhiệm hữu hạn Thương mại và Dịch vụ Xăng dầu Phú Bình Thái Nguyên",
        phone="0912345678",
        email="vanphong@xangdauphubinh.vn",
    )
    d, pin = svc.dossier_register(
        procedure=procedure,
        applicant=applicant,
        channel=Channel.DIRECT,
        actor=staff["intake"],
        now=at(2026, 6, 1, 9, 0),
    )
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    for kind, with_pin in [
        (SlipKind.RECEIPT, pin),
        (SlipKind.RECEIPT, None),
        (SlipKind.CONTROL, None),
    ]:
        data = slip_render_pdf(slip=slip_build(dossier=d, kind=kind, pin=with_pin))
        pages = pypdf.PdfReader(io.BytesIO(data)).pages
        assert len(pages) == 1, kind
        assert "Cán bộ intake" in pages[0].extract_text()  # the signer, on the page
