"""Staff dossier API: list filters and pagination, detail, every action, error mapping.

The clock is frozen on Monday 1 June 2026, 10:00 (office hours), because the API
passes no `now=` to the services.
"""

from datetime import timedelta

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from procedures.core.constants import Action, Channel, OnTimeResult, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.dossiers import services as svc
from procedures.models import Dossier

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 1, 10, 0)
DOSSIERS = "/api/v1/dossiers/"


@pytest.fixture(autouse=True)
def frozen_clock():
    with time_machine.travel(NOW, tick=False):
        yield


@pytest.fixture
def client_as(staff):
    def _client(role: str) -> APIClient:
        client = APIClient()
        client.force_login(staff[role])
        return client

    return _client


def act(client, dossier, action, **body):
    body.setdefault("expected_version", Dossier.objects.get(pk=dossier.pk).version)
    return client.post(f"{DOSSIERS}{dossier.code}/actions/{action}/", body, format="json")


def codes(response):
    return [row["code"] for row in response.json()["results"]]


# ------------------------------------------------------------------ authentication


def test_anonymous_gets_401_with_token_challenge():
    response = APIClient().get(DOSSIERS)
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"


def test_catalogue_admin_has_no_dossier_access(client_as):
    response = client_as("catalogue_admin").get(DOSSIERS)
    assert response.status_code == 403


def test_token_authentication(staff, register):
    d = register()
    token = Token.objects.create(user=staff["intake"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert codes(client.get(DOSSIERS)) == [d.code]
    response = act(client, d, Action.ACCEPT)
    assert response.status_code == 200, response.json()
    assert response.json()["status"] == S.ACCEPTED


# ------------------------------------------------------------------ list


def test_list_is_newest_first_and_shows_the_essentials(client_as, register, units, staff):
    first = register(now=at(2026, 5, 29, 9, 0))
    second = register(now=at(2026, 5, 29, 9, 30), channel=Channel.ONLINE)
    response = client_as("intake").get(DOSSIERS)
    assert response.status_code == 200
    body = response.json()
    assert codes(response) == [second.code, first.code]
    row = body["results"][0]
    assert row["status"] == S.SUBMITTED
    assert row["status_label"] == str(S.SUBMITTED.label)
    assert row["channel"] == Channel.ONLINE
    assert row["procedure"]["code"] == "2.000633"
    assert row["field"]["name"] == "Lưu thông hàng hóa trong nước"
    assert row["applicant_name"] == "Nguyễn Văn An"
    assert row["submitted_at"] == "2026-05-29T09:30:00+07:00"
    assert row["assigned_unit"] is None
    assert row["version"] == 1
    assert "count" not in body  # cursor pagination: no COUNT(*)


def test_list_filters(client_as, register, processing, staff, units, procedure):
    submitted = register(now=at(2026, 5, 28, 9, 0))
    online = register(now=at(2026, 5, 28, 10, 0), channel=Channel.ONLINE)
    mine = processing(now=at(2026, 5, 27, 9, 0))
    other_unit = processing(now=at(2026, 5, 26, 9, 0))
    other_unit = svc.dossier_assign(
        dossier=other_unit,
        actor=staff["intake"],
        unit=units["QLCN"],
        officer=staff["other_specialist"],
        now=at(2026, 6, 1, 9, 0),
    )
    early = processing(now=at(2026, 5, 25, 9, 0))
    early = svc.dossier_resolve(
        dossier=early, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 1, 9, 30)
    )
    client = client_as("director")

    def listed(**params):
        response = client.get(DOSSIERS, params)
        assert response.status_code == 200, response.json()
        return set(codes(response))

    assert listed(status=S.SUBMITTED) == {submitted.code, online.code}
    assert listed(status=[S.PROCESSING, S.FINISHED]) == {mine.code, other_unit.code, early.code}
    assert listed(channel=Channel.ONLINE) == {online.code}
    assert listed(unit="QLCN") == {other_unit.code}
    assert listed(officer="specialist") == {mine.code, early.code}
    assert listed(on_time_result=OnTimeResult.EARLY) == {early.code}
    assert listed(procedure=procedure.pk) == {
        submitted.code,
        online.code,
        mine.code,
        other_unit.code,
        early.code,
    }
    assert listed(procedure=procedure.pk + 999) == set()
    assert listed(field=procedure.field_id, status=S.SUBMITTED) == {submitted.code, online.code}
    # Accepted 1 June 08:00 with 5 working days: due Monday 8 June 08:00.
    assert listed(due_after="2026-06-08T08:00:00+07:00") == {mine.code, other_unit.code, early.code}
    assert listed(due_before="2026-06-08T08:00:00+07:00") == set()
    assert listed(search=mine.code) == {mine.code}
    # The three were accepted on 1 June: their legal codes share the day's prefix.
    assert listed(search=mine.code[:-2].lower()) == {mine.code, other_unit.code, early.code}
    assert listed(search=mine.code.lower()) == {mine.code}
    assert listed(search=mine.code.split("-", 1)[1]) == {mine.code}  # "260601-0001"
    assert listed(search=submitted.submission_ref.lower()) == {submitted.code}
    assert listed(search="001099012345") == {
        submitted.code,
        online.code,
        mine.code,
        other_unit.code,
        early.code,
    }
    assert listed(search="văn an") == {
        submitted.code,
        online.code,
        mine.code,
        other_unit.code,
        early.code,
    }
    assert listed(search="Không Có Ai") == set()


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"status": 42}, "status"),
        ({"channel": 9}, "channel"),
        ({"due_before": "2026-06-08T08:00:00"}, "due_before"),  # no offset: ambiguous
        (
            {"due_before": "2026-06-01T00:00:00+07:00", "due_after": "2026-06-02T00:00:00+07:00"},
            "due_after",
        ),
        ({"on_time_result": "soon"}, "on_time_result"),
    ],
)
def test_list_rejects_bad_filters_by_name(client_as, params, field):
    response = client_as("director").get(DOSSIERS, params)
    assert response.status_code == 400
    assert field in response.json()


def test_cursor_pagination_walks_every_dossier_once(client_as, register):
    made = [register(now=at(2026, 5, 20, 8, 0) + timedelta(minutes=7 * i)).code for i in range(7)]
    client = client_as("intake")
    seen, url = [], DOSSIERS + "?page_size=3"
    while url:
        body = client.get(url).json()
        seen += [row["code"] for row in body["results"]]
        url = body["next"]
    assert seen == list(reversed(made))


def test_list_query_count_does_not_grow_with_rows(
    client_as, processing, register, django_assert_max_num_queries
):
    client = client_as("specialist")  # the costliest visibility: own or unit's
    processing()

    def count_queries():
        with CaptureQueriesContext(connection) as ctx:
            response = client.get(DOSSIERS)
        assert response.status_code == 200
        return len(ctx), len(response.json()["results"])

    small, rows_small = count_queries()
    for i in range(8):
        processing(now=at(2026, 5, 20, 8, 0) + timedelta(hours=i))
    big, rows_big = count_queries()
    assert (rows_small, rows_big) == (1, 9)
    assert small == big
    # session, user, roles (groups), unit (profile), the page: one query for the rows
    with django_assert_max_num_queries(5):
        client.get(DOSSIERS)


# ------------------------------------------------------------------ detail


def test_detail_has_steps_events_and_documents(client_as, processing):
    d = processing()
    response = client_as("specialist").get(f"{DOSSIERS}{d.code}/")
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == d.code
    assert body["applicant_email"] == "an@example.com"
    assert body["due_at"] == "2026-06-08T08:00:00+07:00"
    assert [s["order"] for s in body["steps"]] == [1, 2, 3]
    assert body["steps"][0]["unit"]["code"] == "VP"
    assert [e["action"] for e in body["events"]] == [Action.REGISTER, Action.ACCEPT, Action.ASSIGN]
    assert body["events"][1]["actor"] == {"username": "intake", "name": "Cán bộ intake"}
    assert body["assigned_officer"]["username"] == "specialist"
    assert body["documents"] == []
    assert body["version"] == d.version


def test_detail_query_count_is_constant(
    client_as, processing, staff, django_assert_max_num_queries
):
    d = processing()  # the transfer ended the desk's step
    for _ in range(2):
        svc.dossier_complete_step(
            dossier=d, actor=staff["unit_head"], note="xong", now=at(2026, 6, 1, 9, 0)
        )
    client = client_as("unit_head")
    # session, user, roles, unit, dossier, steps, events, documents
    with django_assert_max_num_queries(8):
        response = client.get(f"{DOSSIERS}{d.code}/")
    assert len(response.json()["events"]) == 5


def test_detail_of_a_dossier_out_of_sight_is_404(client_as, processing):
    d = processing()
    assert client_as("other_specialist").get(f"{DOSSIERS}{d.code}/").status_code == 404
    assert client_as("intake").get(f"{DOSSIERS}NO-SUCH-CODE/").status_code == 404


# ------------------------------------------------------------------ actions: happy paths


def test_full_path_through_the_api(client_as, register, staff):
    d = register(now=at(2026, 6, 1, 9, 0))
    intake, head = client_as("intake"), client_as("unit_head")

    r = act(intake, d, Action.ACCEPT)
    assert r.status_code == 200, r.json()
    assert r.json()["due_at"] == "2026-06-08T10:00:00+07:00"

    r = act(intake, d, Action.ASSIGN, unit="QLTM", officer="specialist", note="Chuyển QLTM")
    assert r.status_code == 200, r.json()
    assert r.json()["status"] == S.PROCESSING
    assert r.json()["assigned_unit"]["code"] == "QLTM"

    r = act(client_as("specialist"), d, Action.COMPLETE_STEP, note="Đã thẩm định")
    assert r.status_code == 200, r.json()
    assert r.json()["steps"][0]["completed_at"] == "2026-06-01T10:00:00+07:00"

    r = act(
        head,
        d,
        Action.APOLOGISE,
        new_due_at="2026-06-10T17:00:00+07:00",
        reason="Cần xác minh thực địa",
    )
    assert r.status_code == 200, r.json()
    assert (r.json()["due_at"], r.json()["reappointment_count"]) == ("2026-06-10T17:00:00+07:00", 1)

    r = act(head, d, Action.RESOLVE, outcome=Outcome.GRANTED, note="Cấp giấy phép số 12")
    assert r.status_code == 200, r.json()
    assert (r.json()["status"], r.json()["outcome"]) == (S.FINISHED, Outcome.GRANTED)
    # judged against the original due (8 June), not the apology's new one
    assert r.json()["on_time_result"] == OnTimeResult.EARLY

    r = act(intake, d, Action.RETURN_RESULT, note="Trả tại quầy")
    assert r.status_code == 200, r.json()
    d.refresh_from_db()
    assert d.status == S.RETURNED
    assert list(d.events.values_list("action", flat=True)) == [
        Action.REGISTER,
        Action.ACCEPT,
        Action.ASSIGN,
        Action.COMPLETE_STEP,
        Action.APOLOGISE,
        Action.RESOLVE,
        Action.RETURN_RESULT,
    ]
    assert d.events.get(action=Action.APOLOGISE).actor == staff["unit_head"]


def test_refuse_supplement_payment_withdraw_stop(client_as, register, processing):
    intake = client_as("intake")
    refused = register()
    r = act(intake, refused, Action.REFUSE_INTAKE, reason="Ngoài thẩm quyền của Sở")
    assert (r.status_code, r.json()["status"]) == (200, S.REFUSED_AT_INTAKE)

    d = register()
    r = act(intake, d, Action.REQUEST_SUPPLEMENT, reason="Thiếu bản sao GCN ĐKKD")
    assert (r.status_code, r.json()["status"]) == (200, S.SUPPLEMENT_REQUESTED)
    assert r.json()["supplement_reason"] == "Thiếu bản sao GCN ĐKKD"
    r = act(intake, d, Action.RECEIVE_SUPPLEMENT, note="Đã nhận bản sao")
    assert (r.status_code, r.json()["status"]) == (200, S.SUBMITTED)
    r = act(intake, d, Action.WITHDRAW)
    assert (r.status_code, r.json()["status"]) == (200, S.WITHDRAWN)

    p = processing()
    r = act(client_as("specialist"), p, Action.REQUEST_PAYMENT, note="Lệ phí 1.200.000 đồng")
    assert (r.status_code, r.json()["status"]) == (200, S.PAYMENT_REQUESTED)
    r = act(intake, p, Action.CONFIRM_PAYMENT, note="Biên lai 0012")
    assert (r.status_code, r.json()["status"]) == (200, S.PROCESSING)
    r = act(client_as("director"), p, Action.STOP, reason="Doanh nghiệp giải thể")
    assert (r.status_code, r.json()["status"]) == (200, S.STOPPED)


def test_reassigning_away_from_oneself_answers_204(client_as, processing, staff):
    d = processing()
    r = act(client_as("unit_head"), d, Action.ASSIGN, unit="QLCN", officer="other_specialist")
    assert r.status_code == 204
    d.refresh_from_db()
    assert d.assigned_officer == staff["other_specialist"]


# ------------------------------------------------------------------ actions: errors


def test_stale_version_is_409_and_changes_nothing(client_as, register):
    d = register()
    intake = client_as("intake")
    stale = d.version
    assert act(intake, d, Action.REQUEST_SUPPLEMENT, reason="Thiếu tờ khai").status_code == 200
    r = act(intake, d, Action.ACCEPT, expected_version=stale)
    assert r.status_code == 409
    assert r.json()["code"] == "conflict"
    assert d.code in r.json()["detail"]
    d.refresh_from_db()
    assert d.status == S.SUPPLEMENT_REQUESTED
    assert d.events.count() == 2


def test_illegal_transition_is_400_with_code(client_as, register):
    d = register()
    r = act(client_as("intake"), d, Action.RETURN_RESULT)
    assert r.status_code == 400
    assert r.json()["code"] == "illegal_transition"
    assert r.json()["field"] is None


def test_role_that_may_not_act_gets_403(client_as, processing):
    d = processing()
    r = act(client_as("specialist"), d, Action.RESOLVE, outcome=Outcome.GRANTED)
    assert r.status_code == 403
    assert r.json()["code"] == "forbidden"
    assert Dossier.objects.get(pk=d.pk).status == S.PROCESSING


def test_action_on_a_dossier_out_of_sight_is_404(client_as, processing):
    d = processing()
    r = act(client_as("other_head"), d, Action.STOP, reason="x")
    assert r.status_code == 404
    assert Dossier.objects.get(pk=d.pk).status == S.PROCESSING


@pytest.mark.parametrize(
    ("action", "body", "field", "code"),
    [
        (Action.REFUSE_INTAKE, {"reason": "  "}, "reason", "required"),
        (Action.ASSIGN, {"unit": "NOPE"}, "unit", "not_found"),
        (Action.ASSIGN, {"unit": "QLTM", "officer": "nobody"}, "officer", "not_found"),
        (Action.ASSIGN, {"unit": "QLCN", "officer": "specialist"}, "officer", None),
    ],
)
def test_domain_errors_name_the_field(client_as, register, staff, action, body, field, code):
    d = register()
    if action == Action.ASSIGN:
        d = svc.dossier_accept(dossier=d, actor=staff["intake"])
    r = act(client_as("intake"), d, action, **body)
    assert r.status_code == 400, r.json()
    assert (r.json()["field"], r.json()["code"]) == (field, code)


@pytest.mark.parametrize(
    ("action", "body", "field"),
    [
        (Action.ACCEPT, {"expected_version": None}, "expected_version"),
        (Action.ACCEPT, {"expected_version": "x"}, "expected_version"),
        (Action.RESOLVE, {"outcome": "maybe"}, "outcome"),
        (Action.APOLOGISE, {"new_due_at": "2026-06-10T17:00:00", "reason": "x"}, "new_due_at"),
        (Action.REFUSE_INTAKE, {}, "reason"),
    ],
)
def test_malformed_bodies_are_400_per_field(client_as, register, action, body, field):
    d = register()
    body = {"expected_version": d.version, **body}
    if body["expected_version"] is None:
        del body["expected_version"]
    r = client_as("director").post(f"{DOSSIERS}{d.code}/actions/{action}/", body, format="json")
    assert r.status_code == 400
    assert field in r.json()


def test_unknown_action_is_404_listing_the_known_ones(client_as, register):
    d = register()
    r = client_as("intake").post(f"{DOSSIERS}{d.code}/actions/approve/", {}, format="json")
    assert r.status_code == 404
    assert r.json()["code"] == "unknown_action"
    assert "accept" in r.json()["detail"]


def test_get_on_an_action_is_405(client_as, register):
    d = register()
    assert client_as("intake").get(f"{DOSSIERS}{d.code}/actions/accept/").status_code == 405


def test_openapi_documents_each_action_with_its_body(client_as):
    schema = client_as("intake").get("/api/schema/?format=json").json()
    paths = schema["paths"]
    accept = paths["/api/v1/dossiers/{code}/actions/accept/"]["post"]
    assert accept["operationId"] == "dossier_action_accept"
    assert set(accept["responses"]) >= {"200", "400", "403", "404", "409"}
    apologise = paths["/api/v1/dossiers/{code}/actions/apologise/"]["post"]
    body_ref = apologise["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    body = schema["components"]["schemas"][body_ref.rsplit("/", 1)[1]]
    assert set(body["required"]) == {"expected_version", "new_due_at", "reason"}
    assert "/api/v1/dossiers/lookup/" in paths
    assert not any("{action}" in p for p in paths)
