"""Staff log-in (issue 11 item 8): lock-out per username and address that an admin can
lift, TOTP for those who have a device, sessions that end when idle or with the browser."""

import pytest
import time_machine
from axes.models import AccessAttempt
from django.test import Client
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "Dung-mat-khau-2026"


@pytest.fixture
def officer(django_user_model):
    return django_user_model.objects.create_user("chuyenvien", password=PASSWORD, is_staff=True)


@pytest.fixture
def colleague(django_user_model):
    return django_user_model.objects.create_user("dongnghiep", password=PASSWORD, is_staff=True)


def log_in(client, username, password=PASSWORD, **extra):
    return client.post(LOGIN, {"username": username, "password": password, **extra})


def logged_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def test_fifty_wrong_passwords_lock_the_account_after_five(officer):
    client = Client(REMOTE_ADDR="198.51.100.7")
    codes = [log_in(client, "chuyenvien", f"sai-{i}").status_code for i in range(50)]
    assert codes[:4] == [200] * 4  # the form again, with its error
    assert set(codes[4:]) == {429}
    # Locked: even the right password does not open it now.
    locked = log_in(client, "chuyenvien")
    assert locked.status_code == 429
    assert "Log-in locked after 5 wrong passwords" in locked.content.decode()
    assert not logged_in(client)
    assert AccessAttempt.objects.get(username="chuyenvien").failures_since_start >= 5


def test_the_lock_is_per_username_and_address(officer, colleague):
    office = Client(REMOTE_ADDR="203.0.113.5")
    for i in range(5):
        log_in(office, "chuyenvien", f"sai-{i}")
    # The colleague in the same office (same address) still logs in ...
    assert log_in(Client(REMOTE_ADDR="203.0.113.5"), "dongnghiep").status_code == 302
    # ... and so does the officer from another address.
    assert log_in(Client(REMOTE_ADDR="192.0.2.44"), "chuyenvien").status_code == 302


def test_a_spoofed_forwarded_for_does_not_escape_the_lock(officer, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client(REMOTE_ADDR="198.51.100.7")
    for i in range(5):
        log_in(client, "chuyenvien", f"sai-{i}", HTTP_X_FORWARDED_FOR=f"10.0.0.{i}")
    assert (
        client.post(
            LOGIN, {"username": "chuyenvien", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="10.9.9.9"
        ).status_code
        == 429
    )


def test_behind_a_trusted_proxy_each_client_has_its_own_lock(officer, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    proxy = {"REMOTE_ADDR": "10.0.0.1"}
    for _ in range(5):
        Client(**proxy).post(
            LOGIN,
            {"username": "chuyenvien", "password": "sai"},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
    assert (
        Client(**proxy)
        .post(
            LOGIN,
            {"username": "chuyenvien", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR="198.51.100.7",
        )
        .status_code
        == 429
    )
    assert (
        Client(**proxy)
        .post(
            LOGIN,
            {"username": "chuyenvien", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR="198.51.100.8",
        )
        .status_code
        == 302
    )


def test_an_admin_lifts_the_lock_in_the_admin(officer, django_user_model):
    for i in range(5):
        log_in(Client(), "chuyenvien", f"sai-{i}")
    assert log_in(Client(), "chuyenvien").status_code == 429
    admin = Client()
    admin.force_login(django_user_model.objects.create_superuser("quantri", password="x"))
    attempt = AccessAttempt.objects.get(username="chuyenvien")
    listing = admin.get("/admin/axes/accessattempt/")
    assert listing.status_code == 200 and "chuyenvien" in listing.content.decode()
    response = admin.post(f"/admin/axes/accessattempt/{attempt.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    assert log_in(Client(), "chuyenvien").status_code == 302


def test_the_lock_lifts_by_itself_after_the_cool_off(officer, settings):
    with time_machine.travel("2026-06-01 09:00 +0700", tick=False) as clock:
        for i in range(5):
            log_in(Client(), "chuyenvien", f"sai-{i}")
        assert log_in(Client(), "chuyenvien").status_code == 429
        clock.shift(settings.AXES_COOLOFF_TIME * 3600 + 1)
        assert log_in(Client(), "chuyenvien").status_code == 302


# ----------------------------------------------------------------------------- TOTP


def confirmed_device(user) -> TOTPDevice:
    return TOTPDevice.objects.create(user=user, name="Điện thoại", confirmed=True)


def current_token(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_a_user_with_a_totp_device_must_give_a_code(officer):
    device = confirmed_device(officer)
    client = Client()
    without = log_in(client, "chuyenvien")
    assert without.status_code == 200
    assert "Enter the code of your authenticator app." in without.content.decode()
    assert not logged_in(client)
    wrong = log_in(
        client, "chuyenvien", otp_token="000000" if current_token(device) != "000000" else "111111"
    )
    assert wrong.status_code == 200 and not logged_in(client)
    device.refresh_from_db()
    device.throttle_reset()
    right = log_in(client, "chuyenvien", otp_token=current_token(device))
    assert right.status_code == 302
    assert logged_in(client)


def test_a_user_without_a_device_logs_in_with_the_password(officer):
    client = Client()
    page = client.get(LOGIN).content.decode()
    assert 'name="otp_token"' in page and 'autocomplete="one-time-code"' in page
    assert log_in(client, "chuyenvien").status_code == 302
    assert logged_in(client)


def test_the_setting_requires_a_device_of_every_staff_member(officer, settings):
    settings.STAFF_OTP_REQUIRED = True
    client = Client()
    response = log_in(client, "chuyenvien")
    assert "A TOTP device is required for staff" in response.content.decode()
    assert not logged_in(client)
    # A session without a verified device is turned away too.
    client.force_login(officer)
    assert not logged_in(client)
    device = confirmed_device(officer)
    assert log_in(Client(), "chuyenvien", otp_token=current_token(device)).status_code == 302


# ----------------------------------------------------------------------------- idle


def test_the_session_ends_after_thirty_idle_minutes_and_with_the_browser(officer, settings):
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    with time_machine.travel("2026-06-01 09:00 +0700", tick=True) as clock:
        client = Client()
        response = log_in(client, "chuyenvien")
        cookie = response.cookies["sessionid"]
        assert not cookie["expires"] and not cookie["max-age"]  # ends with the browser
        clock.shift(20 * 60)
        assert logged_in(client)  # in use: the idle clock starts again
        clock.shift(20 * 60)
        assert logged_in(client)
        clock.shift(31 * 60)
        assert not logged_in(client)
