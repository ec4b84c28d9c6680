"""Files of the dialogues (hardening issue, items 3 and 12).

Attachments of businesses pass the portal's checks, are stored under random names and
reach staff through a permission-checked download; published session documents are
served by a view (MEDIA is never served, so their old links gave 404).
"""

from pathlib import Path

import pytest
import time_machine
from django.apps import apps
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from dialogues.models import Recommendation, RecommendationAttachment, SessionDocument
from tests.dialogues_factories import (
    STAFF_PERMS,
    FieldFactory,
    RecommendationFactory,
    SessionFactory,
    UserFactory,
    local,
)
from tests.files import docx_zip_bomb, minimal_pdf, zip_of

pytestmark = pytest.mark.django_db

URL = "/doi-thoai/kien-nghi/"
PDF = minimal_pdf()


def form_data(**extra):
    return {
        "business_name": "Công ty TNHH Xăng dầu Phú Bình",
        "tax_code": "4600123466",
        "email": "c@phubinh.vn",
        "content": "Đề nghị rút ngắn thời gian cấp giấy phép bán lẻ xăng dầu.",
        "field": FieldFactory(name="Xăng dầu").pk,
        "is_public": "on",
        "website": "",
        **extra,
    }


def _zip_with_exe() -> bytes:
    return zip_of({"hoa-don.exe": b"MZ\x90\x00" + b"\x00" * 200})


# ------------------------------------------------------------------ item 3: the checks


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("ho-so.zip", _zip_with_exe(), "“ho-so.zip” is not a PDF, DOCX, XLSX, PNG, JPEG file"),
        ("ho-so.docx", _zip_with_exe(), "“ho-so.docx” is not a PDF, DOCX, XLSX, PNG, JPEG file"),
        (
            "evil.html",
            b"<html><script>alert(document.cookie)</script></html>",
            "“evil.html” is not a PDF, DOCX, XLSX, PNG, JPEG file",
        ),
        ("evil.html", PDF, "“evil.html” is named as a .html file but its content is PDF"),
    ],
)
def test_hostile_attachments_are_refused_and_nothing_is_saved(client, name, content, message):
    response = client.post(URL, form_data(attachment=SimpleUploadedFile(name, content)))
    assert response.status_code == 400
    assert message in response.content.decode()
    assert not Recommendation.objects.exists()
    assert not RecommendationAttachment.objects.exists()


def test_a_zip_bomb_in_a_registration_is_refused(client):
    session = SessionFactory()  # registration open until 1 March 2026
    url = reverse("dialogues:registration-create", args=[session.pk])
    with time_machine.travel(local(2026, 2, 20, 9), tick=False):
        response = client.post(
            url,
            {
                "business_name": "Công ty B",
                "tax_code": "4600123473",
                "representative": "Lê Văn C",
                "email": "c@b.vn",
                "phone": "0912345678",
                "attendees": 1,
                "questions": "Thủ tục cấp phép?",
                "website": "",
                "attachment": SimpleUploadedFile(
                    "bao-cao.docx", docx_zip_bomb(member_size=200 << 20)
                ),
            },
        )
    (error,) = response.context["form"].errors["attachment"]
    assert "“bao-cao.docx” would expand to more than 100 MB when opened" in error
    assert not Recommendation.objects.exists()


def test_attachments_are_stored_under_random_names(client, settings):
    upload = SimpleUploadedFile("../../evil.pdf", PDF, content_type="text/html")
    assert client.post(URL, form_data(attachment=upload)).status_code == 302
    attachment = RecommendationAttachment.objects.get()
    assert attachment.original_name == "evil.pdf"  # for display only
    assert (attachment.content_type, attachment.size) == ("application/pdf", len(PDF))
    path = Path(attachment.file.path).resolve()
    assert path.is_relative_to(Path(settings.MEDIA_ROOT).resolve() / "dialogues")
    assert "evil" not in attachment.file.name and "." not in path.name
    assert path.read_bytes() == PDF


def test_files_stored_under_their_own_names_are_moved_by_the_migration():
    from importlib import import_module

    migration = import_module("dialogues.migrations.0004_i11a_attachment_private")
    recommendation = RecommendationFactory()
    old = default_storage.save("dialogues/recommendations/2026/evil.html", ContentFile(PDF))
    attachment = RecommendationAttachment.objects.create(
        recommendation=recommendation, file=old, original_name="evil.html"
    )
    migration.rename_stored_files(apps, None)
    attachment.refresh_from_db()
    assert "evil" not in attachment.file.name
    assert attachment.file.name.startswith(f"dialogues/recommendations/{recommendation.pk}/")
    assert attachment.size == len(PDF)
    assert not default_storage.exists(old)
    with attachment.file.open("rb") as fh:
        assert fh.read() == PDF


# ------------------------------------------------------------------ item 3: the download


@pytest.fixture
def attachment(client):
    client.post(URL, form_data(attachment=SimpleUploadedFile("de-nghi.pdf", PDF)))
    return RecommendationAttachment.objects.get()


def test_staff_download_attachments_through_a_checked_link(client, attachment, staff):
    url = reverse("dialogues:staff-attachment", args=[attachment.recommendation_id, attachment.pk])
    assert client.get(url).status_code == 302  # to the log-in page
    client.force_login(UserFactory(username="khach", perms=[]))
    assert client.get(url).status_code == 403
    client.force_login(staff)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="de-nghi.pdf"'
    assert response["Content-Type"] == "application/pdf"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF
    other = RecommendationFactory()
    assert (
        client.get(
            reverse("dialogues:staff-attachment", args=[other.pk, attachment.pk])
        ).status_code
        == 404
    )


def test_staff_pages_link_to_the_download_never_to_media(client, attachment):
    admin = UserFactory(username="quantri", perms=STAFF_PERMS, is_superuser=True)
    client.force_login(admin)
    url = reverse("dialogues:staff-attachment", args=[attachment.recommendation_id, attachment.pk])
    for page in (
        reverse("dialogues:staff-recommendation", args=[attachment.recommendation_id]),
        reverse("admin:dialogues_recommendation_change", args=[attachment.recommendation_id]),
    ):
        html = client.get(page).content.decode()
        assert f'href="{url}"' in html
        assert attachment.file.name not in html


# ------------------------------------------------------------------ item 12: session documents


@pytest.fixture
def documents():
    session = SessionFactory(status="concluded")
    public = SessionDocument(session=session, title="Biên bản hội nghị", is_public=True)
    public.file.save("bien-ban.pdf", ContentFile(PDF), save=True)
    internal = SessionDocument(session=session, title="Dự thảo nội bộ", is_public=False)
    internal.file.save("du-thao.pdf", ContentFile(PDF), save=True)
    return session, public, internal


def test_published_session_documents_are_served_by_a_view(client, documents):
    session, public, internal = documents
    page = client.get(reverse("dialogues:session-detail", args=[session.pk])).content.decode()
    url = reverse("dialogues:session-document", args=[session.pk, public.pk])
    assert f'href="{url}"' in page
    assert "Dự thảo nội bộ" not in page and "/media/" not in page
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="bien-ban')
    assert response["X-Content-Type-Options"] == "nosniff"
    assert b"".join(response.streaming_content) == PDF


def test_unpublished_documents_and_sessions_are_not_served(client, documents):
    session, public, internal = documents
    assert (
        client.get(
            reverse("dialogues:session-document", args=[session.pk, internal.pk])
        ).status_code
        == 404
    )
    assert (
        client.get(
            reverse("dialogues:session-document", args=[session.pk + 1, public.pk])
        ).status_code
        == 404
    )
    session.is_published = False
    session.save(update_fields=["is_published"])
    assert (
        client.get(reverse("dialogues:session-document", args=[session.pk, public.pk])).status_code
        == 404
    )


def test_the_admin_checks_session_documents_like_the_portal(client):
    from dialogues.admin import SessionDocumentForm

    form = SessionDocumentForm(
        data={"title": "Biên bản", "is_public": "on"},
        files={"file": SimpleUploadedFile("bien-ban.pdf", b"<html><script>x</script>")},
    )
    assert not form.is_valid()
    assert "is not a PDF, DOCX, XLSX, PNG, JPEG file" in form.errors["file"][0]
    ok = SessionDocumentForm(
        data={"title": "Biên bản", "is_public": "on"},
        files={"file": SimpleUploadedFile("bien-ban.pdf", PDF)},
    )
    assert ok.is_valid(), ok.errors
