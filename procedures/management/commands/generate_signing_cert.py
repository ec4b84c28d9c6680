"""A self-signed development certificate and key for the department's PDF signature.

`make run` calls it; it does nothing when both files exist (use --force to replace
them). Production uses the certificate the department was issued (README "Signing
results"), never this one: a self-signed certificate proves nothing to a reader.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError


def signing_cert_generate(
    *, cert_file: Path, key_file: Path, passphrase: str, common_name: str, days: int = 3650
) -> None:
    """Write a 3072-bit RSA key (encrypted when a passphrase is given) and a self-signed
    certificate for document signing (digitalSignature + nonRepudiation)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "VN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, settings.DEPARTMENT_NAME[:64]),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
        ]
    )
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption: serialization.KeySerializationEncryption = (
        serialization.BestAvailableEncryption(passphrase.encode())
        if passphrase
        else serialization.NoEncryption()
    )
    for path in (cert_file, key_file):
        path.parent.mkdir(parents=True, exist_ok=True)
    # The key is readable by its owner only, from the moment it exists.
    fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
            )
        )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))


class Command(BaseCommand):
    # It must run while the certificate is missing, which the system checks report.
    requires_system_checks: list[str] = []
    help = (
        "Create a self-signed development certificate and key for signing results and "
        "slips, at SIGNING_CERT_FILE and SIGNING_KEY_FILE (skipped when both exist)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--cert", help="Certificate file (default: SIGNING_CERT_FILE).")
        parser.add_argument("--key", help="Key file (default: SIGNING_KEY_FILE).")
        parser.add_argument(
            "--force", action="store_true", help="Replace existing files with new ones."
        )

    def handle(self, *args, cert=None, key=None, force=False, **options):
        cert_file = cert or settings.SIGNING_CERT_FILE
        key_file = key or settings.SIGNING_KEY_FILE
        if not (cert_file and key_file):
            raise CommandError(
                "Set SIGNING_CERT_FILE and SIGNING_KEY_FILE (or pass --cert and --key)."
            )
        cert_path, key_path = Path(cert_file), Path(key_file)
        if cert_path.exists() and key_path.exists() and not force:
            self.stdout.write(f"Signing certificate present: {cert_path} (kept).")
            return
        signing_cert_generate(
            cert_file=cert_path,
            key_file=key_path,
            passphrase=getattr(settings, "SIGNING_KEY_PASSPHRASE", ""),
            common_name=f"{settings.DEPARTMENT_NAME} (development)",
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Development signing certificate written: {cert_path} and {key_path}. "
                "Not for production: see README, 'Signing results'."
            )
        )
