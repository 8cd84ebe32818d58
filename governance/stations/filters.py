from __future__ import annotations

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from governance.stakeholders.models import Organisation
from governance.stations import queries
from governance.stations.models import Channel, Service, Station


class StationFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        field_name="departments",
        to_field_name="slug",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT),
        label=_("入驻部门（标识）"),
    )
    host = django_filters.ModelChoiceFilter(
        field_name="host",
        to_field_name="slug",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.PARTNER),
        label=_("场地提供方（标识）"),
    )
    q = django_filters.CharFilter(method="filter_q", label=_("名称或地址包含"), max_length=100)

    class Meta:
        model = Station
        fields = ("department", "host", "q")

    def filter_q(self, queryset, name, value):
        for word in value.split()[:8]:
            queryset = queryset.filter(
                Q(name_zh__icontains=word)
                | Q(name_en__icontains=word)
                | Q(address_zh__icontains=word)
                | Q(address_en__icontains=word)
            )
        return queryset


class ServiceFilter(django_filters.FilterSet):
    department = django_filters.ModelChoiceFilter(
        field_name="department",
        to_field_name="slug",
        queryset=Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT),
        label=_("主管部门（标识）"),
    )
    station = django_filters.ModelChoiceFilter(
        field_name="stations",
        to_field_name="slug",
        queryset=Station.objects.filter(is_active=True),
        label=_("站点（标识）"),
    )
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("办理渠道"))
    q = django_filters.CharFilter(method="filter_q", label=_("关键词"), max_length=100)

    class Meta:
        model = Service
        fields = ("department", "station", "channel", "q")

    def filter_q(self, queryset, name, value):
        return queries.search_services(queryset, value)
