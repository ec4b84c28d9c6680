"""Registration of businesses for a session: capacity, waiting list, cancellation.

Race-freedom: every change to a session's seats runs inside one transaction that
first locks the session row (SELECT ... FOR UPDATE). Two businesses registering for
the last seat at once are therefore serialised on PostgreSQL; on SQLite the whole
database is locked by the write anyway.
"""

import logging
import secrets
from datetime import datetime
from functools import partial
from smtplib import SMTPException

from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from dialogues import conf
from dialogues.constants import (
    UPCOMING_STATUSES,
    RecommendationSource,
    RegistrationStatus,
    ReminderKind,
    SessionStatus,
)
from dialogues.ledger import registration_key
from dialogues.models import Business, DialogueSession, Registration
from dialogues.notifications import invitation_attachments
from dialogues.services.notifications import dialogue_mail_queue
from procedures.core.errors import DomainError
from procedures.core.validators import normalize_identity, validate_tax_code
from procedures.models import Delivery, DeliveryStatus
from procedures.notifications.delivery import delivery_describe_error, delivery_render

logger = logging.getLogger(__name__)

_TOKEN_SALT = "dialogues.registration-link"


def registration_token_hash(token: str) -> str:
    """HMAC-SHA256 of the personal-link token keyed with the server's SECRET_KEY."""
    return salted_hmac(_TOKEN_SALT, token, algorithm="sha256").hexdigest()


def business_get_or_create(*, tax_code: str, name: str) -> Business:
    business, _created = Business.objects.get_or_create(tax_code=tax_code, defaults={"name": name})
    return business


def _seats_taken(session: DialogueSession) -> int:
    return (
        session.registrations.filter(status=RegistrationStatus.CONFIRMED).aggregate(
            seats=Sum("attendees")
        )["seats"]
        or 0
    )


def tax_code_canonical(tax_code: str) -> str:
    """One spelling per business: a branch code is written 0101234567-001, so the
    same branch typed with or without the hyphen is one business."""
    value = normalize_identity(tax_code)
    validate_tax_code(value)
    digits = value.replace("-", "")
    return f"{digits[:10]}-{digits[10:]}" if len(digits) == 13 else digits


def _clean_tax_code(tax_code: str) -> str:
    try:
        return tax_code_canonical(tax_code)
    except ValidationError as exc:
        raise DomainError(" ".join(exc.messages), field="tax_code") from exc


def registration_create(
    *,
    session_id: int,
    business_name: str,
    tax_code: str,
    representative: str,
    email: str,
    phone: str,
    attendees: int,
    position: str = "",
    questions: str = "",
    question_field_id: int | None = None,
    attachment=None,
    language: str = "vi",
    now: datetime | None = None,
) -> tuple[Registration, str]:
    """Register a business; returns the registration and the raw token of its link.

    A place is confirmed only if the seats fit and nobody waits already: a waiting
    list is first come, first served, so a newcomer never overtakes it.
    """
    now = now or timezone.now()
    tax_code = _clean_tax_code(tax_code)
    if attendees < 1:
        raise DomainError(_("At least one person must attend."), field="attendees")
    token = secrets.token_urlsafe(32)
    with transaction.atomic():
        session = DialogueSession.objects.select_for_update().get(pk=session_id)
        if session.status != SessionStatus.REGISTRATION_OPEN or not session.is_published:
            raise DomainError(_("This session is not open for registration."), code="closed")
        if now > session.registration_deadline:
            raise DomainError(_("The registration deadline has passed."), code="deadline")
        if attendees > session.max_attendees_per_registration:
            raise DomainError(
                _("At most %(n)d people per business can attend this session.")
                % {"n": session.max_attendees_per_registration},
                field="attendees",
            )
        if attendees > session.capacity:
            raise DomainError(
                _("The session has %(n)d seats only.") % {"n": session.capacity},
                field="attendees",
            )
        if (
            session.registrations.filter(tax_code=tax_code)
            .exclude(status=RegistrationStatus.CANCELLED)
            .exists()
        ):
            raise DomainError(
                _("This business is already registered for this session."), field="tax_code"
            )
        queue_exists = session.registrations.filter(status=RegistrationStatus.WAITLISTED).exists()
        fits = _seats_taken(session) + attendees <= session.capacity
        status = (
            RegistrationStatus.CONFIRMED
            if fits and not queue_exists
            else RegistrationStatus.WAITLISTED
        )
        business = business_get_or_create(tax_code=tax_code, name=business_name.strip())
        try:
            with transaction.atomic():
                registration = Registration.objects.create(
                    session=session,
                    business=business,
                    business_name=business_name.strip(),
                    tax_code=tax_code,
                    representative=representative.strip(),
                    position=position.strip(),
                    email=email.strip(),
                    phone=phone.strip(),
                    attendees=attendees,
                    questions=questions.strip(),
                    status=status,
                    language=language,
                    token_hash=registration_token_hash(token),
                    created_at=now,
                )
        except IntegrityError as exc:
            raise DomainError(
                _("This business is already registered for this session."), field="tax_code"
            ) from exc
        if registration.questions:
            from dialogues.services.recommendations import (
                recommendation_attach,
                recommendation_receive,
            )

            recommendation = recommendation_receive(
                business=business,
                content=registration.questions,
                source=RecommendationSource.ADVANCE,
                session=session,
                registration=registration,
                field_id=question_field_id,
                contact_email=registration.email,
                now=now,
            )
            if attachment is not None:
                recommendation_attach(recommendation=recommendation, upload=attachment)
        # The raw token lives only in this request and the mail: it is not passed
        # through the broker (which would store a secret), so the confirmation is
        # sent from this process once the registration is committed.
        transaction.on_commit(
            partial(registration_notify_confirmation, registration_id=registration.pk, token=token)
        )
    return registration, token


def _promote_waitlist(session: DialogueSession, now: datetime) -> list[int]:
    """Promote waiting registrations in order while the head of the queue fits.

    Strict order: if the first in line needs more seats than are free, nobody behind
    it is promoted (first come, first served). Caller holds the session lock.
    """
    if now >= session.starts_at:
        return []
    free = session.capacity - _seats_taken(session)
    promoted: list[int] = []
    waiting = session.registrations.filter(status=RegistrationStatus.WAITLISTED).order_by(
        "created_at", "id"
    )
    for registration in waiting:
        if registration.attendees > free:
            break
        registration.status = RegistrationStatus.CONFIRMED
        registration.promoted_at = now
        registration.save(update_fields=["status", "promoted_at"])
        free -= registration.attendees
        promoted.append(registration.pk)
        # In the ledger within this transaction: committed with the promotion, so the
        # notice goes out even if the broker is down now (the shared drain sends it).
        _registrant_mail_queue(
            registration=registration, kind=ReminderKind.REGISTRATION_PROMOTED, session=session
        )
    return promoted


def registration_cancel(*, registration_id: int, now: datetime | None = None) -> list[int]:
    """Cancel a registration and give freed seats to the waiting list, in order.

    Returns the ids of the registrations promoted.
    """
    now = now or timezone.now()
    with transaction.atomic():
        session_id = Registration.objects.values_list("session_id", flat=True).get(
            pk=registration_id
        )
        session = DialogueSession.objects.select_for_update().get(pk=session_id)
        # Re-read under the lock: a concurrent cancel may have won.
        registration = Registration.objects.get(pk=registration_id)
        if registration.status == RegistrationStatus.CANCELLED:
            raise DomainError(_("This registration is already cancelled."), code="cancelled")
        if now >= session.starts_at:
            raise DomainError(
                _("The session has started; the registration can no longer be cancelled."),
                code="started",
            )
        was_confirmed = registration.status == RegistrationStatus.CONFIRMED
        registration.status = RegistrationStatus.CANCELLED
        registration.cancelled_at = now
        registration.save(update_fields=["status", "cancelled_at"])
        return _promote_waitlist(session, now) if was_confirmed else []


def registration_promote_waitlist(*, session_id: int, now: datetime | None = None) -> list[int]:
    """Fill seats freed otherwise (e.g. the capacity was raised)."""
    now = now or timezone.now()
    with transaction.atomic():
        session = DialogueSession.objects.select_for_update().get(pk=session_id)
        return _promote_waitlist(session, now)


def registration_set_attendance(*, registration_ids: list[int], attended: bool) -> int:
    return Registration.objects.filter(
        pk__in=registration_ids, status=RegistrationStatus.CONFIRMED
    ).update(attended=attended)


def dialogue_session_save(*, session: DialogueSession, changed: list[str], now: datetime) -> None:
    """Save a session edited by staff; a move in time or place revises the invitation."""
    with transaction.atomic():
        if session.pk and {"starts_at", "ends_at", "venue", "online_link"} & set(changed):
            session.sequence += 1
        session.save()
        if session.pk and "capacity" in changed:
            locked = DialogueSession.objects.select_for_update().get(pk=session.pk)
            _promote_waitlist(locked, now)


# --------------------------------------------------------------------------- #
# Mail to registrants
# --------------------------------------------------------------------------- #


def registration_manage_url(*, registration: Registration, token: str) -> str:
    with translation.override(registration.language):
        path = reverse("dialogues:registration-manage", args=[registration.public_id, token])
    return conf.site_url() + path


def _registrant_mail_queue(
    *, registration: Registration, kind: str, session: DialogueSession
) -> bool:
    return dialogue_mail_queue(
        kind=kind,
        recipients=[registration.email],
        subject_key=registration_key(registration_id=registration.pk, starts_at=session.starts_at),
        # "invitation": the worker attaches the calendar invitation, built when sent.
        payload={"registration_id": registration.pk, "invitation": True},
        language=registration.language,
    )


def registration_notify_confirmation(
    *, registration_id: int, token: str, now: datetime | None = None
) -> bool:
    """Send the confirmation with the personal link; True when sent now.

    The raw token must not be stored (only its keyed hash is), so this mail cannot wait
    in the ledger for the worker: it is sent from this process once the registration is
    committed. Its ledger row, without the link, is written first and marked sent (the
    unique key stops a second confirmation, and the drain never picks it up); a failure
    is recorded on it for staff. "Retry now" then sends it without the link.
    """
    now = now or timezone.now()
    registration = Registration.objects.select_related("session").get(pk=registration_id)
    if not registration.email:
        return False
    from dialogues.selectors import registration_waitlist_position

    position = registration_waitlist_position(registration=registration)
    payload = {
        "registration_id": registration.pk,
        "invitation": registration.status == RegistrationStatus.CONFIRMED,
        "context": {"position": position},
    }
    try:
        with transaction.atomic():
            delivery = Delivery.objects.create(
                kind=ReminderKind.REGISTRATION_CONFIRMED,
                recipient=registration.email,
                subject_key=registration_key(
                    registration_id=registration.pk, starts_at=registration.session.starts_at
                ),
                payload=payload,
                language=registration.language,
                status=DeliveryStatus.SENT,
                attempts=1,
                sent_at=now,
            )
    except IntegrityError:
        return False
    # Rendered from a copy that carries the link; the stored row never does.
    with_link = Delivery(
        pk=delivery.pk,
        kind=delivery.kind,
        recipient=delivery.recipient,
        language=delivery.language,
        payload={
            **payload,
            "context": {
                "position": position,
                "manage_url": registration_manage_url(registration=registration, token=token),
            },
        },
    )
    try:
        subject, body = delivery_render(with_link)
        message = EmailMessage(
            subject=subject,
            body=body,
            to=[registration.email],
            headers={"Message-ID": delivery.message_id},
        )
        for filename, content, mimetype in invitation_attachments(with_link, now=now):
            message.attach(filename, content, mimetype)
        message.send()
    except (SMTPException, OSError) as exc:
        logger.exception("dialogue registration #%s: confirmation failed", registration.pk)
        delivery.status = DeliveryStatus.FAILED
        delivery.sent_at = None
        delivery.last_error = delivery_describe_error(exc)
        delivery.save(update_fields=["status", "sent_at", "last_error"])
        return False
    return True


def registration_remind(*, registration_id: int, now: datetime | None = None) -> bool:
    """Queue the reminder before the session, if still due; True when queued now."""
    now = now or timezone.now()
    registration = Registration.objects.select_related("session").get(pk=registration_id)
    return _remind(registration=registration, now=now)


def _remind(*, registration: Registration, now: datetime) -> bool:
    session = registration.session
    if (
        registration.status != RegistrationStatus.CONFIRMED
        or session.status not in UPCOMING_STATUSES
        or not now < session.starts_at
    ):
        return False
    return _registrant_mail_queue(
        registration=registration, kind=ReminderKind.SESSION_REMINDER, session=session
    )


def registration_reminders_queue(*, now: datetime) -> dict[str, int]:
    """The scan of session reminders: queue what is due; how many were found."""
    from dialogues.selectors import registration_reminders_due

    due = list(registration_reminders_due(now=now).select_related("session"))
    for registration in due:
        _remind(registration=registration, now=now)
    return {str(ReminderKind.SESSION_REMINDER): len(due)}
