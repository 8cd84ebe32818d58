"""What enterprises contribute to the shared service, and how others use it.

- :class:`Resource`: an item of a partner's catalogue (a room, a counter, kiosks, volunteer
  time, parking, funding…), with weekly :class:`OpeningRule` windows, dated
  :class:`AvailabilityException` closures or extra openings, and photos.
- :class:`Booking`: another organisation asks for a resource for a time range; the partner
  approves or declines. Two approved bookings of one resource never overlap: an exclusion
  constraint on PostgreSQL, a trigger with the same rule on SQLite (migration 0002).
- :class:`Pledge`: a quantity of a resource (or money) offered to a proposal or a case.
- :class:`Agreement`: a cooperation memorandum between a partner and departments.
- :class:`VolunteerShift`, :class:`TrainingSession` / :class:`Attendance`: the people side.
- :class:`Invitation`: a partner admin's invitation to join the partner, by e-mail.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.constraints import ExclusionConstraint
from django.contrib.postgres.fields import DateTimeRangeField, RangeBoundary, RangeOperators
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import DEFAULT_DB_ALIAS, connections, models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import Localized, TimeStampedModel
from governance.stakeholders.models import Membership, Organisation

MIDNIGHT = dt.time(0, 0)
# The longest booking any resource allows (a week-long exhibition); each resource sets its own
# limit below this.
MAX_BOOKING_MINUTES = 7 * 24 * 60
MAX_BOOKING = dt.timedelta(minutes=MAX_BOOKING_MINUTES)


class TsTzRange(models.Func):
    function = "TSTZRANGE"
    output_field = DateTimeRangeField()


class PostgresOnly:
    """A constraint created on PostgreSQL and nowhere else (for what SQLite cannot declare,
    or declares only through functions its own shell lacks); SQLite gets the same rule as a
    trigger (``partners`` migration 0002) or from the services alone, as each use says."""

    def constraint_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().constraint_sql(model, schema_editor)

    def create_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().create_sql(model, schema_editor)

    def remove_sql(self, model, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return None
        return super().remove_sql(model, schema_editor)

    def validate(self, model, instance, exclude=None, using=DEFAULT_DB_ALIAS):
        if connections[using].vendor != "postgresql":
            return
        super().validate(model, instance, exclude=exclude, using=using)


class PostgresExclusionConstraint(PostgresOnly, ExclusionConstraint):
    pass


class PostgresCheckConstraint(PostgresOnly, models.CheckConstraint):
    pass


class Kind(models.TextChoices):
    SPACE = "space", _("场地/房间")
    COUNTER = "counter", _("服务窗口")
    EQUIPMENT = "equipment", _("设备（自助终端、屏幕等）")
    VOLUNTEERS = "volunteers", _("志愿服务时间")
    PARKING = "parking", _("停车位")
    FUNDING = "funding", _("资金")
    OTHER = "other", _("其他服务")


class Unit(models.TextChoices):
    PEOPLE = "people", pgettext_lazy("unit", "人")
    ITEMS = "items", pgettext_lazy("unit", "台/个")
    SQUARE_METRES = "sqm", pgettext_lazy("unit", "平方米")
    SPACES = "spaces", pgettext_lazy("unit", "个车位")
    HOURS = "hours", pgettext_lazy("unit", "小时")
    YUAN = "yuan", pgettext_lazy("unit", "元")


class Visibility(models.TextChoices):
    PUBLIC = "public", _("公开")
    STAKEHOLDERS = "stakeholders", _("仅共治成员")


class Resource(TimeStampedModel):
    partner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="resources",
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
        db_index=False,  # partners_resource_partner_idx leads with it
        verbose_name=_("提供方"),
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    name_zh = models.CharField(_("中文名称"), max_length=120)
    name_en = models.CharField(_("英文名称"), max_length=160, blank=True)
    description_zh = models.TextField(_("中文说明"), max_length=4_000, blank=True)
    description_en = models.TextField(_("英文说明"), max_length=4_000, blank=True)
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        related_name="resources",
        null=True,
        blank=True,
        db_index=False,  # partners_resource_station_idx leads with it
        verbose_name=_("所在站点"),
    )
    place_zh = models.CharField(_("位置（中文）"), max_length=120, blank=True)
    place_en = models.CharField(_("位置（英文）"), max_length=160, blank=True)
    quantity = models.DecimalField(
        _("容量/数量"),
        max_digits=12,
        decimal_places=2,
        validators=[MinValueValidator(Decimal("0.01"))],
    )
    unit = models.CharField(_("单位"), max_length=16, choices=Unit.choices)
    visibility = models.CharField(
        _("可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    bookable = models.BooleanField(
        _("可预约"), default=True, help_text=_("资金等不按时段使用的资源不接受预约。")
    )
    max_booking_minutes = models.PositiveIntegerField(
        _("单次预约最长（分钟）"),
        default=8 * 60,
        validators=[MinValueValidator(15), MaxValueValidator(MAX_BOOKING_MINUTES)],
    )
    is_active = models.BooleanField(_("启用"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )

    name = Localized("name")
    description = Localized("description")
    place = Localized("place")

    class Meta:
        verbose_name = _("伙伴资源")
        verbose_name_plural = pgettext_lazy("plural", "伙伴资源")
        ordering = ("partner__name_zh", "name_zh", "pk")
        indexes = [
            models.Index(
                fields=("partner", "is_active", "kind"), name="partners_resource_partner_idx"
            ),
            models.Index(
                fields=("visibility", "is_active", "kind"), name="partners_resource_vis_idx"
            ),
            models.Index(fields=("station", "is_active"), name="partners_resource_station_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="partners_resource_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(
                    max_booking_minutes__gte=15, max_booking_minutes__lte=MAX_BOOKING_MINUTES
                ),
                name="partners_resource_max_booking_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("partners:resource", args=[self.pk])


class OpeningRule(models.Model):
    """A weekly window in which the resource may be booked. ``closes`` at 00:00 means the end
    of the day, so a window can reach midnight and windows of consecutive days join up."""

    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="opening_rules",
        db_index=False,  # the unique constraint leads with it
        verbose_name=_("资源"),
    )
    weekday = models.PositiveSmallIntegerField(
        _("星期"),
        choices=[
            (0, _("星期一")),
            (1, _("星期二")),
            (2, _("星期三")),
            (3, _("星期四")),
            (4, _("星期五")),
            (5, _("星期六")),
            (6, _("星期日")),
        ],
    )
    opens = models.TimeField(_("开始时间"))
    closes = models.TimeField(_("结束时间"), help_text=_("00:00 表示当天结束（24:00）。"))

    class Meta:
        verbose_name = _("开放规则")
        verbose_name_plural = pgettext_lazy("plural", "开放规则")
        ordering = ("resource", "weekday", "opens")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")) | Q(closes=MIDNIGHT),
                name="partners_rule_closes_after_opens",
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="partners_rule_weekday_range"
            ),
            models.UniqueConstraint(
                fields=("resource", "weekday", "opens"), name="partners_rule_unique_start"
            ),
        ]

    def __str__(self) -> str:
        closes = "24:00" if self.closes == MIDNIGHT else f"{self.closes:%H:%M}"
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{closes}"


class AvailabilityException(models.Model):
    """A dated change to the weekly rules: a closure (renovation, a holiday) or an extra
    opening (a Sunday campaign)."""

    class Kind(models.TextChoices):
        CLOSED = "closed", _("暂停开放")
        OPEN = "open", _("临时开放")

    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="exceptions",
        db_index=False,  # partners_exception_idx leads with it
        verbose_name=_("资源"),
    )
    kind = models.CharField(_("类型"), max_length=8, choices=Kind.choices, default=Kind.CLOSED)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    reason = models.CharField(_("原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("例外安排")
        verbose_name_plural = pgettext_lazy("plural", "例外安排")
        ordering = ("resource", "starts_at")
        indexes = [models.Index(fields=("resource", "ends_at"), name="partners_exception_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="partners_exception_ends_after_start"
            ),
        ]

    def __str__(self) -> str:
        span = f"{self.starts_at:%Y-%m-%d %H:%M}–{self.ends_at:%Y-%m-%d %H:%M}"
        return f"{self.get_kind_display()} {span}"


class ResourcePhoto(models.Model):
    resource = models.ForeignKey(
        Resource,
        on_delete=models.CASCADE,
        related_name="photos",
        db_index=False,  # partners_photo_idx leads with it
        verbose_name=_("资源"),
    )
    file = models.FileField(_("文件"), max_length=200)
    content_type = models.CharField(_("类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    caption = models.CharField(_("说明"), max_length=120, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    created_at = models.DateTimeField(_("上传时间"), editable=False)

    class Meta:
        verbose_name = _("资源照片")
        verbose_name_plural = pgettext_lazy("plural", "资源照片")
        ordering = ("resource", "position", "pk")
        indexes = [models.Index(fields=("resource", "position"), name="partners_photo_idx")]

    def __str__(self) -> str:
        return self.caption or self.file.name


class Booking(TimeStampedModel):
    class Status(models.TextChoices):
        REQUESTED = "requested", _("待审批")
        APPROVED = "approved", _("已批准")
        DECLINED = "declined", _("已拒绝")
        CANCELLED = "cancelled", _("已取消")

    class Side(models.TextChoices):
        OWNER = "owner", _("资源提供方")
        REQUESTER = "requester", _("申请方")

    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        related_name="bookings",
        db_index=False,  # partners_booking_resource_idx leads with it
        verbose_name=_("资源"),
    )
    requester = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="resource_bookings",
        db_index=False,  # partners_booking_requester_idx leads with it
        verbose_name=_("申请单位"),
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("申请人"),
    )
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    purpose = models.CharField(_("用途"), max_length=500)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.REQUESTED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审批人"),
    )
    decided_at = models.DateTimeField(_("审批时间"), null=True, blank=True)
    decline_reason = models.CharField(_("拒绝原因"), max_length=500, blank=True)
    cancelled_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("取消人"),
    )
    cancelled_side = models.CharField(_("取消方"), max_length=16, choices=Side.choices, blank=True)
    cancelled_at = models.DateTimeField(_("取消时间"), null=True, blank=True)
    cancel_reason = models.CharField(_("取消原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("资源预约")
        verbose_name_plural = pgettext_lazy("plural", "资源预约")
        ordering = ("-starts_at", "-pk")
        indexes = [
            # The calendar and the availability check: a resource's bookings that end after a
            # given instant (past bookings, however many, are skipped by the index).
            models.Index(fields=("resource", "ends_at"), name="partners_booking_resource_idx"),
            models.Index(
                fields=("requester", "status", "-starts_at"), name="partners_booking_requester_idx"
            ),
            models.Index(fields=("status", "starts_at"), name="partners_booking_status_idx"),
            # The approval-rate and response-time KPIs read decisions by day.
            models.Index(
                fields=("decided_at",),
                condition=Q(decided_at__isnull=False),
                name="partners_booking_decided_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="partners_booking_ends_after_start"
            ),
            # The calendar and the overlap check bound their index scans by this length
            # (``queries.week``, ``services.conflicting_booking``): a longer row would slip
            # out of both. The services refuse it on every database.
            PostgresCheckConstraint(
                condition=Q(ends_at__lte=F("starts_at") + MAX_BOOKING),
                name="partners_booking_max_length",
            ),
            models.CheckConstraint(
                condition=~Q(status="declined") | ~Q(decline_reason=""),
                name="partners_booking_decline_has_reason",
            ),
            models.CheckConstraint(
                condition=~Q(status="cancelled") | (~Q(cancel_reason="") & ~Q(cancelled_side="")),
                name="partners_booking_cancel_has_reason",
            ),
            # No double booking. SQLite has no exclusion constraints: migration 0002 adds a
            # trigger there that refuses the same overlap.
            PostgresExclusionConstraint(
                name="partners_booking_no_overlap",
                expressions=[
                    ("resource", RangeOperators.EQUAL),
                    (
                        TsTzRange("starts_at", "ends_at", RangeBoundary()),
                        RangeOperators.OVERLAPS,
                    ),
                ],
                condition=Q(status="approved"),
                violation_error_message=_("该时段已有批准的预约。"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.resource} {self.starts_at:%Y-%m-%d %H:%M}"

    def get_absolute_url(self) -> str:
        return reverse("partners:booking", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status in (self.Status.REQUESTED, self.Status.APPROVED)


class Pledge(TimeStampedModel):
    """A partner's promise of a quantity of a resource (or of money) to a proposal or a case,
    for a period; the responsible organisation accepts it and confirms its delivery."""

    class Status(models.TextChoices):
        OFFERED = "offered", _("已承诺")
        ACCEPTED = "accepted", _("已接受")
        DECLINED = "declined", pgettext_lazy("pledge", "未接受")
        DELIVERED = "delivered", _("已兑现")
        WITHDRAWN = "withdrawn", pgettext_lazy("pledge", "已撤回")

    partner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="pledges",
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
        db_index=False,  # partners_pledge_partner_idx leads with it
        verbose_name=_("承诺方"),
    )
    resource = models.ForeignKey(
        Resource,
        on_delete=models.PROTECT,
        related_name="pledges",
        null=True,
        blank=True,
        verbose_name=_("资源"),
        help_text=_("承诺资金时可不选资源。"),
    )
    proposal = models.ForeignKey(
        "proposals.Proposal",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # partners_pledge_proposal_idx
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    case = models.ForeignKey(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="+",
        null=True,
        blank=True,
        db_index=False,  # partners_pledge_case_idx
        verbose_name=_("事项"),
    )
    quantity = models.DecimalField(
        _("数量"), max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    unit = models.CharField(_("单位"), max_length=16, choices=Unit.choices)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.OFFERED
    )
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("承诺人"),
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("处理人"),
    )
    decided_at = models.DateTimeField(_("接受/拒绝时间"), null=True, blank=True)
    delivered_at = models.DateTimeField(_("兑现时间"), null=True, blank=True)
    delivered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("确认兑现人"),
    )
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    reason = models.CharField(_("原因"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("资源承诺")
        verbose_name_plural = pgettext_lazy("plural", "资源承诺")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(
                fields=("partner", "status", "-created_at"), name="partners_pledge_partner_idx"
            ),
            models.Index(
                fields=("proposal", "created_at"),
                condition=Q(proposal__isnull=False),
                name="partners_pledge_proposal_idx",
            ),
            models.Index(
                fields=("case", "created_at"),
                condition=Q(case__isnull=False),
                name="partners_pledge_case_idx",
            ),
            models.Index(
                fields=("delivered_at",),
                condition=Q(status="delivered"),
                name="partners_pledge_delivered_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(proposal__isnull=False) & Q(case__isnull=True))
                | (Q(proposal__isnull=True) & Q(case__isnull=False)),
                name="partners_pledge_one_target",
            ),
            models.CheckConstraint(
                condition=Q(quantity__gt=0), name="partners_pledge_quantity_positive"
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="partners_pledge_period_valid"
            ),
            models.CheckConstraint(
                condition=~Q(status="delivered") | Q(delivered_at__isnull=False),
                name="partners_pledge_delivered_has_time",
            ),
        ]

    def __str__(self) -> str:
        what = self.resource.name if self.resource_id else self.get_unit_display()
        return f"{self.partner} · {what} × {self.quantity.normalize():f}"

    @property
    def target(self):
        return self.proposal if self.proposal_id else self.case


class Agreement(TimeStampedModel):
    class Status(models.TextChoices):
        DRAFT = "draft", _("草拟中")
        ACTIVE = "active", _("已生效")
        TERMINATED = "terminated", _("已终止")

    partner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="agreements",
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
        db_index=False,  # partners_agreement_partner_idx leads with it
        verbose_name=_("企业伙伴"),
    )
    departments = models.ManyToManyField(
        Organisation,
        related_name="partner_agreements",
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
        verbose_name=_("合作部门"),
    )
    title_zh = models.CharField(_("中文标题"), max_length=200)
    title_en = models.CharField(_("英文标题"), max_length=250, blank=True)
    scope_zh = models.TextField(_("合作范围（中文）"), max_length=5_000)
    scope_en = models.TextField(_("合作范围（英文）"), max_length=5_000, blank=True)
    starts_on = models.DateField(_("生效日期"))
    ends_on = models.DateField(_("到期日期"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )
    # When the expiry reminders went out (the sweep sends each once).
    reminded_60_at = models.DateTimeField(_("到期前60天提醒时间"), null=True, blank=True)
    reminded_14_at = models.DateTimeField(_("到期前14天提醒时间"), null=True, blank=True)

    title = Localized("title")
    scope = Localized("scope")

    class Meta:
        verbose_name = _("合作协议")
        verbose_name_plural = pgettext_lazy("plural", "合作协议")
        ordering = ("ends_on", "pk")
        indexes = [
            models.Index(
                fields=("partner", "status", "ends_on"), name="partners_agreement_partner_idx"
            ),
            models.Index(fields=("status", "ends_on"), name="partners_agreement_expiry_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_on__gte=F("starts_on")), name="partners_agreement_period_valid"
            ),
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("partners:agreement", args=[self.pk])

    def is_expired(self, today: dt.date) -> bool:
        return self.status == self.Status.ACTIVE and self.ends_on < today


class AgreementDocument(models.Model):
    agreement = models.ForeignKey(
        Agreement, on_delete=models.CASCADE, related_name="documents", verbose_name=_("协议")
    )
    title = models.CharField(_("标题"), max_length=200)
    file = models.FileField(_("文件"), max_length=200)
    size = models.PositiveIntegerField(_("大小（字节）"))
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    created_at = models.DateTimeField(_("上传时间"), editable=False)

    class Meta:
        verbose_name = _("协议文件")
        verbose_name_plural = pgettext_lazy("plural", "协议文件")
        ordering = ("agreement", "created_at", "pk")

    def __str__(self) -> str:
        return self.title


class VolunteerShift(TimeStampedModel):
    class Status(models.TextChoices):
        SCHEDULED = "scheduled", _("已排班")
        DONE = "done", _("已到岗")
        MISSED = "missed", _("缺勤")
        CANCELLED = "cancelled", pgettext_lazy("shift", "已取消")

    partner = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="volunteer_shifts",
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
        db_index=False,  # partners_shift_partner_idx leads with it
        verbose_name=_("企业伙伴"),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        related_name="volunteer_shifts",
        db_index=False,  # partners_shift_station_idx leads with it
        verbose_name=_("站点"),
    )
    volunteer = models.CharField(_("志愿者"), max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="volunteer_shifts",
        verbose_name=_("账号"),
    )
    role = models.CharField(_("岗位"), max_length=80)
    starts_at = models.DateTimeField(_("开始"))
    ends_at = models.DateTimeField(_("结束"))
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.SCHEDULED
    )

    class Meta:
        verbose_name = _("志愿者排班")
        verbose_name_plural = pgettext_lazy("plural", "志愿者排班")
        ordering = ("starts_at", "pk")
        indexes = [
            models.Index(fields=("partner", "starts_at"), name="partners_shift_partner_idx"),
            models.Index(fields=("station", "starts_at"), name="partners_shift_station_idx"),
            models.Index(
                fields=("ends_at",), condition=Q(status="done"), name="partners_shift_done_idx"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(ends_at__gt=F("starts_at")), name="partners_shift_ends_after_start"
            ),
            models.UniqueConstraint(
                fields=("partner", "volunteer", "starts_at"), name="partners_shift_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.volunteer} · {self.role} · {self.starts_at:%Y-%m-%d %H:%M}"

    @property
    def hours(self) -> Decimal:
        seconds = (self.ends_at - self.starts_at).total_seconds()
        return (Decimal(seconds) / Decimal(3600)).quantize(Decimal("0.01"))


class TrainingSession(TimeStampedModel):
    organiser = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="training_sessions",
        db_index=False,  # partners_training_org_idx leads with it
        verbose_name=_("主办单位"),
    )
    topic_zh = models.CharField(_("中文主题"), max_length=200)
    topic_en = models.CharField(_("英文主题"), max_length=250, blank=True)
    trainer = models.CharField(_("培训讲师"), max_length=120)
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        related_name="training_sessions",
        null=True,
        blank=True,
        verbose_name=_("站点"),
    )
    location = models.CharField(_("地点"), max_length=200, blank=True)
    starts_at = models.DateTimeField(_("开始时间"))
    hours = models.DecimalField(
        _("学时"),
        max_digits=4,
        decimal_places=1,
        validators=[MinValueValidator(Decimal("0.5")), MaxValueValidator(Decimal("40"))],
    )
    description = models.TextField(_("说明"), max_length=4_000, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("创建人"),
    )

    topic = Localized("topic")

    class Meta:
        verbose_name = _("培训")
        verbose_name_plural = pgettext_lazy("plural", "培训")
        ordering = ("-starts_at", "pk")
        indexes = [
            models.Index(fields=("organiser", "-starts_at"), name="partners_training_org_idx"),
            models.Index(fields=("starts_at",), name="partners_training_day_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(hours__gte=Decimal("0.5"), hours__lte=40),
                name="partners_training_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return self.topic


class Attendance(models.Model):
    """One trainee of a session: a staff member (with an account) or a volunteer (by name)."""

    session = models.ForeignKey(
        TrainingSession,
        on_delete=models.CASCADE,
        related_name="attendances",
        db_index=False,  # the unique constraint leads with it
        verbose_name=_("培训"),
    )
    name = models.CharField(_("姓名"), max_length=80)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="training_attendances",
        verbose_name=_("账号"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="training_attendances",
        verbose_name=_("所属单位"),
    )
    attended = models.BooleanField(_("已出席"), default=False)

    class Meta:
        verbose_name = _("参训人员")
        verbose_name_plural = pgettext_lazy("plural", "参训人员")
        ordering = ("session", "name", "pk")
        constraints = [
            models.UniqueConstraint(fields=("session", "name"), name="partners_attendance_unique"),
        ]

    def __str__(self) -> str:
        return self.name


class Invitation(models.Model):
    """A seat offered by e-mail. The link carries a random token; only its SHA-256 is kept."""

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="invitations",
        db_index=False,  # partners_invitation_org_idx leads with it
        verbose_name=_("组织"),
    )
    email = models.EmailField(_("电子邮箱"))
    role = models.CharField(
        _("角色"), max_length=16, choices=Membership.Role.choices, default=Membership.Role.STAFF
    )
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("邀请人"),
    )
    created_at = models.DateTimeField(_("邀请时间"), editable=False)
    expires_at = models.DateTimeField(_("有效期至"))
    accepted_at = models.DateTimeField(_("接受时间"), null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("接受人"),
    )
    revoked_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("成员邀请")
        verbose_name_plural = pgettext_lazy("plural", "成员邀请")
        ordering = ("-created_at", "-pk")
        indexes = [
            models.Index(
                fields=("organisation", "-created_at"), name="partners_invitation_org_idx"
            ),
        ]
        constraints = [
            # One open invitation per address and organisation.
            models.UniqueConstraint(
                "organisation",
                models.functions.Lower("email"),
                condition=Q(accepted_at__isnull=True, revoked_at__isnull=True),
                name="partners_invitation_one_open",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.organisation}"
