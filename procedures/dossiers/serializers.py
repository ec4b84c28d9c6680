"""Representations of dossiers for staff, the public look-up, and the action bodies.

Serializers here only shape data: every rule lives in procedures.dossiers.services.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from procedures.calendar.api import AwareDateTimeField
from procedures.core.constants import (
    APPLICANT_NOTE_ACTIONS,
    Action,
    Channel,
    DossierStatus,
    OnTimeResult,
    Outcome,
)
from procedures.core.labels import choice_label
from procedures.core.people import staff_display_name
from procedures.models import Dossier, DossierDocument, DossierEvent, DossierStep


class BlankAsNullChoiceField(serializers.ChoiceField):
    """One of the documented values, or null while there is none yet.

    The database keeps "" for "not yet" (an on-time result before the dossier is
    finished, an outcome before it is decided); "" is not in the schema's enum, so the
    API says null (issue 11 item 11: responses broke the schema's enum)."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices=choices, allow_null=True, read_only=True, **kwargs)

    def to_representation(self, value):
        return value or None


def OnTimeResultField(**kwargs) -> BlankAsNullChoiceField:  # noqa: N802 (a field factory)
    return BlankAsNullChoiceField(OnTimeResult.choices, **kwargs)


class StaffRefSerializer(serializers.Serializer):
    username = serializers.CharField()
    name = serializers.SerializerMethodField()

    def get_name(self, user) -> str:
        return staff_display_name(user)


class UnitRefSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()


class ProcedureRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(allow_null=True, help_text=_("National code, e.g. 2.000633."))
    name = serializers.CharField()


class FieldRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


# ---------------------------------------------------------------- staff views


class DossierListSerializer(serializers.ModelSerializer):
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    channel_label = serializers.CharField(source="get_channel_display", read_only=True)
    procedure = ProcedureRefSerializer(read_only=True)
    field = FieldRefSerializer(source="procedure.field", read_only=True)
    assigned_unit = UnitRefSerializer(read_only=True, allow_null=True)
    assigned_officer = StaffRefSerializer(read_only=True, allow_null=True)
    on_time_result = OnTimeResultField()

    class Meta:
        model = Dossier
        fields = [
            "code",
            "submission_ref",
            "status",
            "status_label",
            "channel",
            "channel_label",
            "procedure",
            "field",
            "applicant_type",
            "applicant_name",
            "applicant_id_number",
            "submitted_at",
            "accepted_at",
            "original_due_at",
            "due_at",
            "finished_at",
            "ended_at",
            "reappointment_count",
            "on_time_result",
            "assigned_unit",
            "assigned_officer",
            "version",
        ]
        read_only_fields = fields


class DossierStepSerializer(serializers.ModelSerializer):
    unit = UnitRefSerializer(read_only=True, allow_null=True)
    officer = StaffRefSerializer(read_only=True, allow_null=True)
    on_time_result = OnTimeResultField()

    class Meta:
        model = DossierStep
        fields = [
            "order",
            "name",
            "role",
            "unit",
            "officer",
            "allotted_seconds",
            "started_at",
            "due_at",
            "completed_at",
            "working_seconds_used",
            "on_time_result",
            "note",
        ]
        read_only_fields = fields


class DossierEventSerializer(serializers.ModelSerializer):
    action_label = serializers.CharField(source="get_action_display", read_only=True)
    actor = StaffRefSerializer(read_only=True, allow_null=True)

    class Meta:
        model = DossierEvent
        fields = [
            "action",
            "action_label",
            "at",
            "actor",
            "by_applicant",
            "from_status",
            "to_status",
            "note",
            "data",
        ]
        read_only_fields = fields


class DossierDocumentSerializer(serializers.ModelSerializer):
    # Metadata only: files are private and downloaded through the staff pages.
    class Meta:
        model = DossierDocument
        fields = [
            "id",
            "slot_id",
            "original_name",
            "size",
            "content_type",
            "sha256",
            "version",
            "by_applicant",
            "is_result",
            "created_at",
        ]
        read_only_fields = fields


class DossierDetailSerializer(DossierListSerializer):
    steps = DossierStepSerializer(many=True, read_only=True)
    events = DossierEventSerializer(many=True, read_only=True)
    documents = DossierDocumentSerializer(many=True, read_only=True)
    received_by = StaffRefSerializer(read_only=True, allow_null=True)
    outcome = BlankAsNullChoiceField(Outcome.choices)
    transfer_on_time_result = OnTimeResultField()

    class Meta(DossierListSerializer.Meta):
        fields = DossierListSerializer.Meta.fields + [
            "applicant_address",
            "applicant_phone",
            "applicant_email",
            "applicant_language",
            "result_delivery",
            "note",
            "processing_amount",
            "processing_unit",
            "fee_vnd",
            "fee_text",
            "clock_started_at",
            "paused_at",
            "paused_seconds",
            "returned_at",
            "supplement_count",
            "supplement_repeats",
            "supplement_reason",
            "payment_note",
            "transfer_due_at",
            "transferred_at",
            "transfer_on_time_result",
            "outcome",
            "outcome_note",
            "working_seconds_used",
            "received_by",
            "steps",
            "events",
            "documents",
        ]
        read_only_fields = fields


class DossierListQuerySerializer(serializers.Serializer):
    """Filters of GET /api/v1/dossiers/ (all optional, combined with AND)."""

    status = serializers.ListField(
        child=serializers.ChoiceField(choices=DossierStatus.choices),
        required=False,
        help_text=_("Status code 1-10; repeat the parameter for several."),
    )
    # Ids fit a 32-bit key: a larger number is a 400, not an overflow in the database.
    field = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=_("Field id.")
    )
    procedure = serializers.IntegerField(
        required=False, min_value=1, max_value=2**31 - 1, help_text=_("Procedure id.")
    )
    unit = serializers.CharField(
        required=False, max_length=30, help_text=_("Code of the assigned unit, e.g. QLTM.")
    )
    officer = serializers.CharField(
        required=False, max_length=150, help_text=_("Username of the assigned officer.")
    )
    channel = serializers.ChoiceField(choices=Channel.choices, required=False)
    due_before = AwareDateTimeField(
        required=False, help_text=_("Current due time before this moment.")
    )
    due_after = AwareDateTimeField(
        required=False, help_text=_("Current due time at or after this moment.")
    )
    on_time_result = serializers.ChoiceField(choices=OnTimeResult.choices, required=False)
    search = serializers.CharField(
        required=False,
        max_length=100,
        allow_blank=True,
        help_text=_(
            "A dossier code (or its beginning), the applicant's citizen ID or tax code, "
            "or words of the applicant's name."
        ),
    )

    def validate(self, attrs):
        before, after = attrs.get("due_before"), attrs.get("due_after")
        if before and after and after >= before:
            raise serializers.ValidationError(
                {"due_after": [_("due_after must be earlier than due_before.")]}
            )
        return attrs


# ---------------------------------------------------------------- actions


class ActionSerializer(serializers.Serializer):
    """Every action carries the version of the dossier the officer was looking at."""

    expected_version = serializers.IntegerField(
        min_value=1,
        max_value=2**31 - 1,
        help_text=_(
            "The dossier's `version` as last read. If someone acted in between, the "
            "action is refused with 409 instead of overwriting their change."
        ),
    )


class NoteActionSerializer(ActionSerializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ReasonActionSerializer(ActionSerializer):
    reason = serializers.CharField(
        allow_blank=True, max_length=5000, help_text=_("Shown to the applicant.")
    )


class SupplementRequestSerializer(ReasonActionSerializer):
    applicant_supplement_incomplete = serializers.BooleanField(
        required=False,
        default=False,
        help_text=_(
            "A second request at intake: the applicant's supplement was itself "
            "incomplete. Recorded as such; refused without it."
        ),
    )


class OptionalReasonActionSerializer(ActionSerializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class PaymentRequestSerializer(ActionSerializer):
    note = serializers.CharField(
        allow_blank=True, max_length=5000, help_text=_("What must be paid, how much and how.")
    )


class AssignSerializer(ActionSerializer):
    unit = serializers.CharField(max_length=30, help_text=_("Unit code, e.g. QLTM."))
    officer = serializers.CharField(
        required=False,
        allow_blank=True,
        allow_null=True,
        max_length=150,
        help_text=_("Username of the officer."),
    )
    note = serializers.CharField(required=False, allow_blank=True, max_length=5000, default="")


class ApologiseSerializer(ActionSerializer):
    new_due_at = AwareDateTimeField(
        help_text=_("New appointment, ISO 8601 with UTC offset, e.g. 2026-06-12T16:00:00+07:00.")
    )
    reason = serializers.CharField(
        allow_blank=True,
        max_length=5000,
        help_text=_("Reason for the delay, shown to the applicant."),
    )


class ResolveSerializer(ActionSerializer):
    outcome = serializers.ChoiceField(choices=Outcome.choices)
    note = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        default="",
        help_text=_("The result, or the reasons of a refusal."),
    )


class DomainErrorSerializer(serializers.Serializer):
    detail = serializers.CharField(help_text=_("What went wrong, in the user's language."))
    field = serializers.CharField(allow_null=True, help_text=_("Input at fault, if any."))
    code = serializers.CharField(
        allow_null=True,
        help_text=_(
            "Stable code, e.g. illegal_transition, conflict, forbidden, supplement_too_late."
        ),
    )


# ---------------------------------------------------------------- public look-up


class LookupQuerySerializer(serializers.Serializer):
    code = serializers.CharField(max_length=40, help_text=_("Dossier code on the receipt."))
    pin = serializers.CharField(max_length=20, help_text=_("Look-up PIN on the receipt."))


class LookupEventSerializer(serializers.Serializer):
    """One event of the public timeline. Labels come from `choice_label` (one dict per
    language), not get_*_display(), which translates every choice at each call."""

    action = serializers.CharField()
    action_label = serializers.SerializerMethodField()
    at = serializers.DateTimeField()
    from_status = serializers.IntegerField(allow_null=True)
    to_status = serializers.IntegerField(allow_null=True)
    to_status_label = serializers.SerializerMethodField()
    note = serializers.SerializerMethodField(
        help_text=_("Only for reasons, requests and results addressed to the applicant.")
    )

    def get_action_label(self, event) -> str:
        return choice_label(Action, event.action)

    def get_to_status_label(self, event) -> str | None:
        return choice_label(DossierStatus, event.to_status) if event.to_status else None

    def get_note(self, event) -> str:
        return event.note if event.action in APPLICANT_NOTE_ACTIONS else ""


# Text that is null when it does not apply (the schema must say so: issue 11 item 11).
_NULLABLE_TEXT = serializers.CharField(allow_null=True)


class LookupSerializer(serializers.Serializer):
    """What the applicant sees with code and PIN: no staff, no ID number, no contacts."""

    code = serializers.CharField()
    submission_ref = serializers.CharField()
    procedure_name = serializers.CharField(source="procedure.name")
    applicant_name = serializers.CharField()
    status = serializers.IntegerField()
    status_label = serializers.SerializerMethodField()
    channel = serializers.IntegerField()
    submitted_at = serializers.DateTimeField()
    accepted_at = serializers.DateTimeField(allow_null=True)
    due_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    returned_at = serializers.DateTimeField(allow_null=True)
    on_time_result = OnTimeResultField()
    on_time_result_label = serializers.SerializerMethodField()
    supplement_reason = serializers.SerializerMethodField(
        help_text=_("What is missing; only while a supplement is requested (status 5).")
    )
    payment_note = serializers.SerializerMethodField(
        help_text=_("What to pay; only while payment is awaited (status 6).")
    )
    outcome = serializers.SerializerMethodField(help_text=_("Only once processed (status 9, 10)."))
    outcome_label = serializers.SerializerMethodField()
    outcome_note = serializers.SerializerMethodField()
    timeline = serializers.SerializerMethodField(
        help_text=_("Every event, oldest first; notes only where addressed to the applicant.")
    )

    @extend_schema_field(LookupEventSerializer(many=True))
    def get_timeline(self, d) -> list:
        # The view reads the events only once the PIN matched, and passes them here.
        return LookupEventSerializer(self.context["events"], many=True).data

    def get_status_label(self, d) -> str:
        return choice_label(DossierStatus, d.status)

    def get_on_time_result_label(self, d) -> str:
        return choice_label(OnTimeResult, d.on_time_result) if d.on_time_result else ""

    @extend_schema_field(_NULLABLE_TEXT)
    def get_supplement_reason(self, d) -> str | None:
        return d.supplement_reason if d.status == DossierStatus.SUPPLEMENT_REQUESTED else None

    @extend_schema_field(_NULLABLE_TEXT)
    def get_payment_note(self, d) -> str | None:
        return d.payment_note if d.status == DossierStatus.PAYMENT_REQUESTED else None

    def _done(self, d) -> bool:
        return d.status in (DossierStatus.FINISHED, DossierStatus.RETURNED)

    @extend_schema_field(serializers.ChoiceField(choices=Outcome.choices, allow_null=True))
    def get_outcome(self, d) -> str | None:
        return d.outcome if self._done(d) else None

    @extend_schema_field(_NULLABLE_TEXT)
    def get_outcome_label(self, d) -> str | None:
        return choice_label(Outcome, d.outcome) if self._done(d) and d.outcome else None

    @extend_schema_field(_NULLABLE_TEXT)
    def get_outcome_note(self, d) -> str | None:
        return d.outcome_note if self._done(d) else None


class LookupNotFoundSerializer(serializers.Serializer):
    detail = serializers.CharField()


# ------------------------------------------------------ the look-up, without DRF fields

_datetime = serializers.DateTimeField()


def _at(value) -> str | None:
    # DRF's own DateTimeField: the same text (current time zone, ISO 8601, "Z" for UTC).
    return None if value is None else _datetime.to_representation(value)


def lookup_payload(d: Dossier, events) -> dict:
    """What `LookupSerializer` gives for `d` and its `events`, built directly (`d` from
    `lookup_selectors.lookup_dossier`, which sets `procedure_name`).

    The serializer stays as the documented schema; at look-up rates its per-field
    machinery (copying its fields, one method call per field and per event) cost
    more than the queries. tests/procedures/test_api_lookup.py checks both agree.
    """
    status = d.status
    done = status in (DossierStatus.FINISHED, DossierStatus.RETURNED)
    return {
        "code": d.code,
        "submission_ref": d.submission_ref,
        "procedure_name": d.procedure_name,
        "applicant_name": d.applicant_name,
        "status": status,
        "status_label": choice_label(DossierStatus, status),
        "channel": d.channel,
        "submitted_at": _at(d.submitted_at),
        "accepted_at": _at(d.accepted_at),
        "due_at": _at(d.due_at),
        "finished_at": _at(d.finished_at),
        "returned_at": _at(d.returned_at),
        "on_time_result": d.on_time_result or None,
        "on_time_result_label": (
            choice_label(OnTimeResult, d.on_time_result) if d.on_time_result else ""
        ),
        "supplement_reason": (
            d.supplement_reason if status == DossierStatus.SUPPLEMENT_REQUESTED else None
        ),
        "payment_note": d.payment_note if status == DossierStatus.PAYMENT_REQUESTED else None,
        "outcome": d.outcome if done else None,
        "outcome_label": choice_label(Outcome, d.outcome) if done and d.outcome else None,
        "outcome_note": d.outcome_note if done else None,
        "timeline": [
            {
                "action": e.action,
                "action_label": choice_label(Action, e.action),
                "at": _at(e.at),
                "from_status": e.from_status,
                "to_status": e.to_status,
                "to_status_label": (
                    choice_label(DossierStatus, e.to_status) if e.to_status else None
                ),
                "note": e.note if e.action in APPLICANT_NOTE_ACTIONS else "",
            }
            for e in events
        ],
    }
