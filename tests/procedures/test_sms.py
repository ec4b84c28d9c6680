"""SMS to the applicant (issue 12 item 5): the same ledger rows and exactly-once rules as
mail, only with a phone number and consent, and a gateway backend tested against a
stand-in HTTP server started here."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse

from procedures.core.constants import ApplicantType, Channel
from procedures.dossiers import services as svc
from procedures.dossiers.services import Applicant
from procedures.models import Delivery, DeliveryChannel, DeliveryStatus, Dossier
from procedures.notifications import sms
from procedures.notifications.delivery import delivery_drain, delivery_send
from procedures.notifications.services import notify_dossier_event
from procedures.tasks import deliver
from tests.servers import StandInPeer

from .conftest import at
from .test_portal_submission import form_data, online_procedure, submit_url  # noqa: F401

pytestmark = pytest.mark.django_db


def applicant(*, consent: bool, phone: str = "0912345678") -> Applicant:
    return Applicant(
        type=ApplicantType.INDIVIDUAL,
        name="Nguyễn Văn Đức",
        id_number="001099012345",
        phone=phone,
        email="duc@example.com",
        sms_consent=consent,
    )


@pytest.fixture(autouse=True)
def _empty_outbox():
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def accepted(register, staff, django_capture_on_commit_callbacks):
    """An online dossier of an applicant who agreed to SMS, accepted by the desk; the
    commit hooks run, so the eager worker has sent what was queued."""

    def _accepted(*, consent=True, phone="0912345678"):
        with django_capture_on_commit_callbacks(execute=True):
            d = register(
                channel=Channel.ONLINE,
                applicant=applicant(consent=consent, phone=phone),
                now=at(2026, 6, 1, 9, 0),
            )
        with django_capture_on_commit_callbacks(execute=True):
            d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
        return d

    return _accepted


def test_a_status_change_sends_exactly_one_sms_even_when_delivered_twice(accepted):
    d = accepted()
    row = Delivery.objects.get(channel=DeliveryChannel.SMS, kind="applicant.accepted")
    assert (row.recipient, row.status) == ("0912345678", DeliveryStatus.SENT)
    texts = [m for m in sms.outbox if m.reference == f"motcua-delivery-{row.pk}"]
    assert len(texts) == 1
    (message,) = texts
    assert message.to == "+84912345678"
    assert message.text.startswith(f"Ho so {d.code} da duoc tiep nhan giai quyet")
    assert d.code in message.text and f"/tra-cuu/?code={d.code}" in message.text
    assert "04/06/2026" in message.text  # the appointment

    # The worker gets the task again (a redelivered message), and the drain runs.
    assert deliver(row.pk) == "skipped"
    assert delivery_drain()["sent"] == 0
    # The event is notified again (a retried transaction): the ledger's key refuses it.
    assert notify_dossier_event(event=d.events.get(action="accept")) == []
    assert [m.reference for m in sms.outbox].count(f"motcua-delivery-{row.pk}") == 1
    assert Delivery.objects.filter(channel=DeliveryChannel.SMS).count() == 2  # receipt, accepted


def test_the_receipt_sms_is_in_vietnamese_without_accents_by_default(register, settings):
    d = register(channel=Channel.ONLINE, applicant=applicant(consent=True))
    row = Delivery.objects.get(channel=DeliveryChannel.SMS)
    text = sms.sms_render(row)
    assert d.code in text and text.isascii()
    settings.SMS_STRIP_ACCENTS = False
    assert not sms.sms_render(row).isascii()  # the catalogue's Vietnamese, with accents


def test_no_sms_without_consent_or_without_a_phone(accepted):
    accepted(consent=False)
    accepted(consent=True, phone="")
    assert not Delivery.objects.filter(channel=DeliveryChannel.SMS).exists()
    assert sms.outbox == []
    assert Delivery.objects.filter(channel=DeliveryChannel.EMAIL).count() == 4  # mail goes on
    assert len(mail.outbox) == 4


def test_the_portal_form_records_the_consent(
    client, online_procedure, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        client.post(submit_url(online_procedure), form_data(online_procedure, sms_consent="on"))
        client.post(
            submit_url(online_procedure),
            form_data(online_procedure, applicant_name="Lê Thị Hoa"),
        )
    consents = dict(Dossier.objects.values_list("applicant_name", "applicant_sms_consent"))
    assert consents == {"Nguyễn Thị Bình": True, "Lê Thị Hoa": False}
    assert [m.to for m in sms.outbox] == ["+84912345678"]
    page = client.get(reverse("procedures:submit", args=[online_procedure.pk]))
    assert 'name="sms_consent"' in page.content.decode()


def test_the_console_backend_prints_the_message(register, settings, capsys):
    settings.SMS_BACKEND = "procedures.notifications.sms.ConsoleBackend"
    d = register(channel=Channel.ONLINE, applicant=applicant(consent=True))
    row = Delivery.objects.get(channel=DeliveryChannel.SMS)
    assert delivery_send(delivery_id=row.pk) == "sent"
    out = capsys.readouterr().out
    assert f"SMS to +84912345678 [motcua-delivery-{row.pk}]:" in out and d.code in out


# --------------------------------------------------------------------------- gateway


def sms_gateway() -> StandInPeer:
    """A stand-in SMS gateway: answers each POST with the next queued status."""
    return StandInPeer(
        path="/send", reply=lambda status: b'{"error": "number barred"}' if status == 400 else b"{}"
    )


@pytest.fixture
def gateway(settings):
    with sms_gateway() as gw:
        settings.SMS_BACKEND = "procedures.notifications.sms.HttpBackend"
        settings.SMS_GATEWAY_URL = gw.url
        settings.SMS_GATEWAY_TOKEN = "tok-123"
        yield gw


def _sms_row(register):
    register(channel=Channel.ONLINE, applicant=applicant(consent=True))
    return Delivery.objects.get(channel=DeliveryChannel.SMS)


def test_the_gateway_gets_the_message_with_token_and_idempotency_key(register, gateway):
    row = _sms_row(register)
    assert delivery_send(delivery_id=row.pk) == "sent"
    (request,) = gateway.requests
    assert request["headers"]["Authorization"] == "Bearer tok-123"
    assert request["headers"]["Idempotency-Key"] == f"motcua-delivery-{row.pk}"
    assert request["json"]["to"] == "+84912345678"
    assert request["json"]["from"] == "SOCONGTHUONG"
    assert request["json"]["reference"] == f"motcua-delivery-{row.pk}"


def test_a_failing_gateway_is_recorded_on_the_row_and_retried_like_mail(register, gateway):
    row = _sms_row(register)
    gateway.statuses = [503]
    now = at(2026, 6, 1, 9, 5)
    assert delivery_send(delivery_id=row.pk, now=now) == "retry"
    row.refresh_from_db()
    assert (row.status, row.attempts) == (DeliveryStatus.PENDING, 1)
    assert row.next_attempt_at == now + timedelta(seconds=60)
    assert "The SMS gateway answered 503" in row.last_error and "Next attempt" in row.last_error
    # Not yet due: the drain leaves it; once due, it is sent, and the error cleared.
    delivery_drain(now=now + timedelta(seconds=30))  # sends the applicant's mail only
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING and len(gateway.requests) == 1
    assert delivery_drain(now=now + timedelta(seconds=61))["sent"] == 1
    row.refresh_from_db()
    assert (row.status, row.attempts, row.last_error) == (DeliveryStatus.SENT, 2, "")
    assert len(gateway.requests) == 2
    assert {r["headers"]["Idempotency-Key"] for r in gateway.requests} == {
        f"motcua-delivery-{row.pk}"
    }


def test_a_refused_number_fails_for_good_with_the_gateways_words(register, gateway):
    row = _sms_row(register)
    gateway.statuses = [400]
    assert delivery_send(delivery_id=row.pk) == "failed"
    row.refresh_from_db()
    assert row.status == DeliveryStatus.FAILED
    assert "answered 400" in row.last_error and "number barred" in row.last_error


def test_an_unreachable_gateway_is_transient(register, settings):
    settings.SMS_BACKEND = "procedures.notifications.sms.HttpBackend"
    with sms_gateway() as gw:
        url = gw.url  # a port that nobody listens on once the server is closed
    settings.SMS_GATEWAY_URL = url
    row = _sms_row(register)
    assert delivery_send(delivery_id=row.pk) == "retry"
    row.refresh_from_db()
    assert "Could not reach the SMS gateway" in row.last_error


@pytest.mark.parametrize(
    ("phone", "number"),
    [
        ("0912345678", "+84912345678"),
        ("+84912345678", "+84912345678"),
        ("84912345678", "+84912345678"),
    ],
)
def test_numbers_are_sent_in_international_form(phone, number):
    assert sms.sms_number(phone) == number


def test_the_desk_records_the_consent_and_the_acceptance_goes_by_sms(
    client, staff, procedure, django_capture_on_commit_callbacks
):
    from .test_admin_dossiers import register_data

    client.force_login(staff["intake"])
    data = register_data(procedure, accept_now="on", applicant_sms_consent="on")
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("admin:procedures_dossier_add"), data)
    d = Dossier.objects.get(applicant_name="Trần Thị Bình")
    assert d.applicant_sms_consent
    assert [m.to for m in sms.outbox] == ["+84988000111"]
    assert sms.outbox[0].text.startswith(f"Ho so {d.code} da duoc tiep nhan giai quyet")
