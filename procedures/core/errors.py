"""The one exception type that services raise for a rule the user broke.

Views, admin and the API turn it into a form error or a 400 response, so the message
must already be translated and readable by staff or applicants.
"""


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
