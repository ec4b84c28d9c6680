"""The registry of message kinds: what the delivery ledger may carry and how to send it.

A kind is named by its key (``applicant.accepted``, ``staff.digest``,
``dialogue.promotion``...), stored on each ledger row. Its entry says

* which templates it renders: ``notifications/<key with / for .>_subject.txt`` and
  ``.txt`` (the subject is squeezed to one line);
* who receives it (:class:`Audience`) and by which channels;
* what the templates need (``context``: objects named by the row's payload) and the
  files built at send time (``attachments``);
* whether it is sent alone or only rides in a staff digest (reminder items).

The delivery code (``services``, ``delivery``, ``reminders``) reads this registry and
knows no app that plugs in: this module registers the procedures' own kinds, and an
app registers its kinds from its ``AppConfig.ready()`` (``<app>/notifications.py``).
A kind nobody registered is refused when queued and fails with the reason when a row
already holds it.
"""

from __future__ import annotations

import enum
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import translation

from procedures.core.constants import Action
from procedures.models import Delivery, DeliveryChannel, Dossier, DossierEvent, DossierStep

if TYPE_CHECKING:
    from django.contrib.auth.models import User


class UnknownMessageKind(LookupError):
    """A kind that no app registered: a programming error, not the user's."""

    def __init__(self, key: str):
        self.key = key
        known = ", ".join(sorted(_REGISTRY)) or "none"
        super().__init__(
            f"unknown message kind {key!r}: register it with "
            f"procedures.notifications.kinds.register() (known kinds: {known})"
        )


class Audience(enum.StrEnum):
    # Email addresses the caller names (an applicant, a business, a unit's mailbox),
    # in the language the caller gives.
    ADDRESSES = "addresses"
    # A staff account: by the channels the officer chose, in the officer's language.
    STAFF = "staff"
    # A machine peer (the national portal): rows queued by its own module on its own
    # channel, sent by that module, never rendered from templates.
    SERVICE = "service"


class Recipient(NamedTuple):
    address: str  # the ledger's recipient: an email address or "user:<id>"
    channel: str
    language: str
    user: User | None = None


# (file name, content, MIME type)
Attachment = tuple[str, str, str]
ContextLoader = Callable[[Delivery], dict[str, Any]]
AttachmentBuilder = Callable[[Delivery], list[Attachment]]


@dataclass(frozen=True)
class MessageKind:
    key: str
    audience: Audience
    context: ContextLoader | None = None
    attachments: AttachmentBuilder | None = None
    # False for a reminder item: a row that only rides in a staff digest.
    sent_alone: bool = True
    # Channels beyond the audience's own: an applicant's SMS (sms.py), the portal sync.
    extra_channels: tuple[str, ...] = ()

    @property
    def channels(self) -> tuple[str, ...]:
        if self.audience == Audience.STAFF:
            return (DeliveryChannel.EMAIL, DeliveryChannel.IN_APP, *self.extra_channels)
        if self.audience == Audience.SERVICE:
            return self.extra_channels
        return (DeliveryChannel.EMAIL, *self.extra_channels)

    @property
    def template(self) -> str:
        return "notifications/" + self.key.replace(".", "/")

    def recipients(
        self, *, user: User | None = None, addresses: Iterable[str] = (), language: str = "vi"
    ) -> list[Recipient]:
        """Who gets a row: the officer by each chosen channel, or each distinct address."""
        if self.audience == Audience.STAFF:
            if user is None or not user.is_active:
                return []
            return [
                Recipient(staff_address(user, channel), channel, staff_language(user), user)
                for channel in staff_channels(user)
            ]
        if self.audience == Audience.SERVICE:
            return []  # queued by the peer's own module (national_sync.py)
        unique = dict.fromkeys(a for a in addresses if a)
        return [Recipient(a, DeliveryChannel.EMAIL, language) for a in unique]

    def render(self, delivery: Delivery) -> tuple[str, str]:
        """Subject (one line) and body in the recipient's language."""
        if not self.sent_alone:
            raise ValueError(f"{self.key} rides in a digest and is not rendered alone")
        with translation.override(delivery.language or "vi"):
            ctx: dict[str, Any] = {
                "delivery": delivery,
                "department_name": settings.DEPARTMENT_NAME,
                "site_url": settings.SITE_URL,
            }
            if self.context is not None:
                ctx.update(self.context(delivery))
            ctx.update(delivery.payload.get("context", {}))
            subject = render_to_string(f"{self.template}_subject.txt", ctx)
            body = render_to_string(f"{self.template}.txt", ctx)
        return " ".join(subject.split()), body

    def files(self, delivery: Delivery) -> list[Attachment]:
        return self.attachments(delivery) if self.attachments is not None else []


_REGISTRY: dict[str, MessageKind] = {}


def register(*kinds: MessageKind) -> None:
    """Add kinds; registering the same key twice with a different entry is an error
    (two apps would be sending different messages under one name)."""
    for kind in kinds:
        known = _REGISTRY.get(kind.key)
        if known is not None and known != kind:
            raise ValueError(f"message kind {kind.key!r} is registered twice")
        _REGISTRY[kind.key] = kind


def unregister(key: str) -> None:
    _REGISTRY.pop(key, None)


def get_kind(key: str) -> MessageKind:
    try:
        return _REGISTRY[key]
    except KeyError:
        raise UnknownMessageKind(key) from None


def registered_kinds() -> list[MessageKind]:
    return sorted(_REGISTRY.values(), key=lambda k: k.key)


# --------------------------------------------------------------------------- recipients


def staff_channels(user) -> list[str]:
    """The officer's choice (StaffProfile.notify_by_email / notify_in_app)."""
    profile = getattr(user, "staff_profile", None)
    channels: list[str] = []
    if (profile is None or profile.notify_by_email) and user.email:
        channels.append(DeliveryChannel.EMAIL)
    if profile is not None and profile.notify_in_app:
        channels.append(DeliveryChannel.IN_APP)
    return channels


def staff_address(user, channel: str) -> str:
    """Ledger recipient: the email address, or the account for the in-app list."""
    return user.email if channel == DeliveryChannel.EMAIL else f"user:{user.pk}"


def staff_language(user) -> str:
    profile = getattr(user, "staff_profile", None)
    return profile.language if profile else "vi"


# --------------------------------------------------------------------------- the procedures' kinds


def dossier_context(delivery: Delivery) -> dict[str, Any]:
    payload = delivery.payload
    ctx: dict[str, Any] = {}
    if "dossier_id" in payload:
        ctx["dossier"] = Dossier.objects.select_related("procedure").get(pk=payload["dossier_id"])
    if "event_id" in payload:
        ctx["event"] = DossierEvent.objects.get(pk=payload["event_id"])
    return ctx


# Sections of a staff digest, in the order they are printed: (item kind, section name).
DIGEST_SECTIONS = [
    ("reminder.overdue", "overdue"),
    ("reminder.due_today", "due_today"),
    ("reminder.due_soon", "due_soon"),
    ("reminder.awaiting_intake", "awaiting_intake"),
    ("reminder.unit_overdue", "unit_overdue"),
    ("reminder.overdue_summary", "overdue_summary"),
]
DIGEST_KIND = "staff.digest"


def digest_context(delivery: Delivery) -> dict[str, Any]:
    """Load the digest's items with three queries, whatever their number: its own, or
    those of the person's digest of the same sweep it shares them with (``items_of``)."""
    items = list(
        Delivery.objects.filter(digest_id=delivery.payload.get("items_of") or delivery.pk)
        .order_by("kind", "id")
        .values("kind", "payload")
    )
    dossier_ids = {i["payload"].get("dossier_id") for i in items} - {None}
    step_ids = {i["payload"].get("step_id") for i in items} - {None}
    dossiers = Dossier.objects.select_related(
        "procedure", "assigned_unit", "assigned_officer"
    ).in_bulk(dossier_ids)
    steps = DossierStep.objects.in_bulk(step_ids)
    sections: dict[str, list[dict]] = defaultdict(list)
    for item in items:
        payload = item["payload"]
        entry = dict(payload)
        entry["dossier"] = dossiers.get(payload.get("dossier_id"))
        entry["step"] = steps.get(payload.get("step_id"))
        if "due_at" in payload:
            entry["due_at"] = datetime.fromisoformat(payload["due_at"])
        if payload.get("apology_by"):
            entry["apology_by"] = datetime.fromisoformat(payload["apology_by"])
        if payload.get("submitted_at"):
            entry["submitted_at"] = datetime.fromisoformat(payload["submitted_at"])
        sections[item["kind"]].append(entry)
    by_name = {name: sections.get(kind, []) for kind, name in DIGEST_SECTIONS}
    summary_total = sum(s.get("total", 0) for s in by_name["overdue_summary"])
    ctx: dict[str, Any] = {
        "sections": by_name,
        "item_count": len(items),
        # The subject counts what the reader must act on, their unit's and the
        # department's overdue dossiers included.
        "counts": {
            "overdue": max(len(by_name["overdue"]) + len(by_name["unit_overdue"]), summary_total),
            "due_today": len(by_name["due_today"]),
            "due_soon": len(by_name["due_soon"]),
            "awaiting_intake": len(by_name["awaiting_intake"]),
        },
    }
    if delivery.payload.get("day"):
        ctx["day"] = datetime.fromisoformat(delivery.payload["day"]).date()
    return ctx


# What a dossier event tells the applicant (portal issue, item 8) ...
APPLICANT_KINDS: dict[str, str] = {
    Action.REGISTER: "applicant.receipt",
    Action.ACCEPT: "applicant.accepted",
    Action.REFUSE_INTAKE: "applicant.refused",
    Action.REQUEST_SUPPLEMENT: "applicant.supplement_requested",
    Action.REQUEST_PAYMENT: "applicant.payment_requested",
    Action.APOLOGISE: "applicant.apology",
    Action.RESOLVE: "applicant.result_ready",
}
# ... and the assigned officer.
STAFF_KINDS: dict[str, str] = {
    Action.ASSIGN: "staff.assigned",
    Action.RECEIVE_SUPPLEMENT: "staff.supplement_received",
    Action.CONFIRM_PAYMENT: "staff.payment_confirmed",
}

register(
    *(
        MessageKind(
            k,
            Audience.ADDRESSES,
            context=dossier_context,
            extra_channels=(DeliveryChannel.SMS,),
        )
        for k in APPLICANT_KINDS.values()
    ),
    *(MessageKind(k, Audience.STAFF, context=dossier_context) for k in STAFF_KINDS.values()),
    MessageKind(DIGEST_KIND, Audience.STAFF, context=digest_context),
    *(MessageKind(k, Audience.STAFF, sent_alone=False) for k, _name in DIGEST_SECTIONS),
)
