"""Legal core, second pass (issue 10): one worked example per rule of docs/legal-rules.md.

Working time 07:00-11:30 and 13:30-17:00 (8 h a day); 1 June 2026 is a Monday. The
conftest procedure takes 5 working days and has three steps: the desk's "receive and
transfer" (4 h, unit VP), appraisal (28 h) and the director's signature (8 h).
"""

from datetime import UTC, datetime

import pytest
from rest_framework.test import APIClient

from procedures.calendar.deadlines import transfer_due_at
from procedures.catalogue.process import process_default_steps, process_replace
from procedures.core.constants import (
    Action,
    Channel,
    OnTimeResult,
    Outcome,
    SupplementPolicy,
)
from procedures.core.constants import (
    DossierStatus as S,
)
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.dossiers.queues import Queue, queue_counts, queue_dossiers
from procedures.dossiers.slips import slip_build, slip_render_html
from procedures.models import DossierEvent
from procedures.reports import selectors as sel

from .conftest import at

pytestmark = pytest.mark.django_db

JUNE = sel.Period.month(2026, 6)


def accepted(register, staff, when, **kw):
    d = register(now=kw.pop("registered", when), **kw)
    return svc.dossier_accept(dossier=d, actor=staff["intake"], now=when)


def transferred(register, staff, units, when, **kw):
    d = accepted(register, staff, when, **kw)
    return svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=kw.get("transfer_at", when),
    )


# ------------------------------------------------------------------ 1. steps at resolve


def test_open_step_at_resolve_gets_its_result_and_the_return_step_is_recorded_at_return(
    register, staff, units, procedure
):
    """Default 5-step process (2.5 h each, 30 h appraisal). Accepted Mon 1 Jun 08:00 and
    transferred at 09:00 (the desk's step ends on time), the appraisal (due Thu 4 Jun
    17:00) is still open when the director resolves on Fri 5 Jun 09:00: it ends then, late.
    The return step starts at resolve (due 11:30) and ends when the intake officer
    returns the result at 10:00, on time, on that officer."""
    process_replace(
        procedure=procedure, steps=process_default_steps(procedure=procedure, desk=units["VP"])
    )
    d = accepted(register, staff, at(2026, 6, 1, 8, 0))
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 9, 0),
    )
    appraisal = d.steps.get(order=2)
    assert appraisal.due_at == at(2026, 6, 4, 17, 0)
    d = svc.dossier_resolve(
        dossier=d, actor=staff["director"], outcome=Outcome.GRANTED, now=at(2026, 6, 5, 9, 0)
    )
    steps = {s.order: s for s in d.steps.all()}
    assert steps[1].on_time_result == OnTimeResult.ON_TIME
    assert (steps[2].completed_at, steps[2].on_time_result) == (
        at(2026, 6, 5, 9, 0),
        OnTimeResult.LATE,
    )
    assert steps[3].started_at is None and steps[4].started_at is None  # never reached
    assert (steps[5].started_at, steps[5].due_at) == (at(2026, 6, 5, 9, 0), at(2026, 6, 5, 11, 30))
    assert steps[5].completed_at is None
    with pytest.raises(DomainError):  # no hand-over in status 9
        svc.dossier_complete_step(dossier=d, actor=staff["intake"], now=at(2026, 6, 5, 9, 30))
    d = svc.dossier_return_result(dossier=d, actor=staff["intake"], now=at(2026, 6, 5, 10, 0))
    ret = d.steps.get(order=5)
    assert d.status == S.RETURNED
    assert (ret.completed_at, ret.on_time_result, ret.officer, ret.completed_by) == (
        at(2026, 6, 5, 10, 0),
        OnTimeResult.ON_TIME,
        staff["intake"],
        staff["intake"],
    )
    assert ret.working_seconds_used == 3600


def test_handing_over_never_starts_the_return_step(register, staff, units, procedure):
    """The director's hand-over is the last one before the result; the return step waits."""
    process_replace(
        procedure=procedure, steps=process_default_steps(procedure=procedure, desk=units["VP"])
    )
    d = transferred(register, staff, units, at(2026, 6, 1, 8, 0))
    for hour in (9, 10, 11):
        svc.dossier_complete_step(dossier=d, actor=staff["director"], now=at(2026, 6, 1, hour, 0))
    assert d.steps.get(order=5).started_at is None
    with pytest.raises(DomainError):
        svc.dossier_complete_step(dossier=d, actor=staff["director"], now=at(2026, 6, 1, 14, 0))


# ------------------------------------------------------------------ 2. step dues in pauses


def test_payment_pause_moves_the_open_step_due_and_the_slip_shows_it(register, staff, units):
    """Transferred Mon 1 Jun 10:00: appraisal (28 h) due Thu 4 Jun 16:00. Payment asked Tue
    2 Jun 10:00, paid Wed 3 Jun 10:00: 8 working hours of the applicant's time, so the
    appraisal is due Fri 5 Jun 16:00 and the dossier Tue 9 Jun 10:00 instead of Mon 8."""
    d = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    assert d.steps.get(order=2).due_at == at(2026, 6, 4, 16, 0)
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Phí 1.200.000", now=at(2026, 6, 2, 10, 0)
    )
    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 10, 0))
    step = d.steps.get(order=2)
    assert (step.due_at, step.paused_seconds) == (at(2026, 6, 5, 16, 0), 8 * 3600)
    assert d.due_at == at(2026, 6, 9, 10, 0)
    html = slip_render_html(slip=slip_build(dossier=d, kind="control"))
    assert "16:00, 05/06/2026" in html
    done = svc.dossier_complete_step(
        dossier=d, actor=staff["specialist"], now=at(2026, 6, 5, 15, 0)
    )
    assert done.on_time_result == OnTimeResult.ON_TIME  # late only against the unmoved due
    assert done.working_seconds_used == 27 * 3600  # 35 h elapsed less the 8 h paused


@pytest.mark.parametrize(
    ("policy", "step_due", "dossier_due"),
    [
        # pause: shifted by the 8 working hours the clock stood still
        (SupplementPolicy.PAUSE, at(2026, 6, 5, 16, 0), at(2026, 6, 9, 10, 0)),
        # restart: the whole 28 h again from Wed 3 Jun 10:00; the dossier's 5 days too
        (SupplementPolicy.RESTART, at(2026, 6, 8, 16, 0), at(2026, 6, 10, 10, 0)),
    ],
)
def test_supplement_moves_the_open_step_due_with_the_clock(
    register, staff, units, policy, step_due, dossier_due
):
    """Supplement asked Tue 2 Jun 10:00, received Wed 3 Jun 10:00."""
    d = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="Thiếu bản đồ", now=at(2026, 6, 2, 10, 0)
    )
    d = svc.dossier_receive_supplement(
        dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 10, 0), policy=policy
    )
    assert d.steps.get(order=2).due_at == step_due
    assert d.due_at == dossier_due


# ------------------------------------------------------------------ 3. from-status


def test_hand_over_records_the_status_before_it(register, staff):
    """A hand-over from an accepted dossier is logged 2 -> 4, not 4 -> 4."""
    d = accepted(register, staff, at(2026, 6, 1, 10, 0))
    svc.dossier_complete_step(dossier=d, actor=staff["director"], now=at(2026, 6, 1, 11, 0))
    event = DossierEvent.objects.get(dossier=d, action=Action.COMPLETE_STEP)
    assert (event.from_status, event.to_status) == (S.ACCEPTED, S.PROCESSING)


# ------------------------------------------------------------------ 4. codes


def test_legal_code_is_issued_at_acceptance_dated_that_day_without_gaps(register, staff):
    """Online on Sat 30 May 20:00 (reference DK-H56.16-260530-0001); two desk submissions
    on Mon 1 Jun refused and withdrawn; the online one accepted Mon 1 Jun 09:00 is
    H56.16-260601-0001, the next acceptance 0002: no number used by the others."""
    online = register(now=at(2026, 5, 30, 20, 0), channel=Channel.ONLINE)
    assert (online.code, online.submission_ref) == ("DK-H56.16-260530-0001",) * 2
    refused = register(now=at(2026, 6, 1, 8, 0))
    svc.dossier_refuse_intake(
        dossier=refused,
        actor=staff["intake"],
        reason="Không thuộc thẩm quyền",
        now=at(2026, 6, 1, 8, 5),
    )
    withdrawn = register(now=at(2026, 6, 1, 8, 10))
    svc.dossier_withdraw(dossier=withdrawn, actor=staff["intake"], now=at(2026, 6, 1, 8, 20))
    first = svc.dossier_accept(dossier=online, actor=staff["intake"], now=at(2026, 6, 1, 9, 0))
    second = accepted(register, staff, at(2026, 6, 1, 9, 30))
    assert first.code == "H56.16-260601-0001" and first.has_legal_code
    assert first.submission_ref == "DK-H56.16-260530-0001"
    assert second.code == "H56.16-260601-0002"
    refused.refresh_from_db()
    assert not refused.has_legal_code and refused.code == refused.submission_ref
    # the PIN keeps working after the code changed, and the look-up takes both numbers
    assert svc.pin_matches(dossier=first, pin=online.pin)
    client = APIClient()
    for number in (first.code, first.submission_ref, first.submission_ref.lower()):
        response = client.get("/api/v1/dossiers/lookup/", {"code": number, "pin": online.pin})
        assert response.status_code == 200, number
        assert response.json()["code"] == "H56.16-260601-0001"
        assert response.json()["submission_ref"] == "DK-H56.16-260530-0001"


def test_public_lookup_page_finds_a_dossier_by_its_reference(client, register, staff):
    d = register(now=at(2026, 5, 30, 20, 0), channel=Channel.ONLINE)
    svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 9, 0))
    response = client.post("/tra-cuu/", {"code": d.submission_ref, "pin": d.pin})
    assert response.status_code == 302
    assert "H56.16-260601-0001" in response["Location"]


# ------------------------------------------------------------------ 5. transfer


@pytest.mark.parametrize(
    ("received", "due"),
    [
        (at(2026, 6, 1, 14, 59), at(2026, 6, 1, 17, 0)),  # same working day, by closing
        (at(2026, 6, 1, 15, 0), at(2026, 6, 2, 7, 0)),  # from 15:00: next working morning
        (at(2026, 6, 1, 18, 0), at(2026, 6, 2, 7, 0)),  # after closing too
        (at(2026, 6, 1, 6, 30), at(2026, 6, 1, 17, 0)),  # before opening: the same day
        (at(2026, 5, 30, 10, 0), at(2026, 6, 1, 17, 0)),  # Saturday: Monday's closing
        (at(2026, 6, 5, 16, 0), at(2026, 6, 8, 7, 0)),  # Friday after 15:00: Monday morning
    ],
)
def test_transfer_due_same_working_day_or_next_morning_after_15(received, due):
    assert transfer_due_at(received) == due


def test_transfer_cutoff_is_a_setting(settings):
    settings.TRANSFER_CUTOFF = "16:00"
    assert transfer_due_at(at(2026, 6, 1, 15, 30)) == at(2026, 6, 1, 17, 0)


def test_transfers_waiting_and_late_in_the_queue_and_the_unit_report(register, staff, units):
    """Accepted Mon 1 Jun 10:00 (due 17:00) and 16:00 (due Tue 07:00). At Mon 17:30 the
    first is late and both are waiting; transferred Tue 08:00, the first is a late
    transfer and the second a late one too (after 07:00), on the desk's unit."""
    a = accepted(register, staff, at(2026, 6, 1, 10, 0))
    b = accepted(register, staff, at(2026, 6, 1, 16, 0))
    assert (a.transfer_due_at, b.transfer_due_at) == (at(2026, 6, 1, 17, 0), at(2026, 6, 2, 7, 0))
    counts = {
        c.queue: c.count for c in queue_counts(user=staff["intake"], now=at(2026, 6, 1, 17, 30))
    }
    assert (counts[Queue.TRANSFER_WAITING], counts[Queue.TRANSFER_LATE]) == (2, 1)
    late = queue_dossiers(
        queue=Queue.TRANSFER_LATE, user=staff["intake"], now=at(2026, 6, 1, 17, 30)
    )
    assert list(late) == [a]
    a = svc.dossier_assign(
        dossier=a, actor=staff["intake"], unit=units["QLTM"], now=at(2026, 6, 1, 16, 59)
    )
    b = svc.dossier_assign(
        dossier=b, actor=staff["intake"], unit=units["QLTM"], now=at(2026, 6, 2, 8, 0)
    )
    assert (a.transfer_on_time_result, b.transfer_on_time_result) == (
        OnTimeResult.ON_TIME,
        OnTimeResult.LATE,
    )
    report = sel.report_monthly(period=JUNE, by="unit", now=at(2026, 7, 2, 8, 0))
    desk = next(r for r in report.rows if r.key == f"unit:{units['VP'].pk}")
    assert (desk.figures["transfers"], desk.figures["transfers_late"]) == (2, 1)


# ------------------------------------------------------------------ 6. overdue column


def _cell(report, column):
    return report.total.figures[column]


def test_payment_requested_after_the_due_is_overdue_in_report_and_dashboard(register, staff, units):
    """Accepted Mon 1 Jun 10:00, due Mon 8 Jun 10:00; payment asked Tue 9 Jun 09:00, after
    the due. Still awaiting payment at the end of June: overdue, not within deadline. A
    second dossier paused before its due stays within deadline."""
    late = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    svc.dossier_request_payment(
        dossier=late, actor=staff["specialist"], note="Phí", now=at(2026, 6, 9, 9, 0)
    )
    early = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    svc.dossier_request_payment(
        dossier=early, actor=staff["specialist"], note="Phí", now=at(2026, 6, 5, 9, 0)
    )
    report = sel.report_monthly(period=JUNE, by="procedure", now=at(2026, 7, 15, 9, 0))
    assert (
        _cell(report, "in_progress"),
        _cell(report, "in_progress_overdue"),
        _cell(report, "in_progress_within"),
        _cell(report, "paused_payment"),
    ) == (2, 1, 1, 2)
    cell = sel.report_cell_dossiers(
        period=JUNE, row_key="total", column="in_progress_overdue", now=at(2026, 7, 15, 9, 0)
    )
    assert list(cell) == [late]
    # the dashboard, at a moment in June, says the same
    moment = at(2026, 6, 10, 9, 0)
    overdue = set(queue_dossiers(queue=Queue.OVERDUE, user=staff["director"], now=moment))
    assert overdue == {late}
    in_june = sel.report_monthly(period=JUNE, by="procedure", now=moment)
    assert _cell(in_june, "in_progress_overdue") == 1
    # paid later: the figure for June, read again, does not change
    svc.dossier_confirm_payment(dossier=late, actor=staff["intake"], now=at(2026, 7, 1, 9, 0))
    again = sel.report_monthly(period=JUNE, by="procedure", now=at(2026, 7, 15, 9, 0))
    assert _cell(again, "in_progress_overdue") == 1


def test_open_month_judges_overdue_at_the_moment_it_is_read(register, staff, units):
    """Accepted Mon 1 Jun 10:00, due Mon 8 Jun 10:00. Read on Wed 3 Jun the June report
    shows it within deadline (the dashboard agrees); read on Mon 8 Jun 11:00, overdue in
    both; read after the month, overdue at the period end."""
    d = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    for moment, overdue in (
        (at(2026, 6, 3, 12, 0), 0),
        (at(2026, 6, 8, 9, 59), 0),
        (at(2026, 6, 8, 11, 0), 1),
        (at(2026, 7, 3, 9, 0), 1),
    ):
        report = sel.report_monthly(period=JUNE, by="procedure", now=moment)
        assert (_cell(report, "in_progress_overdue"), _cell(report, "in_progress_within")) == (
            overdue,
            1 - overdue,
        ), moment
        dashboard = {c.queue: c.count for c in queue_counts(user=staff["director"], now=moment)}
        if moment < JUNE.end_at:
            assert dashboard[Queue.OVERDUE] == overdue, moment
    assert d.due_at == at(2026, 6, 8, 10, 0)


def test_report_api_judges_the_open_month_now(register, staff, units, time_machine):
    transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    time_machine.move_to(at(2026, 6, 3, 12, 0), tick=False)
    client = APIClient()
    client.force_login(staff["director"])
    figures = client.get("/api/v1/reports/monthly/", {"period": "2026-06"}).json()
    assert (
        figures["total"]["figures"]["in_progress_overdue"],
        figures["total"]["figures"]["in_progress_within"],
    ) == (0, 1)


# ------------------------------------------------------------------ 7. apology and restart


def test_apology_then_restart_is_judged_against_the_restarted_due(register, staff, units):
    """Accepted Mon 1 Jun 10:00, due Mon 8 Jun 10:00. Apology Tue 2 Jun (new date Fri 12
    Jun 17:00); supplement asked Wed 3 Jun, received Thu 4 Jun 10:00: the clock restarts,
    due Thu 11 Jun 10:00. Finished Thu 11 Jun 15:00: on time (same date as the restarted
    due), not late against the pre-restart 8 June."""
    d = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    d = svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        new_due_at=at(2026, 6, 12, 17, 0),
        reason="Cần xác minh",
        now=at(2026, 6, 2, 10, 0),
    )
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["specialist"], reason="Thiếu", now=at(2026, 6, 3, 10, 0)
    )
    d = svc.dossier_receive_supplement(
        dossier=d, actor=staff["intake"], now=at(2026, 6, 4, 10, 0), policy=SupplementPolicy.RESTART
    )
    assert d.due_at == d.original_due_at == at(2026, 6, 11, 10, 0)
    d = svc.dossier_resolve(
        dossier=d, actor=staff["director"], outcome=Outcome.GRANTED, now=at(2026, 6, 11, 15, 0)
    )
    assert d.on_time_result == OnTimeResult.ON_TIME


def test_no_apology_while_paused_for_payment(register, staff, units):
    """Refused with a clear message: the due time still moves when the payment comes."""
    d = transferred(register, staff, units, at(2026, 6, 1, 10, 0))
    d = svc.dossier_request_payment(
        dossier=d, actor=staff["specialist"], note="Phí", now=at(2026, 6, 2, 10, 0)
    )
    with pytest.raises(DomainError) as err:
        svc.dossier_apologise(
            dossier=d,
            actor=staff["unit_head"],
            new_due_at=at(2026, 6, 12, 17, 0),
            reason="x",
            now=at(2026, 6, 3, 10, 0),
        )
    assert "paused" in err.value.message
    d.refresh_from_db()
    assert (d.reappointment_count, d.due_at) == (0, at(2026, 6, 8, 10, 0))


# ------------------------------------------------------------------ 8. supplement at intake


def test_second_intake_supplement_needs_the_applicants_incomplete_supplement(register, staff):
    """Guidance once and completely: asked Mon 1 Jun 08:30; the applicant's supplement of
    Tue 2 Jun still lacks a paper; a second request is refused unless the officer records
    that the applicant's supplement was itself incomplete."""
    d = register(now=at(2026, 6, 1, 8, 0))
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Thiếu A, B", now=at(2026, 6, 1, 8, 30)
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 8, 0))
    with pytest.raises(DomainError) as err:
        svc.dossier_request_supplement(
            dossier=d, actor=staff["intake"], reason="Thiếu C", now=at(2026, 6, 2, 8, 30)
        )
    assert (err.value.code, err.value.field) == (
        "supplement_guidance_once",
        "applicant_supplement_incomplete",
    )
    d = svc.dossier_request_supplement(
        dossier=d,
        actor=staff["intake"],
        reason="B còn thiếu",
        applicant_supplement_incomplete=True,
        now=at(2026, 6, 2, 8, 30),
    )
    assert (d.status, d.supplement_count, d.supplement_repeats) == (S.SUPPLEMENT_REQUESTED, 2, 1)
    event = d.events.filter(action=Action.REQUEST_SUPPLEMENT).last()
    assert event.data["repeat_reason"] == svc.REPEAT_APPLICANT_INCOMPLETE


def test_second_intake_supplement_through_the_api(register, staff):
    d = register(now=at(2026, 6, 1, 8, 0))
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Thiếu A", now=at(2026, 6, 1, 8, 30)
    )
    d = svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 8, 0))
    client = APIClient()
    client.force_login(staff["intake"])
    url = f"/api/v1/dossiers/{d.code}/actions/request_supplement/"
    refused = client.post(url, {"reason": "Thiếu B", "expected_version": d.version})
    assert refused.status_code == 400 and refused.json()["code"] == "supplement_guidance_once"
    ok = client.post(
        url,
        {
            "reason": "Thiếu B",
            "expected_version": d.version,
            "applicant_supplement_incomplete": True,
        },
    )
    assert ok.status_code == 200, ok.json()
    d.refresh_from_db()
    assert d.supplement_repeats == 1


# ------------------------------------------------------------------ 10. day boundaries


def test_on_time_is_by_date_in_vietnam_and_steps_to_the_second():
    due = at(2026, 6, 8, 10, 0)
    assert (
        svc.on_time_result(finished_at=at(2026, 6, 8, 16, 59), due_at=due) == OnTimeResult.ON_TIME
    )
    assert svc.on_time_result(finished_at=at(2026, 6, 7, 23, 59), due_at=due) == OnTimeResult.EARLY
    assert svc.on_time_result(finished_at=at(2026, 6, 9, 0, 0), due_at=due) == OnTimeResult.LATE
    assert (
        svc.on_time_result(finished_at=at(2026, 6, 8, 10, 0, 1), due_at=due, exact=True)
        == OnTimeResult.LATE
    )
    # 23:30 UTC on 7 June is 06:30 on 8 June in Asia/Ho_Chi_Minh: the same date
    utc = datetime(2026, 6, 7, 23, 30, tzinfo=UTC)
    assert svc.on_time_result(finished_at=utc, due_at=due) == OnTimeResult.ON_TIME
