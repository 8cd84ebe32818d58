"""Cases: anything that needs handling, from a citizen's report to a partner's facility problem.

A case belongs to one responsible organisation (empty while it waits in the triage queue) and
may be shared with co-handling organisations, each with its own task. Everything that happens
to a case is a :class:`TimelineEntry`, which nobody updates or deletes: on PostgreSQL a trigger
refuses it too (migration 0002), as for the stakeholders' audit log.

Writes go through ``governance.cases.services``; the models only keep the invariants of a row.
"""

from __future__ import annotations

import re
import uuid
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import AppendOnlyModel, Localized, TimeStampedModel
from governance.stakeholders.models import Organisation, phone_validator


class Source(models.TextChoices):
    CITIZEN = "citizen", _("市民报告")
    FEEDBACK = "feedback", _("评价整改")
    PROPOSAL = "proposal", _("建议落实")
    PARTNER = "partner", _("合作伙伴报告")
    STAFF = "staff", _("工作人员登记")
    OPEN311 = "open311", _("Open311 接口")


class Priority(models.TextChoices):
    LOW = "low", pgettext_lazy("case priority", "低")
    NORMAL = "normal", pgettext_lazy("case priority", "普通")
    HIGH = "high", pgettext_lazy("case priority", "高")
    URGENT = "urgent", pgettext_lazy("case priority", "紧急")


class Status(models.TextChoices):
    NEW = "new", pgettext_lazy("case status", "待受理")
    ACKNOWLEDGED = "acknowledged", pgettext_lazy("case status", "已受理")
    IN_PROGRESS = "in_progress", pgettext_lazy("case status", "处理中")
    RESOLVED = "resolved", pgettext_lazy("case status", "已解决")
    CLOSED = "closed", pgettext_lazy("case status", "已关闭")
    REJECTED = "rejected", pgettext_lazy("case status", "不予受理")
    DUPLICATE = "duplicate", pgettext_lazy("case status", "重复")
    REOPENED = "reopened", pgettext_lazy("case status", "已重开")


# Statuses in which a case still waits for someone to act: the backlog.
OPEN_STATUSES = frozenset({Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED})
# Statuses in which nobody has acknowledged the case yet (its acknowledgement clock runs).
UNACKNOWLEDGED_STATUSES = frozenset({Status.NEW})


class Category(TimeStampedModel):
    """What a case is about when no catalogue service fits (a broken lift, a lost item…)."""

    slug = models.SlugField(_("标识"), max_length=64, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=80)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    description_zh = models.TextField(_("中文说明"), blank=True)
    description_en = models.TextField(_("英文说明"), blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")
    description = Localized("description")

    class Meta:
        verbose_name = _("事项类别")
        verbose_name_plural = pgettext_lazy("plural", "事项类别")
        ordering = ("order", "name_zh")
        indexes = [models.Index(fields=("is_active", "order"), name="cases_category_active_idx")]

    def __str__(self) -> str:
        return self.name


class RoutingRule(TimeStampedModel):
    """Where a new case goes: the first active rule (lowest ``order``) whose criteria all match.

    A rule names at least one criterion; an empty criterion matches anything. A case that no
    rule matches waits in the triage queue.
    """

    name_zh = models.CharField(_("中文名称"), max_length=80)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    order = models.PositiveIntegerField(
        _("优先顺序"), default=100, help_text=_("数字小的规则先匹配。")
    )
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务事项"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="routing_rules",
        verbose_name=_("事项类别"),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("站点"),
    )
    responsible = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("责任单位"),
    )
    cohandlers = models.ManyToManyField(
        Organisation, related_name="+", verbose_name=_("协办单位"), blank=True
    )
    cohandler_task_zh = models.CharField(_("协办任务（中文）"), max_length=200, blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")

    class Meta:
        verbose_name = _("分派规则")
        verbose_name_plural = pgettext_lazy("plural", "分派规则")
        ordering = ("order", "pk")
        indexes = [models.Index(fields=("is_active", "order"), name="cases_rule_active_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False)
                | Q(category__isnull=False)
                | Q(station__isnull=False),
                name="cases_rule_has_a_criterion",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if not (self.service_id or self.category_id or self.station_id):
            raise ValidationError(_("分派规则至少要指定服务事项、事项类别或站点中的一项。"))


class SlaPolicy(TimeStampedModel):
    """How fast cases of a service or category are acknowledged and resolved.

    Neither service nor category: the platform default. No priority: every priority. The most
    specific policy wins (see ``governance.cases.sla.policy_for``).
    """

    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务事项"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="sla_policies",
        verbose_name=_("事项类别"),
    )
    priority = models.CharField(
        _("优先级"),
        max_length=16,
        choices=Priority.choices,
        blank=True,
        help_text=_("留空表示适用于所有优先级。"),
    )
    acknowledge_hours = models.PositiveSmallIntegerField(
        _("受理时限（工作小时）"), validators=[MinValueValidator(1), MaxValueValidator(400)]
    )
    resolve_days = models.PositiveSmallIntegerField(
        _("办结时限（工作日）"), validators=[MinValueValidator(1), MaxValueValidator(250)]
    )

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = pgettext_lazy("plural", "办理时限")
        ordering = ("service", "category", "priority")
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=True) | Q(category__isnull=True),
                name="cases_sla_service_or_category",
            ),
            models.CheckConstraint(
                condition=Q(acknowledge_hours__gte=1, resolve_days__gte=1),
                name="cases_sla_positive",
            ),
            # An empty column counts as a value, so there is one platform default per priority.
            models.UniqueConstraint(
                Coalesce("service", 0),
                Coalesce("category", 0),
                "priority",
                name="cases_sla_unique_scope",
            ),
        ]

    def __str__(self) -> str:
        scope = self.service or self.category or _("全平台默认")
        priority = self.get_priority_display() if self.priority else _("所有优先级")
        return f"{scope} · {priority}"

    def clean(self):
        super().clean()
        if self.service_id and self.category_id:
            raise ValidationError(_("办理时限只能针对服务事项或事项类别之一。"))


class CaseSequence(models.Model):
    """The last reference number given out per prefix and year.

    ``services.next_reference`` bumps it with one ``UPDATE … SET last = last + 1``: PostgreSQL
    holds the row lock until the transaction ends and SQLite writes one transaction at a time,
    so two cases never draw the same number.
    """

    prefix = models.CharField(_("前缀"), max_length=8)
    year = models.PositiveSmallIntegerField(_("年份"))
    last = models.PositiveIntegerField(_("最后编号"), default=0)

    class Meta:
        verbose_name = _("编号序列")
        verbose_name_plural = pgettext_lazy("plural", "编号序列")
        constraints = [
            models.UniqueConstraint(fields=("prefix", "year"), name="cases_sequence_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.prefix}-{self.year}: {self.last}"


class Case(TimeStampedModel):
    """One thing to handle, from report to closure. ``created_at`` is when it was opened."""

    class Routing(models.TextChoices):
        RULE = "rule", _("按规则分派")
        TRIAGE = "triage", _("待分拨")
        MANUAL = "manual", _("人工分派")
        DIRECT = "direct", _("按来源直接分派")

    reference = models.CharField(_("编号"), max_length=24, unique=True, editable=False)
    title = models.CharField(_("标题"), max_length=120)
    description = models.TextField(_("描述"), max_length=5000)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("服务事项"),
    )
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("事项类别"),
    )
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("站点"),
    )
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    address = models.CharField(_("地址"), max_length=250, blank=True)
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="reported_cases",
        verbose_name=_("报告人"),
    )
    # An anonymous reporter's contact (optional); a signed-in reporter's account is the contact.
    contact_name = models.CharField(_("联系人"), max_length=80, blank=True)
    contact_phone = models.CharField(
        _("联系电话"), max_length=20, blank=True, validators=[phone_validator]
    )
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    priority = models.CharField(
        _("优先级"), max_length=16, choices=Priority.choices, default=Priority.NORMAL
    )
    status = models.CharField(_("状态"), max_length=16, choices=Status.choices, default=Status.NEW)
    status_changed_at = models.DateTimeField(_("状态变更时间"), default=timezone.now)
    responsible = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="responsible_cases",
        verbose_name=_("责任单位"),
        help_text=_("留空表示在分拨队列中等待分派。"),
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="assigned_cases",
        verbose_name=_("经办人"),
    )
    routing = models.CharField(
        _("分派方式"), max_length=16, choices=Routing.choices, default=Routing.TRIAGE
    )
    routed_by = models.ForeignKey(
        RoutingRule,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases",
        verbose_name=_("分派规则"),
    )
    # The rule's name when it routed the case: the explanation outlives a renamed rule.
    routed_by_name = models.CharField(_("分派规则名称"), max_length=80, blank=True)
    is_public = models.BooleanField(
        _("公开"), default=True, help_text=_("公开的事项任何人都能查看（联系方式除外）。")
    )
    duplicate_of = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="duplicates",
        verbose_name=_("重复于"),
    )
    rejection_reason = models.TextField(_("不予受理理由"), blank=True, max_length=2000)
    # SLA clocks (see governance.cases.sla).
    sla_policy = models.ForeignKey(
        SlaPolicy,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("办理时限"),
    )
    acknowledge_due_at = models.DateTimeField(_("应受理时间"), null=True, blank=True)
    resolve_due_at = models.DateTimeField(_("应办结时间"), null=True, blank=True)
    # The due times were counted past the calendar package's last year, on Mon–Fri alone.
    due_estimated = models.BooleanField(_("时限为估算"), default=False)
    acknowledged_at = models.DateTimeField(_("受理时间"), null=True, blank=True)
    resolved_at = models.DateTimeField(_("解决时间"), null=True, blank=True)
    first_resolved_at = models.DateTimeField(_("首次解决时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("关闭时间"), null=True, blank=True)
    acknowledged_on_time = models.BooleanField(_("按时受理"), null=True, blank=True)
    resolved_on_time = models.BooleanField(_("按时办结"), null=True, blank=True)
    reopen_count = models.PositiveSmallIntegerField(_("重开次数"), default=0)
    followers = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        through="Follower",
        related_name="followed_cases",
        verbose_name=_("关注者"),
        blank=True,
    )

    class Meta:
        verbose_name = _("事项")
        verbose_name_plural = pgettext_lazy("plural", "事项")
        ordering = ("-created_at",)
        permissions = [("triage_case", _("可分拨事项"))]
        indexes = [
            models.Index(fields=("status", "-created_at"), name="cases_case_status_idx"),
            models.Index(
                fields=("responsible", "status", "-created_at"), name="cases_case_resp_idx"
            ),
            models.Index(fields=("assignee", "status"), name="cases_case_assignee_idx"),
            models.Index(fields=("reporter", "-created_at"), name="cases_case_reporter_idx"),
            models.Index(fields=("station", "-created_at"), name="cases_case_station_idx"),
            models.Index(fields=("service", "-created_at"), name="cases_case_service_idx"),
            models.Index(fields=("category", "-created_at"), name="cases_case_category_idx"),
            models.Index(fields=("is_public", "-created_at"), name="cases_case_public_idx"),
            models.Index(fields=("source", "-created_at"), name="cases_case_source_idx"),
            models.Index(fields=("priority", "status"), name="cases_case_priority_idx"),
            models.Index(fields=("-created_at",), name="cases_case_created_idx"),
            # The SLA sweep and the KPI rollups.
            models.Index(fields=("status", "acknowledge_due_at"), name="cases_case_ack_due_idx"),
            models.Index(fields=("status", "resolve_due_at"), name="cases_case_resolve_due_idx"),
            models.Index(fields=("acknowledged_at",), name="cases_case_acked_idx"),
            models.Index(fields=("first_resolved_at",), name="cases_case_resolved_idx"),
            models.Index(
                fields=("responsible",),
                condition=Q(responsible__isnull=True),
                name="cases_case_triage_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(service__isnull=False) | Q(category__isnull=False),
                name="cases_case_service_or_category",
            ),
            models.CheckConstraint(
                condition=Q(station__isnull=False) | Q(latitude__isnull=False) | ~Q(address=""),
                name="cases_case_has_a_place",
            ),
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    Q(latitude__isnull=False, longitude__isnull=False)
                    & Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="cases_case_coordinates_valid",
            ),
            models.CheckConstraint(
                condition=~Q(status=Status.REJECTED) | ~Q(rejection_reason=""),
                name="cases_case_rejection_has_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status=Status.DUPLICATE) & Q(duplicate_of__isnull=False))
                | (~Q(status=Status.DUPLICATE) & Q(duplicate_of__isnull=True)),
                name="cases_case_duplicate_has_original",
            ),
            models.CheckConstraint(
                condition=~Q(duplicate_of=F("pk")), name="cases_case_not_its_own_duplicate"
            ),
            models.CheckConstraint(
                condition=Q(status__in=[s.value for s in Status]), name="cases_case_status_valid"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} {self.title}"

    def clean(self):
        super().clean()
        errors = {}
        if not (self.service_id or self.category_id):
            errors["category"] = _("请选择服务事项或事项类别。")
        if (self.latitude is None) != (self.longitude is None):
            errors["longitude"] = _("纬度和经度须同时填写或同时留空。")
        if not (self.station_id or self.latitude is not None or self.address.strip()):
            errors["address"] = _("请选择站点，或填写位置（经纬度或地址）。")
        if self.status == Status.REJECTED and not self.rejection_reason.strip():
            errors["rejection_reason"] = _("不予受理必须说明理由。")
        if self.duplicate_of_id and self.duplicate_of_id == self.pk:
            errors["duplicate_of"] = _("事项不能与自身重复。")
        if errors:
            raise ValidationError(errors)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES

    @property
    def in_triage(self) -> bool:
        return self.responsible_id is None

    @property
    def expected_datetime(self):
        """When the case is expected to be resolved (Open311's ``expected_datetime``)."""
        return self.resolve_due_at

    @property
    def routing_explanation(self) -> str:
        """Why the case sits where it does, in the active language."""
        if self.routing == self.Routing.RULE:
            name = self.routed_by.name if self.routed_by_id else self.routed_by_name
            return _("由分派规则“%(rule)s”分派") % {"rule": name}
        if self.routing == self.Routing.MANUAL:
            return _("由工作人员人工分派")
        if self.routing == self.Routing.DIRECT:
            return _("按来源直接分派给负责单位（如差评由办理单位整改）")
        return _("没有匹配的分派规则，等待分拨")


class Follower(models.Model):
    """Someone who hears about a case's status changes and public replies."""

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="follows", verbose_name=_("事项")
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="case_follows",
        verbose_name=_("用户"),
    )
    created_at = models.DateTimeField(_("关注时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = pgettext_lazy("plural", "关注")
        constraints = [
            models.UniqueConstraint(fields=("case", "user"), name="cases_follower_unique"),
        ]
        indexes = [models.Index(fields=("user", "-created_at"), name="cases_follower_user_idx")]

    def __str__(self) -> str:
        return f"{self.user} → {self.case.reference}"


class CoHandler(TimeStampedModel):
    """An organisation that shares a case with its own task, assignee and due date."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("co-handling task", "进行中")
        DONE = "done", pgettext_lazy("co-handling task", "已完成")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="cohandlers", verbose_name=_("事项")
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="cohandled_cases",
        verbose_name=_("协办单位"),
    )
    task = models.TextField(_("协办任务"), max_length=2000)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cohandled_cases",
        verbose_name=_("经办人"),
    )
    due_at = models.DateTimeField(_("完成期限"), null=True, blank=True)
    state = models.CharField(_("状态"), max_length=8, choices=State.choices, default=State.OPEN)
    done_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("协办")
        verbose_name_plural = pgettext_lazy("plural", "协办")
        ordering = ("case", "created_at")
        constraints = [
            models.UniqueConstraint(fields=("case", "organisation"), name="cases_cohandler_unique"),
            models.CheckConstraint(
                condition=(Q(state="done") & Q(done_at__isnull=False))
                | (Q(state="open") & Q(done_at__isnull=True)),
                name="cases_cohandler_done_at",
            ),
        ]
        indexes = [
            models.Index(fields=("organisation", "state"), name="cases_cohandler_org_idx"),
            models.Index(fields=("assignee", "state"), name="cases_cohandler_assignee_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case.reference} · {self.organisation}"

    def clean(self):
        super().clean()
        if (
            self.case_id
            and self.organisation_id
            and self.organisation_id == self.case.responsible_id
        ):
            raise ValidationError({"organisation": _("责任单位不能同时是协办单位。")})


class TimelineEntry(AppendOnlyModel):
    """One immutable line of a case's history: who did what, when, and who may read it."""

    class Kind(models.TextChoices):
        OPENED = "opened", pgettext_lazy("case timeline", "提交")
        STATUS = "status", pgettext_lazy("case timeline", "状态变更")
        REPLY = "reply", pgettext_lazy("case timeline", "公开答复")
        NOTE = "note", pgettext_lazy("case timeline", "内部备注")
        ROUTED = "routed", pgettext_lazy("case timeline", "分派")
        ASSIGNED = "assigned", pgettext_lazy("case timeline", "指定经办人")
        COHANDLER = "cohandler", pgettext_lazy("case timeline", "增加协办单位")
        COHANDLER_TASK = "cohandler_task", pgettext_lazy("case timeline", "协办任务更新")
        CONTACT = "contact", pgettext_lazy("case timeline", "联系报告人")
        ATTACHMENT = "attachment", pgettext_lazy("case timeline", "附件")
        DUE_CHANGED = "due_changed", pgettext_lazy("case timeline", "调整时限")

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="timeline", verbose_name=_("事项")
    )
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    is_public = models.BooleanField(_("公开"), default=False)
    body = models.TextField(_("内容"), blank=True, max_length=5000)
    data = models.JSONField(_("详情"), default=dict, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    update_refused_message = _("办理记录只能追加，不能修改。")
    delete_refused_message = _("办理记录只能追加，不能删除。")

    class Meta:
        verbose_name = _("办理记录")
        verbose_name_plural = pgettext_lazy("plural", "办理记录")
        ordering = ("case", "created_at", "pk")
        indexes = [
            models.Index(fields=("case", "created_at"), name="cases_timeline_case_idx"),
            models.Index(fields=("kind", "-created_at"), name="cases_timeline_kind_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"


class OpenSpell(models.Model):
    """One stretch of time during which a case waited for someone to act (the backlog).

    A case opens its first spell when it is opened; resolving, rejecting or marking it a
    duplicate ends the spell, and reopening starts a new one. The backlog KPI counts spells,
    so reopening a case adds to the days after it without rewriting the days before it.
    The spells are the status entries of the timeline, kept in a form SQL can range over.
    """

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="open_spells", verbose_name=_("事项")
    )
    opened_at = models.DateTimeField(_("开始时间"))
    ended_at = models.DateTimeField(_("结束时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("待办时段")
        verbose_name_plural = pgettext_lazy("plural", "待办时段")
        ordering = ("case", "opened_at")
        constraints = [
            models.UniqueConstraint(
                fields=("case",),
                condition=Q(ended_at__isnull=True),
                name="cases_openspell_one_running",
            ),
            models.CheckConstraint(
                condition=Q(ended_at__isnull=True) | Q(ended_at__gte=F("opened_at")),
                name="cases_openspell_ends_after_start",
            ),
        ]
        indexes = [
            models.Index(fields=("ended_at", "opened_at"), name="cases_openspell_range_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.opened_at:%Y-%m-%d %H:%M}–{self.ended_at or ''}"


class Attachment(models.Model):
    """A photo or PDF on a case, checked and (for images) re-encoded by ``attachments.py``."""

    case = models.ForeignKey(
        Case, on_delete=models.PROTECT, related_name="attachments", verbose_name=_("事项")
    )
    file = models.FileField(_("文件"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("上传人"),
    )
    is_public = models.BooleanField(_("公开"), default=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("附件")
        verbose_name_plural = pgettext_lazy("plural", "附件")
        ordering = ("case", "created_at")
        indexes = [models.Index(fields=("case", "created_at"), name="cases_attachment_case_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    content_type__in=["image/jpeg", "image/png", "image/webp", "application/pdf"]
                ),
                name="cases_attachment_type_allowed",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class SlaNotice(models.Model):
    """A due-soon reminder or overdue escalation that was sent: one per case, kind and deadline.

    The insert is the claim (as for ``kpis.Alert``): a second sweep, or a concurrent one that
    lost the race, inserts nothing and tells no one. A changed deadline is a new deadline and
    earns its own reminder.
    """

    class Kind(models.TextChoices):
        ACKNOWLEDGE_DUE_SOON = "ack_due_soon", _("即将超过受理时限")
        ACKNOWLEDGE_OVERDUE = "ack_overdue", _("超过受理时限")
        RESOLVE_DUE_SOON = "resolve_due_soon", _("即将超过办结时限")
        RESOLVE_OVERDUE = "resolve_overdue", _("超过办结时限")

    case = models.ForeignKey(
        Case, on_delete=models.CASCADE, related_name="sla_notices", verbose_name=_("事项")
    )
    kind = models.CharField(_("类型"), max_length=20, choices=Kind.choices)
    due_at = models.DateTimeField(_("时限"))
    created_at = models.DateTimeField(_("发送时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("时限提醒")
        verbose_name_plural = pgettext_lazy("plural", "时限提醒")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(
                fields=("case", "kind", "due_at"), name="cases_slanotice_once_per_deadline"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.case_id} {self.get_kind_display()} {self.due_at:%Y-%m-%d %H:%M}"


# Open311 GeoReport v2 (governance.cases.open311) ---------------------------------------------
class Open311Client(TimeStampedModel):
    """An app that reports problems through Open311 on behalf of citizens, with its API key.

    The key is shown once, when it is issued or rotated, and only its SHA-256 digest is kept
    (keys are 256 random bits, so a slow hash would add nothing); ``key_prefix`` lets people
    tell keys apart. A revoked client keeps its row, and its requests keep their history.
    """

    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="open311_clients",
        verbose_name=_("所属组织"),
        help_text=_("对该应用及其密钥负责的组织；其成员可以查看该应用。"),
    )
    name = models.CharField(_("应用名称"), max_length=120)
    contact_email = models.EmailField(_("开发者联系邮箱"), blank=True)
    key_prefix = models.CharField(_("密钥前缀"), max_length=16, editable=False)
    key_hash = models.CharField(_("密钥摘要"), max_length=64, unique=True, editable=False)
    is_active = models.BooleanField(
        _("启用"), default=True, help_text=_("停用即吊销密钥，使用该密钥的提交会被拒绝。")
    )
    revoked_at = models.DateTimeField(_("吊销时间"), null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("最近使用时间"), null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("Open311 应用")
        verbose_name_plural = pgettext_lazy("plural", "Open311 应用")
        ordering = ("organisation", "name")
        constraints = [
            models.UniqueConstraint(
                fields=("organisation", "name"), name="cases_open311client_unique_name"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.key_prefix}…)"


class ServiceAttribute(TimeStampedModel):
    """An extra question an Open311 app asks about a catalogue service (GeoReport v2's
    service definition attribute): a service with active attributes says ``metadata=true``."""

    class Datatype(models.TextChoices):
        STRING = "string", _("单行文字")
        NUMBER = "number", _("数字")
        DATETIME = "datetime", _("日期时间")
        TEXT = "text", _("多行文字")
        SINGLEVALUELIST = "singlevaluelist", _("单选")
        MULTIVALUELIST = "multivaluelist", _("多选")

    LIST_DATATYPES = frozenset({Datatype.SINGLEVALUELIST, Datatype.MULTIVALUELIST})

    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        related_name="open311_attributes",
        verbose_name=_("服务事项"),
    )
    code = models.CharField(
        _("编码"),
        max_length=64,
        validators=[
            RegexValidator(r"^[A-Za-z0-9_\-]+$", _("编码只能包含字母、数字、下划线和连字符。"))
        ],
    )
    variable = models.BooleanField(
        _("需要填写"), default=True, help_text=_("不勾选表示仅为提示信息，不接受填写。")
    )
    datatype = models.CharField(_("数据类型"), max_length=16, choices=Datatype.choices)
    required = models.BooleanField(_("必填"), default=False)
    description_zh = models.CharField(_("中文问题"), max_length=300)
    description_en = models.CharField(_("英文问题"), max_length=400, blank=True)
    datatype_description_zh = models.CharField(_("中文填写说明"), max_length=200, blank=True)
    datatype_description_en = models.CharField(_("英文填写说明"), max_length=300, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=1)
    values = models.JSONField(
        _("选项"),
        default=list,
        blank=True,
        help_text=_(
            '单选和多选的选项，例如 [{"key": "blurry", "name_zh": "照片模糊", '
            '"name_en": "Blurry photo"}]；其他类型留空。'
        ),
    )
    is_active = models.BooleanField(_("启用"), default=True)

    description = Localized("description")
    datatype_description = Localized("datatype_description")

    class Meta:
        verbose_name = _("Open311 附加问题")
        verbose_name_plural = pgettext_lazy("plural", "Open311 附加问题")
        ordering = ("service", "order", "code")
        constraints = [
            models.UniqueConstraint(fields=("service", "code"), name="cases_attribute_unique_code"),
            models.CheckConstraint(
                condition=Q(variable=True) | Q(required=False),
                name="cases_attribute_required_is_variable",
            ),
        ]
        indexes = [
            models.Index(fields=("service", "is_active", "order"), name="cases_attribute_svc_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.service_id} · {self.code}"

    def clean(self):
        super().clean()
        errors = {}
        if self.required and not self.variable:
            errors["required"] = _("仅为提示信息的问题不能设为必填。")
        if self.datatype in self.LIST_DATATYPES:
            problem = _values_problem(self.values)
            if problem:
                errors["values"] = problem
        elif self.values:
            errors["values"] = _("只有单选和多选需要选项。")
        if errors:
            raise ValidationError(errors)

    def value_name(self, key: str) -> str:
        """The option's name in the active language (its key if it has none)."""
        from django.utils import translation

        english = (translation.get_language() or "").startswith("en")
        for value in self.values:
            if value.get("key") == key:
                return (english and value.get("name_en")) or value.get("name_zh") or key
        return key


def _values_problem(values) -> str:
    """Why a list attribute's options are not usable, or ``""``."""
    if not isinstance(values, list) or not values:
        return _("单选和多选至少需要一个选项。")
    keys = []
    for value in values:
        if not isinstance(value, dict) or set(value) - {"key", "name_zh", "name_en"}:
            return _("每个选项须写成包含 key、name_zh、name_en 的对象。")
        key = value.get("key")
        if not isinstance(key, str) or not re.fullmatch(r"[A-Za-z0-9_\-]{1,64}", key):
            return _("选项的 key 只能包含字母、数字、下划线和连字符。")
        if not isinstance(value.get("name_zh"), str) or not value["name_zh"].strip():
            return _("每个选项都需要中文名称（name_zh）。")
        if not isinstance(value.get("name_en", ""), str):
            return _("选项的英文名称（name_en）须为文字。")
        keys.append(key)
    if len(keys) != len(set(keys)):
        return _("选项的 key 不能重复。")
    return ""


class Open311Request(models.Model):
    """What an Open311 submission carried beyond the case itself: the app it came through, the
    token GeoReport's ``tokens/{token}`` resolves, the answers to the service's attributes and
    the identifiers the app sent (never shown in the public Open311 answers)."""

    case = models.OneToOneField(
        Case, on_delete=models.PROTECT, related_name="open311", verbose_name=_("事项")
    )
    client = models.ForeignKey(
        Open311Client,
        on_delete=models.PROTECT,
        related_name="requests",
        verbose_name=_("Open311 应用"),
    )
    token = models.UUIDField(_("令牌"), default=uuid.uuid4, unique=True, editable=False)
    attributes = models.JSONField(_("附加问题答复"), default=dict, blank=True)
    address_id = models.CharField(_("地址编号"), max_length=64, blank=True)
    media_url = models.URLField(_("媒体链接"), max_length=500, blank=True)
    device_id = models.CharField(_("设备标识"), max_length=100, blank=True)
    account_id = models.CharField(_("应用账号"), max_length=100, blank=True)
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("Open311 提交")
        verbose_name_plural = pgettext_lazy("plural", "Open311 提交")
        ordering = ("-created_at",)
        indexes = [
            models.Index(fields=("client", "-created_at"), name="cases_open311req_client_idx"),
        ]

    def __str__(self) -> str:
        return str(self.token)
