"""The needs radar's API: ``/api/v1/radar/…``, read-only, over the stored monthly results.

- ``GET radar/heatmap/?station=&period=[&compare=]``: one station's visits by weekday × hour,
  the mean queue (Little's law) and waits, the five worst hours and the services behind them,
  and with ``compare`` the same for another month and the change cell by cell.
- ``GET radar/reasons/?period=[&station=&service=&department=&months=]``: why people were
  unhappy, per source and reason, with the trend over the last months and a link to the items.
- ``GET radar/themes/?period=[&station=]``: what people ask for, fastest-growing first;
  ``GET radar/themes/{theme_id}/items/``: the texts behind one theme that the caller may read.
- ``GET radar/unmet/?period=[&station=]``: what people asked for that is not offered there.
- ``GET radar/runs/``: the monthly computations, newest first.

Readers: ``radar.view_radar`` (members of departments and partners, any role, and superusers);
anonymous callers get a 401, everyone else a 403. ``period`` defaults to the latest computed
month; a malformed or out-of-range month is a 400 naming the parameter, an unknown station,
service or department a 404, and a month never computed a 200 with ``computed: false`` and
``empty: true``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, permissions, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from governance.core.api import flat_messages
from governance.radar import queries
from governance.radar.compute import current_month
from governance.radar.serializers import (
    RadarHeatmapOutputSerializer,
    RadarHeatmapQuerySerializer,
    RadarReasonsOutputSerializer,
    RadarReasonsQuerySerializer,
    RadarRunSerializer,
    RadarScopeQuerySerializer,
    RadarThemeItemsOutputSerializer,
    RadarThemesOutputSerializer,
    RadarUnmetOutputSerializer,
)
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station

_DETAIL = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
BAD_INPUT = OpenApiResponse(
    {
        "type": "object",
        "description": "Parameter name → messages.",
        "additionalProperties": {"type": "array", "items": {"type": "string"}},
    },
    description="Invalid parameter (a malformed or out-of-range month…): the message names it.",
    examples=[
        OpenApiExample(
            "malformed period",
            value={"period": ["月份格式应为 YYYY-MM，且在 2000 年至 2027 年之间。"]},
            status_codes=["400"],
        )
    ],
)
UNAUTHENTICATED = OpenApiResponse(
    _DETAIL,
    description="Not signed in (or a bad token).",
    examples=[
        OpenApiExample(
            "anonymous",
            value={"detail": "Authentication credentials were not provided."},
            status_codes=["401"],
        )
    ],
)
FORBIDDEN = OpenApiResponse(
    _DETAIL,
    description="Signed in, but not a member of a department or partner.",
    examples=[
        OpenApiExample(
            "citizen",
            value={"detail": "You do not have permission to perform this action."},
            status_codes=["403"],
        )
    ],
)
NOT_FOUND = OpenApiResponse(
    _DETAIL,
    description="No such station, service, department or theme.",
    examples=[
        OpenApiExample(
            "unknown station", value={"detail": "没有这个站点：nowhere"}, status_codes=["404"]
        )
    ],
)
REFUSALS = {400: BAD_INPUT, 401: UNAUTHENTICATED, 403: FORBIDDEN, 404: NOT_FOUND}
THEME_ID = OpenApiParameter(
    "theme_id", OpenApiTypes.INT, OpenApiParameter.PATH, description="The theme's id."
)


class CanViewRadar(permissions.BasePermission):
    """``radar.view_radar``; DRF answers an anonymous caller 401 (the token challenge)."""

    def has_permission(self, request, view) -> bool:
        return bool(request.user and request.user.has_perm("radar.view_radar"))


class RadarViewSet(viewsets.ViewSet):
    """The needs radar's stored monthly results (see the module's docstring)."""

    permission_classes = (CanViewRadar,)

    # Input ---------------------------------------------------------------------------------
    def _query(self, serializer_class) -> dict:
        query = serializer_class(data=self.request.query_params)
        if not query.is_valid():
            raise exceptions.ValidationError(
                {name: flat_messages(errors) for name, errors in query.errors.items()}
            )
        params = dict(query.validated_data)
        if params.get("period") is None:
            params["period"] = queries.latest_month() or current_month()
        return params

    @staticmethod
    def _lookup(model, name: str, key: str | None, **filters):
        if key is None:
            return None
        row = model.objects.filter(**filters).first()
        if row is None:
            raise exceptions.NotFound(_("没有这个%(what)s：%(key)s") % {"what": name, "key": key})
        return row

    def _station(self, slug: str | None) -> Station | None:
        return self._lookup(Station, _("站点"), slug, slug=slug)

    # Endpoints -----------------------------------------------------------------------------
    @extend_schema(
        parameters=[RadarHeatmapQuerySerializer],
        responses={200: RadarHeatmapOutputSerializer, **REFUSALS},
    )
    @action(detail=False, methods=["get"])
    def heatmap(self, request):
        """One station's demand heatmap: visits by weekday (0 = Monday) × hour, with the mean
        queue (Little's law: waiting minutes ÷ minutes of the hour), mean and longest waits;
        the five hours with the longest queues and the services that drive them; the services
        ranked by the waiting they cause; with ``compare``, the other month and the change in
        every cell that had visits in either."""
        params = self._query(RadarHeatmapQuerySerializer)
        station = self._station(params["station"])
        heat = queries.heatmap(station, params["period"], params.get("compare"))
        return Response(RadarHeatmapOutputSerializer(heat, context={"request": request}).data)

    @extend_schema(
        parameters=[RadarReasonsQuerySerializer],
        responses={200: RadarReasonsOutputSerializer, **REFUSALS},
    )
    @action(detail=False, methods=["get"])
    def reasons(self, request):
        """Why people were unhappy in a month: each source's reasons (bad ratings, complaints…)
        with this month's and last month's counts, the monthly series and a link to the
        items; narrowed to one station, service (by code) or department (by slug)."""
        params = self._query(RadarReasonsQuerySerializer)
        station = self._station(params.get("station"))
        code = params.get("service")
        service = self._lookup(Service, _("服务事项"), code, service_code=code)
        slug = params.get("department")
        department = self._lookup(
            Organisation, _("部门"), slug, slug=slug, kind=Organisation.Kind.DEPARTMENT
        )
        report = queries.reasons(
            params["period"],
            station=station,
            service=service,
            department=department,
            months=params["months"],
        )
        return Response(RadarReasonsOutputSerializer(report, context={"request": request}).data)

    @extend_schema(
        parameters=[RadarScopeQuerySerializer],
        responses={200: RadarThemesOutputSerializer, **REFUSALS},
    )
    @action(detail=False, methods=["get"])
    def themes(self, request):
        """What people ask for: the recurring themes of the month's feedback, cases and
        proposals, ranked by growth against the three months before, in one station's texts
        or (without ``station``) everyone's; each links to its items."""
        params = self._query(RadarScopeQuerySerializer)
        station = self._station(params.get("station"))
        rows = queries.themes(params["period"], station=station)
        body = {
            "month": params["period"],
            "computed": queries.month_computed(params["period"]),
            "empty": not rows,
            "station": station,
            "themes": rows,
        }
        return Response(RadarThemesOutputSerializer(body, context={"request": request}).data)

    @extend_schema(
        parameters=[THEME_ID],
        responses={
            200: RadarThemeItemsOutputSerializer,
            401: UNAUTHENTICATED,
            403: FORBIDDEN,
            404: NOT_FOUND,
        },
    )
    @action(
        detail=False,
        methods=["get"],
        url_path=r"themes/(?P<theme_id>[^/.]+)/items",
        url_name="theme-items",
    )
    def theme_items(self, request, theme_id=None):
        """The texts behind one theme, newest first: only those the caller may read (each
        source applies its own permissions), so two readers may see different lists."""
        theme = queries.theme_for(theme_id)
        if theme is None:
            raise exceptions.NotFound(_("没有这个主题。"))
        body = {"theme": theme, "items": queries.theme_items(theme, request.user)}
        return Response(RadarThemeItemsOutputSerializer(body, context={"request": request}).data)

    @extend_schema(
        parameters=[RadarScopeQuerySerializer],
        responses={200: RadarUnmetOutputSerializer, **REFUSALS},
    )
    @action(detail=False, methods=["get"])
    def unmet(self, request):
        """Unmet demand: what people asked for (in their texts, or in site searches that found
        nothing) that the station does not offer, most asked first; without ``station``,
        what no station offers."""
        params = self._query(RadarScopeQuerySerializer)
        station = self._station(params.get("station"))
        rows = queries.unmet(params["period"], station=station)
        body = {
            "month": params["period"],
            "computed": queries.month_computed(params["period"]),
            "empty": not rows,
            "station": station,
            "unmet": rows,
        }
        return Response(RadarUnmetOutputSerializer(body, context={"request": request}).data)

    @extend_schema(
        responses={200: RadarRunSerializer(many=True), 401: UNAUTHENTICATED, 403: FORBIDDEN},
    )
    @action(detail=False, methods=["get"])
    def runs(self, request):
        """The monthly computations (the last 36 months at most), newest month first: status,
        what they read and how long they took."""
        return Response(RadarRunSerializer(queries.runs(), many=True).data)
