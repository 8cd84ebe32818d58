from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST, require_safe

from governance.notifications import queries, registry, services
from governance.notifications.channels import read_unsubscribe_token, render_line
from governance.notifications.forms import PreferencesForm
from governance.stakeholders.models import User

PAGE_SIZE = 20


@login_required
@require_safe
def inbox(request):
    page = Paginator(queries.inbox_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    language = request.LANGUAGE_CODE
    items = [
        {"notification": n, "line": render_line(n, language), "type": _type_label(n.event_type)}
        for n in page.object_list
    ]
    return render(request, "notifications/inbox.html", {"page": page, "items": items})


def _type_label(code: str) -> str:
    try:
        return registry.get(code).label
    except registry.UnknownEventType:
        return code


@login_required
@require_POST
def mark_read(request, pk: int):
    notification = get_object_or_404(queries.inbox_of(request.user), pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    target = notification.url or "notifications:inbox"
    if notification.url and not url_has_allowed_host_and_scheme(
        notification.url, allowed_hosts={request.get_host()}
    ):
        target = "notifications:inbox"
    return redirect(target)


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(request, _("已将 %(count)d 条通知标为已读。") % {"count": count})
    return redirect("notifications:inbox")


@login_required
def preferences(request):
    rows = queries.preferences_of(request.user)
    form = PreferencesForm(
        request.POST or None, rows=rows, digests_enabled=queries.digests_enabled(request.user)
    )
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            for code, mode in form.changed_modes().items():
                services.preference_set(
                    actor=request.user, event_type=registry.get(code), mode=mode
                )
            services.digests_set(actor=request.user, enabled=form.cleaned_data["digests_enabled"])
        messages.success(request, _("通知偏好已保存。"))
        return redirect("notifications:preferences")
    return render(request, "notifications/preferences.html", {"form": form, "rows": rows})


# One-click unsubscribe (RFC 8058): mail clients POST without a session or a CSRF token, and
# the signed token is the only authority; a GET shows what the button will do.
@csrf_exempt
def unsubscribe(request, token: str):
    try:
        data = read_unsubscribe_token(token)
        user = User.objects.get(pk=data["u"], is_active=True)
        event_type = registry.get(data["t"]) if data["k"] == "type" else None
        if data["k"] not in {"type", "digest"}:
            raise signing.BadSignature("unknown kind")
    except signing.SignatureExpired:
        return _unsubscribe_refused(request, _("该退订链接已过期。请登录后在通知偏好中修改。"))
    except (signing.BadSignature, User.DoesNotExist, registry.UnknownEventType, KeyError):
        return _unsubscribe_refused(request, _("该退订链接无效或已被篡改，未做任何修改。"))
    if event_type is not None and event_type.security:
        return _unsubscribe_refused(request, _("安全通知不能退订。"))
    context = {"event_type": event_type, "kind": data["k"], "user": user, "done": False}
    if request.method == "POST":
        if event_type is not None:
            try:
                services.preference_set(actor=user, event_type=event_type, mode="off")
            except services.ModeNotAllowed:
                return _unsubscribe_refused(
                    request, _("这类通知不能关闭；您可以登录后改为摘要方式接收。")
                )
        else:
            services.digests_set(actor=user, enabled=False)
        context["done"] = True
    elif request.method not in ("GET", "HEAD"):
        return _unsubscribe_refused(request, _("请求方式不受支持。"), status=405)
    return render(request, "notifications/unsubscribe.html", context)


def _unsubscribe_refused(request, message: str, status: int = 400):
    return render(request, "notifications/unsubscribe.html", {"error": message}, status=status)
