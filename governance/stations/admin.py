from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.stations import queries
from governance.stations.models import OpeningHours, Service, Station, Visit


class OpeningHoursInline(admin.TabularInline):
    model = OpeningHours
    extra = 0

    # The hours are part of the station: whoever may change the station changes them.
    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("stations.view_station", obj)

    def has_add_permission(self, request, obj=None):
        return request.user.has_perm("stations.change_station", obj)

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("stations.change_station", obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("stations.change_station", obj)


@admin.register(Station)
class StationAdmin(ObjectPermissionsModelAdmin):
    list_display = ("name_zh", "name_en", "host", "phone", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_zh", "name_en", "address_zh", "slug")
    list_select_related = ("host",)
    filter_horizontal = ("departments",)
    inlines = (OpeningHoursInline,)
    fieldsets = (
        (None, {"fields": ("slug", "is_active", "host", "departments")}),
        (_("名称与简介"), {"fields": ("name_zh", "name_en", "description_zh", "description_en")}),
        (
            _("位置与联系"),
            {"fields": ("address_zh", "address_en", "latitude", "longitude", "phone")},
        ),
    )

    def get_queryset(self, request):
        return queries.stations_for_admin(request.user).prefetch_related("departments")

    def get_readonly_fields(self, request, obj=None):
        # The host partner keeps the station's details; who hosts it and which departments sit
        # there is the platform's decision.
        if request.user.is_superuser:
            return ()
        return ("slug", "host", "departments")


@admin.register(Service)
class ServiceAdmin(ObjectPermissionsModelAdmin):
    list_display = ("service_code", "name_zh", "name_en", "department", "channel", "is_active")
    list_filter = ("channel", "is_active")
    search_fields = ("service_code", "name_zh", "name_en", "keywords")
    list_select_related = ("department",)
    filter_horizontal = ("stations",)
    fieldsets = (
        (None, {"fields": ("department", "service_code", "channel", "is_active")}),
        (_("名称与说明"), {"fields": ("name_zh", "name_en", "description_zh", "description_en")}),
        (
            _("办理要求"),
            {"fields": ("target_minutes", "documents_zh", "documents_en", "keywords", "stations")},
        ),
    )

    def get_queryset(self, request):
        return queries.services_for_admin(request.user)

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return ("department", *self.list_filter)
        return self.list_filter

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "department":
            kwargs["queryset"] = queries.departments_for_admin(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "stations":
            kwargs["queryset"] = queries.stations_for_admin(request.user)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Visit)
class VisitAdmin(ObjectPermissionsModelAdmin):
    list_display = (
        "ticket",
        "service",
        "station",
        "channel",
        "arrived_at",
        "called_at",
        "finished_at",
        "outcome",
    )
    list_filter = ("outcome", "channel", "station")
    search_fields = ("ticket", "service__service_code", "service__name_zh")
    date_hierarchy = "arrived_at"
    autocomplete_fields = ("service",)
    raw_id_fields = ("handled_by",)
    list_select_related = ("service", "station")
    # Counting a million rows for the paginator costs more than the page itself.
    show_full_result_count = False
    list_per_page = 50

    def get_queryset(self, request):
        return queries.visits_for_admin(request.user)

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return (*self.list_filter, "service__department")
        return self.list_filter

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "station":
            kwargs["queryset"] = queries.stations_for_admin(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
