"""Admin registrations, one module per idea."""
from procedures.admin import (  # noqa: F401  (modules register on import)
    calendar,
    catalogue,
    dossiers,
    notifications,
    reports,
)
