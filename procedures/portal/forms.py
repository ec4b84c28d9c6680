"""Forms of the public portal: filters, online submission, look-up, supplement, rating.

They only check what was typed and uploaded; the services decide the rest and their
DomainError is put back on the field it names (views.common.apply_domain_error).
"""

from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import TemporaryUploadedFile
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from procedures.accounts.selectors import account_documents
from procedures.core.constants import ApplicantType, OnlineLevel, ResultDelivery, Satisfaction
from procedures.core.uploads import check_totals, check_upload, upload_limits
from procedures.core.validators import normalize_identity, validate_citizen_id, validate_tax_code
from procedures.models import DossierDocument, Field, Procedure, RequiredDocument

_PHONE = re.compile(r"^(?:\+84|0)\d{9,10}$")
HONEYPOT = "website"
# The one file field of a procedure that publishes no list of documents.
GENERIC_DOCUMENT_FIELD = "doc_dossier"


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class DocumentFilesField(forms.Field):
    """Zero or more files for one slot; cleans to a list of checked UploadedDocument."""

    widget = MultipleFileInput

    def __init__(self, *, slot_id: int | None = None, document_name: str = "", **kwargs):
        self.slot_id = slot_id
        self.document_name = document_name
        super().__init__(**kwargs)
        self.widget.attrs.setdefault("accept", upload_limits().accept)

    def to_python(self, data):
        if not data:
            return []
        if not isinstance(data, (list, tuple)):
            data = [data]
        return [f for f in data if f]

    def validate(self, value):
        if self.required and not value:
            if self.document_name:
                raise ValidationError(
                    _("Attach “%(name)s”: this document is mandatory."),
                    params={"name": self.document_name},
                    code="required",
                )
            raise ValidationError(_("Attach at least one file."), code="required")

    def clean(self, value):
        files = self.to_python(value)
        self.validate(files)
        documents, errors = [], []
        limits = upload_limits()
        for upload in files:
            try:
                documents.append(check_upload(upload, slot_id=self.slot_id, limits=limits))
            except ValidationError as exc:
                errors.extend(exc.error_list)
        if errors:
            raise ValidationError(errors)
        return documents


class ReusedDocumentField(forms.ModelChoiceField):
    """A file the signed-in applicant uploaded to an earlier dossier of their own. The
    queryset is theirs only, so an id from anyone else's dossier is not a valid choice."""

    def __init__(self, *, queryset, **kwargs):
        super().__init__(
            queryset=queryset,
            required=False,
            label=_("Or reuse a file from one of your earlier dossiers"),
            empty_label=_("(do not reuse a file)"),
            error_messages={
                "invalid_choice": _(
                    "This file is not one of the files of your earlier dossiers, so it "
                    "cannot be reused. Choose one from the list or attach a file."
                )
            },
            **kwargs,
        )

    def label_from_instance(self, obj: DossierDocument) -> str:
        return _("%(name)s (dossier %(code)s)") % {
            "name": obj.original_name,
            "code": obj.dossier.code,
        }


def reused_upload(document: DossierDocument) -> TemporaryUploadedFile:
    """A server-side copy of an earlier file, as an upload: it then goes through exactly
    the checks a file from the browser does (check_upload), and is saved as a new file
    of the new dossier. Copied in chunks into a temporary file, never read whole."""
    copy = TemporaryUploadedFile(document.original_name, document.content_type, 0, None)
    try:
        with document.file.open("rb") as source:
            for chunk in source.chunks():
                copy.write(chunk)
    except OSError as exc:
        copy.close()
        raise ValidationError(
            _("“%(name)s” can no longer be read from the earlier dossier. Attach it again.")
            % {"name": document.original_name},
            code="reuse_unreadable",
        ) from exc
    copy.flush()
    copy.size = copy.tell()  # what is on disk now, not what the database remembers
    copy.seek(0)
    return copy


class ProcedureFilterForm(forms.Form):
    q = forms.CharField(
        label=_("Search"),
        required=False,
        max_length=200,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("e.g. giấy phép bán lẻ rượu")}
        ),
        help_text=_("Words of the name, with or without accents, or a code."),
    )
    field = forms.TypedChoiceField(label=_("Field"), required=False, coerce=int, empty_value=None)
    online_level = forms.ChoiceField(
        label=_("Online service"),
        required=False,
        choices=[("", _("Any")), *OnlineLevel.choices],
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # One query serves both the menu and the validation of the chosen id.
        self.fields["field"].choices = [
            ("", _("All fields")),
            *Field.objects.values_list("pk", "name"),
        ]


class SubmissionForm(forms.Form):
    """Online dossier (portal issue item 3). Document fields are `doc_<id>`."""

    applicant_type = forms.ChoiceField(
        label=_("You are applying as"),
        choices=ApplicantType.choices,
        initial=ApplicantType.INDIVIDUAL,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose whether you apply as an individual or an organisation."),
            "invalid_choice": _("Choose individual or organisation."),
        },
    )
    applicant_name = forms.CharField(
        label=_("Full name or organisation name"),
        max_length=255,
        widget=forms.TextInput(attrs={"autocomplete": "name"}),
        error_messages={"required": _("Enter your full name or the organisation's name.")},
    )
    id_number = forms.CharField(
        label=_("Citizen ID or tax code"),
        max_length=20,
        help_text=_(
            "Individuals: citizen ID, 12 digits. Organisations: tax code, 10 digits "
            "or 13 for a branch (e.g. 0101234567-001)."
        ),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter the citizen ID or the tax code.")},
    )
    address = forms.CharField(
        label=_("Address"),
        max_length=500,
        required=False,
        help_text=_("Needed if the result is sent by post."),
        widget=forms.TextInput(attrs={"autocomplete": "street-address"}),
    )
    phone = forms.CharField(
        label=_("Phone"),
        max_length=20,
        help_text=_("A Vietnamese number, e.g. 0912345678 or +84912345678."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel", "inputmode": "tel"}),
        error_messages={"required": _("Enter a phone number we can call you on.")},
    )
    sms_consent = forms.BooleanField(
        label=_("Also send me each step of the dossier by SMS to this number"),
        required=False,
    )
    email = forms.EmailField(
        label=_("Email"),
        max_length=254,
        help_text=_("We send the receipt and every step of your dossier here."),
        widget=forms.EmailInput(attrs={"autocomplete": "email"}),
        error_messages={
            "required": _("Enter an email address for the receipt and updates."),
            "invalid": _("Enter an email address like name@example.com."),
        },
    )
    result_delivery = forms.ChoiceField(
        label=_("How do you want to receive the result?"),
        widget=forms.RadioSelect,
        choices=ResultDelivery.choices,
        initial=ResultDelivery.DESK,
        error_messages={
            "required": _("Choose how you want to receive the result."),
            "invalid_choice": _("Choose one of the ways listed to receive the result."),
        },
    )
    note = forms.CharField(
        label=_("Notes for the one-stop desk"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
    consent = forms.BooleanField(
        label=_(
            "I agree that the department processes the personal data in this dossier "
            "to handle it, as Decree 13/2023/ND-CP on personal data protection requires."
        ),
        error_messages={
            "required": _(
                "Tick the box to agree to the processing of your "
                "personal data; without it we cannot handle the dossier."
            )
        },
    )
    # Honeypot: hidden from people and screen readers, filled in by naive bots.
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )

    def __init__(self, *args, procedure: Procedure, applicant=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.procedure = procedure
        self.applicant = applicant
        self._reused: list = []
        self._copies: list[TemporaryUploadedFile] = []
        if applicant is not None:
            self._prefill(applicant)
        self.required_documents: list[RequiredDocument] = list(procedure.documents.all())
        choices = [(ResultDelivery.DESK, ResultDelivery.DESK.label)]
        if procedure.channel_postal:
            choices.append((ResultDelivery.POST, ResultDelivery.POST.label))
        if procedure.online_level == OnlineLevel.FULL:
            choices.append((ResultDelivery.ONLINE, ResultDelivery.ONLINE.label))
        self.fields["result_delivery"].choices = choices
        limits = upload_limits()
        if not self.required_documents:
            # No published list: one slot for the whole dossier, so an online procedure
            # never turns away the papers the desk will check anyway.
            self.fields[GENERIC_DOCUMENT_FIELD] = DocumentFilesField(
                slot_id=None,
                document_name=str(_("Your dossier")),
                label=_("Your dossier (all its documents)"),
                required=True,
                help_text=_(
                    "The list of documents of this procedure is not published: "
                    "attach every paper of your dossier here, several files at "
                    "once if needed. %(types)s, up to %(size)s MB a file."
                )
                % {"types": limits.type_labels, "size": limits.max_file_bytes // (1024 * 1024)},
            )
        for doc in self.required_documents:
            self.fields[self.document_field_name(doc)] = DocumentFilesField(
                slot_id=doc.pk,
                document_name=doc.name,
                label=doc.name,
                required=doc.mandatory,
                help_text=_("%(kind)s, %(copies)s. %(types)s, up to %(size)s MB a file.")
                % {
                    "kind": doc.get_kind_display(),
                    "copies": ngettext("%(n)s copy", "%(n)s copies", doc.copies)
                    % {"n": doc.copies},
                    "types": limits.type_labels,
                    "size": limits.max_file_bytes // (1024 * 1024),
                },
            )
        if applicant is not None:
            reusable = account_documents(account=applicant)
            if reusable.exists():
                for name, _doc in self._document_items():
                    reuse = self.reuse_field_name(name)
                    self.fields[reuse] = ReusedDocumentField(queryset=reusable)
                    if self.is_bound and self.data.get(self.add_prefix(reuse)):
                        # An earlier file was picked for this slot: no upload needed.
                        self.fields[name].required = False
        # Fields in the order people fill them in; documents before the notes.
        order = [
            "applicant_type",
            "applicant_name",
            "id_number",
            "address",
            "phone",
            "sms_consent",
            "email",
            "result_delivery",
            *[
                field
                for name, _doc in self._document_items()
                for field in (name, self.reuse_field_name(name))
            ],
            "note",
            "consent",
            HONEYPOT,
        ]
        self.order_fields(order)

    @staticmethod
    def document_field_name(doc: RequiredDocument) -> str:
        return f"doc_{doc.pk}"

    @property
    def document_fields(self):
        """(required document, bound field); the document is None for the generic slot
        offered when the procedure publishes no list."""
        return [(doc, self[name]) for name, doc in self._document_items()]

    @property
    def document_rows(self):
        """(required document, file field, reuse field or None) for the template."""
        return [
            (
                doc,
                self[name],
                self[self.reuse_field_name(name)]
                if self.reuse_field_name(name) in self.fields
                else None,
            )
            for name, doc in self._document_items()
        ]

    @staticmethod
    def reuse_field_name(name: str) -> str:
        return f"reuse_{name}"

    def _prefill(self, account) -> None:
        """The signed-in applicant's details from the identity provider, as initial
        values only: what is posted is validated like anything typed."""
        values = {
            "applicant_name": account.name,
            "email": account.email,
            "phone": account.phone,
        }
        if account.id_number:
            values["id_number"] = account.id_number
        elif account.tax_code:
            values["applicant_type"] = ApplicantType.ORGANISATION
            values["id_number"] = account.tax_code
        for key, value in values.items():
            if value and key not in self.initial:
                self.initial[key] = value

    def clean_applicant_name(self):
        return " ".join(self.cleaned_data["applicant_name"].split())

    def clean_id_number(self):
        return normalize_identity(self.cleaned_data["id_number"])

    def clean_phone(self):
        phone = re.sub(r"[\s.\-()]", "", self.cleaned_data["phone"])
        if not _PHONE.match(phone):
            raise ValidationError(
                _(
                    "Enter a Vietnamese phone number: 10 digits starting with 0 "
                    "(e.g. 0912345678), or +84 followed by 9 digits."
                ),
                code="invalid_phone",
            )
        return phone

    def clean_website(self):
        if self.cleaned_data.get(HONEYPOT):
            raise ValidationError(
                _("This submission looks automated and was not accepted."), code="honeypot"
            )
        return ""

    def clean(self):
        data = super().clean()
        kind = data.get("applicant_type")
        id_number = data.get("id_number")
        if kind and id_number:
            try:
                if kind == ApplicantType.ORGANISATION:
                    validate_tax_code(id_number)
                else:
                    validate_citizen_id(id_number)
            except ValidationError as exc:
                self.add_error("id_number", exc)
        if data.get("result_delivery") == ResultDelivery.POST and not data.get("address"):
            self.add_error(
                "address",
                ValidationError(
                    _("Enter the postal address the result should be sent to."), code="required"
                ),
            )
        self._clean_reused(data)
        documents = self.documents()
        if documents:
            try:
                check_totals(documents)
            except ValidationError as exc:
                self.add_error(None, exc)
        return data

    def _clean_reused(self, data) -> None:
        self._reused = []
        limits = upload_limits()
        for name, doc in self._document_items():
            picked = data.get(self.reuse_field_name(name))
            if picked is None:
                continue
            try:
                copy = reused_upload(picked)
                self._copies.append(copy)
                self._reused.append(
                    check_upload(copy, slot_id=doc.pk if doc else None, limits=limits)
                )
            except ValidationError as exc:
                self.add_error(self.reuse_field_name(name), exc)

    def close(self) -> None:
        """Close (and so delete) the temporary copies of reused files, as Django does
        with the uploads of a request; a copy the storage moved is simply closed."""
        for copy in self._copies:
            copy.close()
        self._copies = []

    def _document_items(self) -> list[tuple[str, RequiredDocument | None]]:
        if not self.required_documents:
            return [(GENERIC_DOCUMENT_FIELD, None)]
        return [(self.document_field_name(d), d) for d in self.required_documents]

    def documents(self):
        out = []
        for name, _doc in self._document_items():
            out.extend(self.cleaned_data.get(name) or [])
        return out + self._reused


class LookupForm(forms.Form):
    code = forms.CharField(
        label=_("Dossier code"),
        max_length=40,
        help_text=_("As on your receipt."),
        widget=forms.TextInput(
            attrs={"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false"}
        ),
        error_messages={"required": _("Enter the dossier code.")},
    )
    pin = forms.CharField(
        label=_("PIN"),
        max_length=12,
        help_text=_("The 8-digit PIN shown on your receipt."),
        widget=forms.PasswordInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        error_messages={"required": _("Enter the PIN.")},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        example = f"{settings.DOSSIER_UNIT_CODE}-260601-0001"
        self.fields["code"].help_text = _("As on your receipt, e.g. %(example)s.") % {
            "example": example
        }

    def clean_code(self):
        return self.cleaned_data["code"].strip().upper()

    def clean_pin(self):
        return re.sub(r"\s+", "", self.cleaned_data["pin"])


class SupplementForm(forms.Form):
    """The applicant's answer to a supplement request, one file field per required
    document so that each file keeps the paper it answers; "files" holds the rest."""

    files = DocumentFilesField(
        label=_("Other papers"),
        required=False,
    )
    note = forms.CharField(
        label=_("Message to the one-stop desk"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def __init__(
        self,
        *args,
        existing_count: int = 0,
        existing_bytes: int = 0,
        required_documents: list[RequiredDocument] | tuple = (),
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.existing_count = existing_count
        self.existing_bytes = existing_bytes
        self.required_documents = list(required_documents)
        limits = upload_limits()
        rules = _("%(types)s, up to %(size)s MB a file.") % {
            "types": limits.type_labels,
            "size": limits.max_file_bytes // (1024 * 1024),
        }
        for doc in self.required_documents:
            self.fields[self.document_field_name(doc)] = DocumentFilesField(
                slot_id=doc.pk,
                document_name=doc.name,
                label=doc.name,
                required=False,
                help_text=rules,
            )
        self.fields["files"].help_text = "{} {}".format(
            _(
                "Papers that answer none of the documents above. You can choose several "
                "files at once."
            )
            if self.required_documents
            else _("You can choose several files at once."),
            rules,
        )
        self.order_fields(
            [*[self.document_field_name(d) for d in self.required_documents], "files", "note"]
        )

    @staticmethod
    def document_field_name(doc: RequiredDocument) -> str:
        return f"doc_{doc.pk}"

    @property
    def document_fields(self):
        return [self[self.document_field_name(doc)] for doc in self.required_documents]

    def documents(self) -> list:
        """Every checked file, each with the slot it answers (None: other papers)."""
        names = [self.document_field_name(d) for d in self.required_documents] + ["files"]
        return [doc for name in names for doc in self.cleaned_data.get(name) or []]

    def clean(self):
        data = super().clean()
        if self.errors:
            return data
        documents = self.documents()
        if not documents:
            self.add_error(
                "files", ValidationError(_("Attach at least one file."), code="required")
            )
            return data
        try:
            check_totals(
                documents, existing_count=self.existing_count, existing_bytes=self.existing_bytes
            )
        except ValidationError as exc:
            self.add_error("files", exc)
        return data


SCORE_CHOICES = [("2", _("Good")), ("1", _("Fair")), ("0", _("Poor"))]


def _score(label):
    return forms.TypedChoiceField(
        label=label,
        choices=SCORE_CHOICES,
        coerce=int,
        empty_value=None,
        required=False,
        widget=forms.RadioSelect,
        error_messages={"invalid_choice": _("Choose good, fair or poor.")},
    )


class RatingForm(forms.Form):
    overall = forms.ChoiceField(
        label=_("Overall, how satisfied are you with the service?"),
        choices=Satisfaction.choices,
        widget=forms.RadioSelect,
        error_messages={"required": _("Choose how satisfied you are overall.")},
    )
    timeliness = _score(_("Time taken to resolve the dossier"))
    attitude = _score(_("Attitude of the staff"))
    visits = _score(_("Number of visits or contacts needed"))
    information = _score(_("Accuracy of the published procedure information"))
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
