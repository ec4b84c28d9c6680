"""Fixtures for dossier tests: a small catalogue, staff in every role, a clock."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from procedures.catalogue.services import procedure_create
from procedures.catalogue.staff import roles_ensure_groups, staff_create
from procedures.core.constants import ApplicantType, Channel, OnlineLevel, Role, StepRole
from procedures.dossiers.services import Applicant, dossier_register
from procedures.models import Field, ProcessStep, StaffProfile, Unit

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


@pytest.fixture
def units(db):
    return {
        "VP": Unit.objects.create(code="VP", name="Văn phòng Sở", is_one_stop_desk=True),
        "QLTM": Unit.objects.create(code="QLTM", name="Phòng Quản lý Thương mại"),
        "QLCN": Unit.objects.create(code="QLCN", name="Phòng Quản lý Công nghiệp"),
    }


@pytest.fixture
def trade_field(db):
    return Field.objects.create(name="Lưu thông hàng hóa trong nước", ministry_code="G02-CT10")


@pytest.fixture
def procedure(trade_field, units):
    """5 working days, online allowed (3 days online), with a 3-step internal process."""
    p = procedure_create(
        name="Cấp Giấy phép bán lẻ sản phẩm rượu",
        code="2.000633",
        field=trade_field,
        decision_number="QĐ 1/2026",
        decision_date=at(2026, 1, 1).date(),
        effective_from=at(2026, 1, 1).date(),
        processing_amount=Decimal("5"),
        online_processing_amount=Decimal("3"),
        online_level=OnlineLevel.FULL,
        fee_vnd=1_200_000,
        implementing_unit=units["QLTM"],
    )
    for order, name, role, unit, hours in [
        (1, "Tiếp nhận, chuyển hồ sơ", StepRole.INTAKE, units["VP"], "4"),
        (2, "Thẩm định", StepRole.SPECIALIST, None, "28"),
        (3, "Ký duyệt", StepRole.DIRECTOR, None, "8"),
    ]:
        ProcessStep.objects.create(
            procedure=p, order=order, name=name, role=role, unit=unit, allotted_hours=Decimal(hours)
        )
    return p


@pytest.fixture
def staff(units):
    groups = roles_ensure_groups()
    people = {}
    for key, role, unit in [
        ("intake", Role.INTAKE, "VP"),
        ("specialist", Role.SPECIALIST, "QLTM"),
        ("unit_head", Role.UNIT_HEAD, "QLTM"),
        ("other_specialist", Role.SPECIALIST, "QLCN"),
        ("other_head", Role.UNIT_HEAD, "QLCN"),
        ("director", Role.DIRECTOR, None),
        ("catalogue_admin", Role.CATALOGUE_ADMIN, None),
    ]:
        base_role = role
        user, _ = staff_create(
            username=key,
            full_name=f"Cán bộ {key}",
            group=groups[base_role],
            unit=units.get(unit) if unit else None,
            email=f"{key}@example.gov.vn",
        )
        people[key] = user
    return people


def staff_reading_english(staff: dict) -> dict:
    """The staff above, reading their mail in English (the source language), so that
    assertions on mail do not depend on the Vietnamese catalogue."""
    StaffProfile.objects.filter(user__in=staff.values()).update(language="en")
    for user in staff.values():
        user.staff_profile.refresh_from_db()
    return staff


APPLICANT = Applicant(
    type=ApplicantType.INDIVIDUAL,
    name="Nguyễn Văn An",
    id_number="001099012345",
    address="Phường Phan Đình Phùng, TP Thái Nguyên",
    phone="0912345678",
    email="an@example.com",
)


@pytest.fixture
def register(procedure, staff):
    def _register(*, now=None, channel=Channel.DIRECT, applicant=APPLICANT, **kw):
        dossier, pin = dossier_register(
            procedure=kw.pop("procedure", procedure),
            applicant=applicant,
            channel=channel,
            actor=None if channel == Channel.ONLINE else staff["intake"],
            now=now or at(2026, 6, 1, 9, 0),
            **kw,
        )
        dossier.pin = pin
        return dossier

    return _register
