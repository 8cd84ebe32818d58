"""The cases admin: staff read the cases of their organisations (and the triage role the triage
queue), superusers all of them; nobody edits a case's fields here, since every change must write
the timeline: the actions (acknowledge, assign to me) call the services (``services.py``), and
"view on site" opens the case page with its forms. Routing rules, SLA policies and categories
are the platform's settings and are kept here by superusers.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.template import engines
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.cases import queries, services
from governance.cases.models import (
    Attachment,
    Case,
    Category,
    CoHandler,
    Open311Client,
    Open311Request,
    RoutingRule,
    ServiceAttribute,
    SlaNotice,
    SlaPolicy,
    Status,
    TimelineEntry,
)
from governance.cases.open311 import queries as open311_queries
from governance.cases.open311 import rules as open311_rules
from governance.cases.open311 import services as open311_services
from governance.core.admin import CappedCountPaginator, ReadOnlyAdminMixin

# The reporter (their account) is contact data too: only the handling staff see who it is.
CONTACT_FIELDS = ("reporter", "contact_name", "contact_phone", "contact_email")


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case", obj)


class TimelineInline(_ReadOnlyInline):
    model = TimelineEntry
    fields = ("created_at", "kind", "actor", "is_public", "body", "data")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case_internal", obj)


class CoHandlerInline(_ReadOnlyInline):
    model = CoHandler
    fields = ("organisation", "task", "assignee", "due_at", "state", "done_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation", "assignee")


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ("created_at", "original_name", "content_type", "size", "is_public", "uploaded_by")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case_internal", obj)


@admin.register(Case)
class CaseAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    list_display = (
        "reference",
        "title",
        "status",
        "priority",
        "responsible",
        "assignee",
        "created_at",
        "resolve_due_at",
    )
    list_filter = ("status", "priority", "source", "is_public")
    # Exact reference matches (what people read out over the phone), title words otherwise.
    search_fields = ("=reference", "title")
    date_hierarchy = "created_at"
    list_select_related = ("responsible", "assignee")
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    inlines = (CoHandlerInline, AttachmentInline, TimelineInline)
    # Changes go through the services, as on the case page: each action checks the permission
    # case by case and says which cases it could not change and why.
    actions = ("acknowledge_selected", "assign_to_me")
    fieldsets = (
        (None, {"fields": ("reference", "title", "description", "source", "status", "priority")}),
        (
            _("事项与位置"),
            {"fields": ("service", "category", "station", "latitude", "longitude", "address")},
        ),
        (_("报告人"), {"fields": (*CONTACT_FIELDS, "is_public")}),
        (
            _("办理"),
            {"fields": ("responsible", "assignee", "routing", "routed_by_name", "duplicate_of")},
        ),
        (
            _("时限"),
            {
                "fields": (
                    "acknowledge_due_at",
                    "resolve_due_at",
                    "due_estimated",
                    "acknowledged_at",
                    "acknowledged_on_time",
                    "first_resolved_at",
                    "resolved_on_time",
                    "closed_at",
                    "reopen_count",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return queries.cases_for_admin(request.user)

    def get_fieldsets(self, request, obj=None):
        # The reporter's contact details are for the handling organisations' staff only.
        if request.user.has_perm("cases.view_case_contact", obj):
            return self.fieldsets
        return tuple(
            (
                name,
                {
                    **options,
                    "fields": tuple(f for f in options["fields"] if f not in CONTACT_FIELDS),
                },
            )
            for name, options in self.fieldsets
        )

    def get_readonly_fields(self, request, obj=None):
        return [
            field
            for _name, options in self.get_fieldsets(request, obj)
            for field in options["fields"]
        ]

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm("cases.view_case", obj)

    def view_on_site(self, obj):
        return reverse("cases:detail", kwargs={"reference": obj.reference})

    def _each(self, request, queryset, change, done_message) -> None:
        done, refused = 0, []
        for case in queryset.order_by("pk"):
            try:
                change(case)
            except ValidationError as error:
                refused.append(f"{case.reference}：{'；'.join(error.messages)}")
            except PermissionDenied as error:
                refused.append(f"{case.reference}：{error}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                _("以下事项未变更：%(list)s") % {"list": "　".join(refused)},
                messages.WARNING,
            )

    @admin.action(description=_("受理所选事项"))
    def acknowledge_selected(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda case: services.case_transition(
                actor=request.user, case=case, to=Status.ACKNOWLEDGED
            ),
            _("已受理 %(count)d 个事项。"),
        )

    @admin.action(description=_("把所选事项指派给我"))
    def assign_to_me(self, request, queryset):
        self._each(
            request,
            queryset,
            lambda case: services.case_assign(actor=request.user, case=case, assignee=request.user),
            _("已把 %(count)d 个事项指派给你。"),
        )


@admin.register(Category)
class CategoryAdmin(ObjectPermissionsModelAdmin):
    list_display = ("name_zh", "name_en", "slug", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_zh", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}


@admin.register(RoutingRule)
class RoutingRuleAdmin(ObjectPermissionsModelAdmin):
    list_display = (
        "name_zh",
        "order",
        "service",
        "category",
        "station",
        "responsible",
        "is_active",
    )
    list_filter = ("is_active",)
    search_fields = ("name_zh", "name_en")
    list_select_related = ("service", "category", "station", "responsible")
    autocomplete_fields = ("service",)
    filter_horizontal = ("cohandlers",)
    ordering = ("order", "pk")


@admin.register(SlaPolicy)
class SlaPolicyAdmin(ObjectPermissionsModelAdmin):
    list_display = ("__str__", "priority", "acknowledge_hours", "resolve_days")
    list_filter = ("priority",)
    list_select_related = ("service", "category")
    autocomplete_fields = ("service",)


@admin.register(SlaNotice)
class SlaNoticeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("case", "kind", "due_at", "created_at")
    list_filter = ("kind",)
    list_select_related = ("case",)
    search_fields = ("=case__reference",)

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser

    def has_module_permission(self, request):
        return request.user.has_perm("cases")


# Open311 ---------------------------------------------------------------------------------------
# The page that shows a new key, once: it is stored only as a digest.
KEY_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}<div id="content-main">
<p>{{ intro }}</p>
<p><code id="open311-key">{{ key }}</code></p>
<p><strong>{{ warning }}</strong></p>
<p><a href="{{ back }}">{{ back_label }}</a></p>
</div>{% endblock %}"""


@admin.register(Open311Client)
class Open311ClientAdmin(admin.ModelAdmin):
    """Apps and their keys: superusers issue, rotate and revoke; the app's organisation looks."""

    list_display = ("name", "organisation", "key_prefix", "is_active", "last_used_at", "created_at")
    list_filter = ("is_active",)
    search_fields = ("name", "=key_prefix")
    list_select_related = ("organisation",)
    fields = (
        "organisation",
        "name",
        "contact_email",
        "is_active",
        "key_prefix",
        "revoked_at",
        "last_used_at",
        "created_at",
    )
    actions = ("rotate_key", "revoke_keys")

    def get_queryset(self, request):
        return open311_queries.clients_for_admin(request.user)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("organisation", "name", "contact_email")
        return self.fields

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ()
        return ("organisation", "key_prefix", "revoked_at", "last_used_at", "created_at")

    def has_view_permission(self, request, obj=None):
        return open311_rules.can_view_client.test(request.user, obj)

    def has_add_permission(self, request):
        return open311_rules.can_keep_clients.test(request.user)

    def has_change_permission(self, request, obj=None):
        return open311_rules.can_keep_clients.test(request.user)

    def has_delete_permission(self, request, obj=None):
        return open311_rules.can_keep_clients.test(request.user)

    def save_model(self, request, obj, form, change):
        if change:
            open311_services.open311_client_update(actor=request.user, client=obj)
        else:
            request._open311_key = open311_services.open311_client_issue(
                actor=request.user, client=obj
            )

    def response_add(self, request, obj, post_url_continue=None):
        key = getattr(request, "_open311_key", None)
        if key is None:
            return super().response_add(request, obj, post_url_continue)
        return self._key_page(request, obj, key)

    def _key_page(self, request, client, key):
        context = {
            **self.admin_site.each_context(request),
            "title": _("Open311 应用密钥"),
            "intro": _("“%(app)s”的 API 密钥：") % {"app": client.name},
            "key": key,
            "warning": _("请立即复制并交给应用的开发者：密钥只显示这一次，平台只保存其摘要。"),
            "back": reverse("admin:cases_open311client_change", args=[client.pk]),
            "back_label": _("返回应用"),
        }
        response = HttpResponse(engines["django"].from_string(KEY_PAGE).render(context, request))
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("更换所选应用的密钥（旧密钥立即失效）"), permissions=["change"])
    def rotate_key(self, request, queryset):
        if queryset.count() != 1:
            self.message_user(request, _("请只选择一个应用来更换密钥。"), messages.WARNING)
            return None
        client = queryset.get()
        key = open311_services.open311_client_rotate(actor=request.user, client=client)
        return self._key_page(request, client, key)

    @admin.action(description=_("吊销所选应用的密钥"), permissions=["change"])
    def revoke_keys(self, request, queryset):
        for client in queryset:
            open311_services.open311_client_set_active(
                actor=request.user, client=client, active=False
            )
        self.message_user(request, _("所选应用的密钥已吊销。"), messages.SUCCESS)


@admin.register(ServiceAttribute)
class ServiceAttributeAdmin(admin.ModelAdmin):
    """Extra questions of a service, kept by the staff who keep the service."""

    list_display = ("service", "code", "datatype", "required", "order", "is_active")
    list_filter = ("datatype", "is_active")
    search_fields = ("=service__service_code", "code", "description_zh")
    list_select_related = ("service",)
    ordering = ("service__service_code", "order", "code")
    fields = (
        "service",
        "code",
        "description_zh",
        "description_en",
        "datatype",
        "variable",
        "required",
        "datatype_description_zh",
        "datatype_description_en",
        "values",
        "order",
        "is_active",
    )

    def get_queryset(self, request):
        return open311_queries.attributes_for_admin(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "service":
            kwargs["queryset"] = open311_queries.attribute_services_for_admin(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_view_permission(self, request, obj=None):
        return open311_rules.can_view_attribute(request.user, obj)

    def has_add_permission(self, request):
        return open311_rules.can_keep_attribute(request.user)

    def has_change_permission(self, request, obj=None):
        return open311_rules.can_keep_attribute(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return open311_rules.can_keep_attribute(request.user, obj)


@admin.register(Open311Request)
class Open311RequestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """What apps sent with their reports, for the platform's admins (it names devices and
    app accounts)."""

    list_display = ("case", "client", "created_at")
    list_select_related = ("case", "client")
    search_fields = ("=case__reference",)
    fields = (
        "case",
        "client",
        "token",
        "attributes",
        "address_id",
        "media_url",
        "device_id",
        "account_id",
        "created_at",
    )
    readonly_fields = fields
    show_full_result_count = False
    paginator = CappedCountPaginator

    def has_view_permission(self, request, obj=None):
        return request.user.is_superuser
