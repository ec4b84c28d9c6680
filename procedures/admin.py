"""Django's admin autodiscovery imports `procedures.admin`; each feature registers its
own model admins in its package."""
from procedures.calendar import admin as calendar_admin  # noqa: F401
from procedures.catalogue import admin as catalogue_admin  # noqa: F401
from procedures.dossiers import admin as dossiers_admin  # noqa: F401
from procedures.notifications import admin as notifications_admin  # noqa: F401
from procedures.reports import admin as reports_admin  # noqa: F401
