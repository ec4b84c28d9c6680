"""A realistic year of dossiers for the demo and for benchmarks (issue item 9).

Going through the transition services would take hours for a million dossiers (each
one locks rows, writes events one by one and queues mail), so this module plays each
dossier's life forward in Python with the same calendar and the same rules, and
writes the rows in bulk: PostgreSQL COPY when available, `bulk_create` elsewhere.

What makes the rows coherent:
- submission references `DK-<unit>-YYMMDD-XXXX` follow the submission day and the
  legal codes `<unit>-YYMMDD-XXXX` the acceptance day, each continuing its day's
  DossierCodeSequence and leaving it at the last number used, so a real registration
  or acceptance afterwards never collides (with several workers, the parent numbers
  the legal codes once all rows are written, see ``_number_codes_sql``);
- every time comes from `procedures.calendar.working_time` (acceptance within office hours, due by
  `add_time`, payment pauses shift the due, a supplement during processing restarts
  the clock under the "restart" policy) and the on-time result from the service's own
  `on_time_result`;
- each life is simulated to the end and then cut at `end`: whatever had not happened
  yet did not happen, so recent dossiers are still open (statuses 1, 2, 4, 5, 6);
- events mirror what the services write (action, actor, from/to status, note, data)
  and `version` is the number of transitions, as `_record` would have made it.

Demo applicants' e-mail addresses are at `demo.invalid` (RFC 2606: never delivered),
which is also how `demo_dossiers_clear` finds them again. All demo dossiers share one
look-up PIN (`pin`), so the public look-up can be shown.
"""

from __future__ import annotations

import bisect
import logging
import random
import re
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as dtime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from stdnum.vn import mst

from procedures.calendar import deadlines
from procedures.calendar import working_time as calendar
from procedures.core.constants import (
    ROLE_GROUP_NAMES,
    Action,
    ApplicantType,
    ChangeKind,
    Channel,
    Outcome,
    ResultDelivery,
    Role,
    StepRole,
    SupplementPolicy,
)
from procedures.core.constants import (
    DossierStatus as S,
)
from procedures.core.errors import DomainError
from procedures.dossiers.services import REFERENCE_PREFIX, on_time_result, pin_hash
from procedures.models import (
    Dossier,
    DossierCodeSequence,
    DossierEvent,
    DossierStep,
    Procedure,
    ProcedureVersion,
    ProcessStep,
    StaffProfile,
    Unit,
)

logger = logging.getLogger(__name__)

DEMO_EMAIL_DOMAIN = "demo.invalid"
DEMO_PIN = "12345678"

# Shares of the mix. Most dossiers are finished early or on time; the rest is what a
# department of industry and trade sees in a year (refusals, supplements, payments,
# apologies, withdrawals, stops).
ONLINE_SHARE = 0.60
POSTAL_SHARE_OF_OFFLINE = 0.08
ORGANISATION_SHARE = 0.70
REFUSED_AT_INTAKE = 0.02
SUPPLEMENT_AT_INTAKE = 0.08
SUPPLEMENT_NEVER_ANSWERED = 0.10  # of those: withdrawn after a while
SUPPLEMENT_IN_PROCESSING = 0.04
PAYMENT = 0.10
WITHDRAWN_IN_PROCESSING = 0.015
STOPPED = 0.005
APOLOGY = 0.03
LATE = 0.05
ON_TIME = 0.18  # the rest of the finished ones are early
REFUSED_OUTCOME = 0.05
NON_WORKING_DAY_WEIGHT = 0.06  # online submissions on weekends and holidays

_FAMILY = [
    "Nguyễn",
    "Trần",
    "Lê",
    "Phạm",
    "Hoàng",
    "Huỳnh",
    "Phan",
    "Vũ",
    "Võ",
    "Đặng",
    "Bùi",
    "Đỗ",
    "Hồ",
    "Ngô",
    "Dương",
    "Lý",
    "Đinh",
    "Lương",
    "Ma",
    "Hà",
]
_MIDDLE = ["Văn", "Thị", "Đức", "Minh", "Thu", "Quang", "Hữu", "Ngọc", "Thanh", "Xuân", "Hồng"]
_GIVEN = [
    "An",
    "Bình",
    "Chi",
    "Dũng",
    "Giang",
    "Hà",
    "Hải",
    "Hạnh",
    "Hùng",
    "Hương",
    "Khánh",
    "Lan",
    "Linh",
    "Long",
    "Mai",
    "Nam",
    "Nga",
    "Phong",
    "Phương",
    "Quân",
    "Sơn",
    "Tâm",
    "Thảo",
    "Trang",
    "Tuấn",
    "Việt",
    "Yến",
    "Thắng",
    "Hiếu",
    "Loan",
]
_COMPANY_KIND = [
    "Công ty TNHH",
    "Công ty Cổ phần",
    "Công ty TNHH MTV",
    "Hợp tác xã",
    "Hộ kinh doanh",
]
_COMPANY_WORD = [
    "Thương mại",
    "Xăng dầu",
    "Điện lực",
    "Hóa chất",
    "Gas",
    "Thực phẩm",
    "Cơ khí",
    "Chè",
    "Đồ uống",
    "Khoáng sản",
    "Vật liệu",
    "Dịch vụ",
    "Xuất nhập khẩu",
]
_COMPANY_NAME = [
    "Hoàng Long",
    "Thái Nguyên",
    "Phú Lương",
    "Tân Cương",
    "Sông Công",
    "Đại Từ",
    "Việt Bắc",
    "Gang Thép",
    "Minh Phát",
    "An Khánh",
    "Hưng Thịnh",
    "Phổ Yên",
    "Đồng Hỷ",
    "Thành Công",
    "Bắc Sơn",
    "Trung Thành",
    "La Hiên",
    "Hồng Tiến",
]
_WARD = [
    "Phường Phan Đình Phùng",
    "Phường Hoàng Văn Thụ",
    "Phường Túc Duyên",
    "Phường Gia Sàng",
    "Phường Quang Trung",
    "Xã Tân Cương",
    "Thị trấn Hùng Sơn",
    "Phường Ba Hàng",
    "Phường Mỏ Chè",
    "Xã Phúc Hà",
    "Thị trấn Chợ Chu",
    "Thị trấn Đu",
]
_DISTRICT = [
    "TP Thái Nguyên",
    "TP Sông Công",
    "TP Phổ Yên",
    "Huyện Đại Từ",
    "Huyện Phú Lương",
    "Huyện Đồng Hỷ",
    "Huyện Định Hóa",
    "Huyện Võ Nhai",
    "Huyện Phú Bình",
]
_REFUSAL = [
    "Thủ tục không thuộc thẩm quyền giải quyết của Sở Công Thương.",
    "Tổ chức đề nghị không thuộc đối tượng thực hiện thủ tục.",
]
_SUPPLEMENT = [
    "Bổ sung bản sao Giấy chứng nhận đăng ký doanh nghiệp.",
    "Bổ sung sơ đồ mặt bằng cửa hàng và hợp đồng thuê địa điểm.",
    "Bổ sung bản sao chứng chỉ huấn luyện an toàn của người quản lý.",
    "Tờ khai chưa ký, đóng dấu; đề nghị nộp lại tờ khai.",
]
_PAYMENT = [
    "Nộp phí thẩm định theo Thông tư của Bộ Tài chính.",
    "Nộp lệ phí cấp giấy phép tại bộ phận một cửa hoặc qua cổng dịch vụ công.",
]
_APOLOGY = ["Cần kiểm tra thực tế tại cơ sở.", "Chờ ý kiến của cơ quan phối hợp."]
_REFUSED_RESULT = [
    "Cơ sở không đáp ứng điều kiện về địa điểm kinh doanh.",
    "Không đáp ứng khoảng cách an toàn phòng cháy chữa cháy.",
]
_STOP = ["Doanh nghiệp đã giải thể.", "Theo đề nghị của cơ quan có thẩm quyền."]
_WITHDRAW = ["Theo đơn đề nghị rút hồ sơ của tổ chức.", ""]


@dataclass
class DemoResult:
    dossiers: int = 0
    events: int = 0
    steps: int = 0
    by_status: Counter = field(default_factory=Counter)
    by_channel: Counter = field(default_factory=Counter)
    on_time: Counter = field(default_factory=Counter)
    first_day: date | None = None
    last_day: date | None = None
    seconds: float = 0.0
    method: str = ""


# ---------------------------------------------------------------- catalogue and staff


@dataclass(frozen=True)
class _Version:
    id: int
    effective_from: date
    abolished: bool
    amount: Decimal | None
    online_amount: Decimal | None
    unit: str
    fee_vnd: int | None
    fee_text: str


@dataclass(frozen=True)
class _Procedure:
    id: int
    online: bool
    unit_id: int | None
    versions: tuple[_Version, ...]
    starts: tuple[date, ...]
    # (order, name, role, unit id or None, allotted hours)
    steps: tuple[tuple[int, str, str, int | None, float], ...]

    def version_on(self, day: date) -> _Version:
        i = bisect.bisect_right(self.starts, day) - 1
        # The seeded catalogue records the day it was loaded as the start of version 1;
        # dossiers of the year before are bound to that first version.
        return self.versions[max(i, 0)]


class _Context:
    """Everything read from the database once, before the first dossier."""

    def __init__(self, *, rng: random.Random):
        procs = list(Procedure.objects.accepting_dossiers().order_by("pk"))
        if not procs:
            raise DomainError(
                _(
                    "No procedure in force has a published processing time. Load "
                    "the catalogue first: manage.py seed_catalogue."
                )
            )
        versions: dict[int, list[_Version]] = {}
        for v in ProcedureVersion.objects.filter(procedure__in=procs).order_by(
            "procedure_id", "effective_from", "number"
        ):
            versions.setdefault(v.procedure_id, []).append(
                _Version(
                    v.pk,
                    v.effective_from,
                    v.kind == ChangeKind.ABOLISHED,
                    v.processing_amount,
                    v.online_processing_amount,
                    v.processing_unit,
                    v.fee_vnd,
                    v.fee_text,
                )
            )
        steps: dict[int, list] = {}
        for s in ProcessStep.objects.filter(procedure__in=procs).order_by("procedure_id", "order"):
            steps.setdefault(s.procedure_id, []).append(
                (s.order, s.name, s.role, s.unit_id, float(s.allotted_hours))
            )
        self.procedures = [
            _Procedure(
                p.pk,
                p.channel_online,
                p.implementing_unit_id,
                tuple(versions[p.pk]),
                tuple(v.effective_from for v in versions[p.pk]),
                tuple(steps.get(p.pk, ())),
            )
            for p in procs
            if p.pk in versions
        ]
        # A few procedures take most dossiers (retail alcohol and petrol licences...):
        # Zipf-like weights over a seeded shuffle.
        order = list(range(len(self.procedures)))
        rng.shuffle(order)
        weights = [0.0] * len(order)
        for rank, i in enumerate(order):
            weights[i] = 1.0 / (rank + 1) ** 0.9
        self.all = (self.procedures, _cumulative(weights))
        online = [(p, w) for p, w in zip(self.procedures, weights, strict=False) if p.online]
        self.online = (
            ([p for p, _w in online], _cumulative([w for _p, w in online])) if online else None
        )

        units = list(Unit.objects.filter(is_one_stop_desk=False).values_list("pk", flat=True))
        self.processing_units = units
        by_role = {role: self._staff(role) for role in Role}
        self.intake = [uid for uid, _unit in by_role[Role.INTAKE]] or [None]
        self.directors = [uid for uid, _unit in by_role[Role.DIRECTOR]] or [None]
        self.specialists: dict[int, list[int]] = {}
        for uid, unit in by_role[Role.SPECIALIST]:
            if unit:
                self.specialists.setdefault(unit, []).append(uid)
        self.heads: dict[int, list[int]] = {}
        for uid, unit in by_role[Role.UNIT_HEAD]:
            if unit:
                self.heads.setdefault(unit, []).append(uid)

    @staticmethod
    def _staff(role: Role) -> list[tuple[int, int | None]]:
        users = (
            get_user_model()
            .objects.filter(groups__name=ROLE_GROUP_NAMES[role], is_active=True)
            .order_by("pk")
        )
        units = dict(StaffProfile.objects.filter(user__in=users).values_list("user_id", "unit_id"))
        return [(uid, units.get(uid)) for uid in users.values_list("pk", flat=True)]


def _cumulative(weights: list[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += w
        out.append(total)
    return out


def _pick(rng: random.Random, pool):
    items, cum = pool
    return items[bisect.bisect_left(cum, rng.random() * cum[-1])]


# ---------------------------------------------------------------- one dossier's life


class _Cut(Exception):
    """The next step of the life lies after `end`: the dossier stays as it is."""


class _Life:
    """Plays one dossier forward through the same transitions as the services."""

    def __init__(self, ctx: _Context, rng: random.Random, end: datetime, policy: str):
        self.ctx, self.rng, self.end, self.policy = ctx, rng, end, policy
        self.events: list[tuple] = []
        self.steps: list[dict] = []

    def _at(self, moment: datetime) -> datetime:
        if moment > self.end:
            raise _Cut
        return moment

    def _event(
        self, action, at, actor, from_status, to_status, note="", data=None, by_applicant=False
    ):
        self.events.append(
            (action, actor, by_applicant, at, from_status, to_status, note, data or {})
        )
        self.row["status"] = to_status

    def run(self, row: dict, proc: _Procedure, version: _Version) -> None:
        self.row = row
        try:
            self._live(row, proc, version)
        except _Cut:
            pass  # the rest of this life lies after `end`: it has not happened yet
        row["version"] = len(self.events)  # register does not bump; each transition does

    def _hours(self, start: datetime, hours: float) -> datetime:
        return calendar.add_working_hours(start, round(hours, 3))

    def _live(self, row, proc, version):  # noqa: C901 - a life is a long story
        rng, ctx = self.rng, self.ctx
        online = row["channel"] == Channel.ONLINE
        desk = rng.choice(ctx.intake)
        submitted = row["submitted_at"]
        if not online:
            row["received_by_id"] = desk
        self._event(
            Action.REGISTER,
            submitted,
            None if online else desk,
            None,
            S.SUBMITTED,
            data={"channel": row["channel"]},
            by_applicant=online,
        )

        # Intake: at once at the desk, within the next working day when online.
        if online:
            t = self._hours(calendar.next_working_moment(submitted), rng.uniform(0.2, 7.5))
        else:
            t = self._hours(submitted, rng.uniform(0.05, 0.5))
        fate = rng.random()
        if fate < REFUSED_AT_INTAKE:
            reason = rng.choice(_REFUSAL)
            self._at(t)
            row.update(ended_at=t, outcome_note=reason)
            self._event(Action.REFUSE_INTAKE, t, desk, S.SUBMITTED, S.REFUSED_AT_INTAKE, reason)
            return
        if fate < REFUSED_AT_INTAKE + SUPPLEMENT_AT_INTAKE:
            reason = rng.choice(_SUPPLEMENT)
            self._at(t)
            row.update(supplement_count=row["supplement_count"] + 1, supplement_reason=reason)
            self._event(
                Action.REQUEST_SUPPLEMENT,
                t,
                desk,
                S.SUBMITTED,
                S.SUPPLEMENT_REQUESTED,
                reason,
                data={"during_processing": False},
            )
            if rng.random() < SUPPLEMENT_NEVER_ANSWERED:
                w = self._at(self._hours(t, rng.uniform(40, 120)))
                row["ended_at"] = w
                self._event(
                    Action.WITHDRAW,
                    w,
                    desk,
                    S.SUPPLEMENT_REQUESTED,
                    S.WITHDRAWN,
                    rng.choice(_WITHDRAW),
                )
                return
            back = self._at(self._hours(t, rng.uniform(4, 40)))
            self._event(
                Action.RECEIVE_SUPPLEMENT,
                back,
                None if online else desk,
                S.SUPPLEMENT_REQUESTED,
                S.SUBMITTED,
                data={"policy": None},
                by_applicant=online,
            )
            t = self._hours(back, rng.uniform(0.1, 4))

        # Accepted: the clock starts (form 01).
        self._at(t)
        amount = version.amount
        if online and version.online_amount:
            amount = version.online_amount
        start = calendar.next_working_moment(t)
        due = calendar.add_time(start, amount, version.unit)
        row.update(
            accepted_at=t,
            clock_started_at=start,
            due_at=due,
            original_due_at=due,
            received_by_id=row["received_by_id"] or desk,
            transfer_due_at=deadlines.transfer_due_at(t),
        )
        self._event(
            Action.ACCEPT, t, desk, S.SUBMITTED, S.ACCEPTED, data={"due_at": due.isoformat()}
        )
        step_plan = self._open_steps(proc, row, start)

        # Transferred to the processing unit the same working day.
        unit = proc.unit_id or (rng.choice(ctx.processing_units) if ctx.processing_units else None)
        officers = ctx.specialists.get(unit) or [None]
        officer = rng.choice(officers)
        head = rng.choice(ctx.heads.get(unit) or ctx.directors)
        t = self._at(self._hours(t, rng.uniform(0.1, 3)))
        if unit is not None:
            row.update(
                assigned_unit_id=unit,
                assigned_officer_id=officer,
                transferred_at=t,
                transferred_by_id=desk,
                transfer_on_time_result=on_time_result(
                    finished_at=t, due_at=row["transfer_due_at"], exact=True
                ),
            )
            self._event(
                Action.ASSIGN,
                t,
                desk,
                S.ACCEPTED,
                S.PROCESSING,
                data={
                    "unit": unit,
                    "officer": officer,
                    "previous": {"unit": None, "officer": None},
                },
            )
        running = row["status"]
        worker = officer or head or desk
        total_h = calendar.working_seconds_between(start, due) / 3600

        fate = rng.random()
        if fate < WITHDRAWN_IN_PROCESSING + STOPPED:
            w = self._at(self._hours(start, total_h * rng.uniform(0.1, 0.8)))
            w = max(w, t)
            row["ended_at"] = w
            if fate < WITHDRAWN_IN_PROCESSING:
                self._event(Action.WITHDRAW, w, desk, running, S.WITHDRAWN, rng.choice(_WITHDRAW))
            else:
                self._event(Action.STOP, w, head, running, S.STOPPED, rng.choice(_STOP))
            return

        if rng.random() < SUPPLEMENT_IN_PROCESSING:
            # Within 3 working days of acceptance, once (Decree 61/2018 art. 19).
            ask = self._at(self._hours(t, rng.uniform(0.5, 16)))
            reason = rng.choice(_SUPPLEMENT)
            row.update(
                paused_at=ask,
                supplement_count=row["supplement_count"] + 1,
                supplement_reason=reason,
            )
            self._event(
                Action.REQUEST_SUPPLEMENT,
                ask,
                worker,
                running,
                S.SUPPLEMENT_REQUESTED,
                reason,
                data={"during_processing": True},
            )
            back = self._at(self._hours(ask, rng.uniform(4, 48)))
            if self.policy == SupplementPolicy.RESTART:
                start = calendar.next_working_moment(back)
                due = calendar.add_time(start, amount, version.unit)
                row.update(
                    clock_started_at=start, paused_seconds=0, due_at=due, original_due_at=due
                )
            else:
                paused = max(0, calendar.working_seconds_between(ask, back))
                row["paused_seconds"] += paused
                due = calendar.add_working_hours(due, Decimal(paused) / 3600)
                row.update(
                    due_at=due,
                    original_due_at=calendar.add_working_hours(
                        row["original_due_at"], Decimal(paused) / 3600
                    ),
                )
            row["paused_at"] = None
            self._event(
                Action.RECEIVE_SUPPLEMENT,
                back,
                None if online else desk,
                S.SUPPLEMENT_REQUESTED,
                running,
                data={"policy": self.policy, "due_at": due.isoformat()},
                by_applicant=online,
            )
            t = back

        if ((version.fee_vnd or 0) > 0 or version.fee_text) and rng.random() < PAYMENT:
            ask = self._at(self._hours(t, rng.uniform(0.5, 12)))
            note = rng.choice(_PAYMENT)
            row.update(paused_at=ask, payment_note=note)
            self._event(Action.REQUEST_PAYMENT, ask, worker, running, S.PAYMENT_REQUESTED, note)
            paid = self._at(self._hours(ask, rng.uniform(1, 24)))
            paused = max(0, calendar.working_seconds_between(ask, paid))
            row["paused_seconds"] += paused
            if paused:
                row["due_at"] = calendar.add_working_hours(row["due_at"], Decimal(paused) / 3600)
                row["original_due_at"] = calendar.add_working_hours(
                    row["original_due_at"], Decimal(paused) / 3600
                )
            row["paused_at"] = None
            self._event(
                Action.CONFIRM_PAYMENT,
                paid,
                desk,
                S.PAYMENT_REQUESTED,
                running,
                data={"due_at": row["due_at"].isoformat()},
            )
            t = paid

        # How much of the time the unit uses: most finish early, some on the due day,
        # a few late; some apologise first (form 04) and finish after the first due.
        # The due time already includes the paused working time; only the allotted
        # part is what the unit uses early or late.
        start, due = row["clock_started_at"], row["due_at"]
        total_h = calendar.working_seconds_between(start, due) / 3600
        paused_h = row["paused_seconds"] / 3600
        allotted_h = max(0.0, total_h - paused_h)
        fate = rng.random()
        if fate < APOLOGY and allotted_h > 12:
            # At least 1 working day (8 h) before the due time, as dossier_apologise wants.
            sorry = self._hours(start, total_h - rng.uniform(8.5, 12))
            if sorry > t:
                self._at(sorry)
                new_due = calendar.add_working_days(due, rng.randint(2, 5))
                reason = rng.choice(_APOLOGY)
                row.update(due_at=new_due, reappointment_count=1)
                self._event(
                    Action.APOLOGISE,
                    sorry,
                    head,
                    running,
                    running,
                    reason,
                    data={"old_due_at": due.isoformat(), "new_due_at": new_due.isoformat()},
                )
                t = sorry
            share = rng.uniform(1.02, 1.3)
        elif fate < APOLOGY + LATE:
            share = rng.uniform(1.05, 1.6)
        elif fate < APOLOGY + LATE + ON_TIME:
            share = rng.uniform(0.92, 1.0)
        else:
            share = rng.uniform(0.25, 0.85)
        finish = self._hours(start, paused_h + allotted_h * share)
        if row["reappointment_count"] and finish > row["due_at"]:
            finish = row["due_at"]
        if finish <= t:
            finish = self._hours(t, rng.uniform(0.2, 2))

        self._close_steps(step_plan, row, t, finish, worker, head, desk)
        self._at(finish)
        refused = rng.random() < REFUSED_OUTCOME
        judged = row["original_due_at"] if row["reappointment_count"] else row["due_at"]
        result = on_time_result(finished_at=finish, due_at=judged)
        note = rng.choice(_REFUSED_RESULT) if refused else ""
        row.update(
            finished_at=finish,
            outcome=Outcome.REFUSED if refused else Outcome.GRANTED,
            outcome_note=note,
            on_time_result=result,
            working_seconds_used=max(
                0, calendar.working_seconds_between(start, finish) - row["paused_seconds"]
            ),
        )
        for step in step_plan:
            if step["started_at"] is not None and step["completed_at"] is None:
                step.update(completed_at=finish, completed_by_id=head)
        self._event(
            Action.RESOLVE,
            finish,
            head,
            running,
            S.FINISHED,
            note,
            data={"outcome": row["outcome"], "on_time_result": result},
        )
        handed = self._at(self._hours(finish, rng.uniform(0.5, 24)))
        row["returned_at"] = handed
        self._event(Action.RETURN_RESULT, handed, desk, S.FINISHED, S.RETURNED)

    # Internal steps (form 05): created at acceptance, handed over in turn.

    def _open_steps(self, proc: _Procedure, row: dict, start: datetime) -> list[dict]:
        plan = []
        for i, (order, name, role, unit, hours) in enumerate(proc.steps):
            plan.append(
                {
                    "order": order,
                    "name": name,
                    "role": role,
                    "unit_id": unit,
                    "allotted_seconds": int(hours * 3600),
                    "hours": hours,
                    "started_at": start if i == 0 else None,
                    "due_at": calendar.add_working_hours(start, hours) if i == 0 else None,
                    "completed_at": None,
                    "completed_by_id": None,
                    "officer_id": None,
                    "working_seconds_used": None,
                    "paused_seconds": 0,
                    "on_time_result": "",
                    "note": "",
                }
            )
        self.steps = plan
        return plan

    def _close_steps(self, plan, row, after, finish, worker, head, desk):
        """Hand over every step but the last between `after` and `finish`; resolve closes
        the last one, as dossier_resolve does."""
        if len(plan) < 2:
            return
        span_h = max(0, calendar.working_seconds_between(after, finish)) / 3600
        weights = [s["hours"] for s in plan]
        total, done = sum(weights), 0.0
        for step, nxt in zip(plan, plan[1:], strict=False):
            done += step["hours"]
            at = self._hours(after, span_h * done / total * 0.98)
            if at > self.end or at >= finish:
                return
            actor = {StepRole.INTAKE: desk, StepRole.SPECIALIST: worker}.get(step["role"], head)
            result = on_time_result(finished_at=at, due_at=step["due_at"], exact=True)
            step.update(
                completed_at=at,
                completed_by_id=actor,
                officer_id=actor,
                working_seconds_used=max(
                    0, calendar.working_seconds_between(step["started_at"], at)
                ),
                on_time_result=result,
            )
            nxt.update(
                started_at=at,
                due_at=calendar.add_working_hours(at, Decimal(nxt["allotted_seconds"]) / 3600),
            )
            self._event(
                Action.COMPLETE_STEP,
                at,
                actor,
                row["status"],
                row["status"],
                data={"step": step["order"], "result": result, "next": nxt["order"]},
            )


# ---------------------------------------------------------------- applicants


def _applicant(rng: random.Random, mailbox: str) -> dict:
    if rng.random() < ORGANISATION_SHARE:
        kind = rng.choice(_COMPANY_KIND)
        name = f"{kind} {rng.choice(_COMPANY_WORD)} {rng.choice(_COMPANY_NAME)}"
        head = f"46{rng.randrange(10**8):08d}"[:9]
        ident = head + mst.calc_check_digit(head)  # a tax code staff can re-save
        if rng.random() < 0.1:
            ident += f"-{rng.randint(1, 20):03d}"
        a_type = ApplicantType.ORGANISATION
    else:
        name = f"{rng.choice(_FAMILY)} {rng.choice(_MIDDLE)} {rng.choice(_GIVEN)}"
        ident = f"019{rng.randint(0, 3)}{rng.randint(50, 99):02d}{rng.randrange(10**6):06d}"
        a_type = ApplicantType.INDIVIDUAL
    return {
        "applicant_type": a_type,
        "applicant_name": name,
        "applicant_id_number": ident,
        "applicant_address": f"{rng.choice(_WARD)}, {rng.choice(_DISTRICT)}, tỉnh Thái Nguyên",
        "applicant_phone": f"09{rng.randrange(10**8):08d}",
        "applicant_email": f"{mailbox}@{DEMO_EMAIL_DOMAIN}",
        "applicant_language": "en" if rng.random() < 0.02 else "vi",
    }


# ---------------------------------------------------------------- writing


def _concrete(model) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not f.primary_key]


class _Writer:
    """Inserts one batch; returns the dossier ids in order."""

    def __init__(self, now: datetime):
        self.now = now
        self.dossier_fields = _concrete(Dossier)
        self.event_fields = _concrete(DossierEvent)
        self.step_fields = _concrete(DossierStep)

    def defaults(self, fields) -> dict:
        out = {}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                out[f.attname] = self.now
            elif f.has_default():
                out[f.attname] = f.get_default()
            elif f.null:
                out[f.attname] = None
            else:
                out[f.attname] = "" if isinstance(f, (models.CharField, models.TextField)) else None
        return out


# Order of the values in an event tuple of _Life, after the dossier id.
_EVENT_KEYS = (
    "dossier_id",
    "action",
    "actor_id",
    "by_applicant",
    "at",
    "from_status",
    "to_status",
    "note",
    "data",
)


class _CopyWriter(_Writer):
    """PostgreSQL: ids drawn from the sequences, rows streamed with COPY."""

    method = "copy"

    def __init__(self, now: datetime):
        super().__init__(now)
        defaults = self.defaults(self.event_fields)
        # Any column a later migration adds gets its default.
        self.event_plan = [
            (
                _EVENT_KEYS.index(f.attname) if f.attname in _EVENT_KEYS else None,
                defaults[f.attname],
            )
            for f in self.event_fields
        ]

    def _ids(self, cursor, model, n: int) -> list[int]:
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)",
            [model._meta.db_table, n],
        )
        return [r[0] for r in cursor.fetchall()]

    def _copy(self, cursor, model, fields, rows, *, with_id: bool) -> None:
        """Stream `rows` (lists of values in `fields` order, the id first if `with_id`).

        Binary COPY: values travel in PostgreSQL's own formats (JSON as jsonb), so no
        side formats or parses text.
        """
        qn = connection.ops.quote_name
        columns = ", ".join(([qn("id")] if with_id else []) + [qn(f.column) for f in fields])
        types = (["bigint"] if with_id else []) + [
            re.sub(r"\(.*\)", "", f.db_type(connection)).strip() for f in fields
        ]
        sql = f"COPY {qn(model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"
        with cursor.copy(sql) as copy:
            copy.set_types(types)
            for values in rows:
                copy.write_row(values)

    def write(self, dossiers: list[dict], events: list[list[tuple]], steps: list[list[dict]]):
        # Dossier ids are drawn first because events and steps point at them; events
        # and steps take theirs from the column default, inside the server.
        with connection.cursor() as cursor:
            ids = self._ids(cursor, Dossier, len(dossiers))
            attnames = [f.attname for f in self.dossier_fields]
            self._copy(
                cursor,
                Dossier,
                self.dossier_fields,
                ([pk, *[row[a] for a in attnames]] for pk, row in zip(ids, dossiers, strict=False)),
                with_id=True,
            )
            if any(events):
                self._copy(
                    cursor,
                    DossierEvent,
                    self.event_fields,
                    (
                        self._event_values(pk, e)
                        for pk, evs in zip(ids, events, strict=False)
                        for e in evs
                    ),
                    with_id=False,
                )
            if any(steps):
                step_attnames = [f.attname for f in self.step_fields]

                def step_values(pk, step):
                    step = {**step, "dossier_id": pk}
                    return [step[a] for a in step_attnames]

                self._copy(
                    cursor,
                    DossierStep,
                    self.step_fields,
                    (step_values(pk, s) for pk, ss in zip(ids, steps, strict=False) for s in ss),
                    with_id=False,
                )
        return ids

    def _event_values(self, pk, e):
        source = (pk, *e)
        return [source[i] if i is not None else default for i, default in self.event_plan]


class _BulkWriter(_Writer):
    """Any other database: bulk_create, which returns the ids on SQLite 3.35+."""

    method = "bulk_create"

    def __init__(self, now: datetime, batch_size: int):
        super().__init__(now)
        self.batch_size = batch_size

    def write(self, dossiers, events, steps):
        objs = Dossier.objects.bulk_create(
            [Dossier(**row) for row in dossiers], batch_size=self.batch_size
        )
        ids = [o.pk for o in objs]
        if None in ids:
            raise DomainError(
                _(
                    "This database does not return ids from bulk inserts; use "
                    "PostgreSQL or SQLite 3.35 or later."
                )
            )
        DossierEvent.objects.bulk_create(
            [
                DossierEvent(
                    dossier_id=pk,
                    action=e[0],
                    actor_id=e[1],
                    by_applicant=e[2],
                    at=e[3],
                    from_status=e[4],
                    to_status=e[5],
                    note=e[6],
                    data=e[7],
                )
                for pk, evs in zip(ids, events, strict=False)
                for e in evs
            ],
            batch_size=self.batch_size,
        )
        DossierStep.objects.bulk_create(
            [
                DossierStep(dossier_id=pk, **{k: v for k, v in s.items() if k != "hours"})
                for pk, ss in zip(ids, steps, strict=False)
                for s in ss
            ],
            batch_size=self.batch_size,
        )
        return ids


# ---------------------------------------------------------------- the year


def _day_weights(days: list[date]) -> list[float]:
    weights = []
    for d in days:
        if not calendar.is_working_day(d):
            weights.append(NON_WORKING_DAY_WEIGHT)
            continue
        w = {0: 1.15, 1: 1.05, 2: 1.0, 3: 1.0, 4: 0.85}.get(d.weekday(), 1.0)
        if d.month in (3, 6, 9, 12) and d.day >= 20:
            w *= 1.2  # quarter-end rush
        weights.append(w)
    return weights


def _split_exactly(total: int, weights: list[float]) -> list[int]:
    """Integers proportional to `weights` that add up to exactly `total`."""
    whole = sum(weights)
    counts, acc, given = [], 0.0, 0
    for w in weights:
        acc += w
        upto = round(total * acc / whole)
        counts.append(upto - given)
        given = upto
    return counts


def _opening(day: date) -> datetime:
    return calendar.next_working_moment(datetime.combine(day, dtime(0, 0), calendar.LOCAL_TZ))


@dataclass
class _Plan:
    """What every worker needs, computed once before the first dossier."""

    ctx: _Context
    end: datetime
    seed: int
    pin: str
    policy: str
    unit_code: str
    with_events: bool
    batch_size: int
    online_on_working_days: float
    days: list[tuple[date, int, int]]  # (day, how many, last code number already used)


def _generate_days(
    plan: _Plan, days: list[tuple[date, int, int]], report=None, numbering: bool = True
) -> DemoResult:
    """Build and write the dossiers of `days`; one transaction per batch of days."""
    ctx = plan.ctx
    now = timezone.now()
    writer = (
        _CopyWriter(now) if connection.vendor == "postgresql" else _BulkWriter(now, plan.batch_size)
    )
    base = writer.defaults(writer.dossier_fields)
    result = DemoResult(method=writer.method)
    batch: list[tuple[dict, list, list]] = []
    batch_days: dict[date, int] = {}
    # Legal codes by acceptance day, numbered here in one process; several workers
    # would draw the same numbers, so they leave the reference and the parent numbers.
    code_numbers: dict[date, int] | None = None
    if numbering:
        code_numbers = dict(
            DossierCodeSequence.objects.filter(
                kind=DossierCodeSequence.KIND_CODE,
                unit_code=plan.unit_code,
                day__gte=days[0][0] if days else date.min,
            ).values_list("day", "last")
        )

    def flush():
        if not batch:
            return
        with transaction.atomic():
            writer.write(
                [b[0] for b in batch],
                [b[1] if plan.with_events else [] for b in batch],
                [b[2] for b in batch],
            )
            sequences = [
                DossierCodeSequence(
                    kind=DossierCodeSequence.KIND_REFERENCE,
                    unit_code=plan.unit_code,
                    day=d,
                    last=last,
                )
                for d, last in batch_days.items()
            ]
            if code_numbers is not None:
                sequences += [
                    DossierCodeSequence(
                        kind=DossierCodeSequence.KIND_CODE,
                        unit_code=plan.unit_code,
                        day=d,
                        last=last,
                    )
                    for d, last in code_numbers.items()
                ]
            DossierCodeSequence.objects.bulk_create(
                sequences,
                update_conflicts=True,
                unique_fields=["kind", "unit_code", "day"],
                update_fields=["last"],
            )
        done = DemoResult()
        for row, evs, ss in batch:
            done.dossiers += 1
            done.events += len(evs) if plan.with_events else 0
            done.steps += len(ss)
            done.by_status[row["status"]] += 1
            done.by_channel[row["channel"]] += 1
            if row["on_time_result"]:
                done.on_time[row["on_time_result"]] += 1
        _add(result, done)
        batch.clear()
        batch_days.clear()
        if report:
            report(done)

    for day, n, last in days:
        # Each day has its own random stream: the same seed gives the same day whatever
        # the batch size or the number of workers.
        rng = random.Random(f"{plan.seed}:{day.isoformat()}")
        working = calendar.is_working_day(day)
        opening = _opening(day) if working else None
        midnight = datetime.combine(day, dtime(0, 0), calendar.LOCAL_TZ)
        drafts = []
        for _i in range(n):
            online = ctx.online is not None and (
                not working or rng.random() < plan.online_on_working_days
            )
            pool = ctx.online if online else ctx.all
            proc = _pick(rng, pool)
            version = proc.version_on(day)
            tries = 0
            while (version.abolished or version.amount is None) and tries < 50:
                proc = _pick(rng, pool)
                version = proc.version_on(day)
                tries += 1
            if version.abolished or version.amount is None:
                raise DomainError(
                    _(
                        "No procedure took dossiers on %(day)s: every version in "
                        "force was abolished or had no processing time."
                    )
                    % {"day": day.isoformat()}
                )
            if online:
                # Online any time of day, mostly in the day and the evening.
                seconds = int(rng.triangular(6 * 3600, 86399, 14 * 3600))
                submitted = midnight + timedelta(seconds=seconds)
                channel = Channel.ONLINE
            else:
                submitted = calendar.add_working_hours(opening, round(rng.uniform(0, 7.99), 3))
                channel = (
                    Channel.POSTAL if rng.random() < POSTAL_SHARE_OF_OFFLINE else Channel.DIRECT
                )
            drafts.append((submitted, proc, version, channel))
        # Codes are drawn in the order of registration, as _next_code does.
        drafts.sort(key=lambda p: p[0])
        for submitted, proc, version, channel in drafts:
            last += 1
            code = f"{REFERENCE_PREFIX}-{plan.unit_code}-{day:%y%m%d}-{last:04d}"
            amount = version.amount
            if channel == Channel.ONLINE and version.online_amount:
                amount = version.online_amount
            row = {
                **base,
                **_applicant(rng, f"hs{day:%y%m%d}{last:04d}"),
                "code": code,
                "submission_ref": code,
                "procedure_id": proc.id,
                "procedure_version_id": version.id,
                "processing_amount": amount,
                "processing_unit": version.unit,
                "fee_vnd": version.fee_vnd,
                "fee_text": version.fee_text,
                "channel": channel,
                "result_delivery": _DELIVERY.get(channel, ResultDelivery.DESK),
                "submitted_at": submitted,
                "status": S.SUBMITTED,
                "pin_hash": pin_hash(code=code, pin=plan.pin),
                "received_by_id": None,
            }
            life = _Life(ctx, rng, plan.end, plan.policy)
            life.run(row, proc, version)
            if code_numbers is not None and row.get("accepted_at"):
                # Dated by the acceptance day, gapless per day; numbered in submission
                # order (the services number in acceptance order: a demo simplification).
                accepted_day = timezone.localdate(row["accepted_at"])
                number = code_numbers.get(accepted_day, 0) + 1
                code_numbers[accepted_day] = number
                row["code"] = f"{plan.unit_code}-{accepted_day:%y%m%d}-{number:04d}"
            batch.append((row, life.events, life.steps))
        batch_days[day] = last
        if len(batch) >= plan.batch_size:
            flush()
    flush()
    return result


_DELIVERY = {Channel.ONLINE: ResultDelivery.ONLINE, Channel.POSTAL: ResultDelivery.POST}


def _add(total: DemoResult, part: DemoResult) -> None:
    total.dossiers += part.dossiers
    total.events += part.events
    total.steps += part.steps
    total.by_status.update(part.by_status)
    total.by_channel.update(part.by_channel)
    total.on_time.update(part.on_time)


def _chunks(days: list[tuple[date, int, int]], parts: int) -> list[list]:
    """Contiguous runs of days with about the same number of dossiers each."""
    total = sum(n for _d, n, _l in days) or 1
    out: list[list] = [[] for _ in range(parts)]
    acc = 0
    for item in days:
        out[min(parts - 1, acc * parts // total)].append(item)
        acc += item[1]
    return [c for c in out if c]


# Worker processes inherit the plan and the progress queue through fork(); globals
# keep them out of pickling (a multiprocessing queue may only be inherited).
_FORKED_PLAN: _Plan | None = None
_FORKED_QUEUE = None


def _worker(days) -> DemoResult:
    from django.db import connections

    try:
        return _generate_days(_FORKED_PLAN, days, report=_FORKED_QUEUE.put, numbering=False)
    finally:
        connections.close_all()


def demo_dossiers_generate(
    *,
    count: int,
    end: datetime | None = None,
    days: int = 365,
    seed: int = 2026,
    with_events: bool = True,
    pin: str = DEMO_PIN,
    batch_size: int = 5000,
    workers: int = 1,
    progress: Callable[[DemoResult], None] | None = None,
) -> DemoResult:
    """Create `count` dossiers submitted over the `days` days before `end`'s date.

    Deterministic for a given seed, catalogue and staff (only the ids depend on the
    number of workers). Adds to what is there: codes continue each day's sequence.
    Each batch is one transaction. `workers` > 1 forks processes that write disjoint
    days over their own connections (PostgreSQL only).
    """
    if count < 0:
        raise DomainError(_("The number of dossiers cannot be negative."), field="count")
    if days < 1:
        raise DomainError(_("The period must be at least one day."), field="days")
    started = time.monotonic()
    end = timezone.localtime(end or timezone.now())
    ctx = _Context(rng=random.Random(seed))
    unit_code = settings.DOSSIER_UNIT_CODE

    last_day = end.date() - timedelta(days=1)
    period = [last_day - timedelta(days=days - 1 - i) for i in range(days)]
    weights = _day_weights(period)
    if ctx.online is None:  # nothing can be submitted on a day off without online procedures
        weights = [
            w if calendar.is_working_day(d) else 0.0 for d, w in zip(period, weights, strict=False)
        ]
    per_day = _split_exactly(count, weights)
    off = sum(n for d, n in zip(period, per_day, strict=False) if not calendar.is_working_day(d))
    off_share = off / count if count else 0.0
    online_share = max(0.0, (ONLINE_SHARE - off_share) / (1 - off_share)) if off_share < 1 else 0.0
    used = dict(
        DossierCodeSequence.objects.filter(
            kind=DossierCodeSequence.KIND_REFERENCE,
            unit_code=unit_code,
            day__gte=period[0],
            day__lte=period[-1],
        ).values_list("day", "last")
    )
    plan = _Plan(
        ctx=ctx,
        end=end,
        seed=seed,
        pin=pin,
        policy=settings.SUPPLEMENT_POLICY,
        unit_code=unit_code,
        with_events=with_events,
        batch_size=batch_size,
        online_on_working_days=online_share,
        days=[(d, n, used.get(d, 0)) for d, n in zip(period, per_day, strict=False) if n],
    )
    # Warm the calendar for every year touched before forking, so no worker loads it.
    for year in range(period[0].year, end.year + 2):
        calendar.is_working_day(date(year, 1, 2))

    workers = max(1, workers)
    if connection.vendor != "postgresql" or count < 2 * batch_size:
        workers = 1
    if workers == 1:
        result = _generate_days(plan, plan.days, report=progress and _accumulating(progress))
    else:
        result = _generate_in_processes(plan, workers, progress)
        _number_codes_sql(
            plan.unit_code, since=datetime.combine(period[0], dtime(0, 0), calendar.LOCAL_TZ)
        )
    if connection.vendor == "postgresql" and result.dossiers:
        # Fresh statistics, so the next query plans for a million rows, not for none.
        with connection.cursor() as cursor:
            for model in (Dossier, DossierEvent, DossierStep, DossierCodeSequence):
                cursor.execute(f"ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
    result.first_day, result.last_day = period[0], period[-1]
    result.seconds = time.monotonic() - started
    logger.info(
        "demo dossiers: %s in %.1f s (%s, %s worker(s))",
        result.dossiers,
        result.seconds,
        result.method,
        workers,
    )
    return result


def _number_codes_sql(unit_code: str, *, since: datetime) -> None:
    """Give the accepted demo dossiers written by several workers their legal codes.

    Workers leave the submission reference as the printed number (they would draw the
    same code numbers); here each acceptance day is numbered in acceptance order after
    the numbers already used that day, and the day's counter is moved on. PostgreSQL
    only, like the workers.
    """
    table = connection.ops.quote_name(Dossier._meta.db_table)
    sequences = connection.ops.quote_name(DossierCodeSequence._meta.db_table)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"""
            WITH todo AS (
                SELECT d.id, (d.accepted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date AS day,
                       row_number() OVER (
                           PARTITION BY (d.accepted_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date
                           ORDER BY d.accepted_at, d.id) AS n
                FROM {table} d
                WHERE d.accepted_at >= %(since)s AND d.code = d.submission_ref
                  AND d.applicant_email LIKE %(demo)s
            ), numbered AS (
                SELECT todo.id, todo.day,
                       todo.n + COALESCE(s.last, 0) AS number
                FROM todo LEFT JOIN {sequences} s
                  ON s.kind = %(kind)s AND s.unit_code = %(unit)s AND s.day = todo.day
            ), done AS (
                UPDATE {table} d
                SET code = %(unit)s || '-' || to_char(numbered.day, 'YYMMDD') || '-'
                           || lpad(numbered.number::text, 4, '0')
                FROM numbered WHERE d.id = numbered.id
                RETURNING numbered.day, numbered.number
            )
            INSERT INTO {sequences} (kind, unit_code, day, last)
            SELECT %(kind)s, %(unit)s, day, max(number) FROM done GROUP BY day
            ON CONFLICT (kind, unit_code, day) DO UPDATE SET last = EXCLUDED.last
        """,
            {
                "since": since,
                "demo": "%@" + DEMO_EMAIL_DOMAIN,
                "kind": DossierCodeSequence.KIND_CODE,
                "unit": unit_code,
            },
        )


def _accumulating(progress):
    total = DemoResult()

    def report(part: DemoResult):
        _add(total, part)
        progress(total)

    return report


def _generate_in_processes(plan: _Plan, workers: int, progress) -> DemoResult:
    import multiprocessing
    import queue
    from concurrent.futures import ProcessPoolExecutor

    from django.db import connections

    global _FORKED_PLAN, _FORKED_QUEUE
    context = multiprocessing.get_context("fork")
    _FORKED_PLAN, _FORKED_QUEUE = plan, context.Queue()
    connections.close_all()  # a forked child must never share the parent's socket
    total = DemoResult(method="copy")
    try:
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = [pool.submit(_worker, chunk) for chunk in _chunks(plan.days, workers)]
            reported = DemoResult()
            while not all(f.done() for f in futures) or not _FORKED_QUEUE.empty():
                try:
                    part = _FORKED_QUEUE.get(timeout=0.5)
                except queue.Empty:
                    continue
                _add(reported, part)
                if progress:
                    progress(reported)
            for f in futures:
                _add(total, f.result())  # re-raises a worker's error here
    finally:
        _FORKED_PLAN = _FORKED_QUEUE = None
    return total


def demo_dossiers_clear(*, email_domain: str = DEMO_EMAIL_DOMAIN) -> dict[str, int]:
    """Delete the demo dossiers (applicants at demo.invalid) and every row hanging on them.

    `email_domain`: another reserved domain whose dossiers are throwaway too (the web
    benchmark's submissions use bench.invalid).

    The event log is append-only evidence for real dossiers; demo rows are not evidence,
    so they are removed with plain SQL (the models refuse to delete events, and the ORM
    would load millions of rows to cascade). Code sequences are kept: numbers are never
    reused.
    """
    qn = connection.ops.quote_name
    dossier_table = qn(Dossier._meta.db_table)
    demo = f"SELECT id FROM {dossier_table} WHERE {qn('applicant_email')} LIKE %s"
    if not email_domain.endswith(".invalid"):  # never real applicants (RFC 2606)
        raise ValueError(email_domain)
    pattern = f"%@{email_domain}"
    deleted: dict[str, int] = {}

    def dependants(model, exclude=()):
        for rel in model._meta.related_objects:
            if rel.related_model in exclude or not rel.field.concrete:
                continue
            yield rel.related_model, rel.field

    with transaction.atomic(), connection.cursor() as cursor:
        event_table = qn(DossierEvent._meta.db_table)
        demo_events = f"SELECT id FROM {event_table} WHERE {qn('dossier_id')} IN ({demo})"
        for model, fk in dependants(DossierEvent):
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(fk.column)} IN ({demo_events})",
                [pattern],
            )
            deleted[model._meta.label] = deleted.get(model._meta.label, 0) + cursor.rowcount
        for model, fk in dependants(Dossier):
            cursor.execute(
                f"DELETE FROM {qn(model._meta.db_table)} WHERE {qn(fk.column)} IN ({demo})",
                [pattern],
            )
            deleted[model._meta.label] = deleted.get(model._meta.label, 0) + cursor.rowcount
        cursor.execute(
            f"DELETE FROM {dossier_table} WHERE {qn('applicant_email')} LIKE %s", [pattern]
        )
        deleted[Dossier._meta.label] = cursor.rowcount
    return deleted
