"""Admin pieces every feature shares."""

from __future__ import annotations


class ReadOnlyAdminMixin:
    """Records that are evidence or a log (versions, frozen reports, deliveries,
    scheduled runs): shown, never added or edited in the admin. Deleting is refused,
    or left to superusers where `superuser_may_delete` says so (clearing a log)."""

    superuser_may_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return self.superuser_may_delete and request.user.is_superuser
