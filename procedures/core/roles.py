"""Staff roles are Django groups; this module answers "what may this user do"."""

from django.contrib.auth.models import AnonymousUser

from procedures.core.constants import ROLE_GROUP_NAMES, Role
from procedures.dossiers.actions import ACTIONS

_GROUP_TO_ROLE = {name: role for role, name in ROLE_GROUP_NAMES.items()}

# Who may perform each action (the role matrix): derived from the registry of dossier
# actions, which is the one place that says it (procedures/dossiers/actions.py).
ACTION_ROLES: dict[str, frozenset[Role]] = {key: a.roles for key, a in ACTIONS.items()}


def user_roles(user) -> frozenset[Role]:
    if user is None or isinstance(user, AnonymousUser) or not user.is_authenticated:
        return frozenset()
    cached = getattr(user, "_motcua_roles", None)
    if cached is None:
        names = user.groups.values_list("name", flat=True)
        cached = frozenset(_GROUP_TO_ROLE[n] for n in names if n in _GROUP_TO_ROLE)
        user._motcua_roles = cached
    return cached


def user_unit_id(user) -> int | None:
    profile = getattr(user, "staff_profile", None) if user and user.is_authenticated else None
    return profile.unit_id if profile else None


def sees_all_dossiers(user) -> bool:
    roles = user_roles(user)
    return bool(user and user.is_superuser) or bool(roles & {Role.DIRECTOR, Role.INTAKE})


def may_perform(user, action: str) -> bool:
    if user is not None and user.is_authenticated and user.is_superuser:
        return True
    definition = ACTIONS.get(action)
    return definition is not None and bool(user_roles(user) & definition.roles)
