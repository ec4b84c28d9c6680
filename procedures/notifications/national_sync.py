"""Dossier sync with the national public-service portal (issue 12 item 4).

Every status change of a dossier (and a new appointment after an apology) is queued
in the delivery ledger as one row on the channel "national", in the transaction of the
change, with the record the portal receives built from the dossier as it stands right
after that change. The worker sends it like any message (delivery.py: claim, send,
mark; transient failures retried with growing delays, permanent ones shown in the
admin): an HTTP POST of JSON to NATIONAL_SYNC_URL with the bearer token
NATIONAL_SYNC_TOKEN. The record carries the event's time and id (``ThoiDiemCapNhat``,
``MaSuKien``), so the portal keeps the latest even when a retried row arrives after a
later one, and the header ``Idempotency-Key`` names the row, so a resend after a lost
answer is recognisably the same update.

The codes the portal uses are in one table, NATIONAL_CODES, documented in
docs/legal-rules.md "National portal sync".
"""

from __future__ import annotations

import logging
from datetime import datetime

import requests
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.core.constants import (
    APPLICANT_NOTE_ACTIONS,
    Action,
    ApplicantType,
    Channel,
    ResultDelivery,
)
from procedures.core.constants import DossierStatus as S
from procedures.models import Delivery, DeliveryChannel, DossierEvent
from procedures.notifications.kinds import Audience, MessageKind, register
from procedures.notifications.peers import PeerError, peer_may_retry, peer_post_json

logger = logging.getLogger(__name__)

KIND = "national.dossier_sync"
RECIPIENT = "national-portal"

# The sync row is a kind of its own on its own channel (kinds.py), sent by
# national_sync_send, never rendered from a template.
register(MessageKind(KIND, Audience.SERVICE, extra_channels=(DeliveryChannel.NATIONAL,)))


# Our values -> the national portal's codes. Our status numbers were chosen as the
# portal's (procedures.core.constants.DossierStatus); the table still names each one,
# so a change on either side is one line here and a failing test.
NATIONAL_CODES: dict[str, dict] = {
    # TrangThaiHoSo
    "status": {
        S.SUBMITTED: 1,  # Mới đăng ký
        S.ACCEPTED: 2,  # Được tiếp nhận
        S.REFUSED_AT_INTAKE: 3,  # Không được tiếp nhận
        S.PROCESSING: 4,  # Đang xử lý
        S.SUPPLEMENT_REQUESTED: 5,  # Yêu cầu bổ sung giấy tờ
        S.PAYMENT_REQUESTED: 6,  # Yêu cầu thực hiện nghĩa vụ tài chính
        S.WITHDRAWN: 7,  # Công dân yêu cầu rút hồ sơ
        S.STOPPED: 8,  # Dừng xử lý
        S.FINISHED: 9,  # Đã xử lý xong
        S.RETURNED: 10,  # Đã trả kết quả
    },
    # KenhThucHien
    "channel": {Channel.DIRECT: 1, Channel.ONLINE: 2, Channel.POSTAL: 3},
    # LoaiDoiTuong
    "applicant_type": {ApplicantType.INDIVIDUAL: 1, ApplicantType.ORGANISATION: 2},
    # HinhThucTraKetQua
    "result_delivery": {ResultDelivery.DESK: 1, ResultDelivery.POST: 2, ResultDelivery.ONLINE: 3},
}


class NationalSyncError(PeerError):
    """A failed send, saying whether a retry may help and why, in staff's words."""


def _stamp(moment: datetime | None) -> str:
    """yyyyMMddHHmmss in local time, the portal's date format; "" when not yet."""
    return timezone.localtime(moment).strftime("%Y%m%d%H%M%S") if moment else ""


def national_record(*, event: DossierEvent) -> dict:
    """What the portal receives for one event: the dossier right after it."""
    d = event.dossier
    procedure = d.procedure
    return {
        "MaHoSo": d.code,
        "MaTTHC": procedure.code or "",
        "TenTTHC": procedure.name,
        "MaLinhVuc": procedure.field.ministry_code if procedure.field_id else "",
        "TenLinhVuc": procedure.field.name if procedure.field_id else "",
        "MaDonVi": settings.NATIONAL_SYNC_AGENCY_CODE,
        "KenhThucHien": NATIONAL_CODES["channel"][d.channel],
        "ChuHoSo": d.applicant_name,
        "LoaiDoiTuong": NATIONAL_CODES["applicant_type"][d.applicant_type],
        "MaDoiTuong": d.applicant_id_number,
        "NgayNopHoSo": _stamp(d.submitted_at),
        "NgayTiepNhan": _stamp(d.accepted_at),
        "NgayHenTra": _stamp(d.due_at),
        "NgayKetThucXuLy": _stamp(d.finished_at or d.ended_at),
        "NgayTra": _stamp(d.returned_at),
        "TrangThaiHoSo": NATIONAL_CODES["status"][event.to_status],
        "HinhThucTraKetQua": NATIONAL_CODES["result_delivery"][d.result_delivery],
        "ThoiDiemCapNhat": _stamp(event.at),
        "MaSuKien": event.pk,
        "GhiChu": event.note[:500] if event.action in APPLICANT_NOTE_ACTIONS else "",
    }


def national_sync_queue(*, event: DossierEvent) -> Delivery | None:
    """Queue the event for the portal when it changed the status (or the appointment)."""
    if not settings.NATIONAL_SYNC_ENABLED or event.to_status is None:
        return None
    if event.to_status == event.from_status and event.action != Action.APOLOGISE:
        return None
    from procedures.notifications.services import delivery_queue

    return delivery_queue(
        kind=KIND,
        recipient=RECIPIENT,
        channel=DeliveryChannel.NATIONAL,
        subject_key=f"dossier:{event.dossier_id}:event:{event.pk}",
        payload={
            "dossier_id": event.dossier_id,
            "event_id": event.pk,
            "record": national_record(event=event),
        },
    )


def national_sync_send(delivery: Delivery) -> None:
    """POST the row's record; raises NationalSyncError on any failure."""
    url, token = settings.NATIONAL_SYNC_URL, settings.NATIONAL_SYNC_TOKEN
    if not url or not token:
        # Configuration, not the portal: kept for a retry once an admin sets it.
        raise NationalSyncError(
            _("NATIONAL_SYNC_URL or NATIONAL_SYNC_TOKEN is not set."), transient=True
        )
    try:
        reply = peer_post_json(
            url,
            payload={
                "MaDonVi": settings.NATIONAL_SYNC_AGENCY_CODE,
                "HoSo": [delivery.payload["record"]],
            },
            token=token,
            idempotency_key=f"motcua-{delivery.pk}",
            timeout=settings.NATIONAL_SYNC_TIMEOUT,
        )
    except requests.RequestException as exc:
        raise NationalSyncError(
            _("Could not reach the national portal at %(url)s (%(error)s).")
            % {"url": url, "error": type(exc).__name__},
            transient=True,
        ) from exc
    if not reply.ok:
        # 401/403 are our token: fixed by an admin, then retried.
        raise NationalSyncError(
            _("The national portal answered %(code)s: %(reply)s")
            % {"code": reply.status, "reply": reply.text},
            transient=peer_may_retry(reply.status) or reply.status in (401, 403),
        )
