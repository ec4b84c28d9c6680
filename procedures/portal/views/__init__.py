"""Public pages of the one-stop desk (the citizen portal). Each module is one area."""

from procedures.portal.views.catalogue import (
    document_template,
    home,
    procedure_detail,
    procedure_list_view,
)
from procedures.portal.views.lookup import (
    lookup,
    lookup_close,
    lookup_document,
    lookup_dossier,
    lookup_rate,
    lookup_supplement,
)
from procedures.portal.views.stats import public_stats
from procedures.portal.views.submission import receipt, receipt_pdf, submit

__all__ = [
    "document_template",
    "home",
    "lookup",
    "lookup_close",
    "lookup_document",
    "lookup_dossier",
    "lookup_rate",
    "lookup_supplement",
    "procedure_detail",
    "procedure_list_view",
    "public_stats",
    "receipt",
    "receipt_pdf",
    "submit",
]
