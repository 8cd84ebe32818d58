from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm as DjangoUserChangeForm
from django.contrib.auth.forms import UserCreationForm as DjangoUserCreationForm
from django.db import models
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


class UserByEmailField(forms.ModelChoiceField):
    """Picks an existing user by their exact e-mail address.

    Organisation admins add people to their organisation but may not browse the user list
    (it holds citizens' e-mail addresses), so the admin's user autocomplete, which needs the
    right to view users, is closed to them. They type the address instead.
    """

    widget = forms.EmailInput

    def __init__(self, **kwargs):
        kwargs.setdefault("error_messages", {"invalid_choice": _("没有使用该电子邮箱的有效用户。")})
        kwargs.setdefault("help_text", _("填写对方注册时使用的电子邮箱。"))
        super().__init__(
            queryset=User.objects.filter(is_active=True), to_field_name="email", **kwargs
        )

    def to_python(self, value):
        if isinstance(value, str):
            value = value.strip().lower()
        return super().to_python(value)


class MembershipForm(forms.ModelForm):
    class Meta:
        model = Membership
        fields = ("user", "organisation", "role")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The model form's initial value is the user's id; the e-mail field shows the address.
        if isinstance(self.fields.get("user"), UserByEmailField) and self.instance.user_id:
            self.initial["user"] = self.instance.user.email


def _user_field_for(request, db_field):
    """The user picker for a membership: autocomplete for superusers, e-mail for the rest."""
    if db_field.name == "user" and not request.user.is_superuser:
        return UserByEmailField(label=db_field.verbose_name, required=not db_field.blank)
    return None


def save_membership_formset(request, formset, *, organisation=None, user=None) -> None:
    """Saves an inline of memberships through the services, so ``is_staff`` follows the seats."""
    # ``deleted_objects`` and ``changed_objects`` exist only once ``save`` has run.
    memberships = formset.save(commit=False)
    for membership in formset.deleted_objects:
        services.membership_revoke(actor=request.user, membership=membership)
    for membership, changed in formset.changed_objects:
        if "user" in changed or "organisation" in changed:
            # The seat moved to someone (or somewhere) else: the old holder loses it.
            services.membership_revoke(
                actor=request.user, membership=Membership.objects.get(pk=membership.pk)
            )
    for membership in memberships:
        services.membership_grant(
            actor=request.user,
            user=user or membership.user,
            organisation=organisation or membership.organisation,
            role=membership.role,
        )


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

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        save_membership_formset(request, formset, user=form.instance)
        return None


class OrganisationMembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipForm
    fk_name = "organisation"
    extra = 0
    autocomplete_fields = ("user",)
    fields = ("user", "role", "created_at")
    readonly_fields = ("created_at",)

    def _is_admin_of(self, request, obj) -> bool:
        # Who sits in an organisation is for its admins (and superusers) only; its staff and
        # viewers see the organisation's details but not the list of its people.
        if obj is None:
            # Asked without the organisation by the inline's get_queryset: a no here would
            # empty the member list on every organisation's page.
            return request.user.has_perm("stakeholders.view_membership")
        return request.user.has_perm("stakeholders.change_organisation", obj)

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        return _user_field_for(request, db_field) or super().formfield_for_foreignkey(
            db_field, request, **kwargs
        )

    def has_view_permission(self, request, obj=None):
        return self._is_admin_of(request, obj)

    def has_add_permission(self, request, obj=None):
        return self._is_admin_of(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._is_admin_of(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._is_admin_of(request, obj)


@admin.register(Organisation)
class OrganisationAdmin(ObjectPermissionsModelAdmin):
    list_display = ("name_zh", "name_en", "kind", "slug", "contact_phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name_zh", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    inlines = (OrganisationMembershipInline,)
    # An address typed without a scheme is a web site: assume https, as Django 6 will.
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
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

    def get_prepopulated_fields(self, request, obj=None):
        # A read-only slug is not in the form, and prepopulating a missing field fails.
        if request.user.is_superuser:
            return super().get_prepopulated_fields(request, obj)
        return {}

    def save_formset(self, request, form, formset, change):
        if formset.model is not Membership:
            return super().save_formset(request, form, formset, change)
        save_membership_formset(request, formset, organisation=form.instance)
        return None


@admin.register(Membership)
class MembershipAdmin(ObjectPermissionsModelAdmin):
    form = MembershipForm
    list_display = ("user", "organisation", "role", "created_at")
    list_filter = ("role", "organisation__kind")
    search_fields = ("user__email", "user__display_name", "organisation__name_zh")
    autocomplete_fields = ("user", "organisation")
    list_select_related = ("user", "organisation")

    def get_queryset(self, request):
        return queries.memberships_visible_to(request.user)

    def get_autocomplete_fields(self, request):
        # An organisation admin picks from the few organisations they run, and names the user
        # by e-mail (see UserByEmailField).
        if request.user.is_superuser:
            return self.autocomplete_fields
        return ()

    def get_readonly_fields(self, request, obj=None):
        # A seat belongs to one person in one organisation; changing it means changing the role.
        # Moving it would leave the old holder's is_staff out of step (revoke and grant instead).
        if obj is not None:
            return ("user", "organisation")
        return ()

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        user_field = _user_field_for(request, db_field)
        if user_field is not None:
            return user_field
        if db_field.name == "organisation" and not request.user.is_superuser:
            kwargs["queryset"] = queries.organisations_administered_by(request.user)
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
