"""Fixtures for dossier tests: a small catalogue, staff in every role, a clock."""

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from procedures.catalogue.services import procedure_create
from procedures.catalogue.staff import roles_ensure_groups, staff_create
from procedures.core.constants import (
    ApplicantType,
    Channel,
    OnlineLevel,
    Outcome,
    Role,
    StepRole,
)
from procedures.dossiers import services as svc
from procedures.dossiers.services import Applicant, dossier_register
from procedures.models import Field, ProcessStep, StaffProfile, Unit

VN = ZoneInfo("Asia/Ho_Chi_Minh")


def at(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def make_units() -> dict[str, Unit]:
    return {
        "VP": Unit.objects.create(code="VP", name="Văn phòng Sở", is_one_stop_desk=True),
        "QLTM": Unit.objects.create(code="QLTM", name="Phòng Quản lý Thương mại"),
        "QLCN": Unit.objects.create(code="QLCN", name="Phòng Quản lý Công nghiệp"),
    }


@pytest.fixture
def units(db):
    return make_units()


def make_trade_field() -> Field:
    return Field.objects.create(name="Lưu thông hàng hóa trong nước", ministry_code="G02-CT10")


@pytest.fixture
def trade_field(db):
    return make_trade_field()


def make_procedure(trade_field, units):
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
def procedure(trade_field, units):
    """5 working days, online allowed (3 days online), with a 3-step internal process."""
    return make_procedure(trade_field, units)


def make_staff(units):
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


@pytest.fixture
def staff(units):
    return make_staff(units)


@pytest.fixture
def staff_in_english(staff):
    """The staff above, reading their mail in English (the source language), so that
    assertions on mail do not depend on the Vietnamese catalogue. Modules about mail
    take it with `pytest.mark.usefixtures("staff_in_english")`."""
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


def make_register(procedure, staff):
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


@pytest.fixture
def register(procedure, staff):
    return make_register(procedure, staff)


@pytest.fixture
def processing(register, staff, units):
    """A factory of dossiers accepted 1 June 2026 and assigned to QLTM and its specialist."""

    def _make(**kw):
        d = register(now=kw.pop("now", at(2026, 6, 1, 8, 0)), **kw)
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 8, 0))
        return svc.dossier_assign(
            dossier=d,
            actor=staff["intake"],
            unit=units["QLTM"],
            officer=staff["specialist"],
            now=at(2026, 6, 1, 8, 30),
        )

    return _make


@pytest.fixture
def online_assigned(register, staff, units):
    """A factory: an online dossier submitted at 09:00 on Monday 1 June 2026, accepted at
    10:00 and assigned at 10:05 to QLTM's specialist; returns it with its PIN in `.pin`
    (a transition returns a fresh instance, which has none)."""

    def make(**kw):
        d = register(channel=Channel.ONLINE, now=at(2026, 6, 1, 9, 0), **kw)
        pin = d.pin
        d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
        d = svc.dossier_assign(
            dossier=d,
            actor=staff["intake"],
            unit=units["QLTM"],
            officer=staff["specialist"],
            now=at(2026, 6, 1, 10, 5),
        )
        d.pin = pin
        return d

    return make


# --- The June 2026 month of the report tests (test_reports, test_api_reports, ...)


def make_industry_procedure(units):
    field = Field.objects.create(name="Công nghiệp địa phương", ministry_code="G02-CT02", order=5)
    return procedure_create(
        name="Cấp Giấy chứng nhận sản phẩm công nghiệp nông thôn tiêu biểu",
        code="2.000100",
        field=field,
        decision_number="QĐ 2/2026",
        decision_date=at(2026, 1, 1).date(),
        effective_from=at(2026, 1, 1).date(),
        processing_amount=Decimal("10"),
        implementing_unit=units["QLCN"],
    )


@pytest.fixture
def industry_procedure(units):
    return make_industry_procedure(units)


@pytest.fixture
def june(register, staff, units, procedure, industry_procedure):
    """The fifteen dossiers of June 2026 described in the docstring of
    tests/procedures/test_reports.py; returns them by number."""
    intake, director = staff["intake"], staff["director"]
    A, B = procedure, industry_procedure
    d = {}

    def accepted(n, when, *, proc=A, channel=Channel.DIRECT, unit=None, officer=None):
        dossier = register(now=when, channel=channel, procedure=proc)
        dossier = svc.dossier_accept(dossier=dossier, actor=intake, now=when)
        if unit:
            dossier = svc.dossier_assign(
                dossier=dossier, actor=intake, unit=units[unit], officer=staff[officer], now=when
            )
        d[n] = dossier
        return dossier

    def resolve(n, when):
        d[n] = svc.dossier_resolve(dossier=d[n], actor=director, outcome=Outcome.GRANTED, now=when)

    accepted(1, at(2026, 5, 25, 9, 0), unit="QLTM", officer="specialist")
    resolve(1, at(2026, 6, 2, 9, 0))
    accepted(2, at(2026, 5, 28, 10, 0))
    d[2] = svc.dossier_withdraw(dossier=d[2], actor=intake, reason="Rút", now=at(2026, 6, 10, 9, 0))
    accepted(3, at(2026, 6, 3, 10, 0), channel=Channel.ONLINE, unit="QLTM", officer="specialist")
    resolve(3, at(2026, 6, 5, 9, 0))
    accepted(4, at(2026, 6, 3, 10, 0), unit="QLTM", officer="specialist")
    svc.dossier_complete_step(dossier=d[4], actor=intake, now=at(2026, 6, 3, 11, 0))
    svc.dossier_complete_step(dossier=d[4], actor=staff["specialist"], now=at(2026, 6, 9, 9, 0))
    resolve(4, at(2026, 6, 10, 15, 0))
    accepted(5, at(2026, 6, 29, 9, 0), channel=Channel.POSTAL)
    accepted(6, at(2026, 6, 15, 9, 0), unit="QLTM", officer="specialist")
    accepted(7, at(2026, 6, 16, 9, 0), unit="QLTM", officer="specialist")
    d[7] = svc.dossier_request_supplement(
        dossier=d[7], actor=intake, reason="Thiếu hợp đồng", now=at(2026, 6, 17, 9, 0)
    )
    accepted(8, at(2026, 6, 16, 9, 0), unit="QLTM", officer="specialist")
    d[8] = svc.dossier_request_payment(
        dossier=d[8], actor=intake, note="Phí thẩm định", now=at(2026, 6, 18, 9, 0)
    )
    d[8] = svc.dossier_confirm_payment(dossier=d[8], actor=intake, now=at(2026, 7, 2, 9, 0))
    d[9] = register(now=at(2026, 6, 20, 9, 0), channel=Channel.ONLINE)
    d[10] = svc.dossier_refuse_intake(
        dossier=register(now=at(2026, 6, 22, 9, 0)),
        actor=intake,
        reason="Ngoài thẩm quyền",
        now=at(2026, 6, 22, 9, 30),
    )
    accepted(11, at(2026, 6, 10, 9, 0), proc=B, unit="QLCN", officer="other_specialist")
    d[11] = svc.dossier_stop(
        dossier=d[11], actor=director, reason="Dừng theo yêu cầu", now=at(2026, 6, 20, 9, 0)
    )
    accepted(12, at(2026, 7, 1, 9, 0), proc=B)
    accepted(13, at(2026, 5, 20, 9, 0))
    resolve(13, at(2026, 5, 27, 9, 0))
    accepted(14, at(2026, 6, 1, 10, 0), unit="QLTM", officer="specialist")
    d[14] = svc.dossier_apologise(
        dossier=d[14],
        actor=director,
        new_due_at=at(2026, 6, 12, 10, 0),
        reason="Cần xác minh",
        now=at(2026, 6, 4, 10, 0),
    )
    resolve(14, at(2026, 6, 11, 9, 0))
    accepted(15, at(2026, 5, 29, 10, 0), proc=B, unit="QLCN", officer="other_specialist")
    d[15] = svc.dossier_request_supplement(
        dossier=d[15], actor=intake, reason="Thiếu bản vẽ", now=at(2026, 6, 1, 10, 0)
    )
    d[15] = svc.dossier_receive_supplement(dossier=d[15], actor=intake, now=at(2026, 6, 5, 10, 0))
    resolve(15, at(2026, 6, 19, 9, 0))
    return d
