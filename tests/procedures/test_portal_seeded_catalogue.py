"""The portal right after `make run`'s seed, with no manual set-up (issue 15).

Every procedure that takes online dossiers shows its documents, or says the list is not
published and offers one generic file slot; the home page counts exactly the pages that
have a submit button; no page names another province, the old "mức độ" scale or "None".
"""

import re

import pytest
from django.core.management import call_command
from django.urls import reverse

from procedures.models import Procedure

from .test_portal_submission import _english  # noqa: F401

pytestmark = pytest.mark.django_db

OTHER_PROVINCES = (
    "Cao Bằng",
    "Nghệ An",
    "Đà Nẵng",
    "Bến Tre",
    "Ninh Bình",
    "Lâm Đồng",
    "Đắk Nông",
    "Thanh Hóa",
    "Tiền Giang",
    "An Giang",
    "BR-VT",
)


@pytest.fixture
def seeded(db):
    call_command("seed_catalogue", stdout=None)
    call_command("seed_demo_accounts", stdout=None)


def main_text(html: str) -> str:
    main = html[html.index("<main") : html.index("</main>")]
    # The cited source pages are addresses, kept as evidence of where a list was read.
    main = re.sub(r'<p class="help document-source">.*?</p>', "", main, flags=re.S)
    return main


def test_every_online_procedure_shows_its_documents_or_the_generic_slot(client, seeded):
    online = list(Procedure.objects.accepting_online().prefetch_related("documents"))
    assert online
    with_list = 0
    for procedure in online:
        detail = client.get(reverse("procedures:procedure-detail", args=[procedure.pk]))
        form = client.get(reverse("procedures:submit", args=[procedure.pk]))
        assert detail.status_code == form.status_code == 200, procedure.name
        page, form_html = detail.content.decode(), form.content.decode()
        documents = list(procedure.documents.all())
        if documents:
            with_list += 1
            for doc in documents:
                assert doc.name in page, (procedure.name, doc.name)
                assert f'name="doc_{doc.pk}"' in form_html, (procedure.name, doc.name)
            assert form_html.count('type="file"') == len(documents)
            assert 'id="documents-not-published"' not in page
            assert procedure.documents_source
        else:
            assert 'id="documents-not-published"' in page, procedure.name
            assert 'name="doc_dossier"' in form_html
            assert form_html.count('type="file"') == 1
    # The bundled list of documents is in the repository: some lists must be there.
    assert with_list > 0


def test_the_home_count_matches_the_submit_buttons_and_pages_read_as_one_department(client, seeded):
    counts = client.get(reverse("procedures:home")).context["counts"]
    buttons = 0
    for procedure in Procedure.objects.all():
        html = client.get(
            reverse("procedures:procedure-detail", args=[procedure.pk])
        ).content.decode()
        buttons += reverse("procedures:submit", args=[procedure.pk]) in html
        text = main_text(html)
        for province in OTHER_PROVINCES:
            assert province not in text, (procedure.name, province)
        assert "Mức độ" not in text and "mức độ" not in text, procedure.name
        assert "None" not in text, procedure.name
    assert counts["online"] == buttons == Procedure.objects.accepting_online().count()
    listed = client.get(reverse("procedures:procedure-list")).context["page"].paginator.count
    assert counts["total"] == listed == Procedure.objects.departmental().count()
    assert not Procedure.objects.accepting_online().filter(level="district").exists()
