from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.paginator import Paginator
from django.db import transaction
from django.http import HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.notifications import queries, registry, services
from governance.notifications.channels import read_unsubscribe_token
from governance.notifications.forms import PreferencesForm
from governance.notifications.models import Mode
from governance.stakeholders.models import User

PAGE_SIZE = 20


@login_required
@require_safe
def inbox(request):
    page = Paginator(queries.inbox_of(request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    items = queries.inbox_rows(page.object_list, request.LANGUAGE_CODE)
    return render(request, "notifications/inbox.html", {"page": page, "items": items})


@login_required
@require_POST
def mark_read(request, pk: int):
    notification = get_object_or_404(queries.inbox_of(request.user), pk=pk)
    services.notification_mark_read(actor=request.user, notification=notification)
    # The stored link is followed only when it stays on this site: a notification's URL must
    # never turn the inbox into an open redirect.
    target = notification.url
    if not target or not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = reverse("notifications:inbox")
    return HttpResponseRedirect(target)


@login_required
@require_POST
def mark_all_read(request):
    count = services.notifications_mark_all_read(actor=request.user)
    messages.success(
        request,
        ngettext("已将 %(count)d 条通知标为已读。", "已将 %(count)d 条通知标为已读。", count)
        % {"count": count},
    )
    return redirect("notifications:inbox")


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request):
    rows = queries.preferences_of(request.user)
    form = PreferencesForm(
        request.POST if request.method == "POST" else None,
        rows=rows,
        digests_enabled=queries.digests_enabled(request.user),
    )
    if form.is_bound and form.is_valid():
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
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request, token: str):
    try:
        data = read_unsubscribe_token(token)
        kind = data["k"]
        if kind not in {"type", "digest"}:
            raise signing.BadSignature("unknown kind")
        user = User.objects.get(pk=data["u"], is_active=True)
        event_type = registry.get(data["t"]) if kind == "type" else None
    except signing.SignatureExpired:
        return _unsubscribe_refused(request, _("该退订链接已过期。请登录后在通知偏好中修改。"))
    except (
        signing.BadSignature,
        User.DoesNotExist,
        registry.UnknownEventType,
        KeyError,
        TypeError,
        ValueError,
    ):
        return _unsubscribe_refused(request, _("该退订链接无效或已被篡改，未做任何修改。"))
    if event_type is not None and event_type.security:
        return _unsubscribe_refused(request, _("安全通知不能退订。"), status=403)
    if event_type is not None and Mode.OFF not in queries.allowed_modes_of(user, event_type):
        return _unsubscribe_refused(
            request, _("这类通知不能关闭；您可以登录后改为摘要方式接收。"), status=403
        )
    context = {"event_type": event_type, "kind": kind, "done": False}
    if request.method == "POST":
        if event_type is not None:
            try:
                services.preference_set(actor=user, event_type=event_type, mode=Mode.OFF)
            except services.ModeNotAllowed:  # the person's seats changed since the GET
                return _unsubscribe_refused(
                    request, _("这类通知不能关闭；您可以登录后改为摘要方式接收。"), status=403
                )
        else:
            services.digests_set(actor=user, enabled=False)
        context["done"] = True
    return render(request, "notifications/unsubscribe.html", context)


def _unsubscribe_refused(request, message: str, status: int = 400):
    return render(request, "notifications/unsubscribe.html", {"error": message}, status=status)
