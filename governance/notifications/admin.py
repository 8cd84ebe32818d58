from django.contrib import admin, messages
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from governance.core.admin import ReadOnlyAdminMixin
from governance.notifications import services
from governance.notifications.models import Delivery, Digest, Notification, Preference, Settings
from governance.stakeholders.models import User


class SuperuserOnlyAdminMixin(ReadOnlyAdminMixin):
    """Notifications hold what was told to whom (citizens included): superusers only, whatever
    permissions a group may carry, and nobody edits a row by hand."""

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class RecipientFilter(admin.SimpleListFilter):
    """Filter by one recipient, reached from the recipient links in the list.

    It lists only the chosen person, never every user: the site has far too many for a
    sidebar, and searching by e-mail finds the rest.
    """

    title = _("接收人")
    parameter_name = "recipient"
    field_path = "recipient_id"

    def lookups(self, request, model_admin):
        value = self.value()
        if not value or not value.isdigit():
            return []
        user = User.objects.filter(pk=int(value)).only("email").first()
        return [(value, user.email)] if user else []

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if not value.isdigit():
            return queryset.none()
        return queryset.filter(**{self.field_path: int(value)})


class DeliveryRecipientFilter(RecipientFilter):
    field_path = "notification__recipient_id"


def _recipient_link(parameter: str, user):
    """The person, linked to this list filtered by them."""
    return format_html('<a href="?{}={}">{}</a>', parameter, user.pk, user)


class DeliveryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ("channel", "state", "attempts", "last_error", "enqueued_at", "sent_at")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event_type", "recipient_link", "mode", "read_at", "digest")
    list_filter = (
        "event_type",
        "mode",
        ("read_at", admin.EmptyFieldListFilter),
        RecipientFilter,
    )
    search_fields = ("recipient__email", "event_type")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (DeliveryInline,)

    @admin.display(description=_("接收人"), ordering="recipient__email")
    def recipient_link(self, notification):
        return _recipient_link(RecipientFilter.parameter_name, notification.recipient)


@admin.register(Delivery)
class DeliveryAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    list_display = (
        "created_at",
        "channel",
        "state",
        "event_type",
        "recipient",
        "attempts",
        "short_error",
        "sent_at",
    )
    list_filter = ("state", "channel", "notification__event_type", DeliveryRecipientFilter)
    search_fields = ("notification__recipient__email", "last_error")
    list_select_related = ("notification", "notification__recipient")
    show_full_result_count = False
    actions = ("resend",)

    @admin.display(description=_("事件类型"), ordering="notification__event_type")
    def event_type(self, delivery):
        return delivery.notification.event_type

    @admin.display(description=_("接收人"), ordering="notification__recipient__email")
    def recipient(self, delivery):
        return _recipient_link(
            DeliveryRecipientFilter.parameter_name, delivery.notification.recipient
        )

    @admin.display(description=_("最近错误"))
    def short_error(self, delivery):
        return delivery.last_error[:80]

    @admin.action(description=_("重新发送所选的失败投递"), permissions=("change",))
    def resend(self, request, queryset):
        failed = list(queryset.filter(state=Delivery.State.FAILED))
        skipped = queryset.exclude(state=Delivery.State.FAILED).count()
        for delivery in failed:
            services.delivery_resend(actor=request.user, delivery=delivery)
        self.message_user(
            request,
            ngettext("已重新排队 %(count)d 条投递。", "已重新排队 %(count)d 条投递。", len(failed))
            % {"count": len(failed)},
            messages.SUCCESS,
        )
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d 条投递不是失败状态，未重新发送。",
                    "%(count)d 条投递不是失败状态，未重新发送。",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )

    def has_change_permission(self, request, obj=None):
        # The resend action needs it on the list; a delivery's own page stays read-only.
        return obj is None and request.user.is_active and request.user.is_superuser


@admin.register(Digest)
class DigestAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("period_start", "period", "recipient", "state", "item_count", "sent_at")
    list_filter = ("period", "state", RecipientFilter)
    search_fields = ("recipient__email",)
    list_select_related = ("recipient",)
    date_hierarchy = "period_start"
    show_full_result_count = False


class UserFilter(RecipientFilter):
    title = _("用户")
    parameter_name = "user"
    field_path = "user_id"


@admin.register(Preference)
class PreferenceAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "event_type", "mode", "updated_at")
    list_filter = ("event_type", "mode", UserFilter)
    search_fields = ("user__email",)
    list_select_related = ("user",)


@admin.register(Settings)
class SettingsAdmin(SuperuserOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "digests_enabled", "updated_at")
    list_filter = ("digests_enabled", UserFilter)
    search_fields = ("user__email",)
    list_select_related = ("user",)
