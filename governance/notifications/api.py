from __future__ import annotations

from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from governance.notifications import queries, registry, services
from governance.notifications.channels import render_line
from governance.notifications.models import Mode, Notification, Preference
from governance.notifications.serializers import (
    MarkedSerializer,
    NotificationOutputSerializer,
    PreferenceInputSerializer,
    PreferenceOutputSerializer,
    UnreadCountSerializer,
)


class NotificationViewSet(viewsets.GenericViewSet):
    """The signed-in person's inbox: list, mark read, mark all read, unread count."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = NotificationOutputSerializer
    queryset = Notification.objects.none()
    lookup_value_regex = r"[0-9]+"

    def get_queryset(self):
        return queries.inbox_of(self.request.user)

    def _rows(self, notifications):
        language = self.request.LANGUAGE_CODE
        return [
            {
                "id": n.pk,
                "event_type": n.event_type,
                "label": _label(n.event_type),
                "text": render_line(n, language),
                "url": n.url,
                "created_at": n.created_at,
                "read_at": n.read_at,
                "payload": n.payload,
            }
            for n in notifications
        ]

    def list(self, request):
        page = self.paginate_queryset(self.get_queryset())
        serializer = NotificationOutputSerializer(self._rows(page), many=True)
        return self.get_paginated_response(serializer.data)

    def retrieve(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        return Response(NotificationOutputSerializer(self._rows([notification])[0]).data)

    @extend_schema(request=None, responses=NotificationOutputSerializer)
    @action(detail=True, methods=["post"])
    def read(self, request, pk=None):
        notification = get_object_or_404(self.get_queryset(), pk=pk)
        services.notification_mark_read(actor=request.user, notification=notification)
        return Response(NotificationOutputSerializer(self._rows([notification])[0]).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all")
    def read_all(self, request):
        return Response({"marked": services.notifications_mark_all_read(actor=request.user)})

    @extend_schema(responses=UnreadCountSerializer)
    @action(detail=False, methods=["get"])
    def unread(self, request):
        return Response({"unread": queries.unread_count(request.user)})


def _label(code: str) -> str:
    try:
        return str(registry.get(code).label)
    except registry.UnknownEventType:
        return code


class PreferenceViewSet(viewsets.GenericViewSet):
    """Per event type: immediately, daily or weekly digest, or off where the type allows it."""

    permission_classes = (permissions.IsAuthenticated,)
    serializer_class = PreferenceOutputSerializer
    pagination_class = None
    queryset = Preference.objects.none()

    def list(self, request):
        return Response(
            PreferenceOutputSerializer(queries.preferences_of(request.user), many=True).data
        )

    @extend_schema(request=PreferenceInputSerializer, responses=PreferenceOutputSerializer)
    def create(self, request):
        data = PreferenceInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            event_type = registry.get(data.validated_data["event_type"])
        except registry.UnknownEventType:
            known = ", ".join(t.code for t in registry.all_types())
            raise ValidationError({"event_type": [f"unknown event type; known: {known}"]}) from None
        mode = data.validated_data["mode"]
        try:
            services.preference_set(actor=request.user, event_type=event_type, mode=mode)
        except services.ModeNotAllowed as exc:
            raise ValidationError(
                {"mode": [f"{mode!r} is not allowed here; allowed: {', '.join(exc.allowed)}"]}
            ) from None
        row = next(r for r in queries.preferences_of(request.user) if r["code"] == event_type.code)
        return Response(PreferenceOutputSerializer(row).data, status=status.HTTP_200_OK)


MODES = [mode.value for mode in Mode]
