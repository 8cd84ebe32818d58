from __future__ import annotations

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.stakeholders.models import Organisation
from governance.stations.models import OpeningHours, Service, Station


class OrganisationRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)

    class Meta:
        model = Organisation
        fields = ("slug", "kind", "name", "name_zh", "name_en")


class OpeningHoursSerializer(serializers.ModelSerializer):
    opens = serializers.TimeField(format="%H:%M")
    closes = serializers.TimeField(format="%H:%M")

    class Meta:
        model = OpeningHours
        fields = ("weekday", "opens", "closes")


class StationRefSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    url = serializers.HyperlinkedIdentityField(
        view_name="api:station-detail", lookup_field="slug", read_only=True
    )

    class Meta:
        model = Station
        fields = ("slug", "name", "url")


class StationOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    address = serializers.CharField(read_only=True)
    host = OrganisationRefSerializer(read_only=True, allow_null=True)
    departments = OrganisationRefSerializer(many=True, read_only=True)
    opening_hours = OpeningHoursSerializer(many=True, read_only=True)
    url = serializers.HyperlinkedIdentityField(
        view_name="api:station-detail", lookup_field="slug", read_only=True
    )
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Station
        fields = (
            "slug",
            "name",
            "name_zh",
            "name_en",
            "description",
            "address",
            "address_zh",
            "address_en",
            "latitude",
            "longitude",
            "phone",
            "host",
            "departments",
            "opening_hours",
            "url",
            "page_url",
        )


class ServiceOutputSerializer(serializers.ModelSerializer):
    name = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    department = OrganisationRefSerializer(read_only=True)
    stations = StationRefSerializer(many=True, read_only=True)
    documents = serializers.SerializerMethodField()
    keywords = serializers.SerializerMethodField()
    url = serializers.HyperlinkedIdentityField(
        view_name="api:service-detail", lookup_field="service_code", read_only=True
    )
    page_url = serializers.CharField(source="get_absolute_url", read_only=True)

    class Meta:
        model = Service
        fields = (
            "service_code",
            "name",
            "name_zh",
            "name_en",
            "description",
            "department",
            "channel",
            "target_minutes",
            "documents",
            "keywords",
            "stations",
            "url",
            "page_url",
        )

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_documents(self, service: Service) -> list[str]:
        return service.documents

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_keywords(self, service: Service) -> list[str]:
        return service.keyword_list
