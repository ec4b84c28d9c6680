"""Every transition of a dossier, its deadlines and its refusals (docs/legal-rules.md).

Working time: 07:00-11:30 and 13:30-17:00, 8 h a day. 1 June 2026 is a Monday.
"""

import re
from decimal import Decimal

import pytest
from django.core import mail

from procedures.catalogue.services import procedure_amend
from procedures.core.constants import Action, Channel, OnTimeResult, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.models import Delivery, Dossier, DossierEvent

from .conftest import at

pytestmark = pytest.mark.django_db


MONDAY_10 = at(2026, 6, 1, 10, 0)


def accept(dossier, staff, now=MONDAY_10):
    return svc.dossier_accept(dossier=dossier, actor=staff["intake"], now=now)


def processing(register, staff, units, now=MONDAY_10):
    d = accept(register(now=now), staff, now)
    return svc.dossier_assign(
        dossier=d, actor=staff["intake"], unit=units["QLTM"], officer=staff["specialist"], now=now
    )


# ------------------------------------------------------------------ register


def test_register_gives_daily_sequential_references_and_a_pin(register):
    """A submission gets a reference DK-<unit>-YYMMDD-XXXX, not yet a legal code."""
    first = register(now=at(2026, 6, 1, 9, 0))
    second = register(now=at(2026, 6, 1, 9, 5))
    next_day = register(now=at(2026, 6, 2, 8, 0))
    assert first.code == first.submission_ref == "DK-H56.16-260601-0001"
    assert second.submission_ref == "DK-H56.16-260601-0002"
    assert next_day.submission_ref == "DK-H56.16-260602-0001"
    assert not first.has_legal_code
    assert first.status == S.SUBMITTED
    assert re.fullmatch(r"\d{8}", first.pin)
    assert first.pin not in first.pin_hash
    assert svc.pin_matches(dossier=first, pin=first.pin)
    assert not svc.pin_matches(dossier=first, pin="00000000")
    event = first.events.get()
    assert (event.action, event.from_status, event.to_status) == (
        Action.REGISTER,
        None,
        S.SUBMITTED,
    )


def test_register_snapshots_the_version_in_force(register, procedure):
    d = register()
    assert d.procedure_version.number == 1
    assert d.processing_amount == Decimal("5")
    assert d.fee_vnd == 1_200_000


def test_online_dossier_gets_the_shorter_online_time(register):
    d = register(channel=Channel.ONLINE)
    assert d.processing_amount == Decimal("3")
    assert d.received_by is None
    assert d.events.get().by_applicant


@pytest.mark.parametrize(
    ("id_number", "message"),
    [("12345", "12 digits"), ("00109901234A", "12 digits")],
)
def test_register_rejects_bad_citizen_id(register, id_number, message):
    applicant = svc.Applicant(type="individual", name="A", id_number=id_number)
    with pytest.raises(DomainError) as err:
        register(applicant=applicant)
    assert err.value.field == "applicant_id_number"
    assert message in err.value.message
    assert not Dossier.objects.exists()


def test_register_accepts_branch_tax_code_for_organisations(register):
    applicant = svc.Applicant(
        type="organisation", name="Công ty TNHH Gốm Sứ", id_number="4600123459-001"
    )
    assert register(applicant=applicant).applicant_id_number == "4600123459-001"
    with pytest.raises(DomainError):
        register(applicant=svc.Applicant(type="organisation", name="X", id_number="46001234"))


def test_procedure_without_published_time_refuses_dossiers(register, procedure):
    procedure.processing_amount = None
    procedure.online_processing_amount = None
    procedure.save()
    with pytest.raises(DomainError) as err:
        register()
    assert err.value.code == "time_not_published"


# ------------------------------------------------------------------ accept / refuse


def test_accept_starts_the_clock_monday_ten_plus_five_days(register, staff):
    d = accept(register(), staff, at(2026, 6, 1, 10, 0))
    assert d.status == S.ACCEPTED
    assert d.accepted_at == at(2026, 6, 1, 10, 0)
    assert d.due_at == d.original_due_at == at(2026, 6, 8, 10, 0)
    assert d.events.filter(
        action=Action.ACCEPT, from_status=S.SUBMITTED, to_status=S.ACCEPTED
    ).exists()


def test_accept_after_closing_counts_from_next_opening(register, staff):
    d = accept(register(now=at(2026, 6, 5, 16, 0)), staff, at(2026, 6, 5, 17, 30))
    # Friday after closing: clock starts Monday 07:00; 5 days later is the next Monday 07:00,
    # which is the end of Friday's last hour: the due time stays at Friday's closing.
    assert d.clock_started_at == at(2026, 6, 8, 7, 0)
    assert d.due_at == at(2026, 6, 12, 17, 0)


def test_accept_binds_version_in_force_on_acceptance_and_amendment_does_not_move_due(
    register, staff, procedure
):
    d = accept(register(), staff, at(2026, 6, 1, 10, 0))
    procedure_amend(
        procedure=procedure,
        changes={"processing_amount": Decimal("3")},
        decision_number="QĐ 99/2026",
        decision_date=at(2026, 6, 2).date(),
        effective_from=at(2026, 6, 2).date(),
    )
    d.refresh_from_db()
    assert d.due_at == at(2026, 6, 8, 10, 0)
    later = accept(register(now=at(2026, 6, 3, 8, 0)), staff, at(2026, 6, 3, 8, 0))
    assert later.processing_amount == Decimal("3")
    assert later.procedure_version.number == 2
    assert later.due_at == at(2026, 6, 8, 8, 0)


def test_refuse_at_intake_needs_a_reason_and_ends_the_dossier(register, staff):
    d = register()
    with pytest.raises(DomainError) as err:
        svc.dossier_refuse_intake(dossier=d, actor=staff["intake"], reason="  ")
    assert err.value.field == "reason"
    d = svc.dossier_refuse_intake(
        dossier=d, actor=staff["intake"], reason="Ngoài thẩm quyền", now=at(2026, 6, 1, 9, 30)
    )
    assert d.status == S.REFUSED_AT_INTAKE
    assert d.ended_at == at(2026, 6, 1, 9, 30)


@pytest.mark.parametrize(
    "call",
    [
        lambda d, st: svc.dossier_resolve(dossier=d, actor=st["director"], outcome=Outcome.GRANTED),
        lambda d, st: svc.dossier_return_result(dossier=d, actor=st["intake"]),
        lambda d, st: svc.dossier_confirm_payment(dossier=d, actor=st["intake"]),
        lambda d, st: svc.dossier_stop(dossier=d, actor=st["director"], reason="x"),
        lambda d, st: svc.dossier_receive_supplement(dossier=d, actor=st["intake"]),
    ],
)
def test_illegal_transitions_are_refused_and_nothing_is_written(register, staff, call):
    d = register()
    events = DossierEvent.objects.count()
    with pytest.raises(DomainError) as err:
        call(d, staff)
    assert err.value.code == "illegal_transition"
    assert "Newly submitted" in err.value.message
    d.refresh_from_db()
    assert (d.status, d.version) == (S.SUBMITTED, 1)
    assert DossierEvent.objects.count() == events


def test_finished_dossier_cannot_be_withdrawn(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 3, 9, 0)
    )
    with pytest.raises(DomainError):
        svc.dossier_withdraw(dossier=d, actor=staff["intake"], reason="muốn rút")


# ------------------------------------------------------------------ supplements


def test_supplement_at_intake_has_no_clock_and_returns_to_intake(register, staff):
    d = register()
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Thiếu bản sao GCN ĐKKD", now=at(2026, 6, 1, 9, 10)
    )
    assert (d.status, d.due_at, d.supplement_count) == (S.SUPPLEMENT_REQUESTED, None, 1)
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 9, 0))
    assert d.status == S.SUBMITTED
    d = accept(d, staff, at(2026, 6, 3, 9, 0))
    assert d.due_at == at(2026, 6, 10, 9, 0)


def test_supplement_during_processing_restarts_the_clock_by_default(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="Bổ sung hợp đồng", now=at(2026, 6, 2, 9, 0)
    )
    assert d.status == S.SUPPLEMENT_REQUESTED
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 4, 14, 0))
    assert d.status == S.PROCESSING
    # Counted again from zero (Decree 61/2018 art. 19(4)): Thu 14:00 + 40 working hours.
    assert d.clock_started_at == at(2026, 6, 4, 14, 0)
    assert d.due_at == d.original_due_at == at(2026, 6, 11, 14, 0)


def test_supplement_during_processing_pause_policy_shifts_the_due(register, staff, units, settings):
    settings.SUPPLEMENT_POLICY = "pause"
    d = processing(register, staff, units)
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="Bổ sung", now=at(2026, 6, 2, 9, 0)
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 4, 14, 0))
    # Paused Tue 09:00 -> Thu 14:00 = 6 + 8 + 5 = 19 working hours; Mon 8 Jun 10:00 + 19 h.
    assert d.paused_seconds == 19 * 3600
    assert d.due_at == d.original_due_at == at(2026, 6, 10, 15, 0)
    assert d.clock_started_at == at(2026, 6, 1, 10, 0)


def test_supplement_within_three_working_days_counted_by_date(register, staff, units):
    """Accepted Monday 1 June 10:00: the 3 working days are Tue, Wed, Thu (the day of
    acceptance is not counted, Civil Code art. 147) and end with Thursday 4 June (art.
    148), so 16:59 on Thursday is in time and Friday 07:00 is not."""
    d = processing(register, staff, units)
    with pytest.raises(DomainError) as err:
        svc.dossier_request_supplement(
            dossier=d, actor=staff["specialist"], reason="x", now=at(2026, 6, 5, 7, 0)
        )
    assert err.value.code == "supplement_too_late"
    assert "04/06/2026" in err.value.message
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="x", now=at(2026, 6, 4, 16, 59)
    )
    assert d.status == S.SUPPLEMENT_REQUESTED


def test_supplement_during_processing_only_once(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="x", now=at(2026, 6, 1, 14, 0)
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 8, 0))
    with pytest.raises(DomainError) as err:
        svc.dossier_request_supplement(
            dossier=d, actor=staff["specialist"], reason="y", now=at(2026, 6, 2, 9, 0)
        )
    assert err.value.code == "supplement_twice"


def test_applicant_must_attach_a_file_to_answer_a_supplement(register, staff):
    d = svc.dossier_request_supplement(dossier=register(), actor=staff["intake"], reason="x")
    with pytest.raises(DomainError) as err:
        svc.dossier_receive_supplement(dossier=d, actor=None, documents=[])
    assert err.value.field == "files"
    doc = svc.UploadedDocument(
        slot_id=None,
        name="../../etc/passwd.pdf",
        content=b"%PDF-1.4 x",
        content_type="application/pdf",
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=None, documents=[doc])
    stored = d.documents.get()
    assert stored.original_name == "passwd.pdf"
    assert stored.by_applicant and stored.size == 10 and len(stored.sha256) == 64


# ------------------------------------------------------------------ payment


def test_payment_pauses_the_clock(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Lệ phí 1.200.000 đ", now=at(2026, 6, 3, 7, 0)
    )
    assert d.status == S.PAYMENT_REQUESTED
    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 15, 0))
    # Paused 6 working hours: Mon 8 Jun 10:00 + 6 h = Tue 9 Jun 08:00.
    assert d.status == S.PROCESSING
    assert d.due_at == at(2026, 6, 9, 8, 0)
    assert d.paused_seconds == 6 * 3600


# ------------------------------------------------------------------ apology


def test_apology_at_least_one_working_day_before_due_and_only_once(register, staff, units):
    """Due Monday 8 June 10:00: the working day before the due date is Friday 5 June, so
    an apology sent at 16:59 that Friday is in time (by date) and one on Saturday or on
    Monday morning is not."""
    d = processing(register, staff, units)  # due Mon 8 Jun 10:00
    for late in (at(2026, 6, 6, 9, 0), at(2026, 6, 8, 7, 30)):
        with pytest.raises(DomainError) as err:
            svc.dossier_apologise(
                dossier=d,
                actor=staff["unit_head"],
                new_due_at=at(2026, 6, 10, 17, 0),
                reason="Cần xác minh thực địa",
                now=late,
            )
        assert err.value.code == "apology_too_late"
        assert "05/06/2026" in err.value.message
    d = svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        new_due_at=at(2026, 6, 10, 17, 0),
        reason="Cần xác minh thực địa",
        now=at(2026, 6, 5, 16, 59),
    )
    assert d.due_at == at(2026, 6, 10, 17, 0)
    assert d.original_due_at == at(2026, 6, 8, 10, 0)
    assert d.reappointment_count == 1
    with pytest.raises(DomainError) as err:
        svc.dossier_apologise(
            dossier=d,
            actor=staff["unit_head"],
            new_due_at=at(2026, 6, 12, 17, 0),
            reason="again",
            now=at(2026, 6, 5, 11, 0),
        )
    assert err.value.code == "apology_twice"


def test_apology_new_date_must_be_later(register, staff, units):
    d = processing(register, staff, units)
    with pytest.raises(DomainError) as err:
        svc.dossier_apologise(
            dossier=d,
            actor=staff["unit_head"],
            new_due_at=at(2026, 6, 8, 9, 0),
            reason="x",
            now=at(2026, 6, 2, 10, 0),
        )
    assert err.value.field == "new_due_at"


# ------------------------------------------------------------------ resolve


@pytest.mark.parametrize(
    ("finished", "expected", "used_hours"),
    [
        (at(2026, 6, 5, 16, 0), OnTimeResult.EARLY, 5 + 8 + 8 + 8 + 7),
        (at(2026, 6, 8, 16, 0), OnTimeResult.ON_TIME, 40 + 4),  # same date as due
        (at(2026, 6, 9, 8, 0), OnTimeResult.LATE, 40 + 5 + 1),
    ],
)
def test_resolve_stores_on_time_result_and_working_time(
    register, staff, units, finished, expected, used_hours
):
    d = processing(register, staff, units)
    d = svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=finished
    )
    assert d.status == S.FINISHED
    assert d.finished_at == finished
    assert d.on_time_result == expected
    assert d.working_seconds_used == int(used_hours * 3600)


def test_apologised_dossier_is_late_against_its_original_due(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        new_due_at=at(2026, 6, 10, 17, 0),
        reason="x",
        now=at(2026, 6, 3, 10, 0),
    )
    d = svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 9, 9, 0)
    )
    assert d.on_time_result == OnTimeResult.LATE


def test_refusal_needs_reasons(register, staff, units):
    d = processing(register, staff, units)
    with pytest.raises(DomainError) as err:
        svc.dossier_resolve(dossier=d, actor=staff["unit_head"], outcome=Outcome.REFUSED, note="")
    assert err.value.field == "note"
    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.REFUSED,
        note="Không đủ điều kiện về kho bãi",
        now=at(2026, 6, 2, 9, 0),
    )
    assert d.outcome == Outcome.REFUSED and d.status == S.FINISHED


def test_return_result_withdraw_and_stop(register, staff, units):
    d = processing(register, staff, units)
    d = svc.dossier_resolve(
        dossier=d, actor=staff["director"], outcome=Outcome.GRANTED, now=at(2026, 6, 2, 9, 0)
    )
    d = svc.dossier_return_result(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 10, 0))
    assert (d.status, d.returned_at) == (S.RETURNED, at(2026, 6, 2, 10, 0))

    w = svc.dossier_withdraw(
        dossier=register(), actor=staff["intake"], reason="Theo đề nghị", now=at(2026, 6, 2, 11, 0)
    )
    assert (w.status, w.ended_at) == (S.WITHDRAWN, at(2026, 6, 2, 11, 0))

    s = processing(register, staff, units)
    with pytest.raises(DomainError):
        svc.dossier_stop(dossier=s, actor=staff["director"], reason="")
    s = svc.dossier_stop(
        dossier=s, actor=staff["director"], reason="Cơ sở giải thể", now=at(2026, 6, 2, 11, 0)
    )
    assert s.status == S.STOPPED


# ------------------------------------------------------------------ steps


def test_steps_get_their_own_due_and_result(register, staff, units):
    d = accept(register(now=at(2026, 6, 1, 10, 0)), staff)  # accepted Mon 1 Jun 10:00
    steps = list(d.steps.order_by("order"))
    assert [s.allotted_seconds for s in steps] == [4 * 3600, 28 * 3600, 8 * 3600]
    assert steps[0].due_at == at(2026, 6, 1, 16, 0)  # 4 h: 10:00-11:30, 13:30-16:00
    assert steps[1].due_at is None
    first = svc.dossier_complete_step(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 15, 0))
    assert first.on_time_result == OnTimeResult.ON_TIME
    assert first.working_seconds_used == 3 * 3600
    second = d.steps.get(order=2)
    assert second.started_at == at(2026, 6, 1, 15, 0)
    assert second.due_at == at(2026, 6, 5, 9, 0)  # 28 h from Mon 15:00
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 15, 30),
    )
    done = svc.dossier_complete_step(
        dossier=d, actor=staff["specialist"], now=at(2026, 6, 5, 14, 0)
    )
    assert done.on_time_result == OnTimeResult.LATE
    assert done.officer == staff["specialist"]


# ------------------------------------------------------------------ conflicts


def test_stale_version_is_a_conflict_and_writes_nothing(register, staff):
    d = register()
    seen = d.version
    svc.dossier_accept(dossier=d, actor=staff["intake"], expected_version=seen)
    with pytest.raises(svc.DossierConflict) as err:
        svc.dossier_refuse_intake(
            dossier=d, actor=staff["intake"], reason="x", expected_version=seen
        )
    assert "changed by someone else" in err.value.message
    d.refresh_from_db()
    assert d.status == S.ACCEPTED


# ------------------------------------------------------------------ notifications


def test_applicant_is_mailed_on_accept_in_their_language(
    register, staff, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        d = register(
            channel=Channel.ONLINE,
            applicant=svc.Applicant(
                type="individual",
                name="Jane Doe",
                id_number="001099012345",
                email="jane@example.com",
                language="en",
            ),
        )
    with django_capture_on_commit_callbacks(execute=True):
        accepted = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    subjects = [m.subject for m in mail.outbox]
    # Received under the submission reference, accepted under the legal code.
    assert subjects == [f"Dossier {d.submission_ref} received", f"Dossier {accepted.code} accepted"]
    assert "3 working" not in mail.outbox[1].body
    assert "10:00 04/06/2026" in mail.outbox[1].body  # 3 days online
    assert Delivery.objects.filter(status="sent").count() == 2


def test_desk_registration_sends_no_receipt_mail(register, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        register()
    assert mail.outbox == []
