from django.contrib import admin

from governance.core.models import WorkerHeartbeat


class ReadOnlyAdminMixin:
    """For records nobody edits by hand, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("hostname", "beat_at", "beats")
    ordering = ("-beat_at",)
