"""Dialogue rules that are the department's choice, not law (docs/legal-rules.md: "Business
dialogues").

Each reads an optional Django setting so the lead can move it into settings without
touching this app; the defaults are the common practice.
"""

from django.conf import settings


def _get(name: str, default):
    return getattr(settings, name, default)


def min_sessions_per_year() -> int:
    # Resolution 35/NQ-CP 2016: provinces hold business dialogues at least twice a year.
    return _get("DIALOGUE_MIN_SESSIONS_PER_YEAR", 2)


def default_answer_working_days() -> int:
    """Answer time for a recommendation sent between sessions (no conference deadline)."""
    return _get("DIALOGUE_DEFAULT_ANSWER_WORKING_DAYS", 15)


def due_soon_working_days() -> int:
    return _get("DIALOGUE_DUE_SOON_WORKING_DAYS", 2)


def escalation_working_days() -> int:
    """Working days past the answer deadline after which leaders are told."""
    return _get("DIALOGUE_ESCALATION_WORKING_DAYS", 3)


def session_reminder_hours() -> int:
    """How long before a session registrants get a reminder."""
    return _get("DIALOGUE_SESSION_REMINDER_HOURS", 24)


def escalation_emails() -> list[str]:
    return list(_get("DIALOGUE_ESCALATION_EMAILS", []))


def upload_max_bytes() -> int:
    return _get("DIALOGUE_UPLOAD_MAX_BYTES", 10 * 1024 * 1024)


def import_max_bytes() -> int:
    return _get("DIALOGUE_IMPORT_MAX_BYTES", 5 * 1024 * 1024)


def site_url() -> str:
    """Absolute base for links in mail sent by workers (no request there)."""
    return _get("SITE_URL", "http://localhost:8000").rstrip("/")
