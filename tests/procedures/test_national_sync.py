"""National portal sync (issue 12 item 4): each status change becomes a ledger row on
the "national" channel, POSTed by the worker to the portal with its token, retried on
transient failures, and listed in the admin. The portal is a stand-in HTTP server."""

from datetime import timedelta

import pytest
from django.urls import reverse

from procedures.core.constants import ApplicantType, Channel, DossierStatus, ResultDelivery
from procedures.dossiers import services as svc
from procedures.models import Delivery, DeliveryChannel, DeliveryStatus
from procedures.notifications.delivery import Outcome, delivery_drain, delivery_send
from procedures.notifications.national_sync import NATIONAL_CODES, RECIPIENT
from tests.servers import StandInPeer

from .conftest import at

pytestmark = pytest.mark.django_db

TOKEN = "portal-token-123"


def _portal_reply(status: int) -> bytes:
    return b'{"error_code": 0}' if status == 200 else b"Service Unavailable"


@pytest.fixture
def portal(settings):
    receiver = StandInPeer(path="/dongbo/hoso", reply=_portal_reply)
    settings.NATIONAL_SYNC_ENABLED = True
    settings.NATIONAL_SYNC_URL = receiver.url
    settings.NATIONAL_SYNC_TOKEN = TOKEN
    settings.NATIONAL_SYNC_AGENCY_CODE = "H56.16"
    settings.NATIONAL_SYNC_TIMEOUT = 5
    yield receiver
    receiver.stop()


@pytest.fixture
def journey(portal, register, staff, units):
    """Registered online, accepted, assigned (1 -> 2 -> 4), payment requested (6)."""
    d = register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0))
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        note="Ghi chú nội bộ",
        now=at(2026, 6, 1, 10, 5),
    )
    # Naming another officer of the same unit is not a status change: nothing is sent.
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["unit_head"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 10, 10),
    )
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Lệ phí", now=at(2026, 6, 1, 11, 0)
    )
    return d


def national_rows():
    return Delivery.objects.filter(channel=DeliveryChannel.NATIONAL).order_by("id")


def test_the_code_table_covers_every_value():
    assert NATIONAL_CODES["status"] == {s: int(s) for s in DossierStatus}
    assert set(NATIONAL_CODES["status"].values()) == set(range(1, 11))
    assert set(NATIONAL_CODES["channel"]) == set(Channel)
    assert set(NATIONAL_CODES["applicant_type"]) == set(ApplicantType)
    assert set(NATIONAL_CODES["result_delivery"]) == set(ResultDelivery)


def test_each_status_change_is_queued_and_posted(journey, portal):
    rows = list(national_rows())
    assert [r.payload["record"]["TrangThaiHoSo"] for r in rows] == [1, 2, 4, 6]
    assert {r.recipient for r in rows} == {RECIPIENT}
    assert all(r.status == DeliveryStatus.PENDING for r in rows)

    counts = delivery_drain(now=at(2026, 6, 1, 11, 1))
    assert counts["sent"] >= 4
    assert [r.status for r in national_rows()] == [DeliveryStatus.SENT] * 4
    assert len(portal.requests) == 4
    first = portal.requests[0]
    assert first["path"] == "/dongbo/hoso"
    assert first["headers"]["Authorization"] == f"Bearer {TOKEN}"
    assert first["headers"]["Idempotency-Key"] == f"motcua-{rows[0].pk}"
    accepted = portal.requests[1]["json"]
    assert accepted["MaDonVi"] == "H56.16"
    record = accepted["HoSo"][0]
    assert record["MaHoSo"] == journey.code
    assert record["MaTTHC"] == "2.000633"
    assert record["TrangThaiHoSo"] == 2
    assert record["KenhThucHien"] == 2
    assert record["LoaiDoiTuong"] == 1
    assert record["ChuHoSo"] == "Nguyễn Văn An"
    assert record["NgayTiepNhan"] == "20260601100000"
    assert record["NgayHenTra"] != ""
    assert record["GhiChu"] == ""
    assert portal.requests[2]["json"]["HoSo"][0]["GhiChu"] == ""  # the internal remark
    assert portal.requests[3]["json"]["HoSo"][0]["GhiChu"] == "Lệ phí"  # told the applicant
    # A second drain sends nothing again.
    assert delivery_drain(now=at(2026, 6, 1, 11, 2))["sent"] == 0
    assert len(portal.requests) == 4


def test_transient_failure_is_retried_and_permanent_one_is_failed(portal, register):
    d = register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0))
    row = national_rows().get()
    portal.statuses = [503]
    now = at(2026, 6, 1, 9, 1)
    assert delivery_send(delivery_id=row.pk, now=now) == Outcome.RETRY
    row.refresh_from_db()
    assert row.status == DeliveryStatus.PENDING
    assert row.next_attempt_at == now + timedelta(seconds=60)
    assert "The national portal answered 503" in row.last_error
    assert delivery_send(delivery_id=row.pk, now=now + timedelta(seconds=30)) == Outcome.SKIPPED
    assert delivery_send(delivery_id=row.pk, now=now + timedelta(seconds=61)) == Outcome.SENT
    assert len(portal.requests) == 2
    assert portal.requests[0]["json"] == portal.requests[1]["json"]

    portal.statuses = [400]
    d = svc.dossier_withdraw(dossier=d, reason="Rút", now=at(2026, 6, 1, 10, 0))
    withdrawn = national_rows().last()
    assert withdrawn.payload["record"]["TrangThaiHoSo"] == 7
    assert delivery_send(delivery_id=withdrawn.pk, now=at(2026, 6, 1, 10, 1)) == Outcome.FAILED
    withdrawn.refresh_from_db()
    assert withdrawn.status == DeliveryStatus.FAILED
    assert "answered 400" in withdrawn.last_error and "Gave up" in withdrawn.last_error


def test_unreachable_portal_is_retried(portal, register, settings):
    register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0))
    portal.stop()
    row = national_rows().get()
    assert delivery_send(delivery_id=row.pk, now=at(2026, 6, 1, 9, 1)) == Outcome.RETRY
    row.refresh_from_db()
    assert "Could not reach the national portal" in row.last_error
    portal.__init__(path="/dongbo/hoso", reply=_portal_reply)  # for the teardown


def test_nothing_is_queued_when_the_sync_is_off(register, settings):
    settings.NATIONAL_SYNC_ENABLED = False
    register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0))
    assert not national_rows().exists()


def test_admin_filters_the_ledger_by_channel(journey, admin_client):
    url = reverse("admin:procedures_delivery_changelist")
    page = admin_client.get(url + "?channel__exact=national")
    assert page.status_code == 200
    listed = list(page.context["cl"].result_list)
    assert [r.pk for r in listed] == list(national_rows().reverse().values_list("pk", flat=True))
    assert len(listed) == 4
    assert Delivery.objects.exclude(channel=DeliveryChannel.NATIONAL).exists()
    assert "National portal" in page.content.decode()  # the filter's choice
    row = national_rows().first()
    detail = admin_client.get(reverse("admin:procedures_delivery_change", args=[row.pk]))
    assert f"MaHoSo: {row.payload['record']['MaHoSo']}" in detail.content.decode()
