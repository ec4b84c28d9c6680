"""The one exception type that services raise for a rule the user broke.

Views, admin and the API turn it into a form error or a 400 response, so the message
must already be translated and readable by staff or applicants.
"""

from collections.abc import Mapping

from django.core.exceptions import ValidationError


class DomainError(Exception):
    """A business rule refused the operation.

    `message` is user-facing (built with gettext at the raise site); `field` names the
    input that caused it, so a form can attach the error to that field.
    """

    def __init__(self, message: str, *, field: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = str(message)
        self.field = field
        self.code = code

    def __str__(self) -> str:
        return self.message


def apply_domain_error(
    form,
    exc: DomainError,
    *,
    field_names: Mapping[str, str] | None = None,
    fallback: str | None = None,
) -> None:
    """Show a service's refusal on the form field it names, or above the form.

    `field_names` maps the service's name of a field to the form's where they differ;
    a field the form does not have falls back to `fallback` (None: above the form).
    """
    field = exc.field or ""
    field = (field_names or {}).get(field, field)
    if field not in form.fields:
        field = fallback
    form.add_error(field, ValidationError(exc.message, code=exc.code or "invalid"))
