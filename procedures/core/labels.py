"""Labels of choice values, translated once per language and process.

`Model.get_<field>_display()` rebuilds a dict of every choice on each call, and hashing
a lazy label translates it, so one call translates every label of the field: a look-up
timeline of twenty events cost some 260 gettext calls. The choices are constants
(procedures.core.constants), so their labels depend only on the active language; this
keeps one plain dict per (choices, language). Same result as get_<field>_display(),
including a value that is not a choice coming back as it is.
"""

from __future__ import annotations

from django.db.models import Choices
from django.utils.translation import get_language

_tables: dict[tuple[type[Choices], str | None], dict] = {}


def choice_label(choices: type[Choices], value):
    """The label of `value` in the active language; `value` itself when not a choice."""
    key = (choices, get_language())
    table = _tables.get(key)
    if table is None:
        # A race only builds the same dict twice.
        table = _tables[key] = {value: str(label) for value, label in choices.choices}
    return table.get(value, value)
