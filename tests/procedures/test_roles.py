"""Staff roles against every action, and who sees which dossier (issue item 5).

The expected matrix is written out here from the one-stop rules (Decree 61/2018 art.
15-20: the desk receives, transfers and returns; the processing unit appraises; leaders
sign, apologise and stop), independently of procedures.core.roles.ACTION_ROLES, so a change
to either shows up as a failure. Each action is tried through the real service on a
dossier in a state where it is legal, so the only possible refusal is the role.
"""

import pytest
from rest_framework.test import APIClient

from procedures.core.constants import Action, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.core.roles import ACTION_ROLES
from procedures.dossiers import services as svc
from procedures.models import Dossier, DossierEvent, StaffProfile

from .conftest import APPLICANT, at

pytestmark = pytest.mark.django_db

ROLES = ["intake", "specialist", "unit_head", "director", "catalogue_admin"]
NOW = at(2026, 6, 1, 10, 0)

DESK, SP, UH, DI = "intake", "specialist", "unit_head", "director"
ALLOWED = {
    Action.REGISTER: {DESK},
    Action.ACCEPT: {DESK},
    Action.REFUSE_INTAKE: {DESK},
    Action.REQUEST_SUPPLEMENT: {DESK, SP, UH},
    Action.RECEIVE_SUPPLEMENT: {DESK},
    Action.REQUEST_PAYMENT: {DESK, SP, UH},
    Action.CONFIRM_PAYMENT: {DESK},
    Action.ASSIGN: {DESK, UH, DI},
    Action.COMPLETE_STEP: {DESK, SP, UH, DI},
    Action.APOLOGISE: {UH, DI},
    Action.RESOLVE: {UH, DI},
    Action.RETURN_RESULT: {DESK},
    Action.WITHDRAW: {DESK},
    Action.STOP: {UH, DI},
}


@pytest.fixture
def make(register, staff, processing):
    """Dossiers of the QLTM unit, assigned to its specialist, in a given state."""

    def state(name):
        if name == "submitted":
            return register(now=at(2026, 6, 1, 8, 0))
        d = processing()
        if name == "supplement":
            return svc.dossier_request_supplement(
                dossier=d, actor=staff["specialist"], reason="Thiếu hợp đồng", now=at(2026, 6, 1, 9)
            )
        if name == "payment":
            return svc.dossier_request_payment(
                dossier=d, actor=staff["specialist"], note="Nộp lệ phí", now=at(2026, 6, 1, 9, 0)
            )
        if name == "finished":
            return svc.dossier_resolve(
                dossier=d,
                actor=staff["unit_head"],
                outcome=Outcome.GRANTED,
                now=at(2026, 6, 1, 9, 0),
            )
        return d

    return state


# action -> (state it is legal in, call with (dossier, actor, units, procedure), status after)
CALLS = {
    Action.ACCEPT: (
        "submitted",
        lambda d, a, u: svc.dossier_accept(dossier=d, actor=a, now=NOW),
        S.ACCEPTED,
    ),
    Action.REFUSE_INTAKE: (
        "submitted",
        lambda d, a, u: svc.dossier_refuse_intake(
            dossier=d, actor=a, reason="Ngoài thẩm quyền", now=NOW
        ),
        S.REFUSED_AT_INTAKE,
    ),
    Action.REQUEST_SUPPLEMENT: (
        "processing",
        lambda d, a, u: svc.dossier_request_supplement(
            dossier=d, actor=a, reason="Thiếu bản vẽ", now=NOW
        ),
        S.SUPPLEMENT_REQUESTED,
    ),
    Action.RECEIVE_SUPPLEMENT: (
        "supplement",
        lambda d, a, u: svc.dossier_receive_supplement(dossier=d, actor=a, now=NOW),
        S.PROCESSING,
    ),
    Action.REQUEST_PAYMENT: (
        "processing",
        lambda d, a, u: svc.dossier_request_payment(
            dossier=d, actor=a, note="Nộp phí thẩm định", now=NOW
        ),
        S.PAYMENT_REQUESTED,
    ),
    Action.CONFIRM_PAYMENT: (
        "payment",
        lambda d, a, u: svc.dossier_confirm_payment(dossier=d, actor=a, now=NOW),
        S.PROCESSING,
    ),
    Action.ASSIGN: (
        "processing",
        lambda d, a, u: svc.dossier_assign(dossier=d, actor=a, unit=u["QLTM"], now=NOW),
        S.PROCESSING,
    ),
    Action.COMPLETE_STEP: (
        "processing",
        lambda d, a, u: svc.dossier_complete_step(dossier=d, actor=a, now=NOW),
        S.PROCESSING,
    ),
    Action.APOLOGISE: (
        "processing",
        lambda d, a, u: svc.dossier_apologise(
            dossier=d, actor=a, new_due_at=at(2026, 6, 12, 17, 0), reason="Chờ ý kiến Bộ", now=NOW
        ),
        S.PROCESSING,
    ),
    Action.RESOLVE: (
        "processing",
        lambda d, a, u: svc.dossier_resolve(dossier=d, actor=a, outcome=Outcome.GRANTED, now=NOW),
        S.FINISHED,
    ),
    Action.RETURN_RESULT: (
        "finished",
        lambda d, a, u: svc.dossier_return_result(dossier=d, actor=a, now=NOW),
        S.RETURNED,
    ),
    Action.WITHDRAW: (
        "processing",
        lambda d, a, u: svc.dossier_withdraw(dossier=d, actor=a, reason="Theo đơn", now=NOW),
        S.WITHDRAWN,
    ),
    Action.STOP: (
        "processing",
        lambda d, a, u: svc.dossier_stop(dossier=d, actor=a, reason="Giải thể", now=NOW),
        S.STOPPED,
    ),
}


def test_the_matrix_covers_every_staff_action_and_matches_the_role_table():
    assert set(CALLS) | {Action.REGISTER} == set(ALLOWED) == set(ACTION_ROLES)
    assert {a: {str(r) for r in roles} for a, roles in ACTION_ROLES.items()} == ALLOWED


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("action", list(CALLS))
def test_role_against_action(make, staff, units, role, action):
    state, call, after = CALLS[action]
    dossier = make(state)
    events_before = dossier.events.count()
    version_before = Dossier.objects.get(pk=dossier.pk).version
    if role in ALLOWED[action]:
        call(dossier, staff[role], units)
        dossier.refresh_from_db()
        assert dossier.status == after
        assert dossier.version == version_before + 1
        event = dossier.events.latest("id")
        assert (event.action, event.actor) == (action, staff[role])
    else:
        with pytest.raises(DomainError) as err:
            call(dossier, staff[role], units)
        assert err.value.code == "forbidden"
        dossier.refresh_from_db()
        assert dossier.version == version_before
        assert dossier.events.count() == events_before


@pytest.mark.parametrize("role", ROLES)
def test_role_against_register(procedure, staff, role):
    from procedures.core.constants import Channel

    def call():
        return svc.dossier_register(
            procedure=procedure,
            applicant=APPLICANT,
            channel=Channel.DIRECT,
            actor=staff[role],
            now=NOW,
        )

    if role in ALLOWED[Action.REGISTER]:
        dossier, _pin = call()
        assert dossier.received_by == staff[role]
    else:
        with pytest.raises(DomainError) as err:
            call()
        assert err.value.code == "forbidden"
        assert not Dossier.objects.exists()


# The other unit's specialist and head hold the right role but not the dossier: the
# services must refuse them as they refuse a wrong role.
@pytest.mark.parametrize(
    ("role", "action"),
    [
        ("other_specialist", Action.REQUEST_SUPPLEMENT),
        ("other_specialist", Action.COMPLETE_STEP),
        ("other_head", Action.APOLOGISE),
        ("other_head", Action.RESOLVE),
        ("other_head", Action.STOP),
        ("other_specialist", Action.REQUEST_PAYMENT),
        ("other_head", Action.ASSIGN),
    ],
)
def test_other_units_staff_are_refused_by_the_services(make, staff, units, role, action):
    state, call, _after = CALLS[action]
    dossier = make(state)
    with pytest.raises(DomainError) as err:
        call(dossier, staff[role], units)
    assert err.value.code == "forbidden"


@pytest.mark.parametrize(
    ("role", "action", "body"),
    [
        ("other_specialist", Action.REQUEST_PAYMENT, {"note": "Nộp phí"}),
        ("other_head", Action.ASSIGN, {"unit": "QLCN"}),
        ("other_head", Action.RESOLVE, {"outcome": "granted"}),
    ],
)
def test_other_unit_gets_404_from_the_api(make, staff, role, action, body):
    dossier = make("processing")
    client = APIClient()
    client.force_login(staff[role])
    response = client.post(
        f"/api/v1/dossiers/{dossier.code}/actions/{action}/",
        {"expected_version": dossier.version, **body},
        format="json",
    )
    assert response.status_code == 404
    assert Dossier.objects.get(pk=dossier.pk).version == dossier.version


# ------------------------------------------------------------------ visibility


@pytest.fixture
def spread(register, staff, units):
    """One dossier not yet assigned, two in QLTM (one with its specialist), one in QLCN."""

    def accepted():
        d = register(now=at(2026, 6, 1, 8, 0))
        return svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 8, 0))

    def assigned(unit, officer=None):
        return svc.dossier_assign(
            dossier=accepted(),
            actor=staff["intake"],
            unit=units[unit],
            officer=staff[officer] if officer else None,
            now=at(2026, 6, 1, 9, 0),
        )

    return {
        "unassigned": accepted(),
        "qltm_mine": assigned("QLTM", "specialist"),
        "qltm_unit": assigned("QLTM"),
        "qlcn": assigned("QLCN", "other_specialist"),
    }


EVERYTHING = {"unassigned", "qltm_mine", "qltm_unit", "qlcn"}
SEES = {
    "intake": EVERYTHING,
    "director": EVERYTHING,
    "specialist": {"qltm_mine", "qltm_unit"},
    "unit_head": {"qltm_mine", "qltm_unit"},
    "other_specialist": {"qlcn"},
    "other_head": {"qlcn"},
}


@pytest.mark.parametrize("role", list(SEES))
def test_list_and_detail_per_role(spread, staff, role):
    client = APIClient()
    client.force_login(staff[role])
    listed = {row["code"] for row in client.get("/api/v1/dossiers/").json()["results"]}
    assert listed == {spread[key].code for key in SEES[role]}
    for key, dossier in spread.items():
        expected = 200 if key in SEES[role] else 404
        assert client.get(f"/api/v1/dossiers/{dossier.code}/").status_code == expected, key


def test_catalogue_admin_sees_no_dossier(spread, staff):
    client = APIClient()
    client.force_login(staff["catalogue_admin"])
    assert client.get("/api/v1/dossiers/").status_code == 403
    assert client.get(f"/api/v1/dossiers/{spread['qlcn'].code}/").status_code == 403


def test_specialist_keeps_their_own_dossier_after_moving_unit(spread, staff, units):
    StaffProfile.objects.filter(user=staff["specialist"]).update(unit=units["QLCN"])
    client = APIClient()
    client.force_login(staff["specialist"])
    listed = {row["code"] for row in client.get("/api/v1/dossiers/").json()["results"]}
    assert listed == {spread["qltm_mine"].code, spread["qlcn"].code}


def test_superuser_sees_everything(spread, django_user_model):
    admin = django_user_model.objects.create_superuser("root", "root@example.gov.vn", "x")
    client = APIClient()
    client.force_login(admin)
    listed = {row["code"] for row in client.get("/api/v1/dossiers/").json()["results"]}
    assert listed == {d.code for d in spread.values()}


def test_user_without_role_is_refused(spread, django_user_model):
    nobody = django_user_model.objects.create_user("khach", password="x")
    client = APIClient()
    client.force_login(nobody)
    assert client.get("/api/v1/dossiers/").status_code == 403
    assert DossierEvent.objects.filter(actor=nobody).count() == 0
