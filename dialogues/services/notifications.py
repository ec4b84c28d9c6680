"""Dialogue mail goes through the shared delivery ledger (procedures.notifications.services).

A row is inserted inside the caller's transaction; the shared worker sends it after
commit, retries transient failures with backoff and records a readable reason on the
row (admin: Deliveries, "Retry now"). The ledger's unique key makes a second queueing
of the same message a no-op, so each reminder goes out once per deadline version.
"""

import logging

from procedures.notifications.services import notify

logger = logging.getLogger(__name__)


def dialogue_mail_queue(
    *, kind: str, recipients: list[str], subject_key: str, payload: dict, language: str
) -> bool:
    """Queue one message per address (the ledger has one recipient a row); True when at
    least one row is new."""
    addresses = list(dict.fromkeys(r for r in recipients if r))
    if not addresses:
        logger.warning("dialogue %s (%s): no recipient, nothing queued", kind, subject_key)
        return False
    queued = notify(
        kind=kind,
        subject_key=subject_key,
        payload=payload,
        addresses=addresses,
        language=language,
    )
    return bool(queued)
