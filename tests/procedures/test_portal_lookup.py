"""Look-up by code + PIN (portal item 5): neutral failures, throttling, what it shows,
the supplement answered online, and files that only the right session can fetch."""

import contextlib
import importlib
import re

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.test import Client, override_settings
from django.urls import reverse
from django.utils import translation

from procedures.core.constants import Channel, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.dossiers import services as svc
from procedures.dossiers.services import UploadedDocument
from procedures.models import DossierDocument

from .conftest import at
from .test_portal_submission import JPEG, PDF, _english, upload  # noqa: F401

pytestmark = pytest.mark.django_db

LOOKUP = "procedures:lookup"


@pytest.fixture
def online(register):
    """An online dossier with one file, as the portal would have registered it."""
    d = register(
        channel=Channel.ONLINE,
        documents=[
            UploadedDocument(
                slot_id=None, name="don.pdf", content=PDF, content_type="application/pdf"
            )
        ],
    )
    return d


def open_dossier(client, dossier, pin=None, **extra):
    return client.post(reverse(LOOKUP), {"code": dossier.code, "pin": pin or dossier.pin}, **extra)


def page(client, dossier):
    return client.get(reverse("procedures:lookup-dossier", args=[dossier.code]))


def test_right_code_and_pin_open_the_dossier(client, online):
    response = open_dossier(client, online)
    assert response.status_code == 302
    assert response["Location"] == reverse("procedures:lookup-dossier", args=[online.code])
    html = page(client, online).content.decode()
    assert online.code in html
    assert "Newly submitted" in html
    assert "The one-stop desk is checking that the dossier is complete" in html
    assert "Dossier received" in html  # the timeline
    assert "don.pdf" in html


def test_code_is_matched_whatever_its_case_and_spaces(client, online):
    response = client.post(
        reverse(LOOKUP),
        {"code": f"  {online.code.lower()} ", "pin": f" {online.pin[:4]} {online.pin[4:]} "},
    )
    assert response.status_code == 302


def test_wrong_code_and_wrong_pin_give_the_same_neutral_message(client, online):
    wrong_pin = open_dossier(client, online, pin="00000000" if online.pin != "00000000" else "1")
    wrong_code = client.post(reverse(LOOKUP), {"code": "H56.16-991231-9999", "pin": online.pin})
    for response in (wrong_pin, wrong_code):
        assert response.status_code == 400
        assert response.context["form"].errors == {
            "__all__": [
                "The dossier code or the PIN is not correct. Check both against your receipt."
            ]
        }

    # Nothing else on the page tells the two apart.
    def strip(response):
        html = response.content.decode().replace(online.code, "").replace("H56.16-991231-9999", "")
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)

    assert strip(wrong_pin) == strip(wrong_code)


def test_without_the_pin_the_dossier_page_sends_you_to_the_look_up(client, online):
    response = page(client, online)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse(LOOKUP)}?code={online.code}"
    prefilled = client.get(response["Location"]).content.decode()
    assert f'value="{online.code}"' in prefilled


@override_settings(PORTAL_LOOKUP_FREE_FAILURES=3, PORTAL_LOOKUP_BACKOFF_SECONDS=30)
def test_wrong_pins_make_the_address_wait_longer_each_time(client, online, register):
    import time_machine

    with time_machine.travel("2026-06-01 09:00 +0700", tick=False) as clock:
        for i in range(3):  # free: typos happen
            response = open_dossier(client, online, pin=f"1234567{i}")
            assert response.status_code == 400
            assert len(response.context["form"].errors["__all__"]) == 1
        fourth = open_dossier(client, online, pin="12345673")
        assert fourth.status_code == 400
        assert (
            "Too many failed attempts. Try again in 30 seconds"
            in (fourth.context["form"].errors["__all__"][1])
        )
        clock.shift(10)
        blocked = open_dossier(client, online)  # even the right PIN now waits, 20 s more
        assert blocked.status_code == 429
        assert blocked["Retry-After"] == "20"
        (message,) = blocked.context["form"].errors["__all__"]
        assert message == (
            "Too many failed attempts. Try again in 20 seconds, or ask the one-stop desk."
        )
        assert page(client, online).status_code == 302
        # Another dossier from the same address waits too; another address does not.
        other = register(channel=Channel.ONLINE)
        assert open_dossier(client, other).status_code == 429
        assert open_dossier(Client(REMOTE_ADDR="10.1.1.1"), online).status_code == 302
        # After the wait, the next wrong PIN doubles it: 60 s, then 120 s.
        clock.shift(21)
        assert open_dossier(client, online, pin="00000001").status_code == 400
        assert open_dossier(client, online)["Retry-After"] == "60"
        clock.shift(61)
        open_dossier(client, online, pin="00000002")
        assert open_dossier(client, online)["Retry-After"] == "120"
        clock.shift(121)
        assert open_dossier(client, online).status_code == 302


@override_settings(PORTAL_LOOKUP_BACKOFF_MAX_SECONDS=3600)
def test_a_guesser_on_one_address_gets_a_handful_of_guesses_a_day(online):
    import time_machine

    guesser = Client(REMOTE_ADDR="198.51.100.66")
    tries = 0
    with time_machine.travel("2026-06-01 09:00 +0700", tick=False) as clock:
        for _ in range(24 * 60):  # one attempt a minute for a day
            response = open_dossier(guesser, online, pin="99999999")
            tries += response.status_code == 400
            clock.shift(60)
    assert tries < 40  # 3 free, then waits of 30 s doubling up to one hour


def test_strangers_guessing_a_code_do_not_lock_its_owner_out(online):
    # Codes are sequential, so anyone can name one: 30 wrong PINs from ten addresses.
    for i in range(10):
        guesser = Client(REMOTE_ADDR=f"203.0.113.{i}")
        for j in range(3):
            assert open_dossier(guesser, online, pin=f"5555555{j}").status_code == 400
    owner = Client(REMOTE_ADDR="192.0.2.10")
    assert open_dossier(owner, online).status_code == 302


@override_settings(PORTAL_LOOKUP_MAX_FAILURES_PER_CODE=5, PORTAL_LOOKUP_WINDOW_MINUTES=60)
def test_many_addresses_guessing_one_code_are_stopped_by_the_code_limit(online):
    import time_machine

    with time_machine.travel("2026-06-01 09:40 +0700", tick=False):
        for i in range(5):
            guesser = Client(REMOTE_ADDR=f"10.0.0.{i}")
            assert open_dossier(guesser, online, pin=f"9999999{i}").status_code == 400
        blocked = open_dossier(Client(REMOTE_ADDR="10.0.0.200"), online)
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == "1200"  # the true wait: the window ends at 10:00
    assert "Try again in 20 minutes" in blocked.context["form"].errors["__all__"][0]


@override_settings(PORTAL_LOOKUP_FREE_FAILURES=3)
def test_opening_your_own_dossier_does_not_wipe_the_back_off(client, online, register):
    mine = register(channel=Channel.ONLINE)
    for i in range(4):
        open_dossier(client, online, pin=f"1111111{i}")
    assert open_dossier(client, mine).status_code == 429


def test_supplement_request_is_shown_and_answered_through_the_look_up(
    client, online, staff, django_capture_on_commit_callbacks
):
    svc.dossier_request_supplement(
        dossier=online,
        actor=staff["intake"],
        reason="Thiếu bản sao giấy chứng nhận đăng ký kinh doanh.",
        now=at(2026, 6, 1, 10, 0),
    )
    open_dossier(client, online)
    html = page(client, online).content.decode()
    assert "Supplement requested" in html
    assert "Thiếu bản sao giấy chứng nhận đăng ký kinh doanh." in html
    assert 'action="' + reverse("procedures:lookup-supplement", args=[online.code]) in html

    url = reverse("procedures:lookup-supplement", args=[online.code])
    refused = client.post(url, {"files": [upload("scan.pdf", JPEG)]})
    assert refused.status_code == 400
    assert "is named as a .pdf file but its content is JPEG" in refused.content.decode()

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            url,
            {"files": [upload("gcn-dkkd.pdf"), upload("trang-2.jpg", JPEG)], "note": "Gửi bổ sung"},
        )
    assert response.status_code == 302
    online.refresh_from_db()
    assert online.status == S.SUBMITTED  # at intake: checked again, no clock yet
    event = online.events.get(action="receive_supplement")
    assert event.by_applicant and event.note == "Gửi bổ sung"
    assert sorted(d.original_name for d in event.attachments.all()) == [
        "gcn-dkkd.pdf",
        "trang-2.jpg",
    ]
    after = page(client, online).content.decode()
    assert "Your additional papers were received" in after
    assert 'action="' + url not in after


def test_supplement_without_files_is_refused(client, online, staff):
    svc.dossier_request_supplement(
        dossier=online, actor=staff["intake"], reason="Thiếu đơn.", now=at(2026, 6, 1, 10, 0)
    )
    open_dossier(client, online)
    response = client.post(reverse("procedures:lookup-supplement", args=[online.code]), {})
    assert response.status_code == 400
    assert response.context["supplement_form"].errors == {"files": ["Attach at least one file."]}


@override_settings(PORTAL_UPLOAD_MAX_FILES=2)
def test_supplement_counts_the_files_already_in_the_dossier(client, online, staff):
    svc.dossier_request_supplement(
        dossier=online, actor=staff["intake"], reason="Thiếu.", now=at(2026, 6, 1, 10, 0)
    )
    open_dossier(client, online)
    response = client.post(
        reverse("procedures:lookup-supplement", args=[online.code]),
        {"files": [upload("a.pdf"), upload("b.pdf")]},
    )
    assert response.context["supplement_form"].errors == {
        "files": ["A dossier may hold at most 2 files; this would make 3."]
    }


def test_payment_request_and_apology_and_result_are_shown(client, online_assigned, staff):
    d = online_assigned()
    pin = d.pin
    d = svc.dossier_request_payment(
        dossier=d,
        actor=staff["specialist"],
        note="Nộp lệ phí 1.200.000 đồng tại quầy số 3.",
        now=at(2026, 6, 1, 11, 0),
    )
    open_dossier(client, d, pin=pin)
    html = page(client, d).content.decode()
    assert "Waiting for your payment" in html
    assert "Nộp lệ phí 1.200.000 đồng tại quầy số 3." in html

    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 14, 0))
    d = svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        reason="Cần xác minh thực địa.",
        new_due_at=at(2026, 6, 8, 16, 0),
        now=at(2026, 6, 2, 9, 0),
    )
    html = page(client, d).content.decode()
    assert "Apology and new appointment" in html and "Cần xác minh thực địa." in html
    assert "16:00" in html and "08/06/2026" in html

    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Cấp Giấy phép số 12/GP-SCT.",
        now=at(2026, 6, 5, 9, 0),
        documents=[
            UploadedDocument(
                slot_id=None, name="giay-phep.pdf", content=PDF, content_type="application/pdf"
            )
        ],
    )
    html = page(client, d).content.decode()
    assert "The result is ready." in html
    assert "Granted" in html and "Cấp Giấy phép số 12/GP-SCT." in html
    result = d.documents.get(is_result=True)
    url = reverse("procedures:lookup-document", args=[d.code, result.pk])
    assert url in html
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith('attachment; filename="giay-phep.pdf"')


def test_internal_notes_stay_internal(client, register, staff, units):
    d = register(channel=Channel.ONLINE)
    svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        note="Hồ sơ này cần ưu tiên nội bộ",
        now=at(2026, 6, 1, 10, 5),
    )
    open_dossier(client, d)
    html = page(client, d).content.decode()
    assert "Sent to the processing unit" in html
    assert "Hồ sơ này cần ưu tiên nội bộ" not in html


# ------------------------------------------------------------------ no file without permission


def test_files_are_only_reachable_by_the_session_that_proved_the_pin(client, online, register):
    doc = online.documents.get()
    url = reverse("procedures:lookup-document", args=[online.code, doc.pk])
    assert Client().get(url).status_code == 404  # anonymous
    other = register(channel=Channel.ONLINE)
    intruder = Client()
    open_dossier(intruder, other)  # knows another dossier's PIN
    assert intruder.get(url).status_code == 404
    assert (
        intruder.get(reverse("procedures:lookup-document", args=[other.code, doc.pk])).status_code
        == 404
    )
    open_dossier(client, online)
    served = client.get(url)
    assert served.status_code == 200
    assert b"".join(served.streaming_content if served.streaming else [served.content]) == PDF


def test_staff_working_files_are_not_offered_to_the_applicant(client, online, staff):
    internal = DossierDocument(
        dossier=online,
        token="t",
        original_name="to-trinh-noi-bo.pdf",
        size=len(PDF),
        content_type="application/pdf",
        sha256="0" * 64,
        uploaded_by=staff["specialist"],
        by_applicant=False,
    )
    internal.file.save("x", ContentFile(PDF))
    open_dossier(client, online)
    assert "to-trinh-noi-bo.pdf" not in page(client, online).content.decode()
    url = reverse("procedures:lookup-document", args=[online.code, internal.pk])
    assert client.get(url).status_code == 404


def test_closing_the_dossier_revokes_the_session(client, online):
    open_dossier(client, online)
    opened = page(client, online)
    assert opened.status_code == 200 and online.code in opened.content.decode()
    response = client.post(reverse("procedures:lookup-close", args=[online.code]))
    assert response.status_code == 302
    assert page(client, online).status_code == 302


def test_a_correct_look_up_rotates_the_session_key(client, online):
    client.get(reverse(LOOKUP))
    client.session.save()
    before = client.session.session_key
    open_dossier(client, online)
    assert client.session.session_key != before


def test_look_up_page_queries_are_pinned(client, online, django_assert_max_num_queries):
    open_dossier(client, online)
    with django_assert_max_num_queries(8):
        # session, dossier+procedure+field, rating, events, files, result files, session save
        opened = page(client, online)
    assert opened.status_code == 200
    assert online.code in opened.content.decode() and "don.pdf" in opened.content.decode()


def test_supplement_files_keep_the_document_they_answer(client, register, procedure, staff, units):
    """Before: every supplement file landed in "other papers", as its version 2."""
    from tests.factories import RequiredDocumentFactory

    licence = RequiredDocumentFactory(procedure=procedure, name="Giấy chứng nhận ĐKKD", order=1)
    plan = RequiredDocumentFactory(procedure=procedure, name="Sơ đồ cửa hàng", order=2)
    d = register(
        channel=Channel.ONLINE,
        documents=[
            UploadedDocument(
                slot_id=licence.pk, name="gcn.pdf", content=PDF, content_type="application/pdf"
            ),
            UploadedDocument(
                slot_id=None, name="thu.pdf", content=PDF, content_type="application/pdf"
            ),
        ],
    )
    pin = d.pin
    svc.dossier_request_supplement(
        dossier=d,
        actor=staff["intake"],
        reason="Bản ĐKKD mờ; thiếu sơ đồ.",
        now=at(2026, 6, 1, 10, 0),
    )
    open_dossier(client, d, pin=pin)
    html = page(client, d).content.decode()
    assert f'name="doc_{licence.pk}"' in html and f'name="doc_{plan.pk}"' in html
    response = client.post(
        reverse("procedures:lookup-supplement", args=[d.code]),
        {
            f"doc_{licence.pk}": [upload("gcn-ro.pdf")],
            f"doc_{plan.pk}": [upload("so-do-1.pdf"), upload("so-do-2.jpg", JPEG)],
        },
    )
    assert response.status_code == 302
    rows = {
        doc.original_name: (doc.slot_id, doc.version)
        for doc in DossierDocument.objects.filter(dossier=d)
    }
    assert rows == {
        "gcn.pdf": (licence.pk, 1),
        "thu.pdf": (None, 1),
        "gcn-ro.pdf": (licence.pk, 2),  # the licence, sent again
        "so-do-1.pdf": (plan.pk, 1),  # two pages of one paper: one version
        "so-do-2.jpg": (plan.pk, 1),
    }


def test_timeline_shows_each_event_once(client, online, staff, units):
    """The unit head naming the specialist is internal: one "Sent to the processing unit"."""
    pin = online.pin
    d = svc.dossier_accept(dossier=online, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    d = svc.dossier_assign(
        dossier=d, actor=staff["intake"], unit=units["QLTM"], now=at(2026, 6, 1, 10, 5)
    )
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["unit_head"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 10, 6),
    )
    d = svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 2, 10, 0)
    )
    open_dossier(client, d, pin=pin)
    html = page(client, d).content.decode()
    timeline = re.search(r'<ol class="timeline">(.*?)</ol>', html, re.S).group(1)
    items = re.findall(r"<strong>(.*?)</strong>", timeline)
    assert items == [
        "Dossier received",
        "Accepted; processing time started",
        "Sent to the processing unit",
        "Result ready",
    ]


def test_receipt_downloaded_from_the_look_up_says_it_has_no_pin(client, online):
    """Only the PIN's keyed hash is stored: a later copy cannot print it, and says so."""
    import io

    import pypdf
    from django.utils import translation

    open_dossier(client, online)
    html = page(client, online).content.decode()
    assert "This copy of the receipt does not show the PIN" in html
    response = client.get(reverse("procedures:receipt-pdf", args=[online.code]))
    reader = pypdf.PdfReader(io.BytesIO(response.content))
    text = " ".join(" ".join(p.extract_text() for p in reader.pages).split())
    assert online.pin not in text
    with translation.override(online.applicant_language):  # slips speak the applicant's
        expected = translation.gettext(
            "This copy does not show the look-up PIN: it is given only once, on the "
            "receipt issued when the dossier was registered."
        )
    assert expected in text


def _orm_page(client, dossier, monkeypatch) -> str:
    """The page as the ORM's separate reads (dossier, rating, events) render it."""
    from django.db.models import Q

    from procedures.models import Dossier, Rating

    # The module (the package exports its view function `lookup` under the same name).
    views = importlib.import_module("procedures.portal.views.lookup")

    def orm_read(code):
        d = Dossier.objects.select_related("procedure").numbered(code).first()
        if d is None:
            return None, None, [], []
        files = (
            d.documents.filter(Q(by_applicant=True) | Q(is_result=True))
            .select_related("slot")
            .order_by("id")
        )
        return d, Rating.objects.filter(dossier=d).first(), list(d.events.all()), list(files)

    with monkeypatch.context() as patch:
        patch.setattr(views, "page_dossier", orm_read)
        # Rendered afresh, not taken from the page memo (its key would match).
        patch.setattr(views, "_pages", type(views._pages)())
        return _masked(page(client, dossier))


def _masked(response) -> str:
    assert response.status_code == 200
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


@pytest.mark.parametrize("language", ["en", "vi"])
def test_the_page_from_one_statement_equals_the_orm_reads_in_every_state(
    client, online_assigned, staff, monkeypatch, language
):
    """page_dossier (one statement: dossier, procedure name, rating, events) renders
    the same page as the ORM's reads did, while the dossier waits for payment, is
    resolved with a result file, returned, and rated (the rating form's cached fields
    too, until it is rated)."""
    from procedures.dossiers.ratings import rating_submit

    stack = contextlib.ExitStack()
    stack.enter_context(translation.override(language))  # the pages under /<language>/
    d = online_assigned()
    pin = d.pin
    open_dossier(client, d, pin=pin)
    seen = [_masked(page(client, d))]
    d = svc.dossier_request_payment(dossier=d, actor=staff["specialist"], note="Nộp lệ phí")
    seen.append(_masked(page(client, d)))
    assert seen[-1] == _orm_page(client, d, monkeypatch)
    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"])
    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Cấp Giấy phép số 12/GP-SCT.",
        documents=[
            UploadedDocument(
                slot_id=None, name="giay-phep.pdf", content=PDF, content_type="application/pdf"
            )
        ],
    )
    seen.append(_masked(page(client, d)))
    assert seen[-1] == _orm_page(client, d, monkeypatch)
    assert 'name="overall"' in seen[-1]  # the rating form, from its cached fields
    d = svc.dossier_return_result(dossier=d, actor=staff["intake"])
    seen.append(_masked(page(client, d)))
    assert seen[-1] == _orm_page(client, d, monkeypatch)
    rating_submit(dossier=d, overall="satisfied", timeliness=2)
    seen.append(_masked(page(client, d)))
    assert seen[-1] == _orm_page(client, d, monkeypatch)
    assert 'name="overall"' not in seen[-1]
    # Every change showed on the page at once.
    assert len(set(seen)) == len(seen)
    assert f'lang="{language}"' in seen[-1]
    stack.close()


def test_the_page_memo_serves_a_page_until_anything_on_it_changes(online_assigned, staff):
    """The look-up page's per-process memo is keyed by everything the request read: a
    repeat view is served from it (with this request's own CSRF token, which works),
    and a transition, a new event, a result file, a rating, a payment request or
    another language shows at once."""
    from procedures.dossiers.ratings import rating_submit

    views = importlib.import_module("procedures.portal.views.lookup")
    views._pages.clear()
    client = Client(enforce_csrf_checks=True)
    d = online_assigned()
    pin = d.pin
    form = client.get(reverse(LOOKUP))
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())
    client.post(
        reverse(LOOKUP), {"code": d.code, "pin": pin, "csrfmiddlewaretoken": token.group(1)}
    )
    first = _masked(page(client, d))
    size = len(views._pages)
    assert size == 1
    again = page(client, d)
    assert _masked(again) == first and len(views._pages) == size  # served from the memo
    # The memo's page carries this request's token, and it is accepted.
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', again.content.decode())
    assert views.CSRF_STAND_IN not in again.content.decode()
    seen = [first]

    def changed() -> str:
        html = _masked(page(client, d))
        assert html not in seen
        seen.append(html)
        return html

    d = svc.dossier_request_payment(dossier=d, actor=staff["specialist"], note="Nộp lệ phí")
    assert "Nộp lệ phí" in changed()
    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"])
    assert "Payment received" in changed()
    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Cấp Giấy phép số 12/GP-SCT.",
        documents=[
            UploadedDocument(
                slot_id=None, name="giay-phep.pdf", content=PDF, content_type="application/pdf"
            )
        ],
    )
    assert "giay-phep.pdf" in changed()
    svc.dossier_return_result(dossier=d, actor=staff["intake"])
    assert "Result handed over" in changed()
    rating_submit(dossier=d, overall="satisfied")
    assert "You rated the service" in changed()
    with translation.override("vi"):  # the page under /vi/
        html = _masked(page(client, d))
    assert 'lang="vi"' in html and html not in seen
    # A page with a message to show is rendered for it, never memoized.
    size = len(views._pages)
    response = client.post(
        reverse("procedures:lookup-close", args=[d.code]),
        {"csrfmiddlewaretoken": token.group(1)},
    )
    assert response.status_code == 302  # the memo page's token was accepted
    assert len(views._pages) == size
