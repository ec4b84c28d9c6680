"""Rating the service (portal item 6): once, after the result, by the PIN holder."""

import pytest
from django.urls import reverse

from procedures.core.constants import Action, Channel, Outcome
from procedures.core.constants import DossierStatus as S
from procedures.core.errors import DomainError
from procedures.dossiers import services as svc
from procedures.dossiers.ratings import rating_submit
from procedures.models import Rating

from .conftest import at
from .test_portal_submission import _english  # noqa: F401

pytestmark = pytest.mark.django_db


@pytest.fixture
def resolved(online_assigned, staff):
    d = online_assigned()
    pin = d.pin
    d = svc.dossier_resolve(
        dossier=d, actor=staff["unit_head"], outcome=Outcome.GRANTED, now=at(2026, 6, 3, 9, 0)
    )
    d.pin = pin
    return d


def test_rating_is_recorded_once_with_an_event(resolved):
    rating = rating_submit(
        dossier=resolved,
        overall="very_satisfied",
        timeliness=2,
        attitude=2,
        visits=1,
        comment="  Cán bộ nhiệt tình ",
        now=at(2026, 6, 3, 10, 0),
    )
    assert (
        rating.overall,
        rating.timeliness,
        rating.attitude,
        rating.visits,
        rating.information,
    ) == ("very_satisfied", 2, 2, 1, None)
    assert rating.comment == "Cán bộ nhiệt tình"
    event = resolved.events.get(action=Action.RATE)
    assert event.by_applicant and event.actor is None
    assert event.data == {"overall": "very_satisfied", "timeliness": 2, "attitude": 2, "visits": 1}
    resolved.refresh_from_db()
    assert resolved.status == S.FINISHED  # rating changes nothing in the dossier's state

    with pytest.raises(DomainError) as err:
        rating_submit(dossier=resolved, overall="unsatisfied")
    assert err.value.code == "already_rated"
    assert Rating.objects.count() == 1


def test_rating_is_allowed_after_the_result_is_handed_over(resolved, staff):
    d = svc.dossier_return_result(dossier=resolved, actor=staff["intake"], now=at(2026, 6, 4, 9, 0))
    assert d.status == S.RETURNED
    assert rating_submit(dossier=d, overall="satisfied").overall == "satisfied"


@pytest.mark.parametrize("status", [S.SUBMITTED, S.ACCEPTED, S.SUPPLEMENT_REQUESTED, S.WITHDRAWN])
def test_rating_before_the_result_is_refused(register, status, staff):
    d = register(channel=Channel.ONLINE)
    d.status = status
    d.save(update_fields=["status"])
    with pytest.raises(DomainError) as err:
        rating_submit(dossier=d, overall="satisfied")
    assert err.value.code == "not_ratable"
    assert not Rating.objects.exists()


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"overall": "delighted"}, "overall"),
        ({"overall": "satisfied", "attitude": 3}, "attitude"),
        ({"overall": "satisfied", "timeliness": -1}, "timeliness"),
    ],
)
def test_invalid_answers_are_refused_on_their_field(resolved, kwargs, field):
    with pytest.raises(DomainError) as err:
        rating_submit(dossier=resolved, **kwargs)
    assert err.value.field == field


def test_the_applicant_rates_through_the_look_up_page(client, resolved):
    client.post(reverse("procedures:lookup"), {"code": resolved.code, "pin": resolved.pin})
    url = reverse("procedures:lookup-dossier", args=[resolved.code])
    html = client.get(url).content.decode()
    assert "Rate our service" in html
    assert "Very satisfied" in html and "Attitude of the staff" in html

    rate = reverse("procedures:lookup-rate", args=[resolved.code])
    missing = client.post(rate, {"timeliness": "2"})
    assert missing.status_code == 400
    assert missing.context["rating_form"].errors == {
        "overall": ["Choose how satisfied you are overall."]
    }
    assert 'value="2" id="id_timeliness_0" checked' in missing.content.decode()  # kept

    response = client.post(
        rate, {"overall": "satisfied", "timeliness": "2", "information": "0", "comment": "Nhanh"}
    )
    assert response.status_code == 302
    rating = Rating.objects.get(dossier=resolved)
    assert (rating.overall, rating.timeliness, rating.attitude, rating.information) == (
        "satisfied",
        2,
        None,
        0,
    )
    html = client.get(url).content.decode()
    assert "Rate our service" not in html
    assert "You rated the service: Satisfied. Thank you." in html

    again = client.post(rate, {"overall": "unsatisfied"}, follow=True)
    assert "This dossier has already been rated. Thank you." in again.content.decode()
    assert Rating.objects.get(dossier=resolved).overall == "satisfied"


def test_rating_needs_the_pin(client, resolved):
    response = client.post(
        reverse("procedures:lookup-rate", args=[resolved.code]), {"overall": "unsatisfied"}
    )
    assert response.status_code == 302
    assert not Rating.objects.exists()
