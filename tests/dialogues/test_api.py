"""The /api/v1/dialogues/ endpoints and their OpenAPI documentation."""

import pytest
import time_machine
from django.urls import reverse

from dialogues import services
from dialogues.constants import AnswerKind
from tests.dialogues_factories import (
    RecommendationFactory,
    SessionFactory,
    local,
    register_business,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def session(db):
    s = SessionFactory(title="Đối thoại điện lực", capacity=2)
    register_business(s, 1, attendees=2, business_name="Công ty A", now=local(2026, 2, 20, 9))
    register_business(s, 2, business_name="Công ty B", now=local(2026, 2, 20, 10))
    return s


def test_sessions_are_public_with_seats(session, client):
    SessionFactory(is_published=False)
    with time_machine.travel(local(2026, 2, 25), tick=False):
        data = client.get("/api/v1/dialogues/sessions/", {"when": "upcoming"}).json()
    assert data["count"] == 1
    item = data["results"][0]
    assert item["title"] == "Đối thoại điện lực"
    assert (item["seats_taken"], item["waitlisted"]) == (2, 1)
    detail = client.get(f"/api/v1/dialogues/sessions/{session.pk}/").json()
    assert detail["agenda"] == []


def test_registrations_are_for_staff_only(session, client):
    from tests.dialogues_factories import STAFF_PERMS, UserFactory

    staff = UserFactory(username="chuyenvien-phong", perms=STAFF_PERMS)
    url = reverse("dialogues-api:session-registrations", args=[session.pk])
    assert client.get(url).status_code in (401, 403)
    client.force_login(staff)  # specialist without the registration view permission
    assert client.get(url).status_code == 403
    from django.contrib.auth.models import Permission

    staff.user_permissions.add(Permission.objects.get(codename="view_registration"))
    response = client.get(url, {"status": "waitlisted"})
    assert response.status_code == 200
    assert [r["business_name"] for r in response.json()["results"]] == ["Công ty B"]


def test_only_published_answers(client, staff, approver):
    shown, hidden = RecommendationFactory(), RecommendationFactory()
    for r in (shown, hidden):
        services.recommendation_answer_draft(
            recommendation_id=r.pk, text="Trả lời", kind=AnswerKind.IN_WRITING, by=staff
        )
    services.recommendation_answer_approve(recommendation_id=shown.pk, by=approver)
    data = client.get("/api/v1/dialogues/answers/").json()
    assert [a["id"] for a in data["results"]] == [shown.pk]
    assert client.get(f"/api/v1/dialogues/answers/{hidden.pk}/").status_code == 404
    assert client.get(f"/api/v1/dialogues/answers/{shown.pk}/").json()["answer_text"] == "Trả lời"


def test_documented_in_the_openapi_schema(client):
    response = client.get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    paths = response.json()["paths"]
    for path in (
        "/api/v1/dialogues/sessions/",
        "/api/v1/dialogues/sessions/{id}/",
        "/api/v1/dialogues/sessions/{id}/registrations/",
        "/api/v1/dialogues/answers/",
        "/api/v1/dialogues/answers/{id}/",
    ):
        assert path in paths, path
    params = {p["name"] for p in paths["/api/v1/dialogues/answers/"]["get"]["parameters"]}
    assert {"q", "field", "session"} <= params
