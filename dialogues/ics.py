"""An iCalendar (RFC 5545) invitation for a session, written with the `icalendar` library.

The library escapes TEXT values, quotes parameter values (an organiser name with a
comma is quoted, not backslash-escaped) and folds long lines on character boundaries.
"""

from datetime import UTC, datetime

from django.conf import settings
from icalendar import Calendar, Event, vCalAddress, vText

from dialogues.models import DialogueSession


def session_invitation_ics(
    *,
    session: DialogueSession,
    attendee_email: str,
    description: str,
    now: datetime,
    cancelled: bool = False,
) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    calendar = Calendar()
    calendar.add("prodid", "-//motcua//dialogues//VI")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "CANCEL" if cancelled else "REQUEST")

    event = Event()
    event.add("uid", f"dialogue-session-{session.pk}@{domain}")
    event.add("sequence", session.sequence)
    event.add("dtstamp", now.astimezone(UTC))
    event.add("dtstart", session.starts_at.astimezone(UTC))
    event.add("dtend", session.ends_at.astimezone(UTC))
    event.add("summary", session.title)
    event.add("description", description)
    location = ", ".join(v for v in (session.venue, session.online_link) if v)
    if location:
        event.add("location", location)
    if session.online_link:
        event.add("url", session.online_link)
    organizer = vCalAddress(f"mailto:{settings.DEFAULT_FROM_EMAIL}")
    organizer.params["cn"] = vText(settings.DEPARTMENT_NAME)
    event.add("organizer", organizer)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["role"] = vText("REQ-PARTICIPANT")
    attendee.params["rsvp"] = vText("FALSE")
    event.add("attendee", attendee)
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode()
