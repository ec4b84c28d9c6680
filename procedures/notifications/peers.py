"""Services the delivery loop posts to (the SMS gateway, the national portal).

One JSON POST with a bearer token and the ledger row as idempotency key, and one error
type that says whether a retry may help: delivery.py reads it like an SMTP error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import requests


class PeerError(Exception):
    """A peer did not take the row; `transient` failures are retried by the drain."""

    def __init__(self, message: str, *, transient: bool):
        super().__init__(message)
        self.transient = transient


@dataclass(frozen=True)
class PeerReply:
    status: int
    text: str  # the start of the body, for the ledger's last_error

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


def peer_post_json(
    url: str, *, payload: dict, token: str, idempotency_key: str, timeout: float
) -> PeerReply:
    """POST `payload` as UTF-8 JSON. Raises requests.RequestException when the peer
    cannot be reached; any HTTP answer comes back as a PeerReply."""
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "Idempotency-Key": idempotency_key,
    }
    if token:
        headers["Authorization"] = f"Bearer {token}"
    response = requests.post(
        url,
        data=json.dumps(payload, ensure_ascii=False).encode(),
        headers=headers,
        timeout=timeout,
    )
    return PeerReply(response.status_code, response.text[:300])


def peer_may_retry(status: int) -> bool:
    """The peer's trouble, not the row's: server errors, timeouts, rate limits."""
    return status >= 500 or status in (408, 429)
