"""Who may act on a recommendation (hardening issue, item 4).

The probe: a unit head edited another unit's recommendation, reassigned it to their
own unit and approved it; a specialist closed another unit's recommendation. Each
attack is replayed through the service, the staff pages and the admin, and must be
refused with nothing changed.
"""

import pytest
from django.urls import reverse

from dialogues import services
from dialogues.constants import AnswerKind, AnswerState, RecommendationStatus
from dialogues.models import Recommendation, RecommendationEvent
from procedures.catalogue.staff import roles_ensure_groups
from procedures.core.constants import Role
from procedures.core.errors import DomainError
from procedures.models import StaffProfile
from tests.dialogues_factories import (
    APPROVER_PERMS,
    STAFF_PERMS,
    RecommendationFactory,
    UnitFactory,
    UserFactory,
    local,
)

pytestmark = pytest.mark.django_db

NOW = local(2026, 3, 9, 10)
CONTENT = "Đề nghị rút ngắn thời gian cấp giấy phép bán lẻ xăng dầu."


def _member(username, *, role, unit, perms):
    user = UserFactory(username=username, perms=perms)
    user.groups.add(roles_ensure_groups()[role])
    StaffProfile.objects.create(user=user, unit=unit)
    return user


@pytest.fixture
def units(db):
    return (
        UnitFactory(code="QLTM", name="Phòng Quản lý thương mại"),
        UnitFactory(code="QLCN", name="Phòng Quản lý công nghiệp"),
    )


@pytest.fixture
def head(units):
    """Head of the trade unit (QLTM), with the approval permission."""
    return _member("truongphong", role=Role.UNIT_HEAD, unit=units[0], perms=APPROVER_PERMS)


@pytest.fixture
def specialist(units):
    return _member("chuyenvien-qltm", role=Role.SPECIALIST, unit=units[0], perms=STAFF_PERMS)


@pytest.fixture
def director(units):
    return _member("giamdoc", role=Role.DIRECTOR, unit=None, perms=APPROVER_PERMS)


@pytest.fixture
def other_units(units, staff):
    """A recommendation of the industry unit (QLCN), its answer awaiting approval."""
    recommendation = RecommendationFactory(content=CONTENT)
    services.recommendation_assign(
        recommendation_id=recommendation.pk, unit=units[1], by=staff, now=NOW
    )
    services.recommendation_answer_draft(
        recommendation_id=recommendation.pk,
        text="Trả lời của phòng QLCN",
        kind=AnswerKind.IN_WRITING,
        by=staff,
        now=NOW,
    )
    return Recommendation.objects.get(pk=recommendation.pk)


def _snapshot(recommendation):
    fresh = Recommendation.objects.get(pk=recommendation.pk)
    return (
        fresh.unit_id,
        fresh.status,
        fresh.answer_state,
        fresh.content,
        fresh.is_public,
        fresh.published_at,
        fresh.events.count(),
    )


def _refused(call):
    with pytest.raises(DomainError) as err:
        call()
    assert err.value.code == "permission"
    return err.value.message


# ------------------------------------------------------------------ the services


def test_a_unit_head_cannot_take_another_units_recommendation_and_approve_it(
    units, head, other_units
):
    before = _snapshot(other_units)
    rid = other_units.pk
    message = _refused(
        lambda: services.recommendation_edit(
            recommendation_id=rid, by=head, content="Nội dung đã sửa", field=None, contact_email=""
        )
    )
    assert message == (
        f"Recommendation #{rid} belongs to another unit: only that unit, the "
        "director or the one-stop desk may act on it."
    )
    message = _refused(
        lambda: services.recommendation_assign(recommendation_id=rid, unit=units[0], by=head)
    )
    assert message == (
        "Only the director or the one-stop desk gives a recommendation to a "
        "unit or moves it to another unit."
    )
    _refused(lambda: services.recommendation_answer_approve(recommendation_id=rid, by=head))
    _refused(
        lambda: services.recommendation_answer_reject(
            recommendation_id=rid, by=head, note="Sửa lại"
        )
    )
    assert _snapshot(other_units) == before


def test_a_specialist_cannot_close_or_otherwise_act_on_another_units_recommendation(
    units, specialist, other_units
):
    before = _snapshot(other_units)
    rid = other_units.pk
    for call in (
        lambda: services.recommendation_close(
            recommendation_id=rid, by=specialist, note="Trùng lặp"
        ),
        lambda: services.recommendation_resolve(recommendation_id=rid, by=specialist),
        lambda: services.recommendation_forward(
            recommendation_id=rid, by=specialist, authority="Bộ Công Thương"
        ),
        lambda: services.recommendation_answer_draft(
            recommendation_id=rid, by=specialist, text="Trả lời khác", kind=AnswerKind.IN_WRITING
        ),
        lambda: services.recommendation_set_public(
            recommendation_id=rid, by=specialist, is_public=False
        ),
        lambda: services.recommendation_assign(recommendation_id=rid, unit=units[1], by=specialist),
    ):
        _refused(call)
    assert _snapshot(other_units) == before


def test_an_unassigned_recommendation_is_given_to_a_unit_by_the_desk_or_the_director_only(
    units, head, director
):
    recommendation = RecommendationFactory(content=CONTENT)
    _refused(
        lambda: services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=units[0], by=head
        )
    )
    _refused(
        lambda: services.recommendation_answer_draft(
            recommendation_id=recommendation.pk, by=head, text="x", kind=AnswerKind.IN_WRITING
        )
    )
    assigned = services.recommendation_assign(
        recommendation_id=recommendation.pk, unit=units[0], by=director, now=NOW
    )
    assert assigned.unit == units[0]
    moved = services.recommendation_assign(
        recommendation_id=recommendation.pk, unit=units[1], by=director, now=NOW
    )
    assert moved.unit == units[1]


def test_a_unit_works_its_own_recommendations_to_the_end(units, head, specialist, staff):
    recommendation = RecommendationFactory(content=CONTENT)
    services.recommendation_assign(
        recommendation_id=recommendation.pk, unit=units[0], by=staff, now=NOW
    )
    services.recommendation_edit(
        recommendation_id=recommendation.pk,
        by=specialist,
        content=CONTENT + " (sửa lỗi chính tả)",
        field=None,
        contact_email="c@phubinh.vn",
        now=NOW,
    )
    services.recommendation_answer_draft(
        recommendation_id=recommendation.pk,
        by=specialist,
        text="Trả lời",
        kind=AnswerKind.IN_WRITING,
        now=NOW,
    )
    approved = services.recommendation_answer_approve(
        recommendation_id=recommendation.pk, by=head, now=NOW
    )
    assert approved.answer_state == AnswerState.APPROVED
    closed = services.recommendation_resolve(
        recommendation_id=recommendation.pk, by=specialist, now=NOW
    )
    assert closed.status == RecommendationStatus.RESOLVED
    edit = RecommendationEvent.objects.get(recommendation=recommendation, action="edit")
    assert (edit.actor, edit.note) == (specialist, "content, contact_email")


def test_bulk_assignment_by_a_unit_head_is_all_or_nothing(units, head, staff):
    own = RecommendationFactory(content=CONTENT)
    services.recommendation_assign(recommendation_id=own.pk, unit=units[0], by=staff, now=NOW)
    other = RecommendationFactory(content=CONTENT)
    services.recommendation_assign(recommendation_id=other.pk, unit=units[1], by=staff, now=NOW)
    _refused(
        lambda: services.recommendation_bulk_assign(
            recommendation_ids=[own.pk, other.pk], unit=units[0], by=head
        )
    )
    assert Recommendation.objects.get(pk=other.pk).unit == units[1]


# ------------------------------------------------------------------ the staff pages


def test_the_staff_pages_refuse_the_attacks(client, units, head, specialist, other_units):
    url = reverse("dialogues:staff-recommendation", args=[other_units.pk])
    before = _snapshot(other_units)
    client.force_login(head)
    response = client.post(url, {"action": "assign", "unit": units[0].pk}, follow=True)
    assert "Only the director or the one-stop desk gives a recommendation" in (
        response.content.decode()
    )
    client.post(url, {"action": "approve"})
    client.post(
        reverse("dialogues:staff-bulk-assign"), {"ids": [other_units.pk], "unit": units[0].pk}
    )
    client.force_login(specialist)
    response = client.post(url, {"action": "close", "note": "Trùng lặp"}, follow=True)
    assert "belongs to another unit" in response.content.decode()
    assert _snapshot(other_units) == before


# ------------------------------------------------------------------ the admin


def test_the_admin_opens_another_units_recommendation_read_only(client, head, other_units):
    url = reverse("admin:dialogues_recommendation_change", args=[other_units.pk])
    client.force_login(head)
    response = client.post(
        url, {"content": "Nội dung đã sửa", "field": "", "contact_email": "x@example.com"}
    )
    assert response.status_code == 403
    assert _snapshot(other_units)[3] == CONTENT


def test_the_admin_actions_refuse_the_attacks(client, units, head, other_units):
    before = _snapshot(other_units)
    changelist = reverse("admin:dialogues_recommendation_changelist")
    client.force_login(head)
    for action in ("approve_answers", "unpublish"):
        response = client.post(
            changelist, {"action": action, "_selected_action": [other_units.pk]}, follow=True
        )
        assert "belongs to another unit" in response.content.decode() or (
            "approves only the answers of their own unit" in response.content.decode()
        )
    response = client.post(
        changelist,
        {
            "action": "assign_to_unit",
            "_selected_action": [other_units.pk],
            "apply": "1",
            "unit": units[0].pk,
        },
        follow=True,
    )
    assert "Only the director or the one-stop desk" in response.content.decode()
    assert _snapshot(other_units) == before
