"""`{% frozen key ... %}…{% endfrozen %}`: a template part rendered once per process.

The public base template (header, menu, language switcher, footer) is the same on
every page but for a few facts, and its `{% url %}`, `{% translate %}` and `{% static %}`
tags cost about as much as the rest of a cached page. A frozen part is rendered the
first time and then served from memory, keyed by:

- the tag itself (its place in its compiled template; a recompiled template starts
  afresh),
- the active language, the URL conf and the script prefix (what `{% url %}` and
  `{% translate %}` depend on),
- the values of the keys the tag names (e.g. the current page's URL name, whether an
  applicant is signed in, the department's name);

and everything is forgotten when a setting changes (tests' override_settings).

Anything else the part shows must not vary between requests, with two exceptions the
tag handles itself:

- `{% csrf_token %}`: rendered with a stand-in, which each request replaces with its
  own token's input (exactly what the tag renders; nothing when there is no token);
- the CSP nonce: a part that showed the request's nonce is never kept.

Messages, the request's path and blocks that child templates override stay outside
the frozen parts (templates/base.html). tests/procedures/test_frozen_fragments.py
proves frozen and live renders identical.
"""

from __future__ import annotations

import secrets
import weakref

from django import template
from django.core.signals import setting_changed
from django.template import Context
from django.template.defaulttags import CsrfTokenNode
from django.template.loader_tags import BlockNode
from django.urls import get_script_prefix, get_urlconf
from django.utils.translation import get_language

register = template.Library()

# Switched off by the tests that compare frozen with live renders.
ENABLED = True
# Distinct keys kept per tag before its memory is emptied (the keys are few: languages
# times a handful of page names and signed-in states).
PER_TAG = 64

# The CSRF token a part (or a whole page kept in memory, the look-up page's) is rendered
# with, and which each request puts its own in place of (csrf_put_back).
CSRF_STAND_IN = "frozen-csrf-" + secrets.token_hex(16)
_STAND_IN_INPUT = CsrfTokenNode().render(Context({"csrf_token": CSRF_STAND_IN}))
_memory: weakref.WeakKeyDictionary[FrozenNode, dict[tuple, str]] = weakref.WeakKeyDictionary()


class FrozenNode(template.Node):
    # Not walked by {% extends %}, which looks for blocks in its parent's whole node tree
    # on every render: a frozen part holds no block (the tag refuses one).
    child_nodelists = ()

    def __init__(self, nodelist, keys):
        self.nodelist = nodelist
        self.keys = keys

    def render(self, context):
        if not ENABLED:
            return self.nodelist.render(context)
        key = (
            get_language(),
            get_urlconf(),
            get_script_prefix(),
            *(k.resolve(context) for k in self.keys),
        )
        kept = _memory.setdefault(self, {})
        html = kept.get(key)
        if html is None:
            with context.push(csrf_token=CSRF_STAND_IN):
                html = self.nodelist.render(context)
            if not _shows_nonce(context, html):
                if len(kept) >= PER_TAG:
                    kept.clear()
                kept[key] = html
        return csrf_put_back(html, str(context.get("csrf_token") or ""))


def csrf_put_back(html: str, token: str) -> str:
    """HTML rendered with CSRF_STAND_IN, with this request's `token` in its place: the
    input `{% csrf_token %}` renders for it (nothing when there is no token) and the
    bare token anywhere else."""
    if CSRF_STAND_IN not in html:
        return html
    html = html.replace(_STAND_IN_INPUT, CsrfTokenNode().render(Context({"csrf_token": token})))
    return html.replace(CSRF_STAND_IN, token)


def _shows_nonce(context, html: str) -> bool:
    """Whether the part showed this request's CSP nonce (django-csp makes it on first
    use and keeps it on the request)."""
    request = context.get("request")
    nonce = getattr(request, "_csp_nonce", None)
    return isinstance(nonce, str) and nonce in html


@register.tag
def frozen(parser, token):
    keys = [parser.compile_filter(bit) for bit in token.split_contents()[1:]]
    nodelist = parser.parse(("endfrozen",))
    parser.delete_first_token()
    if nodelist.get_nodes_by_type(BlockNode):
        # A child template's override of it would be ignored, or frozen.
        raise template.TemplateSyntaxError("{% block %} cannot be inside {% frozen %}.")
    return FrozenNode(nodelist, keys)


def forget(**kwargs) -> None:
    _memory.clear()


setting_changed.connect(forget, dispatch_uid="procedures.templatetags.frozen.forget")
