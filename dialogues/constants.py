"""Choices of the business dialogues (docs/legal-rules.md: "Business dialogues")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class SessionFormat(models.TextChoices):
    CONFERENCE = "conference", _("Conference")
    DIRECT = "direct", _("Direct meeting")
    ONLINE = "online", _("Online")
    HYBRID = "hybrid", _("Hybrid (in person and online)")


class SessionStatus(models.TextChoices):
    PLANNED = "planned", _("Planned")
    REGISTRATION_OPEN = "registration_open", _("Open for registration")
    REGISTRATION_CLOSED = "registration_closed", _("Registration closed")
    HELD = "held", _("Held")
    CONCLUDED = "concluded", _("Concluded")


# Sessions the public sees as "upcoming" (the rest are past once they have started).
UPCOMING_STATUSES = (
    SessionStatus.PLANNED,
    SessionStatus.REGISTRATION_OPEN,
    SessionStatus.REGISTRATION_CLOSED,
)


class RegistrationStatus(models.TextChoices):
    CONFIRMED = "confirmed", _("Confirmed")
    WAITLISTED = "waitlisted", _("On the waiting list")
    CANCELLED = "cancelled", _("Cancelled")


class RecommendationSource(models.TextChoices):
    ADVANCE = "advance", _("Submitted in advance")
    AT_SESSION = "at_session", _("Raised at the session")
    BETWEEN_SESSIONS = "between_sessions", _("Sent between sessions")


class RecommendationStatus(models.TextChoices):
    RECEIVED = "received", _("Received")
    ASSIGNED = "assigned", _("Assigned")
    ANSWERED_AT_SESSION = "answered_at_session", _("Answered at the session")
    ANSWERED_IN_WRITING = "answered_in_writing", _("Answered in writing")
    FORWARDED = "forwarded", _("Forwarded to a competent authority")
    RESOLVED = "resolved", _("Resolved")
    CLOSED = "closed", _("Closed")


# Still waiting for the department's answer: reminders run on these.
AWAITING_ANSWER_STATUSES = (RecommendationStatus.RECEIVED, RecommendationStatus.ASSIGNED)


class AnswerKind(models.TextChoices):
    AT_SESSION = "at_session", _("Given at the session")
    IN_WRITING = "in_writing", _("In writing")


class AnswerState(models.TextChoices):
    """Approval of the draft answer (a unit head or the director approves it)."""

    NONE = "none", _("No answer yet")
    DRAFT = "draft", _("Draft")
    PENDING_APPROVAL = "pending_approval", _("Awaiting approval")
    APPROVED = "approved", _("Approved")


class ReminderKind(models.TextChoices):
    """Dialogue mail, named as its kind in the shared delivery ledger
    (procedures.models.Delivery); its templates are notifications/dialogue/<name>."""

    REGISTRATION_CONFIRMED = "dialogue.registration_confirmed", _("Registration confirmation")
    REGISTRATION_PROMOTED = "dialogue.promotion", _("Place freed from the waiting list")
    SESSION_REMINDER = "dialogue.session_reminder", _("Reminder before the session")
    ANSWER_DUE_SOON = "dialogue.answer_due_soon", _("Answer due soon")
    ANSWER_OVERDUE = "dialogue.answer_overdue", _("Answer overdue")
    ANSWER_ESCALATION = "dialogue.answer_escalation", _("Overdue answer escalated to leaders")


class RecommendationAction(models.TextChoices):
    RECEIVE = "receive", _("Received")
    EDIT = "edit", _("Details corrected")
    ASSIGN = "assign", _("Assigned")
    DRAFT = "draft", _("Answer drafted")
    SUBMIT = "submit", _("Answer submitted for approval")
    APPROVE = "approve", _("Answer approved")
    REJECT = "reject", _("Answer sent back")
    FORWARD = "forward", _("Forwarded")
    RESOLVE = "resolve", _("Resolved")
    CLOSE = "close", _("Closed")
    PUBLISH = "publish", _("Published")
    UNPUBLISH = "unpublish", _("Withdrawn from the public page")
