"""The three baselines every benchmark figure is read against (served by the same processes,
through the same middleware, as the real endpoints)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bench.models import BaselineRow
from governance.stations.models import OpeningHours, Service, Station


@require_GET
def bare(request):
    """(a) A constant small JSON body: the cost of the stack itself."""
    return JsonResponse({"status": "ok", "service": "gongzhi"})


@require_GET
def values(request):
    """(b) for the service list: its first page's rows, hand-written with .values()."""
    rows = list(
        Service.objects.filter(is_active=True, department__is_active=True)
        .order_by("department__name_zh", "service_code")
        .values(
            "service_code",
            "name_zh",
            "name_en",
            "channel",
            "target_minutes",
            "department__slug",
            "department__name_zh",
        )[:20]
    )
    return JsonResponse({"count": len(rows), "results": rows})


@require_GET
def station_values(request):
    """(b) for the station list: the same rows (stations, their hours and departments)."""
    stations = list(
        Station.objects.filter(is_active=True)
        .order_by("name_zh", "pk")
        .values("id", "slug", "name_zh", "name_en", "address_zh", "latitude", "longitude", "phone")[
            :20
        ]
    )
    ids = [station["id"] for station in stations]
    hours: dict[int, list] = {}
    for row in OpeningHours.objects.filter(station_id__in=ids).values(
        "station_id", "weekday", "opens", "closes"
    ):
        hours.setdefault(row.pop("station_id"), []).append(row)
    departments: dict[int, list] = {}
    for row in Station.departments.through.objects.filter(station_id__in=ids).values(
        "station_id", "organisation__slug", "organisation__name_zh"
    ):
        departments.setdefault(row.pop("station_id"), []).append(row)
    for station in stations:
        station["opening_hours"] = hours.get(station["id"], [])
        station["departments"] = departments.get(station["id"], [])
    return JsonResponse({"count": len(stations), "results": stations})


@csrf_exempt
@require_POST
def insert(request):
    """(c) Insert one row and answer 201."""
    row = BaselineRow.objects.create(label="baseline", value=len(request.body))
    return JsonResponse({"id": row.pk}, status=201)
