"""The report balances on generated data, month after month (docs/legal-rules.md: "Report
06/VPCP/KSTT").

About two hundred dossiers are driven through the real services over March-August
2026 with a fixed seed: refusals and withdrawals at intake, supplements during
processing (some never answered), payments, apologies, stops, withdrawals, early,
on-time and late results, and dossiers left open across month ends. Then, for every
month, quarter and row:

- carried over + newly accepted = resolved + withdrawn + stopped + still open;
- a month's still open equals the next month's carried over;
- monthly flows add up to the quarter's, whose carried over is its first month's;
- every figure equals an independent oracle computed in Python from each dossier's
  dates and its event log (the status at the period end replayed from the events).
"""

import random
from datetime import timedelta

import pytest
from django.db import transaction

from procedures.core.constants import Channel, OnTimeResult, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.dossiers import services as svc
from procedures.models import Dossier
from procedures.reports import selectors as sel
from procedures.reports.selectors import COLUMN_KEYS, Period

from .conftest import (
    at,
    make_industry_procedure,
    make_procedure,
    make_register,
    make_staff,
    make_trade_field,
    make_units,
)

pytestmark = pytest.mark.django_db

MONTHS = [Period.month(2026, m) for m in range(3, 9)]


def _working_time(rng, day):
    return day.replace(hour=rng.choice([7, 8, 9, 10, 14, 15, 16]), minute=rng.randrange(60))


@pytest.fixture(scope="module")
def _generated_once(django_db_setup, django_db_blocker):
    """The two hundred dossiers, built once for the module (about 7 s) inside a
    transaction that is rolled back after its last test, as Django's setUpTestData:
    each test runs in a savepoint of it (pytest-django's `db`), so what one test changes
    is gone before the next, and nothing is left for the other modules."""
    with django_db_blocker.unblock(), transaction.atomic():
        units = make_units()
        staff = make_staff(units)
        procedure = make_procedure(make_trade_field(), units)
        count = _generate(
            make_register(procedure, staff),
            staff,
            units,
            procedure,
            make_industry_procedure(units),
        )
        yield count
        transaction.set_rollback(True)


@pytest.fixture
def generated(_generated_once, db):
    return _generated_once


def _generate(register, staff, units, procedure, industry_procedure):
    rng = random.Random(2026)
    intake, director = staff["intake"], staff["director"]
    procedures = [procedure, industry_procedure]
    for _ in range(200):
        proc = rng.choice(procedures)
        channel = rng.choice([Channel.DIRECT, Channel.DIRECT, Channel.ONLINE, Channel.POSTAL])
        if not proc.channel_online:
            channel = Channel.DIRECT
        t = _working_time(rng, at(2026, 3, 2) + timedelta(days=rng.randrange(170)))
        d = register(now=t, channel=channel, procedure=proc)
        fate = rng.random()
        t += timedelta(hours=1)
        if fate < 0.08:
            svc.dossier_refuse_intake(dossier=d, actor=intake, reason="Ngoài thẩm quyền", now=t)
            continue
        if fate < 0.12:
            svc.dossier_withdraw(dossier=d, actor=intake, reason="Rút", now=t)
            continue
        if fate < 0.16:
            continue  # left waiting at intake
        if fate < 0.22:  # incomplete at intake: supplement before acceptance
            d = svc.dossier_request_supplement(dossier=d, actor=intake, reason="Thiếu", now=t)
            t += timedelta(days=rng.randrange(1, 10))
            d = svc.dossier_receive_supplement(dossier=d, actor=intake, now=t)
            t += timedelta(hours=1)
        d = svc.dossier_accept(dossier=d, actor=intake, now=t)
        unit = rng.choice(["QLTM", "QLCN", None])
        if unit:
            officer = "specialist" if unit == "QLTM" else "other_specialist"
            d = svc.dossier_assign(
                dossier=d, actor=intake, unit=units[unit], officer=staff[officer], now=t
            )
        if rng.random() < 0.2:
            t += timedelta(hours=1)
            d = svc.dossier_request_supplement(dossier=d, actor=intake, reason="Bổ sung", now=t)
            if rng.random() < 0.2:
                continue  # never answered: paused until today
            if rng.random() < 0.1:
                t += timedelta(days=rng.randrange(1, 20))
                svc.dossier_withdraw(dossier=d, actor=intake, reason="Không bổ sung", now=t)
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
        if rng.random() < 0.15:
            t += timedelta(days=rng.randrange(0, 3), hours=1)
            d = svc.dossier_request_payment(dossier=d, actor=intake, note="Phí", now=t)
            if rng.random() < 0.15:
                continue  # still awaiting payment
            if rng.random() < 0.2:
                t += timedelta(days=rng.randrange(1, 10))
                svc.dossier_stop(dossier=d, actor=director, reason="Không nộp phí", now=t)
                continue
            t += timedelta(days=rng.randrange(1, 20))
            d = svc.dossier_confirm_payment(dossier=d, actor=intake, now=t)
        end = rng.random()
        t += timedelta(days=rng.randrange(0, 16), hours=rng.randrange(0, 3))
        if end < 0.7:
            d = svc.dossier_resolve(dossier=d, actor=director, outcome=Outcome.GRANTED, now=t)
            if rng.random() < 0.5:
                svc.dossier_return_result(
                    dossier=d, actor=intake, now=t + timedelta(days=rng.randrange(0, 40))
                )
        elif end < 0.77:
            svc.dossier_withdraw(dossier=d, actor=intake, reason="Rút", now=t)
        elif end < 0.84:
            svc.dossier_stop(dossier=d, actor=director, reason="Dừng", now=t)
        # else: left open
    return Dossier.objects.count()


# ------------------------------------------------------------------------- oracle


def _oracle(period: Period) -> dict[int, dict]:
    """Figures per procedure id, from each dossier's dates and replayed event log."""
    start, end = period.start_at, period.end_at
    out: dict[int, dict] = {}
    for d in Dossier.objects.prefetch_related("events"):
        f = out.setdefault(d.procedure_id, dict.fromkeys(COLUMN_KEYS, 0))

        def add(key, f=f):
            f[key] += 1

        closed = d.finished_at or d.ended_at
        if d.status == S.REFUSED_AT_INTAKE and start <= d.ended_at < end:
            add("refused_intake")
        if d.accepted_at is None or d.accepted_at >= end:
            continue
        if closed is not None and closed < start:
            continue
        if d.accepted_at >= start:
            add("received_new")
            add("received_online" if d.channel == Channel.ONLINE else "received_direct_postal")
        else:
            add("carried_over")
        add("received")
        if closed is not None and closed < end:
            if d.finished_at:
                add("resolved")
                add(
                    {
                        OnTimeResult.EARLY: "resolved_early",
                        OnTimeResult.ON_TIME: "resolved_on_time",
                        OnTimeResult.LATE: "resolved_late",
                    }[d.on_time_result]
                )
            else:
                add("withdrawn" if d.status == S.WITHDRAWN else "stopped")
            continue
        add("in_progress")
        before = [e for e in d.events.all() if e.at < end and e.to_status is not None]
        status_at_end = max(before, key=lambda e: (e.at, e.id)).to_status
        paused = status_at_end in (S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED)
        if paused:
            add(
                "paused_supplement" if status_at_end == S.SUPPLEMENT_REQUESTED else "paused_payment"
            )
        add("in_progress_overdue" if d.due_at < end and not paused else "in_progress_within")
    return out


def _by_procedure(report) -> dict[int, dict]:
    return {
        int(child.key.split(":")[1]): {k: child.figures[k] for k in COLUMN_KEYS}
        for row in report.rows
        for child in row.children
    }


def _nonzero(table: dict[int, dict]) -> dict[int, dict]:
    return {k: v for k, v in table.items() if any(v.values())}


def test_the_generated_data_covers_every_story(generated):
    assert generated == 200
    statuses = set(Dossier.objects.values_list("status", flat=True))
    assert statuses >= {1, 3, 4, 5, 6, 7, 8, 9, 10}
    assert Dossier.objects.filter(reappointment_count=1).exists()
    reports = [sel.report_monthly(period=m, by="field") for m in MONTHS]
    for key in (
        "carried_over",
        "paused_supplement",
        "paused_payment",
        "in_progress_overdue",
        "withdrawn",
        "stopped",
        "refused_intake",
        "resolved_late",
        "resolved_early",
    ):
        assert any(r.total.figures[key] for r in reports), key


def test_every_row_of_every_month_balances(generated):
    for period in MONTHS:
        for by in ("procedure", "unit", "officer"):
            report = sel.report_monthly(period=period, by=by)
            for row in report.flat_rows():
                incoming, outgoing = row.balance()
                assert incoming == outgoing, (period.key, by, row.key)
                f = row.figures
                assert f["received"] == f["carried_over"] + f["received_new"]
                assert f["received_new"] == f["received_online"] + f["received_direct_postal"]
                assert f["resolved"] == (
                    f["resolved_early"] + f["resolved_on_time"] + f["resolved_late"]
                )
                assert f["in_progress"] == f["in_progress_within"] + f["in_progress_overdue"]
                assert f["paused_supplement"] + f["paused_payment"] <= f["in_progress"]


@pytest.mark.parametrize("by", ["procedure", "unit", "officer"])
def test_still_open_at_a_month_end_is_the_next_months_carried_over(generated, by):
    reports = [sel.report_monthly(period=m, by=by) for m in MONTHS]
    for this, nxt in zip(reports, reports[1:], strict=False):
        open_rows = {r.key: r.figures["in_progress"] for r in this.flat_rows()}
        carried_rows = {r.key: r.figures["carried_over"] for r in nxt.flat_rows()}
        for key in set(open_rows) | set(carried_rows):
            assert open_rows.get(key, 0) == carried_rows.get(key, 0), (this.period.key, key)


def test_months_add_up_to_the_quarter(generated):
    quarter = sel.report_monthly(period=Period.parse("2026-Q2"), by="field").total.figures
    months = [
        sel.report_monthly(period=Period.month(2026, m), by="field").total.figures
        for m in (4, 5, 6)
    ]
    for key in (
        "received_new",
        "received_online",
        "resolved",
        "resolved_late",
        "withdrawn",
        "stopped",
        "refused_intake",
    ):
        assert quarter[key] == sum(m[key] for m in months), key
    assert quarter["carried_over"] == months[0]["carried_over"]
    for key in ("in_progress", "in_progress_overdue", "paused_supplement", "paused_payment"):
        assert quarter[key] == months[-1][key], key


def test_every_figure_matches_the_python_oracle(generated):
    for period in MONTHS + [Period.parse("2026-Q2"), Period.parse("2026")]:
        report = sel.report_monthly(period=period, by="procedure")
        assert _by_procedure(report) == _nonzero(_oracle(period)), period.key


def test_a_dossier_paid_after_the_month_end_was_paused_at_it(generated):
    """Status at the end is historical: a later transition does not rewrite the month."""
    before = {m.key: sel.report_monthly(period=m, by="field").as_dict()["total"] for m in MONTHS}
    for d in Dossier.objects.filter(status=S.PAYMENT_REQUESTED):
        svc.dossier_confirm_payment(dossier=d, actor=None, now=at(2026, 12, 1, 9, 0))
    upload = svc.UploadedDocument(
        slot_id=None,
        name="bo-sung.pdf",
        content=b"%PDF-1.4 bo sung",
        content_type="application/pdf",
    )
    for d in Dossier.objects.filter(status=S.SUPPLEMENT_REQUESTED, accepted_at__isnull=False):
        svc.dossier_receive_supplement(
            dossier=d, actor=None, now=at(2026, 12, 1, 9, 0), documents=[upload]
        )
    after = {m.key: sel.report_monthly(period=m, by="field").as_dict()["total"] for m in MONTHS}
    assert after == before
