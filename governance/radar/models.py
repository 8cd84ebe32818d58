"""The radar's stored results, one set per calendar month (Asia/Shanghai).

The periodic task (``radar.compute``) and ``manage.py radar_compute`` write them; the pages and
the API read them only, so a page costs the same few queries however many visits, ratings and
texts lie behind it. A month's rows are replaced as a whole, in one transaction, so a reader
never sees half a month.

Scope columns: ``station`` empty means every station together (and, for texts, texts that name
no station at all).
"""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

MAX_TERM = 40  # characters of one theme: a word or two adjacent words


def scope_station() -> models.ForeignKey:
    """The station a row is about; empty: every station together (or, for texts and
    searches, none named)."""
    return models.ForeignKey(
        "stations.Station",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("站点"),
    )


class Run(models.Model):
    """One computation of one month: when, how much it read, how long it took."""

    class Status(models.TextChoices):
        RUNNING = "running", _("计算中")
        DONE = "done", _("已完成")
        FAILED = "failed", _("失败")

    month = models.DateField(_("月份"), unique=True, help_text=_("该月的第一天。"))
    # The attempt under way or last made; ``done_at`` says whether the month's stored results
    # are there at all (a recompute or a failed attempt leaves the last good ones in place).
    status = models.CharField(_("状态"), max_length=8, choices=Status.choices)
    started_at = models.DateTimeField(_("开始时间"), default=timezone.now)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    done_at = models.DateTimeField(_("最近一次成功计算"), null=True, blank=True)
    through = models.DateField(
        _("数据截至"),
        null=True,
        blank=True,
        help_text=_("计算时已过去的最后一天：当月未过完时，只按已过去的天数计算平均值。"),
    )
    term_cutoff = models.PositiveIntegerField(
        _("词频保存下限"),
        default=0,
        help_text=_("只保存了不少于该文本数的词；0 表示全部保存。没有保存的词按低于该值计。"),
    )
    tracked_peak = models.PositiveIntegerField(_("同时跟踪的词数峰值"), default=0)
    visits = models.PositiveIntegerField(_("办件数"), default=0)
    texts = models.PositiveIntegerField(_("文本数"), default=0)
    reasons = models.PositiveIntegerField(_("原因数"), default=0)
    searches = models.PositiveIntegerField(_("无结果搜索数"), default=0)
    seconds = models.FloatField(_("耗时（秒）"), default=0)
    peak_memory_mb = models.FloatField(_("内存峰值（MB）"), default=0)
    error = models.CharField(_("错误"), max_length=500, blank=True)

    class Meta:
        verbose_name = _("雷达计算")
        verbose_name_plural = pgettext_lazy("plural", "雷达计算")
        ordering = ("-month",)

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.status}"


class HeatCell(models.Model):
    """Visits to one service at one station in one month, on one weekday, in one hour.

    ``visits``, ``called``, ``wait_minutes`` and ``max_wait_minutes`` are about the visits that
    took a ticket in that hour (the wait: ticket to call). ``queue_minutes`` is the waiting that
    happened in that hour, whoever was waiting: a wait from 14:50 to 15:30 puts 10 minutes in
    the 14:00 cell and 30 in the 15:00 one, and a visit that left without being called waits
    until it left. The mean queue over the hour follows (Little's law): those minutes divided by
    the minutes the hour lasted on the ``days`` such weekdays of the month that had passed.
    """

    month = models.DateField(_("月份"))
    station = models.ForeignKey(
        "stations.Station", on_delete=models.CASCADE, related_name="+", verbose_name=_("站点")
    )
    service = models.ForeignKey(
        "stations.Service", on_delete=models.CASCADE, related_name="+", verbose_name=_("服务事项")
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), help_text=_("0 为星期一。"))
    hour = models.PositiveSmallIntegerField(_("小时"))
    visits = models.PositiveIntegerField(_("办件数"))
    called = models.PositiveIntegerField(_("已叫号数"))
    wait_minutes = models.FloatField(_("等候总分钟"))
    queue_minutes = models.FloatField(
        _("排队分钟"), default=0, help_text=_("落在这一小时里的等候分钟，无论几点取的号。")
    )
    max_wait_minutes = models.FloatField(_("最长等候分钟"))
    days = models.PositiveSmallIntegerField(_("该星期几在本月的天数"))

    class Meta:
        verbose_name = _("排队热力格")
        verbose_name_plural = pgettext_lazy("plural", "排队热力格")
        constraints = [
            models.UniqueConstraint(
                fields=("month", "station", "service", "weekday", "hour"),
                name="radar_heatcell_once",
            ),
            models.CheckConstraint(condition=Q(weekday__lte=6), name="radar_heatcell_weekday"),
            models.CheckConstraint(condition=Q(hour__lte=23), name="radar_heatcell_hour"),
        ]
        # The unique index leads with (month, station): the page's one read.

    def __str__(self) -> str:
        return (
            f"{self.month:%Y-%m} · {self.station_id}/{self.service_id} · {self.weekday}@{self.hour}"
        )

    @property
    def mean_wait(self) -> float | None:
        return self.wait_minutes / self.called if self.called else None

    @property
    def queue(self) -> float:
        return self.queue_minutes / (60 * self.days) if self.days else 0.0


class ReasonCount(models.Model):
    """How often one reason was given in one month, in one cell (station × service ×
    department), by one reason source (bad ratings, complaints…)."""

    month = models.DateField(_("月份"))
    source = models.CharField(_("来源"), max_length=40)
    reason = models.CharField(_("原因"), max_length=60)
    station = scope_station()
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("服务事项"),
    )
    department = models.ForeignKey(
        "stakeholders.Organisation",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("部门"),
    )
    count = models.PositiveIntegerField(_("次数"))

    class Meta:
        verbose_name = _("不满意原因统计")
        verbose_name_plural = pgettext_lazy("plural", "不满意原因统计")
        indexes = [
            models.Index(fields=("month", "source", "reason"), name="radar_reason_month_idx"),
            models.Index(fields=("station", "month"), name="radar_reason_station_idx"),
            models.Index(fields=("service", "month"), name="radar_reason_service_idx"),
            models.Index(fields=("department", "month"), name="radar_reason_dept_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.source} · {self.reason} · {self.count}"


class TermCount(models.Model):
    """How many texts of one month mention one term, in one scope: the history that growth is
    measured against. At most ``compute.MAX_STORED_TERMS`` per scope and month, the most
    frequent; the month's ``Run.term_cutoff`` says how many texts a term not kept may have."""

    month = models.DateField(_("月份"))
    station = scope_station()
    term = models.CharField(_("词"), max_length=MAX_TERM)
    count = models.PositiveIntegerField(_("文本数"))

    class Meta:
        verbose_name = _("词频")
        verbose_name_plural = pgettext_lazy("plural", "词频")
        indexes = [
            models.Index(fields=("month", "station", "term"), name="radar_termcount_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.term} · {self.count}"


class Theme(models.Model):
    """A recurring theme of one month in one scope, ranked by its growth against the three
    months before."""

    month = models.DateField(_("月份"))
    station = scope_station()
    term = models.CharField(_("主题"), max_length=MAX_TERM)
    rank = models.PositiveSmallIntegerField(_("排名"))
    count = models.PositiveIntegerField(_("本月文本数"))
    baseline = models.FloatField(_("前三个月月均"))
    score = models.FloatField(
        _("增长显著性"),
        default=0,
        help_text=_("本月比前三个月月均高出几个标准差（按泊松计数）：排名依据。"),
    )
    growth = models.FloatField(
        _("增长倍数"), help_text=_("本月 ÷ 前三个月月均（月均为 0 时按 1 计）。")
    )
    sources = models.JSONField(_("来源分布"), default=dict)

    class Meta:
        verbose_name = _("诉求主题")
        verbose_name_plural = pgettext_lazy("plural", "诉求主题")
        ordering = ("month", "station", "rank")
        indexes = [
            models.Index(fields=("month", "station", "rank"), name="radar_theme_rank_idx"),
        ]

    def __str__(self) -> str:
        return self.term


class ThemeItem(models.Model):
    """One text behind a theme (at most ``compute.ITEMS_PER_THEME`` per theme): the source's
    code and the row's key; the page asks the source for what the reader may see."""

    theme = models.ForeignKey(
        Theme, on_delete=models.CASCADE, related_name="items", verbose_name=_("主题")
    )
    source = models.CharField(_("来源"), max_length=40)
    object_id = models.BigIntegerField(_("对象编号"))

    class Meta:
        verbose_name = _("主题条目")
        verbose_name_plural = pgettext_lazy("plural", "主题条目")
        constraints = [
            models.UniqueConstraint(
                fields=("theme", "source", "object_id"), name="radar_themeitem_once"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source}#{self.object_id}"


class UnmetDemand(models.Model):
    """Something people asked for at a station that it does not offer: a catalogue service of
    another station named in their texts, or a search on the site that found nothing."""

    month = models.DateField(_("月份"))
    station = scope_station()
    term = models.CharField(_("诉求"), max_length=MAX_TERM)
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("对应服务事项"),
        help_text=_("目录中有、但本站不办理的事项；为空表示目录里没有。"),
    )
    rank = models.PositiveSmallIntegerField(_("排名"))
    mentions = models.PositiveIntegerField(_("文本提及数"))
    searches = models.PositiveIntegerField(_("无结果搜索数"))
    total = models.PositiveIntegerField(_("合计"))
    sources = models.JSONField(_("来源分布"), default=dict)

    class Meta:
        verbose_name = _("未满足需求")
        verbose_name_plural = pgettext_lazy("plural", "未满足需求")
        ordering = ("month", "station", "rank")
        indexes = [
            models.Index(fields=("month", "station", "rank"), name="radar_unmet_rank_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.month:%Y-%m} · {self.term} · {self.total}"


class SearchMiss(models.Model):
    """Searches of the service catalogue that found nothing, counted per day and term (the
    term normalised: trimmed, lower-cased, inner spaces collapsed). No person is recorded."""

    day = models.DateField(_("日期"))
    station = scope_station()
    term = models.CharField(_("搜索词"), max_length=MAX_TERM)
    count = models.PositiveIntegerField(_("次数"), default=0)

    class Meta:
        verbose_name = _("无结果搜索")
        verbose_name_plural = pgettext_lazy("plural", "无结果搜索")
        constraints = [
            # One row per day, station (or none) and term; COALESCE so "no station" is a value.
            models.UniqueConstraint(
                "day",
                Coalesce("station", 0),
                "term",
                name="radar_searchmiss_once",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.day} · {self.term} · {self.count}"
