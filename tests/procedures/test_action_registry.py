"""The registry of dossier actions (procedures/dossiers/actions.py) drives the admin, the
API, the services, the role matrix and the status table of docs/legal-rules.md: a
change to one entry changes all of them, and a refusal reads the same everywhere."""

import dataclasses
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation
from django.utils.html import escape
from rest_framework.test import APIClient

from procedures.core.constants import Action, Role
from procedures.core.constants import DossierStatus as S
from procedures.core.roles import ACTION_ROLES, may_perform
from procedures.dossiers.actions import ACTIONS, TRANSITIONS, markdown_table, status_refusal
from procedures.dossiers.admin.forms import ACTION_FORMS
from procedures.models import Dossier

from .conftest import at

pytestmark = pytest.mark.django_db

NOW = at(2026, 6, 1, 10, 0)


@pytest.fixture(autouse=True)
def _clock(time_machine):
    time_machine.move_to(NOW, tick=False)


@pytest.fixture
def processing(processing):
    return processing()


def admin_get(client, user, dossier, action):
    client.force_login(user)
    return client.get(reverse("admin:procedures_dossier_action", args=[dossier.pk, action]))


def admin_buttons(client, user, dossier) -> set[str]:
    client.force_login(user)
    page = client.get(reverse("admin:procedures_dossier_change", args=[dossier.pk]))
    assert page.status_code == 200
    return set(re.findall(r'data-action="([a-z_]+)"', page.content.decode()))


def api_post(user, dossier, action, **body):
    client = APIClient()
    client.force_login(user)
    body.setdefault("expected_version", Dossier.objects.get(pk=dossier.pk).version)
    return client.post(f"/api/v1/dossiers/{dossier.code}/actions/{action}/", body, format="json")


def test_a_status_outside_the_registry_is_refused_alike_by_admin_and_api(client, staff, processing):
    # Returning a result needs status 9 (processed); the dossier is at 4.
    api = api_post(staff["intake"], processing, Action.RETURN_RESULT, note="")
    assert api.status_code == 400
    body = api.json()
    assert body["code"] == "illegal_transition"
    with translation.override(settings.LANGUAGE_CODE):  # what the test client gets
        expected = status_refusal(action=Action.RETURN_RESULT, status=S.PROCESSING)
    assert expected is not None and body["detail"] == expected.message
    admin = admin_get(client, staff["intake"], processing, Action.RETURN_RESULT)
    assert admin.status_code == 403
    assert escape(body["detail"]) in admin.content.decode()
    assert Dossier.objects.get(pk=processing.pk).status == S.PROCESSING


def test_a_role_outside_the_registry_is_refused_alike_by_admin_and_api(client, staff, processing):
    # Stopping is for leaders; the specialist holds the dossier but may not stop it.
    api = api_post(staff["specialist"], processing, Action.STOP, reason="Lý do")
    assert api.status_code == 403
    body = api.json()
    assert body["code"] == "forbidden"
    admin = admin_get(client, staff["specialist"], processing, Action.STOP)
    assert admin.status_code == 403
    assert escape(body["detail"]) in admin.content.decode()
    assert "stop" not in admin_buttons(client, staff["specialist"], processing)


def test_narrowing_the_sources_closes_the_admin_and_the_api(client, staff, processing, monkeypatch):
    stop = ACTIONS[Action.STOP]
    assert "stop" in admin_buttons(client, staff["unit_head"], processing)
    monkeypatch.setitem(
        ACTIONS, Action.STOP, dataclasses.replace(stop, sources=stop.sources - {S.PROCESSING})
    )
    assert "stop" not in admin_buttons(client, staff["unit_head"], processing)
    api = api_post(staff["unit_head"], processing, Action.STOP, reason="Lý do")
    assert api.status_code == 400
    assert api.json()["code"] == "illegal_transition"
    admin = admin_get(client, staff["unit_head"], processing, Action.STOP)
    assert admin.status_code == 403
    assert escape(api.json()["detail"]) in admin.content.decode()


def test_widening_the_roles_opens_the_admin_the_api_and_the_role_matrix(
    client, staff, processing, monkeypatch
):
    stop = ACTIONS[Action.STOP]
    assert not may_perform(staff["specialist"], Action.STOP)
    monkeypatch.setitem(
        ACTIONS, Action.STOP, dataclasses.replace(stop, roles=stop.roles | {Role.SPECIALIST})
    )
    assert may_perform(staff["specialist"], Action.STOP)
    assert "stop" in admin_buttons(client, staff["specialist"], processing)
    api = api_post(staff["specialist"], processing, Action.STOP, reason="Ngừng theo yêu cầu")
    assert api.status_code == 200, api.json()
    assert api.json()["status"] == S.STOPPED


def test_role_matrix_is_the_registrys():
    assert ACTION_ROLES == {action: a.roles for action, a in ACTIONS.items()}
    # Every transition has its admin form and its API endpoint, and nothing more.
    from procedures.dossiers.api import ACTIONS as API_ACTIONS

    assert set(ACTION_FORMS) == set(TRANSITIONS) == set(API_ACTIONS)
    assert Action.REGISTER in ACTIONS and Action.REGISTER not in TRANSITIONS


def test_admin_form_and_api_schema_read_the_registry(client, staff, register):
    d = register()
    accept = ACTIONS[Action.ACCEPT]
    response = admin_get(client, staff["intake"], d, Action.ACCEPT)
    assert response.status_code == 200
    html = response.content.decode()
    with_lang = str(accept.help_text)
    assert escape(with_lang) in html
    assert escape(str(accept.submit_label)) in html

    schema = APIClient().get("/api/schema/", {"format": "json"}, HTTP_ACCEPT_LANGUAGE="en")
    assert schema.status_code == 200
    operation = next(
        op["post"]
        for path, op in schema.json()["paths"].items()
        if path.endswith("/actions/accept/")
    )
    assert operation["summary"] == "Accept"
    assert operation["description"].startswith("The dossier is complete")
    assert operation["description"].endswith("From status: 1.")


def test_docs_status_table_is_the_registrys():
    text = (Path(settings.BASE_DIR) / "docs" / "legal-rules.md").read_text(encoding="utf-8")
    assert markdown_table() in text
