"""The demo-data generator on SQLite with a small N: exact counts, a realistic mix,
rows as coherent as the services would have made them, --clear (issue item 9)."""

import re
from collections import Counter
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.models import Count, Max

from procedures.calendar import working_time as calendar
from procedures.catalogue.services import procedure_create
from procedures.core.constants import Action, Channel, OnlineLevel, StepRole
from procedures.core.constants import DossierStatus as S
from procedures.demo.generator import (
    DEMO_PIN,
    demo_dossiers_clear,
    demo_dossiers_generate,
)
from procedures.dossiers import services as svc
from procedures.models import Dossier, DossierCodeSequence, DossierEvent, DossierStep, ProcessStep

from .conftest import at

pytestmark = pytest.mark.django_db

END = at(2026, 6, 30, 12, 0)
N = 1200
OPEN = {S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.SUPPLEMENT_REQUESTED, S.PAYMENT_REQUESTED}


@pytest.fixture
def catalogue(procedure, trade_field, units, staff):
    """The 5-day online procedure with 3 internal steps, plus a 10-day desk-only one."""
    desk_only = procedure_create(
        name="Cấp Giấy chứng nhận đủ điều kiện kinh doanh LPG",
        code="2.000177",
        field=trade_field,
        decision_number="QĐ 2/2026",
        decision_date=at(2026, 1, 1).date(),
        effective_from=at(2026, 1, 1).date(),
        processing_amount=Decimal("10"),
        online_level=OnlineLevel.NONE,
        fee_vnd=0,
        implementing_unit=units["QLCN"],
    )
    return {"online": procedure, "desk": desk_only}


@pytest.fixture
def generated(catalogue):
    result = demo_dossiers_generate(count=N, end=END, days=120, seed=8, batch_size=500)
    return result


def test_exact_count_and_totals(generated):
    assert generated.dossiers == Dossier.objects.count() == N
    assert sum(generated.by_status.values()) == sum(generated.by_channel.values()) == N
    assert generated.events == DossierEvent.objects.count()
    assert generated.steps == DossierStep.objects.count()
    assert (generated.first_day, generated.last_day) == (
        at(2026, 3, 2).date(),
        at(2026, 6, 29).date(),
    )
    assert generated.method == ("copy" if connection.vendor == "postgresql" else "bulk_create")


def test_a_realistic_mix(generated):
    status = Counter(Dossier.objects.values_list("status", flat=True))
    channel = Counter(Dossier.objects.values_list("channel", flat=True))
    assert 0.55 <= channel[Channel.ONLINE] / N <= 0.65
    assert channel[Channel.POSTAL] > 0 and channel[Channel.DIRECT] > 0
    done = status[S.FINISHED] + status[S.RETURNED]
    assert done / N > 0.8
    for rare in (S.REFUSED_AT_INTAKE, S.WITHDRAWN, S.STOPPED):
        assert 0 < status[rare] / N < 0.06, rare
    assert sum(status[s] for s in OPEN) > 0  # still open at the end
    on_time = Counter(
        Dossier.objects.exclude(on_time_result="").values_list("on_time_result", flat=True)
    )
    assert on_time["early"] > on_time["on_time"] > 0 and 0 < on_time["late"] < on_time["early"]
    assert Dossier.objects.filter(reappointment_count=1).exists()
    assert Dossier.objects.filter(supplement_count__gt=0).exists()
    assert DossierEvent.objects.filter(action=Action.REQUEST_PAYMENT).exists()
    # desk-only procedures are never online
    assert not Dossier.objects.filter(procedure__code="2.000177", channel=Channel.ONLINE).exists()


def test_codes_are_daily_sequences_and_the_counters_follow(generated):
    """References follow the submission day; legal codes the acceptance day, gapless;
    a refused or withdrawn submission has no legal code."""
    rows = list(
        Dossier.objects.order_by("submitted_at", "id").values_list(
            "code", "submission_ref", "submitted_at", "accepted_at"
        )
    )
    refs: dict[str, list[int]] = {}
    codes: dict[str, list[int]] = {}
    for code, ref, submitted, accepted in rows:
        m = re.fullmatch(r"DK-H56\.16-(\d{6})-(\d{4})", ref)
        assert m, ref
        assert m[1] == f"{submitted.astimezone(calendar.LOCAL_TZ):%y%m%d}"  # day of registration
        refs.setdefault(m[1], []).append(int(m[2]))
        if accepted is None:
            assert code == ref
            continue
        m = re.fullmatch(r"H56\.16-(\d{6})-(\d{4})", code)
        assert m, code
        assert m[1] == f"{accepted.astimezone(calendar.LOCAL_TZ):%y%m%d}"  # day of acceptance
        codes.setdefault(m[1], []).append(int(m[2]))
    for day, numbers in refs.items():
        assert numbers == list(range(1, len(numbers) + 1)), day  # in order of submission
    for day, numbers in codes.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), day  # no gaps
    sequences = {(s.kind, f"{s.day:%y%m%d}"): s.last for s in DossierCodeSequence.objects.all()}
    assert sequences == {
        **{("ref", day): len(n) for day, n in refs.items()},
        **{("code", day): len(n) for day, n in codes.items()},
    }


def test_rows_are_what_the_services_would_have_written(generated, catalogue):
    dossiers = Dossier.objects.prefetch_related("events", "steps").select_related("procedure")
    for d in dossiers:
        events = list(d.events.all())
        assert events[0].action == Action.REGISTER and events[0].from_status is None
        assert d.version == len(events)  # every transition after the registration bumps it
        for before, after in zip(events, events[1:], strict=False):
            assert after.at >= before.at, d.code
            assert after.from_status == before.to_status, (d.code, after.action)
        assert events[-1].to_status == d.status
        assert max(e.at for e in events) <= END
        assert d.applicant_email.endswith("@demo.invalid")
        if d.accepted_at is None:
            assert d.due_at is None and d.status in (
                S.SUBMITTED,
                S.REFUSED_AT_INTAKE,
                S.SUPPLEMENT_REQUESTED,
                S.WITHDRAWN,
            )
            continue
        assert d.submitted_at <= d.accepted_at <= d.clock_started_at
        assert d.clock_started_at == calendar.next_working_moment(d.clock_started_at)
        if not d.reappointment_count and not d.paused_seconds:
            # the restart policy recomputes the due from the latest clock start
            assert d.due_at == calendar.add_time(
                d.clock_started_at, d.processing_amount, d.processing_unit
            ), d.code
        expected_amount = (
            Decimal("3")
            if (d.procedure.code == "2.000633" and d.channel == Channel.ONLINE)
            else None
        )
        if expected_amount:
            assert d.processing_amount == expected_amount
        if d.status in (S.FINISHED, S.RETURNED):
            judged = d.original_due_at if d.reappointment_count else d.due_at
            assert d.on_time_result == svc.on_time_result(finished_at=d.finished_at, due_at=judged)
            assert d.working_seconds_used == max(
                0,
                calendar.working_seconds_between(d.clock_started_at, d.finished_at)
                - d.paused_seconds,
            )
            assert d.outcome in ("granted", "refused")
            assert (d.returned_at is not None) == (d.status == S.RETURNED)
        else:
            assert d.on_time_result == "" and d.finished_at is None
        if d.reappointment_count:
            apology = next(e for e in events if e.action == Action.APOLOGISE)
            assert d.due_at > d.original_due_at
            assert (
                calendar.working_seconds_between(apology.at, d.original_due_at)
                >= calendar.working_day_seconds()
            )
        if d.procedure.code == "2.000633":
            steps = list(d.steps.all())
            assert [s.order for s in steps] == [1, 2, 3]
            assert steps[0].started_at is not None and steps[0].role == StepRole.INTAKE
            if d.status in (S.FINISHED, S.RETURNED):
                assert all(s.completed_at is not None for s in steps)


def test_assignments_use_the_procedures_unit_and_its_staff(generated, staff, units):
    assigned = Dossier.objects.exclude(assigned_unit=None)
    assert set(assigned.values_list("assigned_unit__code", flat=True)) == {"QLTM", "QLCN"}
    assert set(
        assigned.filter(assigned_unit=units["QLTM"]).values_list("assigned_officer", flat=True)
    ) == {staff["specialist"].pk}
    assert set(
        assigned.filter(assigned_unit=units["QLCN"]).values_list("assigned_officer", flat=True)
    ) == {staff["other_specialist"].pk}
    actors = set(DossierEvent.objects.exclude(actor=None).values_list("actor__username", flat=True))
    assert actors <= {
        "intake",
        "specialist",
        "unit_head",
        "other_specialist",
        "other_head",
        "director",
    }
    assert "catalogue_admin" not in actors


def test_demo_pin_opens_the_public_lookup(generated):
    d = Dossier.objects.order_by("?").first()
    assert svc.pin_matches(dossier=d, pin=DEMO_PIN)


def test_same_seed_same_dossiers(catalogue):
    first = demo_dossiers_generate(count=200, end=END, days=30, seed=3)
    rows = list(
        Dossier.objects.order_by("id").values_list(
            "submitted_at", "status", "channel", "due_at", "applicant_name"
        )
    )
    demo_dossiers_clear()
    second = demo_dossiers_generate(count=200, end=END, days=30, seed=3, batch_size=37)
    assert (
        list(
            Dossier.objects.order_by("id").values_list(
                "submitted_at", "status", "channel", "due_at", "applicant_name"
            )
        )
        == rows
    )
    assert first.by_status == second.by_status


def test_without_events(catalogue):
    result = demo_dossiers_generate(count=100, end=END, days=10, with_events=False)
    assert (result.dossiers, result.events) == (100, 0)
    assert not DossierEvent.objects.exists()
    # the version still counts the transitions the dossier went through
    assert Dossier.objects.aggregate(Max("version"))["version__max"] > 1


def test_runs_add_up_and_continue_the_codes_of_real_registrations(catalogue, register, staff):
    day = at(2026, 6, 29, 9, 0)  # the last day of the period
    real = register(now=day)
    assert real.submission_ref.endswith("-0001")
    demo_dossiers_generate(count=100, end=END, days=3)
    demo_dossiers_generate(count=50, end=END, days=3, seed=99)
    assert Dossier.objects.count() == 151
    on_day = Dossier.objects.filter(submission_ref__startswith="DK-H56.16-260629-")
    numbers = sorted(int(c[-4:]) for c in on_day.values_list("submission_ref", flat=True))
    assert numbers == list(range(1, len(numbers) + 1))
    after = register(now=day + timedelta(hours=5))
    assert int(after.submission_ref[-4:]) == len(numbers) + 1
    accepted = Dossier.objects.filter(code__startswith="H56.16-260629-")
    codes = sorted(int(c[-4:]) for c in accepted.values_list("code", flat=True))
    assert codes == list(range(1, len(codes) + 1))
    svc.dossier_accept(dossier=after, actor=staff["intake"], now=day + timedelta(hours=6))
    after.refresh_from_db()
    assert after.code == f"H56.16-260629-{len(codes) + 1:04d}"


def test_clear_removes_only_demo_dossiers_and_their_rows(catalogue, register):
    real = register(now=at(2026, 6, 1, 9, 0))
    demo_dossiers_generate(count=150, end=END, days=20)
    assert DossierStep.objects.exclude(dossier=real).exists()
    deleted = demo_dossiers_clear()
    assert deleted["procedures.Dossier"] == 150
    assert list(Dossier.objects.all()) == [real]
    assert (
        DossierEvent.objects.values("dossier").annotate(n=Count("id")).get()["dossier"] == real.pk
    )
    assert not DossierStep.objects.exists()  # the real one is not accepted yet
    # counters are kept: numbers are never handed out twice
    assert DossierCodeSequence.objects.filter(last__gt=1).exists()


def test_command_prints_the_mix_and_clears(catalogue, capsys):
    call_command(
        "generate_demo_dossiers",
        "--count",
        "80",
        "--days",
        "15",
        "--end",
        "2026-06-30T12:00:00+07:00",
    )
    out = capsys.readouterr().out
    assert "80 dossiers" in out and "12345678" in out
    assert Dossier.objects.count() == 80
    call_command(
        "generate_demo_dossiers", "--count", "30", "--days", "15", "--end", "2026-06-30", "--clear"
    )
    assert Dossier.objects.count() == 30
    call_command("generate_demo_dossiers", "--count", "0", "--clear")
    assert not Dossier.objects.exists()


def test_command_refuses_an_empty_catalogue(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="seed_catalogue"):
        call_command("generate_demo_dossiers", "--count", "5")


def test_process_steps_are_copied_in_order(generated):
    assert ProcessStep.objects.count() == 3
    first_steps = DossierStep.objects.filter(order=1).exclude(completed_at=None)
    assert first_steps.exists()
    for step in first_steps[:50]:
        assert step.on_time_result in ("early", "on_time", "late")
        assert step.working_seconds_used == calendar.working_seconds_between(
            step.started_at, step.completed_at
        )


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_parallel_workers_on_postgresql_write_the_same_dossiers(
    require_postgres, catalogue, caplog
):
    """Forked workers take disjoint days over their own connections: the same rows as
    one process, only the ids differ."""
    parallel = demo_dossiers_generate(
        count=3000, end=END, days=60, seed=5, batch_size=400, workers=2
    )
    assert "2 worker(s)" in caplog.text
    rows = sorted(Dossier.objects.values_list("submission_ref", "submitted_at", "status", "due_at"))
    assert parallel.dossiers == len(rows) == 3000
    assert parallel.events == DossierEvent.objects.count()
    last = dict(DossierCodeSequence.objects.filter(kind="ref").values_list("day", "last"))
    per_day = Counter(
        submitted.astimezone(calendar.LOCAL_TZ).date() for _c, submitted, _s, _d in rows
    )
    assert last == per_day
    # legal codes numbered by the parent, per acceptance day, without gaps
    accepted = Counter(
        a.astimezone(calendar.LOCAL_TZ).date()
        for a in Dossier.objects.filter(accepted_at__isnull=False).values_list(
            "accepted_at", flat=True
        )
    )
    assert dict(DossierCodeSequence.objects.filter(kind="code").values_list("day", "last")) == (
        accepted
    )
    assert Dossier.objects.filter(accepted_at__isnull=False, code__startswith="DK-").count() == 0
    demo_dossiers_clear()
    DossierCodeSequence.objects.all().delete()
    single = demo_dossiers_generate(count=3000, end=END, days=60, seed=5, batch_size=400)
    assert (
        sorted(Dossier.objects.values_list("submission_ref", "submitted_at", "status", "due_at"))
        == rows
    )
    assert single.by_status == parallel.by_status


def test_clear_by_another_reserved_domain_removes_only_those_dossiers(catalogue, register):
    # The web benchmark's submissions go to bench.invalid and are removed this way.
    bench = register(now=at(2026, 6, 1, 9, 0))
    Dossier.objects.filter(pk=bench.pk).update(applicant_email="submit@bench.invalid")
    demo_dossiers_generate(count=20, end=END, days=5)
    deleted = demo_dossiers_clear(email_domain="bench.invalid")
    assert deleted["procedures.Dossier"] == 1
    assert Dossier.objects.count() == 20
    assert not DossierEvent.objects.filter(dossier_id=bench.pk).exists()
    with pytest.raises(ValueError):
        demo_dossiers_clear(email_domain="example.com")  # never a real applicant's domain
    assert Dossier.objects.count() == 20
