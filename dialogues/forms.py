"""Forms of the public pages and the staff workspace (input checks only; rules
live in the services)."""

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.utils.translation import gettext_lazy as _

from dialogues.constants import AnswerKind, AnswerState, RecommendationStatus
from dialogues.models import DialogueSession
from dialogues.validators import AttachmentField
from procedures.models import Field, Unit


class AccessibleFormMixin:
    """Ties each field's help and errors to it with aria-describedby."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.describe_fields()

    def describe_fields(self) -> None:
        errors = self._errors or {}
        for name, field in self.fields.items():
            ids = []
            if field.help_text:
                ids.append(f"id_{name}_help")
            if name in errors:
                ids.append(f"id_{name}_errors")
                field.widget.attrs["aria-invalid"] = "true"
            if ids:
                field.widget.attrs["aria-describedby"] = " ".join(ids)

    def full_clean(self):
        super().full_clean()
        self.describe_fields()


class BusinessPublicForm(AccessibleFormMixin, forms.Form):
    """What every public form of a business shares: who it is, and a honeypot."""

    business_name = forms.CharField(label=_("Business name"), max_length=255)
    tax_code = forms.CharField(
        label=_("Tax code"),
        max_length=20,
        help_text=_("10 digits, or 13 for a branch (e.g. 0101234567-001)."),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )
    # Honeypot: hidden from people (CSS and aria-hidden), filled by naive bots.
    website = forms.CharField(required=False, label=_("Leave this empty"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The honeypot goes last, out of the tab order.
        self.order_fields([name for name in self.fields if name != "website"] + ["website"])
        self.fields["website"].widget.attrs.update({"tabindex": "-1", "autocomplete": "off"})

    def clean_tax_code(self):
        from dialogues.services.registrations import tax_code_canonical

        return tax_code_canonical(self.cleaned_data["tax_code"])

    @property
    def is_spam(self) -> bool:
        return bool(self.data.get("website"))


class RegistrationForm(BusinessPublicForm):
    representative = forms.CharField(label=_("Representative"), max_length=255)
    position = forms.CharField(label=_("Position"), max_length=255, required=False)
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("The confirmation and your personal link are sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=30,
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}),
    )
    attendees = forms.IntegerField(label=_("Number of attendees"), min_value=1, initial=1)
    questions = forms.CharField(
        label=_("Questions or recommendations in advance"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Difficulties you want the department to answer at the session."),
    )
    question_field = forms.ModelChoiceField(
        label=_("Field of your question"),
        queryset=Field.objects.all(),
        required=False,
        empty_label=_("(not sure)"),
    )
    attachment = AttachmentField(
        label=_("Attached document"),
        required=False,
        help_text=_("Optional: PDF, Word, Excel, PNG or JPEG."),
    )

    def __init__(self, *args, session: DialogueSession, **kwargs):
        super().__init__(*args, **kwargs)
        self.session = session
        self.fields["attendees"].max_value = session.max_attendees_per_registration
        self.fields["attendees"].widget.attrs["max"] = session.max_attendees_per_registration
        self.fields["attendees"].validators.append(
            MaxValueValidator(session.max_attendees_per_registration)
        )
        self.fields["attendees"].help_text = _("At most %(n)d per business.") % {
            "n": session.max_attendees_per_registration
        }
        session_fields = list(session.fields.all())
        if session_fields:
            self.fields["question_field"].queryset = Field.objects.filter(
                pk__in=[f.pk for f in session_fields]
            )
        self.describe_fields()

    def clean(self):
        data = super().clean()
        if data.get("attachment") and not data.get("questions"):
            self.add_error("questions", _("Write the question the document is about."))
        return data


class PublicAnswerSearchForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    field = forms.ModelChoiceField(
        label=_("Field"), queryset=Field.objects.all(), required=False, empty_label=_("All fields")
    )
    session = forms.ModelChoiceField(
        label=_("Session"),
        queryset=DialogueSession.objects.public(),
        required=False,
        empty_label=_("All sessions"),
    )


# --------------------------------------------------------------------------- #
# Staff
# --------------------------------------------------------------------------- #


class StaffFilterForm(forms.Form):
    q = forms.CharField(label=_("Search"), required=False)
    session = forms.ModelChoiceField(
        label=_("Session"), queryset=DialogueSession.objects.all(), required=False
    )
    status = forms.ChoiceField(
        label=_("Status"), choices=[("", _("All"))] + RecommendationStatus.choices, required=False
    )
    answer_state = forms.ChoiceField(
        label=_("Answer"), choices=[("", _("All"))] + AnswerState.choices, required=False
    )
    unit = forms.ModelChoiceField(label=_("Unit"), queryset=Unit.objects.all(), required=False)


class AssignForm(AccessibleFormMixin, forms.Form):
    unit = forms.ModelChoiceField(label=_("Unit responsible"), queryset=Unit.objects.all())
    field = forms.ModelChoiceField(label=_("Field"), queryset=Field.objects.all(), required=False)


class BulkAssignForm(AssignForm):
    ids = forms.CharField(widget=forms.MultipleHiddenInput, required=False)


class AnswerForm(AccessibleFormMixin, forms.Form):
    answer_text = forms.CharField(label=_("Answer"), widget=forms.Textarea(attrs={"rows": 8}))
    answer_kind = forms.ChoiceField(
        label=_("Answer given"), choices=AnswerKind.choices, initial=AnswerKind.IN_WRITING
    )
    document_number = forms.CharField(
        label=_("Answer document number"), max_length=100, required=False
    )
    submit_for_approval = forms.BooleanField(
        label=_("Submit for approval"), required=False, initial=True
    )


class RejectForm(AccessibleFormMixin, forms.Form):
    note = forms.CharField(label=_("What must change"), widget=forms.Textarea(attrs={"rows": 3}))


class ForwardForm(AccessibleFormMixin, forms.Form):
    authority = forms.CharField(label=_("Competent authority"), max_length=255)


class CloseForm(AccessibleFormMixin, forms.Form):
    note = forms.CharField(
        label=_("Note"), widget=forms.Textarea(attrs={"rows": 2}), required=False
    )


class ImportForm(AccessibleFormMixin, forms.Form):
    file = forms.FileField(
        label=_("XLSX file"),
        help_text=_("Columns: id, unit_code, field, answer, answer_kind, document_number."),
    )


class ReportForm(AccessibleFormMixin, forms.Form):
    session = forms.ModelChoiceField(
        label=_("Session"), queryset=DialogueSession.objects.all(), required=False
    )
    start = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    end = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def clean(self):
        data = super().clean()
        if not data.get("session") and not (data.get("start") and data.get("end")):
            raise ValidationError(_("Choose a session, or a period with both dates."))
        if data.get("start") and data.get("end") and data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        return data


class RecommendationSubmitForm(BusinessPublicForm):
    """A business sends a difficulty or recommendation between sessions (no account)."""

    email = forms.EmailField(
        label=_("Email"),
        help_text=_("The written answer is sent here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
    )
    field = forms.ModelChoiceField(
        label=_("Field"),
        queryset=Field.objects.all(),
        required=False,
        empty_label=_("(not sure)"),
    )
    content = forms.CharField(
        label=_("Your difficulty or recommendation"),
        widget=forms.Textarea(attrs={"rows": 7}),
        max_length=5000,
        help_text=_("Describe the problem, the procedure concerned and what you propose."),
    )
    attachment = AttachmentField(
        label=_("Attached document"),
        required=False,
        help_text=_("Optional: PDF, Word, Excel, PNG or JPEG."),
    )
    is_public = forms.BooleanField(
        label=_("The answer may be published for other businesses (without my contact details)"),
        required=False,
        initial=True,
    )
