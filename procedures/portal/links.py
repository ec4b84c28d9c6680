"""The public look-up address of a dossier, built in one place for the portal's
redirects, the receipts and slips (text and QR code) and the applicants' mail.

It carries the dossier's printed number only, never the PIN.
"""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse


def lookup_path(code: str) -> str:
    """The look-up page with the number filled in, e.g. `/tra-cuu/?code=H56.16-...`."""
    return f"{reverse('procedures:lookup')}?{urlencode({'code': code})}"


def lookup_url(code: str) -> str:
    """The same, absolute (`SITE_URL`): for paper, QR codes and mail."""
    return f"{settings.SITE_URL.rstrip('/')}{lookup_path(code)}"
