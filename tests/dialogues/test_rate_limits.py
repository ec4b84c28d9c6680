"""Rate limits of the public dialogue forms (issue 11 item 5): one address cannot fill a
session or mail addresses it chose, and typos do not eat an honest business's quota."""

import time

import pytest
import time_machine
from django.urls import reverse

from dialogues.models import Recommendation, Registration
from tests.dialogues_factories import SessionFactory, local, valid_tax_code

from .test_recommendation_form import URL as RECOMMENDATION_URL
from .test_recommendation_form import form_data as recommendation_data
from .test_views import form_data as registration_data

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _clock():
    with time_machine.travel(local(2026, 2, 25, 9, 0), tick=False):
        yield


@pytest.fixture
def big_session(db):
    return SessionFactory(title="Đối thoại doanh nghiệp 2026", capacity=500)


def test_25_registrations_in_two_seconds_from_one_address_are_stopped(client, big_session):
    url = reverse("dialogues:registration-create", args=[big_session.pk])
    started = time.monotonic()
    codes = [
        client.post(
            url,
            registration_data(
                email=f"nguoi{i}@example.com",
                tax_code=valid_tax_code(470000000 + 100 * i),
                representative=f"Người {i}",
            ),
        ).status_code
        for i in range(25)
    ]
    assert time.monotonic() - started < 10
    # The default quota: 10 registrations an hour from one address, then 429.
    assert codes[:10] == [302] * 10
    assert set(codes[10:]) == {429}
    assert Registration.objects.count() == 10
    refused = client.post(url, registration_data(email="x@example.com", tax_code="4600000224"))
    assert int(refused["Retry-After"]) == 3600  # the hour began at 09:00 sharp
    assert "Too many requests from your connection. Try again in 60 minutes." in (
        refused.content.decode()
    )
    # Another address registers as usual.
    other = client.post(
        url,
        registration_data(email="khac@example.com", tax_code="4600000217"),
        REMOTE_ADDR="10.9.9.9",
    )
    assert other.status_code == 302


def test_invalid_registrations_do_not_use_the_quota(client, big_session, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dialogue-registration": {"attempts": "10/h", "successes": "2/h"},
    }
    url = reverse("dialogues:registration-create", args=[big_session.pk])
    for _ in range(5):
        assert client.post(url, registration_data(email="not-an-address")).status_code == 200
    assert (
        client.post(
            url, registration_data(email="a@example.com", tax_code="4600000231")
        ).status_code
        == 302
    )
    assert (
        client.post(
            url, registration_data(email="b@example.com", tax_code="4600000249")
        ).status_code
        == 302
    )
    assert (
        client.post(
            url, registration_data(email="c@example.com", tax_code="4600000256")
        ).status_code
        == 429
    )
    assert Registration.objects.count() == 2


def test_recommendations_count_successes_and_cap_attempts(client, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dialogue-recommendation": {"attempts": "6/h", "successes": "2/h"},
    }
    for _ in range(3):  # typos first
        assert client.post(RECOMMENDATION_URL, recommendation_data(content="")).status_code == 400
    assert client.post(RECOMMENDATION_URL, recommendation_data()).status_code == 302
    assert client.post(RECOMMENDATION_URL, recommendation_data()).status_code == 302
    refused = client.post(RECOMMENDATION_URL, recommendation_data())
    assert refused.status_code == 429
    assert "Retry-After" in refused
    assert Recommendation.objects.count() == 2
    # Attempts: the 7th post of the hour is refused whatever it holds.
    assert (
        client.post(
            RECOMMENDATION_URL, recommendation_data(content=""), REMOTE_ADDR="10.0.0.5"
        ).status_code
        == 400
    )


def test_the_manage_link_is_rate_limited_found_or_not(client, big_session, settings):
    settings.PORTAL_RATE_LIMITS = {
        **settings.PORTAL_RATE_LIMITS,
        "dialogue-manage": {"attempts": "3/h"},
    }
    client.post(
        reverse("dialogues:registration-create", args=[big_session.pk]), registration_data()
    )
    import uuid

    for _ in range(3):
        assert (
            client.get(
                reverse("dialogues:registration-manage", args=[uuid.uuid4(), "guess"])
            ).status_code
            == 404
        )
    refused = client.get(reverse("dialogues:registration-manage", args=[uuid.uuid4(), "x"]))
    assert refused.status_code == 429
    assert refused["Retry-After"] == "3600"
    assert refused["Cache-Control"] == "private, no-store"
    cancel = client.post(reverse("dialogues:registration-manage", args=[uuid.uuid4(), "x"]))
    assert cancel.status_code == 429
