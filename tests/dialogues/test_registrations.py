"""Capacity, waiting list, cancellation and promotion, personal links, mail."""

import threading
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.db import IntegrityError, close_old_connections, connection
from django.urls import reverse

from dialogues import selectors, services
from dialogues.constants import RecommendationSource, RegistrationStatus, ReminderKind
from dialogues.models import Recommendation, Registration
from procedures.core.errors import DomainError
from procedures.models import Delivery, DeliveryStatus
from tests.dialogues_factories import (
    FieldFactory,
    SessionFactory,
    local,
    register_business,
)

NOW = local(2026, 2, 25, 9, 0)


def register(session, n: int, attendees: int = 1, **kwargs):
    return register_business(session, n, attendees, **{"now": NOW, **kwargs})


@pytest.fixture
def session(db):
    return SessionFactory(capacity=3, max_attendees_per_registration=3)


def statuses(session):
    return list(
        Registration.objects.filter(session=session)
        .order_by("created_at", "id")
        .values_list("business_name", "status")
    )


@pytest.mark.django_db
class TestCapacity:
    def test_seats_are_counted_in_attendees_and_overflow_goes_to_the_waiting_list(self, session):
        first, _ = register(session, 1, attendees=2)
        second, _ = register(session, 2, attendees=1)
        third, _ = register(session, 3, attendees=1)
        assert (first.status, second.status, third.status) == (
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.CONFIRMED,
            RegistrationStatus.WAITLISTED,
        )
        assert selectors.session_seats(session_id=session.pk) == {"taken": 3, "waitlisted": 1}
        assert selectors.registration_waitlist_position(registration=third) == 1

    def test_a_newcomer_never_overtakes_the_waiting_list(self, session):
        register(session, 1, attendees=2)
        waiting, _ = register(session, 2, attendees=2)  # 2 + 2 > 3: waits
        small, _ = register(session, 3, attendees=1)  # would fit, but someone waits
        assert waiting.status == small.status == RegistrationStatus.WAITLISTED
        assert selectors.registration_waitlist_position(registration=small) == 2

    def test_the_same_business_cannot_register_twice(self, session):
        register(session, 1)
        with pytest.raises(DomainError) as err:
            register(session, 1, business_name="Tên khác", tax_code=" 4600001002 ")
        assert err.value.field == "tax_code"

    def test_database_refuses_a_second_live_registration(self, session):
        first, _ = register(session, 1)
        duplicate = Registration(
            session=session,
            business=first.business,
            business_name="x",
            tax_code=first.tax_code,
            representative="x",
            email="x@example.vn",
            phone="1",
            attendees=1,
            status=RegistrationStatus.WAITLISTED,
            token_hash="0" * 64,
            created_at=NOW,
        )
        with pytest.raises(IntegrityError):
            duplicate.save()

    def test_invalid_tax_code_is_refused(self, session):
        with pytest.raises(DomainError) as err:
            register(session, 1, tax_code="12345")
        assert err.value.field == "tax_code"
        assert not Registration.objects.exists()

    def test_registration_closes_at_the_deadline(self, session):
        register(session, 1, now=session.registration_deadline)  # still in time
        with pytest.raises(DomainError):
            register(session, 2, now=session.registration_deadline + timedelta(seconds=1))

    def test_planned_session_is_not_open(self, db):
        session = SessionFactory(planned=True)
        with pytest.raises(DomainError):
            register(session, 1)

    def test_too_many_attendees_for_one_business(self, session):
        with pytest.raises(DomainError) as err:
            register(session, 1, attendees=4)
        assert err.value.field == "attendees"

    def test_questions_in_advance_become_a_recommendation(self, session):
        field = FieldFactory(name="Xăng dầu")
        registration, _ = register(
            session,
            1,
            questions="Thủ tục cấp phép cửa hàng xăng dầu quá lâu.",
            question_field_id=field.pk,
        )
        recommendation = Recommendation.objects.get()
        assert recommendation.registration == registration
        assert recommendation.session == session
        assert recommendation.source == RecommendationSource.ADVANCE
        assert recommendation.field == field
        assert recommendation.business.tax_code == "4600001002"


@pytest.mark.django_db
class TestCancellationAndPromotion:
    def test_cancel_promotes_the_waiting_list_in_order(
        self, session, django_capture_on_commit_callbacks
    ):
        a, _ = register(session, 1, attendees=2)
        register(session, 2, attendees=1)
        c, _ = register(session, 3, attendees=1)
        d, _ = register(session, 4, attendees=1)
        e, _ = register(session, 5, attendees=2)
        mail.outbox.clear()
        with time_machine.travel(NOW, tick=False), django_capture_on_commit_callbacks(execute=True):
            promoted = services.registration_cancel(registration_id=a.pk, now=NOW)
        # Two seats freed: C then D (in order); E needs 2 and stays.
        assert promoted == [c.pk, d.pk]
        assert statuses(session) == [
            ("Công ty 1", RegistrationStatus.CANCELLED),
            ("Công ty 2", RegistrationStatus.CONFIRMED),
            ("Công ty 3", RegistrationStatus.CONFIRMED),
            ("Công ty 4", RegistrationStatus.CONFIRMED),
            ("Công ty 5", RegistrationStatus.WAITLISTED),
        ]
        e.refresh_from_db()
        assert selectors.registration_waitlist_position(registration=e) == 1
        assert sorted(m.to[0] for m in mail.outbox) == ["dn3@example.vn", "dn4@example.vn"]
        assert all(m.attachments[0][0] == "invitation.ics" for m in mail.outbox)

    def test_strict_order_a_large_head_blocks_smaller_ones_behind(self, session):
        a, _ = register(session, 1, attendees=1)
        register(session, 2, attendees=2)
        big, _ = register(session, 3, attendees=3)
        small, _ = register(session, 4, attendees=1)
        assert services.registration_cancel(registration_id=a.pk, now=NOW) == []
        big.refresh_from_db()
        small.refresh_from_db()
        assert big.status == small.status == RegistrationStatus.WAITLISTED

    def test_cancelling_a_waitlisted_registration_promotes_nobody(self, session):
        register(session, 1, attendees=3)
        waiting, _ = register(session, 2)
        assert services.registration_cancel(registration_id=waiting.pk, now=NOW) == []
        assert Registration.objects.filter(status=RegistrationStatus.CONFIRMED).count() == 1

    def test_cancel_twice_is_refused(self, session):
        a, _ = register(session, 1)
        services.registration_cancel(registration_id=a.pk, now=NOW)
        with pytest.raises(DomainError):
            services.registration_cancel(registration_id=a.pk, now=NOW)

    def test_no_cancellation_once_the_session_started(self, session):
        a, _ = register(session, 1)
        with pytest.raises(DomainError):
            services.registration_cancel(registration_id=a.pk, now=session.starts_at)

    def test_a_cancelled_business_may_register_again(self, session):
        a, _ = register(session, 1)
        services.registration_cancel(registration_id=a.pk, now=NOW)
        again, _ = register(session, 1)
        assert again.status == RegistrationStatus.CONFIRMED

    def test_raising_the_capacity_promotes(self, session):
        register(session, 1, attendees=3)
        waiting, _ = register(session, 2, attendees=2)
        session.capacity = 5
        services.dialogue_session_save(session=session, changed=["capacity"], now=NOW)
        waiting.refresh_from_db()
        assert waiting.status == RegistrationStatus.CONFIRMED
        assert waiting.promoted_at == NOW


@pytest.mark.django_db
class TestPersonalLink:
    def test_only_a_keyed_hash_of_the_token_is_stored(self, session):
        registration, token = register(session, 1)
        registration.refresh_from_db()
        assert token not in registration.token_hash
        assert len(registration.token_hash) == 64
        assert (
            selectors.registration_get_by_link(public_id=registration.public_id, token=token)
            == registration
        )
        assert (
            selectors.registration_get_by_link(public_id=registration.public_id, token=token + "x")
            is None
        )

    def test_confirmation_mail_has_the_link_and_an_ics_invitation(
        self, session, django_capture_on_commit_callbacks, settings
    ):
        settings.LANGUAGE_CODE = "vi"  # as in production: Vietnamese links carry no prefix
        with django_capture_on_commit_callbacks(execute=True):
            registration, token = register(session, 1, attendees=2)
        assert len(mail.outbox) == 1
        message = mail.outbox[0]
        assert message.to == ["dn1@example.vn"]
        path = reverse("dialogues:registration-manage", args=[registration.public_id, token])
        assert f"https://motcua.example.gov.vn{path}" in message.body
        name, ics, mimetype = message.attachments[0]
        assert name == "invitation.ics" and mimetype.startswith("text/calendar")
        assert ics.startswith("BEGIN:VCALENDAR\r\n") and ics.endswith("END:VCALENDAR\r\n")
        assert "\n" not in ics.replace("\r\n", "")
        assert "DTSTART:20260303T010000Z\r\n" in ics  # 08:00 in Hanoi
        assert "DTEND:20260303T040000Z\r\n" in ics
        # RFC 5545 escaping of the comma in the venue.
        assert "LOCATION:Hội trường Sở Công Thương\\, số 1 đường Đội Cấn" in ics.replace(
            "\r\n ", ""
        )
        # Recorded in the ledger, without the personal link (a secret).
        row = Delivery.objects.get(
            kind=ReminderKind.REGISTRATION_CONFIRMED, payload__registration_id=registration.pk
        )
        assert row.status == DeliveryStatus.SENT
        assert token not in str(row.payload)

    def test_waitlisted_mail_says_so_and_has_no_invitation(
        self, session, django_capture_on_commit_callbacks
    ):
        register(session, 1, attendees=3)
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            register(session, 2, language="en")
        message = mail.outbox[0]
        assert "waiting list" in message.subject
        assert "position 1" in message.body
        assert message.attachments == []

    def test_manage_page_shows_and_cancels(
        self, session, client, django_capture_on_commit_callbacks
    ):
        a, token = register(session, 1, attendees=3)
        waiting, _ = register(session, 2)
        url = reverse("dialogues:registration-manage", args=[a.public_id, token])
        with time_machine.travel(NOW, tick=False):
            response = client.get(url)
            assert response.status_code == 200
            assert response["Cache-Control"] == "private, no-store"
            assert "Công ty 1" in response.content.decode()
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(url)
        assert response.status_code == 302
        a.refresh_from_db()
        waiting.refresh_from_db()
        assert a.status == RegistrationStatus.CANCELLED
        assert waiting.status == RegistrationStatus.CONFIRMED

    def test_wrong_token_is_a_404(self, session, client):
        a, token = register(session, 1)
        # Another first character: a token drawn with "x" first (1 in 64) stayed right.
        wrong = ("y" if token.startswith("x") else "x") + token[1:]
        url = reverse("dialogues:registration-manage", args=[a.public_id, wrong])
        assert client.get(url).status_code == 404
        assert client.post(url).status_code == 404
        a.refresh_from_db()
        assert a.status == RegistrationStatus.CONFIRMED

    def test_ics_download(self, session, client):
        a, token = register(session, 1)
        response = client.get(reverse("dialogues:registration-ics", args=[a.public_id, token]))
        assert response.status_code == 200
        assert response["Content-Type"] == "text/calendar; charset=utf-8"
        assert b"BEGIN:VEVENT\r\n" in response.content


@pytest.mark.django_db(transaction=True)
def test_concurrent_registrations_never_exceed_capacity(require_postgres):
    """Twelve businesses race for 5 seats: exactly 5 confirmed, 7 waiting, in order."""
    session = SessionFactory(capacity=5, max_attendees_per_registration=1)
    barrier = threading.Barrier(12)
    errors = []

    def worker(n):
        try:
            barrier.wait()
            register(session, n, now=NOW + timedelta(microseconds=n))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(1, 13)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    confirmed = Registration.objects.filter(session=session, status=RegistrationStatus.CONFIRMED)
    assert confirmed.count() == 5
    assert (
        Registration.objects.filter(session=session, status=RegistrationStatus.WAITLISTED).count()
        == 7
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_cancellations_promote_each_waiting_registration_once(require_postgres):
    session = SessionFactory(capacity=4, max_attendees_per_registration=1)
    confirmed = [register(session, n)[0] for n in range(1, 5)]
    waiting = [register(session, n)[0] for n in range(5, 9)]
    barrier = threading.Barrier(4)
    errors = []

    def worker(registration_id):
        try:
            barrier.wait()
            services.registration_cancel(registration_id=registration_id, now=NOW)
        except Exception as exc:
            errors.append(exc)
        finally:
            connection.close()

    from unittest import mock

    with mock.patch("procedures.notifications.services.enqueue_deliveries"):
        threads = [threading.Thread(target=worker, args=(r.pk,)) for r in confirmed]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert errors == []
    assert sorted(
        Registration.objects.filter(status=RegistrationStatus.CONFIRMED).values_list(
            "pk", flat=True
        )
    ) == sorted(r.pk for r in waiting)
    assert not Registration.objects.filter(status=RegistrationStatus.WAITLISTED).exists()
    # One promotion notice each, queued in the ledger with the promotion.
    assert sorted(
        Delivery.objects.filter(kind=ReminderKind.REGISTRATION_PROMOTED).values_list(
            "recipient", flat=True
        )
    ) == sorted(r.email for r in waiting)
