"""Staff roles are Django groups; this module answers "what may this user do"."""

from django.contrib.auth.models import AnonymousUser

from procedures.core.constants import ROLE_GROUP_NAMES, Action, Role

_GROUP_TO_ROLE = {name: role for role, name in ROLE_GROUP_NAMES.items()}

# Who may perform each transition (Decree 61/2018 art. 15-20: the desk receives and
# returns; the processing unit appraises; leaders sign, apologise and stop).
ACTION_ROLES: dict[str, frozenset[Role]] = {
    Action.REGISTER: frozenset({Role.INTAKE}),
    Action.ACCEPT: frozenset({Role.INTAKE}),
    Action.REFUSE_INTAKE: frozenset({Role.INTAKE}),
    Action.REQUEST_SUPPLEMENT: frozenset({Role.INTAKE, Role.SPECIALIST, Role.UNIT_HEAD}),
    Action.RECEIVE_SUPPLEMENT: frozenset({Role.INTAKE}),
    Action.REQUEST_PAYMENT: frozenset({Role.INTAKE, Role.SPECIALIST, Role.UNIT_HEAD}),
    Action.CONFIRM_PAYMENT: frozenset({Role.INTAKE}),
    Action.ASSIGN: frozenset({Role.INTAKE, Role.UNIT_HEAD, Role.DIRECTOR}),
    Action.COMPLETE_STEP: frozenset({Role.INTAKE, Role.SPECIALIST, Role.UNIT_HEAD, Role.DIRECTOR}),
    Action.APOLOGISE: frozenset({Role.UNIT_HEAD, Role.DIRECTOR}),
    Action.RESOLVE: frozenset({Role.UNIT_HEAD, Role.DIRECTOR}),
    Action.RETURN_RESULT: frozenset({Role.INTAKE}),
    Action.WITHDRAW: frozenset({Role.INTAKE}),
    Action.STOP: frozenset({Role.UNIT_HEAD, Role.DIRECTOR}),
}


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
    return bool(user_roles(user) & ACTION_ROLES.get(action, frozenset()))
