"""Reads of dossiers: visibility by role, queues, timeline."""

from django.db.models import Q

from procedures.core.roles import Role, sees_all_dossiers, user_roles, user_unit_id


def dossier_visible_filter(user) -> Q:
    """Directors and the desk see all; unit heads their unit; specialists theirs and
    their unit's; anyone else nothing."""
    if sees_all_dossiers(user):
        return Q()
    roles = user_roles(user)
    unit_id = user_unit_id(user)
    if roles & {Role.UNIT_HEAD, Role.SPECIALIST}:
        q = Q(assigned_officer=user)
        if unit_id is not None:
            q |= Q(assigned_unit_id=unit_id)
        return q
    return Q(pk__in=[])


def dossier_is_visible(*, dossier, user) -> bool:
    if sees_all_dossiers(user):
        return True
    roles = user_roles(user)
    if roles & {Role.UNIT_HEAD, Role.SPECIALIST}:
        unit_id = user_unit_id(user)
        return dossier.assigned_officer_id == user.pk or (
            unit_id is not None and dossier.assigned_unit_id == unit_id
        )
    return False
