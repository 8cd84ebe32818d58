from __future__ import annotations

from django.http import JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe

from governance.core import health


@never_cache
@require_safe
def healthz(request):
    """200 when the database and the broker answer, 503 otherwise; JSON either way."""
    database = health.check_database()
    broker = health.check_broker()
    ok = database.ok and broker.ok
    body = {
        "status": "ok" if ok else "unavailable",
        "database": {"ok": database.ok, "detail": database.detail},
        "broker": {"ok": broker.ok, "detail": broker.detail},
        "worker": health.worker_heartbeat() if database.ok else {"status": "unknown"},
    }
    return JsonResponse(body, status=200 if ok else 503)
