"""Staff log-in with optional TOTP (issue 11 item 8).

A staff member with a confirmed TOTP device (django-otp, added by an admin under "TOTP
devices") must give a current code with the password; the others log in with the
password alone, unless `STAFF_OTP_REQUIRED` asks it of everyone. Password and code
are checked by one form, so nobody is ever logged in half-way, and failed passwords
are counted by django-axes (the token device has its own throttle).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib.admin import AdminSite
from django.utils.translation import gettext_lazy as _
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm


def otp_needed(user) -> bool:
    return user_has_device(user, confirmed=True) or settings.STAFF_OTP_REQUIRED


class StaffLoginForm(OTPAdminAuthenticationForm):
    otp_token = forms.CharField(
        label=_("Authentication code"),
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
        help_text=_("The 6 digits of your authenticator app, if you use one."),
    )
    otp_error_messages = {
        **OTPAdminAuthenticationForm.otp_error_messages,
        "token_required": _("Enter the code of your authenticator app."),
        "invalid_token": _("The authentication code is not correct, or has expired."),
    }

    def _chosen_device(self, user):
        # Most staff have one device: use it without asking them to pick it. With
        # several, the form shows the choice (django-otp then needs one picked).
        device = super()._chosen_device(user)
        if device is None:
            devices = list(devices_for_user(user, confirmed=True, for_verify=True))
            if len(devices) == 1:
                device = devices[0]
        return device

    def clean(self):
        # AdminAuthenticationForm.clean: password and is_staff; then the code if needed.
        self.cleaned_data = super(OTPAdminAuthenticationForm, self).clean()
        user = self.get_user()
        if user is not None and otp_needed(user):
            if not user_has_device(user, confirmed=True):
                raise forms.ValidationError(
                    _(
                        "A TOTP device is required for staff. Ask an administrator to set "
                        "one up for your account."
                    ),
                    code="otp_device_missing",
                )
            self.clean_otp(user)
        return self.cleaned_data


class StaffAdminSite(AdminSite):
    login_form = StaffLoginForm
    login_template = "admin/staff_login.html"

    def has_permission(self, request) -> bool:
        # Per user the code is asked at log-in, the only way into the admin; the setting
        # also turns away sessions that began without one (e.g. before it was set).
        if not super().has_permission(request):
            return False
        return not settings.STAFF_OTP_REQUIRED or request.user.is_verified()
