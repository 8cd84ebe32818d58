"""KPI rows for the API and open-data tests: indicators, targets and daily measurements."""

from __future__ import annotations

import datetime as dt

from governance.kpis.models import Indicator, Measurement, Target, Visibility


def indicator(code, *, metric="stations.visits", owners=(), visibility=Visibility.PUBLIC, **extra):
    values = {
        "kind": Indicator.Kind.METRIC,
        "metric": metric,
        "name_zh": f"指标 {code}",
        "name_en": f"Indicator {code}",
        "description_zh": "说明",
        "description_en": "How it is computed",
        "visibility": visibility,
        **extra,
    }
    if values["kind"] == Indicator.Kind.REPORTED:
        values["metric"] = ""
    made = Indicator.objects.create(code=code, **values)
    made.owners.set(owners)
    return made


def daily(metric, first: dt.date, days: int, value=10.0, weight=0.0, **scope):
    return Measurement.objects.bulk_create(
        Measurement(
            metric=metric,
            day=first + dt.timedelta(days=offset),
            value=value,
            weight=weight,
            **scope,
        )
        for offset in range(days)
    )


def monthly_target(made, start: dt.date, green: float, amber: float, **scope):
    return Target.objects.create(
        indicator=made, period="month", period_start=start, green=green, amber=amber, **scope
    )
