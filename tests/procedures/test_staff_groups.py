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


def test_every_declared_custom_permission_is_checked():
    """A permission declared in a model's Meta is asked for by code (has_perm), or it
    would be a grant that does nothing (issue 16: check it or drop it)."""
    import re
    from pathlib import Path

    from django.apps import apps
    from django.conf import settings

    declared = {
        f"{model._meta.app_label}.{codename}"
        for app in ("procedures", "dialogues")
        for model in apps.get_app_config(app).get_models()
        for codename, _ in model._meta.permissions
    }
    assert "procedures.view_reports" in declared
    root = Path(settings.BASE_DIR)
    source = "\n".join(
        path.read_text(encoding="utf-8")
        for app in ("procedures", "dialogues")
        for path in (root / app).rglob("*.py")
        if "migrations" not in path.parts and path.name != "staff.py"
    )
    # Either the string itself in a has_perm call, or a constant holding it.
    checked = set(re.findall(r'has_perm\("([a-z_]+\.[a-z_]+)"\)', source)) | {
        perm for perm in declared if re.search(rf'= "{re.escape(perm)}"', source)
    }
    assert declared - checked == set()
    assert not Permission.objects.filter(codename__in=["act_on_dossier", "view_all_dossiers"])
