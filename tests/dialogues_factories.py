"""Factories of the dialogues tests, with named states."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Permission

from dialogues.constants import RecommendationSource, SessionStatus
from dialogues.models import Business, DialogueSession, Recommendation
from procedures.models import Field, Unit


def valid_tax_code(prefix: int) -> str:
    """A ten-digit tax code with a correct check digit, from a nine-digit prefix.

    About one prefix in eleven has no single check digit; the nearest prefix after it
    that has one is used (callers step prefixes by 100 or more to stay distinct).
    """
    from stdnum.vn import mst

    while True:
        head = f"{prefix:09d}"
        code = head + mst.calc_check_digit(head)
        if mst.is_valid(code):
            return code
        prefix += 1


VN = ZoneInfo("Asia/Ho_Chi_Minh")


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


class FieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Field
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Lĩnh vực {n}")


class UnitFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Unit
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"P{n:02d}")
    name = factory.Sequence(lambda n: f"Phòng {n}")
    email = factory.LazyAttribute(lambda o: f"{o.code.lower()}@sct.example.gov.vn")


class SessionFactory(factory.django.DjangoModelFactory):
    """Open for registration by default: Tuesday 3 March 2026, 08:00-11:00."""

    class Meta:
        model = DialogueSession
        skip_postgeneration_save = True

    title = factory.Sequence(lambda n: f"Hội nghị đối thoại doanh nghiệp {n}")
    topic = "Tháo gỡ khó khăn về thủ tục kinh doanh xăng dầu"
    starts_at = local(2026, 3, 3, 8, 0)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=3))
    registration_deadline = factory.LazyAttribute(lambda o: o.starts_at - timedelta(days=2))
    venue = "Hội trường Sở Công Thương, số 1 đường Đội Cấn"
    chair = "Giám đốc Sở"
    capacity = 10
    status = SessionStatus.REGISTRATION_OPEN
    answer_working_days = 10

    class Params:
        planned = factory.Trait(status=SessionStatus.PLANNED)
        concluded = factory.Trait(status=SessionStatus.CONCLUDED)


class BusinessFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Business
        django_get_or_create = ("tax_code",)

    tax_code = factory.Sequence(lambda n: valid_tax_code(461000000 + 100 * n))
    name = factory.Sequence(lambda n: f"Công ty TNHH Thương mại {n}")


class RecommendationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Recommendation

    business = factory.SubFactory(BusinessFactory)
    session = factory.SubFactory(SessionFactory)
    source = RecommendationSource.AT_SESSION
    content = "Đề nghị rút ngắn thời gian cấp giấy phép bán lẻ xăng dầu."
    received_at = factory.LazyAttribute(
        lambda o: o.session.starts_at if o.session else local(2026, 3, 3, 9)
    )

    class Params:
        between_sessions = factory.Trait(session=None, source=RecommendationSource.BETWEEN_SESSIONS)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@sct.example.gov.vn")
    is_staff = True
    password = factory.django.Password("pw-test-123")

    @factory.post_generation
    def perms(obj, create, extracted, **kwargs):
        """perms=["approve_answer", "change_recommendation", ...] (dialogues app)."""
        if not extracted:
            return
        obj.user_permissions.add(
            *Permission.objects.filter(content_type__app_label="dialogues", codename__in=extracted)
        )


STAFF_PERMS = ["view_recommendation", "change_recommendation"]
APPROVER_PERMS = [*STAFF_PERMS, "approve_answer"]


def register_business(session, n: int, attendees: int = 1, **kwargs):
    """services.registration_create for business number `n` (distinct name, tax code and
    address per number); keyword arguments override. Returns (registration, token)."""
    from dialogues import services

    data = {
        "session_id": session.pk,
        "business_name": f"Công ty {n}",
        "tax_code": valid_tax_code(460000000 + 100 * n),
        "representative": f"Nguyễn Văn {n}",
        "email": f"dn{n}@example.vn",
        "phone": "0912345678",
        "attendees": attendees,
        "now": local(2026, 2, 25, 9, 0),
    }
    data.update(kwargs)
    return services.registration_create(**data)
