"""Public pages and the staff workspace, through the test client."""

import re

import pytest
import time_machine
from django.core import mail
from django.test import Client
from django.urls import reverse

from dialogues import services
from dialogues.constants import AnswerKind, AnswerState, RecommendationStatus
from dialogues.models import Recommendation, Registration
from tests.dialogues_factories import (
    FieldFactory,
    RecommendationFactory,
    SessionFactory,
    UnitFactory,
    local,
    register_business,
)
from tests.files import minimal_pdf

pytestmark = pytest.mark.django_db
NOW = local(2026, 2, 25, 9, 0)


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def session(db):
    return SessionFactory(title="Đối thoại xăng dầu 2026", capacity=2)


def form_data(**overrides):
    data = {
        "business_name": "Công ty TNHH Xăng dầu Phú Bình",
        "tax_code": "4600 123 459",
        "representative": "Lê Văn C",
        "position": "Giám đốc",
        "email": "c@phubinh.vn",
        "phone": "0912 000 111",
        "attendees": "1",
        "questions": "Đề nghị hướng dẫn thủ tục cấp giấy phép bán lẻ xăng dầu.",
        "website": "",
    }
    data.update(overrides)
    return data


class TestPublicPages:
    def test_list_shows_upcoming_and_past(self, session, client):
        SessionFactory(title="Hội nghị 2025", starts_at=local(2025, 10, 1, 8), status="concluded")
        SessionFactory(title="Nội bộ", is_published=False)
        html = client.get(reverse("dialogues:session-list")).content.decode()
        upcoming, past = html.split("Past sessions")
        assert "Đối thoại xăng dầu 2026" in upcoming
        assert "Hội nghị 2025" in past
        assert "Nội bộ" not in html

    def test_unpublished_session_is_a_404(self, client):
        hidden = SessionFactory(is_published=False)
        assert client.get(reverse("dialogues:session-detail", args=[hidden.pk])).status_code == 404

    def test_year_plan_counts_against_the_minimum(self, session, client):
        response = client.get(reverse("dialogues:session-plan", args=[2026]))
        html = response.content.decode()
        assert "Sessions planned: 1 (at least 2 a year are required)." in html
        assert "Below the yearly minimum" in html
        SessionFactory(starts_at=local(2026, 9, 8, 8))
        html = client.get(reverse("dialogues:session-plan", args=[2026])).content.decode()
        assert "Sessions planned: 2" in html and "Below the yearly minimum" not in html


class TestRegistrationForm:
    def test_form_is_accessible(self, session, client):
        html = client.get(
            reverse("dialogues:registration-create", args=[session.pk])
        ).content.decode()
        assert '<label for="id_tax_code">' in html
        assert 'aria-describedby="id_tax_code_help"' in html
        assert 'id="id_tax_code_help"' in html
        assert 'class="hp-field" aria-hidden="true"' in html
        assert "csrfmiddlewaretoken" in html

    def test_register_with_a_question(self, session, client, django_capture_on_commit_callbacks):
        FieldFactory(name="Xăng dầu")
        url = reverse("dialogues:registration-create", args=[session.pk])
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url, form_data())
        assert response.status_code == 302
        registration = Registration.objects.get()
        assert registration.tax_code == "4600123459"
        assert registration.status == "confirmed"
        assert Recommendation.objects.get().content.startswith("Đề nghị hướng dẫn")
        assert mail.outbox[0].to == ["c@phubinh.vn"]
        link = re.search(r"https://\S+/dang-ky/\S+/", mail.outbox[0].body).group(0)
        page = client.get(link.replace("https://motcua.example.gov.vn", ""))
        assert page.status_code == 200
        assert "Công ty TNHH Xăng dầu Phú Bình" in page.content.decode()

    def test_done_page_says_confirmed_or_waiting(self, session, client):
        session.capacity = 2
        session.save(update_fields=["capacity"])
        url = reverse("dialogues:registration-create", args=[session.pk])
        response = client.post(url, form_data(attendees="2"), follow=True)
        html = response.content.decode()
        assert "Công ty TNHH Xăng dầu Phú Bình is confirmed: 2 seats are reserved" in html
        other = Client()
        response = other.post(url, form_data(tax_code="4600654322", attendees="1"), follow=True)
        html = response.content.decode()
        assert "is on the waiting list, in position 1." in html
        # A bot caught by the honeypot gets the neutral page, nothing about seats.
        response = Client().post(url, form_data(website="http://spam.example"), follow=True)
        assert "position" not in response.content.decode()
        assert "Thank you." in response.content.decode()

    def test_private_page_posts_with_its_own_origin(self, session, client):
        """The token never leaves in a Referer to other sites, but the page's own forms
        keep their Origin: `no-referrer` made Chromium post `Origin: null` (403)."""
        registration, token = register_business(session, 1, now=None)
        url = reverse("dialogues:registration-manage", args=[registration.public_id, token])
        strict = Client(enforce_csrf_checks=True)
        page = strict.get(url)
        assert page["Referrer-Policy"] == "same-origin"
        csrf = re.search(
            r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()
        ).group(1)
        # What the old header made the browser send: refused, as it should be.
        refused = strict.post(url, {"csrfmiddlewaretoken": csrf}, HTTP_ORIGIN="null")
        assert refused.status_code == 403
        response = strict.post(url, {"csrfmiddlewaretoken": csrf}, HTTP_ORIGIN="http://testserver")
        assert response.status_code == 302
        registration.refresh_from_db()
        assert registration.status == "cancelled"

    def test_errors_are_tied_to_their_field(self, session, client):
        url = reverse("dialogues:registration-create", args=[session.pk])
        response = client.post(url, form_data(tax_code="12345"))
        html = response.content.decode()
        assert response.status_code == 200
        assert 'id="id_tax_code_errors"' in html
        assert re.search(r'aria-describedby="id_tax_code_help id_tax_code_errors"', html)
        assert 'aria-invalid="true"' in html
        assert "A tax code has 10 digits" in html
        assert not Registration.objects.exists()

    def test_domain_error_shows_on_the_field(self, session, client):
        url = reverse("dialogues:registration-create", args=[session.pk])
        client.post(url, form_data())
        response = client.post(url, form_data(email="other@phubinh.vn"))
        assert "already registered for this session" in response.content.decode()
        assert Registration.objects.count() == 1

    def test_honeypot_swallows_bots(self, session, client):
        url = reverse("dialogues:registration-create", args=[session.pk])
        response = client.post(url, form_data(website="http://spam.example"))
        assert response.status_code == 302
        assert not Registration.objects.exists()

    def test_attachment_is_checked_by_content(self, session, client):
        from django.core.files.uploadedfile import SimpleUploadedFile

        url = reverse("dialogues:registration-create", args=[session.pk])
        fake = SimpleUploadedFile("giay-phep.pdf", b"MZ\x90\x00 not a pdf")
        response = client.post(url, {**form_data(), "attachment": fake})
        assert (
            "“giay-phep.pdf” is not a PDF, DOCX, XLSX, PNG, JPEG file" in response.content.decode()
        )
        pdf = SimpleUploadedFile("giay-phep.pdf", minimal_pdf())
        response = client.post(url, {**form_data(), "attachment": pdf})
        assert response.status_code == 302
        assert Recommendation.objects.get().attachments.get().original_name == "giay-phep.pdf"

    def test_closed_session_shows_a_notice(self, client):
        closed = SessionFactory(status="registration_closed")
        response = client.get(reverse("dialogues:registration-create", args=[closed.pk]))
        assert "Registration for this session is not open." in response.content.decode()
        assert (
            client.post(
                reverse("dialogues:registration-create", args=[closed.pk]), form_data()
            ).status_code
            == 200
        )
        assert not Registration.objects.exists()


class TestPublicAnswers:
    def test_only_approved_public_answers_are_listed_and_searchable(self, staff, approver, client):
        petrol, power = FieldFactory(name="Xăng dầu"), FieldFactory(name="Điện")
        published = RecommendationFactory(field=petrol, content="Giấy phép bán lẻ xăng dầu")
        pending = RecommendationFactory(field=power, content="Giá điện sản xuất")
        for r, approve in ((published, True), (pending, False)):
            services.recommendation_answer_draft(
                recommendation_id=r.pk, text=f"Trả lời {r.pk}", kind=AnswerKind.IN_WRITING, by=staff
            )
            if approve:
                services.recommendation_answer_approve(recommendation_id=r.pk, by=approver)
        url = reverse("dialogues:answer-list")
        html = client.get(url).content.decode()
        assert "Giấy phép bán lẻ xăng dầu" in html
        assert "Giá điện sản xuất" not in html
        assert "Giấy phép" in client.get(url, {"q": "bán lẻ"}).content.decode()
        assert "0 answers found." in client.get(url, {"field": power.pk}).content.decode()


class TestStaffWorkspace:
    def test_anonymous_is_sent_to_login(self, client):
        response = client.get(reverse("dialogues:staff-recommendations"))
        assert response.status_code == 302 and "login" in response["Location"]

    def test_assign_answer_approve(self, staff, approver, client):
        unit = UnitFactory(code="QLTM", name="Phòng Quản lý thương mại")
        r = RecommendationFactory()
        url = reverse("dialogues:staff-recommendation", args=[r.pk])
        client.force_login(staff)
        assert client.post(url, {"action": "assign", "unit": unit.pk}).status_code == 302
        client.post(
            url,
            {
                "action": "answer",
                "answer_text": "Đã giải quyết.",
                "answer_kind": "in_writing",
                "document_number": "12/SCT",
                "submit_for_approval": "on",
            },
        )
        r.refresh_from_db()
        assert (r.status, r.answer_state) == (
            RecommendationStatus.ASSIGNED,
            AnswerState.PENDING_APPROVAL,
        )
        # The specialist sees no approval form, and a forged POST is refused.
        assert "Approve the answer" not in client.get(url).content.decode()
        client.post(url, {"action": "approve"})
        r.refresh_from_db()
        assert r.answer_state == AnswerState.PENDING_APPROVAL
        client.force_login(approver)
        assert "Approve the answer" in client.get(url).content.decode()
        client.post(url, {"action": "approve"})
        r.refresh_from_db()
        assert r.status == RecommendationStatus.ANSWERED_IN_WRITING
        assert r.published_at is not None

    def test_bulk_assign_from_the_list(self, staff, client):
        unit = UnitFactory(code="QLNL")
        a, b, _c = RecommendationFactory(), RecommendationFactory(), RecommendationFactory()
        client.force_login(staff)
        response = client.post(
            reverse("dialogues:staff-bulk-assign"), {"ids": [a.pk, b.pk], "unit": unit.pk}
        )
        assert response.status_code == 302
        assert set(Recommendation.objects.filter(unit=unit).values_list("pk", flat=True)) == {
            a.pk,
            b.pk,
        }

    def test_report_page_and_xlsx(self, staff, client):
        session = SessionFactory()
        RecommendationFactory(session=session)
        client.force_login(staff)
        url = reverse("dialogues:staff-report")
        html = client.get(url, {"session": session.pk}).content.decode()
        assert "Follow-up of recommendations" in html and "Total" in html
        response = client.get(url, {"session": session.pk, "format": "xlsx"})
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        html = client.get(url, {"start": "2026-03-01"}).content.decode()
        assert "Choose a session, or a period with both dates." in html


class TestAdmin:
    def test_admin_pages_load(self, admin_client):
        recommendation = RecommendationFactory()
        pages = [
            (reverse("admin:dialogues_dialoguesession_changelist"), recommendation.session.title),
            (reverse("admin:dialogues_registration_changelist"), "0 registrations"),
            (reverse("admin:dialogues_recommendation_changelist"), recommendation.content[:30]),
            (reverse("admin:dialogues_business_changelist"), "Select business to change"),
            (reverse("admin:dialogues_recommendation_add"), "Add recommendation"),
            (reverse("admin:dialogues_dialoguesession_add"), "Add dialogue session"),
        ]
        for page, text in pages:
            response = admin_client.get(page)
            assert response.status_code == 200, page
            assert text in response.content.decode(), (page, text)

    def test_admin_adds_a_recommendation_raised_at_the_session(self, admin_client):
        session = SessionFactory()
        response = admin_client.post(
            reverse("admin:dialogues_recommendation_add"),
            {
                "business_name": "Công ty CP Hóa chất",
                "tax_code": "4600555667",
                "session": session.pk,
                "source": "at_session",
                "content": "Kiến nghị về hóa chất",
                "contact_email": "",
                "is_public": "on",
                "received_at_0": "03/03/2026",
                "received_at_1": "09:30:00",
                "attachments-TOTAL_FORMS": "0",
                "attachments-INITIAL_FORMS": "0",
                "events-TOTAL_FORMS": "0",
                "events-INITIAL_FORMS": "0",
            },
        )
        assert response.status_code == 302, response.content.decode()[:3000]
        r = Recommendation.objects.get()
        assert r.business.name == "Công ty CP Hóa chất"
        assert r.events.count() == 1
