"""Who may use the staff dossier API.

The permission class only lets staff in a dossier role in. Which dossiers they see is
`dossier_visible_filter` (procedures.dossiers.selectors) and what they may do is
`may_perform` inside each service, so the API and the admin can never disagree.
"""

from django.utils.translation import gettext_lazy as _
from rest_framework.permissions import BasePermission

from procedures.core.constants import Role
from procedures.core.roles import user_roles

# Roles that work on dossiers (issue item 5). The catalogue administrator does not:
# the catalogue is public anyway, dossiers hold personal data.
DOSSIER_ROLES = frozenset({Role.INTAKE, Role.SPECIALIST, Role.UNIT_HEAD, Role.DIRECTOR})


class IsDossierStaff(BasePermission):
    message = _("Only one-stop desk officers, specialists and leaders may use the dossier API.")

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated and user.is_active):
            return False
        return user.is_superuser or bool(user_roles(user) & DOSSIER_ROLES)
