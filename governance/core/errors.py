"""Error pages that answer in JSON under /api/ and as a page everywhere else."""

from __future__ import annotations

from django.http import HttpResponseServerError, JsonResponse
from django.shortcuts import render
from django.template import loader
from django.utils.translation import gettext as _


def _wants_json(request) -> bool:
    return request.path.startswith("/api/") or "application/json" in request.headers.get(
        "Accept", ""
    )


def _error(request, status: int, title: str, message: str):
    if _wants_json(request):
        return JsonResponse({"detail": message}, status=status)
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def bad_request(request, exception=None):
    return _error(request, 400, _("请求有误"), _("请求无法处理，请检查后重试。"))


def permission_denied(request, exception=None):
    return _error(request, 403, _("没有权限"), _("您没有访问此页面的权限。"))


def page_not_found(request, exception=None):
    return _error(request, 404, _("页面不存在"), _("未找到您要访问的页面或对象。"))


def server_error(request):
    # Rendered without a request context on purpose: whatever broke (the database, a context
    # processor, the session) may break it again. The page is static and bilingual.
    if _wants_json(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponseServerError(loader.get_template("errors/500.html").render())
