"""The report read from the daily rollup equals the report computed over the dossier rows
(procedures/reports/rollup.py), for every period, on random histories.

Each seed drives dossiers through the real services with a moving clock: refusals and
withdrawals at intake, supplements before and during processing (answered or not),
payments (paid, unpaid, stopped), apologies, assignment to a unit, early / on-time /
late results, results returned later, withdrawals and stops after acceptance, dossiers
left open across month ends. The rollup is kept by the transitions themselves; the
report by field and by procedure is then compared, figure by figure, with the one
computed over the rows (``REPORT_FROM_ROLLUP = False``) for every month, quarter and the
year, judged after the last transition and, for the running month, at several moments
of its last day (the clock moved between transitions).
"""

import random
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import override_settings

from procedures.core.constants import Channel, Outcome
from procedures.dossiers import services as svc
from procedures.models import DossierEvent, ReportDailyCount
from procedures.reports import selectors as sel
from procedures.reports.rollup import rollup_figures
from procedures.reports.selectors import Period

from .conftest import VN, at

pytestmark = pytest.mark.django_db

SEEDS = (1, 7, 2026)


def _working_time(rng, day):
    return day.replace(hour=rng.choice([7, 8, 9, 10, 14, 15, 16]), minute=rng.randrange(60))


def _history(rng, register, staff, units, procedures, count=45):
    """Random dossiers through the services; returns the time of the last transition."""
    intake, director = staff["intake"], staff["director"]
    last = at(2026, 1, 1)
    for _ in range(count):
        proc = rng.choice(procedures)
        channel = rng.choice([Channel.DIRECT, Channel.ONLINE, Channel.POSTAL])
        if not proc.channel_online:
            channel = Channel.DIRECT
        t = _working_time(rng, at(2026, 3, 2) + timedelta(days=rng.randrange(120)))
        d = register(now=t, channel=channel, procedure=proc)
        fate = rng.random()
        t += timedelta(hours=1)
        try:
            if fate < 0.08:
                svc.dossier_refuse_intake(dossier=d, actor=intake, reason="Ngoài", now=t)
                continue
            if fate < 0.12:
                svc.dossier_withdraw(dossier=d, actor=intake, reason="Rút", now=t)
                continue
            if fate < 0.15:
                continue
            if fate < 0.22:
                d = svc.dossier_request_supplement(dossier=d, actor=intake, reason="Thiếu", now=t)
                t += timedelta(days=rng.randrange(1, 10))
                d = svc.dossier_receive_supplement(dossier=d, actor=intake, now=t)
                t += timedelta(hours=1)
            d = svc.dossier_accept(dossier=d, actor=intake, now=t)
            unit = rng.choice(["QLTM", "QLCN", None])
            if unit:
                t += timedelta(hours=rng.randrange(0, 30))
                officer = "specialist" if unit == "QLTM" else "other_specialist"
                d = svc.dossier_assign(
                    dossier=d, actor=intake, unit=units[unit], officer=staff[officer], now=t
                )
            if rng.random() < 0.25:
                t += timedelta(hours=1)
                d = svc.dossier_request_supplement(dossier=d, actor=intake, reason="Bổ", now=t)
                if rng.random() < 0.2:
                    continue
                if rng.random() < 0.1:
                    t += timedelta(days=rng.randrange(1, 20))
                    svc.dossier_withdraw(dossier=d, actor=intake, reason="Không", now=t)
                    continue
                t += timedelta(days=rng.randrange(1, 25))
                d = svc.dossier_receive_supplement(dossier=d, actor=intake, now=t)
            if rng.random() < 0.15:
                t += timedelta(hours=1)
                d = svc.dossier_apologise(
                    dossier=d,
                    actor=director,
                    reason="Xác minh",
                    now=t,
                    new_due_at=d.due_at + timedelta(days=rng.randrange(1, 6)),
                )
            if rng.random() < 0.2:
                t += timedelta(days=rng.randrange(0, 3), hours=1)
                d = svc.dossier_request_payment(dossier=d, actor=intake, note="Phí", now=t)
                if rng.random() < 0.2:
                    continue
                if rng.random() < 0.2:
                    t += timedelta(days=rng.randrange(1, 10))
                    svc.dossier_stop(dossier=d, actor=director, reason="Không nộp", now=t)
                    continue
                t += timedelta(days=rng.randrange(1, 20))
                d = svc.dossier_confirm_payment(dossier=d, actor=intake, now=t)
            end = rng.random()
            t += timedelta(days=rng.randrange(0, 16), hours=rng.randrange(0, 3))
            if end < 0.65:
                d = svc.dossier_resolve(dossier=d, actor=director, outcome=Outcome.GRANTED, now=t)
                if rng.random() < 0.5:
                    t += timedelta(days=rng.randrange(0, 40))
                    svc.dossier_return_result(dossier=d, actor=intake, now=t)
            elif end < 0.75:
                svc.dossier_withdraw(dossier=d, actor=intake, reason="Rút", now=t)
            elif end < 0.82:
                svc.dossier_stop(dossier=d, actor=director, reason="Dừng", now=t)
        finally:
            last = max(last, t)
    return max(last, max(DossierEvent.objects.values_list("at", flat=True)))


def _periods():
    months = [Period.month(2026, m) for m in range(2, 13)]
    quarters = [Period.parse(f"2026-Q{q}") for q in (1, 2, 3, 4)]
    return months + quarters + [Period.parse("2026")]


def _report(period, now, by, *, rollup):
    with override_settings(REPORT_FROM_ROLLUP=rollup):
        data = sel.report_monthly(period=period, by=by, now=now).as_dict()
    data.pop("generated_at")
    return data


def _table():
    """The table without its ids and without rows that add up to nothing."""
    out = {}
    for r in ReportDailyCount.objects.values().order_by("procedure_id", "day"):
        key = (r.pop("procedure_id"), r.pop("day"))
        r.pop("id")
        if any(r.values()):
            out[key] = r
    return out


@pytest.fixture
def two_procedures(procedure, industry_procedure):
    return [procedure, industry_procedure]


@pytest.mark.parametrize("seed", SEEDS)
def test_rollup_equals_the_rows_for_every_period(seed, register, staff, units, two_procedures):
    last = _history(random.Random(seed), register, staff, units, two_procedures)
    assert ReportDailyCount.objects.exists()
    moments = [last + timedelta(minutes=1), last + timedelta(hours=5), last + timedelta(days=40)]
    for hours in (1, 6, 12, 20):  # later moments of the last transition's day
        moment = last.replace(hour=0, minute=0) + timedelta(hours=hours)
        if moment > last:
            moments.append(moment)
    checked_running = 0
    for now in moments:
        for period in _periods():
            for by in ("field", "procedure"):
                rows = _report(period, now, by, rollup=False)
                assert _report(period, now, by, rollup=True) == rows, (seed, period.key, now, by)
            if period.start_at <= now < period.end_at:
                # The running period really is answered by the rollup, not the fallback.
                assert rollup_figures(period, now) is not None
                checked_running += 1
    assert checked_running >= 3
    # Asked "as of" a day before a recorded transition, the rollup declines (the rows answer).
    latest = (
        ReportDailyCount.objects.exclude(open_delta=0, received_online=0, received_direct_postal=0)
        .order_by("-day")
        .values_list("day", flat=True)
        .first()
    )
    earlier = at(latest.year, latest.month, latest.day, 12) - timedelta(days=1)
    assert rollup_figures(Period.containing("month", earlier.date()), earlier) is None


@pytest.mark.parametrize("seed", SEEDS)
def test_rebuild_gives_the_incremental_table_and_is_idempotent(
    seed, register, staff, units, two_procedures
):
    _history(random.Random(seed), register, staff, units, two_procedures)
    kept = _table()
    assert kept
    call_command("rebuild_report_rollup", verbosity=0)
    assert _table() == kept
    call_command("rebuild_report_rollup", verbosity=0)
    assert _table() == kept
    # The rebuild also repairs a table that went wrong (or was never filled).
    ReportDailyCount.objects.all().delete()
    call_command("rebuild_report_rollup", verbosity=0)
    assert _table() == kept


def test_a_transition_adds_its_counts_in_its_own_transaction(register, staff, procedure):
    d = register(now=at(2026, 6, 1, 9, 0))
    assert not ReportDailyCount.objects.exists()  # registered is counted nowhere
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))
    row = ReportDailyCount.objects.get(day=at(2026, 6, 1).date())
    assert row.procedure_id == procedure.pk
    assert (row.received_direct_postal, row.open_delta) == (1, 1)
    # Overdue from the midnight after its due day, unless a transition comes first.
    due = ReportDailyCount.objects.get(day=d.due_at.astimezone(VN).date())
    assert due.overdue_delta == 1
    svc.dossier_withdraw(dossier=d, actor=staff["intake"], reason="Rút", now=at(2026, 6, 3, 9))
    withdrawn = ReportDailyCount.objects.get(day=at(2026, 6, 3).date())
    assert (withdrawn.withdrawn, withdrawn.open_delta) == (1, -1)
    figures = rollup_figures(Period.month(2026, 6), at(2026, 7, 2))
    assert figures is not None
    assert figures[procedure.pk]["withdrawn"] == 1
    assert figures[procedure.pk]["in_progress"] == 0
    # The withdrawal took back the future "overdue": its rows now add up to nothing.
    assert sum(ReportDailyCount.objects.values_list("overdue_delta", flat=True)) == 0


def test_query_count_does_not_grow_with_the_dossiers(
    register, staff, procedure, django_assert_num_queries
):
    for day in (2, 3, 4):
        d = register(now=at(2026, 6, day, 9, 0))
        svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, day, 10, 0))
    jit = connection.vendor == "postgresql"  # SET LOCAL jit = off
    # A closed month: the rollup sums, the procedure names.
    with django_assert_num_queries(2 + jit):
        report = sel.report_monthly(period=Period.month(2026, 6), now=at(2026, 7, 2))
    assert report.total.figures["received_new"] == 3
    # The running month: also the check for later transitions and the dossiers due
    # later today.
    with django_assert_num_queries(4 + jit):
        report = sel.report_monthly(period=Period.month(2026, 6), now=at(2026, 6, 20, 9))
    assert report.total.figures["in_progress"] == 3
