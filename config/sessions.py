"""Sessions end after a time without requests (issue 11 item 8), cheaply.

`SESSION_COOKIE_AGE` is the idle limit: the database row expires that long after the
session was last saved. Rather than saving every session on every request
(SESSION_SAVE_EVERY_REQUEST: one more write per page), the session is saved again
when it was last saved more than `REFRESH_SECONDS` ago, so the limit is exact to the
minute and a busy page costs no write. The cookie itself ends with the browser
(SESSION_EXPIRE_AT_BROWSER_CLOSE).
"""

from __future__ import annotations

import time

REFRESH_SECONDS = 60
TOUCHED_KEY = "_touched_at"


def session_touch(sender=None, request=None, **kwargs) -> None:
    """Mark the session fresh (receiver of user_logged_in: log-in saves it anyway)."""
    if request is not None and hasattr(request, "session"):
        request.session[TOUCHED_KEY] = int(time.time())


class IdleSessionMiddleware:
    """Place right after SessionMiddleware, so that its save sees the refresh."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        # Only sessions this request read (never load one just to refresh it).
        if session is None or not session.accessed or session.modified or session.is_empty():
            return response
        touched = session.get(TOUCHED_KEY, 0)
        if time.time() - touched > REFRESH_SECONDS:
            session[TOUCHED_KEY] = int(time.time())
        return response
