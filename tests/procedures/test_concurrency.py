"""Two officers at once, and twenty desks registering at once (PostgreSQL only).

SQLite serialises whole-database writes, so these races can only be shown on
PostgreSQL: run with DATABASE_URL=postgres://... Each thread has its own connection
(closed at the end of the thread) and its own transaction, as two requests would.
"""

import threading
import time
from collections.abc import Callable

import pytest
from django.db import connections
from rest_framework.test import APIClient

from procedures.core.constants import Action, Channel
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.models import Dossier, DossierCodeSequence, DossierEvent
from procedures.notifications import services as notifications

from .conftest import APPLICANT, at

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def run_together(*calls: Callable[[], object]) -> list[tuple[str, object]]:
    """Start the calls at the same instant in threads; ("ok", value) or ("error", exc)."""
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def worker(i, call):
        try:
            barrier.wait(timeout=10)
            results[i] = ("ok", call())
        except Exception as exc:  # collected and asserted by the test
            results[i] = ("error", exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads), "a thread hung (deadlock?)"
    return results


@pytest.fixture
def slow_commit(monkeypatch):
    """Hold each transition's transaction open a moment after its row is written, so the
    second officer surely arrives while the first still holds the row lock."""
    real = notifications.notify_dossier_event

    def slow(*, event):
        time.sleep(0.3)
        return real(event=event)

    monkeypatch.setattr(notifications, "notify_dossier_event", slow)


@pytest.fixture
def second_intake(staff, units):
    from procedures.catalogue.staff import roles_ensure_groups, staff_create
    from procedures.core.constants import Role

    user, _ = staff_create(
        username="intake2",
        full_name="Cán bộ intake2",
        group=roles_ensure_groups()[Role.INTAKE],
        unit=units["VP"],
    )
    return user


def test_two_officers_same_version_one_wins_the_other_gets_a_conflict(
    require_postgres, register, staff, second_intake, slow_commit
):
    d = register(now=at(2026, 6, 1, 9, 0))
    seen = d.version
    results = run_together(
        lambda: svc.dossier_accept(
            dossier=d, actor=staff["intake"], expected_version=seen, now=at(2026, 6, 1, 10, 0)
        ),
        lambda: svc.dossier_refuse_intake(
            dossier=d,
            actor=second_intake,
            reason="Ngoài thẩm quyền",
            expected_version=seen,
            now=at(2026, 6, 1, 10, 0),
        ),
    )
    outcomes = sorted(kind for kind, _ in results)
    assert outcomes == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, svc.DossierConflict)
    assert error.code == "conflict"

    winner = [value for kind, value in results if kind == "ok"][0]
    d.refresh_from_db()
    assert d.status == winner.status in (S.ACCEPTED, S.REFUSED_AT_INTAKE)
    assert d.version == seen + 1
    events = list(DossierEvent.objects.filter(dossier=d).order_by("id"))
    assert [e.action for e in events][0] == Action.REGISTER
    assert len(events) == 2
    assert (events[1].from_status, events[1].to_status) == (S.SUBMITTED, d.status)
    if d.status == S.ACCEPTED:
        assert d.due_at is not None and d.ended_at is None
    else:
        assert d.due_at is None and d.ended_at is not None


def test_two_officers_without_versions_one_wins_the_other_is_an_illegal_transition(
    require_postgres, register, staff, second_intake, slow_commit
):
    d = register(now=at(2026, 6, 1, 9, 0))
    results = run_together(
        lambda: svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0)),
        lambda: svc.dossier_accept(dossier=d, actor=second_intake, now=at(2026, 6, 1, 10, 0)),
    )
    assert sorted(kind for kind, _ in results) == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, DomainError) and error.code == "illegal_transition"
    d.refresh_from_db()
    assert (d.status, d.version) == (S.ACCEPTED, 2)
    assert DossierEvent.objects.filter(dossier=d, action=Action.ACCEPT).count() == 1
    # one set of internal steps, not two
    assert d.steps.count() == 3


def test_two_api_sessions_same_version_200_and_409(
    require_postgres, register, staff, second_intake, slow_commit
):
    d = register(now=at(2026, 6, 1, 9, 0))

    def post(user, action, body):
        client = APIClient()
        client.force_login(user)
        return client.post(
            f"/api/v1/dossiers/{d.code}/actions/{action}/",
            {"expected_version": d.version, **body},
            format="json",
        )

    results = run_together(
        lambda: post(staff["intake"], "accept", {}),
        lambda: post(second_intake, "request_supplement", {"reason": "Thiếu tờ khai"}),
    )
    statuses = sorted(value.status_code for _, value in results)
    assert statuses == [200, 409], [value.content for _, value in results]
    loser = [value for _, value in results if value.status_code == 409][0]
    assert loser.json()["code"] == "conflict"
    d.refresh_from_db()
    assert d.version == 2
    assert DossierEvent.objects.filter(dossier=d).count() == 2


def test_twenty_parallel_registrations_get_twenty_consecutive_references(
    require_postgres, procedure, staff
):
    def register_one():
        dossier, _pin = svc.dossier_register(
            procedure=procedure,
            applicant=APPLICANT,
            channel=Channel.DIRECT,
            actor=staff["intake"],
            now=at(2026, 6, 1, 9, 0),
        )
        return dossier.submission_ref

    results = run_together(*[register_one] * 20)
    assert [kind for kind, _ in results] == ["ok"] * 20, results
    refs = sorted(value for _, value in results)
    assert refs == [f"DK-H56.16-260601-{n:04d}" for n in range(1, 21)]
    assert Dossier.objects.count() == 20
    assert DossierCodeSequence.objects.get(kind="ref", day=at(2026, 6, 1).date()).last == 20


def test_twenty_parallel_acceptances_get_twenty_consecutive_legal_codes(
    require_postgres, procedure, staff
):
    """The legal code is drawn at acceptance under the day's row lock: no duplicate, no
    gap, dated the day of acceptance."""
    dossiers = [
        svc.dossier_register(
            procedure=procedure,
            applicant=APPLICANT,
            channel=Channel.DIRECT,
            actor=staff["intake"],
            now=at(2026, 5, 29, 9, 0),
        )[0]
        for _ in range(20)
    ]

    def accept(d):
        return lambda: svc.dossier_accept(
            dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 9, 0)
        ).code

    results = run_together(*[accept(d) for d in dossiers])
    assert [kind for kind, _ in results] == ["ok"] * 20, results
    codes = sorted(value for _, value in results)
    assert codes == [f"H56.16-260601-{n:04d}" for n in range(1, 21)]
    assert DossierCodeSequence.objects.get(kind="code", day=at(2026, 6, 1).date()).last == 20


# ------------------------------------------------------------------ the reference drawn ahead


def _synchronous_commit() -> str:
    with connections["default"].cursor() as cursor:
        cursor.execute("SHOW synchronous_commit")
        return cursor.fetchone()[0]


def test_a_registration_in_a_request_draws_its_reference_before_its_transaction(
    require_postgres, register, monkeypatch
):
    """Outside a transaction (a request) the reference is drawn on its own and committed
    at once; the registration's own commit stays synchronous. A registration that fails
    after the draw leaves a gap in the references, nothing else. Inside a transaction,
    the number is drawn in it and a rollback gives it back."""
    first = register()
    assert first.submission_ref == "DK-H56.16-260601-0001"
    assert _synchronous_commit() == "on"  # the draw's setting was its own statement's

    def broken(**kwargs):
        raise RuntimeError("notification queue unavailable")

    monkeypatch.setattr("procedures.notifications.services.notify_dossier_event", broken)
    with pytest.raises(RuntimeError):
        register()
    monkeypatch.undo()
    assert Dossier.objects.count() == 1
    third = register()
    assert third.submission_ref == "DK-H56.16-260601-0003"  # 0002 was drawn, then unused

    from django.db import transaction

    with pytest.raises(RuntimeError), transaction.atomic():
        assert register().submission_ref.endswith("-0004")
        raise RuntimeError("rolled back")
    assert register().submission_ref.endswith("-0004")
    assert DossierCodeSequence.objects.get(kind="ref", day=at(2026, 6, 1).date()).last == 4
    assert _synchronous_commit() == "on"


def test_a_registration_does_not_wait_for_another_ones_transaction(
    require_postgres, register, monkeypatch
):
    """The day's counter row is locked only while the number is drawn: a registration
    still inside its transaction (held open here) does not hold up the next one, which
    used to queue on the row until the first had committed."""
    held, finished = threading.Event(), threading.Event()
    real = notifications.notify_dossier_event

    def slow(*, event):
        if event.dossier.submission_ref.endswith("-0001"):
            held.set()
            assert finished.wait(timeout=20), "the second registration never finished"
        return real(event=event)

    monkeypatch.setattr(notifications, "notify_dossier_event", slow)

    def first():
        return register().submission_ref

    def second():
        assert held.wait(timeout=20)
        try:
            return register().submission_ref
        finally:
            finished.set()

    results = run_together(first, second)
    assert results == [("ok", "DK-H56.16-260601-0001"), ("ok", "DK-H56.16-260601-0002")]
    assert Dossier.objects.count() == 2
