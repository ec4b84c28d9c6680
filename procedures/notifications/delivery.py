"""Sending what the ledger holds (issue: reminders and notifications; issue 14).

The protocol, and why
---------------------
1. *Claim*, in a short transaction of its own: the row must be ``pending`` and due
   (or ``sending`` under a claim older than ``DELIVERY_CLAIM_TIMEOUT``, left by a
   dead worker). On PostgreSQL it is picked with ``SELECT ... FOR UPDATE SKIP
   LOCKED``; on every database the claim is a conditional UPDATE (status
   ``sending``, ``claimed_at``, ``claimed_by``, one more attempt) that only one
   worker can win. Then COMMIT.
2. *Send* with no transaction open and no row lock held: the SMTP conversation can
   take up to ``EMAIL_TIMEOUT`` and must not hold SQLite's single write lock (the
   embedded default: other writers would wait, then fail with "database is
   locked") nor a PostgreSQL row lock. A stable ``Message-ID`` names the row.
3. *Mark* it ``sent`` in a fresh short transaction, conditional on still holding
   the claim; "database is locked" is retried for ``DELIVERY_DB_RETRY_SECONDS``.

A worker killed between 1 and 3 leaves the row ``sending``. Its claim is released
when a worker of the same Celery node name starts again (``worker_ready``), or taken
over by any drain once it is older than ``DELIVERY_CLAIM_TIMEOUT`` (default: the
hard time limit of the longest task, after which its claimer cannot be alive).
Hence:

* never lost: a row leaves ``pending``/``sending`` only when marked sent or when a
  permanent error is recorded on it;
* never sent twice, except in one window we accept on purpose: the mail server has
  said "250 OK" and the worker dies (or the database stays unwritable for longer
  than the retries) before the mark commits. The message is then sent again with
  the same Message-ID. No email protocol lets a client make that window vanish; the
  alternative (mark first, send after) turns it into a silently lost reminder,
  which for a statutory deadline is the worse error. So delivery is at-least-once
  with a duplicate only in that window (docs/reliability.md).

Failures: transient ones (connection refused or reset, timeouts, 4xx replies) are
recorded on the row with a readable reason and retried with growing delays
(``DELIVERY_RETRY_DELAYS``) by the periodic drain; after ``DELIVERY_MAX_ATTEMPTS``
or on a permanent error (5xx, a broken template) the row is ``failed`` and shown
in the admin, where "Retry now" puts it back in the queue.
"""

from __future__ import annotations

import enum
import logging
import os
import smtplib
import socket
import time
from datetime import datetime, timedelta

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import OperationalError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.models import Delivery, DeliveryChannel, DeliveryStatus
from procedures.notifications.kinds import Attachment, get_kind
from procedures.notifications.national_sync import national_sync_send
from procedures.notifications.peers import PeerError
from procedures.notifications.sms import sms_send_delivery

logger = logging.getLogger(__name__)


class Outcome(enum.StrEnum):
    SENT = "sent"
    RETRY = "retry"  # transient failure, rescheduled
    FAILED = "failed"  # permanent failure or attempts used up
    SKIPPED = "skipped"  # not pending, not due yet, or another worker holds it


def _retry_delays() -> list[int]:
    return list(getattr(settings, "DELIVERY_RETRY_DELAYS", [60, 300, 900, 3600, 10800]))


def _max_attempts() -> int:
    return int(getattr(settings, "DELIVERY_MAX_ATTEMPTS", len(_retry_delays()) + 1))


def _claim_timeout() -> timedelta:
    return timedelta(seconds=getattr(settings, "DELIVERY_CLAIM_TIMEOUT", 300))


# --------------------------------------------------------------------------- short writes


def _is_locked(exc: OperationalError) -> bool:
    # SQLite's answer when another connection holds the write lock past the busy timeout.
    return "locked" in str(exc).lower()


def db_write_retrying(write, *, what: str):
    """Run `write` (a short transaction of its own) again while SQLite says "database
    is locked", for up to DELIVERY_DB_RETRY_SECONDS.

    Inside an outer transaction a retry cannot help (the outer one is broken), so
    the error is raised at once.
    """
    budget = float(getattr(settings, "DELIVERY_DB_RETRY_SECONDS", 30))
    started = time.monotonic()
    pause = 0.05
    while True:
        try:
            with transaction.atomic():
                return write()
        except OperationalError as exc:
            if (
                not _is_locked(exc)
                or connection.in_atomic_block
                or time.monotonic() - started + pause > budget
            ):
                raise
            logger.warning("%s: %s; trying again in %.2fs", what, exc, pause)
            time.sleep(pause)
            pause = min(pause * 2, 1.0)


# --------------------------------------------------------------------------- rendering


def delivery_render(delivery: Delivery) -> tuple[str, str]:
    """Subject and body in the recipient's language, as its kind says (kinds.py)."""
    return get_kind(delivery.kind).render(delivery)


# --------------------------------------------------------------------------- failures


def _is_transient(exc: BaseException) -> bool:
    if isinstance(exc, PeerError):
        return exc.transient
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return bool(codes) and all(400 <= code < 500 for code in codes)
    if isinstance(exc, (smtplib.SMTPAuthenticationError, smtplib.SMTPSenderRefused)):
        # Our own mail configuration is wrong: worth retrying once an admin fixes it.
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    # SMTPServerDisconnected, SMTPConnectError, refused/reset sockets, timeouts.
    return isinstance(exc, OSError)


def _reply(value) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def delivery_describe_error(exc: BaseException) -> str:
    """A sentence staff can act on, with the server's own words."""
    if isinstance(exc, PeerError):
        return str(exc)
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        refused = "; ".join(
            f"{rcpt}: {code} {_reply(msg)}" for rcpt, (code, msg) in exc.recipients.items()
        )
        return _("The mail server refused the recipient (%(detail)s).") % {"detail": refused}
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return _(
            "The mail server rejected our login (%(code)s %(reply)s): check EMAIL_HOST_USER "
            "and EMAIL_HOST_PASSWORD."
        ) % {"code": exc.smtp_code, "reply": _reply(exc.smtp_error)}
    if isinstance(exc, smtplib.SMTPResponseException):
        return _("The mail server answered %(code)s: %(reply)s") % {
            "code": exc.smtp_code,
            "reply": _reply(exc.smtp_error),
        }
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return _("The mail server closed the connection: %(error)s") % {"error": exc}
    if isinstance(exc, (TimeoutError, ConnectionError, OSError)):
        return _("Could not reach the mail server %(host)s:%(port)s (%(error)s).") % {
            "host": settings.EMAIL_HOST,
            "port": settings.EMAIL_PORT,
            "error": str(exc) or type(exc).__name__,
        }
    return _("The message could not be prepared: %(type)s: %(error)s") % {
        "type": type(exc).__name__,
        "error": exc,
    }


# --------------------------------------------------------------------------- sending


def _send_email(delivery: Delivery) -> None:
    subject, body = delivery_render(delivery)
    message = EmailMultiAlternatives(
        subject,
        body,
        settings.DEFAULT_FROM_EMAIL,
        [delivery.recipient],
        headers={"Message-ID": delivery.message_id, "X-Motcua-Delivery": str(delivery.pk)},
    )
    for filename, content, mimetype in _attachments(delivery):
        message.attach(filename, content, mimetype)
    message.send()


def _attachments(delivery: Delivery) -> list[Attachment]:
    """Files built at send time by the row's kind (a dialogue invitation, say), so that
    they say what is current even when the row waited for a retry."""
    return get_kind(delivery.kind).files(delivery)


def _claimable(now: datetime) -> Q:
    due = Q(status=DeliveryStatus.PENDING) & (
        Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now)
    )
    abandoned = Q(status=DeliveryStatus.SENDING, claimed_at__lt=now - _claim_timeout())
    return due | abandoned


def _claim(*, delivery_id: int, now: datetime, claimed_by: str) -> Delivery | None:
    """Step 1: take the row for this worker and commit; None when it is not ours to send."""

    def claim() -> Delivery | None:
        delivery = (
            Delivery.objects.select_for_update(skip_locked=True)
            .filter(_claimable(now), pk=delivery_id)
            .first()
        )
        if delivery is None:
            return None
        # Compare-and-set: whatever the database's locking (SQLite has no row locks),
        # only one UPDATE finds the row still claimable.
        won = Delivery.objects.filter(_claimable(now), pk=delivery_id).update(
            status=DeliveryStatus.SENDING,
            claimed_at=now,
            claimed_by=claimed_by[:200],
            attempts=F("attempts") + 1,
        )
        if not won:
            return None
        if delivery.status == DeliveryStatus.SENDING:
            logger.warning(
                "delivery %s: taking over the claim of %s from %s (older than %s)",
                delivery.pk,
                delivery.claimed_by or "?",
                delivery.claimed_at,
                _claim_timeout(),
            )
        delivery.status, delivery.claimed_at = DeliveryStatus.SENDING, now
        delivery.claimed_by, delivery.attempts = claimed_by[:200], delivery.attempts + 1
        return delivery

    return db_write_retrying(claim, what=f"claiming delivery {delivery_id}")


def _finish(delivery: Delivery, *, what: str, **fields) -> bool:
    """Steps 3 (and failures): write the outcome if this worker still holds the claim."""

    def finish() -> int:
        return Delivery.objects.filter(
            pk=delivery.pk,
            status=DeliveryStatus.SENDING,
            claimed_at=delivery.claimed_at,
        ).update(claimed_at=None, claimed_by="", **fields)

    held = bool(db_write_retrying(finish, what=f"{what} delivery {delivery.pk}"))
    if not held:
        logger.warning(
            "delivery %s: the claim was taken over while sending (slower than "
            "DELIVERY_CLAIM_TIMEOUT); it may have been sent twice",
            delivery.pk,
        )
    return held


def delivery_send(
    *, delivery_id: int, now: datetime | None = None, claimed_by: str = ""
) -> Outcome:
    """Send one ledger row if it is pending and due; see the module docstring."""
    now = now or timezone.now()
    claimed_by = claimed_by or f"pid {os.getpid()}@{socket.gethostname()}"
    delivery = _claim(delivery_id=delivery_id, now=now, claimed_by=claimed_by)
    if delivery is None:
        return Outcome.SKIPPED
    try:
        if delivery.channel == DeliveryChannel.EMAIL:
            _send_email(delivery)
        elif delivery.channel == DeliveryChannel.NATIONAL:
            national_sync_send(delivery)
        elif delivery.channel == DeliveryChannel.SMS:
            sms_send_delivery(delivery)
    except SoftTimeLimitExceeded:
        # Not the mail server's fault: give the attempt back for the next drain.
        _finish(
            delivery, what="releasing", status=DeliveryStatus.PENDING, attempts=F("attempts") - 1
        )
        raise
    except Exception as exc:  # noqa: BLE001 - every failure is recorded on the row
        return _record_failure(delivery, exc, now)
    _finish(
        delivery,
        what="marking sent",
        status=DeliveryStatus.SENT,
        sent_at=now,
        next_attempt_at=None,
        last_error="",
    )
    logger.info(
        "sent %s by %s to %s (delivery %s, attempt %s)",
        delivery.kind,
        delivery.channel,
        delivery.recipient,
        delivery.pk,
        delivery.attempts,
    )
    return Outcome.SENT


def delivery_release_claims(*, claimed_by: str) -> int:
    """Give back the rows a worker of this node name held when it died (it starts again
    now, so the previous process with that name is gone); the drain sends them."""
    if not claimed_by:
        return 0
    released = db_write_retrying(
        lambda: Delivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_by=claimed_by[:200]
        ).update(
            status=DeliveryStatus.PENDING, claimed_at=None, claimed_by="", next_attempt_at=None
        ),
        what=f"releasing the claims of {claimed_by}",
    )
    if released:
        logger.warning(
            "released %s delivery claim(s) of %s, which stopped while sending", released, claimed_by
        )
    return released


def _record_failure(delivery: Delivery, exc: Exception, now: datetime) -> Outcome:
    reason = delivery_describe_error(exc)
    transient = _is_transient(exc)
    delays = _retry_delays()
    stamp = timezone.localtime(now).strftime("%d/%m/%Y %H:%M")
    if transient and delivery.attempts < _max_attempts():
        delay = delays[min(delivery.attempts - 1, len(delays) - 1)]
        delivery.next_attempt_at = now + timedelta(seconds=delay)
        outcome = Outcome.RETRY
        delivery.last_error = _("%(when)s, attempt %(n)s: %(reason)s Next attempt at %(next)s.") % {
            "when": stamp,
            "n": delivery.attempts,
            "reason": reason,
            "next": timezone.localtime(delivery.next_attempt_at).strftime("%d/%m/%Y %H:%M"),
        }
        logger.warning(
            "delivery %s (%s to %s) failed, retry in %ss: %s",
            delivery.pk,
            delivery.kind,
            delivery.recipient,
            delay,
            reason,
        )
    else:
        delivery.status = DeliveryStatus.FAILED
        delivery.next_attempt_at = None
        outcome = Outcome.FAILED
        delivery.last_error = _("%(when)s, attempt %(n)s: %(reason)s Gave up.") % {
            "when": stamp,
            "n": delivery.attempts,
            "reason": reason,
        }
        logger.error(
            "delivery %s (%s to %s) failed for good after %s attempt(s): %s",
            delivery.pk,
            delivery.kind,
            delivery.recipient,
            delivery.attempts,
            reason,
            exc_info=not transient,
        )
    _finish(
        delivery,
        what="recording the failure of",
        status=delivery.status if outcome == Outcome.FAILED else DeliveryStatus.PENDING,
        next_attempt_at=delivery.next_attempt_at,
        last_error=delivery.last_error,
    )
    return outcome


def delivery_pending_ids(*, now: datetime, limit: int) -> list[int]:
    """Claims abandoned by a dead worker, then pending rows whose next attempt has come,
    oldest first (two partial indexes)."""
    abandoned = list(
        Delivery.objects.filter(
            status=DeliveryStatus.SENDING, claimed_at__lt=now - _claim_timeout()
        )
        .order_by("claimed_at", "id")
        .values_list("pk", flat=True)[:limit]
    )
    return abandoned + list(
        Delivery.objects.filter(status=DeliveryStatus.PENDING)
        .filter(Q(next_attempt_at__lte=now) | Q(next_attempt_at__isnull=True))
        .order_by(F("next_attempt_at").asc(nulls_first=True), "id")
        .values_list("pk", flat=True)[: limit - len(abandoned)]
    )


def delivery_send_many(
    *,
    ids: list[int],
    now: datetime | None = None,
    time_budget: float | None = None,
    claimed_by: str = "",
) -> dict[str, int]:
    """Send rows one by one (each in its own transaction); stops when the budget is spent."""
    counts = {o.value: 0 for o in Outcome}
    started = time.monotonic()
    for pk in ids:
        if time_budget is not None and time.monotonic() - started > time_budget:
            break
        counts[delivery_send(delivery_id=pk, now=now or timezone.now(), claimed_by=claimed_by)] += 1
    return counts


def delivery_drain(
    *,
    now: datetime | None = None,
    limit: int = 500,
    time_budget: float | None = None,
    claimed_by: str = "",
) -> dict[str, int]:
    """The outbox drain: send what is pending and due. Safe to run in parallel."""
    ids = delivery_pending_ids(now=now or timezone.now(), limit=limit)
    counts = delivery_send_many(ids=ids, now=now, time_budget=time_budget, claimed_by=claimed_by)
    counts["selected"] = len(ids)
    return counts


def delivery_retry(*, ids, now: datetime | None = None, actor=None) -> list[int]:
    """Put failed (or waiting) rows back in the queue for an attempt now (admin action)."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = list(
            Delivery.objects.select_for_update()
            .filter(pk__in=list(ids), status__in=[DeliveryStatus.FAILED, DeliveryStatus.PENDING])
            .values_list("pk", flat=True)
        )
        Delivery.objects.filter(pk__in=rows).update(
            status=DeliveryStatus.PENDING, next_attempt_at=None, attempts=0
        )
        if rows:
            from procedures.notifications.services import enqueue_after_commit

            enqueue_after_commit(rows)
    if rows:
        logger.info(
            "%s put %s deliveries back in the queue: %s", actor or "system", len(rows), rows
        )
    return rows
