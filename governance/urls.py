from django.conf import settings
from django.contrib import admin
from django.core.exceptions import ImproperlyConfigured
from django.urls import URLPattern, include, path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from governance.cases.api import CaseViewSet
from governance.core import routes
from governance.core.views import healthz
from governance.kpis.api import IndicatorViewSet
from governance.notifications.api import NotificationViewSet, PreferenceViewSet
from governance.proposals.api import ProposalViewSet
from governance.radar.api import RadarViewSet
from governance.stakeholders.views import language_switch
from governance.stations.api import ServiceViewSet, StationViewSet

# One router for /api/v1/: every app registers its viewsets here.
router = DefaultRouter(trailing_slash=True)
# No ``.json`` twin of every path: the API speaks JSON (``?format=`` still picks the schema's
# and the browsable renderers), and the suffixed paths reached actions that take no ``format``
# argument (a 500) while doubling the patterns each API request is resolved through.
router.include_format_suffixes = False
router.register("stations", StationViewSet, basename="station")
router.register("services", ServiceViewSet, basename="service")
router.register("notifications/preferences", PreferenceViewSet, basename="notification-preference")
router.register("notifications", NotificationViewSet, basename="notification")
router.register("kpis", IndicatorViewSet, basename="kpi")
router.register("cases", CaseViewSet, basename="case")
router.register("proposals", ProposalViewSet, basename="proposal")
router.register("radar", RadarViewSet, basename="radar")
# The wings' viewsets (feedback, partners), registered from their AppConfig.ready.
for _prefix, _viewset, _basename in routes.viewsets():
    router.register(_prefix, _viewset, basename=_basename)

api_urls = router.urls


def _fronted(route: str, handler):
    """The view of ``/api/v1/<route>`` with ``handler`` in front of the router's own (see
    ``routes.register_api_front``). CSRF is the router's view's business, as for any DRF view:
    the handler takes no signed-in request."""
    behind = next(
        (
            pattern.callback
            for pattern in api_urls
            if isinstance(pattern, URLPattern) and pattern.resolve(route) is not None
        ),
        None,
    )
    if behind is None:
        raise ImproperlyConfigured(f"API front {route!r}: the router has no such path")

    @csrf_exempt
    def view(request, *args, **kwargs):
        response = handler(request)
        return behind(request, *args, **kwargs) if response is None else response

    return view


urlpatterns = [
    # First: the wings' busiest API paths, each resolved before anything else.
    *(path(f"api/v1/{route}", _fronted(route, handler)) for route, handler in routes.api_fronts()),
    path("", include("governance.stations.urls")),
    path("", include("governance.stakeholders.urls")),
    path("", include("governance.notifications.urls")),
    path("", include("governance.kpis.urls")),
    path("", include("governance.cases.urls")),
    path("", include("governance.proposals.urls")),
    *(path(prefix, include(urlconf)) for urlconf, prefix in routes.url_modules()),
    path("accounts/", include("allauth.urls")),
    path("i18n/setlang/", language_switch, name="set_language"),
    path("admin/", admin.site.urls),
    path("api/v1/", include((api_urls, "api"))),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("open311/v2/", include("governance.cases.open311.urls")),
    path("healthz", healthz, name="healthz"),
]

if settings.BENCHMARK_BASELINES:
    urlpatterns.append(path("", include("bench.urls")))

handler400 = "governance.core.errors.bad_request"
handler403 = "governance.core.errors.permission_denied"
handler404 = "governance.core.errors.page_not_found"
handler500 = "governance.core.errors.server_error"
