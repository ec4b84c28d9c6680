from .recommendation import (
    Recommendation,
    RecommendationAttachment,
    RecommendationEvent,
)
from .registration import Business, Registration
from .reminder import DialogueReminder
from .session import AgendaItem, DialogueSession, SessionDocument

__all__ = [
    "AgendaItem",
    "Business",
    "DialogueReminder",
    "DialogueSession",
    "Recommendation",
    "RecommendationAttachment",
    "RecommendationEvent",
    "Registration",
    "SessionDocument",
]
