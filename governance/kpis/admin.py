"""The KPI catalogue in the admin: platform admins define indicators and their owners.

Owners work on the KPI pages (``/kpis/org/<slug>/``), where targets and figures go through the
services that tell the other owners; here superusers define what is measured and can read every
target, figure, alert and daily rollup. Targets and figures are edited here only by superusers,
with the same validation (thresholds in the direction's order, aligned period starts).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from governance.core.admin import CappedCountPaginator, ReadOnlyAdminMixin
from governance.kpis.models import Alert, Indicator, Measurement, ReportedFigure, Target


class SuperuserOnly:
    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class TargetInline(SuperuserOnly, admin.TabularInline):
    model = Target
    extra = 0
    fields = (
        "period",
        "period_start",
        "station",
        "service",
        "department",
        "partner",
        "green",
        "amber",
        "set_by",
    )
    readonly_fields = ("set_by",)
    ordering = ("-period_start",)
    show_change_link = True


@admin.register(Indicator)
class IndicatorAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("name_zh", "code", "kind", "metric", "visibility", "is_active")
    list_filter = ("kind", "visibility", "is_active")
    search_fields = ("code", "name_zh", "name_en")
    filter_horizontal = ("owners",)
    inlines = (TargetInline,)
    fieldsets = (
        (None, {"fields": ("code", "kind", "metric", "is_active", "visibility", "owners")}),
        (_("名称与说明"), {"fields": ("name_zh", "name_en", "description_zh", "description_en")}),
        (_("各方填报的指标"), {"fields": ("unit", "higher_is_better")}),
    )

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("owners")

    def save_formset(self, request, form, formset, change):
        for target in formset.save(commit=False):
            target.set_by = request.user
            target.save()
        for target in formset.deleted_objects:
            target.delete()
        formset.save_m2m()


@admin.register(Target)
class TargetAdmin(SuperuserOnly, admin.ModelAdmin):
    list_display = ("indicator", "period", "period_start", "green", "amber", "set_by")
    list_filter = ("period", "indicator")
    list_select_related = ("indicator", "set_by")
    date_hierarchy = "period_start"
    readonly_fields = ("set_by",)

    def save_model(self, request, obj, form, change):
        obj.set_by = request.user
        super().save_model(request, obj, form, change)


@admin.register(ReportedFigure)
class ReportedFigureAdmin(ReadOnlyAdminMixin, SuperuserOnly, admin.ModelAdmin):
    """Read-only: figures are reported and reviewed on the owners' pages, by the services."""

    list_display = ("indicator", "period_start", "value", "reported_by", "status", "reviewed_by")
    list_filter = ("status", "indicator")
    list_select_related = ("indicator", "reported_by", "reviewed_by")
    date_hierarchy = "period_start"


@admin.register(Alert)
class AlertAdmin(ReadOnlyAdminMixin, SuperuserOnly, admin.ModelAdmin):
    list_display = ("indicator", "period", "period_start", "value", "created_at")
    list_filter = ("period", "indicator")
    list_select_related = ("indicator",)


@admin.register(Measurement)
class MeasurementAdmin(ReadOnlyAdminMixin, SuperuserOnly, admin.ModelAdmin):
    """The daily rollups, for checking a figure; recompute with ``kpis_backfill``."""

    list_display = ("metric", "day", "station", "service", "department", "partner", "value")
    list_filter = ("metric",)
    list_select_related = ("station", "service", "department", "partner")
    date_hierarchy = "day"
    paginator = CappedCountPaginator
    show_full_result_count = False
