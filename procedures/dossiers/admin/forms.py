"""Forms of the dossier admin: one per transition, and the desk registration form.

Forms only collect and check input; every change goes through the service of the
action (procedures/dossiers/services.py), which re-checks role, status and version.
Each form carries the dossier version it was drawn from, so an officer acting on a
stale page gets a conflict instead of overwriting a colleague's work.
"""

from __future__ import annotations

from datetime import datetime

from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from procedures.core.constants import (
    Action,
    ApplicantType,
    Channel,
    DossierStatus,
    Outcome,
    ResultDelivery,
)
from procedures.core.errors import DomainError, apply_domain_error
from procedures.core.people import staff_display_name
from procedures.core.roles import may_perform
from procedures.dossiers import services as svc
from procedures.dossiers.actions import ACTIONS, TRANSITIONS, ActionDef, action_def
from procedures.models import Dossier, Procedure, Unit

S = DossierStatus


def dossier_actions_available(
    *, dossier: Dossier, user, has_open_step: bool | None = None
) -> list[str]:
    """The transitions `user` may perform on `dossier` now, in button order.

    Role and status decide, as the registry says (procedures/dossiers/actions.py),
    in its order (the usual next step first, the exits last); the caller has already checked that
    the user may see the dossier. Two facts already on the page narrow it further:
    an appointment moved once cannot be moved again, and a step can be handed over
    only while one is open (`has_open_step`, when the caller knows it).
    """
    out = []
    for action, definition in ACTIONS.items():
        if dossier.status not in definition.sources or not may_perform(user, action):
            continue
        if action == Action.APOLOGISE and dossier.reappointment_count >= 1:
            continue
        if action == Action.COMPLETE_STEP and has_open_step is False:
            continue
        out.append(str(action))
    return out


# ---------------------------------------------------------------- files


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; cleans to a list (possibly empty)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, (list, tuple)):
            return [super(MultipleFileField, self).clean(f, initial) for f in data if f]
        return [super().clean(data, initial)] if data else []


def _check_files(uploads, *, slot_id: int | None) -> list[svc.UploadedDocument]:
    """Size, then type by content, then name: the portal's rules (procedures/core/uploads.py)."""
    from procedures.core.uploads import check_upload

    return [check_upload(f, slot_id=slot_id) for f in uploads]


def _check_totals(documents, *, dossier: Dossier | None = None) -> None:
    from procedures.core.uploads import check_totals

    existing_count = existing_bytes = 0
    if dossier is not None:
        sizes = list(dossier.documents.values_list("size", flat=True))
        existing_count, existing_bytes = len(sizes), sum(sizes)
    check_totals(documents, existing_count=existing_count, existing_bytes=existing_bytes)


# ---------------------------------------------------------------- action forms


class ActionForm(forms.Form):
    """Base of the transition forms: the version drawn, and a `perform` calling the service.

    The title (button and heading), the introduction, the submit label and the service
    come from the action's entry in the registry (procedures/dossiers/actions.py); a
    subclass adds only its fields. Field names are the service's keyword arguments,
    except `files`, which the services call `documents`.
    """

    action: str = ""
    has_files = False

    expected_version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, dossier: Dossier, user, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("expected_version", dossier.version)
        super().__init__(*args, **kwargs)
        self.dossier = dossier
        self.user = user

    @classmethod
    def definition(cls) -> ActionDef:
        return action_def(cls.action)

    @property
    def title(self):
        return self.definition().label

    @property
    def intro(self):
        return self.definition().help_text

    @property
    def submit_label(self):
        return self.definition().submit_label

    def perform(self, *, now: datetime):
        """Call the action's service with the cleaned input."""
        data = dict(self.cleaned_data)
        expected_version = data.pop("expected_version")
        if "files" in data:
            data["documents"] = data.pop("files")
        return self.definition().service(
            dossier=self.dossier,
            actor=self.user,
            now=now,
            expected_version=expected_version,
            **data,
        )

    def apply_error(self, exc: DomainError) -> None:
        apply_domain_error(self, exc)


def _reason(label, help_text=""):
    return forms.CharField(
        label=label, help_text=help_text, widget=forms.Textarea(attrs={"rows": 4, "cols": 80})
    )


NOTE_LABEL = gettext_lazy("Note")


def _note(label=NOTE_LABEL, required=False):
    return forms.CharField(
        label=label, required=required, widget=forms.Textarea(attrs={"rows": 3, "cols": 80})
    )


class AcceptForm(ActionForm):
    action = Action.ACCEPT


class RefuseIntakeForm(ActionForm):
    action = Action.REFUSE_INTAKE
    reason = _reason(gettext_lazy("Reasons for refusing"))


class RequestSupplementForm(ActionForm):
    action = Action.REQUEST_SUPPLEMENT
    reason = _reason(gettext_lazy("What is missing or must be corrected"))
    applicant_supplement_incomplete = forms.BooleanField(
        required=False,
        label=gettext_lazy("The applicant's supplement was itself incomplete"),
        help_text=gettext_lazy(
            "Only for a second request at intake: guidance is given once "
            "and completely, so a new request is recorded as caused by "
            "the applicant."
        ),
    )


class ReceiveSupplementForm(ActionForm):
    action = Action.RECEIVE_SUPPLEMENT
    has_files = True
    files = MultipleFileField(label=gettext_lazy("Files"))
    note = _note()

    def clean_files(self):
        documents = _check_files(self.cleaned_data["files"], slot_id=None)
        _check_totals(documents, dossier=self.dossier)
        return documents


class RequestPaymentForm(ActionForm):
    action = Action.REQUEST_PAYMENT
    note = _note(gettext_lazy("What must be paid, how much and how"), required=True)


class ConfirmPaymentForm(ActionForm):
    action = Action.CONFIRM_PAYMENT
    note = _note()


class OfficerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, user):
        name = staff_display_name(user)
        unit = getattr(getattr(user, "staff_profile", None), "unit", None)
        return f"{name} ({unit.code})" if unit else name


class AssignForm(ActionForm):
    action = Action.ASSIGN
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Processing unit"), queryset=Unit.objects.order_by("name")
    )
    officer = OfficerChoiceField(
        label=gettext_lazy("Officer"),
        required=False,
        queryset=get_user_model().objects.none(),
        help_text=gettext_lazy(
            "Must belong to the chosen unit. Leave empty to let the unit head choose."
        ),
    )
    note = _note()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["officer"].queryset = (
            get_user_model()
            .objects.filter(is_active=True, staff_profile__unit__isnull=False)
            .select_related("staff_profile__unit")
            .order_by("staff_profile__unit__code", "last_name", "first_name")
        )
        if self.dossier.assigned_unit_id:
            self.initial.setdefault("unit", self.dossier.assigned_unit_id)
        elif self.dossier.procedure.implementing_unit_id:
            self.initial.setdefault("unit", self.dossier.procedure.implementing_unit_id)
        if self.dossier.assigned_officer_id:
            self.initial.setdefault("officer", self.dossier.assigned_officer_id)


class CompleteStepForm(ActionForm):
    action = Action.COMPLETE_STEP
    note = _note()


class ApologiseForm(ActionForm):
    action = Action.APOLOGISE
    new_due_at = forms.DateTimeField(
        label=gettext_lazy("New appointment"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text=gettext_lazy("Local time (Asia/Ho_Chi_Minh)."),
    )
    reason = _reason(gettext_lazy("Reason for the delay"))


class ResolveForm(ActionForm):
    action = Action.RESOLVE
    has_files = True
    outcome = forms.ChoiceField(
        label=gettext_lazy("Outcome"), choices=Outcome.choices, widget=forms.RadioSelect
    )
    note = _note(gettext_lazy("Result or reasons"))
    files = MultipleFileField(label=gettext_lazy("Result documents"))

    def clean_files(self):
        documents = _check_files(self.cleaned_data["files"], slot_id=None)
        _check_totals(documents, dossier=self.dossier)
        return documents


class ReturnResultForm(ActionForm):
    action = Action.RETURN_RESULT
    note = _note()


class WithdrawForm(ActionForm):
    action = Action.WITHDRAW
    reason = forms.CharField(
        label=gettext_lazy("Applicant's request"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "cols": 80}),
    )


class StopForm(ActionForm):
    action = Action.STOP
    reason = _reason(gettext_lazy("Reasons for stopping"))


ACTION_FORMS: dict[str, type[ActionForm]] = {
    form.action: form
    for form in [
        AcceptForm,
        RefuseIntakeForm,
        RequestSupplementForm,
        ReceiveSupplementForm,
        RequestPaymentForm,
        ConfirmPaymentForm,
        AssignForm,
        CompleteStepForm,
        ApologiseForm,
        ResolveForm,
        ReturnResultForm,
        WithdrawForm,
        StopForm,
    ]
}
assert set(ACTION_FORMS) == set(TRANSITIONS), "every transition needs a form"


# ---------------------------------------------------------------- registration at the desk


class ProcedureChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, procedure):
        return f"{procedure.code} — {procedure.name}" if procedure.code else procedure.name


class RegisterProcedureForm(forms.Form):
    """Step 1: which procedure; its published documents make the upload slots of step 2."""

    procedure = ProcedureChoiceField(
        label=gettext_lazy("Procedure"),
        queryset=Procedure.objects.accepting_dossiers()
        .select_related("field")
        .order_by("field__order", "field__name", "code"),
    )


class RegisterForm(forms.Form):
    """Step 2: the applicant, the channel and one file input per required document."""

    procedure = forms.ModelChoiceField(
        queryset=Procedure.objects.accepting_dossiers(), widget=forms.HiddenInput
    )
    applicant_type = forms.ChoiceField(
        label=gettext_lazy("Applicant type"),
        choices=ApplicantType.choices,
        initial=ApplicantType.INDIVIDUAL,
    )
    applicant_name = forms.CharField(label=gettext_lazy("Applicant name"), max_length=255)
    applicant_id_number = forms.CharField(
        label=gettext_lazy("Citizen ID or tax code"),
        max_length=20,
        help_text=gettext_lazy(
            "Citizen ID (12 digits) for individuals, tax code (10 or 13 digits) for organisations."
        ),
    )
    applicant_address = forms.CharField(
        label=gettext_lazy("Address"), max_length=500, required=False
    )
    applicant_phone = forms.CharField(label=gettext_lazy("Phone"), max_length=20, required=False)
    applicant_sms_consent = forms.BooleanField(
        label=gettext_lazy("The applicant agrees to SMS updates at this phone number"),
        required=False,
    )
    applicant_email = forms.EmailField(label=gettext_lazy("Email"), required=False)
    applicant_language = forms.ChoiceField(
        label=gettext_lazy("Applicant's language"),
        choices=Dossier._meta.get_field("applicant_language").choices,
        initial="vi",
    )
    channel = forms.TypedChoiceField(
        label=gettext_lazy("Channel"),
        coerce=int,
        initial=Channel.DIRECT,
        choices=[
            (Channel.DIRECT.value, Channel.DIRECT.label),
            (Channel.POSTAL.value, Channel.POSTAL.label),
        ],
        help_text=gettext_lazy("Online dossiers are submitted by the applicant on the portal."),
    )
    result_delivery = forms.ChoiceField(
        label=gettext_lazy("Result delivery"),
        choices=ResultDelivery.choices,
        initial=ResultDelivery.DESK,
    )
    note = _note(gettext_lazy("Applicant's note"))
    accept_now = forms.BooleanField(
        label=gettext_lazy("The dossier is complete: accept it now"),
        required=False,
        help_text=gettext_lazy(
            "Starts the processing time and issues the receipt (form 01). "
            "Leave unticked to check it first or to request a supplement "
            "(form 02)."
        ),
    )

    def __init__(self, *args, procedure: Procedure, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.initial.setdefault("procedure", procedure.pk)
        self.slots = list(procedure.documents.all())
        self.slot_fields = []
        for slot in self.slots:
            name = f"slot_{slot.pk}"
            label = slot.name
            self.fields[name] = MultipleFileField(
                label=label,
                help_text=(
                    _(
                        "%(kind)s, %(copies)d copy/copies. Mandatory: if it is missing, "
                        "register the dossier and request a supplement."
                    )
                    if slot.mandatory
                    else _("%(kind)s, %(copies)d copy/copies. Optional.")
                )
                % {"kind": slot.get_kind_display(), "copies": slot.copies},
            )
            self.slot_fields.append(name)
        self.fields["other_files"] = MultipleFileField(label=gettext_lazy("Other documents"))

    def applicant_fields(self):
        return [self[name] for name in self.fields if name.startswith("applicant_")]

    def dossier_fields(self):
        return [self[n] for n in ("channel", "result_delivery", "note", "accept_now")]

    def file_fields(self):
        return [self[n] for n in (*self.slot_fields, "other_files")]

    def clean(self):
        data = super().clean()
        documents = []
        errors = {}
        for slot in self.slots:
            name = f"slot_{slot.pk}"
            try:
                documents.extend(_check_files(data.get(name) or [], slot_id=slot.pk))
            except ValidationError as exc:
                errors[name] = exc
        try:
            documents.extend(_check_files(data.get("other_files") or [], slot_id=None))
        except ValidationError as exc:
            errors["other_files"] = exc
        for name, exc in errors.items():
            self.add_error(name, exc)
        if not errors:
            try:
                _check_totals(documents)
            except ValidationError as exc:
                self.add_error(None, exc)
        data["documents"] = documents
        return data

    def missing_mandatory(self) -> list[str]:
        """Mandatory papers registered without a file (the intake then asks for them)."""
        return [
            slot.name
            for slot in self.slots
            if slot.mandatory and not self.cleaned_data.get(f"slot_{slot.pk}")
        ]

    def perform(self, *, user, now: datetime) -> tuple[Dossier, str]:
        data = self.cleaned_data
        applicant = svc.Applicant(
            type=data["applicant_type"],
            name=data["applicant_name"],
            id_number=data["applicant_id_number"],
            address=data["applicant_address"],
            phone=data["applicant_phone"],
            sms_consent=data["applicant_sms_consent"],
            email=data["applicant_email"],
            language=data["applicant_language"],
        )
        return svc.dossier_register(
            procedure=self.procedure,
            applicant=applicant,
            channel=data["channel"],
            result_delivery=data["result_delivery"],
            note=data["note"],
            documents=data["documents"],
            actor=user,
            now=now,
        )

    def apply_error(self, exc: DomainError) -> None:
        apply_domain_error(self, exc)
