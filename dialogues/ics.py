"""An iCalendar (RFC 5545) invitation for a session, written with the standard library."""

from datetime import UTC, datetime

from django.conf import settings

from dialogues.models import DialogueSession


def _escape(value: str) -> str:
    # RFC 5545 s. 3.3.11: backslash, semicolon, comma and newlines are escaped in TEXT.
    return (
        value.replace("\\", "\\\\")
        .replace(";", "\\;")
        .replace(",", "\\,")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    # RFC 5545 s. 3.1: lines longer than 75 octets are folded (CRLF + space); never
    # split inside a multi-byte UTF-8 character.
    out, current = [], b""
    for char in line:
        encoded = char.encode()
        limit = 75 if not out else 74
        if len(current) + len(encoded) > limit:
            out.append(current.decode())
            current = b""
        current += encoded
    out.append(current.decode())
    return "\r\n ".join(out)


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def session_invitation_ics(
    *,
    session: DialogueSession,
    attendee_email: str,
    description: str,
    now: datetime,
    cancelled: bool = False,
) -> str:
    domain = settings.DEFAULT_FROM_EMAIL.rpartition("@")[2] or "localhost"
    location = ", ".join(v for v in (session.venue, session.online_link) if v)
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//motcua//dialogues//VI",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if cancelled else 'REQUEST'}",
        "BEGIN:VEVENT",
        f"UID:dialogue-session-{session.pk}@{domain}",
        f"SEQUENCE:{session.sequence}",
        f"DTSTAMP:{_utc(now)}",
        f"DTSTART:{_utc(session.starts_at)}",
        f"DTEND:{_utc(session.ends_at)}",
        f"SUMMARY:{_escape(session.title)}",
        f"DESCRIPTION:{_escape(description)}",
    ]
    if location:
        lines.append(f"LOCATION:{_escape(location)}")
    if session.online_link:
        lines.append(f"URL:{session.online_link}")
    lines += [
        f"ORGANIZER;CN={_escape(settings.DEPARTMENT_NAME)}:mailto:{settings.DEFAULT_FROM_EMAIL}",
        f"ATTENDEE;ROLE=REQ-PARTICIPANT;RSVP=FALSE:mailto:{attendee_email}",
        f"STATUS:{'CANCELLED' if cancelled else 'CONFIRMED'}",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "\r\n".join(_fold(line) for line in lines) + "\r\n"
