"""Staff roles as groups with permissions, and demo accounts for `make run`."""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from procedures.core.constants import ROLE_GROUP_NAMES, Role
from procedures.models import StaffProfile, Unit

_CATALOGUE_MODELS = [
    "procedure",
    "field",
    "unit",
    "requireddocument",
    "processstep",
    "calendaroverride",
]

# The office (Văn phòng Sở, which also runs the desk) organises dialogue conferences.
_DIALOGUE_ORGANISER = [
    f"dialogues.{verb}_{model}"
    for model in (
        "dialoguesession",
        "agendaitem",
        "sessiondocument",
        "registration",
        "recommendation",
        "recommendationattachment",
        "business",
    )
    for verb in ("add", "change", "view")
]
_DIALOGUE_READER = [
    "dialogues.view_dialoguesession",
    "dialogues.view_registration",
    "dialogues.view_business",
    "dialogues.view_recommendationattachment",
]

# app_label.codename lists; missing apps (dialogues) are skipped quietly, so this can
# run before every app has migrated.
ROLE_PERMISSIONS: dict[Role, list[str]] = {
    Role.INTAKE: [
        "procedures.view_dossier",
        "procedures.view_procedure",
        "procedures.view_field",
        "procedures.view_unit",
        "procedures.view_dossierdocument",
        "procedures.view_delivery",
        *_DIALOGUE_ORGANISER,
    ],
    Role.SPECIALIST: [
        "procedures.view_dossier",
        "procedures.view_procedure",
        "procedures.view_dossierdocument",
        "procedures.view_delivery",
        "dialogues.view_recommendation",
        "dialogues.change_recommendation",
        *_DIALOGUE_READER,
    ],
    Role.UNIT_HEAD: [
        "procedures.view_dossier",
        "procedures.view_procedure",
        "procedures.view_dossierdocument",
        "procedures.view_reports",
        "procedures.view_delivery",
        "dialogues.view_recommendation",
        "dialogues.change_recommendation",
        "dialogues.approve_answer",
        *_DIALOGUE_READER,
    ],
    Role.DIRECTOR: [
        "procedures.view_dossier",
        "procedures.view_procedure",
        "procedures.view_dossierdocument",
        "procedures.view_reports",
        "procedures.view_delivery",
        "dialogues.view_recommendation",
        "dialogues.change_recommendation",
        "dialogues.approve_answer",
        *_DIALOGUE_ORGANISER,
    ],
    Role.CATALOGUE_ADMIN: [
        f"procedures.{verb}_{model}"
        for model in _CATALOGUE_MODELS
        for verb in ("add", "change", "view")
    ]
    + ["procedures.view_procedureversion"],
}


def roles_ensure_groups() -> dict[Role, Group]:
    """Create or update the five role groups; idempotent."""
    groups = {}
    with transaction.atomic():
        for role, name in ROLE_GROUP_NAMES.items():
            group, _ = Group.objects.get_or_create(name=name)
            wanted = Q(pk__in=[])
            for perm in ROLE_PERMISSIONS[role]:
                app_label, codename = perm.split(".")
                wanted |= Q(content_type__app_label=app_label, codename=codename)
            group.permissions.set(Permission.objects.filter(wanted))
            groups[role] = group
    return groups


DEMO_PASSWORD = "motcua2026"
DEMO_ACCOUNTS = [
    # username, full name, role, unit code
    ("motcua", "Nguyễn Thị Lan", Role.INTAKE, "VP"),
    ("chuyenvien", "Trần Văn Minh", Role.SPECIALIST, "QLTM"),
    ("truongphong", "Lê Thị Hoa", Role.UNIT_HEAD, "QLTM"),
    ("chuyenvien2", "Phạm Quốc Huy", Role.SPECIALIST, "QLCN"),
    ("truongphong2", "Đỗ Văn Nam", Role.UNIT_HEAD, "QLCN"),
    ("giamdoc", "Hoàng Minh Đức", Role.DIRECTOR, None),
    ("quantri", "Vũ Thu Trang", Role.CATALOGUE_ADMIN, None),
]


def staff_create(
    *,
    username: str,
    full_name: str,
    group: Group | None,
    unit: Unit | None,
    email: str = "",
    password: str | None = None,
    superuser: bool = False,
):
    """Create or update one staff account with its role and unit; idempotent."""
    User = get_user_model()
    first, _, last = full_name.rpartition(" ")
    user, created = User.objects.get_or_create(
        username=username,
        defaults={
            "first_name": last,
            "last_name": first,
            "email": email,
            "is_staff": True,
            "is_superuser": superuser,
        },
    )
    if created and password:
        user.set_password(password)
        user.save(update_fields=["password"])
    if group is not None:
        user.groups.add(group)
    StaffProfile.objects.update_or_create(user=user, defaults={"unit": unit})
    return user, created


def demo_accounts_ensure() -> list[tuple[str, str, bool]]:
    """The demo staff of `make run`; returns (username, role label, created)."""
    groups = roles_ensure_groups()
    out = []
    units = {u.code: u for u in Unit.objects.all()}
    for username, name, role, unit_code in DEMO_ACCOUNTS:
        _, created = staff_create(
            username=username,
            full_name=name,
            group=groups[role],
            unit=units.get(unit_code) if unit_code else None,
            email=f"{username}@congthuong.example.gov.vn",
            password=DEMO_PASSWORD,
        )
        out.append((username, str(role.label), created))
    _, created = staff_create(
        username="admin",
        full_name="Quản trị hệ thống",
        group=None,
        unit=None,
        email="admin@congthuong.example.gov.vn",
        password=DEMO_PASSWORD,
        superuser=True,
    )
    out.append(("admin", "superuser", created))
    return out
