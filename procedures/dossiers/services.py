"""Every change to a dossier is one function here (docs/legal-rules.md).

Each transition has the same shape: check who may do it; lock the row; check the
status and the version the user saw; change the row; write an append-only event;
queue the notifications, which leave only once the transaction commits.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any, NotRequired, TypedDict, Unpack

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.calendar import deadlines
from procedures.calendar import working_time as calendar
from procedures.core.constants import (
    CLOCK_RUNNING_STATUSES,
    Action,
    ApplicantType,
    Channel,
    DossierStatus,
    OnTimeResult,
    Outcome,
    ResultDelivery,
    StepRole,
    SupplementPolicy,
)
from procedures.core.errors import DomainError
from procedures.core.prepared import fetch_all, insert_rows
from procedures.core.roles import user_unit_id
from procedures.core.validators import normalize_identity, validate_citizen_id, validate_tax_code
from procedures.dossiers.actions import role_refusal, status_refusal
from procedures.dossiers.selectors import dossier_is_visible
from procedures.models import (
    Dossier,
    DossierCodeSequence,
    DossierEvent,
    DossierStep,
    Procedure,
    ProcessStep,
    Unit,
)

S = DossierStatus


class DossierConflict(DomainError):
    """Somebody else changed the dossier since the user loaded it."""


# ---------------------------------------------------------------- helpers


@dataclass(frozen=True)
class Applicant:
    type: str
    name: str
    id_number: str
    address: str = ""
    phone: str = ""
    email: str = ""
    language: str = "vi"
    # Agreed to status updates by SMS at `phone` (issue 12 item 5).
    sms_consent: bool = False


@dataclass(frozen=True)
class UploadedDocument:
    """A file already checked by the form (size, type by content, name).

    Either `content` (bytes: desk scans, tests) or `file` (the upload as Django streamed
    it to a temporary file): an upload is never read whole into memory.
    """

    slot_id: int | None
    name: str
    content: bytes | None = None
    content_type: str = ""
    file: Any = None
    # The file's SHA-256 when it was computed as the upload arrived (uploads_hashed,
    # procedures/core/middleware.py); empty: documents_store hashes the content.
    sha256: str = ""

    @property
    def size(self) -> int:
        return len(self.content) if self.content is not None else self.file.size

    def chunks(self) -> Iterator[bytes]:
        if self.content is not None:
            yield self.content
            return
        self.file.seek(0)
        yield from self.file.chunks()


def _now(now: datetime | None) -> datetime:
    return now if now is not None else timezone.now()


def pin_hash(*, code: str, pin: str) -> str:
    """Keyed hash of the look-up PIN (style.md habit 11): cheap to check, useless if leaked."""
    key = hashlib.sha256(("dossier-pin:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{code}:{pin}".encode(), hashlib.sha256).hexdigest()


def pin_matches(*, dossier: Dossier, pin: str) -> bool:
    # Keyed by the submission reference, which never changes: the legal code replaces it
    # as the dossier's printed number at acceptance, and the PIN must keep working.
    if not dossier.pin_hash:
        return False
    return hmac.compare_digest(
        dossier.pin_hash, pin_hash(code=dossier.submission_ref, pin=pin.strip())
    )


def _new_pin() -> str:
    return f"{secrets.randbelow(10**8):08d}"


REFERENCE_PREFIX = "DK"  # "đăng ký": registered, not yet accepted


def _draw(kind: str, day, *, ahead: bool = False) -> int:
    """The next number of a daily counter, under a row lock held until commit.

    One statement: the day's row is inserted at 1 or, when it exists, incremented,
    and the number returned (INSERT ... ON CONFLICT DO UPDATE ... RETURNING, in
    PostgreSQL and SQLite alike). The update locks the row until commit, so concurrent
    acceptances queue on it; a transaction that rolls back gives its number back, so
    the sequence has no gaps; the unique constraints on the dossier's code and
    reference are the last line of defence.

    `ahead` (PostgreSQL, outside any transaction): the statement is a transaction of
    its own, committed asynchronously (`synchronous_commit` off for it alone), so the
    row is locked for the statement only, not for the caller's transaction and the
    wait for its commit to reach the disk. It is as durable as what uses the number:
    the caller's synchronous commit later writes the log up to its own record, which
    follows this one. A number drawn ahead and then not used (the caller failed) is
    not given back: a gap.
    """
    table = connection.ops.quote_name(DossierCodeSequence._meta.db_table)
    source = "VALUES (%s, %s, %s, 1)"
    if ahead:
        source = (
            "SELECT %s, %s, %s, 1 FROM (SELECT set_config('synchronous_commit', 'off', true)) "
            "AS quick"
        )
    # A fixed statement, prepared on PostgreSQL (procedures/core/prepared.py).
    ((number,),) = fetch_all(
        f"INSERT INTO {table} (kind, unit_code, day, last) {source} "
        f"ON CONFLICT (kind, unit_code, day) DO UPDATE SET last = {table}.last + 1 "
        "RETURNING last",
        [kind, settings.DOSSIER_UNIT_CODE, connection.ops.adapt_datefield_value(day)],
    )
    return number


def _next_reference(now: datetime, *, ahead: bool = False) -> str:
    """Submission reference `DK-<unit code>-YYMMDD-XXXX`, given at registration.

    It identifies the dossier (look-up, receipt of an online submission) until the
    legal code is issued at acceptance, and stays findable afterwards. Unlike the legal
    code it may have gaps (a registration that fails after its reference was drawn
    `ahead` does not give it back): no rule numbers submissions without gaps, and
    holding the day's counter row locked until each registration's commit was on disk
    queued every online submission of the day behind the one before (issue 13).
    """
    day = timezone.localdate(now)
    number = _draw(DossierCodeSequence.KIND_REFERENCE, day, ahead=ahead)
    return f"{REFERENCE_PREFIX}-{settings.DOSSIER_UNIT_CODE}-{day:%y%m%d}-{number:04d}"


def _can_draw_ahead() -> bool:
    """A number may be drawn in a transaction of its own: PostgreSQL, in autocommit
    mode and outside any atomic block (inside one, the statement would join it)."""
    return (
        connection.vendor == "postgresql"
        and not connection.in_atomic_block
        and connection.get_autocommit()
    )


def _next_code(now: datetime) -> str:
    """The legal code `<unit code>-YYMMDD-XXXX` (Circular 01/2018 art. 19).

    Drawn at acceptance, YYMMDD the local date of acceptance, XXXX that day's sequence
    of accepted dossiers (docs/legal-rules.md "Dossier code").
    """
    day = timezone.localdate(now)
    number = _draw(DossierCodeSequence.KIND_CODE, day)
    return f"{settings.DOSSIER_UNIT_CODE}-{day:%y%m%d}-{number:04d}"


def dossier_find(*, number: str) -> Dossier | None:
    """The dossier printed with `number`: its legal code or its submission reference."""
    number = (number or "").strip().upper()
    if not number:
        return None
    return (
        Dossier.objects.filter(code=number).first()
        or Dossier.objects.filter(submission_ref=number).first()
    )


def _check_actor(actor, action: str, dossier: Dossier | None = None) -> None:
    if actor is None:
        return  # the applicant, through the portal: callers check the PIN
    refusal = role_refusal(action=action, user=actor)
    if refusal is not None:
        raise refusal
    if (
        dossier is not None
        and not actor.is_superuser
        and not dossier_is_visible(dossier=dossier, user=actor)
    ):
        raise DomainError(_("This dossier is not assigned to you or your unit."), code="forbidden")


def _lock(dossier: Dossier, expected_version: int | None) -> Dossier:
    locked = Dossier.objects.select_for_update().get(pk=dossier.pk)
    if expected_version is not None and locked.version != expected_version:
        raise DossierConflict(
            _(
                "Dossier %(code)s was changed by someone else a moment ago. "
                "Reload it to see the change, then try again."
            )
            % {"code": locked.code},
            code="conflict",
        )
    return locked


def _require_status(dossier: Dossier, action: str) -> None:
    # Which status allows which action: the registry (procedures/dossiers/actions.py).
    refusal = status_refusal(action=action, status=dossier.status)
    if refusal is not None:
        raise refusal


def _record(
    dossier: Dossier,
    *,
    action: str,
    actor,
    now: datetime,
    from_status: int | None,
    note: str = "",
    data: dict | None = None,
    by_applicant: bool = False,
    fields: Iterable[str] = (),
) -> DossierEvent:
    dossier.version += 1
    dossier.save(update_fields=["status", "version", "updated_at", *fields])
    event = DossierEvent.objects.create(
        dossier=dossier,
        action=action,
        actor=actor,
        by_applicant=by_applicant,
        at=now,
        from_status=from_status,
        to_status=dossier.status,
        due_at=dossier.due_at,
        note=note,
        data=data or {},
    )
    from procedures.notifications.services import notify_dossier_event
    from procedures.reports.rollup import rollup_record

    rollup_record(dossier=dossier, event=event, from_status=from_status, fields=fields)
    notify_dossier_event(event=event)
    return event


class Transition(TypedDict):
    """What every transition takes besides its own input: the dossier, the staff member
    acting, when (default: now) and the version the user saw (None: not compared)."""

    dossier: Dossier
    actor: Any
    now: NotRequired[datetime | None]
    expected_version: NotRequired[int | None]


class ApplicantTransition(TypedDict):
    """The same for a transition the applicant may take through the portal (no actor)."""

    dossier: Dossier
    actor: NotRequired[Any]
    now: NotRequired[datetime | None]
    expected_version: NotRequired[int | None]


@dataclass(frozen=True)
class _Change:
    """A transition under way: the locked row, and the status it had when locked."""

    dossier: Dossier
    action: str
    actor: Any
    now: datetime
    from_status: int

    def record(
        self,
        *,
        note: str = "",
        fields: Iterable[str] = (),
        data: dict | None = None,
        by_applicant: bool = False,
    ) -> DossierEvent:
        """Save the changed row and write its event (`_record`)."""
        return _record(
            self.dossier,
            action=self.action,
            actor=self.actor,
            now=self.now,
            from_status=self.from_status,
            note=note,
            data=data,
            by_applicant=by_applicant,
            fields=fields,
        )


@contextmanager
def _transition(
    action: str,
    on: Transition | ApplicantTransition,
    *,
    check_visible: bool = True,
    guard: Callable[[Dossier], None] | None = None,
) -> Iterator[_Change]:
    """The body every transition shares: check the actor's role (a service that checks
    its own input checks the role before it, so that refusal wins); then, in one
    transaction, lock the row and check the version the user saw; check the actor may
    act on this dossier (unless the caller does it itself, `check_visible=False`); run
    the action's own `guard`; check the status allows the action. The caller changes
    the row and calls `record()`.
    """
    actor = on.get("actor")
    _check_actor(actor, action)
    now = _now(on.get("now"))
    with transaction.atomic():
        d = _lock(on["dossier"], on.get("expected_version"))
        if check_visible:
            _check_actor(actor, action, d)
        if guard is not None:
            guard(d)
        _require_status(d, action)
        yield _Change(d, action, actor, now, d.status)


def _end(
    change: _Change,
    status: int,
    *,
    note: str,
    fields: Iterable[str] = (),
    by_applicant: bool = False,
) -> None:
    """Refused at intake, withdrawn, stopped: the dossier ends now."""
    change.dossier.status = status
    change.dossier.ended_at = change.now
    change.record(note=note, fields=["ended_at", *fields], by_applicant=by_applicant)


def _due_from(dossier: Dossier, start: datetime) -> datetime:
    assert dossier.processing_amount is not None  # copied from the procedure at intake
    return calendar.add_time(start, dossier.processing_amount, dossier.processing_unit)


def _require_text(value: str, field: str, message: str) -> str:
    value = (value or "").strip()
    if not value:
        raise DomainError(message, field=field, code="required")
    return value


# ---------------------------------------------------------------- register / intake


def dossier_register(
    *,
    procedure: Procedure,
    applicant: Applicant,
    channel: int,
    result_delivery: str = ResultDelivery.DESK,
    note: str = "",
    documents: Iterable[UploadedDocument] = (),
    actor=None,
    account=None,
    now: datetime | None = None,
) -> tuple[Dossier, str]:
    """A dossier arrives (desk, post or online). Returns it and its look-up PIN.

    Online, `account` is the signed-in applicant's: the dossier is theirs from the
    same transaction. The row, its event, its files and its notifications commit
    together; if anything fails, the files already stored are deleted again.
    """
    now = _now(now)
    if actor is not None:
        _check_actor(actor, Action.REGISTER)
    if not procedure.accepts_dossiers:
        if procedure.status != "active":
            raise DomainError(_("This procedure has been abolished."), field="procedure")
        if not procedure.is_departmental:
            raise DomainError(
                _(
                    "This is a district-level procedure: its dossiers are received by the local "
                    "People's Committee, not by the department."
                ),
                field="procedure",
                code="not_departmental",
            )
        raise DomainError(
            _(
                "The processing time of this procedure is not yet published, so it cannot "
                "take dossiers."
            ),
            field="procedure",
            code="time_not_published",
        )
    if channel == Channel.ONLINE and not procedure.channel_online:
        raise DomainError(_("This procedure does not take online dossiers."), field="procedure")
    id_number = normalize_identity(applicant.id_number)
    try:
        if applicant.type == ApplicantType.ORGANISATION:
            validate_tax_code(id_number)
        else:
            validate_citizen_id(id_number)
    except ValidationError as exc:
        raise DomainError(exc.messages[0], field="applicant_id_number", code=exc.code) from exc
    name = _require_text(applicant.name, "applicant_name", _("Enter the applicant's name."))

    pin = _new_pin()
    # Outside a transaction (a request), the reference is drawn before it, on its own.
    reference = _next_reference(now, ahead=True) if _can_draw_ahead() else None
    with _files_kept_only_on_commit() as stored, transaction.atomic():
        dossier = Dossier(
            procedure=procedure,
            applicant_type=applicant.type,
            applicant_name=name,
            applicant_id_number=id_number,
            applicant_address=applicant.address.strip(),
            applicant_phone=applicant.phone.strip(),
            applicant_email=applicant.email.strip(),
            applicant_sms_consent=applicant.sms_consent and bool(applicant.phone.strip()),
            applicant_language=applicant.language or "vi",
            channel=channel,
            result_delivery=result_delivery,
            note=note.strip(),
            status=S.SUBMITTED,
            submitted_at=now,
            received_by=actor,
        )
        _apply_version(dossier, on=timezone.localdate(now))
        if reference is None:
            # Drawn last: its counter row stays locked until commit, and concurrent
            # registrations queue on it, so nothing that can come before it waits.
            reference = _next_reference(now)
        # The printed number is the reference until the legal code is issued.
        dossier.code = dossier.submission_ref = reference
        dossier.pin_hash = pin_hash(code=reference, pin=pin)
        # Fixed, prepared inserts (procedures/core/prepared.py): the busiest write path.
        insert_rows([dossier])
        event = DossierEvent(
            dossier=dossier,
            action=Action.REGISTER,
            actor=actor,
            by_applicant=actor is None,
            at=now,
            from_status=None,
            to_status=S.SUBMITTED,
            data={"channel": channel},
        )
        insert_rows([event])
        stored += _store_documents(dossier, documents, event=event, actor=actor, new_dossier=True)
        if account is not None:
            from procedures.accounts.services import account_link_dossier

            account_link_dossier(account=account, dossier=dossier, now=now, new_dossier=True)
        from procedures.notifications.services import notify_dossier_event

        notify_dossier_event(event=event)
    return dossier, pin


def _apply_version(d: Dossier, *, on) -> None:
    """Bind the dossier to the procedure version in force on `on` (its rules, its time)."""
    from procedures.catalogue.services import procedure_version_in_force

    version = procedure_version_in_force(procedure=d.procedure, on=on)
    if version.kind == "abolished":
        raise DomainError(
            _("This procedure was abolished on %(date)s.")
            % {"date": version.effective_from.strftime("%d/%m/%Y")},
            field="procedure",
            code="abolished",
        )
    amount = version.processing_amount
    if d.channel == Channel.ONLINE and version.online_processing_amount:
        amount = version.online_processing_amount
    d.procedure_version = version
    d.processing_amount = amount
    d.processing_unit = version.processing_unit
    d.fee_vnd = version.fee_vnd
    d.fee_text = version.fee_text


def _store_documents(
    dossier, documents, *, event, actor, is_result=False, new_dossier=False
) -> list:
    from procedures.dossiers.documents import documents_store

    return documents_store(
        dossier=dossier,
        uploads=documents,
        event=event,
        actor=actor,
        is_result=is_result,
        new_dossier=new_dossier,
    )


@contextmanager
def _files_kept_only_on_commit() -> Iterator[list]:
    """Collects the documents a transaction stores; deletes their files if it fails.

    Entered outside `transaction.atomic()`, so that a failure of the commit itself is
    seen too. (The storage is not transactional: without this, a rolled-back dossier
    would leave its files behind.)
    """
    stored: list = []
    try:
        yield stored
    except BaseException:
        from procedures.dossiers.documents import documents_discard

        documents_discard(stored)
        raise


def dossier_accept(**on: Unpack[Transition]) -> Dossier:
    """Complete dossier accepted: the legal clock starts (receipt, form 01)."""
    with _transition(Action.ACCEPT, on) as change:
        d, actor, now = change.dossier, change.actor, change.now
        # The rules in force on the day of acceptance bind the dossier
        # (docs/legal-rules.md "Catalogue versions").
        _apply_version(d, on=timezone.localdate(now))
        if d.processing_amount is None:
            raise DomainError(_("The procedure has no published processing time."))
        start = calendar.next_working_moment(now)
        d.status = S.ACCEPTED
        d.accepted_at = now
        d.clock_started_at = start
        d.due_at = d.original_due_at = _due_from(d, start)
        d.received_by = d.received_by or actor
        # The legal code is issued now, dated the day of acceptance; the number drawn
        # is given back if anything below fails (same transaction).
        d.code = _next_code(now)
        d.transfer_due_at = deadlines.transfer_due_at(now)
        _create_steps(d, start)
        change.record(
            data={
                "due_at": d.due_at.isoformat(),
                "code": d.code,
                "submission_ref": d.submission_ref,
                "transfer_due_at": d.transfer_due_at.isoformat(),
            },
            fields=[
                "code",
                "accepted_at",
                "clock_started_at",
                "due_at",
                "original_due_at",
                "received_by",
                "transfer_due_at",
                "procedure_version",
                "processing_amount",
                "processing_unit",
                "fee_vnd",
                "fee_text",
            ],
        )
    return d


def is_return_step(step, last_order: int) -> bool:
    """The seeded last step, "return the result": a one-stop desk step closing a process
    of several steps (services.process.process_default_steps).

    It starts when the result is ready (status 9) and ends when the result is returned
    (status 10), recorded on the officer who returned it; hand-overs never reach it.
    """
    return step.order == last_order and step.order > 1 and step.role == StepRole.INTAKE


def _last_order(d: Dossier) -> int:
    return max(d.steps.values_list("order", flat=True), default=0)


def _start_step(step: DossierStep, start: datetime) -> None:
    step.started_at = start
    step.due_at = calendar.add_working_hours(start, Decimal(step.allotted_seconds) / 3600)
    step.save(update_fields=["started_at", "due_at"])


def _close_step(step: DossierStep, *, now: datetime, actor, note: str = "", officer=None) -> None:
    """End a step with its early / on time / late result (form 05), to the second.

    The same rule for a hand-over, a step still open at resolve and the return step;
    the working time used leaves out the time the dossier's clock stood still.
    """
    step.completed_at = now
    step.completed_by = actor
    step.officer = officer or step.officer or actor
    step.note = note or step.note
    assert step.started_at is not None and step.due_at is not None  # only a started step closes
    step.working_seconds_used = max(
        0, calendar.working_seconds_between(step.started_at, now) - step.paused_seconds
    )
    step.on_time_result = on_time_result(finished_at=now, due_at=step.due_at, exact=True)
    step.save(
        update_fields=[
            "completed_at",
            "completed_by",
            "officer",
            "note",
            "working_seconds_used",
            "on_time_result",
        ]
    )


def _open_step(d: Dossier) -> DossierStep | None:
    return d.steps.filter(completed_at__isnull=True, started_at__isnull=False).first()


def _create_steps(d: Dossier, start: datetime) -> None:
    """Copy the procedure's internal process onto the dossier; the first step starts now."""
    steps = list(ProcessStep.objects.filter(procedure_id=d.procedure_id).order_by("order"))
    rows = []
    for i, step in enumerate(steps):
        seconds = int(step.allotted_hours * 3600)
        rows.append(
            DossierStep(
                dossier=d,
                order=step.order,
                name=step.name,
                role=step.role,
                unit=step.unit,
                allotted_seconds=seconds,
                started_at=start if i == 0 else None,
                due_at=calendar.add_working_hours(start, Decimal(seconds) / 3600)
                if i == 0
                else None,
            )
        )
    DossierStep.objects.bulk_create(rows)


def dossier_refuse_intake(*, reason: str, **on: Unpack[Transition]) -> Dossier:
    """Outside the department's competence or not eligible: refusal slip (form 03)."""
    _check_actor(on.get("actor"), Action.REFUSE_INTAKE)
    reason = _require_text(reason, "reason", _("Give the reason for refusing the dossier."))
    with _transition(Action.REFUSE_INTAKE, on) as change:
        d = change.dossier
        d.outcome_note = reason
        _end(change, S.REFUSED_AT_INTAKE, note=reason, fields=["outcome_note"])
    return d


# ---------------------------------------------------------------- supplements


# Decree 61/2018 art. 19: within 3 working days of acceptance, counted by date
# (docs/legal-rules.md "Supplement during processing").
SUPPLEMENT_WINDOW_DAYS = 3
REPEAT_APPLICANT_INCOMPLETE = "applicant_supplement_incomplete"


def dossier_request_supplement(
    *, reason: str, applicant_supplement_incomplete: bool = False, **on: Unpack[Transition]
) -> Dossier:
    """Ask for missing papers, once and completely, in writing (form 02).

    At intake the clock has not started; guidance is given once and completely, so a
    second request at intake is refused unless the officer states that the applicant's
    supplement was itself incomplete (``applicant_supplement_incomplete``), which is
    recorded as such. During processing the request must come within 3 working days of
    acceptance (by date) and at most once; the clock then stops.
    """
    _check_actor(on.get("actor"), Action.REQUEST_SUPPLEMENT)
    reason = _require_text(reason, "reason", _("List every missing or incorrect paper."))
    with _transition(Action.REQUEST_SUPPLEMENT, on, check_visible=False) as change:
        d, actor, now = change.dossier, change.actor, change.now
        # Status first: a dossier still at intake is anyone's at the desk to guide.
        if actor is not None and not actor.is_superuser:
            _check_actor(actor, Action.REQUEST_SUPPLEMENT, d if d.status != S.SUBMITTED else None)
        from_status = change.from_status
        fields = ["supplement_reason", "supplement_count", "paused_at"]
        data: dict = {"during_processing": from_status in CLOCK_RUNNING_STATUSES}
        if from_status == S.SUBMITTED:
            earlier = d.events.filter(
                action=Action.REQUEST_SUPPLEMENT, from_status=S.SUBMITTED
            ).count()
            if earlier and not applicant_supplement_incomplete:
                raise DomainError(
                    _(
                        "The applicant was already told once what is missing, and guidance "
                        "must be given once and completely. Ask again only if the applicant's "
                        "supplement was itself incomplete, and say so."
                    ),
                    field="applicant_supplement_incomplete",
                    code="supplement_guidance_once",
                )
            if earlier:
                d.supplement_repeats += 1
                fields.append("supplement_repeats")
                data.update(repeat=True, repeat_reason=REPEAT_APPLICANT_INCOMPLETE)
        if from_status in CLOCK_RUNNING_STATUSES:
            assert d.accepted_at is not None  # the clock runs from acceptance
            last_day = deadlines.supplement_last_day(
                accepted_at=d.accepted_at, days=SUPPLEMENT_WINDOW_DAYS
            )
            if timezone.localdate(now) > last_day:
                raise DomainError(
                    _(
                        "A supplement may be requested during processing only within 3 working "
                        "days of acceptance, that is until %(day)s (Decree 61/2018, art. 19)."
                    )
                    % {"day": last_day.strftime("%d/%m/%Y")},
                    code="supplement_too_late",
                )
            if d.events.filter(
                action=Action.REQUEST_SUPPLEMENT, from_status__in=CLOCK_RUNNING_STATUSES
            ).exists():
                raise DomainError(
                    _("A supplement during processing may be requested only once."),
                    code="supplement_twice",
                )
            d.paused_at = now
        d.status = S.SUPPLEMENT_REQUESTED
        d.supplement_reason = reason
        d.supplement_count += 1
        change.record(note=reason, fields=fields, data=data)
    return d


def _supplement_requested_during_processing(d: Dossier) -> bool:
    last = d.events.filter(action=Action.REQUEST_SUPPLEMENT).order_by("-at", "-id").first()
    return bool(last and last.from_status in CLOCK_RUNNING_STATUSES)


def dossier_receive_supplement(
    *,
    documents: Iterable[UploadedDocument] = (),
    note: str = "",
    policy: str | None = None,
    **on: Unpack[ApplicantTransition],
) -> Dossier:
    """The applicant completed the dossier (at the desk or through the look-up page)."""
    _check_actor(on.get("actor"), Action.RECEIVE_SUPPLEMENT)
    policy = policy or settings.SUPPLEMENT_POLICY
    documents = list(documents)
    with (
        _files_kept_only_on_commit() as stored,
        _transition(Action.RECEIVE_SUPPLEMENT, on) as change,
    ):
        d, actor, now = change.dossier, change.actor, change.now
        if actor is None and not documents:
            raise DomainError(_("Attach at least one file to answer the request."), field="files")
        fields = ["paused_at", "paused_seconds", "clock_started_at", "due_at", "original_due_at"]
        data: dict = {"policy": None}
        if _supplement_requested_during_processing(d):
            if policy == SupplementPolicy.RESTART:
                # Decree 61/2018 art. 19(4) as amended: counted again from zero. The
                # restarted due replaces any earlier one, an apology's new date included:
                # the dossier is judged against it (docs/legal-rules.md "Apology").
                start = calendar.next_working_moment(now)
                d.clock_started_at = start
                d.paused_seconds = 0
                d.due_at = d.original_due_at = _due_from(d, start)
                _restart_open_step(d, start)
            else:
                _shift_due(d, now)
            d.paused_at = None
            d.status = S.PROCESSING if d.assigned_unit_id else S.ACCEPTED
            assert d.due_at is not None  # a paused dossier keeps its due time
            data = {"policy": policy, "due_at": d.due_at.isoformat()}
        else:
            d.status = S.SUBMITTED  # checked again at intake; no clock yet
        event = change.record(note=note, fields=fields, data=data, by_applicant=actor is None)
        stored += _store_documents(d, documents, event=event, actor=actor)
    return d


def _shift_due(d: Dossier, now: datetime) -> None:
    """Pause policy and payment: move the due times by the working time the clock stood
    still, the open step's too, so the unit holding it is not charged with it."""
    # Called on a paused dossier, whose clock started (so its due times are set).
    assert d.paused_at is not None and d.due_at is not None and d.original_due_at is not None
    paused = max(0, calendar.working_seconds_between(d.paused_at, now))
    d.paused_seconds += paused
    if paused:
        d.due_at = calendar.add_working_hours(d.due_at, Decimal(paused) / 3600)
        d.original_due_at = calendar.add_working_hours(d.original_due_at, Decimal(paused) / 3600)
        step = _open_step(d)
        if step is not None and step.due_at is not None:
            step.due_at = calendar.add_working_hours(step.due_at, Decimal(paused) / 3600)
            step.paused_seconds += paused
            step.save(update_fields=["due_at", "paused_seconds"])
    d.paused_at = None


def _restart_open_step(d: Dossier, start: datetime) -> None:
    """Restart policy: the open step gets its whole time again from the restart; the
    time before it is not charged to the unit."""
    step = _open_step(d)
    if step is None:
        return
    assert step.started_at is not None  # the open step has started
    step.paused_seconds = max(0, calendar.working_seconds_between(step.started_at, start))
    step.due_at = calendar.add_working_hours(start, Decimal(step.allotted_seconds) / 3600)
    step.save(update_fields=["due_at", "paused_seconds"])


# ---------------------------------------------------------------- payment


def dossier_request_payment(*, note: str, **on: Unpack[Transition]) -> Dossier:
    """Awaiting fee or tax payment (status 6): the clock pauses."""
    _check_actor(on.get("actor"), Action.REQUEST_PAYMENT)
    note = _require_text(note, "note", _("Say what must be paid, how much and how."))
    with _transition(Action.REQUEST_PAYMENT, on) as change:
        d, now = change.dossier, change.now
        d.status = S.PAYMENT_REQUESTED
        d.paused_at = now
        d.payment_note = note
        change.record(note=note, fields=["paused_at", "payment_note"])
    return d


def dossier_confirm_payment(*, note: str = "", **on: Unpack[Transition]) -> Dossier:
    with _transition(Action.CONFIRM_PAYMENT, on) as change:
        d, now = change.dossier, change.now
        _shift_due(d, now)
        assert d.due_at is not None  # a payment pause keeps the due time
        d.status = S.PROCESSING if d.assigned_unit_id else S.ACCEPTED
        change.record(
            note=note,
            fields=["paused_at", "paused_seconds", "due_at", "original_due_at"],
            data={"due_at": d.due_at.isoformat()},
        )
    return d


# ---------------------------------------------------------------- processing


def dossier_assign(
    *, unit: Unit, officer=None, note: str = "", **on: Unpack[Transition]
) -> Dossier:
    """Transfer to the processing unit (the same working day) or reassign an officer."""
    actor = on["actor"]
    _check_actor(actor, Action.ASSIGN)
    if officer is not None:
        profile = getattr(officer, "staff_profile", None)
        if profile is None or profile.unit_id != unit.pk:
            raise DomainError(_("The officer does not belong to the chosen unit."), field="officer")

    def may_reach(d: Dossier) -> None:
        # A unit head reassigns only their own unit's dossiers, or takes a dossier the
        # desk has not routed yet into their own unit.
        if not (d.assigned_unit_id is None and unit.pk == user_unit_id(actor)):
            _check_actor(actor, Action.ASSIGN, d)

    with _transition(Action.ASSIGN, on, check_visible=False, guard=may_reach) as change:
        d, now = change.dossier, change.now
        previous = {"unit": d.assigned_unit_id, "officer": d.assigned_officer_id}
        d.assigned_unit = unit
        d.assigned_officer = officer
        fields = ["assigned_unit", "assigned_officer"]
        data = {"unit": unit.pk, "officer": officer.pk if officer else None, "previous": previous}
        if d.transferred_at is None and d.accepted_at is not None:
            # The first routing to a unit is the transfer from the desk: measured
            # against its own due time (docs/legal-rules.md "Transfer").
            d.transferred_at = now
            d.transferred_by = actor
            if d.transfer_due_at is not None:
                d.transfer_on_time_result = on_time_result(
                    finished_at=now, due_at=d.transfer_due_at, exact=True
                )
            fields += ["transferred_at", "transferred_by", "transfer_on_time_result"]
            data["transfer"] = d.transfer_on_time_result
            _hand_over_intake_step(d, now=now, actor=actor)
        if d.status == S.ACCEPTED:
            d.status = S.PROCESSING
        change.record(note=note, fields=fields, data=data)
    return d


def _hand_over_intake_step(d: Dossier, *, now: datetime, actor) -> None:
    """The desk's "receive and transfer" step ends with the transfer itself."""
    step = _open_step(d)
    if step is None or step.role != StepRole.INTAKE:
        return
    last_order = _last_order(d)
    if is_return_step(step, last_order):
        return
    _close_step(step, now=now, actor=actor)
    nxt = d.steps.filter(order__gt=step.order).order_by("order").first()
    if nxt is not None and not is_return_step(nxt, last_order):
        _start_step(nxt, now)


def dossier_complete_step(*, note: str = "", **on: Unpack[Transition]) -> DossierStep:
    """Hand the dossier over to the next step; records early/on time/late (form 05)."""
    with _transition(Action.COMPLETE_STEP, on) as change:
        d, actor, now = change.dossier, change.actor, change.now
        step = _open_step(d)
        if step is None:
            raise DomainError(_("This dossier has no open step to hand over."))
        last_order = _last_order(d)
        if is_return_step(step, last_order):
            raise DomainError(
                _("The return step is recorded when the result is returned."), code="return_step"
            )
        _close_step(step, now=now, actor=actor, note=note)
        nxt = d.steps.filter(order__gt=step.order).order_by("order").first()
        if nxt is not None and is_return_step(nxt, last_order):
            nxt = None  # it starts when the result is ready (dossier_resolve)
        if nxt is not None:
            _start_step(nxt, now)
        if d.status == S.ACCEPTED:
            d.status = S.PROCESSING
        change.record(
            note=note,
            data={
                "step": step.order,
                "result": step.on_time_result,
                "next": nxt.order if nxt else None,
            },
        )
    return step


def dossier_apologise(*, new_due_at: datetime, reason: str, **on: Unpack[Transition]) -> Dossier:
    """Apology with a new appointment (form 04): at least 1 working day before due, once."""
    _check_actor(on.get("actor"), Action.APOLOGISE)
    reason = _require_text(reason, "reason", _("Give the reason for the delay."))

    def not_paused(d: Dossier) -> None:
        if d.status in (S.PAYMENT_REQUESTED, S.SUPPLEMENT_REQUESTED) and d.accepted_at:
            raise DomainError(
                _(
                    "No apology while the clock is paused for the applicant (payment or "
                    "supplement): the due time still moves when the clock resumes, so the "
                    "date written in the apology could not be kept. Record the payment or "
                    "the supplement first."
                ),
                code="illegal_transition",
            )

    with _transition(Action.APOLOGISE, on, guard=not_paused) as change:
        d, now = change.dossier, change.now
        if d.reappointment_count >= 1:
            raise DomainError(_("The appointment may be moved only once."), code="apology_twice")
        assert d.due_at is not None  # a running dossier has its appointment
        last_day = deadlines.apology_last_day(due_at=d.due_at)
        if timezone.localdate(now) > last_day:
            raise DomainError(
                _(
                    "The apology must be sent at least 1 working day before the due date, "
                    "that is by %(day)s (due %(due)s)."
                )
                % {
                    "day": last_day.strftime("%d/%m/%Y"),
                    "due": timezone.localtime(d.due_at).strftime("%H:%M %d/%m/%Y"),
                },
                code="apology_too_late",
            )
        if new_due_at <= d.due_at:
            raise DomainError(
                _("The new appointment must be later than the current due time."),
                field="new_due_at",
            )
        old = d.due_at
        d.due_at = new_due_at
        d.reappointment_count += 1
        change.record(
            note=reason,
            fields=["due_at", "reappointment_count"],
            data={"old_due_at": old.isoformat(), "new_due_at": new_due_at.isoformat()},
        )
    return d


def on_time_result(*, finished_at: datetime, due_at: datetime, exact: bool = False) -> str:
    """Early / on time / late by local date in Asia/Ho_Chi_Minh (docs/legal-rules.md
    "Early, on time, late"): an earlier date is early, the same date on time.

    With `exact`, a finish later on the due date counts as late (steps and transfers,
    compared to the second).
    """
    finished_day = timezone.localdate(finished_at)
    due_day = timezone.localdate(due_at)
    if finished_day < due_day:
        return OnTimeResult.EARLY
    if finished_day == due_day and (not exact or finished_at <= due_at):
        return OnTimeResult.ON_TIME
    return OnTimeResult.LATE


def dossier_resolve(
    *,
    outcome: str,
    note: str = "",
    documents: Iterable[UploadedDocument] = (),
    **on: Unpack[Transition],
) -> Dossier:
    """Result ready (status 9), granted or refused with reasons; on-time result stored."""
    _check_actor(on.get("actor"), Action.RESOLVE)
    if outcome not in Outcome.values:
        raise DomainError(_("Choose granted or refused."), field="outcome")
    if outcome == Outcome.REFUSED:
        note = _require_text(note, "note", _("A refusal must state its reasons in writing."))
    with _files_kept_only_on_commit() as stored, _transition(Action.RESOLVE, on) as change:
        d, actor, now = change.dossier, change.actor, change.now
        # Judged against the original due: an apology does not excuse the missed
        # appointment; a restart (supplement) replaced it with the restarted due.
        assert d.due_at is not None and d.clock_started_at is not None  # accepted dossiers
        judged_against = d.original_due_at or d.due_at
        d.status = S.FINISHED
        d.finished_at = now
        d.outcome = outcome
        d.outcome_note = note.strip()
        d.on_time_result = on_time_result(finished_at=now, due_at=judged_against)
        d.working_seconds_used = max(
            0, calendar.working_seconds_between(d.clock_started_at, now) - d.paused_seconds
        )
        _steps_at_resolve(d, now=now, actor=actor)
        event = change.record(
            note=d.outcome_note,
            fields=[
                "finished_at",
                "outcome",
                "outcome_note",
                "on_time_result",
                "working_seconds_used",
            ],
            data={"outcome": outcome, "on_time_result": d.on_time_result},
        )
        stored += _store_documents(d, documents, event=event, actor=actor, is_result=True)
    return d


def _steps_at_resolve(d: Dossier, *, now: datetime, actor) -> None:
    """A step still open when the result is ready ends now, with its result; the return
    step starts now."""
    last_order = _last_order(d)
    for step in d.steps.filter(started_at__isnull=False, completed_at__isnull=True):
        if not is_return_step(step, last_order):
            _close_step(step, now=now, actor=actor)
    ret = d.steps.filter(order=last_order, started_at__isnull=True).first()
    if ret is not None and is_return_step(ret, last_order):
        _start_step(ret, now)


def dossier_return_result(*, note: str = "", **on: Unpack[Transition]) -> Dossier:
    """Result handed over (status 10); the return step ends, on the officer who did it."""
    with _transition(Action.RETURN_RESULT, on) as change:
        d, actor, now = change.dossier, change.actor, change.now
        last_order = _last_order(d)
        ret = d.steps.filter(order=last_order, completed_at__isnull=True).first()
        if ret is not None and is_return_step(ret, last_order):
            if ret.started_at is None:  # resolved before the return step existed
                _start_step(ret, d.finished_at or now)
            _close_step(ret, now=now, actor=actor, note=note, officer=actor)
        d.status = S.RETURNED
        d.returned_at = now
        change.record(note=note, fields=["returned_at"])
    return d


def dossier_withdraw(*, reason: str = "", **on: Unpack[ApplicantTransition]) -> Dossier:
    """At the applicant's request (status 7); ends the dossier."""
    with _transition(Action.WITHDRAW, on) as change:
        d, actor = change.dossier, change.actor
        _end(change, S.WITHDRAWN, note=reason.strip(), by_applicant=actor is None)
    return d


def dossier_stop(*, reason: str, **on: Unpack[Transition]) -> Dossier:
    """Processing stopped (status 8), with reasons; ends the dossier."""
    _check_actor(on.get("actor"), Action.STOP)
    reason = _require_text(reason, "reason", _("Give the reason for stopping."))
    with _transition(Action.STOP, on) as change:
        d = change.dossier
        _end(change, S.STOPPED, note=reason)
    return d


def dossier_due_if_accepted(
    *, procedure: Procedure, now: datetime | None = None, online: bool = False
) -> datetime | None:
    """ "If accepted now, due on ..." for the catalogue pages."""
    amount = procedure.processing_amount
    if online and procedure.online_processing_amount:
        amount = procedure.online_processing_amount
    if amount is None:
        return None
    start = calendar.next_working_moment(_now(now))
    return calendar.add_time(start, amount, procedure.processing_unit)
