"""Staff admin of dossiers: the workspace (list, dossier page, action forms, desk
registration, slips), its paginator and filters, the action forms and the dashboard."""

from procedures.dossiers.admin import workspace  # noqa: F401  (registers DossierAdmin)
