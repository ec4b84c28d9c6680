from .recommendation import (
    Recommendation,
    RecommendationAttachment,
    RecommendationEvent,
)
from .registration import Business, Registration
from .session import AgendaItem, DialogueSession, SessionDocument

__all__ = [
    "AgendaItem",
    "Business",
    "DialogueSession",
    "Recommendation",
    "RecommendationAttachment",
    "RecommendationEvent",
    "Registration",
    "SessionDocument",
]
