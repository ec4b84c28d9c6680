"""Query counts of the public pages and the staff report page, pinned (issue 13).

The public look-up, the procedure page and the procedure API list must stay index
look-ups whose number does not grow with the data: a new query per event, document or
procedure would show here first. The report page is pinned with the June data set and
with more procedures. Speed itself is measured by bench/, not here.
"""

import pytest
from django.db import connection
from django.urls import reverse
from rest_framework.test import APIClient

from procedures.core.constants import Action

from .test_api_lookup import processed as processed_fixture

processed = processed_fixture

pytestmark = pytest.mark.django_db

LOOKUP_API = "/api/v1/dossiers/lookup/"

# The look-up reads the dossier with its procedure's name and its events in one
# statement, whether the timeline has one event or twenty.
LOOKUP_API_QUERIES = 1


@pytest.fixture(autouse=True)
def _generous_limits(settings):
    settings.DOSSIER_LOOKUP_RATE = "1000/min"


def test_the_lookup_api_reads_the_dossier_and_its_events_only(
    processed, register, django_assert_num_queries
):
    with django_assert_num_queries(LOOKUP_API_QUERIES):
        response = APIClient().post(
            LOOKUP_API, {"code": processed.code, "pin": processed.pin}, format="json"
        )
    assert response.status_code == 200
    assert len(response.json()["timeline"]) == 6
    fresh = register()
    with django_assert_num_queries(LOOKUP_API_QUERIES):
        response = APIClient().post(
            LOOKUP_API, {"code": fresh.code, "pin": fresh.pin}, format="json"
        )
    assert [e["action"] for e in response.json()["timeline"]] == [Action.REGISTER]


def test_a_wrong_pin_costs_one_query(processed, django_assert_num_queries):
    with django_assert_num_queries(1):
        response = APIClient().post(
            LOOKUP_API, {"code": processed.code, "pin": "00000000"}, format="json"
        )
    assert response.status_code == 404


def test_the_lookup_page_opens_and_shows_the_dossier_in_pinned_queries(
    client, processed, django_assert_num_queries
):
    # The dossier by code, then the session's new key (Django's cycle_key: an insert and
    # an update, each in a savepoint; no check first, config/sessions.py).
    with django_assert_num_queries(7):
        response = client.post(
            reverse("procedures:lookup"), {"code": processed.code, "pin": processed.pin}
        )
    assert response.status_code == 302
    # The session, then the dossier with its procedure's name, rating, events, the
    # applicant's files and the results in one statement, and the session's first
    # touch (an update in a savepoint).
    with django_assert_num_queries(5):
        page = client.get(response["Location"])
    assert page.status_code == 200
    assert "Result handed over" in page.content.decode()


def test_the_procedure_page_in_pinned_queries(client, procedure, django_assert_num_queries):
    url = reverse("procedures:procedure-detail", args=[procedure.pk])
    # The procedure with its field and unit, its documents, and the year's calendar
    # overrides, which the process then keeps (CALENDAR_CACHE_SECONDS).
    with django_assert_num_queries(3):
        response = client.get(url)
    assert response.status_code == 200
    assert "Cấp Giấy phép bán lẻ sản phẩm rượu" in response.content.decode()
    # Then the procedure's part of the page comes from the catalogue cache, and the
    # due time from the kept calendar (procedures/catalogue/cache.py).
    with django_assert_num_queries(0):
        response = client.get(url)
    assert "Cấp Giấy phép bán lẻ sản phẩm rượu" in response.content.decode()
    # Any catalogue write drops it: the two queries again, then none.
    procedure.documents.create(name="Đơn đề nghị cấp Giấy phép")
    with django_assert_num_queries(2):
        assert "Đơn đề nghị cấp Giấy phép" in client.get(url).content.decode()
    with django_assert_num_queries(0):
        assert client.get(url).status_code == 200


def test_the_procedure_api_list_in_pinned_queries(procedure, django_assert_num_queries):
    from tests.factories import ProcedureFactory

    # A count and a page, however many procedures the page holds; then the page from
    # the catalogue cache until the catalogue changes.
    with django_assert_num_queries(2):
        response = APIClient().get("/api/v1/procedures/")
    assert response.status_code == 200
    assert [p["code"] for p in response.json()["results"]] == ["2.000633"]
    with django_assert_num_queries(0):
        assert APIClient().get("/api/v1/procedures/").json() == response.json()
    ProcedureFactory.create_batch(5, field=procedure.field)
    with django_assert_num_queries(2):
        response = APIClient().get("/api/v1/procedures/")
    assert response.json()["count"] == 6
    with django_assert_num_queries(0):
        assert APIClient().get("/api/v1/procedures/").json()["count"] == 6


def test_the_monthly_report_page_in_pinned_queries(june, client, staff, django_assert_num_queries):
    client.force_login(staff["director"])
    url = reverse("admin:procedures_report")
    # Session, user, permissions (2), the frozen snapshot, the month's figures, the
    # procedures, the twelve-month trend (2), satisfaction, the user's groups.
    # On PostgreSQL the aggregate is preceded by SET LOCAL jit = off (without_jit).
    with django_assert_num_queries(11 + (connection.vendor == "postgresql")):
        response = client.get(url, {"period": "2026-06", "by": "procedure"})
    assert response.status_code == 200
    assert 'id="report-table"' in response.content.decode()
