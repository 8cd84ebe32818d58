"""Daily measurements, the days left to recompute, and the KPIs people own and set targets for.

Scope columns: a measurement, target or reported figure applies to the whole platform (all four
scope columns empty) or to one station, service, department or partner (exactly one set).
Uniqueness treats an empty scope column as a value (SQL's ``NULL <> NULL`` would let two
platform rows for the same day in): the unique indexes are on ``COALESCE(column, 0)``, which
PostgreSQL and SQLite both enforce the same way (``nulls_distinct=False`` would do it on
PostgreSQL 15 only).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import Localized, TimeStampedModel
from governance.kpis import registry
from governance.stakeholders.models import Organisation

SCOPE_COLUMNS = ("station", "service", "department", "partner")


def one_scope_at_most() -> Q:
    """A CHECK condition: no more than one scope column is set (all empty is the platform)."""
    condition = Q()
    for column in SCOPE_COLUMNS:
        condition |= Q(**{f"{other}__isnull": True for other in SCOPE_COLUMNS if other != column})
    return condition


def scope_key() -> tuple:
    return tuple(Coalesce(column, 0) for column in SCOPE_COLUMNS)


class ScopedModel(models.Model):
    """The four nullable scope columns."""

    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("站点"),
    )
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务事项"),
    )
    department = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("部门"),
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
    )
    partner = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("企业伙伴"),
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
    )

    class Meta:
        abstract = True

    @property
    def scope(self) -> registry.Scope:
        return registry.Scope(
            station_id=self.station_id,
            service_id=self.service_id,
            department_id=self.department_id,
            partner_id=self.partner_id,
        )

    def clean_scope(self) -> None:
        if sum(getattr(self, f"{column}_id") is not None for column in SCOPE_COLUMNS) > 1:
            raise ValidationError(_("范围只能是全平台，或者一个站点、服务事项、部门或企业伙伴。"))

    def clean_period_start(self) -> None:
        """Targets and reported figures start on the first day of their month, quarter or year."""
        period = getattr(self, "period", None)
        start = getattr(self, "period_start", None)
        if period and start and not period_start_is_aligned(period, start):
            raise ValidationError({"period_start": _("周期开始日必须是该月、季度或年度的第一天。")})


class Measurement(ScopedModel):
    """One metric's value for one Asia/Shanghai day and one scope, computed from source rows."""

    metric = models.CharField(_("指标代码"), max_length=64)
    day = models.DateField(_("日期"))
    value = models.FloatField(_("数值"))
    # WEIGHTED_MEAN: how many items the value averages; DISTRIBUTION: how many values.
    weight = models.FloatField(_("权重"), default=0)
    # DISTRIBUTION: {"bin": count}, whole-unit bins.
    histogram = models.JSONField(_("分布"), null=True, blank=True)
    computed_at = models.DateTimeField(_("计算时间"), default=timezone.now)

    class Meta:
        verbose_name = _("指标日值")
        verbose_name_plural = pgettext_lazy("plural", "指标日值")
        ordering = ("metric", "day")
        constraints = [
            models.UniqueConstraint(
                "metric", "day", *scope_key(), name="kpis_measurement_unique_scope"
            ),
            models.CheckConstraint(
                condition=one_scope_at_most(), name="kpis_measurement_one_scope"
            ),
        ]
        indexes = [
            models.Index(fields=("metric", "day"), name="kpis_measurement_day_idx"),
            # The dashboards read the platform's rows of every metric over a year.
            models.Index(
                fields=("metric", "day"),
                condition=Q(
                    station__isnull=True,
                    service__isnull=True,
                    department__isnull=True,
                    partner__isnull=True,
                ),
                name="kpis_measurement_platform_idx",
            ),
            models.Index(fields=("metric", "station", "day"), name="kpis_measurement_station_idx"),
            models.Index(fields=("metric", "service", "day"), name="kpis_measurement_service_idx"),
            models.Index(fields=("metric", "department", "day"), name="kpis_measurement_dept_idx"),
            models.Index(fields=("metric", "partner", "day"), name="kpis_measurement_partner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.metric} {self.day} = {self.value:g}"


class DirtyDay(models.Model):
    """A day whose measurements of ``metric`` are stale: the next rollup recomputes it."""

    metric = models.CharField(_("指标代码"), max_length=64)
    day = models.DateField(_("日期"))
    marked_at = models.DateTimeField(_("标记时间"), default=timezone.now)

    class Meta:
        verbose_name = _("待重算日期")
        verbose_name_plural = pgettext_lazy("plural", "待重算日期")
        ordering = ("day", "metric")
        constraints = [
            models.UniqueConstraint(fields=("metric", "day"), name="kpis_dirtyday_unique"),
        ]
        indexes = [models.Index(fields=("day",), name="kpis_dirtyday_day_idx")]

    def __str__(self) -> str:
        return f"{self.metric} {self.day}"


class Period(models.TextChoices):
    MONTH = "month", _("月")
    QUARTER = "quarter", _("季度")
    YEAR = "year", _("年")


def period_end(kind: str, start: dt.date) -> dt.date:
    """The last day of the period of ``kind`` that starts on ``start``."""
    months = {Period.MONTH: 1, Period.QUARTER: 3, Period.YEAR: 12}[Period(kind)]
    month = start.month - 1 + months
    following = dt.date(start.year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def period_start_is_aligned(kind: str, start: dt.date) -> bool:
    if start.day != 1:
        return False
    if kind == Period.QUARTER:
        return start.month in (1, 4, 7, 10)
    if kind == Period.YEAR:
        return start.month == 1
    return True


class Visibility(models.TextChoices):
    PUBLIC = "public", _("公开")
    STAKEHOLDERS = "stakeholders", _("各方成员可见")
    OWNERS = "owners", _("仅共有方可见")


# Codes that would shadow a page under /kpis/.
RESERVED_CODES = frozenset({"mine", "stations", "org"})


class Indicator(TimeStampedModel):
    """A KPI: a registered metric (computed) or a figure stakeholders report, owned jointly."""

    class Kind(models.TextChoices):
        METRIC = "metric", _("系统计算")
        REPORTED = "reported", _("各方填报")

    code = models.SlugField(_("标识"), max_length=64, unique=True)
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    metric = models.CharField(
        _("指标代码"), max_length=64, blank=True, help_text=_("系统计算的指标填写已登记的代码。")
    )
    name_zh = models.CharField(_("中文名称"), max_length=120)
    name_en = models.CharField(_("英文名称"), max_length=160, blank=True)
    description_zh = models.TextField(_("中文计算说明"), blank=True)
    description_en = models.TextField(_("英文计算说明"), blank=True)
    # Reported figures only: computed metrics take both from the registry.
    unit = models.CharField(_("单位"), max_length=20, blank=True)
    higher_is_better = models.BooleanField(_("越高越好"), default=True)
    owners = models.ManyToManyField(
        Organisation, related_name="kpi_indicators", verbose_name=_("共有方")
    )
    visibility = models.CharField(
        _("可见范围"), max_length=16, choices=Visibility.choices, default=Visibility.PUBLIC
    )
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")
    description = Localized("description")

    class Meta:
        verbose_name = _("绩效指标")
        verbose_name_plural = pgettext_lazy("plural", "绩效指标")
        ordering = ("name_zh",)
        indexes = [
            models.Index(fields=("visibility", "is_active"), name="kpis_indicator_visible_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(kind="metric") & ~Q(metric="")) | (Q(kind="reported") & Q(metric="")),
                name="kpis_indicator_metric_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if self.code in RESERVED_CODES:
            raise ValidationError({"code": _("这个标识留作页面地址，请换一个。")})
        if self.kind == self.Kind.METRIC:
            try:
                registry.get(self.metric)
            except registry.UnknownMetric:
                raise ValidationError({"metric": _("没有这个指标代码。")}) from None
        elif self.kind == self.Kind.REPORTED and self.metric:
            raise ValidationError({"metric": _("各方填报的指标不填指标代码。")})

    @property
    def is_higher_better(self) -> bool:
        if self.kind == self.Kind.METRIC:
            return registry.get(self.metric).higher_is_better
        return self.higher_is_better


class Light(models.TextChoices):
    GREEN = "green", _("绿灯")
    AMBER = "amber", _("黄灯")
    RED = "red", _("红灯")


class Target(ScopedModel, TimeStampedModel):
    """What an indicator should reach in one period and scope: green and amber thresholds.

    Higher is better: at or above ``green`` is green, at or above ``amber`` amber, below red.
    Lower is better: at or below ``green`` is green, at or below ``amber`` amber, above red.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="targets", verbose_name=_("指标")
    )
    period = models.CharField(_("周期"), max_length=16, choices=Period.choices)
    period_start = models.DateField(_("周期开始日"))
    green = models.FloatField(_("绿灯阈值"))
    amber = models.FloatField(_("黄灯阈值"))
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("设定人"),
    )

    class Meta:
        verbose_name = _("指标目标")
        verbose_name_plural = pgettext_lazy("plural", "指标目标")
        ordering = ("indicator", "-period_start")
        constraints = [
            models.UniqueConstraint(
                "indicator", "period", "period_start", *scope_key(), name="kpis_target_unique"
            ),
            models.CheckConstraint(condition=one_scope_at_most(), name="kpis_target_one_scope"),
        ]
        indexes = [
            models.Index(fields=("indicator", "period", "period_start"), name="kpis_target_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start:%Y-%m}"

    def clean(self):
        super().clean()
        self.clean_scope()
        self.clean_period_start()
        if self.indicator_id is None or self.green is None or self.amber is None:
            return
        if self.indicator.is_higher_better:
            if self.green <= self.amber:
                raise ValidationError({"green": _("该指标越高越好：绿灯阈值必须高于黄灯阈值。")})
        elif self.green >= self.amber:
            raise ValidationError({"green": _("该指标越低越好：绿灯阈值必须低于黄灯阈值。")})

    @property
    def period_end(self) -> dt.date:
        return period_end(self.period, self.period_start)

    def light(self, value: float | None) -> Light | None:
        if value is None:
            return None
        if self.indicator.is_higher_better:
            if value >= self.green:
                return Light.GREEN
            return Light.AMBER if value >= self.amber else Light.RED
        if value <= self.green:
            return Light.GREEN
        return Light.AMBER if value <= self.amber else Light.RED


class ReportedFigureQuerySet(models.QuerySet):
    def shown(self, today: dt.date):
        """What may be shown: approved, for a period that has started."""
        return self.filter(status=ReportedFigure.Status.APPROVED, period_start__lte=today)


class ReportedFigure(ScopedModel, TimeStampedModel):
    """A value a stakeholder enters for a period (the mall's footfall); shown once approved."""

    class Status(models.TextChoices):
        PENDING = "pending", _("待审核")
        APPROVED = "approved", _("已通过")
        REJECTED = "rejected", _("已退回")

    indicator = models.ForeignKey(
        Indicator,
        on_delete=models.CASCADE,
        related_name="reported_figures",
        verbose_name=_("指标"),
        limit_choices_to={"kind": Indicator.Kind.REPORTED},
    )
    period = models.CharField(_("周期"), max_length=16, choices=Period.choices)
    period_start = models.DateField(_("周期开始日"))
    value = models.FloatField(_("数值"))
    reported_by = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("填报单位"),
    )
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("填报人"),
    )
    status = models.CharField(
        _("审核状态"), max_length=16, choices=Status.choices, default=Status.PENDING
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    review_note = models.TextField(_("审核意见"), blank=True, max_length=1000)

    objects = ReportedFigureQuerySet.as_manager()

    class Meta:
        verbose_name = _("填报数据")
        verbose_name_plural = pgettext_lazy("plural", "填报数据")
        ordering = ("indicator", "-period_start")
        constraints = [
            models.UniqueConstraint(
                "indicator", "period", "period_start", *scope_key(), name="kpis_figure_unique"
            ),
            models.CheckConstraint(condition=one_scope_at_most(), name="kpis_figure_one_scope"),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(reviewed_at__isnull=False),
                name="kpis_figure_reviewed_has_time",
            ),
        ]
        indexes = [
            models.Index(
                fields=("indicator", "status", "period_start"), name="kpis_figure_shown_idx"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start:%Y-%m}: {self.value:g}"

    def clean(self):
        super().clean()
        self.clean_scope()
        self.clean_period_start()
        if self.indicator_id and self.indicator.kind != Indicator.Kind.REPORTED:
            raise ValidationError({"indicator": _("只有各方填报的指标才能录入数据。")})


class Alert(models.Model):
    """A target that turned red: one row per target, so its owners are told once per period.

    A target is one indicator, period and scope, so the unique target is the once-only rule;
    the insert is the claim, and a concurrent check that loses the race inserts nothing.
    """

    indicator = models.ForeignKey(
        Indicator, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("指标")
    )
    target = models.ForeignKey(
        Target, on_delete=models.CASCADE, related_name="alerts", verbose_name=_("指标目标")
    )
    period = models.CharField(_("周期"), max_length=16, choices=Period.choices)
    period_start = models.DateField(_("周期开始日"))
    value = models.FloatField(_("数值"))
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("红灯提醒")
        verbose_name_plural = pgettext_lazy("plural", "红灯提醒")
        ordering = ("-created_at",)
        constraints = [
            models.UniqueConstraint(fields=("target",), name="kpis_alert_once_per_target"),
        ]
        indexes = [
            models.Index(fields=("indicator", "period_start"), name="kpis_alert_indicator_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.indicator} {self.period_start:%Y-%m}: {self.value:g}"
