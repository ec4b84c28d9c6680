"""Django's admin autodiscovery imports `procedures.admin`; each feature registers its
own model admins in its package."""

from django.conf import settings
from django.contrib import admin
from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy

from procedures.accounts import admin as accounts_admin  # noqa: F401
from procedures.calendar import admin as calendar_admin  # noqa: F401
from procedures.catalogue import admin as catalogue_admin  # noqa: F401
from procedures.dossiers import admin as dossiers_admin  # noqa: F401
from procedures.notifications import admin as notifications_admin  # noqa: F401
from procedures.payments import admin as payments_admin  # noqa: F401
from procedures.reports import admin as reports_admin  # noqa: F401

admin.site.site_header = format_lazy(
    "{} · {}", settings.DEPARTMENT_NAME, gettext_lazy("One-stop desk")
)
admin.site.site_title = gettext_lazy("One-stop desk administration")
admin.site.index_title = gettext_lazy("Work of the one-stop desk")
# The index gains a box with the work queues and a link to the dashboard; the
# template extends "admin/index.html", so a project-level index still applies.
admin.site.index_template = "admin/procedures/index.html"
