from __future__ import annotations

from rest_framework import serializers

from governance.notifications.models import Mode


class NotificationOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    event_type = serializers.CharField(read_only=True)
    label = serializers.CharField(read_only=True)
    text = serializers.CharField(read_only=True)
    url = serializers.CharField(read_only=True, allow_blank=True)
    created_at = serializers.DateTimeField(read_only=True)
    read_at = serializers.DateTimeField(read_only=True, allow_null=True)


class PreferenceOutputSerializer(serializers.Serializer):
    event_type = serializers.CharField(source="code", read_only=True)
    label = serializers.CharField(read_only=True)
    mode = serializers.ChoiceField(choices=Mode.choices, read_only=True)
    default = serializers.ChoiceField(choices=Mode.choices, read_only=True)
    allowed = serializers.ListField(
        child=serializers.ChoiceField(choices=Mode.choices), read_only=True
    )
    security = serializers.BooleanField(read_only=True)


class PreferenceInputSerializer(serializers.Serializer):
    event_type = serializers.CharField(max_length=64)
    # Any string: a mode that is unknown, or not allowed for this type and person, is answered
    # with the modes that are (see PreferenceViewSet.create).
    mode = serializers.CharField(allow_blank=True)


class UnreadCountSerializer(serializers.Serializer):
    unread = serializers.IntegerField()


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
