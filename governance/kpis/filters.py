from __future__ import annotations

import django_filters
from django.utils.translation import gettext_lazy as _

from governance.kpis import registry
from governance.kpis.models import Indicator, Visibility
from governance.stakeholders.models import Organisation


def metric_choices():
    return [(metric.code, metric.code) for metric in registry.all_metrics()]


class IndicatorFilter(django_filters.FilterSet):
    visibility = django_filters.ChoiceFilter(choices=Visibility.choices, label=_("可见范围"))
    owner = django_filters.ModelChoiceFilter(
        field_name="owners",
        to_field_name="slug",
        queryset=Organisation.objects.all(),
        label=_("共有方（组织标识）"),
    )
    metric = django_filters.ChoiceFilter(choices=metric_choices, label=_("指标代码"))

    class Meta:
        model = Indicator
        fields = ("visibility", "owner", "metric")
