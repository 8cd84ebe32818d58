from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.core.admin import CappedCountPaginator
from governance.stations import queries
from governance.stations.models import OpeningHours, Service, Station, Visit


class VisibleStationFilter(admin.RelatedFieldListFilter):
    """Offers only the stations the user works at, not every station in the country."""

    def field_choices(self, field, request, model_admin):
        stations = queries.stations_for_admin(request.user).order_by("name_zh")
        return [(station.pk, str(station)) for station in stations]

    def has_output(self):
        # The changelist drops a filter without output but still consumes its parameter, so
        # with a single station to offer a "?station__id__exact=" would be silently ignored.
        return True


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

    def save_related(self, request, form, formsets, change):
        # The form offers only the stations the user works at; saving it must not take the
        # service away from stations the user cannot see.
        unseen = []
        if change and not request.user.is_superuser:
            visible = queries.stations_for_admin(request.user).values("pk")
            unseen = list(form.instance.stations.exclude(pk__in=visible))
        super().save_related(request, form, formsets, change)
        if unseen:
            form.instance.stations.add(*unseen)


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
    list_filter = ("outcome", "channel", ("station", VisibleStationFilter))
    # Exact matches: a ticket or a service code is what staff type, and a substring search over a
    # million visits would scan them all.
    search_fields = ("=ticket", "=service__service_code")
    date_hierarchy = "arrived_at"
    autocomplete_fields = ("service",)
    raw_id_fields = ("handled_by",)
    list_select_related = ("service", "station")
    # Counting a million rows for the paginator costs more than the page itself.
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator

    def get_queryset(self, request):
        return queries.visits_for_admin(request.user)

    def get_list_filter(self, request):
        if request.user.is_superuser:
            return (*self.list_filter, "service__department")
        return self.list_filter

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        handled_by = form.base_fields.get("handled_by")
        if (
            handled_by is not None
            and obj is not None
            and obj.handled_by_id
            and not request.user.is_superuser
        ):
            handled_by.queryset = queries.visit_handlers_for_admin(
                request.user, current_id=obj.handled_by_id
            )
        return form

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "station":
            kwargs["queryset"] = queries.stations_for_admin(request.user)
        elif db_field.name == "service" and not request.user.is_superuser:
            # A visit belongs to the service's department: staff record visits only for the
            # departments they act for, whatever id a crafted form sends.
            kwargs["queryset"] = queries.visit_services_for_admin(request.user)
        elif db_field.name == "handled_by" and not request.user.is_superuser:
            # The raw-id lookup opens the user list, which only superusers may browse; and an id
            # typed by hand would show that account's name. Offer the department's people.
            kwargs["queryset"] = queries.visit_handlers_for_admin(request.user)
            kwargs["widget"] = forms.Select
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
