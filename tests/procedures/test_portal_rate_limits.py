"""Rate limits of the look-up's forms (issue 11 item 5): supplement upload and rating
count every post against an attempts limit, so a script holding a PIN cannot flood
them, and a refused form says how long to wait."""

import pytest
from django.urls import reverse

from procedures.models import Rating

from .test_portal_ratings import resolved  # noqa: F401
from .test_portal_submission import _english  # noqa: F401

pytestmark = pytest.mark.django_db


def limit(settings, form, **rates):
    settings.PORTAL_RATE_LIMITS = {**settings.PORTAL_RATE_LIMITS, form: rates}


def test_rating_posts_are_limited_and_a_typo_does_not_use_the_quota(
    client,
    resolved,  # noqa: F811
    settings,
):
    limit(settings, "rating", attempts="3/h", successes="1/h")
    client.post(reverse("procedures:lookup"), {"code": resolved.code, "pin": resolved.pin})
    rate = reverse("procedures:lookup-rate", args=[resolved.code])
    assert client.post(rate, {"timeliness": "2"}).status_code == 400  # typo
    assert client.post(rate, {"overall": "satisfied"}).status_code == 302  # saved
    assert Rating.objects.filter(dossier=resolved).count() == 1
    refused = client.post(rate, {"overall": "unsatisfied"})
    assert refused.status_code == 429
    assert 0 < int(refused["Retry-After"]) <= 3600
    assert "Too many requests from your connection. Try again in " in refused.content.decode()
    assert Rating.objects.get(dossier=resolved).overall == "satisfied"


def test_supplement_uploads_are_limited(client, resolved, settings):  # noqa: F811
    limit(settings, "supplement", attempts="2/h", successes="1/h")
    client.post(reverse("procedures:lookup"), {"code": resolved.code, "pin": resolved.pin})
    url = reverse("procedures:lookup-supplement", args=[resolved.code])
    for _ in range(2):  # nothing to supplement: refused, but counted as attempts
        assert client.post(url, {"note": "x"}).status_code == 400
    refused = client.post(url, {"note": "x"})
    assert refused.status_code == 429
    assert "Retry-After" in refused
