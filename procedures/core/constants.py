"""Choices of the procedure catalogue (docs/legal-rules.md: "Procedure catalogue")."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class TimeUnit(models.TextChoices):
    WORKING_DAYS = "working_days", _("working days")
    CALENDAR_DAYS = "calendar_days", _("calendar days")
    WORKING_HOURS = "working_hours", _("working hours")


class OnlineLevel(models.TextChoices):
    # Decree 42/2022: fully online (submit, pay, receive online) or partly online.
    FULL = "full", _("Fully online (toàn trình)")
    PARTIAL = "partial", _("Partly online (một phần)")
    NONE = "none", _("Not online")


class Level(models.TextChoices):
    PROVINCE = "province", _("Provincial level")
    DISTRICT = "district", _("District level")


class ProcedureStatus(models.TextChoices):
    ACTIVE = "active", _("In force")
    ABOLISHED = "abolished", _("Abolished")


class DocumentKind(models.TextChoices):
    ORIGINAL = "original", _("Original")
    COPY = "copy", _("Copy")
    CERTIFIED_COPY = "certified_copy", _("Certified copy")
    ORIGINAL_OR_COPY = "original_or_copy", _("Original or certified copy")


class ChangeKind(models.TextChoices):
    ADDED = "added", _("Added")
    AMENDED = "amended", _("Amended")
    ABOLISHED = "abolished", _("Abolished")


# --- Dossiers (docs/legal-rules.md: "Statuses") ---


class DossierStatus(models.IntegerChoices):
    """Codes of the national public service portal; keep the numbers for export."""

    SUBMITTED = 1, _("Newly submitted")
    ACCEPTED = 2, _("Accepted")
    REFUSED_AT_INTAKE = 3, _("Not accepted")
    PROCESSING = 4, _("Being processed")
    SUPPLEMENT_REQUESTED = 5, _("Supplement requested")
    PAYMENT_REQUESTED = 6, _("Awaiting payment")
    WITHDRAWN = 7, _("Withdrawn")
    STOPPED = 8, _("Processing stopped")
    FINISHED = 9, _("Processed")
    RETURNED = 10, _("Result returned")


# Statuses in which the dossier still needs work (the partial indexes use these).
OPEN_STATUSES = (
    DossierStatus.SUBMITTED,
    DossierStatus.ACCEPTED,
    DossierStatus.PROCESSING,
    DossierStatus.SUPPLEMENT_REQUESTED,
    DossierStatus.PAYMENT_REQUESTED,
)
# Statuses in which the legal clock runs.
CLOCK_RUNNING_STATUSES = (DossierStatus.ACCEPTED, DossierStatus.PROCESSING)
ENDED_STATUSES = (
    DossierStatus.REFUSED_AT_INTAKE,
    DossierStatus.WITHDRAWN,
    DossierStatus.STOPPED,
    DossierStatus.FINISHED,
    DossierStatus.RETURNED,
)


class Channel(models.IntegerChoices):
    DIRECT = 1, _("At the desk")
    ONLINE = 2, _("Online")
    POSTAL = 3, _("Public postal service")


class ApplicantType(models.TextChoices):
    INDIVIDUAL = "individual", _("Individual")
    ORGANISATION = "organisation", _("Organisation")


class ResultDelivery(models.TextChoices):
    DESK = "desk", _("At the one-stop desk")
    POST = "post", _("By post")
    ONLINE = "online", _("Online")


class OnTimeResult(models.TextChoices):
    EARLY = "early", _("Early")
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")


class Outcome(models.TextChoices):
    GRANTED = "granted", _("Granted")
    REFUSED = "refused", _("Refused")


class SupplementPolicy(models.TextChoices):
    # Decree 61/2018 art. 19(4) as amended: the time counts again from zero.
    RESTART = "restart", _("Restart the clock from zero")
    PAUSE = "pause", _("Pause the clock and shift the due time")


class StepRole(models.TextChoices):
    INTAKE = "intake", _("One-stop desk")
    SPECIALIST = "specialist", _("Specialist")
    UNIT_HEAD = "unit_head", _("Unit head")
    DIRECTOR = "director", _("Department director")


class Action(models.TextChoices):
    """What an event records; also the names of the staff API actions."""

    REGISTER = "register", _("Registered")
    ACCEPT = "accept", _("Accepted")
    REFUSE_INTAKE = "refuse_intake", _("Refused at intake")
    REQUEST_SUPPLEMENT = "request_supplement", _("Supplement requested")
    RECEIVE_SUPPLEMENT = "receive_supplement", _("Supplement received")
    REQUEST_PAYMENT = "request_payment", _("Payment requested")
    CONFIRM_PAYMENT = "confirm_payment", _("Payment confirmed")
    ASSIGN = "assign", _("Assigned")
    COMPLETE_STEP = "complete_step", _("Step completed")
    APOLOGISE = "apologise", _("Apology and new appointment")
    RESOLVE = "resolve", _("Resolved")
    RETURN_RESULT = "return_result", _("Result returned")
    WITHDRAW = "withdraw", _("Withdrawn")
    STOP = "stop", _("Processing stopped")
    UPLOAD = "upload", _("Document uploaded")
    RATE = "rate", _("Rated")


# Events whose note is written for the applicant (reasons, requests, what to pay, the
# result); other notes (hand-overs, assignments) are internal and never leave the
# department: the public look-up and the national portal sync both read this.
APPLICANT_NOTE_ACTIONS = frozenset(
    {
        Action.REFUSE_INTAKE,
        Action.REQUEST_SUPPLEMENT,
        Action.REQUEST_PAYMENT,
        Action.APOLOGISE,
        Action.RESOLVE,
        Action.STOP,
        Action.WITHDRAW,
        Action.RETURN_RESULT,
    }
)


class Role(models.TextChoices):
    """Staff groups (issue: roles as groups with permissions)."""

    INTAKE = "intake", _("Intake officer")
    SPECIALIST = "specialist", _("Specialist")
    UNIT_HEAD = "unit_head", _("Unit head")
    DIRECTOR = "director", _("Department director")
    CATALOGUE_ADMIN = "catalogue_admin", _("Catalogue administrator")


# Group names as staff see them in the admin (Vietnamese is the working language).
ROLE_GROUP_NAMES = {
    Role.INTAKE: "Một cửa",
    Role.SPECIALIST: "Chuyên viên",
    Role.UNIT_HEAD: "Lãnh đạo phòng",
    Role.DIRECTOR: "Lãnh đạo Sở",
    Role.CATALOGUE_ADMIN: "Quản trị danh mục",
}


class Satisfaction(models.TextChoices):
    VERY_SATISFIED = "very_satisfied", _("Very satisfied")
    SATISFIED = "satisfied", _("Satisfied")
    UNSATISFIED = "unsatisfied", _("Unsatisfied")


class ReportPeriod(models.TextChoices):
    MONTH = "month", _("Month")
    QUARTER = "quarter", _("Quarter")
    YEAR = "year", _("Year")
