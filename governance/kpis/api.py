from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.kpis import queries
from governance.kpis.filters import IndicatorFilter
from governance.kpis.serializers import (
    IndicatorOutputSerializer,
    MeasurementsOutputSerializer,
    MeasurementsQuerySerializer,
    PeriodValueSerializer,
)


class IndicatorViewSet(viewsets.ReadOnlyModelViewSet):
    """Shared KPIs the caller may see; look one up by its ``code``.

    Public KPIs are open to everyone, "stakeholders" ones to members of any organisation and
    "owners" ones to members of an owning organisation. Values come from the daily rollups.
    """

    serializer_class = IndicatorOutputSerializer
    filterset_class = IndicatorFilter
    lookup_field = "code"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"
    permission_classes = (permissions.AllowAny,)

    def get_queryset(self):
        return queries.indicators_visible_to(self.request.user).order_by("name_zh", "pk")

    @extend_schema(
        parameters=[MeasurementsQuerySerializer],
        responses={
            200: MeasurementsOutputSerializer,
            400: OpenApiResponse(
                OpenApiTypes.OBJECT, description="Invalid input: the message names the field."
            ),
        },
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def measurements(self, request, code=None):
        """The KPI's actual value, target and traffic light in each period over a range.

        ``period`` is month, quarter or year (Asia/Shanghai calendar periods); ``from`` and
        ``to`` are any days of the first and last period (the last 12 periods by default);
        ``station``, ``service`` or ``department`` narrows to one scope.
        """
        indicator = self.get_object()
        query = MeasurementsQuerySerializer(
            data=request.query_params, context={"indicator": indicator}
        )
        query.is_valid(raise_exception=True)
        params = query.validated_data
        values = queries.indicator_values(
            indicator,
            kind=params["period"],
            first=params["first"],
            last=params["last"],
            scope=params["scope"],
            today=queries.local_today(),
        )
        scope = params["scope"]
        body = {
            "indicator": indicator.code,
            "period": params["period"],
            "scope": {"dimension": scope.dimension, "key": params["scope_key"]},
            "periods": PeriodValueSerializer(values, many=True).data,
        }
        return Response(body)
