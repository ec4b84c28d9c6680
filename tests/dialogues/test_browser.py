"""End to end in headless Chromium: a business registers and asks a question; staff
assign, answer and approve it; the answer appears on the public page."""

import os
import re
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from dialogues.models import Recommendation, Registration
from procedures.catalogue.staff import roles_ensure_groups
from procedures.core.constants import Role
from procedures.models import Delivery, StaffProfile
from tests.dialogues_factories import (
    APPROVER_PERMS,
    STAFF_PERMS,
    FieldFactory,
    SessionFactory,
    UnitFactory,
    UserFactory,
)


def login(chromium, live_server, username, next_path):
    context = chromium.new_context()
    page = context.new_page()
    page.goto(f"{live_server.url}/admin/login/?next={next_path}")
    page.fill("#id_username", username)
    page.fill("#id_password", "pw-test-123")
    page.click("input[type=submit]")
    page.wait_for_url(f"{live_server.url}{next_path}")
    return page


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_question_to_published_answer(chromium, live_server):
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
    page = chromium.new_context().new_page()
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
    desk_page = login(chromium, live_server, "motcua", detail)
    desk_page.select_option("#assign select[name=unit]", str(unit.pk))
    with desk_page.expect_navigation():
        desk_page.click("#assign button[type=submit]")
    staff_page = login(chromium, live_server, "chuyenvien", detail)
    staff_page.fill("#answer textarea[name=answer_text]", answer)
    assert staff_page.input_value("#answer select[name=answer_kind]") == "in_writing"
    staff_page.fill("#answer input[name=document_number]", "123/SCT-QLTM")
    with staff_page.expect_navigation():
        staff_page.click("#answer button[type=submit]")
    assert staff_page.locator("#approval").count() == 0  # a specialist cannot approve

    # Not public before approval.
    public = chromium.new_context().new_page()
    public.goto(f"{live_server.url}/doi-thoai/tra-loi/")
    assert answer not in public.content()

    # 3. The unit head approves it.
    head_page = login(chromium, live_server, "truongphong", detail)
    with head_page.expect_navigation():
        head_page.click("#approve-form button[type=submit]")
    recommendation.refresh_from_db()
    assert recommendation.status == "answered_in_writing"
    assert recommendation.unit == unit

    # 4. The answer is on the public page, found by field.
    public.goto(f"{live_server.url}/doi-thoai/tra-loi/?field={petrol.pk}")
    content = public.content()
    assert question in content and answer in content and "123/SCT-QLTM" in content


def _manage_path(message) -> str:
    """The path of the personal link in a confirmation mail (SITE_URL is not the
    live server's address)."""
    match = re.search(r"https?://[^/\s]+(/\S*/dang-ky/[0-9a-f-]{36}/\S+/)", message.body)
    assert match, message.body
    return match.group(1)


def _register(page, live_server, session, *, name, tax_code, email, attendees):
    page.goto(f"{live_server.url}/doi-thoai/{session.pk}/dang-ky/")
    page.fill("#id_business_name", name)
    page.fill("#id_tax_code", tax_code)
    page.fill("#id_representative", "Nguyễn Văn A")
    page.fill("#id_email", email)
    page.fill("#id_phone", "0912000111")
    page.fill("#id_attendees", str(attendees))
    with page.expect_navigation():
        page.click("#registration-form button[type=submit]")
    assert page.url == f"{live_server.url}/doi-thoai/{session.pk}/dang-ky/da-gui/"
    return _manage_path(mail.outbox[-1])


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_cancel_from_the_private_link_promotes_the_waiting_list(chromium, live_server, vietnamese):
    """Cancel and language switch work from the personal page (real CSRF checks, real
    Origin header), and the waiting business is confirmed in the same transaction."""
    now = timezone.now()
    session = SessionFactory(
        title="Đối thoại doanh nghiệp công nghiệp",
        starts_at=now + timedelta(days=10),
        ends_at=now + timedelta(days=10, hours=3),
        registration_deadline=now + timedelta(days=7),
        capacity=2,
    )
    mail.outbox.clear()
    first = chromium.new_context(locale="vi-VN").new_page()
    first_path = _register(
        first,
        live_server,
        session,
        name="Công ty TNHH Phú Bình",
        tax_code="4600123480",
        email="a@phubinh.vn",
        attendees=2,
    )
    outcome = first.locator("#registration-outcome").inner_text()
    assert "đã được xác nhận" in outcome and "2 chỗ" in outcome

    second = chromium.new_context(locale="vi-VN").new_page()
    second_path = _register(
        second,
        live_server,
        session,
        name="Công ty CP Thái Nguyên",
        tax_code="4600654322",
        email="b@thainguyen.vn",
        attendees=1,
    )
    outcome = second.locator("#registration-outcome").inner_text()
    assert "danh sách chờ" in outcome and "vị trí 1" in outcome
    second.goto(f"{live_server.url}{second_path}")
    assert second.inner_text("#registration-status") == "Trong danh sách chờ"

    # The first business opens its link and switches the page to English.
    first.goto(f"{live_server.url}{first_path}")
    assert first.inner_text("#registration-status") == "Đã xác nhận"
    with first.expect_navigation():
        first.select_option("#lang-select", "en")
        first.click(".lang-switch button[type=submit]")
    assert first.url == f"{live_server.url}/en{first_path}"
    assert first.inner_text("h1") == "Your registration"

    # ... and cancels: no CSRF failure, the seat goes to the waiting business.
    with first.expect_navigation():
        first.click("form.cancel-registration button[type=submit]")
    assert "403" not in first.title()
    assert "Your registration is cancelled." in first.content()
    assert first.inner_text("#registration-status") == "Cancelled"
    waiting = Registration.objects.get(tax_code="4600654322")
    assert waiting.status == "confirmed" and waiting.promoted_at is not None

    second.reload()
    assert second.inner_text("#registration-status") == "Đã xác nhận"
    assert "vị trí" not in second.locator("#registration-status").locator("xpath=..").inner_text()
    # The promotion notice went through the delivery ledger, committed with the seat.
    assert Delivery.objects.filter(
        kind="dialogue.promotion", recipient="b@thainguyen.vn", status="sent"
    ).exists()
