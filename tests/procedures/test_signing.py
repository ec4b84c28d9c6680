"""The department's PAdES signature on slips and results (issue 12 item 1), checked with
pyHanko's own validation: intact, covering the whole file, made with the department's
certificate; a changed byte or a revision appended after signing is detected."""

import io
import os
import warnings
from pathlib import Path

import pytest
from django.core.checks import run_checks
from django.core.management import call_command
from django.urls import reverse

from procedures.core import signing
from procedures.core.constants import Channel, Outcome
from procedures.dossiers import services as svc
from procedures.dossiers.services import UploadedDocument
from procedures.dossiers.slips import slip_build, slip_render_pdf
from procedures.management.commands.generate_signing_cert import signing_cert_generate
from procedures.models import DossierDocument
from procedures.portal.views.submission import receipt_pdf_bytes
from tests.files import minimal_pdf

from .conftest import at

with warnings.catch_warnings():
    warnings.filterwarnings("ignore", message="DSA is deprecated")
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

pytestmark = pytest.mark.django_db


@pytest.fixture
def department_cert(tmp_path, settings):
    """A department certificate made in a temporary folder and named in the settings."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    signing_cert_generate(
        cert_file=cert, key_file=key, passphrase="s3cret", common_name="Sở Công Thương (test)"
    )
    settings.SIGNING_CERT_FILE = str(cert)
    settings.SIGNING_KEY_FILE = str(key)
    settings.SIGNING_KEY_PASSPHRASE = "s3cret"
    return cert


def signatures(data: bytes, cert: Path) -> list:
    """pyHanko's status of each signature, trusting only the department's certificate."""
    context = ValidationContext(
        trust_roots=[load_cert_from_pemder(str(cert))], allow_fetching=False
    )
    reader = PdfFileReader(io.BytesIO(data))
    return [validate_pdf_signature(sig, context) for sig in reader.embedded_signatures]


def assert_signed_by(data: bytes, cert: Path) -> None:
    (status,) = signatures(data, cert)
    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.signing_cert.dump() == load_cert_from_pemder(str(cert)).dump()
    assert status.bottom_line


@pytest.fixture
def accepted(register, staff):
    d = register(channel=Channel.DIRECT, now=at(2026, 6, 1, 9, 0))
    return svc.dossier_accept(dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0))


@pytest.mark.parametrize("kind", ["receipt", "control"])
def test_slips_carry_the_department_signature_over_the_whole_file(accepted, department_cert, kind):
    data = slip_render_pdf(slip=slip_build(dossier=accepted, kind=kind))
    assert_signed_by(data, department_cert)


def test_the_online_receipt_is_signed(register, department_cert):
    d = register(channel=Channel.ONLINE)
    assert_signed_by(receipt_pdf_bytes(dossier=d, pin=None), department_cert)


def test_a_changed_byte_breaks_the_signature(accepted, department_cert):
    data = bytearray(slip_render_pdf(slip=slip_build(dossier=accepted, kind="receipt")))
    at_ = data.index(b"ReportLab")  # the producer, inside the signed byte range
    data[at_] = ord("X")
    (status,) = signatures(bytes(data), department_cert)
    assert not status.intact
    assert not status.bottom_line


def test_a_revision_appended_after_signing_is_not_covered(accepted, department_cert):
    data = slip_render_pdf(slip=slip_build(dossier=accepted, kind="receipt"))
    writer = IncrementalPdfFileWriter(io.BytesIO(data))
    writer.root["/Forged"] = generic.NameObject("/Yes")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)
    (status,) = signatures(out.getvalue(), department_cert)
    assert status.intact  # the signed revision itself is untouched...
    assert status.coverage != SignatureCoverageLevel.ENTIRE_FILE  # ...but not what follows
    assert not status.bottom_line


def test_another_certificate_is_not_the_department(accepted, department_cert, tmp_path):
    data = slip_render_pdf(slip=slip_build(dossier=accepted, kind="receipt"))
    stranger = tmp_path / "stranger"
    signing_cert_generate(
        cert_file=stranger / "c.pem", key_file=stranger / "k.pem", passphrase="", common_name="X"
    )
    (status,) = signatures(data, stranger / "c.pem")
    assert status.intact and not status.trusted and not status.bottom_line


def test_without_a_certificate_slips_are_unsigned_and_deploy_check_warns(accepted, settings):
    settings.SIGNING_CERT_FILE = settings.SIGNING_KEY_FILE = ""
    data = slip_render_pdf(slip=slip_build(dossier=accepted, kind="receipt"))
    assert data.startswith(b"%PDF") and PdfFileReader(io.BytesIO(data)).embedded_signatures == []
    assert "procedures.W010" in {m.id for m in run_checks(include_deployment_checks=True)}
    assert "procedures.W010" not in {m.id for m in run_checks()}


def test_deploy_check_is_quiet_with_a_certificate(department_cert):
    ids = {m.id for m in run_checks(include_deployment_checks=True)}
    assert not {"procedures.W010", "procedures.W011"} & ids


def test_a_wrong_passphrase_is_reported_and_the_slip_still_issued(
    accepted, department_cert, settings
):
    settings.SIGNING_KEY_PASSPHRASE = "wrong"
    assert "procedures.W011" in {m.id for m in run_checks()}
    data = slip_render_pdf(slip=slip_build(dossier=accepted, kind="receipt"))
    assert PdfFileReader(io.BytesIO(data)).embedded_signatures == []


def test_generate_signing_cert_makes_a_usable_pair_once(tmp_path, settings):
    cert, key = tmp_path / "dev" / "cert.pem", tmp_path / "dev" / "key.pem"
    settings.SIGNING_CERT_FILE, settings.SIGNING_KEY_FILE = str(cert), str(key)
    settings.SIGNING_KEY_PASSPHRASE = "development"
    call_command("generate_signing_cert", stdout=io.StringIO())
    first = cert.read_bytes()
    assert os.stat(key).st_mode & 0o777 == 0o600
    out = io.StringIO()
    call_command("generate_signing_cert", stdout=out)
    assert cert.read_bytes() == first and "kept" in out.getvalue()
    signed = signing.pdf_sign(minimal_pdf(), reason="test")
    assert_signed_by(signed, cert)
    call_command("generate_signing_cert", "--force", stdout=io.StringIO())
    assert cert.read_bytes() != first


def _resolved_with(online_assigned, staff, content: bytes, name: str):
    d = online_assigned()
    pin = d.pin
    d = svc.dossier_resolve(
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Cấp Giấy phép số 12/GP-SCT.",
        now=at(2026, 6, 2, 9, 0),
        documents=[UploadedDocument(slot_id=None, name=name, content=content, content_type="")],
    )
    d.pin = pin
    return d


def _download(client, d):
    client.post(reverse("procedures:lookup"), {"code": d.code, "pin": d.pin})
    result = d.documents.get(is_result=True)
    page = client.get(reverse("procedures:lookup-dossier", args=[d.code])).content.decode()
    response = client.get(reverse("procedures:lookup-document", args=[d.code, result.pk]))
    assert response.status_code == 200
    return page, b"".join(response.streaming_content), result


def test_the_applicant_downloads_the_result_signed_and_always_the_same_copy(
    client, online_assigned, staff, department_cert
):
    original = minimal_pdf()
    d = _resolved_with(online_assigned, staff, original, "giay-phep.pdf")
    page, first, result = _download(client, d)
    assert "digitally signed by the department" in page
    assert_signed_by(first, department_cert)
    assert first.startswith(original)  # an incremental update of the staff's file
    result.refresh_from_db()
    assert result.signed_file and result.file.read() == original  # the upload is kept
    _page, second, _result = _download(client, d)
    assert second == first


def test_without_a_certificate_the_result_is_the_file_as_uploaded(
    client, online_assigned, staff, settings
):
    settings.SIGNING_CERT_FILE = ""
    original = minimal_pdf()
    d = _resolved_with(online_assigned, staff, original, "giay-phep.pdf")
    page, data, result = _download(client, d)
    assert data == original and "digitally signed" not in page
    assert not DossierDocument.objects.get(pk=result.pk).signed_file


def test_a_result_that_is_not_a_pdf_is_served_as_uploaded(
    client, online_assigned, staff, department_cert
):
    d = _resolved_with(online_assigned, staff, b"PK\x03\x04 not really a docx", "ket-qua.docx")
    _page, data, result = _download(client, d)
    assert data == b"PK\x03\x04 not really a docx"
    assert not DossierDocument.objects.get(pk=result.pk).signed_file
