"""Forms of the KPI pages: a target, a reported figure, a review, and the detail page's query."""

from __future__ import annotations

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.kpis import queries, registry
from governance.kpis.models import Indicator, Period
from governance.kpis.registry import Dimension, Scope
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station

PLATFORM = ""


def scope_choices(dimensions) -> list:
    """The whole platform, then one group per dimension the indicator can be cut by."""
    choices: list = [(PLATFORM, _("全平台"))]
    groups = (
        (Dimension.STATION, _("站点"), Station.objects.filter(is_active=True)),
        (
            Dimension.DEPARTMENT,
            _("部门"),
            Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT, is_active=True),
        ),
        (
            Dimension.PARTNER,
            _("企业伙伴"),
            Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True),
        ),
        (Dimension.SERVICE, _("服务事项"), Service.objects.filter(is_active=True)),
    )
    for dimension, label, places in groups:
        if dimension in dimensions:
            options = [
                (f"{dimension}:{place.pk}", place.name)
                for place in places.order_by("name_zh", "pk").only("pk", "name_zh", "name_en")
            ]
            if options:
                choices.append((label, options))
    return choices


def parse_scope(value: str) -> Scope:
    if not value:
        return Scope()
    dimension, _sep, key = value.partition(":")
    return Scope.of(dimension, int(key))


class PeriodFields(forms.Form):
    """A period chosen by its kind and any day in it (the form keeps the period's first day)."""

    period = forms.ChoiceField(label=_("周期"), choices=Period.choices, initial=Period.MONTH)
    period_start = forms.DateField(
        label=_("周期内任一天"),
        help_text=_("如 2026-10-01；按月、季度或年度取其第一天。"),
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    scope = forms.ChoiceField(label=_("范围"), required=False)

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.fields["scope"].choices = scope_choices(queries.indicator_dimensions(indicator))

    def clean(self):
        data = super().clean()
        if data.get("period") and data.get("period_start"):
            start = queries.period_start(data["period"], data["period_start"])
            if not queries.FIRST_YEAR <= start.year <= queries.LAST_YEAR:
                self.add_error("period_start", _("年份须在 2000 至 2100 之间。"))
            data["period_start"] = start
        data["scope"] = parse_scope(data.get("scope") or "")
        return data

    def add_service_error(self, error: ValidationError) -> None:
        """Put a service's errors on the fields they name, the rest above the form."""
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                self.add_error(field if field in self.fields else None, errors)
        else:
            self.add_error(None, error)


class TargetForm(PeriodFields):
    green = forms.FloatField(label=_("绿灯阈值"))
    amber = forms.FloatField(label=_("黄灯阈值"))

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, indicator=indicator, **kwargs)
        if indicator.is_higher_better:
            self.fields["green"].help_text = _("达到或高于此值为绿灯。")
            self.fields["amber"].help_text = _("达到或高于此值为黄灯，低于为红灯。")
        else:
            self.fields["green"].help_text = _("不超过此值为绿灯。")
            self.fields["amber"].help_text = _("不超过此值为黄灯，超过为红灯。")


class FigureForm(PeriodFields):
    value = forms.FloatField(label=_("数值"))

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, indicator=indicator, **kwargs)
        if indicator.unit:
            self.fields["value"].help_text = _("单位：%(unit)s") % {"unit": indicator.unit}


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("审核结果"),
        choices=(("approve", _("通过")), ("reject", _("退回"))),
        widget=forms.RadioSelect,
    )
    note = forms.CharField(
        label=_("审核意见"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("退回时必填。"),
    )


class DetailQuery(forms.Form):
    """The indicator page's query string: the period kind, the period shown, the breakdown."""

    period = forms.ChoiceField(choices=Period.choices, required=False)
    start = forms.DateField(required=False)
    by = forms.ChoiceField(
        choices=[(dimension.value, dimension.value) for dimension in registry.Dimension],
        required=False,
    )

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.dimensions = [
            dimension
            for dimension in registry.Dimension
            if dimension in queries.indicator_dimensions(indicator)
        ]

    def clean_start(self):
        start = self.cleaned_data.get("start")
        if start is not None and not queries.FIRST_YEAR <= start.year <= queries.LAST_YEAR:
            raise ValidationError(_("年份须在 2000 至 2100 之间。"))
        return start

    def clean_by(self):
        by = self.cleaned_data.get("by")
        if by and by not in self.dimensions:
            raise ValidationError(_("该指标不能按这个维度细分。"))
        return by or (self.dimensions[0].value if self.dimensions else "")
