"""{% load percent %}: {{ rate|percent }} → 94,1 %, {{ rate|rate }} → 94,1 (a "%" column)."""

from django import template

from procedures.core.formatting import percent as _percent

register = template.Library()


@register.filter
def percent(value, digits=1):
    return _percent(value, digits=int(digits))


@register.filter
def rate(value, digits=1):
    return _percent(value, digits=int(digits), sign=False)
