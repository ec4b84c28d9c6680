"""How dialogue mail is keyed in the shared delivery ledger.

The key names the object and the deadline version the mail is about (answer due
time, session start), so a moved deadline yields a new key, hence a new reminder,
while the ledger's unique (recipient, channel, kind, subject_key) stops a second
one for the same version.
"""

from datetime import UTC, datetime


def _key(prefix: str, object_id: int, when: datetime) -> str:
    # UTC, so the same instant gives the same key whatever zone it was read in.
    return f"{prefix}:{object_id}:{when.astimezone(UTC).isoformat()}"


def recommendation_key(*, recommendation_id: int, due: datetime) -> str:
    return _key("recommendation", recommendation_id, due)


def registration_key(*, registration_id: int, starts_at: datetime) -> str:
    return _key("registration", registration_id, starts_at)
