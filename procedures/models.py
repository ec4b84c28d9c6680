"""The app's model registry: Django loads `procedures.models`; each feature keeps its
own models in its package (catalogue, calendar, dossiers, reports, notifications)."""

from procedures.accounts.models import ApplicantAccount, ApplicantDossier
from procedures.calendar.models import CalendarOverride
from procedures.catalogue.models import (
    Field,
    Procedure,
    ProcedureVersion,
    ProcessStep,
    RequiredDocument,
    StaffProfile,
    Unit,
)
from procedures.dossiers.models import (
    Dossier,
    DossierCodeSequence,
    DossierDocument,
    DossierEvent,
    DossierStep,
    Rating,
)
from procedures.notifications.models import (
    Delivery,
    DeliveryChannel,
    DeliveryStatus,
    ScheduledJob,
    ScheduledRun,
)
from procedures.payments.models import Payment, PaymentCallback
from procedures.reports.models import ReportDailyCount, ReportSnapshot

__all__ = [
    "ApplicantAccount",
    "ApplicantDossier",
    "CalendarOverride",
    "Delivery",
    "DeliveryChannel",
    "DeliveryStatus",
    "Dossier",
    "DossierCodeSequence",
    "DossierDocument",
    "DossierEvent",
    "DossierStep",
    "Field",
    "ProcessStep",
    "Payment",
    "PaymentCallback",
    "Procedure",
    "ProcedureVersion",
    "Rating",
    "ReportDailyCount",
    "ReportSnapshot",
    "RequiredDocument",
    "ScheduledJob",
    "ScheduledRun",
    "StaffProfile",
    "Unit",
]
