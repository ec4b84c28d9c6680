from .calendar import CalendarOverride
from .catalogue import Field, Procedure, ProcedureVersion, RequiredDocument, Unit
from .dossier import Dossier, DossierCodeSequence, DossierDocument, DossierEvent, DossierStep
from .process import ProcessStep
from .staff import StaffProfile

__all__ = [
    "CalendarOverride",
    "Dossier",
    "DossierCodeSequence",
    "DossierDocument",
    "DossierEvent",
    "DossierStep",
    "Field",
    "ProcessStep",
    "Procedure",
    "ProcedureVersion",
    "RequiredDocument",
    "StaffProfile",
    "Unit",
]
from .notifications import Delivery, DeliveryChannel, DeliveryStatus  # noqa: E402

__all__ += ["Delivery", "DeliveryChannel", "DeliveryStatus"]
from .rating import Rating  # noqa: E402
from .report import ReportSnapshot  # noqa: E402

__all__ += ["Rating", "ReportSnapshot"]
from .scheduling import ScheduledJob, ScheduledRun  # noqa: E402

__all__ += ["ScheduledJob", "ScheduledRun"]
