"""The one way fees are written on the portal (procedure pages, the look-up page).

Published lists write amounts as "1.200.000", "1200000" or "1 200 000", with or without
words around them. Every amount is printed with the thousands separator of the active
language (Vietnamese "1.200.000", English "1,200,000") followed by the currency word,
and a fee of zero reads "free of charge".
"""

from __future__ import annotations

import re

from django.utils.formats import get_format
from django.utils.translation import gettext as _

# An amount in a fee text: grouped in thousands ("1.200.000", "400 000"), or five digits
# and more written plainly. Four plain digits are left alone, as are numbers inside a
# document number ("168/2016/TT-BTC", "08/2018"): they are years and serial numbers.
_AMOUNT = re.compile(r"(?<![\d/.,\-])(?:\d{1,3}(?:[.,\u00a0 ]\d{3})+|\d{5,})(?![\d/\-]|[.,]\d)")


def vnd(amount: int) -> str:
    """An amount in đồng with the active language's thousands separator."""
    grouped = f"{amount:,}".replace(",", get_format("THOUSAND_SEPARATOR"))
    return _("%(amount)s VND") % {"amount": grouped}


def group_amounts(text: str) -> str:
    """Every amount of a fee text grouped the same way (without a currency word: the
    published texts put their own units, "/lần thẩm định", around the amounts)."""
    separator = get_format("THOUSAND_SEPARATOR")

    def grouped(match: re.Match) -> str:
        amount = int(re.sub(r"\D", "", match.group(0)))
        return f"{amount:,}".replace(",", separator)

    return _AMOUNT.sub(grouped, text)


def fee_format(*, fee_vnd: int | None, fee_text: str = "") -> str:
    """The fee as one text: the amount, then the published conditions on their own line;
    "" when nothing is published (the template says "not published")."""
    lines = []
    if fee_vnd == 0:
        lines.append(_("Free of charge"))
    elif fee_vnd is not None:
        lines.append(vnd(fee_vnd))
    if fee_text:
        lines.append(group_amounts(fee_text))
    return "\n".join(lines)
