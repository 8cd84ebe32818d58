"""``/open311/v2/``: GeoReport v2, each resource as ``.json`` and ``.xml``."""

from django.urls import path, re_path

from governance.cases.open311 import views

app_name = "open311"

FORMAT = r"\.(?P<format>json|xml)$"

urlpatterns = [
    path("openapi.json", views.openapi_document, name="openapi"),
    re_path(r"^discovery" + FORMAT, views.DiscoveryView.as_view(), name="discovery"),
    re_path(r"^services" + FORMAT, views.ServiceListView.as_view(), name="services"),
    re_path(
        r"^services/(?P<service_code>[^/]+)" + FORMAT,
        views.ServiceDefinitionView.as_view(),
        name="service",
    ),
    re_path(r"^requests" + FORMAT, views.RequestListView.as_view(), name="requests"),
    re_path(
        r"^requests/(?P<service_request_id>[^/]+)" + FORMAT,
        views.RequestView.as_view(),
        name="request",
    ),
    re_path(r"^tokens/(?P<token>[^/]+)" + FORMAT, views.TokenView.as_view(), name="token"),
    re_path(
        r"^(?P<rest>.*?)(?:\.(?P<format>json|xml))?$",
        views.NotFoundView.as_view(),
        name="not-found",
    ),
]
