from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class Mode(models.TextChoices):
    IMMEDIATE = "immediate", _("立即发送")
    DAILY = "daily", _("每日摘要")
    WEEKLY = "weekly", _("每周摘要")
    OFF = "off", _("不接收邮件")


DIGEST_MODES = (Mode.DAILY, Mode.WEEKLY)


class Notification(models.Model):
    """One event told to one person: the in-app inbox item, and the anchor of its deliveries."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notifications",
        verbose_name=_("接收人"),
    )
    event_type = models.CharField(_("事件类型"), max_length=64)
    payload = models.JSONField(_("事件内容"), default=dict)
    url = models.CharField(_("链接"), max_length=500, blank=True)
    mode = models.CharField(_("发送方式"), max_length=16, choices=Mode.choices)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)
    digest = models.ForeignKey(
        "Digest",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="notifications",
        verbose_name=_("所属摘要"),
    )

    class Meta:
        verbose_name = _("通知")
        verbose_name_plural = pgettext_lazy("plural", "通知")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(fields=("recipient", "-created_at"), name="notif_inbox_idx"),
            models.Index(
                fields=("recipient",),
                condition=Q(read_at__isnull=True),
                name="notif_unread_idx",
            ),
            # What the digest run reads: pending digest items, by period and age.
            # The digest plan walks recipients in id order: recipient before created_at.
            models.Index(
                fields=("mode", "recipient", "created_at"),
                condition=Q(digest__isnull=True, mode__in=["daily", "weekly"]),
                name="notif_digest_pending_idx",
            ),
            models.Index(fields=("event_type", "-created_at"), name="notif_type_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} → {self.recipient_id}"

    @property
    def is_read(self) -> bool:
        return self.read_at is not None


class Delivery(models.Model):
    """Sending one notification through one channel; (notification, channel) is its key.

    The unique key makes delivery idempotent: a task that runs twice finds the row already
    sent (or locked by the other run) and sends nothing.
    """

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        FAILED = "failed", _("发送失败")

    notification = models.ForeignKey(
        Notification,
        on_delete=models.CASCADE,
        related_name="deliveries",
        verbose_name=_("通知"),
    )
    channel = models.CharField(_("渠道"), max_length=16)
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    enqueued_at = models.DateTimeField(_("入队时间"), null=True, blank=True)
    next_attempt_at = models.DateTimeField(_("下次尝试"), null=True, blank=True)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("投递记录")
        verbose_name_plural = pgettext_lazy("plural", "投递记录")
        ordering = ("-created_at", "-pk")
        constraints = [
            models.UniqueConstraint(
                fields=("notification", "channel"), name="notif_delivery_once_per_channel"
            ),
        ]
        indexes = [
            models.Index(
                fields=("state", "enqueued_at"),
                condition=Q(state="pending"),
                name="notif_delivery_pending_idx",
            ),
            models.Index(fields=("state", "-created_at"), name="notif_delivery_state_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.channel} · {self.notification_id} · {self.state}"


class Digest(models.Model):
    """One digest e-mail for one person and one period; (recipient, period, start) is its key,
    so beat firing twice or two workers racing still sends it at most once."""

    class State(models.TextChoices):
        PENDING = "pending", _("待发送")
        SENT = "sent", _("已发送")
        EMPTY = "empty", _("无内容，未发送")
        FAILED = "failed", _("发送失败")

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="digests",
        verbose_name=_("接收人"),
    )
    period = models.CharField(
        _("周期"), max_length=8, choices=[(m.value, m.label) for m in DIGEST_MODES]
    )
    period_start = models.DateField(_("周期开始"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PENDING)
    item_count = models.PositiveIntegerField(_("条目数"), default=0)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    last_error = models.TextField(_("最近错误"), blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("摘要邮件")
        verbose_name_plural = pgettext_lazy("plural", "摘要邮件")
        ordering = ("-period_start", "recipient_id")
        constraints = [
            models.UniqueConstraint(
                fields=("recipient", "period", "period_start"), name="notif_digest_once_per_period"
            ),
        ]
        indexes = [
            models.Index(
                fields=("state", "created_at"),
                condition=Q(state="pending"),
                name="notif_digest_state_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.period} {self.period_start} → {self.recipient_id}"


class Preference(models.Model):
    """How one person wants one event type: immediately, in a digest, or not by e-mail."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_preferences",
        verbose_name=_("用户"),
    )
    event_type = models.CharField(_("事件类型"), max_length=64)
    mode = models.CharField(_("发送方式"), max_length=16, choices=Mode.choices)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知偏好")
        verbose_name_plural = pgettext_lazy("plural", "通知偏好")
        constraints = [
            models.UniqueConstraint(fields=("user", "event_type"), name="notif_preference_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} · {self.event_type} · {self.mode}"


class Settings(models.Model):
    """Per-person switches that are not about one event type."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="notification_settings",
        verbose_name=_("用户"),
    )
    digests_enabled = models.BooleanField(_("接收摘要邮件"), default=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("通知设置")
        verbose_name_plural = pgettext_lazy("plural", "通知设置")

    def __str__(self) -> str:
        return f"{self.user_id} · digests {'on' if self.digests_enabled else 'off'}"
