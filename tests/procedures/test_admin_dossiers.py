"""The staff admin of dossiers: list, dossier page, action forms, registration, slips.

1 June 2026 is a Monday; office hours 07:00-11:30, 13:30-17:00. Admin requests run
with the clock stopped at NOW (Tuesday 2 June, 09:00).
"""

import io
import re

import pypdf
import pytest
import time_machine
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext, override_settings
from django.urls import NoReverseMatch, reverse

from procedures.core.constants import Action, Channel, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.dossiers.actions import TRANSITIONS
from procedures.dossiers.admin.forms import dossier_actions_available
from procedures.dossiers.documents import document_store
from procedures.models import Dossier, DossierEvent, RequiredDocument
from tests.files import minimal_pdf

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 2, 9, 0)
PDF = minimal_pdf()  # a real PDF: the upload checks read its structure
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32

# From which statuses each transition is legal: the registry of actions.
ACTION_STATUSES = {action: a.sources for action, a in TRANSITIONS.items()}


@pytest.fixture(autouse=True)
def clock():
    with time_machine.travel(NOW, tick=False):
        yield


def changelist_url(**params):
    url = reverse("admin:procedures_dossier_changelist")
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def detail_url(d):
    return reverse("admin:procedures_dossier_change", args=[d.pk])


def action_url(d, action):
    return reverse("admin:procedures_dossier_action", args=[d.pk, action])


def codes_in(response) -> set[str]:
    return set(re.findall(r"(?:DK-)?H56\.16-\d{6}-\d{4}", response.content.decode()))


def buttons(response) -> set[str]:
    return set(re.findall(r'data-action="([a-z_]+)"', response.content.decode()))


# ------------------------------------------------------------------ dossiers in each status


def make(status, *, register, staff, units, **kw):
    """A dossier in `status`, reached through the services as staff would."""
    intake, head = staff["intake"], staff["unit_head"]
    d = register(now=at(2026, 6, 1, 9, 0), **kw)
    if status == S.SUBMITTED:
        return d
    if status == S.REFUSED_AT_INTAKE:
        return svc.dossier_refuse_intake(
            dossier=d, actor=intake, reason="Không thuộc thẩm quyền", now=at(2026, 6, 1, 9, 30)
        )
    if status == S.WITHDRAWN:
        return svc.dossier_withdraw(
            dossier=d, actor=intake, reason="Rút", now=at(2026, 6, 1, 9, 30)
        )
    d = svc.dossier_accept(dossier=d, actor=intake, now=at(2026, 6, 1, 10, 0))
    if status == S.ACCEPTED:
        return d
    d = svc.dossier_assign(
        dossier=d,
        actor=intake,
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 1, 10, 30),
    )
    if status == S.PROCESSING:
        return d
    if status == S.SUPPLEMENT_REQUESTED:
        return svc.dossier_request_supplement(
            dossier=d, actor=intake, reason="Thiếu bản sao", now=at(2026, 6, 1, 11, 0)
        )
    if status == S.PAYMENT_REQUESTED:
        return svc.dossier_request_payment(
            dossier=d, actor=intake, note="Nộp phí 1.200.000 đồng", now=at(2026, 6, 1, 11, 0)
        )
    if status == S.STOPPED:
        return svc.dossier_stop(dossier=d, actor=head, reason="Dừng", now=at(2026, 6, 1, 11, 0))
    d = svc.dossier_resolve(
        dossier=d, actor=head, outcome=Outcome.GRANTED, now=at(2026, 6, 1, 14, 0)
    )
    if status == S.FINISHED:
        return d
    return svc.dossier_return_result(dossier=d, actor=intake, now=at(2026, 6, 1, 15, 0))


@pytest.fixture
def make_dossier(register, staff, units):
    def _make(status, **kw):
        return make(status, register=register, staff=staff, units=units, **kw)

    return _make


# ------------------------------------------------------------------ the list


def test_list_query_count_does_not_grow_with_rows(
    client, staff, make_dossier, django_assert_num_queries
):
    for status in [S.SUBMITTED, S.PROCESSING, S.FINISHED]:
        make_dossier(status)
    client.force_login(staff["director"])
    with CaptureQueriesContext(connection) as few:
        assert client.get(changelist_url()).status_code == 200
    for status in [S.SUBMITTED, S.ACCEPTED, S.PROCESSING, S.PAYMENT_REQUESTED, S.FINISHED] * 4:
        make_dossier(status)
    client.force_login(staff["director"])
    # session, user, groups, permissions x2, 4 filter choice lists, count, page
    with django_assert_num_queries(11):
        response = client.get(changelist_url())
    assert len(few.captured_queries) == 11
    assert len(codes_in(response)) == 23


def test_filtered_list_query_count_for_a_specialist(
    client, staff, make_dossier, django_assert_num_queries
):
    for _ in range(6):
        make_dossier(S.PROCESSING)
    make_dossier(S.SUBMITTED)
    client.force_login(staff["specialist"])
    # as above plus the staff profile (the unit decides what a specialist sees)
    with django_assert_num_queries(12):
        response = client.get(changelist_url(status=S.PROCESSING))
    assert len(codes_in(response)) == 6


def test_list_never_counts_the_whole_table(client, staff, make_dossier):
    make_dossier(S.PROCESSING)
    client.force_login(staff["director"])
    with CaptureQueriesContext(connection) as ctx:
        client.get(changelist_url())
    counts = [q["sql"] for q in ctx.captured_queries if "COUNT(" in q["sql"].upper()]
    assert len(counts) == 1
    if connection.vendor == "postgresql":
        assert "reltuples" in counts[0]
    else:  # SQLite has no statistics: a bounded count
        assert "LIMIT" in counts[0].upper()


@override_settings(ADMIN_DOSSIER_COUNT_LIMIT=3)
def test_filtered_count_stops_at_the_limit(client, staff, make_dossier):
    for _ in range(5):
        make_dossier(S.SUBMITTED)
    client.force_login(staff["intake"])
    response = client.get(changelist_url(status=S.SUBMITTED))
    assert "More than 3 dossiers" in response.content.decode()
    assert len(codes_in(response)) == 5  # all rows still listed (one page)


@override_settings(ADMIN_DOSSIER_COUNT_LIMIT=2)
def test_unfiltered_count_is_the_planner_estimate_on_postgresql(
    require_postgres, client, staff, make_dossier
):
    for _ in range(3):
        make_dossier(S.SUBMITTED)
    client.force_login(staff["director"])
    # Never analysed: reltuples is -1, so a bounded exact count stands in.
    assert "More than 2 dossiers" in client.get(changelist_url()).content.decode()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE procedures_dossier")
    # Analysed: the statistics give the figure, shown as an estimate.
    assert "About 3 dossiers" in client.get(changelist_url()).content.decode()


def test_filters(client, staff, units, make_dossier, procedure, trade_field):
    submitted = make_dossier(S.SUBMITTED)
    processing = make_dossier(S.PROCESSING)
    finished = make_dossier(S.FINISHED)
    postal = make_dossier(S.SUBMITTED, channel=Channel.POSTAL)
    client.force_login(staff["director"])

    def listed(**params):
        response = client.get(changelist_url(**params))
        assert response.status_code == 200
        return codes_in(response)

    every = {submitted.code, processing.code, finished.code, postal.code}
    assert listed() == every
    assert listed(status=S.PROCESSING) == {processing.code}
    assert listed(procedure__field__id__exact=trade_field.pk) == every
    assert listed(procedure__id__exact=procedure.pk) == every
    assert listed(assigned_unit__id__exact=units["QLTM"].pk) == {processing.code, finished.code}
    assert listed(assigned_officer__id__exact=staff["specialist"].pk) == {
        processing.code,
        finished.code,
    }
    assert listed(channel__exact=Channel.POSTAL) == {postal.code}
    assert listed(on_time_result__exact="early") == {finished.code}
    # Due Monday 8 June 10:00 for both accepted dossiers.
    assert listed(due_from="2026-06-08", due_to="2026-06-08") == {processing.code, finished.code}
    assert listed(due_from="2026-06-09") == set()
    assert listed(due_to="2026-06-07") == set()
    assert listed(queue="awaiting_intake") == {submitted.code, postal.code}
    assert listed(queue="mine") == set()  # nothing is assigned to the director
    # a bad date is the admin's "incorrect lookup" redirect, not a crash
    assert client.get(changelist_url(due_from="08-06-2026")).status_code == 302


def test_search_by_code_id_number_and_name(client, staff, make_dossier):
    a = make_dossier(S.SUBMITTED)
    b = make_dossier(
        S.SUBMITTED,
        applicant=svc.Applicant(
            type="organisation", name="Công ty TNHH Gốm Sứ Hoàng Gia", id_number="4600123459-001"
        ),
    )
    client.force_login(staff["intake"])
    assert codes_in(client.get(changelist_url(q=a.code))) == {a.code}
    assert codes_in(client.get(changelist_url(q=a.code.lower()))) == {a.code}
    assert codes_in(client.get(changelist_url(q="4600123459-001"))) == {b.code}
    assert codes_in(client.get(changelist_url(q="001099012345"))) == {a.code}
    assert codes_in(client.get(changelist_url(q="Hoàng Gia"))) == {b.code}
    assert codes_in(client.get(changelist_url(q="-0001"))) == {a.code}


def test_exact_code_search_is_an_equality(client, staff, make_dossier):
    a = make_dossier(S.SUBMITTED)
    client.force_login(staff["intake"])
    with CaptureQueriesContext(connection) as ctx:
        client.get(changelist_url(q=a.code))
    page = [
        q["sql"] for q in ctx.captured_queries if '"code" =' in q["sql"] or '"code" IN' in q["sql"]
    ]
    assert page, "the full code must hit the unique index"
    assert not any("LIKE" in q.upper() for q in page)


# ------------------------------------------------------------------ who sees what


def test_specialist_of_another_unit_cannot_see_or_act(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)  # assigned to QLTM
    doc = document_store(
        dossier=d,
        upload=svc.UploadedDocument(
            slot_id=None, name="a.pdf", content=PDF, content_type="application/pdf"
        ),
    )
    for key in ["other_specialist", "other_head"]:
        client.force_login(staff[key])
        assert d.code not in codes_in(client.get(changelist_url()))
        assert client.get(detail_url(d)).status_code == 404
        assert client.get(action_url(d, Action.COMPLETE_STEP)).status_code == 404
        response = client.post(action_url(d, Action.COMPLETE_STEP), {"expected_version": d.version})
        assert response.status_code == 404
        assert (
            client.get(reverse("admin:procedures_dossier_slip", args=[d.pk, "control"])).status_code
            == 404
        )
        assert (
            client.get(
                reverse("admin:procedures_dossier_document", args=[d.pk, doc.pk])
            ).status_code
            == 404
        )
    d.refresh_from_db()
    # only the desk's intake step, ended by the transfer to the unit
    assert list(d.steps.filter(completed_at__isnull=False).values_list("order", flat=True)) == [1]
    # the specialist of the unit sees it
    client.force_login(staff["specialist"])
    assert d.code in codes_in(client.get(changelist_url()))
    assert client.get(detail_url(d)).status_code == 200


def test_catalogue_admin_has_no_access_to_dossiers(client, staff, make_dossier):
    d = make_dossier(S.SUBMITTED)
    client.force_login(staff["catalogue_admin"])
    assert client.get(changelist_url()).status_code == 403
    assert client.get(detail_url(d)).status_code == 403
    assert client.get(reverse("admin:procedures_dashboard")).status_code == 403
    assert client.get(reverse("admin:procedures_dossier_add")).status_code == 403


# Exactly the buttons each role may press, per status (None: the dossier is invisible).
INTAKE, SPEC, HEAD, DIR = "intake", "specialist", "unit_head", "director"
EXPECTED_BUTTONS = {
    S.SUBMITTED: {
        INTAKE: {"accept", "refuse_intake", "request_supplement", "withdraw"},
        SPEC: None,
        HEAD: None,
        DIR: set(),
    },
    S.ACCEPTED: {  # not yet assigned to a unit
        INTAKE: {"request_supplement", "request_payment", "assign", "complete_step", "withdraw"},
        SPEC: None,
        HEAD: None,
        DIR: {"assign", "complete_step", "apologise", "resolve", "stop"},
    },
    S.PROCESSING: {
        INTAKE: {"request_supplement", "request_payment", "assign", "complete_step", "withdraw"},
        SPEC: {"request_supplement", "request_payment", "complete_step"},
        HEAD: {
            "request_supplement",
            "request_payment",
            "assign",
            "complete_step",
            "apologise",
            "resolve",
            "stop",
        },
        DIR: {"assign", "complete_step", "apologise", "resolve", "stop"},
    },
    S.SUPPLEMENT_REQUESTED: {
        INTAKE: {"receive_supplement", "assign", "withdraw"},
        SPEC: set(),
        HEAD: {"assign", "stop"},
        DIR: {"assign", "stop"},
    },
    S.PAYMENT_REQUESTED: {  # no apology while the clock is paused (legal-rules.md)
        INTAKE: {"confirm_payment", "assign", "withdraw"},
        SPEC: set(),
        HEAD: {"assign", "stop"},
        DIR: {"assign", "stop"},
    },
    S.FINISHED: {INTAKE: {"return_result"}, SPEC: set(), HEAD: set(), DIR: set()},
    S.RETURNED: {INTAKE: set(), SPEC: set(), HEAD: set(), DIR: set()},
    S.STOPPED: {INTAKE: set(), SPEC: set(), HEAD: set(), DIR: set()},
    S.REFUSED_AT_INTAKE: {INTAKE: set(), SPEC: None, HEAD: None, DIR: set()},
    S.WITHDRAWN: {INTAKE: set(), SPEC: None, HEAD: None, DIR: set()},
}


@pytest.mark.parametrize("status", list(EXPECTED_BUTTONS), ids=lambda s: S(s).name)
def test_buttons_are_exactly_what_the_role_may_do(client, staff, make_dossier, status):
    d = make_dossier(status)
    assert d.status == status
    for role, expected in EXPECTED_BUTTONS[status].items():
        client.force_login(staff[role])
        response = client.get(detail_url(d))
        if expected is None:
            assert response.status_code == 404, role
            continue
        assert response.status_code == 200, role
        assert buttons(response) == expected, role
        # and every other action's form is refused outright
        for action in set(ACTION_STATUSES) - expected:
            assert client.get(action_url(d, action)).status_code == 403, (role, action)


def test_no_apology_button_once_the_appointment_was_moved(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    svc.dossier_apologise(
        dossier=d,
        actor=staff["unit_head"],
        new_due_at=at(2026, 6, 10, 10, 0),
        reason="Chờ xác minh",
        now=at(2026, 6, 2, 8, 0),
    )
    client.force_login(staff["unit_head"])
    shown = buttons(client.get(detail_url(d)))
    assert "apologise" not in shown and "resolve" in shown


def test_superuser_sees_every_possible_action(client, make_dossier):
    d = make_dossier(S.PROCESSING)
    admin = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    client.force_login(admin)
    assert buttons(client.get(detail_url(d))) == {
        a for a, statuses in ACTION_STATUSES.items() if S.PROCESSING in statuses
    }


# The button table must agree with the services: every action from every status.
def _call(action, d, actor, units, staff):
    kw = {"dossier": d, "actor": actor, "now": at(2026, 6, 2, 8, 0)}
    if action in (Action.REFUSE_INTAKE, Action.REQUEST_SUPPLEMENT, Action.STOP):
        kw["reason"] = "Lý do"
    if action == Action.REQUEST_PAYMENT:
        kw["note"] = "Phí"
    if action == Action.ASSIGN:
        kw["unit"] = units["QLTM"]
    if action == Action.APOLOGISE:
        kw.update(reason="Chậm", new_due_at=at(2026, 6, 30, 10, 0))
    if action == Action.RESOLVE:
        kw["outcome"] = Outcome.GRANTED
    service = {
        Action.ACCEPT: svc.dossier_accept,
        Action.REFUSE_INTAKE: svc.dossier_refuse_intake,
        Action.REQUEST_SUPPLEMENT: svc.dossier_request_supplement,
        Action.RECEIVE_SUPPLEMENT: svc.dossier_receive_supplement,
        Action.REQUEST_PAYMENT: svc.dossier_request_payment,
        Action.CONFIRM_PAYMENT: svc.dossier_confirm_payment,
        Action.ASSIGN: svc.dossier_assign,
        Action.COMPLETE_STEP: svc.dossier_complete_step,
        Action.APOLOGISE: svc.dossier_apologise,
        Action.RESOLVE: svc.dossier_resolve,
        Action.RETURN_RESULT: svc.dossier_return_result,
        Action.WITHDRAW: svc.dossier_withdraw,
        Action.STOP: svc.dossier_stop,
    }[action]
    service(**kw)


@pytest.mark.parametrize("status", list(EXPECTED_BUTTONS), ids=lambda s: S(s).name)
def test_status_table_agrees_with_the_services(staff, units, make_dossier, status):
    root = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    for action, allowed in ACTION_STATUSES.items():
        d = make_dossier(status)
        try:
            _call(action, d, root, units, staff)
        except DomainError as exc:
            if status in allowed:
                assert exc.code != "illegal_transition", (action, exc.message)
            else:
                assert exc.code == "illegal_transition", (action, exc.message)
        else:
            assert status in allowed, action


def test_actions_available_needs_no_query(staff, make_dossier, django_assert_num_queries):
    d = make_dossier(S.PROCESSING)
    user = staff["unit_head"]
    dossier_actions_available(dossier=d, user=user)  # warms the user's roles
    with django_assert_num_queries(0):
        assert "resolve" in dossier_actions_available(dossier=d, user=user, has_open_step=True)


# ------------------------------------------------------------------ the dossier page


def test_dossier_page_shows_timeline_documents_steps_and_due(
    client, staff, make_dossier, django_assert_num_queries
):
    d = make_dossier(S.PROCESSING)
    document_store(
        dossier=d,
        upload=svc.UploadedDocument(
            slot_id=None, name="giay-phep.pdf", content=PDF, content_type="application/pdf"
        ),
        actor=staff["intake"],
    )
    client.force_login(staff["specialist"])
    client.get(detail_url(d))
    # session, user, groups, profile, permissions x2, dossier, slots, steps, documents,
    # events, attachments
    with django_assert_num_queries(12):
        response = client.get(detail_url(d))
    html = response.content.decode()
    for text in [
        "Nguyễn Văn An",
        "Cấp Giấy phép bán lẻ sản phẩm rượu",
        "Tiếp nhận, chuyển hồ sơ",
        "Thẩm định",
        "Ký duyệt",
        "giay-phep.pdf",
        "10:00 08/06/2026",
        "Registered",
        "Accepted",
        "Assigned",
        "Phòng Quản lý Thương mại",
        "Cán bộ specialist",
    ]:
        assert text in html, text
    timeline = html[html.index('id="dossier-timeline"') :]
    assert timeline.index("Registered") < timeline.index("Accepted") < timeline.index("Assigned")
    assert 'name="status"' not in html and 'name="due_at"' not in html


def test_dossier_page_is_read_only(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    before = (d.status, d.due_at, d.version)
    client.force_login(staff["director"])
    response = client.post(detail_url(d), {"status": S.FINISHED, "due_at": "2030-01-01 00:00"})
    assert response.status_code == 405
    assert client.post(reverse("admin:procedures_dossier_delete", args=[d.pk])).status_code == 403
    d.refresh_from_db()
    assert (d.status, d.due_at, d.version) == before
    # events and documents have no admin pages at all: they are append-only evidence
    for name in [
        "procedures_dossierevent_change",
        "procedures_dossierdocument_change",
        "procedures_dossierstep_change",
    ]:
        with pytest.raises(NoReverseMatch):
            reverse(f"admin:{name}", args=[1])
    history = client.get(reverse("admin:procedures_dossier_history", args=[d.pk]))
    assert history.status_code == 302


def test_document_download_for_staff_who_may_see(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    doc = document_store(
        dossier=d,
        upload=svc.UploadedDocument(
            slot_id=None, name="Đơn đề nghị.pdf", content=PDF, content_type="application/pdf"
        ),
    )
    client.force_login(staff["unit_head"])
    response = client.get(reverse("admin:procedures_dossier_document", args=[d.pk, doc.pk]))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Disposition"].startswith("attachment;")
    assert response["X-Content-Type-Options"] == "nosniff"
    other = make_dossier(S.SUBMITTED)
    # a document id of another dossier through this dossier's URL is not found
    assert (
        client.get(
            reverse("admin:procedures_dossier_document", args=[other.pk, doc.pk])
        ).status_code
        == 404
    )


# ------------------------------------------------------------------ action forms


def test_intake_accepts_and_is_offered_the_receipt(client, staff, make_dossier):
    d = make_dossier(S.SUBMITTED)
    client.force_login(staff["intake"])
    page = client.get(action_url(d, Action.ACCEPT))
    assert f'name="expected_version" value="{d.version}"' in page.content.decode()
    response = client.post(
        action_url(d, Action.ACCEPT), {"expected_version": d.version}, follow=True
    )
    d.refresh_from_db()
    assert d.status == S.ACCEPTED and d.accepted_at == NOW
    html = response.content.decode()
    assert reverse("admin:procedures_dossier_slip", args=[d.pk, "receipt"]) in html
    assert DossierEvent.objects.filter(
        dossier=d, action=Action.ACCEPT, actor=staff["intake"]
    ).exists()


def test_each_role_acts_through_its_forms(client, staff, units, make_dossier):
    d = make_dossier(S.ACCEPTED)
    client.force_login(staff["intake"])
    client.post(
        action_url(d, Action.ASSIGN),
        {
            "expected_version": d.version,
            "unit": units["QLTM"].pk,
            "officer": staff["specialist"].pk,
            "note": "Chuyển phòng QLTM",
        },
    )
    d.refresh_from_db()
    assert (d.status, d.assigned_unit, d.assigned_officer) == (
        S.PROCESSING,
        units["QLTM"],
        staff["specialist"],
    )
    client.force_login(staff["specialist"])
    client.post(
        action_url(d, Action.COMPLETE_STEP), {"expected_version": d.version, "note": "Đã thẩm định"}
    )
    # the desk's step ended with the transfer; the specialist handed over the appraisal
    assert d.steps.get(order=1).completed_by == staff["intake"]
    assert d.steps.get(order=2).completed_by == staff["specialist"]
    d.refresh_from_db()
    client.force_login(staff["unit_head"])
    response = client.post(
        action_url(d, Action.APOLOGISE),
        {
            "expected_version": d.version,
            "new_due_at": "2026-06-12T16:00",
            "reason": "Cần xác minh tại cơ sở",
        },
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.due_at == at(2026, 6, 12, 16, 0) and d.reappointment_count == 1
    result = SimpleUploadedFile("giay-phep.pdf", PDF, content_type="application/pdf")
    client.post(
        action_url(d, Action.RESOLVE),
        {"expected_version": d.version, "outcome": Outcome.GRANTED, "note": "", "files": [result]},
    )
    d.refresh_from_db()
    assert d.status == S.FINISHED and d.outcome == Outcome.GRANTED
    assert d.documents.get(is_result=True).original_name == "giay-phep.pdf"
    client.force_login(staff["intake"])
    client.post(action_url(d, Action.RETURN_RESULT), {"expected_version": d.version})
    d.refresh_from_db()
    assert d.status == S.RETURNED


def test_supplement_received_at_the_desk_with_files(client, staff, make_dossier):
    d = make_dossier(S.SUPPLEMENT_REQUESTED)
    client.force_login(staff["intake"])
    files = [SimpleUploadedFile("ban-sao.pdf", PDF), SimpleUploadedFile("anh.png", PNG)]
    response = client.post(
        action_url(d, Action.RECEIVE_SUPPLEMENT),
        {"expected_version": d.version, "files": files, "note": "Nộp tại quầy"},
    )
    assert response.status_code == 302
    d.refresh_from_db()
    assert d.status == S.PROCESSING
    assert sorted(d.documents.values_list("original_name", flat=True)) == ["anh.png", "ban-sao.pdf"]


def test_a_renamed_file_is_refused_by_its_content(client, staff, make_dossier):
    d = make_dossier(S.SUPPLEMENT_REQUESTED)
    client.force_login(staff["intake"])
    fake = SimpleUploadedFile("ban-sao.pdf", b"MZ\x90\x00 not a pdf")
    response = client.post(
        action_url(d, Action.RECEIVE_SUPPLEMENT), {"expected_version": d.version, "files": [fake]}
    )
    assert response.status_code == 200
    assert "content was checked" in response.content.decode()
    d.refresh_from_db()
    assert d.status == S.SUPPLEMENT_REQUESTED and not d.documents.exists()


def test_service_refusals_are_shown_on_the_form(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    client.force_login(staff["unit_head"])
    # the new appointment must be later than the current due (Mon 8 June 10:00)
    response = client.post(
        action_url(d, Action.APOLOGISE),
        {"expected_version": d.version, "new_due_at": "2026-06-05T10:00", "reason": "Chậm"},
    )
    assert response.status_code == 200
    assert "must be later than the current due time" in response.content.decode()
    assert response.context["form"].errors["new_due_at"]
    # a refusal of a resolution needs its reasons
    response = client.post(
        action_url(d, Action.RESOLVE),
        {"expected_version": d.version, "outcome": Outcome.REFUSED, "note": ""},
    )
    assert "must state its reasons" in response.content.decode()
    d.refresh_from_db()
    assert d.status == S.PROCESSING and d.reappointment_count == 0


def test_a_stale_form_gets_a_conflict_and_changes_nothing(client, staff, make_dossier):
    d = make_dossier(S.SUBMITTED)
    stale = d.version
    svc.dossier_request_supplement(
        dossier=d, actor=staff["intake"], reason="Thiếu", now=at(2026, 6, 1, 9, 10)
    )
    svc.dossier_receive_supplement(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 9, 20))
    client.force_login(staff["intake"])
    response = client.post(action_url(d, Action.ACCEPT), {"expected_version": stale})
    assert response.status_code == 200
    assert "was changed by someone else" in response.content.decode()
    d.refresh_from_db()
    assert d.status == S.SUBMITTED


def test_role_cannot_post_an_action_it_may_not_do(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    client.force_login(staff["specialist"])
    response = client.post(
        action_url(d, Action.RESOLVE), {"expected_version": d.version, "outcome": Outcome.GRANTED}
    )
    assert response.status_code == 403
    d.refresh_from_db()
    assert d.status == S.PROCESSING
    assert client.get(action_url(d, "nonsense")).status_code == 404


# ------------------------------------------------------------------ registration at the desk


@pytest.fixture
def slots(procedure):
    return [
        RequiredDocument.objects.create(
            procedure=procedure, order=1, name="Đơn đề nghị", mandatory=True
        ),
        RequiredDocument.objects.create(
            procedure=procedure,
            order=2,
            name="Bản sao đăng ký kinh doanh",
            kind="copy",
            mandatory=True,
        ),
    ]


def register_data(procedure, **extra):
    return {
        "procedure": procedure.pk,
        "applicant_type": "individual",
        "applicant_name": "Trần Thị Bình",
        "applicant_id_number": "001199003456",
        "applicant_address": "Tổ 5, phường Gia Sàng",
        "applicant_phone": "0988000111",
        "applicant_email": "binh@example.com",
        "applicant_language": "vi",
        "channel": Channel.DIRECT,
        "result_delivery": "desk",
        "note": "",
        **extra,
    }


def test_register_at_the_desk_with_files_per_slot_and_accept(client, staff, procedure, slots):
    client.force_login(staff["intake"])
    add = reverse("admin:procedures_dossier_add")
    step1 = client.get(add)
    assert "Đơn đề nghị" not in step1.content.decode()
    step2 = client.get(f"{add}?procedure={procedure.pk}").content.decode()
    assert f'name="slot_{slots[0].pk}"' in step2 and f'name="slot_{slots[1].pk}"' in step2
    data = register_data(
        procedure,
        accept_now="on",
        **{
            f"slot_{slots[0].pk}": [SimpleUploadedFile("don.pdf", PDF)],
            f"slot_{slots[1].pk}": [
                SimpleUploadedFile("dkkd-1.png", PNG),
                SimpleUploadedFile("dkkd-2.png", PNG),
            ],
        },
    )
    response = client.post(add, data, follow=True)
    d = Dossier.objects.get(applicant_name="Trần Thị Bình")
    assert d.status == S.ACCEPTED and d.channel == Channel.DIRECT
    assert d.received_by == staff["intake"] and d.submitted_at == NOW
    assert {(doc.slot_id, doc.original_name) for doc in d.documents.all()} == {
        (slots[0].pk, "don.pdf"),
        (slots[1].pk, "dkkd-1.png"),
        (slots[1].pk, "dkkd-2.png"),
    }
    html = response.content.decode()
    pin = re.search(r"Look-up PIN for the applicant: (\d{8})", html).group(1)
    assert svc.pin_matches(dossier=d, pin=pin)
    # the receipt printed from this session carries the PIN; nowhere else is it kept
    receipt = client.get(reverse("admin:procedures_dossier_slip_pdf", args=[d.pk, "receipt"]))
    text = " ".join(
        "".join(
            p.extract_text() for p in pypdf.PdfReader(io.BytesIO(receipt.content)).pages
        ).split()
    )
    assert pin in text and "Trần Thị Bình" in text and "09:00, 09/06/2026" in text
    client.force_login(staff["director"])
    receipt = client.get(reverse("admin:procedures_dossier_slip_pdf", args=[d.pk, "receipt"]))
    assert pin.encode() not in receipt.content


def test_register_keeps_input_and_reports_errors_per_field(client, staff, procedure, slots):
    client.force_login(staff["intake"])
    add = reverse("admin:procedures_dossier_add")
    data = register_data(
        procedure,
        applicant_id_number="12345",
        **{f"slot_{slots[0].pk}": [SimpleUploadedFile("don.pdf", b"not a pdf at all")]},
    )
    response = client.post(add, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert f"slot_{slots[0].pk}" in form.errors
    assert not Dossier.objects.exists()
    # fix the file; the service then refuses the ID number, on its field
    data[f"slot_{slots[0].pk}"] = [SimpleUploadedFile("don.pdf", PDF)]
    response = client.post(add, data)
    assert "12 digits" in str(response.context["form"].errors["applicant_id_number"])
    assert 'value="Trần Thị Bình"' in response.content.decode()
    assert not Dossier.objects.exists()


def test_register_without_a_mandatory_paper_warns(client, staff, procedure, slots):
    client.force_login(staff["intake"])
    response = client.post(
        reverse("admin:procedures_dossier_add"), register_data(procedure), follow=True
    )
    d = Dossier.objects.get()
    assert d.status == S.SUBMITTED
    assert (
        "No file for these mandatory papers: Đơn đề nghị; Bản sao đăng ký kinh doanh"
        in response.content.decode()
    )


def test_only_the_desk_registers(client, staff, procedure):
    client.force_login(staff["specialist"])
    assert client.get(reverse("admin:procedures_dossier_add")).status_code == 403
    client.force_login(staff["intake"])
    page = client.get(changelist_url()).content.decode()
    assert reverse("admin:procedures_dossier_add") in page


# ------------------------------------------------------------------ slips through the admin


def test_slip_views(client, staff, make_dossier):
    d = make_dossier(S.PROCESSING)
    client.force_login(staff["specialist"])
    html = client.get(reverse("admin:procedures_dossier_slip", args=[d.pk, "control"]))
    assert html.status_code == 200 and b"<svg" not in html.content  # no QR on form 05
    assert "Thẩm định" in html.content.decode()
    pdf = client.get(reverse("admin:procedures_dossier_slip_pdf", args=[d.pk, "receipt"]))
    assert pdf["Content-Type"] == "application/pdf"
    assert f"{d.code}-01-receipt.pdf" in pdf["Content-Disposition"]
    # a slip that does not apply (no apology was made)
    assert (
        client.get(reverse("admin:procedures_dossier_slip", args=[d.pk, "apology"])).status_code
        == 404
    )
    detail = client.get(detail_url(d)).content.decode()
    assert reverse("admin:procedures_dossier_slip", args=[d.pk, "receipt"]) in detail
    assert reverse("admin:procedures_dossier_slip", args=[d.pk, "apology"]) not in detail
