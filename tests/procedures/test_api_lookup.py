"""Public look-up: POST /api/v1/dossiers/lookup/ {code, pin} (GET ?code=&pin= deprecated).

What the applicant sees, what they never see, the identical 404, the per-address rate
limit and the per-code lockout.
"""

import json

import pytest
import time_machine
from rest_framework.test import APIClient

from procedures.core.constants import Action, Channel, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.dossiers import services as svc

from .conftest import at

pytestmark = pytest.mark.django_db

URL = "/api/v1/dossiers/lookup/"


@pytest.fixture(autouse=True)
def _lookup_limits(settings):
    """Generous rates; the cache that counts them is emptied by tests/conftest.py."""
    settings.DOSSIER_LOOKUP_RATE = "1000/min"
    settings.PORTAL_LOOKUP_MAX_FAILURES_PER_CODE = 3
    settings.PORTAL_LOOKUP_FREE_FAILURES = 10
    settings.PORTAL_LOOKUP_WINDOW_MINUTES = 10


def lookup(code, pin, client=None, **extra):
    return (client or APIClient()).post(URL, {"code": code, "pin": pin}, format="json", **extra)


def shows(response, dossier) -> bool:
    """The look-up answered with this dossier (not merely a 200)."""
    return response.status_code == 200 and response.json()["code"] == dossier.code


@pytest.fixture
def processed(register, staff, units):
    """Accepted, assigned, a step handed over with an internal note, resolved, returned."""
    d = register(now=at(2026, 6, 1, 9, 0))
    pin = d.pin
    d = svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 9, 30))
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        note="Giao chị Hoa xử lý gấp",
        now=at(2026, 6, 1, 10, 0),
    )
    svc.dossier_complete_step(
        dossier=d,
        actor=staff["specialist"],
        note="Hồ sơ ổn, đề nghị lãnh đạo ký",
        now=at(2026, 6, 2, 10, 0),
    )
    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Cấp Giấy phép số 12/GP-SCT",
        now=at(2026, 6, 3, 10, 0),
    )
    d = svc.dossier_return_result(dossier=d, actor=staff["intake"], now=at(2026, 6, 3, 15, 0))
    d.pin = pin
    return d


def test_applicant_sees_status_deadlines_outcome_and_timeline(processed):
    response = lookup(processed.code, processed.pin)
    assert response.status_code == 200
    body = response.json()
    assert body["code"] == processed.code
    assert body["procedure_name"] == "Cấp Giấy phép bán lẻ sản phẩm rượu"
    assert body["applicant_name"] == "Nguyễn Văn An"
    assert (body["status"], body["status_label"]) == (S.RETURNED, str(S.RETURNED.label))
    assert body["submitted_at"] == "2026-06-01T09:00:00+07:00"
    assert body["accepted_at"] == "2026-06-01T09:30:00+07:00"
    assert body["due_at"] == "2026-06-08T09:30:00+07:00"
    assert body["finished_at"] == "2026-06-03T10:00:00+07:00"
    assert body["on_time_result"] == "early"
    assert (body["outcome"], body["outcome_note"]) == (
        Outcome.GRANTED,
        "Cấp Giấy phép số 12/GP-SCT",
    )
    assert body["supplement_reason"] is None and body["payment_note"] is None
    timeline = body["timeline"]
    assert [e["action"] for e in timeline] == [
        Action.REGISTER,
        Action.ACCEPT,
        Action.ASSIGN,
        Action.COMPLETE_STEP,
        Action.RESOLVE,
        Action.RETURN_RESULT,
    ]
    assert timeline[1] == {
        "action": "accept",
        "action_label": str(Action.ACCEPT.label),
        "at": "2026-06-01T09:30:00+07:00",
        "from_status": S.SUBMITTED,
        "to_status": S.ACCEPTED,
        "to_status_label": str(S.ACCEPTED.label),
        "note": "",
    }
    # internal hand-over notes stay internal; the result is the applicant's
    assert timeline[2]["note"] == "" and timeline[3]["note"] == ""
    assert timeline[4]["note"] == "Cấp Giấy phép số 12/GP-SCT"


def test_no_staff_names_id_number_or_contacts(processed, staff):
    text = lookup(processed.code, processed.pin).content.decode()
    for secret in [
        "001099012345",
        "an@example.com",
        "0912345678",
        "Phan Đình Phùng",
        "Giao chị Hoa",
        "đề nghị lãnh đạo ký",
        "specialist",
        "unit_head",
        "intake",
        "Cán bộ",
        "pin_hash",
        "version",
    ]:
        assert secret not in text, secret


def test_supplement_reason_only_while_requested(register, staff):
    d = register()
    pin = d.pin
    d = svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Bổ sung bản sao GCN ĐKKD"
    )
    body = lookup(d.code, pin).json()
    assert (body["status"], body["supplement_reason"]) == (
        S.SUPPLEMENT_REQUESTED,
        "Bổ sung bản sao GCN ĐKKD",
    )
    assert body["timeline"][-1]["note"] == "Bổ sung bản sao GCN ĐKKD"
    assert body["outcome"] is None
    svc.dossier_receive_supplement(dossier=d, actor=staff["intake"])
    assert lookup(d.code, pin).json()["supplement_reason"] is None


def test_payment_note_only_while_awaited(register, staff, units):
    d = register()
    pin = d.pin
    d = svc.dossier_accept(dossier=d, actor=staff["intake"])
    d = svc.dossier_request_payment(dossier=d, actor=staff["intake"], note="Nộp 1.200.000 đồng")
    assert lookup(d.code, pin).json()["payment_note"] == "Nộp 1.200.000 đồng"
    svc.dossier_confirm_payment(dossier=d, actor=staff["intake"])
    assert lookup(d.code, pin).json()["payment_note"] is None


def test_code_is_case_and_space_insensitive(register):
    d = register(channel=Channel.ONLINE)
    assert shows(lookup(f"  {d.code.lower()} ", f" {d.pin} "), d)


def test_wrong_code_and_wrong_pin_look_identical(register):
    d = register()
    wrong_pin = lookup(d.code, "00000000" if d.pin != "00000000" else "11111111")
    wrong_code = lookup("H56.16-260601-9999", d.pin)
    assert wrong_pin.status_code == wrong_code.status_code == 404
    assert wrong_pin.content == wrong_code.content
    assert json.loads(wrong_pin.content)["detail"]


def test_missing_parameters_are_400(register):
    assert APIClient().get(URL).status_code == 400
    assert APIClient().get(URL, {"code": "X"}).status_code == 400


def test_responses_are_never_cached(register):
    d = register()
    for response in (lookup(d.code, d.pin), lookup(d.code, "x")):
        assert "no-store" in response["Cache-Control"]


def test_lookup_takes_one_query(register, django_assert_num_queries):
    d = register()
    with django_assert_num_queries(1):  # the dossier with its procedure and its events
        assert shows(lookup(d.code, d.pin), d)
    with django_assert_num_queries(1):
        assert lookup(d.code, "12345678x").status_code == 404


def test_lockout_after_repeated_failures_even_with_the_right_pin(register):
    d = register()
    with time_machine.travel(at(2026, 6, 1, 9, 0), tick=False):
        for _ in range(3):
            assert lookup(d.code, "bad").status_code == 404
        locked = lookup(d.code, d.pin)
        assert locked.status_code == 429
        assert int(locked["Retry-After"]) == 600  # the 10-minute window has just begun
        assert "10" in locked.json()["detail"]
        # guessing from many addresses does not help: the code itself is locked
        assert lookup(d.code, d.pin, REMOTE_ADDR="10.0.0.9").status_code == 429
        # another dossier from the same address still works
        other = register()
        assert shows(lookup(other.code, other.pin), other)


def test_the_look_up_page_and_the_api_share_the_count(register, client):
    d = register()
    with time_machine.travel(at(2026, 6, 1, 9, 0), tick=False):
        for _ in range(2):
            client.post("/tra-cuu/", {"code": d.code, "pin": "00000000"})
        assert lookup(d.code, "bad").status_code == 404
        assert lookup(d.code, d.pin).status_code == 429


def test_lockout_ends_with_the_window(register):
    d = register()
    with time_machine.travel(at(2026, 6, 1, 9, 0), tick=False) as clock:
        for _ in range(3):
            lookup(d.code, "bad")
        assert lookup(d.code, d.pin).status_code == 429
        clock.shift(9 * 60)
        assert lookup(d.code, d.pin).status_code == 429
        clock.shift(61)
        assert shows(lookup(d.code, d.pin), d)


def test_unknown_codes_are_locked_out_the_same_way():
    for _ in range(3):
        assert lookup("H56.16-260601-0999", "12345678").status_code == 404
    assert lookup("H56.16-260601-0999", "12345678").status_code == 429


def test_a_success_clears_earlier_failures(register):
    d = register()
    for _ in range(2):
        lookup(d.code, "bad")
    assert shows(lookup(d.code, d.pin), d)
    for _ in range(2):
        lookup(d.code, "bad")
    assert shows(lookup(d.code, d.pin), d)


def test_forged_forwarded_for_does_not_escape_the_lockout(register):
    d = register()
    for i in range(3):
        lookup(d.code, "bad", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}")
    assert lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="198.51.100.7").status_code == 429


def test_rate_limit_per_address(register, settings):
    settings.DOSSIER_LOOKUP_RATE = "3/min"
    d = register()
    for _ in range(3):
        assert shows(lookup(d.code, d.pin), d)
    response = lookup(d.code, d.pin)
    assert response.status_code == 429
    assert "Retry-After" in response


def test_staff_session_is_ignored_and_post_needs_no_csrf_token(register, staff):
    d = register()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(staff["intake"])
    assert shows(lookup(d.code, d.pin, client=client), d)
    assert client.put(URL, {"code": d.code, "pin": d.pin}).status_code == 405


def test_the_pin_in_the_url_still_works_but_is_deprecated(register):
    d = register()
    response = APIClient().get(URL, {"code": d.code, "pin": d.pin})
    assert response.status_code == 200
    assert response["Deprecation"] == "true"
    assert response.json()["code"] == d.code
    assert "Deprecation" not in lookup(d.code, d.pin)


def test_the_schema_documents_post_and_marks_get_deprecated(client):
    schema = client.get("/api/schema/?format=json").json()
    operations = schema["paths"]["/api/v1/dossiers/lookup/"]
    assert operations["get"]["deprecated"] is True
    body = operations["post"]["requestBody"]["content"]["application/json"]["schema"]
    assert body["$ref"].endswith("/LookupQuery")
    assert "parameters" not in operations["post"] or not any(
        p["name"] == "pin" for p in operations["post"]["parameters"]
    )


def test_behind_a_trusted_proxy_the_api_throttle_counts_each_client(register, settings):
    """One setting (TRUSTED_PROXY_COUNT) for the portal, DRF and axes alike."""
    settings.DOSSIER_LOOKUP_RATE = "2/min"
    settings.TRUSTED_PROXY_COUNT = 1
    d = register()
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(2):
        assert shows(lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy), d)
    assert lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="198.51.100.1", **proxy).status_code == 429
    # Another client behind the same proxy is not held back ...
    assert shows(lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="198.51.100.2", **proxy), d)
    # ... and a spoofed left-hand entry does not buy a fresh counter.
    assert (
        lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="1.2.3.4, 198.51.100.1", **proxy).status_code
        == 429
    )


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(register, settings):
    settings.DOSSIER_LOOKUP_RATE = "2/min"
    settings.TRUSTED_PROXY_COUNT = 0
    d = register()
    for i in range(2):
        lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}")
    assert lookup(d.code, d.pin, HTTP_X_FORWARDED_FOR="198.51.100.99").status_code == 429


def _orm_answer(dossier) -> dict:
    """The documented serializer over the ORM's rows: what the fast path must equal."""
    from procedures.dossiers.serializers import LookupSerializer
    from procedures.models import Dossier

    d = Dossier.objects.select_related("procedure").get(pk=dossier.pk)
    events = d.events.order_by("at", "id")
    return json.loads(json.dumps(LookupSerializer(d, context={"events": events}).data, default=str))


@pytest.mark.parametrize("language", ["vi", "en", "en-US,en;q=0.9"])
def test_the_answer_equals_the_documented_serializer_in_every_state(
    register, staff, processed, language
):
    """The look-up's one fixed statement and direct answer give what LookupSerializer
    over the ORM's rows gives: received, waiting for papers, for payment, returned
    and rated, in both languages."""
    from django.utils import translation

    from procedures.dossiers.lookup_selectors import lookup_dossier
    from procedures.dossiers.ratings import rating_submit
    from procedures.dossiers.serializers import lookup_payload

    fresh = register()
    asked = register()
    pin = asked.pin
    asked = svc.dossier_request_supplement(dossier=asked, actor=staff["intake"], reason="Thiếu")
    asked.pin = pin
    paying = register()
    pin = paying.pin
    paying = svc.dossier_accept(dossier=paying, actor=staff["intake"])
    paying = svc.dossier_request_payment(dossier=paying, actor=staff["intake"], note="Nộp phí")
    paying.pin = pin
    rating_submit(dossier=processed, overall="satisfied", timeliness=2)
    for d in (fresh, asked, paying, processed):
        answer = lookup(d.code, d.pin, HTTP_ACCEPT_LANGUAGE=language)
        assert answer.status_code == 200
        with translation.override(answer["Content-Language"]):
            expected = _orm_answer(d)
        assert answer.json() == expected
        # And in the other language, called directly (the API may answer in one only).
        with translation.override("vi" if answer["Content-Language"] != "vi" else "en"):
            dossier, events = lookup_dossier(f" {d.code.lower()} ")
            direct = json.loads(json.dumps(lookup_payload(dossier, events), default=str))
            assert direct == _orm_answer(d)
    assert expected["timeline"][-1]["action"] == Action.RATE
    assert expected["on_time_result"] and expected["outcome_label"]


def test_the_rate_limit_counts_malformed_requests_first(register, settings):
    """The rate counter and the failure counters are one round trip now; the order of
    the answers is DRF's as before: over the rate 429, then a missing PIN 400."""
    settings.DOSSIER_LOOKUP_RATE = "2/min"
    client = APIClient()
    assert client.post(URL, {"code": "X"}, format="json").status_code == 400
    assert client.post(URL, {"code": "X"}, format="json").status_code == 400
    refused = client.post(URL, {"code": "X"}, format="json")
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    d = register()
    assert lookup(d.code, d.pin, client=client).status_code == 429
