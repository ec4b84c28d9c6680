"""The public calendar endpoints: due time and the year's exceptions."""

from datetime import date

import pytest
from django.urls import reverse

from procedures.models import CalendarOverride

pytestmark = pytest.mark.django_db

DUE_URL = "/api/v1/calendar/due/"


def year_url(year: int) -> str:
    return f"/api/v1/calendar/year/{year}/"


def test_urls_are_the_published_ones():
    assert reverse("api:calendar-due") == DUE_URL
    assert reverse("api:calendar-year", kwargs={"year": 2026}) == year_url(2026)


# --- Due time ---


def test_due_across_tet_2026(client):
    response = client.get(
        DUE_URL, {"start": "2026-02-13T10:00:00+07:00", "amount": "1", "unit": "working_days"}
    )
    assert response.status_code == 200
    assert response.json() == {
        "start": "2026-02-13T10:00:00+07:00",
        "amount": "1",
        "unit": "working_days",
        "due": "2026-02-23T10:00:00+07:00",
        "working_seconds": 28800,
    }


def test_due_normalises_start_and_converts_offsets(client):
    # 23:30 UTC on Sunday is 06:30 Monday in Hanoi: counts from 07:00.
    response = client.get(
        DUE_URL, {"start": "2025-06-01T23:30:00Z", "amount": "0.5", "unit": "working_days"}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["start"] == "2025-06-02T07:00:00+07:00"
    assert body["due"] == "2025-06-02T11:00:00+07:00"
    assert body["amount"] == "0.5"
    assert body["working_seconds"] == 14400


def test_due_exactly_at_closing(client):
    response = client.get(
        DUE_URL, {"start": "2025-06-02T13:30:00+07:00", "amount": "3.5", "unit": "working_hours"}
    )
    assert response.json()["due"] == "2025-06-02T17:00:00+07:00"


def test_due_calendar_days_landing_on_national_day(client):
    response = client.get(
        DUE_URL, {"start": "2025-08-18T09:00:00+07:00", "amount": "15", "unit": "calendar_days"}
    )
    assert response.status_code == 200
    assert response.json()["due"] == "2025-09-03T17:00:00+07:00"


def test_unencoded_plus_in_offset_is_accepted(client):
    # A hand-typed URL sends "+07:00" as " 07:00".
    response = client.get(DUE_URL + "?start=2025-06-02T10:00:00+07:00&amount=1&unit=working_days")
    assert response.status_code == 200
    assert response.json()["due"] == "2025-06-03T10:00:00+07:00"


def test_due_uses_overrides(client):
    CalendarOverride.objects.create(date=date(2025, 6, 3), is_working=False, reason="Storm")
    response = client.get(
        DUE_URL, {"start": "2025-06-02T10:00:00+07:00", "amount": "1", "unit": "working_days"}
    )
    assert response.json()["due"] == "2025-06-04T10:00:00+07:00"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"start": "2025-06-02T10:00:00", "amount": "1", "unit": "working_days"}, "start"),
        ({"start": "yesterday", "amount": "1", "unit": "working_days"}, "start"),
        ({"start": "2025-02-30T10:00:00+07:00", "amount": "1", "unit": "working_days"}, "start"),
        ({"start": "1800-01-02T10:00:00+07:00", "amount": "1", "unit": "working_days"}, "start"),
        ({"amount": "1", "unit": "working_days"}, "start"),
        ({"start": "2025-06-02T10:00:00+07:00", "unit": "working_days"}, "amount"),
        ({"start": "2025-06-02T10:00:00+07:00", "amount": "x", "unit": "working_days"}, "amount"),
        ({"start": "2025-06-02T10:00:00+07:00", "amount": "-1", "unit": "working_days"}, "amount"),
        ({"start": "2025-06-02T10:00:00+07:00", "amount": "NaN", "unit": "working_days"}, "amount"),
        (
            {"start": "2025-06-02T10:00:00+07:00", "amount": "5000", "unit": "working_days"},
            "amount",
        ),
        (
            {"start": "2025-06-02T10:00:00+07:00", "amount": "1.5", "unit": "calendar_days"},
            "amount",
        ),
        ({"start": "2100-12-30T10:00:00+07:00", "amount": "10", "unit": "working_days"}, "amount"),
        ({"start": "2025-06-02T10:00:00+07:00", "amount": "1", "unit": "weeks"}, "unit"),
        ({"start": "2025-06-02T10:00:00+07:00", "amount": "1"}, "unit"),
    ],
)
def test_bad_parameters_are_400_naming_the_parameter(client, params, field):
    response = client.get(DUE_URL, params)
    assert response.status_code == 400
    body = response.json()
    assert field in body, body
    assert isinstance(body[field], list) and body[field][0]


def test_naive_start_message_shows_an_offset(client):
    response = client.get(
        DUE_URL, {"start": "2025-06-02T10:00:00", "amount": "1", "unit": "working_days"}
    )
    assert response.status_code == 400
    assert "2026-02-13T10:00:00+07:00" in response.json()["start"][0]


# --- Year ---


def test_year_2026(client, settings):
    settings.LANGUAGE_CODE = "vi"  # as in production
    response = client.get(year_url(2026))
    assert response.status_code == 200
    rows = {row["date"]: row for row in response.json()}
    # Holiday names are in Vietnamese, the site's language (LANGUAGE_CODE).
    assert rows["2026-02-17"] == {
        "date": "2026-02-17",
        "is_working": False,
        "reason": "Tết Nguyên Đán",
        "source": "holidays",
    }
    assert rows["2026-08-22"]["is_working"] is True
    assert {"2026-08-31", "2026-09-01", "2026-09-02"} <= set(rows)
    assert "2026-02-14" not in rows  # a Saturday off is no exception


def test_year_lists_overrides(client):
    CalendarOverride.objects.create(date=date(2025, 6, 7), is_working=True, reason="Catch-up")
    rows = {row["date"]: row for row in client.get(year_url(2025)).json()}
    assert rows["2025-06-07"] == {
        "date": "2025-06-07",
        "is_working": True,
        "reason": "Catch-up",
        "source": "override",
    }
    assert rows["2025-04-26"]["is_working"] is True


@pytest.mark.parametrize("year", [1800, 2101])
def test_year_out_of_range_is_400(client, year):
    response = client.get(year_url(year))
    assert response.status_code == 400
    assert "year" in response.json()


# --- OpenAPI ---


def test_schema_documents_the_parameters(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()
    due = schema["paths"]["/api/v1/calendar/due/"]["get"]
    names = {p["name"]: p for p in due["parameters"]}
    assert {"start", "amount", "unit"} <= set(names)
    assert all(
        names[n]["in"] == "query" and names[n]["required"] for n in ("start", "amount", "unit")
    )
    assert set(names["unit"]["schema"]["enum"]) == {
        "working_days",
        "calendar_days",
        "working_hours",
    }
    year = schema["paths"]["/api/v1/calendar/year/{year}/"]["get"]
    assert year["parameters"][0]["name"] == "year"
