"""The whole OpenAPI schema fuzzed with schemathesis (issue 11 item 11), in `make test`.

Every operation of /api/schema/ gets generated requests, valid and invalid, anonymous
and as a director with a token, against a database holding dossiers in several
states, dialogue sessions and published answers. Every response must be no server
error and must match the schema: status code documented, body and headers as
declared. Bounded (a few examples per operation, no shrinking) so that the run stays
well under two minutes; `FUZZ_EXAMPLES` raises it for a longer run by hand.

On PostgreSQL (DATABASE_URL) it also covers what SQLite cannot show, e.g. a NUL
byte in a search term.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from procedures.core.constants import Outcome
from procedures.dossiers import services as svc
from tests.dialogues_factories import RecommendationFactory, SessionFactory, register_business

from .conftest import at

schema = schemathesis.openapi.from_wsgi("/api/schema/", application)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "6"))


@pytest.fixture(autouse=True)
def _keep_the_test_connection():
    """Schemathesis calls the WSGI application itself, whose request_finished signal
    would close the database connection (and with it the test's transaction on
    PostgreSQL); Django's test client disconnects it the same way."""
    from django.core import signals
    from django.db import close_old_connections

    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def world(register, staff, units, settings):
    """Dossiers in several states, dialogue sessions and answers, a staff token."""
    settings.DOSSIER_LOOKUP_RATE = "100000/min"
    settings.PORTAL_LOOKUP_FREE_FAILURES = 100000
    settings.PORTAL_LOOKUP_MAX_FAILURES_PER_CODE = 100000
    register(now=at(2026, 6, 1, 9, 0))  # submitted: no due time, no result yet
    d = register(now=at(2026, 6, 1, 9, 0))
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 9, 30))
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 10, 0),
    )
    done = register(now=at(2026, 6, 1, 9, 0))
    done = svc.dossier_accept(dossier=done, actor=staff["intake"], now=at(2026, 6, 1, 9, 30))
    done = svc.dossier_assign(
        dossier=done,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 10, 0),
    )
    svc.dossier_complete_step(
        dossier=done, actor=staff["specialist"], note="", now=at(2026, 6, 2, 10, 0)
    )
    svc.dossier_resolve(
        dossier=done,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="",
        now=at(2026, 6, 3, 10, 0),
    )
    session = SessionFactory()
    SessionFactory(planned=True, starts_at=at(2026, 9, 1, 8, 0))
    register_business(session, 1, now=at(2026, 2, 1, 9, 0))
    RecommendationFactory(session=session)
    token, _created = Token.objects.get_or_create(user=staff["director"])
    return {"token": token.key}


FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_anonymous(case, world):
    case.call_and_validate(checks=CHECKS)


@pytest.mark.django_db
@schema.parametrize()
@FUZZ
def test_api_as_staff(case, world):
    case.call_and_validate(checks=CHECKS, headers={"Authorization": f"Token {world['token']}"})


# ------------------------------------------------ the cases the probe found, one by one


def call(path, method="GET", *, token=None, **case):
    headers = {"Authorization": f"Token {token}"} if token else {}
    operation = schema[path][method]
    if "body" in case:
        case.setdefault("media_type", "application/json")
    return operation.Case(headers=headers, **case).call_and_validate(checks=CHECKS)


@pytest.mark.django_db
@pytest.mark.parametrize(
    "path, query, field",
    [
        ("/api/v1/dialogues/sessions/", {"year": "93958437"}, "year"),
        ("/api/v1/dialogues/answers/", {"q": "a\x00b"}, "q"),
        (
            "/api/v1/calendar/due/",
            {"start": "9999-12-31T23:00:00Z", "amount": "1000", "unit": "working_days"},
            "start",
        ),
        ("/api/v1/dialogues/answers/", {"field": "99999999999999999999"}, "field"),
        ("/api/v1/procedures/", {"field": "99999999999999999999"}, "field"),
    ],
)
def test_inputs_that_gave_500_are_refused_with_400(world, path, query, field):
    response = call(path, query=query)
    assert response.status_code == 400
    assert field in response.json()


@pytest.mark.django_db
def test_a_bad_page_or_an_unmatched_id_is_a_documented_json_404(world):
    for path, case in [
        ("/api/v1/procedures/", {"query": {"page": "999"}}),
        ("/api/v1/dialogues/sessions/", {"query": {"page": "abc"}}),
        ("/api/v1/dialogues/sessions/{id}/", {"path_parameters": {"id": "abc"}}),
        ("/api/v1/calendar/year/{year}/", {"path_parameters": {"year": "x"}}),
    ]:
        response = call(path, **case)
        assert response.status_code == 404
        assert response.json()["detail"]


@pytest.mark.django_db
def test_real_dossiers_sessions_and_answers_match_the_schema(world, register, staff):
    from procedures.models import Dossier

    token = world["token"]
    listing = call("/api/v1/dossiers/", token=token).json()["results"]
    results = {d["code"]: d["on_time_result"] for d in listing}
    assert None in results.values()  # not finished: null, not ""
    assert "early" in results.values() or "on_time" in results.values()
    for code in results:
        call("/api/v1/dossiers/{code}/", token=token, path_parameters={"code": code})
    sessions = call("/api/v1/dialogues/sessions/").json()["results"]
    assert {s["online_link"] for s in sessions} == {None}  # no link: null, not ""
    assert {s["host_unit"] for s in sessions} == {None}
    for s in sessions:
        call("/api/v1/dialogues/sessions/{id}/", path_parameters={"id": s["id"]})
        call(
            "/api/v1/dialogues/sessions/{id}/registrations/",
            token=token,
            path_parameters={"id": s["id"]},
        )
    call("/api/v1/dialogues/answers/")
    # The look-up of a fresh dossier: nothing finished yet.
    fresh = register()
    body = call(
        "/api/v1/dossiers/lookup/", "POST", body={"code": fresh.code, "pin": fresh.pin}
    ).json()
    assert body["on_time_result"] is None
    assert Dossier.objects.count() == 4


@pytest.mark.django_db
def test_action_errors_carry_the_documented_keys(world, register, staff):
    d = register()
    path = "/api/v1/dossiers/{code}/actions/accept/"
    desk = Token.objects.create(user=staff["intake"]).key
    director = world["token"]
    for token, body, status in [
        (desk, {}, 400),  # invalid body
        (desk, {"expected_version": "x"}, 400),
        (desk, {"expected_version": d.version + 5}, 409),  # stale version
        (director, {"expected_version": d.version}, 403),  # the role may not
        (None, {"expected_version": d.version}, 401),  # not logged in
    ]:
        response = call(path, "POST", token=token, path_parameters={"code": d.code}, body=body)
        assert response.status_code == status, response.text
        assert {"detail", "field", "code"} <= response.json().keys(), response.text
