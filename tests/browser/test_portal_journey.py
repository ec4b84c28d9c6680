"""The citizen portal end to end, on a phone, in headless Chromium.

An applicant finds a procedure by searching in Vietnamese, submits with two files, gets
a code and PIN, and looks the dossier up; staff accept it and ask for a supplement in
the admin; the applicant uploads it through the look-up page; staff resolve; the
applicant rates. Every public page is screenshotted to tests/artifacts/ and checked
with axe-core (no serious or critical violation allowed).

The pages are in Vietnamese, so the assertions look at structure (ids, counts, links)
and at the data typed, not at interface wording that the translation catalogue owns.
"""

from __future__ import annotations

import datetime
import json
import time
from decimal import Decimal

import pytest
from django.core import mail

from procedures.catalogue.services import procedure_create
from procedures.catalogue.staff import roles_ensure_groups, staff_create
from procedures.core.constants import OnlineLevel, Role, StepRole
from procedures.models import (
    Delivery,
    Dossier,
    Field,
    ProcessStep,
    Rating,
    RequiredDocument,
    Unit,
)

from .pages import PDF, attach_and_submit, pdf_file, send_supplement

PASSWORD = "pw-portal-123"


@pytest.fixture
def catalogue():
    units = {
        "VP": Unit.objects.create(code="VP", name="Văn phòng Sở", is_one_stop_desk=True),
        "QLTM": Unit.objects.create(code="QLTM", name="Phòng Quản lý Thương mại"),
    }
    trade = Field.objects.create(
        name="Lưu thông hàng hóa trong nước", ministry_code="G02-CT10", order=1
    )
    food = Field.objects.create(name="An toàn thực phẩm", order=2)
    common = {
        "decision_number": "QĐ 1/2026",
        "decision_date": datetime.date(2026, 1, 1),
        "effective_from": datetime.date(2026, 1, 1),
    }
    wine = procedure_create(
        name="Cấp Giấy phép bán lẻ sản phẩm rượu",
        code="2.000633",
        field=trade,
        processing_amount=Decimal("10"),
        online_processing_amount=Decimal("7"),
        online_level=OnlineLevel.FULL,
        online_level_text="Toàn trình",
        fee_vnd=1_200_000,
        implementing_unit=units["QLTM"],
        result="Giấy phép bán lẻ sản phẩm rượu",
        legal_basis="Nghị định 105/2017/NĐ-CP",
        applicants="Thương nhân",
        steps="Bước 1: Nộp hồ sơ.\nBước 2: Nhận kết quả.",
        **common,
    )
    procedure_create(
        name="Cấp Giấy phép bán lẻ sản phẩm thuốc lá",
        code="2.000162",
        field=trade,
        processing_amount=Decimal("15"),
        **common,
    )
    procedure_create(
        name="Cấp Giấy chứng nhận cơ sở đủ điều kiện an toàn thực phẩm",
        code="2.000591",
        field=food,
        processing_amount=Decimal("20"),
        online_level=OnlineLevel.PARTIAL,
        **common,
    )
    for order, name in [
        (1, "Đơn đề nghị cấp Giấy phép bán lẻ sản phẩm rượu"),
        (2, "Bản sao Giấy chứng nhận đăng ký doanh nghiệp"),
    ]:
        RequiredDocument.objects.create(procedure=wine, name=name, order=order, mandatory=True)
    RequiredDocument.objects.create(
        procedure=wine, name="Giấy ủy quyền (nếu có)", order=3, mandatory=False
    )
    for order, name, role, unit, hours in [
        (1, "Tiếp nhận", StepRole.INTAKE, units["VP"], "4"),
        (2, "Thẩm định", StepRole.SPECIALIST, None, "44"),
        (3, "Ký duyệt", StepRole.DIRECTOR, None, "8"),
    ]:
        ProcessStep.objects.create(
            procedure=wine,
            order=order,
            name=name,
            role=role,
            unit=unit,
            allotted_hours=Decimal(hours),
        )
    groups = roles_ensure_groups()
    staff_create(
        username="motcua",
        full_name="Lê Thị Hoa",
        group=groups[Role.INTAKE],
        unit=units["VP"],
        email="motcua@example.gov.vn",
        password=PASSWORD,
    )
    staff_create(
        username="giamdoc",
        full_name="Phạm Văn Nam",
        group=groups[Role.DIRECTOR],
        unit=None,
        email="giamdoc@example.gov.vn",
        password=PASSWORD,
    )
    return wine


def staff_act(desktop, live_server, username: str, dossier: Dossier, action: str, fill=None):
    """Log in to the admin, open the dossier, run one action form."""
    page = desktop.new_page()
    detail = f"/admin/procedures/dossier/{dossier.pk}/change/"
    page.goto(f"/admin/login/?next={detail}")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{detail}")
    page.click(f"a[data-action={action}]")
    page.wait_for_url(f"**/action/{action}/")
    if fill:
        fill(page)
    page.click("input[type=submit].default")
    page.wait_for_url(f"{live_server.url}{detail}")
    assert page.locator(".messagelist .success").count() == 1, page.content()
    page.close()
    # Log out so the next staff member starts a fresh session.
    desktop.clear_cookies()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_applicant_journey_on_a_phone(
    phone, desktop, chromium, live_server, checker, catalogue, artifacts
):
    started = time.monotonic()
    page = phone

    # --- Home: search box, fields with counts, contacts -------------------------------
    page.goto("/")
    assert page.locator("html").get_attribute("lang") == "vi"
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip-link"
    assert page.locator(".field-links a").count() == 2
    assert page.locator("script").count() == 0  # no JavaScript needed anywhere
    checker.check(page, "01-home")

    # --- Search in Vietnamese, open the procedure ---------------------------------------
    page.fill("#home-q", "bán lẻ rượu")
    page.press("#home-q", "Enter")
    page.wait_for_url("**/thu-tuc/?q=*")
    results = page.locator(".result-list h2 a")
    assert results.all_inner_texts() == ["Cấp Giấy phép bán lẻ sản phẩm rượu"]
    checker.check(page, "02-procedure-list")
    results.first.click()
    page.wait_for_url(f"**/thu-tuc/{catalogue.pk}/")
    assert "Nghị định 105/2017/NĐ-CP" in page.inner_text("main")
    checker.check(page, "03-procedure-detail")

    # --- Submit: first with mistakes, then right, with two files ------------------------
    page.click(f"a[href$='/thu-tuc/{catalogue.pk}/nop-ho-so/'] >> nth=0")
    page.wait_for_url("**/nop-ho-so/")
    checker.check(page, "04-submit-form")
    first, second, _optional = RequiredDocument.objects.filter(procedure=catalogue).order_by(
        "order"
    )
    page.fill("#id_applicant_name", "Nguyễn Thị Bình")
    page.fill("#id_id_number", "0011990123")  # 10 digits: not a citizen ID
    page.fill("#id_phone", "0912345678")
    page.fill("#id_email", "binh@example.com")
    page.check("#id_result_delivery_2")
    page.set_input_files(f"#id_doc_{first.pk}", files=[pdf_file("don-de-nghi.pdf")])
    page.click("main form button[type=submit]")
    page.wait_for_selector("#error-summary")
    links = page.locator("#error-summary a")
    assert sorted(links.evaluate_all("els => els.map(e => e.getAttribute('href'))")) == sorted(
        ["#id_id_number", f"#id_doc_{second.pk}", "#id_consent"]
    )
    assert "Bản sao Giấy chứng nhận đăng ký doanh nghiệp" in page.inner_text("#error-summary")
    assert page.input_value("#id_applicant_name") == "Nguyễn Thị Bình"  # kept
    assert page.get_attribute("#id_id_number", "aria-invalid") == "true"
    checker.check(page, "05-submit-errors")

    page.fill("#id_id_number", "001199012345")
    page.fill("#id_address", "Số 1 Hoàng Văn Thụ, TP Thái Nguyên")
    attach_and_submit(page, first, second)

    # --- Receipt: code, PIN, PDF ---------------------------------------------------------
    code = page.inner_text("#dossier-code").strip()
    pin = page.inner_text("#dossier-pin").strip()
    dossier = Dossier.objects.get(code=code)
    assert len(pin) == 8 and dossier.channel == 2 and dossier.documents.count() == 2
    checker.check(page, "06-receipt")
    with page.expect_download() as download:
        page.click("a[href$='/pdf/']")
    receipt = download.value
    pdf_bytes = open(receipt.path(), "rb").read()
    assert pdf_bytes.startswith(b"%PDF-")
    (artifacts / "receipt.pdf").write_bytes(pdf_bytes)

    # --- Look it up later, from another session: wrong PIN, then right -------------------
    later = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
    )
    look = later.new_page()
    look.goto("/tra-cuu/")
    checker.check(look, "07-lookup")
    look.fill("#id_code", code)
    look.fill("#id_pin", "00000000" if pin != "00000000" else "11111111")
    look.click("main form button[type=submit]")
    assert look.locator("#error-summary li").count() == 1
    checker.check(look, "08-lookup-wrong-pin")
    look.fill("#id_pin", pin)
    look.click("main form button[type=submit]")
    look.wait_for_url(f"**/tra-cuu/{code}/")
    assert look.locator(".timeline li").count() == 1
    checker.check(look, "09-dossier-submitted")

    # --- Staff accept, then ask for a supplement, in the admin --------------------------
    staff_act(desktop, live_server, "motcua", dossier, "accept")
    # The legal code is issued at acceptance; the reference keeps opening the page.
    reference = code
    dossier.refresh_from_db()
    code = dossier.code
    assert code != reference and dossier.submission_ref == reference
    staff_act(
        desktop,
        live_server,
        "motcua",
        dossier,
        "request_supplement",
        fill=lambda p: p.fill(
            "#id_reason", "Bản sao Giấy chứng nhận bị mờ, đề nghị gửi lại bản rõ nét."
        ),
    )

    # --- The applicant answers through the look-up page ----------------------------------
    look.reload()
    assert "bị mờ" in look.inner_text("main")
    checker.check(look, "10-dossier-supplement-requested")
    send_supplement(
        look, code=code, filename="giay-chung-nhan-ro-net.pdf", note="Đã gửi bản rõ nét."
    )
    dossier.refresh_from_db()
    assert dossier.status == 2  # accepted again: the clock counts from zero

    # --- The director resolves ---------------------------------------------------------------
    def resolve(p):
        p.check("#id_outcome_0")
        p.fill("#id_note", "Cấp Giấy phép số 12/GP-SCT.")
        p.set_input_files("#id_files", files=[pdf_file("giay-phep-12.pdf")])

    staff_act(desktop, live_server, "giamdoc", dossier, "resolve", fill=resolve)

    # --- The applicant sees the result and rates -----------------------------------------------
    look.reload()
    assert "Cấp Giấy phép số 12/GP-SCT." in look.inner_text("main")
    checker.check(look, "11-dossier-result-and-rating")
    look.check("#id_overall_0")
    look.check("#id_timeliness_0")
    look.check("#id_attitude_0")
    look.fill("#id_comment", "Cán bộ hướng dẫn tận tình.")
    look.click("form[action$='/danh-gia/'] button[type=submit]")
    look.wait_for_url(f"**/tra-cuu/{code}/")
    assert look.locator(".notice-ok").count() == 1
    checker.check(look, "12-dossier-rated")
    rating = Rating.objects.get(dossier=dossier)
    assert (rating.overall, rating.timeliness, rating.attitude) == ("very_satisfied", 2, 2)
    with look.expect_download() as download:
        look.click("a[href*='/tai-lieu/']:has-text('giay-phep-12.pdf')")
    assert open(download.value.path(), "rb").read() == PDF
    later.close()

    # --- Public statistics, then the same page in English ------------------------------------
    page.goto("/thong-ke/")
    assert page.locator("svg[role=img]").count() == 1
    checker.check(page, "13-public-stats")
    page.select_option("#lang-select", "en")
    page.click(".lang-switch button")
    page.wait_for_url("**/en/thong-ke/")
    assert page.locator("html").get_attribute("lang") == "en"
    checker.check(page, "14-public-stats-en")

    # --- Mail: one per step that concerns the applicant, never with the PIN -------------------
    kinds = list(
        Delivery.objects.filter(recipient="binh@example.com", status="sent")
        .order_by("id")
        .values_list("kind", flat=True)
    )
    assert kinds == [
        "applicant.receipt",
        "applicant.accepted",
        "applicant.supplement_requested",
        "applicant.result_ready",
    ]
    sent = [m for m in mail.outbox if m.to == ["binh@example.com"]]
    assert len(sent) == 4 and reference in sent[0].subject
    assert all(code in m.subject for m in sent[1:])
    assert not any(pin in m.body for m in mail.outbox)

    elapsed = time.monotonic() - started
    (artifacts / "journey.json").write_text(
        json.dumps(
            {
                "seconds": round(elapsed, 1),
                "dossier": code,
                "axe": {k: len(v) for k, v in checker.report.items()},
            },
            indent=2,
        )
    )


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_look_up_works_without_javascript(chromium, live_server, catalogue, vietnamese):
    from procedures.dossiers.services import Applicant, dossier_register

    dossier, pin = dossier_register(
        procedure=catalogue,
        channel=2,
        actor=None,
        applicant=Applicant(
            type="individual",
            name="Hoàng Văn Dũng",
            id_number="001099012345",
            email="dung@example.com",
        ),
    )
    context = chromium.new_context(
        java_script_enabled=False, base_url=live_server.url, viewport={"width": 390, "height": 844}
    )
    page = context.new_page()
    page.goto("/tra-cuu/")
    page.fill("#id_code", dossier.code)
    page.fill("#id_pin", pin)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/tra-cuu/{dossier.code}/")
    assert dossier.code in page.inner_text("h1")
    assert page.locator(".status-box").count() == 1
    context.close()
