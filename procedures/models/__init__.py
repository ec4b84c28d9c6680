from .calendar import CalendarOverride
from .catalogue import Field, Procedure, ProcedureVersion, RequiredDocument, Unit

__all__ = [
    "CalendarOverride",
    "Field",
    "Procedure",
    "ProcedureVersion",
    "RequiredDocument",
    "Unit",
]
