"""Businesses send difficulties and recommendations between sessions, without an account."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dialogues.constants import RecommendationSource, RecommendationStatus
from dialogues.models import Recommendation
from tests.dialogues_factories import FieldFactory
from tests.files import minimal_pdf

pytestmark = pytest.mark.django_db

URL = "/doi-thoai/kien-nghi/"


def form_data(**extra):
    return {
        "business_name": "Công ty TNHH Xăng dầu Phú Bình",
        "tax_code": "4600123459",
        "email": "c@phubinh.vn",
        "content": "Đề nghị rút ngắn thời gian cấp giấy phép bán lẻ xăng dầu.",
        "is_public": "on",
        "website": "",
        **extra,
    }


def test_a_business_sends_a_recommendation_with_a_document(client):
    petrol = FieldFactory(name="Xăng dầu")
    pdf = SimpleUploadedFile("de-nghi.pdf", minimal_pdf(), content_type="application/pdf")
    response = client.post(URL, form_data(field=petrol.pk, attachment=pdf))
    assert response.status_code == 302
    assert response["Location"] == reverse("dialogues:recommendation-done")
    rec = Recommendation.objects.get()
    assert rec.source == RecommendationSource.BETWEEN_SESSIONS
    assert rec.session is None
    assert rec.status == RecommendationStatus.RECEIVED
    assert rec.business.tax_code == "4600123459"
    assert rec.field == petrol and rec.contact_email == "c@phubinh.vn" and rec.is_public
    assert rec.attachments.get().original_name == "de-nghi.pdf"
    assert rec.events.count() == 1


def test_errors_are_specific_and_keep_what_was_typed(client):
    response = client.post(URL, form_data(tax_code="12345", content=""))
    assert response.status_code == 400
    page = response.content.decode()
    assert "A tax code has 10 digits" in page or "10 digits" in page
    assert "This field is required." in page
    assert "Công ty TNHH Xăng dầu Phú Bình" in page  # kept
    assert 'aria-invalid="true"' in page
    assert not Recommendation.objects.exists()


def test_a_renamed_file_is_refused_by_its_content(client):
    fake = SimpleUploadedFile(
        "bao-cao.pdf", b"MZ\x90\x00 not a pdf", content_type="application/pdf"
    )
    response = client.post(URL, form_data(attachment=fake))
    assert response.status_code == 400
    assert not Recommendation.objects.exists()


def test_the_honeypot_saves_nothing_but_looks_like_success(client):
    response = client.post(URL, form_data(website="http://spam.example"))
    assert response.status_code == 302
    assert not Recommendation.objects.exists()


def test_submissions_are_rate_limited_per_address(client, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dialogue-recommendation": {"attempts": "10/h", "successes": "2/h"},
    }
    for _ in range(2):
        assert client.post(URL, form_data()).status_code == 302
    response = client.post(URL, form_data())
    assert response.status_code == 429
    assert Recommendation.objects.count() == 2


def test_the_page_is_linked_from_the_dialogue_pages(client):
    page = client.get("/doi-thoai/").content.decode()
    assert URL in page
    assert client.get(URL).status_code == 200
