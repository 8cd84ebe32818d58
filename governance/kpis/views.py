"""Open data: each KPI the visitor may see, with its definition and monthly values, as a file.

``/kpis/<code>.csv`` (UTF-8 with a byte-order mark, so Excel opens the Chinese names right) and
``/kpis/<code>.json``. Both read the same rows as the API's ``measurements`` action.
"""

from __future__ import annotations

import csv
import datetime as dt
import json

from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse
from django.views.decorators.http import require_safe

from governance.kpis import queries
from governance.kpis.models import Indicator, Period

# Months of history in a download, up to the current month.
OPEN_DATA_MONTHS = 36
CSV_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "unit",
    "direction",
    "owners",
    "period",
    "period_start",
    "period_end",
    "value",
    "target_green",
    "target_amber",
    "light",
)


def _indicator(request, code: str) -> Indicator:
    indicator = queries.indicators_visible_to(request.user).filter(code=code).first()
    if indicator is None:
        raise Http404
    return indicator


def open_data(indicator: Indicator, today: dt.date) -> dict:
    """The definition and the monthly values of ``indicator``, as plain data."""
    first = queries.periods_back(Period.MONTH, today, OPEN_DATA_MONTHS)
    values = queries.indicator_values(
        indicator, kind=Period.MONTH, first=first, last=today, today=today
    )
    return {
        "code": indicator.code,
        "kind": indicator.kind,
        "metric": indicator.metric,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "description_zh": indicator.description_zh,
        "description_en": indicator.description_en,
        "unit": queries.indicator_unit(indicator),
        "direction": "higher_is_better" if indicator.is_higher_better else "lower_is_better",
        "visibility": indicator.visibility,
        "owners": [
            {"slug": owner.slug, "name_zh": owner.name_zh, "name_en": owner.name_en}
            for owner in indicator.owners.all()
        ],
        "period": Period.MONTH.value,
        "measurements": [
            {
                "start": row.start,
                "end": row.end,
                "value": row.value,
                "target": (
                    {"green": row.target.green, "amber": row.target.amber} if row.target else None
                ),
                "light": row.light.value if row.light else None,
            }
            for row in values
            if row.value is not None or row.target is not None
        ],
    }


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def indicator_csv(request, code: str) -> HttpResponse:
    data = open_data(_indicator(request, code), queries.local_today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    owners = ";".join(owner["slug"] for owner in data["owners"])
    for row in data["measurements"]:
        target = row["target"] or {}
        writer.writerow(
            (
                data["code"],
                data["name_zh"],
                data["name_en"],
                data["unit"],
                data["direction"],
                owners,
                data["period"],
                row["start"].isoformat(),
                row["end"].isoformat(),
                "" if row["value"] is None else repr(row["value"]),
                target.get("green", ""),
                target.get("amber", ""),
                row["light"] or "",
            )
        )
    return _attachment(response, f"{data['code']}.csv")


@require_safe
def indicator_json(request, code: str) -> HttpResponse:
    data = open_data(_indicator(request, code), queries.local_today())
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _attachment(response, f"{data['code']}.json")
