"""End to end in headless Chromium: a business registers and asks a question; staff
assign, answer and approve it; the answer appears on the public page."""

import os
import shutil
from datetime import timedelta

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from dialogues.models import Recommendation, Registration
from procedures.constants import Role
from procedures.models import StaffProfile
from procedures.services.staff import roles_ensure_groups
from tests.dialogues_factories import (
    APPROVER_PERMS,
    STAFF_PERMS,
    FieldFactory,
    SessionFactory,
    UnitFactory,
    UserFactory,
)

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sync_playwright = None
    if sync_playwright is None or not shutil.which(CHROMIUM):
        if getattr(settings, "REQUIRE_SERVICES", False):
            pytest.fail("Playwright and /usr/bin/chromium are required (REQUIRE_SERVICES=1)")
        pytest.skip("Playwright or Chromium not installed")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


def login(browser, live_server, username, next_path):
    context = browser.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-test-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_path}")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_question_to_published_answer(browser, live_server):
    assert os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE") == "true"
    # The live server runs on the real clock, so the session is set from it.
    now = timezone.now()
    session = SessionFactory(
        title="Đối thoại doanh nghiệp xăng dầu",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=3),
        registration_deadline=now + timedelta(days=7),
        capacity=20,
    )
    petrol = FieldFactory(name="Xăng dầu")
    session.fields.add(petrol)
    unit = UnitFactory(code="QLTM", name="Phòng Quản lý thương mại")
    desk = UserFactory(username="motcua", perms=STAFF_PERMS)
    desk.groups.add(roles_ensure_groups()[Role.INTAKE])  # gives items to units
    specialist = UserFactory(username="chuyenvien", perms=STAFF_PERMS)
    specialist.groups.add(roles_ensure_groups()[Role.SPECIALIST])
    StaffProfile.objects.create(user=specialist, unit=unit)  # answers for its unit
    head = UserFactory(username="truongphong", perms=APPROVER_PERMS)
    head.groups.add(roles_ensure_groups()[Role.UNIT_HEAD])
    StaffProfile.objects.create(user=head, unit=unit)  # approves for the unit it heads
    question = "Thời gian cấp giấy phép bán lẻ xăng dầu có thể rút ngắn không?"
    answer = "Từ 01/7 thời gian cấp giấy phép được rút ngắn còn 10 ngày làm việc."

    # 1. A business registers (no account) and asks its question in advance.
    page = browser.new_context().new_page()
    page.goto(f"{live_server.url}/doi-thoai/{session.pk}/")
    page.click(f"a[href='/doi-thoai/{session.pk}/dang-ky/']")
    page.fill("#id_business_name", "Công ty TNHH Xăng dầu Phú Bình")
    page.fill("#id_tax_code", "4600123459")
    page.fill("#id_representative", "Lê Văn C")
    page.fill("#id_email", "c@phubinh.vn")
    page.fill("#id_phone", "0912000111")
    page.fill("#id_attendees", "2")
    page.fill("#id_questions", question)
    page.select_option("#id_question_field", str(petrol.pk))
    with page.expect_navigation():
        page.click("#registration-form button[type=submit]")
    assert page.url == f"{live_server.url}/doi-thoai/{session.pk}/dang-ky/da-gui/"
    registration = Registration.objects.get()
    assert registration.status == "confirmed" and registration.attendees == 2
    assert mail.outbox[-1].to == ["c@phubinh.vn"]
    recommendation = Recommendation.objects.get()

    # 2. The desk assigns the question to a unit; its specialist drafts the answer.
    detail = f"/doi-thoai/can-bo/kien-nghi/{recommendation.pk}/"
    desk_page = login(browser, live_server, "motcua", detail)
    desk_page.select_option("#assign select[name=unit]", str(unit.pk))
    with desk_page.expect_navigation():
        desk_page.click("#assign button[type=submit]")
    staff_page = login(browser, live_server, "chuyenvien", detail)
    staff_page.fill("#answer textarea[name=answer_text]", answer)
    assert staff_page.input_value("#answer select[name=answer_kind]") == "in_writing"
    staff_page.fill("#answer input[name=document_number]", "123/SCT-QLTM")
    with staff_page.expect_navigation():
        staff_page.click("#answer button[type=submit]")
    assert staff_page.locator("#approval").count() == 0  # a specialist cannot approve

    # Not public before approval.
    public = browser.new_context().new_page()
    public.goto(f"{live_server.url}/doi-thoai/tra-loi/")
    assert answer not in public.content()

    # 3. The unit head approves it.
    head_page = login(browser, live_server, "truongphong", detail)
    with head_page.expect_navigation():
        head_page.click("#approve-form button[type=submit]")
    recommendation.refresh_from_db()
    assert recommendation.status == "answered_in_writing"
    assert recommendation.unit == unit

    # 4. The answer is on the public page, found by field.
    public.goto(f"{live_server.url}/doi-thoai/tra-loi/?field={petrol.pk}")
    content = public.content()
    assert question in content and answer in content and "123/SCT-QLTM" in content
