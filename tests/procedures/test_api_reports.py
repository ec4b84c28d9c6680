"""GET /api/v1/reports/monthly/: staff with view_reports only; JSON, XLSX, CSV."""

import csv
import io

import pytest
from openpyxl import load_workbook
from rest_framework.authtoken.models import Token

from procedures.reports.selectors import COLUMN_KEYS

from .test_reports import EXPECTED_A, EXPECTED_TOTAL

pytestmark = pytest.mark.django_db

URL = "/api/v1/reports/monthly/"


@pytest.fixture
def api(client, staff):
    client.force_login(staff["director"])
    return client


def test_json_rows_and_totals(june, api, procedure, django_assert_max_num_queries):
    from django.db import connection

    # session, user, permissions, figures, names (+ SET LOCAL jit on PostgreSQL)
    with django_assert_max_num_queries(6 + (connection.vendor == "postgresql")):
        response = api.get(URL, {"month": "2026-06", "by": "procedure"})
    assert response.status_code == 200
    data = response.json()
    assert data["period"] == {
        "kind": "month",
        "key": "2026-06",
        "start": "2026-06-01",
        "end": "2026-06-30",
    }
    assert data["by"] == "procedure"
    assert data["columns"][: len(COLUMN_KEYS)] == list(COLUMN_KEYS)
    total = data["total"]["figures"]
    assert {k: total[k] for k in COLUMN_KEYS} == EXPECTED_TOTAL
    assert total["on_time_rate"] == 60.0
    trade = data["rows"][0]
    assert trade["kind"] == "field" and trade["code"] == "G02-CT10"
    child = trade["children"][0]
    assert child["key"] == f"procedure:{procedure.pk}" and child["code"] == "2.000633"
    assert {k: child["figures"][k] for k in COLUMN_KEYS} == EXPECTED_A


@pytest.mark.parametrize("by", ["field", "unit", "officer"])
def test_other_views(june, api, by):
    data = api.get(URL, {"month": "2026-06", "by": by}).json()
    assert {k: data["total"]["figures"][k] for k in COLUMN_KEYS} == EXPECTED_TOTAL
    if by != "field":
        assert data["total"]["figures"]["steps"] == 11  # every ended step has its result
    else:
        assert all("children" not in r for r in data["rows"])


def test_quarter_through_period(june, api):
    data = api.get(URL, {"period": "2026-Q2", "by": "field"}).json()
    assert data["period"]["kind"] == "quarter" and data["total"]["figures"]["received_new"] == 12


def test_xlsx_and_csv(june, api):
    response = api.get(URL, {"month": "2026-06", "format": "xlsx"})
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    ws = load_workbook(io.BytesIO(response.content)).active
    assert ws["C7"].value == "Số hồ sơ nhận giải quyết"
    assert ws["C11"].value == EXPECTED_TOTAL["received"]
    response = api.get(URL, {"month": "2026-06", "format": "csv", "by": "unit"})
    assert response["Content-Type"].startswith("text/csv")
    assert 'filename="bao-cao-06-2026-06-unit.csv"' in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[1][1] == "total" and rows[1][3] == str(EXPECTED_TOTAL["received"])


@pytest.mark.parametrize(
    ("params", "field"),
    [({"month": "2026-13"}, "period"), ({}, "month"), ({"month": "2026-06", "by": "x"}, "by")],
)
def test_bad_parameters_are_400_with_the_field(june, api, params, field):
    response = api.get(URL, params)
    assert response.status_code == 400
    assert response.json()["field"] == field


def test_errors_stay_json_when_a_file_was_asked_for(api):
    response = api.get(URL, {"month": "nope", "format": "xlsx"})
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert response.json()["code"] == "bad_period"


def test_unknown_format_is_404(api):
    assert api.get(URL, {"month": "2026-06", "format": "pdf"}).status_code == 404


def test_needs_login_and_the_permission(june, client, staff):
    assert client.get(URL, {"month": "2026-06"}).status_code == 401
    client.force_login(staff["specialist"])
    response = client.get(URL, {"month": "2026-06"})
    assert response.status_code == 403
    token = Token.objects.create(user=staff["unit_head"])  # unit heads have view_reports
    response = client.generic(
        "GET", URL + "?month=2026-06", HTTP_AUTHORIZATION=f"Token {token.key}"
    )
    assert response.status_code == 200
    figures = response.json()["total"]["figures"]
    assert {k: figures[k] for k in COLUMN_KEYS} == EXPECTED_TOTAL


def test_schema_documents_the_endpoint(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    operation = response.json()["paths"]["/api/v1/reports/monthly/"]["get"]
    assert operation["operationId"] == "reports_monthly"
    names = {p["name"] for p in operation["parameters"]}
    assert {"month", "by", "format", "period"} <= names
