"""Answer deadlines, approval before publication, forwarding, history."""

import pytest
from django.db import IntegrityError

from dialogues import selectors, services
from dialogues.constants import (
    AnswerKind,
    AnswerState,
    RecommendationAction,
    RecommendationSource,
    RecommendationStatus,
)
from dialogues.models import Recommendation
from procedures.core.errors import DomainError
from tests.dialogues_factories import (
    RecommendationFactory,
    SessionFactory,
    UnitFactory,
    local,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def unit(db):
    return UnitFactory(
        code="QLTM", name="Phòng Quản lý thương mại", email="qltm@sct.example.gov.vn"
    )


class TestDeadline:
    def test_session_items_count_from_the_end_of_the_session(self, unit, staff):
        # Session Tue 3 Mar 2026 08:00-11:00, answer within 10 working days: the
        # clock starts at 11:00 and ends after 10 x 8 office hours, Tue 17 Mar 11:00.
        recommendation = RecommendationFactory(session=SessionFactory(answer_working_days=10))
        assigned = services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 2, 27, 9)
        )
        assert assigned.status == RecommendationStatus.ASSIGNED
        assert assigned.assigned_at == local(2026, 2, 27, 9)
        assert assigned.answer_due_at == local(2026, 3, 17, 11, 0)
        # Escalation 3 working days later.
        assert assigned.escalate_at == local(2026, 3, 20, 11, 0)

    def test_assigned_after_the_session_counts_from_the_assignment(self, unit, staff):
        recommendation = RecommendationFactory(session=SessionFactory(answer_working_days=5))
        assigned = services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 4, 24, 15, 0)
        )
        # Fri 24 Apr 15:00 + 5 working days. Mon 27 Apr (Hung Kings, observed),
        # Thu 30 Apr and Fri 1 May are holidays, so the days end at 15:00 on Tue 28,
        # Wed 29, Mon 4 May, Tue 5 and Wed 6 May.
        assert assigned.answer_due_at == local(2026, 5, 6, 15, 0)

    def test_between_sessions_uses_the_default(self, unit, staff, settings):
        settings.DIALOGUE_DEFAULT_ANSWER_WORKING_DAYS = 2
        recommendation = RecommendationFactory(between_sessions=True)
        assigned = services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 3, 6, 16, 0)
        )
        # Friday 16:00 + 2 working days = Tuesday 16:00.
        assert assigned.answer_due_at == local(2026, 3, 10, 16, 0)

    def test_reassignment_keeps_the_deadline(self, unit, staff):
        recommendation = RecommendationFactory()
        first = services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 3, 4, 9)
        )
        other = UnitFactory(code="KTATMT")
        second = services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=other, by=staff, now=local(2026, 3, 10, 9)
        )
        assert second.unit == other
        assert second.answer_due_at == first.answer_due_at


class TestApproval:
    def _drafted(self, unit, staff, kind=AnswerKind.IN_WRITING, **kwargs):
        recommendation = RecommendationFactory(**kwargs)
        services.recommendation_assign(
            recommendation_id=recommendation.pk, unit=unit, by=staff, now=local(2026, 3, 4, 9)
        )
        return services.recommendation_answer_draft(
            recommendation_id=recommendation.pk,
            text="Sở đã rút ngắn thời gian cấp phép xuống 10 ngày làm việc.",
            kind=kind,
            document_number="123/SCT-QLTM",
            by=staff,
            now=local(2026, 3, 9, 10),
        )

    def test_a_draft_is_not_published_until_approved(self, unit, staff, approver):
        recommendation = self._drafted(unit, staff)
        assert recommendation.answer_state == AnswerState.PENDING_APPROVAL
        assert recommendation.status == RecommendationStatus.ASSIGNED
        assert not selectors.recommendation_published_list().exists()

        approved = services.recommendation_answer_approve(
            recommendation_id=recommendation.pk, by=approver, now=local(2026, 3, 10, 14)
        )
        assert approved.status == RecommendationStatus.ANSWERED_IN_WRITING
        assert approved.answered_at == approved.published_at == local(2026, 3, 10, 14)
        assert approved.answer_approved_by == approver
        assert list(selectors.recommendation_published_list()) == [approved]

    def test_a_unit_head_approves_only_their_own_units_answers(self, unit, staff):
        from procedures.catalogue.staff import roles_ensure_groups
        from procedures.core.constants import Role
        from procedures.models import StaffProfile
        from tests.dialogues_factories import APPROVER_PERMS, UserFactory

        recommendation = self._drafted(unit, staff)
        groups = roles_ensure_groups()
        other_head = UserFactory(username="truongphong2", perms=APPROVER_PERMS)
        other_head.groups.add(groups[Role.UNIT_HEAD])
        StaffProfile.objects.create(user=other_head, unit=UnitFactory(code="QLCN"))
        with pytest.raises(DomainError) as err:
            services.recommendation_answer_approve(
                recommendation_id=recommendation.pk, by=other_head
            )
        assert err.value.code == "permission"

        own_head = UserFactory(username="truongphong", perms=APPROVER_PERMS)
        own_head.groups.add(groups[Role.UNIT_HEAD])
        StaffProfile.objects.create(user=own_head, unit=unit)
        approved = services.recommendation_answer_approve(
            recommendation_id=recommendation.pk, by=own_head, now=local(2026, 3, 10, 14)
        )
        assert approved.answer_approved_by == own_head

    def test_staff_without_the_permission_cannot_approve(self, unit, staff):
        recommendation = self._drafted(unit, staff)
        with pytest.raises(DomainError) as err:
            services.recommendation_answer_approve(recommendation_id=recommendation.pk, by=staff)
        assert err.value.code == "permission"
        recommendation.refresh_from_db()
        assert recommendation.answer_state == AnswerState.PENDING_APPROVAL
        assert recommendation.published_at is None

    def test_a_saved_draft_cannot_be_approved_before_submission(self, unit, staff, approver):
        recommendation = RecommendationFactory()
        services.recommendation_answer_draft(
            recommendation_id=recommendation.pk,
            text="Nháp",
            kind=AnswerKind.IN_WRITING,
            submit=False,
            by=staff,
        )
        with pytest.raises(DomainError):
            services.recommendation_answer_approve(recommendation_id=recommendation.pk, by=approver)

    def test_send_back_returns_it_to_draft(self, unit, staff, approver):
        recommendation = self._drafted(unit, staff)
        services.recommendation_answer_reject(
            recommendation_id=recommendation.pk, by=approver, note="Nêu rõ căn cứ pháp lý."
        )
        recommendation.refresh_from_db()
        assert recommendation.answer_state == AnswerState.DRAFT
        assert recommendation.events.last().note == "Nêu rõ căn cứ pháp lý."

    def test_non_public_answers_are_never_published(self, unit, staff, approver):
        recommendation = self._drafted(unit, staff, is_public=False)
        approved = services.recommendation_answer_approve(
            recommendation_id=recommendation.pk, by=approver
        )
        assert approved.published_at is None
        assert not selectors.recommendation_published_list().exists()
        services.recommendation_set_public(
            recommendation_id=recommendation.pk, is_public=True, by=approver
        )
        assert selectors.recommendation_published_list().count() == 1

    def test_answer_at_the_session_counts_from_the_session(self, unit, staff, approver):
        recommendation = self._drafted(unit, staff, kind=AnswerKind.AT_SESSION)
        approved = services.recommendation_answer_approve(
            recommendation_id=recommendation.pk, by=approver, now=local(2026, 3, 10, 14)
        )
        assert approved.status == RecommendationStatus.ANSWERED_AT_SESSION
        assert approved.answered_at == recommendation.session.ends_at

    def test_database_refuses_publication_without_approval(self):
        recommendation = RecommendationFactory()
        recommendation.published_at = local(2026, 3, 10)
        with pytest.raises(IntegrityError):
            recommendation.save()

    def test_history_records_every_step(self, unit, staff, approver):
        recommendation = self._drafted(unit, staff)
        services.recommendation_answer_approve(recommendation_id=recommendation.pk, by=approver)
        assert list(recommendation.events.values_list("action", flat=True)) == [
            RecommendationAction.ASSIGN,
            RecommendationAction.SUBMIT,
            RecommendationAction.APPROVE,
        ]


class TestOtherOutcomes:
    def test_forward(self, staff):
        recommendation = RecommendationFactory()
        forwarded = services.recommendation_forward(
            recommendation_id=recommendation.pk,
            authority="Cục Thuế tỉnh",
            by=staff,
            now=local(2026, 3, 5, 9),
        )
        assert forwarded.status == RecommendationStatus.FORWARDED
        assert forwarded.forwarded_to == "Cục Thuế tỉnh"
        with pytest.raises(DomainError):
            services.recommendation_answer_draft(
                recommendation_id=recommendation.pk, text="x", kind=AnswerKind.IN_WRITING, by=staff
            )

    def test_close_needs_a_reason(self, staff):
        recommendation = RecommendationFactory()
        with pytest.raises(DomainError):
            services.recommendation_close(recommendation_id=recommendation.pk, by=staff)
        closed = services.recommendation_close(
            recommendation_id=recommendation.pk, by=staff, note="Trùng kiến nghị #1"
        )
        assert closed.status == RecommendationStatus.CLOSED

    def test_between_sessions_cannot_be_answered_at_a_session(self, staff):
        recommendation = RecommendationFactory(between_sessions=True)
        with pytest.raises(DomainError):
            services.recommendation_answer_draft(
                recommendation_id=recommendation.pk, text="x", kind=AnswerKind.AT_SESSION, by=staff
            )

    def test_receive_entered_by_staff(self, staff):
        session = SessionFactory()
        recommendation = services.recommendation_receive(
            business_name="Công ty CP Gas Thái Nguyên",
            tax_code="4600123459-001",
            content="Đề nghị hướng dẫn thủ tục cấp giấy chứng nhận đủ điều kiện kinh doanh khí.",
            source=RecommendationSource.AT_SESSION,
            session=session,
            by=staff,
            now=local(2026, 3, 3, 9, 30),
        )
        assert recommendation.business.tax_code == "4600123459-001"
        assert recommendation.received_at == local(2026, 3, 3, 9, 30)
        assert Recommendation.objects.get().events.get().actor == staff

    def test_a_branch_tax_code_is_one_business_with_or_without_hyphen(self, staff):
        session = SessionFactory()
        first = services.recommendation_receive(
            business_name="A",
            tax_code="4600123459001",
            content="x",
            source=RecommendationSource.AT_SESSION,
            session=session,
            by=staff,
        )
        second = services.recommendation_receive(
            business_name="A",
            tax_code=" 4600123459-001",
            content="y",
            source=RecommendationSource.AT_SESSION,
            session=session,
            by=staff,
        )
        assert first.business_id == second.business_id

    def test_at_session_needs_a_session(self, staff):
        with pytest.raises(DomainError):
            services.recommendation_receive(
                business_name="A",
                tax_code="4600123459",
                content="x",
                source=RecommendationSource.AT_SESSION,
                by=staff,
            )
