from django.contrib import admin, messages
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from governance.core.admin import ReadOnlyAdminMixin
from governance.notifications import services
from governance.notifications.models import Delivery, Digest, Notification, Preference


class DeliveryInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = Delivery
    extra = 0
    fields = ("channel", "state", "attempts", "last_error", "enqueued_at", "sent_at")
    readonly_fields = fields


@admin.register(Notification)
class NotificationAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "event_type", "recipient", "mode", "read_at", "digest")
    list_filter = ("event_type", "mode", ("read_at", admin.EmptyFieldListFilter))
    search_fields = ("recipient__email", "event_type")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    show_full_result_count = False
    inlines = (DeliveryInline,)


@admin.register(Delivery)
class DeliveryAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
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
    list_filter = ("state", "channel", "notification__event_type")
    search_fields = ("notification__recipient__email", "last_error")
    list_select_related = ("notification", "notification__recipient")
    show_full_result_count = False
    actions = ("resend",)

    @admin.display(description=_("事件类型"), ordering="notification__event_type")
    def event_type(self, delivery):
        return delivery.notification.event_type

    @admin.display(description=_("接收人"))
    def recipient(self, delivery):
        return delivery.notification.recipient

    @admin.display(description=_("最近错误"))
    def short_error(self, delivery):
        return delivery.last_error[:80]

    @admin.action(description=_("重新发送所选投递"))
    def resend(self, request, queryset):
        count = 0
        for delivery in queryset.exclude(state=Delivery.State.SENT):
            services.delivery_resend(actor=request.user, delivery=delivery)
            count += 1
        self.message_user(
            request,
            ngettext("已重新排队 %(count)d 条投递。", "已重新排队 %(count)d 条投递。", count)
            % {"count": count},
            messages.SUCCESS,
        )

    def has_change_permission(self, request, obj=None):
        # The resend action needs it; the change form itself stays read-only.
        return request.user.is_active and request.user.is_superuser

    def get_readonly_fields(self, request, obj=None):
        return [field.name for field in Delivery._meta.fields]


@admin.register(Digest)
class DigestAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("period_start", "period", "recipient", "state", "item_count", "sent_at")
    list_filter = ("period", "state")
    search_fields = ("recipient__email",)
    list_select_related = ("recipient",)
    date_hierarchy = "period_start"
    show_full_result_count = False


@admin.register(Preference)
class PreferenceAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("user", "event_type", "mode", "updated_at")
    list_filter = ("event_type", "mode")
    search_fields = ("user__email",)
    list_select_related = ("user",)
