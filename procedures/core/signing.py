"""The department's digital signature on the PDFs it issues (issue 12 item 1).

Results and slips are electronic administrative documents (Decree 30/2020, Decree
45/2020): they carry a PAdES signature (ETSI EN 319 142, baseline B-B, SHA-256) made
with pyHanko (https://pyhanko.readthedocs.io/) from the department's certificate and
private key named in the settings ``SIGNING_CERT_FILE``, ``SIGNING_KEY_FILE``,
``SIGNING_KEY_PASSPHRASE`` and ``SIGNING_CA_CHAIN_FILES`` (PEM or DER). The signature is
an incremental update, so a PDF that already carries signatures (a result signed by
the director's token) keeps them.

Without a certificate the PDFs are issued unsigned, and ``check --deploy`` warns
(procedures.W010; W011 when the files do not load). `manage.py generate_signing_cert`
makes a self-signed development certificate for `make run`; README "Signing results"
says how to install the real one.
"""

from __future__ import annotations

import io
import logging
import os
import threading
import warnings

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

logger = logging.getLogger(__name__)

__all__ = [
    "SIGNATURE_FIELD",
    "SigningError",
    "pdf_sign",
    "pdf_sign_if_configured",
    "signer_load",
    "signing_configured",
]

# The signature field the department's signature goes into; a second signature of a
# result already signed by us would be a second field (pyHanko refuses a filled one).
SIGNATURE_FIELD = "DepartmentSignature"

_lock = threading.Lock()
_cache: dict[tuple, object] = {}


class SigningError(ImproperlyConfigured):
    """The certificate or key named in the settings cannot be used."""


def signing_configured() -> bool:
    """Whether the settings name a certificate and a key (whether they load is checked
    by signer_load and by the system check)."""
    return bool(
        getattr(settings, "SIGNING_CERT_FILE", "") and getattr(settings, "SIGNING_KEY_FILE", "")
    )


def _pyhanko():
    # pyHanko imports cryptography's DSA support, deprecated there; the warning is
    # about a key type we never use.
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="DSA is deprecated")
        from pyhanko.sign import fields, signers

    return fields, signers


def signer_load():
    """The pyHanko signer of the settings' key and certificate, cached until a file
    changes (a renewed certificate is used without a restart)."""
    cert_file, key_file = settings.SIGNING_CERT_FILE, settings.SIGNING_KEY_FILE
    chain = tuple(getattr(settings, "SIGNING_CA_CHAIN_FILES", ()) or ())
    passphrase = getattr(settings, "SIGNING_KEY_PASSPHRASE", "") or ""
    try:
        stamp = tuple(os.stat(path).st_mtime_ns for path in (cert_file, key_file, *chain))
    except OSError as exc:
        raise SigningError(
            _("The signing certificate or key cannot be read: %(error)s") % {"error": exc}
        ) from exc
    key = (cert_file, key_file, chain, passphrase, stamp)
    with _lock:
        signer = _cache.get(key)
        if signer is None:
            _fields, signers = _pyhanko()
            signer = signers.SimpleSigner.load(
                key_file,
                cert_file,
                ca_chain_files=chain or None,
                key_passphrase=passphrase.encode() if passphrase else None,
            )
            if signer is None:  # pyHanko logs the cause and returns None
                raise SigningError(
                    _(
                        "The signing key %(key)s or certificate %(cert)s could not be loaded: "
                        "check the files and SIGNING_KEY_PASSPHRASE."
                    )
                    % {"key": key_file, "cert": cert_file}
                )
            _cache.clear()
            _cache[key] = signer
    return signer


def pdf_sign(data: bytes, *, reason: str, location: str | None = None) -> bytes:
    """The PDF with the department's PAdES signature appended (an incremental update).

    Raises SigningError when the key cannot be loaded, and pyHanko's PdfError when the
    file is not a PDF it can update (e.g. encrypted).
    """
    fields, signers = _pyhanko()
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    signer = signer_load()
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    existing = {name for name, _value, _ref in fields.enumerate_sig_fields(writer)}
    field_name, n = SIGNATURE_FIELD, 1
    while field_name in existing:
        n += 1
        field_name = f"{SIGNATURE_FIELD}{n}"
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=reason[:200],
        location=location or settings.SLIP_PLACE,
        name=settings.DEPARTMENT_NAME,
    )
    out = signers.sign_pdf(writer, meta, signer=signer)
    return out.getvalue()


def pdf_sign_if_configured(data: bytes, *, reason: str) -> bytes:
    """Signed when a certificate is configured, else the PDF as it is (see W010).

    A key that cannot be loaded is logged and the PDF issued unsigned: a receipt is the
    applicant's proof that the dossier arrived and is never withheld for a key problem
    (the system check W011 reports it at every start).
    """
    if not signing_configured():
        return data
    try:
        return pdf_sign(data, reason=reason)
    except SigningError:
        logger.exception("issuing an unsigned PDF (%s): the signing key cannot be used", reason)
        return data
