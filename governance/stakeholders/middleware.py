from __future__ import annotations

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.utils import translation

from governance.stakeholders.models import AuditEvent
from governance.stakeholders.services import audit_record


class UserLanguageMiddleware:
    """A signed-in user's saved language wins over the cookie and the browser's header."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        preferred = None
        if user is not None and user.is_authenticated and user.language:
            preferred = user.language
            if preferred != request.LANGUAGE_CODE:
                translation.activate(preferred)
                request.LANGUAGE_CODE = translation.get_language()
        response = self.get_response(request)
        if preferred and request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME) != preferred:
            response.set_cookie(
                settings.LANGUAGE_COOKIE_NAME,
                preferred,
                max_age=settings.LANGUAGE_COOKIE_AGE,
                path=settings.LANGUAGE_COOKIE_PATH,
                secure=settings.LANGUAGE_COOKIE_SECURE,
                httponly=settings.LANGUAGE_COOKIE_HTTPONLY,
                samesite=settings.LANGUAGE_COOKIE_SAMESITE,
            )
        return response


class StaffIdleTimeoutMiddleware:
    """Staff sessions end after ``STAFF_SESSION_IDLE_SECONDS`` without a request.

    Setting the expiry on every request makes it a sliding idle window: the session is saved
    with a new expiry each time, and one left alone that long is gone.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and (user.is_staff or user.is_superuser):
            request.session.set_expiry(settings.STAFF_SESSION_IDLE_SECONDS)
        return self.get_response(request)


class PermissionDeniedAuditMiddleware:
    """Writes a refused permission (a ``PermissionDenied`` raised by a view) to the audit log."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, PermissionDenied):
            audit_record(
                action=AuditEvent.Action.PERMISSION_DENIED,
                actor=getattr(request, "user", None),
                request=request,
                detail={"reason": str(exception)[:200]},
            )
        return None
