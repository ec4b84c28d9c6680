"""One search rule for dossiers (`dossier_search_filter`): the admin list and the staff
API find the same dossiers for the same words."""

import re

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from procedures.core.constants import ApplicantType
from procedures.dossiers import services as svc
from procedures.dossiers.selectors import dossier_search_filter
from procedures.models import Dossier

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 2, 10, 0)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def three(register, staff):
    """An accepted individual, a submitted company, a submitted individual."""
    an = register(now=at(2026, 6, 1, 8, 0))
    an = svc.dossier_accept(dossier=an, actor=staff["intake"], now=at(2026, 6, 1, 8, 30))
    company = register(
        now=at(2026, 6, 1, 9, 0),
        applicant=svc.Applicant(
            type=ApplicantType.ORGANISATION,
            name="Công ty TNHH Gốm Sứ Hoàng Gia",
            id_number="4600123459-001",
            phone="0208 3856 789",
        ),
    )
    binh = register(
        now=at(2026, 6, 2, 9, 0),
        applicant=svc.Applicant(
            type=ApplicantType.INDIVIDUAL,
            name="Trần Thị Bình",
            id_number="019188000111",
            phone="0987654321",
        ),
    )
    return an, company, binh


def admin_codes(client, term) -> set[str]:
    response = client.get(reverse("admin:procedures_dossier_changelist"), {"q": term})
    assert response.status_code == 200
    # The code column of the result rows (the search box repeats the term).
    return set(re.findall(r'class="field-code"><a [^>]*>([^<]+)</a>', response.content.decode()))


def api_codes(api, term) -> set[str]:
    response = api.get("/api/v1/dossiers/", {"search": term})
    assert response.status_code == 200, response.json()
    return {row["code"] for row in response.json()["results"]}


def test_admin_and_api_find_the_same_dossiers(client, staff, three):
    an, company, binh = three
    client.force_login(staff["intake"])
    api = APIClient()
    api.force_login(staff["intake"])
    expected = {
        an.code: {an.code},  # the legal code
        an.code.lower(): {an.code},
        an.submission_ref: {an.code},  # still found by its submission reference
        company.code: {company.code},  # a submission reference before acceptance
        an.code[:-2]: {an.code},  # the start of a code
        "DK-H56.16-260601": {an.code, company.code},  # the start of a reference
        "260601": {an.code, company.code},  # the day, as printed in both numbers
        "-0002": {company.code},  # part of a number
        "001099012345": {an.code},  # citizen ID
        "4600123459-001": {company.code},  # tax code with branch
        "0987654321": {binh.code},  # phone
        "0208 3856 789": {company.code},  # phone as typed with spaces
        "hoàng gia": {company.code},  # part of the name
        "Trần Thị": {binh.code},
        "Không Có Ai": set(),
    }
    for term, codes in expected.items():
        assert admin_codes(client, term) == codes, term
        assert api_codes(api, term) == codes, term


def test_a_full_code_is_an_equality_on_the_unique_columns(three):
    an, _, _ = three
    where = str(Dossier.objects.filter(dossier_search_filter(an.code)).query)
    assert "LIKE" not in where.upper()
    assert dossier_search_filter("   ") == dossier_search_filter("")
