"""The Django admin, entered only through allauth and only with two-factor authentication.

The admin's own login form is replaced by a redirect to allauth's, so allauth's rate limits on
failed sign-ins protect the admin too. A staff member without TOTP is sent to enrol first.
"""

from __future__ import annotations

from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, resolve_url
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

_MFA_ATTR = "_gongzhi_has_totp"


def has_totp(user) -> bool:
    """Whether the user has enrolled TOTP; read once per user object."""
    if not getattr(user, "is_authenticated", False):
        return False
    cached = getattr(user, _MFA_ATTR, None)
    if cached is None:
        cached = Authenticator.objects.filter(
            user_id=user.pk, type=Authenticator.Type.TOTP
        ).exists()
        setattr(user, _MFA_ATTR, cached)
    return cached


class GongzhiAdminSite(admin.AdminSite):
    site_header = gettext_lazy("共治 · 管理后台")
    site_title = gettext_lazy("共治管理后台")
    index_title = gettext_lazy("协同治理工作台")
    site_url = "/"

    def has_permission(self, request):
        return super().has_permission(request) and has_totp(request.user)

    def login(self, request, extra_context=None):
        next_url = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(
            next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            next_url = ""
        next_url = next_url or reverse("admin:index", current_app=self.name)
        user = request.user
        if not user.is_authenticated:
            login_url = resolve_url(settings.LOGIN_URL)
            return redirect(f"{login_url}?{urlencode({REDIRECT_FIELD_NAME: next_url})}")
        if not (user.is_active and user.is_staff):
            raise PermissionDenied(_("此账号没有进入管理后台的权限。"))
        if not has_totp(user):
            messages.warning(request, _("进入管理后台前，请先启用双重验证（TOTP 动态口令）。"))
            return redirect("mfa_activate_totp")
        return redirect(next_url)
