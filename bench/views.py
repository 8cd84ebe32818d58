"""The three baselines every benchmark figure is read against (served by the same processes,
through the same middleware, as the real endpoints)."""

from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from bench.models import BaselineRow
from governance.stations.models import Service


@require_GET
def bare(request):
    """(a) A constant small JSON body: the cost of the stack itself."""
    return JsonResponse({"status": "ok", "service": "gongzhi"})


@require_GET
def values(request):
    """(b) The rows of the first page of /api/v1/services/, hand-written with .values()."""
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


@csrf_exempt
@require_POST
def insert(request):
    """(c) Insert one row and answer 201."""
    row = BaselineRow.objects.create(label="baseline", value=len(request.body))
    return JsonResponse({"id": row.pk}, status=201)
