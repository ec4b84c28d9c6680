"""The session invitation is a valid RFC 5545 calendar, read back by a parser."""

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from icalendar import Calendar

from dialogues.ics import session_invitation_ics
from tests.dialogues_factories import SessionFactory

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


@pytest.mark.django_db
def test_organiser_with_a_comma_is_quoted_and_text_round_trips(settings):
    settings.DEPARTMENT_NAME = "Sở Công Thương, tỉnh Thái Nguyên"
    session = SessionFactory(
        title="Đối thoại; xăng dầu, điện",
        venue="Hội trường A, số 1 đường Đội Cấn",
        starts_at=datetime(2026, 3, 3, 8, 0, tzinfo=HANOI),
        ends_at=datetime(2026, 3, 3, 11, 0, tzinfo=HANOI),
    )
    ics = session_invitation_ics(
        session=session,
        attendee_email="dn@example.vn",
        description="Dòng 1\nDòng 2, có dấu phẩy",
        now=datetime(2026, 2, 1, 9, 0, tzinfo=HANOI),
    )
    unfolded = ics.replace("\r\n ", "")
    # A parameter value with a comma is quoted (RFC 5545 s. 3.2), never backslash-escaped.
    assert 'ORGANIZER;CN="Sở Công Thương, tỉnh Thái Nguyên":mailto:' in unfolded
    assert "\\," not in unfolded.split("ORGANIZER")[1].split(":mailto")[0]
    assert all(len(line.encode()) <= 75 for line in ics.split("\r\n"))

    event = Calendar.from_ical(ics).walk("VEVENT")[0]
    assert str(event["summary"]) == "Đối thoại; xăng dầu, điện"
    assert str(event["location"]) == "Hội trường A, số 1 đường Đội Cấn"
    assert str(event["description"]) == "Dòng 1\nDòng 2, có dấu phẩy"
    assert event["organizer"].params["cn"] == "Sở Công Thương, tỉnh Thái Nguyên"
    assert event.decoded("dtstart") == datetime(2026, 3, 3, 1, 0, tzinfo=ZoneInfo("UTC"))
    assert str(event["status"]) == "CONFIRMED"


@pytest.mark.django_db
def test_cancellation_uses_method_cancel():
    session = SessionFactory()
    ics = session_invitation_ics(
        session=session,
        attendee_email="dn@example.vn",
        description="",
        now=datetime(2026, 2, 1, 9, 0, tzinfo=HANOI),
        cancelled=True,
    )
    calendar = Calendar.from_ical(ics)
    assert str(calendar["method"]) == "CANCEL"
    assert str(calendar.walk("VEVENT")[0]["status"]) == "CANCELLED"
