"""`{% lookup_url dossier %}`: the public look-up address (procedures/portal/links.py)."""

from django import template

from procedures.portal import links

register = template.Library()


@register.simple_tag
def lookup_url(dossier) -> str:
    return links.lookup_url(dossier.code)
