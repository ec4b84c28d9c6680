"""Applicant accounts in a real browser (issue 12 item 2): sign in through the local
OpenID Connect provider, find the form pre-filled, submit, and see the dossier in
"my dossiers", then open it without its PIN."""

from __future__ import annotations

import pytest

from procedures.accounts.models import ApplicantDossier
from procedures.models import Dossier, RequiredDocument
from tests.oidc_provider import CLIENT_ID, CLIENT_SECRET, LocalProvider

from .conftest import Checker
from .pages import attach_and_submit
from .test_portal_journey import catalogue as catalogue_fixture

catalogue = catalogue_fixture

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


@pytest.fixture
def provider(live_server, settings):
    p = LocalProvider().start()
    p.redirect_uris.add(f"{live_server.url}/oidc/callback/")
    p.claims = {
        "sub": "vneid-browser-1",
        "name": "Nguyễn Thị Bình",
        "email": "binh@example.com",
        "phone_number": "0912345678",
        "identity_number": "001199012345",
    }
    settings.OIDC_ISSUER = p.issuer
    settings.OIDC_CLIENT_ID = CLIENT_ID
    settings.OIDC_CLIENT_SECRET = CLIENT_SECRET
    yield p
    p.stop()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_sign_in_pre_fills_the_form_and_lists_the_dossier(
    chromium, live_server, provider, catalogue, axe_source, artifacts
):
    checker = Checker(axe_source, artifacts / "applicant-account")
    checker.folder.mkdir(exist_ok=True)
    context = chromium.new_context(base_url=live_server.url, locale="en-US")
    context.add_init_script(LISTEN)
    page = context.new_page()
    page.set_default_timeout(15_000)
    submit_path = f"/thu-tuc/{catalogue.pk}/nop-ho-so/"

    page.goto(submit_path)
    assert page.input_value("#id_applicant_name") == ""
    page.click("#nav-sign-in")
    # Our site → the provider's /authorize → our /oidc/callback/ → back to the form.
    page.wait_for_url(f"{live_server.url}{submit_path}")
    assert provider.token_requests == 1
    assert page.locator("#nav-my-dossiers").count() == 1
    assert page.input_value("#id_applicant_name") == "Nguyễn Thị Bình"
    assert page.input_value("#id_id_number") == "001199012345"
    assert page.input_value("#id_phone") == "0912345678"
    assert page.input_value("#id_email") == "binh@example.com"
    checker.check(page, "01-submit-pre-filled")

    first, second = RequiredDocument.objects.filter(procedure=catalogue, mandatory=True).order_by(
        "order"
    )
    attach_and_submit(page, first, second)
    code = page.inner_text("#dossier-code").strip()
    dossier = Dossier.objects.get(code=code)
    assert dossier.applicant_name == "Nguyễn Thị Bình"
    assert ApplicantDossier.objects.get().dossier == dossier

    page.click("#nav-my-dossiers")
    page.wait_for_url("**/tai-khoan/ho-so-cua-toi/")
    rows = page.locator("#my-dossiers tbody tr")
    assert rows.count() == 1
    assert code in rows.first.inner_text()
    checker.check(page, "02-my-dossiers")

    assert page.evaluate("window.__csp") == []  # the policy let the whole round trip through
    # A later visit in a new browser: sign in again, and the dossier opens without a PIN.
    context.close()
    later = chromium.new_context(base_url=live_server.url, locale="en-US")
    later.add_init_script(LISTEN)
    page = later.new_page()
    page.set_default_timeout(15_000)
    # "My dossiers" needs an applicant: it sends the browser through the provider and back.
    page.goto("/tai-khoan/ho-so-cua-toi/")
    page.wait_for_url(f"{live_server.url}/tai-khoan/ho-so-cua-toi/")
    assert provider.token_requests == 2
    page.click(f"#my-dossiers a:text('{code}')")
    page.wait_for_url(f"**/tra-cuu/{code}/")
    assert code in page.inner_text("main")

    # The next dossier reuses the two files of the first one instead of new uploads.
    page.goto(submit_path)
    for slot, name in ((first, "don-de-nghi.pdf"), (second, "giay-chung-nhan.png")):
        page.select_option(f"#id_reuse_doc_{slot.pk}", label=f"{name} (dossier {code})")
    checker.check(page, "03-submit-reusing-files")
    page.check("#id_consent")
    page.click("main form button[type=submit]")
    page.wait_for_url("**/bien-nhan/*/")
    again = Dossier.objects.get(code=page.inner_text("#dossier-code").strip())
    assert {d.slot_id: d.original_name for d in again.documents.all()} == {
        first.pk: "don-de-nghi.pdf",
        second.pk: "giay-chung-nhan.png",
    }
    assert page.evaluate("window.__csp") == []
    later.close()
