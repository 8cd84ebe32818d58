from __future__ import annotations

from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import permissions, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from governance.notifications import queries, registry, services
from governance.notifications.models import Notification, Preference
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
        return queries.inbox_rows(notifications, self.request.LANGUAGE_CODE)

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
        code = data.validated_data["event_type"]
        try:
            event_type = registry.get(code)
        except registry.UnknownEventType:
            known = ", ".join(t.code for t in registry.all_types())
            raise ValidationError(
                {
                    "event_type": [
                        _("未知的事件类型“%(code)s”；可选：%(known)s。")
                        % {"code": code, "known": known}
                    ]
                }
            ) from None
        mode = data.validated_data["mode"]
        try:
            services.preference_set(actor=request.user, event_type=event_type, mode=mode)
        except services.ModeNotAllowed as exc:
            raise ValidationError(
                {
                    "mode": [
                        _("这类通知不能设为“%(mode)s”；可选：%(allowed)s。")
                        % {"mode": mode, "allowed": ", ".join(exc.allowed)}
                    ]
                }
            ) from None
        row = next(r for r in queries.preferences_of(request.user) if r["code"] == event_type.code)
        return Response(PreferenceOutputSerializer(row).data, status=status.HTTP_200_OK)
