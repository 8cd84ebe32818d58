"""The radar page's query string: which station, which month, which month to compare with, and
(for the reasons only) which department and service.

Every field is optional: a blank station is the first station, a blank month the latest month
computed. A value that names nothing (an unknown station, ``2026-13``, a month before 2000) is a
form error, and the page answers 400 with the form and its errors, never a 500.
"""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from governance.radar import queries
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station

# The station choice that means every station together (not a slug: slugs have no "*").
ALL_STATIONS = "*"
MONTH_HELP = _("格式：年-月，如 2026-11。")


class MonthInput(forms.TextInput):
    input_type = "month"

    def __init__(self, attrs=None):
        super().__init__({"maxlength": 7, "placeholder": "2026-11", **(attrs or {})})


class MonthField(forms.CharField):
    """A calendar month written ``YYYY-MM``; cleans to the month's first day (or None)."""

    widget = MonthInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", MONTH_HELP)
        super().__init__(**kwargs)

    def to_python(self, value) -> dt.date | None:
        value = super().to_python(value)
        if not value:
            return None
        try:
            return queries.parse_month(value)
        except ValueError:
            raise ValidationError(
                _("请按“年-月”填写月份，如 2026-11；年份须在 %(first)s 至 %(last)s 之间。"),
                code="invalid",
                params={"first": queries.MIN_YEAR, "last": queries.max_year()},
            ) from None

    def prepare_value(self, value):
        if isinstance(value, dt.date):
            return f"{value:%Y-%m}"
        return value


class RadarQuery(forms.Form):
    station = forms.ChoiceField(label=_("站点"), required=False)
    month = MonthField(label=_("月份"))
    compare = MonthField(
        label=_("对比月份"),
        help_text=_("可选：与另一个月的排队情况比较。格式：年-月。"),
    )
    department = forms.ChoiceField(
        label=_("部门"), required=False, help_text=_("可选：只看该部门的不满意原因。")
    )
    service = forms.ChoiceField(
        label=_("服务事项"), required=False, help_text=_("可选：只看该事项的不满意原因。")
    )

    def __init__(self, *args, stations, default_month: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.stations = {station.slug: station for station in stations}
        self.default_month = default_month
        self.fields["station"].choices = [
            *((slug, station.name) for slug, station in self.stations.items()),
            (ALL_STATIONS, _("全部站点")),
        ]
        departments = Organisation.objects.filter(
            kind=Organisation.Kind.DEPARTMENT, is_active=True
        ).order_by("name_zh", "pk")
        self.departments = {
            department.slug: department
            for department in departments.only("pk", "slug", "name_zh", "name_en")
        }
        self.fields["department"].choices = [
            ("", _("全部部门")),
            *((slug, department.name) for slug, department in self.departments.items()),
        ]
        services = Service.objects.filter(is_active=True).order_by("name_zh", "pk")
        self.services = {
            service.service_code: service
            for service in services.only("pk", "service_code", "name_zh", "name_en")
        }
        self.fields["service"].choices = [
            ("", _("全部服务事项")),
            *((code, service.name) for code, service in self.services.items()),
        ]

    def clean(self):
        data = super().clean()
        slug = data.get("station") or ""
        data["all_stations"] = slug == ALL_STATIONS
        station: Station | None = None
        if slug and slug != ALL_STATIONS:
            station = self.stations[slug]  # ChoiceField has already refused unknown slugs
        elif not slug and self.stations:
            station = next(iter(self.stations.values()))
        data["station"] = station
        if "month" in data and data["month"] is None:
            data["month"] = self.default_month
        month, compare = data.get("month"), data.get("compare")
        if month and compare and month == compare:
            self.add_error("compare", _("对比月份须与所看月份不同。"))
        data["department"] = self.departments.get(data.get("department") or "")
        data["service"] = self.services.get(data.get("service") or "")
        return data
