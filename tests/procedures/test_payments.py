"""Online fee payment (issue 12 item 3): the pay button, the stand-in platform, and the
signed IPN that alone confirms a payment and restarts the dossier's clock."""

from decimal import Decimal
from urllib.parse import parse_qsl, urlsplit

import pytest
import time_machine
from django.test import override_settings
from django.urls import reverse

from procedures.calendar import working_time as calendar
from procedures.core.constants import Action
from procedures.core.constants import DossierStatus as S
from procedures.dossiers import services as svc
from procedures.models import Dossier
from procedures.payments import gateway as gw
from procedures.payments.models import CallbackOutcome, Payment, PaymentCallback, PaymentStatus
from procedures.payments.services import payment_confirm, payment_start

from .conftest import at

SECRET = "test-payment-secret"  # config/settings/test.py


@pytest.fixture
def awaiting(online_assigned, staff):
    """An online dossier accepted on Monday 1 June 2026 at 10:00, assigned, and asked to
    pay its 1,200,000 VND fee at 11:00 (clock paused)."""
    d = online_assigned()
    pin = d.pin
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Lệ phí 1.200.000 đồng", now=at(2026, 6, 1, 11)
    )
    d.pin = pin
    return d


def open_dossier(client, dossier):
    response = client.post(reverse("procedures:lookup"), {"code": dossier.code, "pin": dossier.pin})
    assert response.status_code == 302


def ipn_params(payment, *, code=gw.PAID, amount=None, secret=SECRET, txn="GW0001"):
    params = {
        gw.MERCHANT: "H56.16",
        gw.TXN_REF: payment.txn_ref,
        gw.AMOUNT: str(payment.amount_vnd if amount is None else amount),
        gw.RESPONSE_CODE: code,
        gw.GATEWAY_TXN: txn,
        gw.PAID_AT: "20260601140000",
    }
    params[gw.SIGNATURE] = gw.sign(params, secret)
    return params


def post_ipn(client, params):
    return client.post(reverse("payments:ipn"), params)


def test_signature_is_hmac_sha256_over_sorted_encoded_parameters():
    params = {"b": "x y", "a": "1", "empty": "", gw.SIGNATURE: "ignored"}
    assert gw.canonical(params) == "a=1&b=x%20y"
    import hashlib
    import hmac

    assert gw.sign(params, "k") == hmac.new(b"k", b"a=1&b=x%20y", hashlib.sha256).hexdigest()
    assert gw.signature_valid({**params, gw.SIGNATURE: gw.sign(params, "k")}, "k")
    assert not gw.signature_valid({**params, "a": "2", gw.SIGNATURE: gw.sign(params, "k")}, "k")
    assert not gw.signature_valid({**params, gw.SIGNATURE: gw.sign(params, "k")}, "")


def test_lookup_page_offers_the_pay_button(client, awaiting):
    open_dossier(client, awaiting)
    html = client.get(reverse("procedures:lookup-dossier", args=[awaiting.code])).content.decode()
    assert 'id="pay-online"' in html
    assert "Pay 1,200,000 VND online" in html
    with override_settings(PAYMENT_GATEWAY=""):
        html = client.get(reverse("procedures:lookup-dossier", args=[awaiting.code]))
        assert 'id="pay-online"' not in html.content.decode()


def test_pay_button_in_vietnamese(client, awaiting, vietnamese):
    open_dossier(client, awaiting)
    html = client.get(reverse("procedures:lookup-dossier", args=[awaiting.code])).content.decode()
    assert "Thanh toán trực tuyến 1.200.000" in html


def test_pay_button_needs_the_pin_session(client, awaiting):
    response = client.post(reverse("payments:start", args=[awaiting.code]))
    assert response.status_code == 404
    assert not Payment.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_start_standin_ipn_resumes_the_clock_with_the_right_deadline(
    client, awaiting, live_server, settings
):
    settings.SITE_URL = live_server.url
    due_before = awaiting.due_at
    original_before = awaiting.original_due_at
    open_dossier(client, awaiting)

    with time_machine.travel(at(2026, 6, 1, 14, 0), tick=False):
        response = client.post(reverse("payments:start", args=[awaiting.code]))
        assert response.status_code == 302
        platform = urlsplit(response["Location"])
        assert f"{platform.scheme}://{platform.netloc}" == live_server.url
        assert platform.path == reverse("payments:standin")
        request = dict(parse_qsl(platform.query))
        payment = Payment.objects.get()
        assert request[gw.TXN_REF] == payment.txn_ref
        assert request[gw.AMOUNT] == "1200000" and payment.amount_vnd == 1_200_000
        assert gw.signature_valid(request, SECRET)

        page = client.get(f"{platform.path}?{platform.query}")
        assert page.status_code == 200
        assert "1,200,000 VND" in page.content.decode()

        # "Pay": the stand-in posts the signed IPN to our IPN address over HTTP (the
        # live server), then sends the browser back to the return address.
        back = client.post(platform.path, {**request, "decision": "pay"})
        assert back.status_code == 302
        returned = client.get(back["Location"])
    assert "Your payment was received" in returned.content.decode()

    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    assert payment.raw_callback[gw.RESPONSE_CODE] == gw.PAID
    d = Dossier.objects.get(pk=awaiting.pk)
    assert d.status == S.PROCESSING
    assert d.paused_at is None
    # Paused 11:00-14:00 on a Monday: 11:00-11:30 and 13:30-14:00 are working time.
    assert d.paused_seconds == 3600
    assert d.due_at == calendar.add_working_hours(due_before, Decimal(1))
    assert d.original_due_at == calendar.add_working_hours(original_before, Decimal(1))
    event = d.events.get(action=Action.CONFIRM_PAYMENT)
    assert event.at == at(2026, 6, 1, 14, 0) and event.actor is None
    assert payment.txn_ref in event.note
    assert list(PaymentCallback.objects.values_list("kind", "outcome").order_by("id")) == [
        ("ipn", CallbackOutcome.CONFIRMED),
        ("return", CallbackOutcome.SHOWN),
    ]


def test_replayed_paid_ipn_changes_nothing_and_answers_ok(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    params = ipn_params(payment)
    with time_machine.travel(at(2026, 6, 1, 14, 0), tick=False):
        first = post_ipn(client, params)
    assert first.json() == {"RspCode": "00", "Message": "Confirm Success"}
    d = Dossier.objects.get(pk=awaiting.pk)
    state = (d.status, d.due_at, d.version, d.events.count())
    with time_machine.travel(at(2026, 6, 2, 9, 0), tick=False):
        again = post_ipn(client, params)
    assert again.json() == {"RspCode": "00", "Message": "Confirm Success"}
    d.refresh_from_db()
    assert (d.status, d.due_at, d.version, d.events.count()) == state
    assert d.status == S.PROCESSING
    payment.refresh_from_db()
    assert payment.settled_at == at(2026, 6, 1, 14, 0)
    outcomes = list(PaymentCallback.objects.order_by("id").values_list("outcome", flat=True))
    assert outcomes == [CallbackOutcome.CONFIRMED, CallbackOutcome.REPLAY]


def test_forged_signature_is_refused_and_recorded(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    forged = ipn_params(payment, secret="guessed-secret")
    response = post_ipn(client, forged)
    assert response.json()["RspCode"] == "97"
    tampered = {**ipn_params(payment), gw.GATEWAY_TXN: "OTHER"}
    assert post_ipn(client, tampered).json()["RspCode"] == "97"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert Dossier.objects.get(pk=awaiting.pk).status == S.PAYMENT_REQUESTED
    logged = list(PaymentCallback.objects.order_by("id"))
    assert [c.outcome for c in logged] == [CallbackOutcome.BAD_SIGNATURE] * 2
    assert logged[0].params[gw.SIGNATURE] == forged[gw.SIGNATURE]


def test_wrong_amount_is_refused_and_recorded(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    response = post_ipn(client, ipn_params(payment, amount=1_000))
    assert response.json()["RspCode"] == "04"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert Dossier.objects.get(pk=awaiting.pk).status == S.PAYMENT_REQUESTED
    callback = PaymentCallback.objects.get()
    assert callback.outcome == CallbackOutcome.WRONG_AMOUNT and callback.payment == payment


def test_return_url_without_ipn_does_not_confirm(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    response = client.get(reverse("payments:return"), ipn_params(payment))
    assert response.status_code == 200
    assert "it is being confirmed" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PENDING
    assert Dossier.objects.get(pk=awaiting.pk).status == S.PAYMENT_REQUESTED
    forged = client.get(reverse("payments:return"), ipn_params(payment, secret="x"))
    assert forged.status_code == 400
    assert "could not be verified" in forged.content.decode()


def test_cancelled_payment_leaves_the_dossier_waiting_and_can_be_retried(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    assert post_ipn(client, ipn_params(payment, code=gw.CANCELLED)).json()["RspCode"] == "00"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.FAILED
    assert Dossier.objects.get(pk=awaiting.pk).status == S.PAYMENT_REQUESTED
    second, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 5))
    assert second.txn_ref != payment.txn_ref
    assert post_ipn(client, ipn_params(second)).json()["RspCode"] == "00"
    assert Dossier.objects.get(pk=awaiting.pk).status == S.PROCESSING


def test_second_payment_of_the_same_request_is_kept_for_refund(client, awaiting):
    one, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    two, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 1))
    payment_confirm(params=ipn_params(one), now=at(2026, 6, 1, 14, 0))
    answer = payment_confirm(params=ipn_params(two, txn="GW0002"), now=at(2026, 6, 1, 14, 1))
    assert answer.code == "00" and answer.outcome == CallbackOutcome.DUPLICATE
    two.refresh_from_db()
    assert two.status == PaymentStatus.DUPLICATE
    d = Dossier.objects.get(pk=awaiting.pk)
    assert d.events.filter(action=Action.CONFIRM_PAYMENT).count() == 1


def test_standin_is_off_unless_chosen(client, awaiting, settings):
    payment, url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    parts = urlsplit(url)
    assert client.get(f"{parts.path}?{parts.query}").status_code == 200
    tampered = parts.query.replace("1200000", "1")
    assert client.get(f"{parts.path}?{tampered}").status_code == 400
    settings.PAYMENT_GATEWAY = "national"
    settings.PAYMENT_GATEWAY_URL = "https://payment.example.gov.vn/pay"
    assert client.get(f"{parts.path}?{parts.query}").status_code == 404
    _payment, national = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 2))
    assert national.startswith("https://payment.example.gov.vn/pay?")


def test_checks_refuse_a_half_configured_adapter(settings):
    from procedures.payments.checks import check_payment_settings

    assert check_payment_settings(None) == []
    settings.PAYMENT_SECRET = ""
    settings.PAYMENT_GATEWAY = "national"
    settings.PAYMENT_GATEWAY_URL = ""
    settings.NATIONAL_SYNC_ENABLED = True
    settings.NATIONAL_SYNC_URL = ""
    ids = [p.id for p in check_payment_settings(None)]
    assert ids == ["procedures.E101", "procedures.E102", "procedures.E104"]
    settings.PAYMENT_GATEWAY, settings.PAYMENT_SECRET = "standin", "s"
    settings.SECURE_SSL_REDIRECT, settings.NATIONAL_SYNC_ENABLED = True, False
    assert [p.id for p in check_payment_settings(None)] == ["procedures.W103"]


def test_paid_ipn_after_withdrawal_records_the_money_and_leaves_the_dossier(client, awaiting):
    payment, _url = payment_start(dossier=awaiting, now=at(2026, 6, 1, 13, 0))
    svc.dossier_withdraw(dossier=awaiting, reason="Rút hồ sơ", now=at(2026, 6, 1, 13, 30))
    assert post_ipn(client, ipn_params(payment)).json()["RspCode"] == "00"
    payment.refresh_from_db()
    assert payment.status == PaymentStatus.PAID
    d = Dossier.objects.get(pk=awaiting.pk)
    assert d.status == S.WITHDRAWN
    assert not d.events.filter(action=Action.CONFIRM_PAYMENT).exists()
