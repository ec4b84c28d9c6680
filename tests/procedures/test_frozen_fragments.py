"""The base template's frozen parts ({% frozen %}, procedures/templatetags/frozen.py)
give exactly the page a live render gives: in Vietnamese and English, anonymous and
signed in, with and without a message, on every public page, with each request's own
working CSRF token, the language switcher's own path, and no CSP nonce frozen."""

from __future__ import annotations

import re

import pytest
from django.template import engines
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation

from procedures.accounts.models import ApplicantAccount
from procedures.accounts.session import SESSION_KEY
from procedures.templatetags import frozen
from tests.procedures.test_portal_lookup import open_dossier

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


@pytest.fixture(autouse=True)
def _fresh_memory():
    frozen.forget()
    yield
    frozen.forget()


@pytest.fixture
def sign_in_offered(settings):
    settings.OIDC_ISSUER = "https://id.example.invalid"
    settings.OIDC_CLIENT_ID = "portal"
    settings.OIDC_CLIENT_SECRET = "secret"
    settings.OIDC_PROVIDER_NAME = "VNeID"


def _sign_in(client: Client) -> ApplicantAccount:
    account = ApplicantAccount.objects.create(
        issuer="https://id.example.invalid",
        subject="vneid-0001",
        name="Nguyễn Thị Bình",
        created_at=timezone.now(),
        last_sign_in_at=timezone.now(),
    )
    session = client.session
    session[SESSION_KEY] = account.pk
    session.save()
    return account


def _masked(response) -> str:
    assert response.status_code == 200, response.status_code
    return TOKEN.sub('name="csrfmiddlewaretoken" value=""', response.content.decode())


def _paths(dossier, language: str) -> list[str]:
    with translation.override(language):
        return [
            reverse("procedures:home"),
            reverse("procedures:procedure-list"),
            reverse("procedures:lookup") + "?code=A%26B",
            reverse("procedures:lookup-dossier", args=[dossier.code]),
            reverse("procedures:public-stats"),
        ]


def _renders(monkeypatch, client: Client, paths: list[str], *, enabled: bool) -> list[str]:
    monkeypatch.setattr(frozen, "ENABLED", enabled)
    # Twice over: the first round fills the memory, the second is served from it.
    return [_masked(client.get(path)) for _round in range(2) for path in paths]


@pytest.mark.parametrize("language", ["vi", "en"])
@pytest.mark.parametrize("signed_in", [False, True])
def test_frozen_pages_equal_live_pages(
    monkeypatch, online_assigned, sign_in_offered, language, signed_in
):
    d = online_assigned()
    client = Client()
    if signed_in:
        _sign_in(client)
    assert open_dossier(client, d, pin=d.pin).status_code == 302
    paths = _paths(d, language)
    live = _renders(monkeypatch, client, paths, enabled=False)
    kept = _renders(monkeypatch, client, paths, enabled=True)
    assert kept == live
    # What varies per request is there: the language, the signed-in state, the path.
    assert all(f'lang="{language}"' in html for html in kept)
    assert all(("nav-my-dossiers" in html) == signed_in for html in kept)
    assert all(("nav-sign-in" in html) != signed_in for html in kept)
    assert 'name="next" type="hidden" value="/' in kept[2]
    assert "?code=A%26amp;B" in kept[2] or "?code=A&amp;B" in kept[2] or "A%26B" in kept[2]
    assert len({re.search(r'name="next"[^>]*value="([^"]*)"', h).group(1) for h in kept}) == 5


def test_anonymous_and_signed_in_do_not_share_a_menu(monkeypatch, sign_in_offered):
    anonymous, applicant = Client(), Client()
    _sign_in(applicant)
    path = reverse("procedures:procedure-list")
    first = _masked(anonymous.get(path))
    second = _masked(applicant.get(path))
    third = _masked(anonymous.get(path))
    assert "nav-sign-in" in first and "nav-my-dossiers" not in first
    assert "nav-my-dossiers" in second and "nav-sign-in" not in second
    assert third == first
    monkeypatch.setattr(frozen, "ENABLED", False)
    assert _masked(applicant.get(path)) == second


@pytest.mark.parametrize("language", ["vi", "en"])
def test_a_message_shows_once_as_in_a_live_render(monkeypatch, online_assigned, language):
    online = online_assigned()

    def visit(enabled: bool) -> list[str]:
        monkeypatch.setattr(frozen, "ENABLED", enabled)
        client = Client()
        assert open_dossier(client, online, pin=online.pin).status_code == 302
        with translation.override(language):
            close = reverse("procedures:lookup-close", args=[online.code])
            lookup = reverse("procedures:lookup")
        assert client.post(close).status_code == 302
        return [_masked(client.get(lookup)), _masked(client.get(lookup))]

    live = visit(False)
    kept = visit(True)
    assert kept == live
    assert 'class="messages"' in kept[0] and 'class="messages"' not in kept[1]


def test_each_request_gets_its_own_working_csrf_token(monkeypatch):
    """The token in a frozen header is this request's: the language switcher posts."""
    path = reverse("procedures:procedure-list")
    tokens = []
    for _ in range(2):
        client = Client(enforce_csrf_checks=True)
        html = client.get(path).content.decode()
        found = set(TOKEN.findall(html))
        assert len(found) == 1
        token = found.pop()
        tokens.append(token)
        answer = client.post(
            reverse("set_language"),
            {"language": "en", "next": path, "csrfmiddlewaretoken": token},
        )
        assert answer.status_code == 302
        refused = Client(enforce_csrf_checks=True)
        refused.get(path)
        stale = refused.post(
            reverse("set_language"),
            {"language": "en", "next": path, "csrfmiddlewaretoken": "x" * 64},
        )
        assert stale.status_code == 403
    assert tokens[0] != tokens[1]


def test_a_part_showing_the_csp_nonce_is_never_kept():
    from csp.middleware import CSPMiddleware

    part = engines["django"].from_string(
        '{% load frozen %}{% frozen %}<script nonce="{{ request.csp_nonce }}"></script>'
        "{% csrf_token %}{% endfrozen %}"
    )
    seen = []
    for _ in range(2):
        request = RequestFactory().get("/")
        request.session = {}
        CSPMiddleware(lambda r: None).process_request(request)
        html = part.render({}, request)
        assert f'nonce="{request.csp_nonce}"' in html
        seen.append(html)
    assert seen[0] != seen[1]


def test_a_changed_setting_is_shown_at_once(settings):
    path = reverse("procedures:procedure-list")
    client = Client()
    before = client.get(path).content.decode()
    assert "/static/css/site.css" in before
    settings.STATIC_URL = "/assets/"
    after = client.get(path).content.decode()
    assert "/assets/css/site.css" in after


def test_a_block_cannot_be_frozen():
    from django.template import TemplateSyntaxError

    with pytest.raises(TemplateSyntaxError):
        engines["django"].from_string(
            "{% load frozen %}{% frozen %}{% block nav %}{% endblock %}{% endfrozen %}"
        )
