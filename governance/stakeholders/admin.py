from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.core.admin import ReadOnlyAdminMixin
from governance.stakeholders import queries, services
from governance.stakeholders.models import AuditEvent, Membership, Organisation, User


class UserCreationForm(DjangoUserCreationForm):
    class Meta:
        model = User
        fields = ("email",)


class UserChangeForm(DjangoUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("organisation",)


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ("email",)
    list_display = ("email", "display_name", "is_staff", "is_superuser", "is_active", "last_login")
    list_filter = ("is_staff", "is_superuser", "is_active", "language")
    search_fields = ("email", "display_name", "phone")
    readonly_fields = ("last_login", "date_joined")
    inlines = (MembershipInline,)
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        (_("个人信息"), {"fields": ("display_name", "phone", "language")}),
        (
            _("权限"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("重要日期"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


class OrganisationMembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "organisation"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)

    def _is_admin_of(self, request, obj) -> bool:
        return request.user.has_perm("stakeholders.change_organisation", obj)

    def has_view_permission(self, request, obj=None):
        return obj is not None and request.user.has_perm("stakeholders.view_organisation", obj)

    def has_add_permission(self, request, obj=None):
        return obj is not None and self._is_admin_of(request, obj)

    def has_change_permission(self, request, obj=None):
        return obj is not None and self._is_admin_of(request, obj)

    def has_delete_permission(self, request, obj=None):
        return obj is not None and self._is_admin_of(request, obj)


@admin.register(Organisation)
class OrganisationAdmin(ObjectPermissionsModelAdmin):
    list_display = ("name_zh", "name_en", "kind", "slug", "contact_phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name_zh", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = (OrganisationMembershipInline,)
    fieldsets = (
        (None, {"fields": ("kind", "slug", "is_active")}),
        (_("名称"), {"fields": ("name_zh", "name_en", "short_name_zh", "short_name_en")}),
        (_("简介"), {"fields": ("description_zh", "description_en")}),
        (_("联系方式"), {"fields": ("contact_email", "contact_phone", "website")}),
    )

    def get_queryset(self, request):
        return queries.organisations_visible_to(request.user)

    def get_readonly_fields(self, request, obj=None):
        # Only a superuser changes what an organisation is; its admins keep its details.
        if request.user.is_superuser:
            return ()
        return ("kind", "slug", "is_active")

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        for membership in formset.deleted_objects:
            services.membership_revoke(actor=request.user, membership=membership)
        for membership in formset.save(commit=False):
            services.membership_grant(
                actor=request.user,
                user=membership.user,
                organisation=form.instance,
                role=membership.role,
            )
        return None


@admin.register(Membership)
class MembershipAdmin(ObjectPermissionsModelAdmin):
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation__kind")
    search_fields = ("user__email", "user__display_name", "organisation__name_zh")
    autocomplete_fields = ("user", "organisation")
    list_select_related = ("user", "organisation")

    def get_queryset(self, request):
        return queries.memberships_visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = queries.organisations_visible_to(request.user).filter(
                memberships__user=request.user, memberships__role=Membership.Role.ADMIN
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        services.membership_grant(
            actor=request.user, user=obj.user, organisation=obj.organisation, role=obj.role
        )

    def delete_model(self, request, obj):
        services.membership_revoke(actor=request.user, membership=obj)

    def delete_queryset(self, request, queryset):
        for membership in queryset:
            services.membership_revoke(actor=request.user, membership=membership)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("at", "action", "identifier", "actor", "ip_address", "path")
    list_filter = ("action",)
    search_fields = ("identifier", "ip_address", "path")
    date_hierarchy = "at"
    list_select_related = ("actor",)
    show_full_result_count = False

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_module_permission(self, request):
        return self.has_view_permission(request)
