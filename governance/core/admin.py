from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from governance.core.models import WorkerHeartbeat


class ReadOnlyAdminMixin:
    """For records nobody edits by hand, superusers included."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class CappedCountPaginator(Paginator):
    """Counts at most ``CAP`` rows: past that, the changelist says "10,000" and one narrows it
    with the filters and the date hierarchy. Counting a million joined rows exactly, on every
    page, cost more than showing the page."""

    CAP = 10_000

    @cached_property
    def count(self) -> int:
        rows = self.object_list
        if hasattr(rows, "order_by"):
            # Without the ordering: PostgreSQL would sort the capped rows only to count them.
            rows = rows.order_by()
        return rows[: self.CAP].count()


@admin.register(WorkerHeartbeat)
class WorkerHeartbeatAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("hostname", "beat_at", "beats")
    ordering = ("-beat_at",)
