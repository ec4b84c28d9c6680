"""Mail to the applicant on each step that concerns them (portal item 8)."""

import pytest
from django.core import mail

from procedures.core.constants import Channel, Outcome
from procedures.dossiers import services as svc
from procedures.dossiers.services import Applicant

from .conftest import at

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _vi(vietnamese):
    """Links in Vietnamese mail have no prefix, English ones /en/."""


def applicant(language):
    return Applicant(
        type="individual",
        name="Trần Văn Cường",
        id_number="001099012345",
        email="cuong@example.com",
        language=language,
    )


@pytest.fixture
def run(django_capture_on_commit_callbacks):
    """Run a service and return the mails its commit sent."""

    def _run(fn, **kwargs):
        mail.outbox.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = fn(**kwargs)
        return result, list(mail.outbox)

    return _run


@pytest.mark.parametrize(("language", "prefix"), [("vi", ""), ("en", "/en")])
def test_every_step_that_concerns_the_applicant_is_mailed(
    register, staff, units, run, language, prefix
):
    """Dates, notes and links are checked in both languages; the wording only in English
    (the Vietnamese wording belongs to the translation catalogue)."""
    en = language == "en"
    d, (receipt,) = run(
        register, channel=Channel.ONLINE, applicant=applicant(language), now=at(2026, 6, 1, 9, 0)
    )
    link = f"http://127.0.0.1:8000{prefix}/tra-cuu/?code={d.code}"
    assert d.code in receipt.subject and link in receipt.body
    assert not en or (
        receipt.subject == f"Dossier {d.code} received" and "Next step" in receipt.body
    )

    d, (accepted,) = run(
        svc.dossier_accept, dossier=d, actor=staff["intake"], now=at(2026, 6, 1, 10, 0)
    )
    # From acceptance on, the mail carries the legal code issued then.
    assert d.code == "H56.16-260601-0001" and d.submission_ref == "DK-H56.16-260601-0001"
    link = f"http://127.0.0.1:8000{prefix}/tra-cuu/?code={d.code}"
    assert "10:00 04/06/2026" in accepted.body
    assert not en or "Appointment for the result: 10:00 04/06/2026" in accepted.body
    assert link in accepted.body

    d, (supplement,) = run(
        svc.dossier_request_supplement,
        dossier=d,
        actor=staff["intake"],
        reason="Thiếu bản đồ vị trí cửa hàng.",
        now=at(2026, 6, 1, 11, 0),
    )
    assert "Thiếu bản đồ vị trí cửa hàng." in supplement.body
    assert link in supplement.body
    assert not en or (
        "Upload them on the look-up page" in supplement.body
        and "counts again once the dossier is complete" in supplement.body
    )

    d, _ = run(
        svc.dossier_receive_supplement, dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 8, 0)
    )
    d = svc.dossier_assign(
        dossier=d,
        actor=staff["intake"],
        unit=units["QLTM"],
        officer=staff["specialist"],
        now=at(2026, 6, 2, 8, 30),
    )
    d, (payment,) = run(
        svc.dossier_request_payment,
        dossier=d,
        actor=staff["specialist"],
        note="Lệ phí 1.200.000 đồng.",
        now=at(2026, 6, 2, 9, 0),
    )
    assert "Lệ phí 1.200.000 đồng." in payment.body
    assert not en or "paused" in payment.body
    d = svc.dossier_confirm_payment(dossier=d, actor=staff["intake"], now=at(2026, 6, 2, 10, 0))

    d, (apology,) = run(
        svc.dossier_apologise,
        dossier=d,
        actor=staff["unit_head"],
        reason="Chờ ý kiến Sở Y tế.",
        new_due_at=at(2026, 6, 10, 16, 0),
        now=at(2026, 6, 2, 11, 0),
    )
    assert "Chờ ý kiến Sở Y tế." in apology.body and "16:00 10/06/2026" in apology.body
    assert not en or (
        "We apologise" in apology.body and "New appointment: 16:00 10/06/2026" in apology.body
    )

    d, (result,) = run(
        svc.dossier_resolve,
        dossier=d,
        actor=staff["unit_head"],
        outcome=Outcome.GRANTED,
        note="Giấy phép số 7/GP-SCT",
        now=at(2026, 6, 9, 9, 0),
    )
    assert "Giấy phép số 7/GP-SCT" in result.body and link in result.body
    assert not en or (
        result.subject == f"Dossier {d.code}: the result is ready"
        and "Granted" in result.body
        and "rate the service" in result.body
    )
    assert {m.to[0] for m in [receipt, accepted, supplement, payment, apology, result]} == {
        "cuong@example.com"
    }


def test_refusal_is_mailed_with_its_reason(register, staff, run):
    d = register(channel=Channel.ONLINE, applicant=applicant("en"))
    _, (refused,) = run(
        svc.dossier_refuse_intake,
        dossier=d,
        actor=staff["intake"],
        reason="Không thuộc thẩm quyền của Sở.",
        now=at(2026, 6, 1, 10, 0),
    )
    assert refused.subject == f"Dossier {d.code} not accepted"
    assert "Reason: Không thuộc thẩm quyền của Sở." in refused.body


def test_mail_and_slips_give_the_one_lookup_address(register, run):
    """procedures/portal/links.py builds it; the mail, the slips and their QR codes use it."""
    from procedures.dossiers.slips import lookup_url as slip_lookup_url
    from procedures.portal.links import lookup_path, lookup_url

    d, (receipt,) = run(
        register, channel=Channel.ONLINE, applicant=applicant("vi"), now=at(2026, 6, 1, 9, 0)
    )
    url = lookup_url(d.code)
    assert lookup_path(d.code) == "/tra-cuu/?code=DK-H56.16-260601-0001"
    assert url == "http://127.0.0.1:8000/tra-cuu/?code=DK-H56.16-260601-0001"
    assert slip_lookup_url(dossier=d) == url
    assert url in receipt.body.splitlines()
