"""Percentages as people read them: 94,1 % in Vietnamese, 94.1% in English.

One helper for every percentage the app shows (report table and charts, public
statistics, report PDF, report mail), so HTML, chart labels and PDFs agree. The number
comes from Django's number_format in the active (or given) language: a decimal comma
in Vietnamese. Where the sign goes is a translation ("%(number)s %%" in Vietnamese,
with a no-break space). Chart coordinates are not text and keep their decimal point.
"""

from __future__ import annotations

from contextlib import nullcontext
from decimal import Decimal

from django.utils import translation
from django.utils.formats import number_format
from django.utils.translation import gettext as _

EMPTY = "–"


def percent(
    value: float | Decimal | int | None,
    *,
    digits: int = 1,
    sign: bool = True,
    language: str | None = None,
) -> str:
    """`value` (already in per cent) with `digits` decimals and, unless `sign` is False
    (a column headed "(%)"), the per-cent sign; "–" when there is nothing to divide."""
    if value is None:
        return EMPTY
    with translation.override(language) if language else nullcontext():
        number = number_format(round(float(value), digits), decimal_pos=digits, use_l10n=True)
        return _("%(number)s%%") % {"number": number} if sign else number
