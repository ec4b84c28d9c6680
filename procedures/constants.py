"""Choices of the procedure catalogue (domain.md section 1)."""
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
