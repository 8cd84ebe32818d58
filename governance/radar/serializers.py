"""Input and output serializers of the radar API (output ones are plain ``Serializer``s that
read the dataclasses and stored rows ``queries`` returns)."""

from __future__ import annotations

import datetime as dt

from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.core.api import RowUrlField
from governance.radar import queries, registry
from governance.radar.models import Run

MONTH_PATTERN = r"^[0-9]{4}-(0[1-9]|1[0-2])$"
MONTH_HELP = _("月份，格式 YYYY-MM（2000 年至明年）。")


def month_text(month: dt.date | None) -> str | None:
    return None if month is None else f"{month:%Y-%m}"


@extend_schema_field({"type": "string", "pattern": MONTH_PATTERN, "example": "2026-11"})
class MonthField(serializers.Field):
    """A calendar month as ``YYYY-MM``: in, a ``date`` (its first day); out, the text."""

    default_error_messages = {
        "invalid": _("月份格式应为 YYYY-MM，且在 %(first)d 年至 %(last)d 年之间。"),
        "blank": _("不能为空。"),
    }

    def to_internal_value(self, data) -> dt.date:
        if data == "" or data is None:
            self.fail("blank")
        try:
            return queries.parse_month(data)
        except ValueError:
            raise serializers.ValidationError(
                self.error_messages["invalid"]
                % {"first": queries.MIN_YEAR, "last": queries.max_year()},
                code="invalid",
            ) from None

    def to_representation(self, value: dt.date) -> str:
        return month_text(value)


class _Query(serializers.Serializer):
    """A blank parameter is an error, not an absent one (DRF would read it so)."""

    def to_internal_value(self, data):
        blank = {name: [_("不能为空。")] for name in self.fields if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)


def _period(**kwargs) -> MonthField:
    return MonthField(
        required=False,
        help_text=_("月份，格式 YYYY-MM；省略时为最近一个已计算的月份。"),
        **kwargs,
    )


def _station(required: bool = False) -> serializers.CharField:
    help_text = _("站点标识（slug）；未知的站点返回 404。")
    if not required:
        help_text = _("站点标识（slug），省略时为全部站点；未知的站点返回 404。")
    return serializers.CharField(required=required, max_length=64, help_text=help_text)


class RadarHeatmapQuerySerializer(_Query):
    station = _station(required=True)
    period = _period()
    compare = MonthField(
        required=False, help_text=_("对比的月份，格式 YYYY-MM；给出时返回逐格的变化。")
    )


class RadarReasonsQuerySerializer(_Query):
    period = _period()
    station = _station()
    service = serializers.CharField(
        required=False, max_length=64, help_text=_("服务事项编码；未知的编码返回 404。")
    )
    department = serializers.CharField(
        required=False, max_length=64, help_text=_("部门标识（slug）；未知的部门返回 404。")
    )
    months = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=queries.MAX_REASON_MONTHS,
        default=queries.REASON_MONTHS,
        help_text=_("趋势包含的月数（含本月），默认 6。"),
    )


class RadarScopeQuerySerializer(_Query):
    period = _period()
    station = _station()


# Output ------------------------------------------------------------------------------------
class RadarStationSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class RadarServiceSerializer(serializers.Serializer):
    service_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    url = RowUrlField("api:service-detail", "service_code")


class RadarDepartmentSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)


class RadarCellSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(
        read_only=True, min_value=0, max_value=6, help_text=_("0 为星期一。")
    )
    hour = serializers.IntegerField(read_only=True, min_value=0, max_value=23)
    visits = serializers.IntegerField(read_only=True)
    called = serializers.IntegerField(read_only=True)
    queue_minutes = serializers.FloatField(
        read_only=True, help_text=_("落在这一小时里的等候分钟，无论几点取的号。")
    )
    queue = serializers.FloatField(
        read_only=True,
        help_text=_("该小时平均排队人数（利特尔定律：落在该小时的等候分钟 ÷ 该小时的总分钟）。"),
    )
    mean_wait = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text=_("这一小时取号的人的平均等候分钟；无人被叫号时为空。"),
    )
    max_wait = serializers.FloatField(read_only=True, help_text=_("最长等候分钟。"))
    days = serializers.IntegerField(
        read_only=True, help_text=_("计算时本月已过去的这个星期几的天数。")
    )


class RadarServiceLoadSerializer(serializers.Serializer):
    service = RadarServiceSerializer(read_only=True)
    visits = serializers.IntegerField(read_only=True)
    called = serializers.IntegerField(read_only=True)
    wait_minutes = serializers.FloatField(
        read_only=True, help_text=_("这些小时里取号的人的等候总分钟。")
    )
    queue_minutes = serializers.FloatField(
        read_only=True, help_text=_("落在这些小时里的等候分钟。")
    )
    mean_wait = serializers.FloatField(read_only=True, allow_null=True)
    max_wait = serializers.FloatField(read_only=True)
    share = serializers.FloatField(
        read_only=True, help_text=_("占落在这些小时里的等候分钟的比例，0 到 1。")
    )


class RadarPeakSerializer(serializers.Serializer):
    label = serializers.CharField(read_only=True, help_text=_("如“星期六 14:00–15:00”。"))
    cell = RadarCellSerializer(read_only=True)
    services = RadarServiceLoadSerializer(
        many=True, read_only=True, help_text=_("造成等候最多的服务事项（最多 3 个）。")
    )


class RadarDeltaSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(read_only=True, min_value=0, max_value=6)
    hour = serializers.IntegerField(read_only=True, min_value=0, max_value=23)
    visits = serializers.IntegerField(read_only=True)
    queue = serializers.FloatField(read_only=True)
    mean_wait = serializers.FloatField(read_only=True, allow_null=True)


def _busy(cell) -> bool:
    """A cell worth listing: tickets were taken in it, or people were waiting in it."""
    return bool(cell.visits or cell.queue_minutes)


def _busy_cells(grid) -> list:
    return [cell for row in grid for cell in row if _busy(cell)]


class RadarComparisonSerializer(serializers.Serializer):
    period = serializers.SerializerMethodField()
    empty = serializers.BooleanField(source="compare_empty", read_only=True)
    cells = serializers.SerializerMethodField()
    peaks = RadarPeakSerializer(source="compare_peaks", many=True, read_only=True)
    services = RadarServiceLoadSerializer(source="compare_services", many=True, read_only=True)
    deltas = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "pattern": MONTH_PATTERN})
    def get_period(self, heat) -> str:
        return month_text(heat.compare)

    @extend_schema_field(RadarCellSerializer(many=True))
    def get_cells(self, heat):
        return RadarCellSerializer(_busy_cells(heat.compare_grid), many=True).data

    @extend_schema_field(RadarDeltaSerializer(many=True))
    def get_deltas(self, heat):
        """The cells with visits or waiting in either month."""
        rows = [
            heat.deltas[day][hour]
            for day in range(7)
            for hour in range(24)
            if _busy(heat.grid[day][hour]) or _busy(heat.compare_grid[day][hour])
        ]
        return RadarDeltaSerializer(rows, many=True).data


class RadarHeatmapOutputSerializer(serializers.Serializer):
    station = RadarStationSerializer(read_only=True)
    period = MonthField(source="month", read_only=True)
    computed = serializers.BooleanField(
        read_only=True, help_text=_("该月是否已计算完成；未计算的月份 empty 为 true。")
    )
    empty = serializers.BooleanField(read_only=True, help_text=_("该站点该月没有办件数据。"))
    hours = serializers.ListField(
        child=serializers.IntegerField(min_value=0, max_value=23),
        read_only=True,
        help_text=_("有数据的第一个到最后一个小时（连续）。"),
    )
    cells = serializers.SerializerMethodField()
    peaks = RadarPeakSerializer(many=True, read_only=True, help_text=_("平均排队最长的 5 个时段。"))
    services = RadarServiceLoadSerializer(
        many=True, read_only=True, help_text=_("按等候总分钟排序的服务事项。")
    )
    comparison = serializers.SerializerMethodField()

    @extend_schema_field(RadarCellSerializer(many=True))
    def get_cells(self, heat):
        """The weekday × hour cells that had visits (the others are all zero)."""
        return RadarCellSerializer(_busy_cells(heat.grid), many=True).data

    @extend_schema_field(RadarComparisonSerializer(allow_null=True))
    def get_comparison(self, heat):
        if heat.compare is None:
            return None
        return RadarComparisonSerializer(heat, context=self.context).data


class RadarReasonSerializer(serializers.Serializer):
    source = serializers.CharField(read_only=True, help_text=_("原因来源代码。"))
    source_label = serializers.CharField(read_only=True)
    reason = serializers.CharField(read_only=True, help_text=_("原因代码。"))
    label = serializers.CharField(read_only=True)
    count = serializers.IntegerField(read_only=True, help_text=_("本月次数。"))
    last = serializers.IntegerField(read_only=True, help_text=_("上月次数。"))
    change = serializers.IntegerField(read_only=True)
    series = serializers.ListField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=_("每月次数，由远及近，与 months 对应。"),
    )
    items_url = serializers.CharField(read_only=True, help_text=_("列出这些条目的页面；可能为空。"))


class RadarReasonsOutputSerializer(serializers.Serializer):
    period = MonthField(source="month", read_only=True)
    months = serializers.ListField(child=MonthField(), read_only=True)
    computed = serializers.BooleanField(read_only=True)
    empty = serializers.BooleanField(read_only=True, help_text=_("本月在此范围内没有原因记录。"))
    station = RadarStationSerializer(read_only=True, allow_null=True)
    service = RadarServiceSerializer(read_only=True, allow_null=True)
    department = RadarDepartmentSerializer(read_only=True, allow_null=True)
    total = serializers.IntegerField(read_only=True)
    reasons = RadarReasonSerializer(source="rows", many=True, read_only=True)


class RadarThemeSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    term = serializers.CharField(read_only=True)
    rank = serializers.IntegerField(read_only=True)
    count = serializers.IntegerField(read_only=True, help_text=_("本月提到的文本数。"))
    baseline = serializers.FloatField(read_only=True, help_text=_("前三个月的月均文本数。"))
    score = serializers.FloatField(
        read_only=True,
        help_text=_("增长显著性：本月比前三个月月均高出几个标准差（按泊松计数）；排名依据。"),
    )
    growth = serializers.FloatField(
        read_only=True, help_text=_("本月 ÷ 前三个月月均（至少按 1 计）。")
    )
    sources = serializers.DictField(
        child=serializers.IntegerField(),
        read_only=True,
        help_text=_("来源代码 → 本月提到的文本数。"),
    )
    items_url = serializers.SerializerMethodField()

    def get_items_url(self, theme) -> str:
        path = reverse("api:radar-theme-items", kwargs={"theme_id": theme.pk})
        request = self.context.get("request")
        return request.build_absolute_uri(path) if request is not None else path


class RadarThemesOutputSerializer(serializers.Serializer):
    period = MonthField(source="month", read_only=True)
    computed = serializers.BooleanField(read_only=True)
    empty = serializers.BooleanField(read_only=True)
    station = RadarStationSerializer(read_only=True, allow_null=True)
    themes = RadarThemeSerializer(many=True, read_only=True)


class RadarItemSerializer(serializers.Serializer):
    source = serializers.CharField(read_only=True)
    source_label = serializers.SerializerMethodField()
    object_id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, help_text=_("条目页面的路径。"))
    created_at = serializers.DateTimeField(read_only=True, allow_null=True)

    def get_source_label(self, item) -> str:
        try:
            return str(registry.text_source(item.source).label)
        except registry.UnknownSource:
            return item.source


class RadarThemeItemsOutputSerializer(serializers.Serializer):
    theme = RadarThemeSerializer(read_only=True)
    period = serializers.SerializerMethodField()
    station = RadarStationSerializer(source="theme.station", read_only=True, allow_null=True)
    items = RadarItemSerializer(
        many=True, read_only=True, help_text=_("调用者有权阅读的条目，新的在前。")
    )

    @extend_schema_field({"type": "string", "pattern": MONTH_PATTERN})
    def get_period(self, body) -> str:
        return month_text(body["theme"].month)


class RadarUnmetSerializer(serializers.Serializer):
    term = serializers.CharField(read_only=True)
    rank = serializers.IntegerField(read_only=True)
    service = RadarServiceSerializer(
        read_only=True,
        allow_null=True,
        help_text=_("目录中有、但本站不办理的事项；为空表示目录里没有。"),
    )
    mentions = serializers.IntegerField(read_only=True, help_text=_("文本提及数。"))
    searches = serializers.IntegerField(read_only=True, help_text=_("无结果搜索数。"))
    total = serializers.IntegerField(read_only=True)
    sources = serializers.DictField(child=serializers.IntegerField(), read_only=True)


class RadarUnmetOutputSerializer(serializers.Serializer):
    period = MonthField(source="month", read_only=True)
    computed = serializers.BooleanField(read_only=True)
    empty = serializers.BooleanField(read_only=True)
    station = RadarStationSerializer(read_only=True, allow_null=True)
    unmet = RadarUnmetSerializer(many=True, read_only=True)


class RadarRunSerializer(serializers.Serializer):
    period = MonthField(source="month", read_only=True)
    status = serializers.ChoiceField(choices=Run.Status.choices, read_only=True)
    started_at = serializers.DateTimeField(read_only=True)
    finished_at = serializers.DateTimeField(read_only=True, allow_null=True)
    done_at = serializers.DateTimeField(
        read_only=True,
        allow_null=True,
        help_text=_("该月结果最近一次计算成功的时间；为空表示从未算成。"),
    )
    through = serializers.DateField(
        read_only=True,
        allow_null=True,
        help_text=_("数据截至的日期：当月未过完时，只按已过去的天数计算平均值。"),
    )
    visits = serializers.IntegerField(read_only=True)
    texts = serializers.IntegerField(read_only=True)
    reasons = serializers.IntegerField(read_only=True)
    searches = serializers.IntegerField(read_only=True)
    seconds = serializers.FloatField(read_only=True)
    peak_memory_mb = serializers.FloatField(read_only=True)
