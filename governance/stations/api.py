from __future__ import annotations

from rest_framework import permissions, viewsets

from governance.stations import queries
from governance.stations.filters import ServiceFilter, StationFilter
from governance.stations.serializers import (
    ServiceOutputSerializer,
    ServiceSummarySerializer,
    StationOutputSerializer,
)


class StationViewSet(viewsets.ReadOnlyModelViewSet):
    """Active service stations with their opening hours, host partner and departments."""

    serializer_class = StationOutputSerializer
    filterset_class = StationFilter
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    permission_classes = (permissions.AllowAny,)

    def get_queryset(self):
        return queries.public_stations().order_by("name_zh", "pk")


class ServiceViewSet(viewsets.ReadOnlyModelViewSet):
    """The active service catalogue; look a service up by its ``service_code``."""

    serializer_class = ServiceOutputSerializer
    filterset_class = ServiceFilter
    lookup_field = "service_code"
    lookup_value_regex = r"[A-Za-z0-9\-]+"
    permission_classes = (permissions.AllowAny,)

    def get_serializer_class(self):
        return ServiceSummarySerializer if self.action == "list" else ServiceOutputSerializer

    def get_queryset(self):
        if self.action == "list":
            return queries.public_service_summaries()
        return queries.public_services()
