"""Output serializers for the public read-only API.

Lists return a summary of each row and the detail endpoint the whole record, so a page of
services costs one query and a few fields per row rather than the nested stations and
documents of each (the detail has them). Plain ``Serializer`` classes rather than
``ModelSerializer``: the latter rebuilds its fields from the model on every response, which was
a fifth of a list's time, and these are output only.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.core.api import HourMinuteField, RowPathField, RowUrlField
from governance.stakeholders.models import Organisation
from governance.stations.models import Channel, Service


class OrganisationRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    kind = serializers.ChoiceField(choices=Organisation.Kind.choices, read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)


class OpeningHoursSerializer(serializers.Serializer):
    weekday = serializers.IntegerField(read_only=True, min_value=0, max_value=6)
    opens = HourMinuteField(read_only=True)
    closes = HourMinuteField(read_only=True)


class StationRefSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    url = RowUrlField("api:station-detail", "slug")


class StationOutputSerializer(serializers.Serializer):
    slug = serializers.SlugField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    address_zh = serializers.CharField(read_only=True)
    address_en = serializers.CharField(read_only=True)
    latitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    longitude = serializers.DecimalField(
        max_digits=9, decimal_places=6, read_only=True, allow_null=True
    )
    phone = serializers.CharField(read_only=True)
    host = OrganisationRefSerializer(read_only=True, allow_null=True)
    departments = OrganisationRefSerializer(many=True, read_only=True)
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)
    url = RowUrlField("api:station-detail", "slug")
    page_url = RowPathField("stations:station", "slug")


class ServiceSummarySerializer(serializers.Serializer):
    """A row of the service list; the detail adds description, documents and stations."""

    service_code = serializers.CharField(read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    department = OrganisationRefSerializer(read_only=True)
    channel = serializers.ChoiceField(choices=Channel.choices, read_only=True)
    target_minutes = serializers.IntegerField(read_only=True)
    url = RowUrlField("api:service-detail", "service_code")
    page_url = RowPathField("stations:service", "service_code")


class ServiceOutputSerializer(ServiceSummarySerializer):
    description = serializers.CharField(read_only=True)
    stations = StationRefSerializer(many=True, read_only=True)
    documents = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_documents(self, service: Service) -> list[str]:
        return service.documents

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_keywords(self, service: Service) -> list[str]:
        return service.keyword_list
