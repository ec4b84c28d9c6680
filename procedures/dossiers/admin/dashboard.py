"""The staff dashboard: the user's work queues with their counts, and what is most urgent.

Two queries whatever the number of dossiers (plus the session and the user's roles):
the six counts in one aggregate, the urgent list in one LIMITed query, both on the
open-dossier partial index (procedures/dossiers/queues.py); plus one COUNT per role
queue (a unit head's unassigned arrivals, the desk's results ready to return).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from procedures.core.constants import Action
from procedures.core.people import staff_display_name
from procedures.core.roles import may_perform, sees_all_dossiers, user_roles
from procedures.dossiers.queues import (
    due_soon_limit,
    queue_counts,
    queue_most_urgent,
    queue_role_counts,
)


def dashboard_view(request, *, model_admin):
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    now = timezone.now()
    user = request.user
    changelist = reverse("admin:procedures_dossier_changelist")
    queues = [
        {
            "queue": c.queue,
            "label": c.label,
            "count": c.count,
            "alert": c.urgent and c.count > 0,
            "url": f"{changelist}?queue={c.queue}",
        }
        for c in [*queue_counts(user=user, now=now), *queue_role_counts(user=user, now=now)]
    ]
    urgent = queue_most_urgent(user=user, now=now)
    for dossier in urgent:
        dossier.officer_name = staff_display_name(dossier.assigned_officer)
    profile = getattr(user, "staff_profile", None)
    if sees_all_dossiers(user):
        scope = _("All dossiers of the department")
    elif profile is not None and profile.unit_id:
        scope = _("Dossiers of %(unit)s and those assigned to you") % {"unit": profile.unit}
    else:
        scope = _("Dossiers assigned to you")
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Dossier dashboard"),
        "queues": queues,
        "urgent": urgent,
        "now": now,
        "soon": due_soon_limit(now=now),
        "scope": scope,
        "roles": sorted(str(r.label) for r in user_roles(user)),
        "can_register": may_perform(user, Action.REGISTER),
        "changelist_url": changelist,
    }
    return TemplateResponse(request, "admin/procedures/dossier/dashboard.html", context)
