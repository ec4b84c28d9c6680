"""The applicant's whole journey on a freshly seeded database, as `make run` leaves it.

No fixture builds the catalogue: the test runs the real seed commands (seed_catalogue,
seed_demo_accounts), then an applicant on a phone searches the catalogue, opens a
procedure that takes online dossiers, attaches one file per document of its published
list, submits, reads the receipt, and looks the dossier up with code and PIN. The desk
(the demo intake account) asks for a supplement through the services, the applicant
uploads it on the look-up page, the director resolves, and the applicant rates.
Screenshots and axe-core reports go to tests/artifacts/ (prefix "seeded-").
"""

from __future__ import annotations

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from procedures.catalogue.selectors import strip_diacritics
from procedures.core.constants import DossierStatus, Outcome
from procedures.dossiers.services import (
    dossier_accept,
    dossier_request_supplement,
    dossier_resolve,
)
from procedures.models import Dossier, Procedure, Rating

from .pages import pdf_file, send_supplement


def seed() -> None:
    out = io.StringIO()
    call_command("seed_catalogue", stdout=out, stderr=out)
    call_command("seed_demo_accounts", stdout=out, stderr=out)


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_applicant_journey_on_the_seeded_catalogue(phone, chromium, live_server, checker):
    seed()
    User = get_user_model()
    desk, director = User.objects.get(username="motcua"), User.objects.get(username="giamdoc")
    # The journey needs a procedure that takes online dossiers and publishes its list.
    procedure = (
        Procedure.objects.accepting_online()
        .filter(documents__isnull=False)
        .distinct()
        .order_by("name")
        .first()
    )
    assert procedure is not None, "the seed loaded no list of documents"
    documents = list(procedure.documents.order_by("order", "id"))
    page = phone

    # --- Home, then search without accents, as on a phone without a Telex keyboard ----
    page.goto("/")
    checker.check(page, "seeded-01-home")
    query = " ".join(strip_diacritics(procedure.name).split()[:8])
    page.fill("#home-q", query)
    page.press("#home-q", "Enter")
    page.wait_for_url("**/thu-tuc/?q=*")
    link = page.locator(f".result-list h2 a[href$='/thu-tuc/{procedure.pk}/']")
    assert link.inner_text().strip() == procedure.name
    checker.check(page, "seeded-02-search")
    link.click()
    page.wait_for_url(f"**/thu-tuc/{procedure.pk}/")

    # --- The procedure page lists its documents and where the list comes from ----------
    docs_section = page.inner_text("#documents")
    for doc in documents:
        assert doc.name in docs_section
    assert page.locator("#documents .document-source a").count() >= 1
    checker.check(page, "seeded-03-procedure")

    # --- Submit with one file per document ---------------------------------------------
    page.click(f"a[href$='/thu-tuc/{procedure.pk}/nop-ho-so/'] >> nth=0")
    page.wait_for_url("**/nop-ho-so/")
    assert page.locator("input[type=file]").count() == len(documents)
    checker.check(page, "seeded-04-submit")
    page.check("#id_applicant_type_1")  # an organisation
    page.fill("#id_applicant_name", "Công ty TNHH Thương mại Bình An")
    page.fill("#id_id_number", "0100109106")
    page.fill("#id_phone", "0912345678")
    page.fill("#id_email", "binhan@example.com")
    page.check("#id_result_delivery_0")
    for i, doc in enumerate(documents, 1):
        page.set_input_files(f"#id_doc_{doc.pk}", files=[pdf_file(f"thanh-phan-{i}.pdf")])
    page.check("#id_consent")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/bien-nhan/*/")

    # --- Receipt ---------------------------------------------------------------------------
    code = page.inner_text("#dossier-code").strip()
    pin = page.inner_text("#dossier-pin").strip()
    dossier = Dossier.objects.get(code=code)
    assert dossier.procedure_id == procedure.pk and dossier.status == DossierStatus.SUBMITTED
    assert sorted(dossier.documents.values_list("slot_id", flat=True)) == sorted(
        d.pk for d in documents
    )
    checker.check(page, "seeded-05-receipt")

    # --- Look-up from another device with the code and the PIN ---------------------------
    later = chromium.new_context(
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        has_touch=True,
        base_url=live_server.url,
        locale="vi-VN",
    )
    look = later.new_page()
    look.goto("/tra-cuu/")
    look.fill("#id_code", code)
    look.fill("#id_pin", pin)
    look.click("main form button[type=submit]")
    look.wait_for_url(f"**/tra-cuu/{code}/")
    assert look.locator(".status-box").count() == 1
    checker.check(look, "seeded-06-lookup")

    # --- The desk accepts and asks for a supplement (services, demo intake account) ------
    dossier = dossier_accept(dossier=dossier, actor=desk)
    # Accepted: the legal code is issued; the look-up answers to it from now on.
    assert dossier.code != code and dossier.submission_ref == code
    code = dossier.code
    dossier_request_supplement(
        dossier=dossier,
        actor=desk,
        reason="Văn bản đề nghị thiếu chữ ký của người đại diện theo pháp luật; đề nghị "
        "gửi lại bản có chữ ký.",
    )

    # --- The applicant answers on the look-up page ---------------------------------------
    look.reload()
    assert "thiếu chữ ký" in look.inner_text("main")
    checker.check(look, "seeded-07-supplement-requested")
    send_supplement(
        look,
        code=code,
        filename="van-ban-de-nghi-co-chu-ky.pdf",
        note="Đã gửi lại văn bản có chữ ký.",
    )
    dossier.refresh_from_db()
    assert dossier.status == DossierStatus.ACCEPTED
    assert dossier.documents.filter(by_applicant=True).count() == len(documents) + 1

    # --- The director resolves (services), the applicant sees the result and rates -------
    dossier_resolve(
        dossier=dossier,
        actor=director,
        outcome=Outcome.GRANTED,
        note="Đã cấp Giấy chứng nhận số 15/GCN-SCT.",
    )
    look.reload()
    assert "15/GCN-SCT" in look.inner_text("main")
    checker.check(look, "seeded-08-result")
    look.check("#id_overall_0")
    look.check("#id_timeliness_0")
    look.fill("#id_comment", "Thủ tục rõ ràng, nộp trực tuyến thuận tiện.")
    look.click("form[action$='/danh-gia/'] button[type=submit]")
    look.wait_for_url(f"**/tra-cuu/{code}/")
    assert look.locator(".notice-ok").count() == 1
    checker.check(look, "seeded-09-rated")
    rating = Rating.objects.get(dossier=dossier)
    assert (rating.overall, rating.timeliness) == ("very_satisfied", 2)
    later.close()

    # --- A procedure whose list is not published: the notice and one generic slot ---------
    unlisted = (
        Procedure.objects.accepting_online().filter(documents__isnull=True).order_by("name").first()
    )
    if unlisted is not None:
        page.goto(f"/thu-tuc/{unlisted.pk}/")
        assert page.locator("#documents-not-published").count() == 1
        checker.check(page, "seeded-10-procedure-without-list")
        page.click(f"a[href$='/thu-tuc/{unlisted.pk}/nop-ho-so/'] >> nth=0")
        page.wait_for_url("**/nop-ho-so/")
        assert page.locator("input[type=file]").count() == 1
        assert page.locator("#id_doc_dossier").count() == 1
        checker.check(page, "seeded-11-submit-generic-slot")
