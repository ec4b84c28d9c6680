"""The Content-Security-Policy in a real browser (issue 11 item 9): the public pages, the
dialogue pages and the admin work under it with no violation reported by Chromium.

Every page is opened with a listener for `securitypolicyviolation` events and the
console is watched for "Content Security Policy" errors; the policy itself allows
scripts only from this site or with the request's nonce, never inline.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from procedures.models import Dossier, RequiredDocument
from tests.dialogues_factories import RecommendationFactory, SessionFactory, register_business

from .pages import attach_and_submit
from .test_portal_journey import PASSWORD
from .test_portal_journey import catalogue as catalogue_fixture

catalogue = catalogue_fixture

LISTEN = """
window.__csp = [];
document.addEventListener('securitypolicyviolation',
  e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI + ' ' + e.sourceFile));
"""


class Watch:
    """Opens pages in one context and collects every CSP complaint."""

    def __init__(self, context):
        self.context = context
        self.context.add_init_script(LISTEN)
        self.console: list[str] = []
        self.page = context.new_page()
        self.page.set_default_timeout(15_000)
        self.page.on("console", self._console)
        self.seen: list[str] = []

    def _console(self, message):
        if "Content Security Policy" in message.text or "Content-Security-Policy" in message.text:
            self.console.append(message.text)

    def violations(self) -> list[str]:
        return self.page.evaluate("window.__csp || []")

    def visit(self, path: str, *, status: int = 200) -> None:
        response = self.page.goto(path)
        assert response.status == status, f"{path}: {response.status}"
        assert "script-src 'self' 'nonce-" in response.headers["content-security-policy"] or (
            "script-src 'self'" in response.headers["content-security-policy"]
        )
        self.check(path)

    def check(self, where: str) -> None:
        self.page.wait_for_load_state("load")
        self.seen.append(where)
        found = self.violations() + self.console
        assert not found, f"CSP violations on {where}: {found}"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_public_pages_dialogues_and_admin_work_under_the_policy(
    desktop, live_server, catalogue, vietnamese, django_user_model
):
    watch = Watch(desktop)
    # --- Public portal: home, procedure, submission, receipt, look-up, dossier ---
    watch.visit("/")
    watch.visit(f"/thu-tuc/{catalogue.pk}/")
    watch.visit(f"/thu-tuc/{catalogue.pk}/nop-ho-so/")
    page = watch.page
    first, second, _optional = RequiredDocument.objects.filter(procedure=catalogue).order_by(
        "order"
    )
    page.fill("#id_applicant_name", "Nguyễn Thị Bình")
    page.fill("#id_id_number", "001199012345")
    page.fill("#id_phone", "0912345678")
    page.fill("#id_email", "binh@example.com")
    page.fill("#id_address", "Số 1 Hoàng Văn Thụ, TP Thái Nguyên")
    page.check("#id_result_delivery_2")
    attach_and_submit(page, first, second)
    watch.check("receipt")
    code = page.inner_text("#dossier-code").strip()
    pin = page.inner_text("#dossier-pin").strip()
    watch.visit(f"/tra-cuu/?code={code}")
    page.fill("#id_pin", pin)
    page.click("main form button[type=submit]")
    page.wait_for_url(f"**/tra-cuu/{code}/")
    watch.check("dossier page")
    watch.visit("/thong-ke/")

    # --- Dialogues: sessions, registration, manage link, recommendation, answers ---
    session = SessionFactory(
        starts_at=timezone.now() + timedelta(days=30), title="Đối thoại doanh nghiệp quý IV"
    )
    watch.visit("/doi-thoai/")
    watch.visit(f"/doi-thoai/{session.pk}/")
    watch.visit(f"/doi-thoai/{session.pk}/dang-ky/")
    registration, token = register_business(session, 1, position="Giám đốc", now=None)
    watch.visit(reverse("dialogues:registration-manage", args=[registration.public_id, token]))
    watch.visit("/doi-thoai/kien-nghi/")
    RecommendationFactory()
    watch.visit("/doi-thoai/tra-loi/")

    # --- Admin: log-in, dashboard, dossier list and page, slip with its print button ---
    watch.visit("/admin/login/?next=/admin/")
    page.fill("#id_username", "giamdoc")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
    watch.check("admin index")
    dossier = Dossier.objects.get(code=code)
    watch.visit("/admin/procedures/dossier/")
    watch.visit(f"/admin/procedures/dossier/{dossier.pk}/change/")
    watch.visit(f"/admin/procedures/procedure/{catalogue.pk}/change/")
    watch.visit(f"/admin/procedures/dossier/{dossier.pk}/slip/receipt/")
    page.evaluate("window.__prints = 0; window.print = () => { window.__prints += 1; }; 0")
    page.click("button[data-print]")  # the print button works without an inline handler
    assert page.evaluate("window.__prints") == 1
    watch.visit("/doi-thoai/can-bo/kien-nghi/")
    # The superuser's pages: lifting a lock-out, giving someone a TOTP device.
    django_user_model.objects.create_superuser("quantri", password=PASSWORD)
    desktop.clear_cookies()
    watch.visit("/admin/login/?next=/admin/axes/accessattempt/")
    page.fill("#id_username", "quantri")
    page.fill("#id_password", PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/axes/accessattempt/")
    watch.check("axes admin")
    watch.visit("/admin/otp_totp/totpdevice/add/")
    watch.visit("/api/docs/")
    page.wait_for_selector(".swagger-ui .info", timeout=15_000)  # the UI did start
    watch.check("api docs running")
    assert len(watch.seen) >= 20
