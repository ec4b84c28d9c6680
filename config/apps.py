"""The admin site of the staff: the stock one, with a log-in that asks for a TOTP code
from those who have a device (django-otp, config/admin.py)."""

from django.contrib.admin.apps import AdminConfig


class StaffAdminConfig(AdminConfig):
    default_site = "config.admin.StaffAdminSite"

    def ready(self):
        super().ready()
        from django.contrib.auth.signals import user_logged_in

        from config.sessions import session_touch

        user_logged_in.connect(session_touch, dispatch_uid="config.sessions.session_touch")
