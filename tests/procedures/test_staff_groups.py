"""Role groups and the demo accounts that `make run` seeds."""

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command

from procedures.catalogue.staff import ROLE_PERMISSIONS, roles_ensure_groups
from procedures.core.constants import ROLE_GROUP_NAMES, Role

pytestmark = pytest.mark.django_db


def test_every_named_permission_exists():
    known = {
        f"{p.content_type.app_label}.{p.codename}"
        for p in Permission.objects.select_related("content_type")
    }
    missing = {perm for perms in ROLE_PERMISSIONS.values() for perm in perms} - known
    assert missing == set()


def test_groups_carry_their_permissions():
    groups = roles_ensure_groups()
    assert {g.name for g in groups.values()} == set(ROLE_GROUP_NAMES.values())
    director = get_user_model().objects.create_user("gd", is_staff=True)
    director.groups.add(groups[Role.DIRECTOR])
    assert director.has_perm("procedures.view_reports")
    assert director.has_perm("dialogues.approve_answer")
    assert not director.has_perm("procedures.change_procedure")
    admin = get_user_model().objects.create_user("qt", is_staff=True)
    admin.groups.add(groups[Role.CATALOGUE_ADMIN])
    assert admin.has_perm("procedures.change_procedure")
    assert not admin.has_perm("procedures.view_dossier")


def test_demo_accounts_are_seeded_once(capsys):
    call_command("seed_demo_accounts")
    call_command("seed_demo_accounts")
    out = capsys.readouterr().out
    User = get_user_model()
    assert User.objects.count() == 8
    assert Group.objects.count() == 5
    assert User.objects.get(username="giamdoc").check_password("motcua2026")
    assert User.objects.get(username="chuyenvien").staff_profile is not None
    assert User.objects.get(username="admin").is_superuser
    assert "motcua" in out and "motcua2026" in out
