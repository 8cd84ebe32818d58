"""Input and output serializers of the KPI API (output ones are plain ``Serializer``s)."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

from governance.core.api import RowUrlField
from governance.kpis import queries
from governance.kpis.models import Indicator, Light, Period, Visibility
from governance.kpis.registry import Dimension, Scope
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station
from governance.stations.serializers import OrganisationRefSerializer


class IndicatorOutputSerializer(serializers.Serializer):
    code = serializers.SlugField(read_only=True)
    kind = serializers.ChoiceField(choices=Indicator.Kind.choices, read_only=True)
    metric = serializers.CharField(read_only=True, help_text=_("系统计算的指标代码；填报的为空。"))
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    description_zh = serializers.CharField(read_only=True)
    description_en = serializers.CharField(read_only=True)
    unit = serializers.SerializerMethodField()
    higher_is_better = serializers.BooleanField(source="is_higher_better", read_only=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, read_only=True)
    owners = OrganisationRefSerializer(many=True, read_only=True)
    url = RowUrlField("api:kpi-detail", "code")

    def get_unit(self, indicator: Indicator) -> str:
        return queries.indicator_unit(indicator)


class TargetOutputSerializer(serializers.Serializer):
    green = serializers.FloatField(read_only=True)
    amber = serializers.FloatField(read_only=True)


class PeriodValueSerializer(serializers.Serializer):
    start = serializers.DateField(read_only=True)
    end = serializers.DateField(read_only=True)
    value = serializers.FloatField(read_only=True, allow_null=True)
    target = TargetOutputSerializer(read_only=True, allow_null=True)
    light = serializers.ChoiceField(choices=Light.choices, read_only=True, allow_null=True)


class ScopeOutputSerializer(serializers.Serializer):
    dimension = serializers.ChoiceField(
        choices=[(dimension.value, dimension.value) for dimension in Dimension],
        read_only=True,
        allow_null=True,
    )
    key = serializers.CharField(read_only=True, allow_null=True)


class MeasurementsOutputSerializer(serializers.Serializer):
    indicator = serializers.SlugField(read_only=True)
    period = serializers.ChoiceField(choices=Period.choices, read_only=True)
    scope = ScopeOutputSerializer(read_only=True)
    periods = PeriodValueSerializer(many=True, read_only=True)


def _bounded_date(**kwargs) -> serializers.DateField:
    return serializers.DateField(required=False, **kwargs)


class MeasurementsQuerySerializer(serializers.Serializer):
    """``?period=&from=&to=`` and at most one of ``station``, ``service``, ``department``."""

    period = serializers.ChoiceField(choices=Period.choices, default=Period.MONTH)
    to = _bounded_date(help_text=_("最后一个周期内的任一天，默认今天。"))
    station = serializers.SlugField(required=False, max_length=64, help_text=_("站点标识"))
    service = serializers.RegexField(
        r"^[A-Za-z0-9\-]+$", required=False, max_length=64, help_text=_("服务事项编码")
    )
    department = serializers.SlugField(required=False, max_length=64, help_text=_("部门标识"))

    def get_fields(self):
        fields = super().get_fields()
        # "from" is a Python keyword, so it cannot be declared as a class attribute.
        fields["from"] = _bounded_date(help_text=_("第一个周期内的任一天，默认往前 12 个周期。"))
        return fields

    def to_internal_value(self, data):
        # A blank parameter would otherwise count as an absent one (DRF reads form input so).
        blank = {name: [_("不能为空。")] for name in self.fields if data.get(name) == ""}
        if blank:
            raise serializers.ValidationError(blank)
        return super().to_internal_value(data)

    def validate(self, attrs):
        kind = attrs["period"]
        last = attrs.get("to") or queries.local_today()
        first = attrs.get("from") or queries.periods_back(kind, last, 12)
        for name, day in (("from", first), ("to", last)):
            if not queries.FIRST_YEAR <= day.year <= queries.LAST_YEAR:
                raise serializers.ValidationError(
                    {
                        name: _("日期必须在 %(first)d 年至 %(last)d 年之间。")
                        % {"first": queries.FIRST_YEAR, "last": queries.LAST_YEAR}
                    }
                )
        if first > last:
            raise serializers.ValidationError({"from": _("开始日期不能晚于结束日期。")})
        if len(queries.periods_between(kind, first, last)) > queries.MAX_PERIODS:
            raise serializers.ValidationError(
                {"to": _("一次最多查询 %(count)d 个周期。") % {"count": queries.MAX_PERIODS}}
            )
        named = [name for name in ("station", "service", "department") if attrs.get(name)]
        if len(named) > 1:
            raise serializers.ValidationError({named[1]: _("站点、服务事项和部门一次只能选一个。")})
        attrs["first"], attrs["last"] = first, last
        attrs["scope"], attrs["scope_key"] = self._scope(named[0] if named else None, attrs)
        return attrs

    def _scope(self, name: str | None, attrs) -> tuple[Scope, str | None]:
        if name is None:
            return Scope(), None
        key = attrs[name]
        if name == "station":
            pk = Station.objects.filter(slug=key).values_list("pk", flat=True).first()
        elif name == "service":
            pk = Service.objects.filter(service_code=key).values_list("pk", flat=True).first()
        else:
            pk = (
                Organisation.objects.filter(slug=key, kind=Organisation.Kind.DEPARTMENT)
                .values_list("pk", flat=True)
                .first()
            )
        if pk is None:
            raise serializers.ValidationError({name: _("没有这个标识或编码。")})
        indicator = self.context["indicator"]
        if name not in queries.indicator_dimensions(indicator):
            raise serializers.ValidationError({name: _("这个指标不能按此维度细分。")})
        return Scope.of(name, pk), key
