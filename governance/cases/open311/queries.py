"""Reads for Open311, each already scoped and joined for the answer that uses it.

Open311 is public: its requests are exactly the cases an anonymous visitor may open
(``cases_visible_to(AnonymousUser())``, i.e. ``is_public``), read with one query whatever the
number of rows, through the ``(is_public, -created_at)`` index. Reporters' contact fields are
not even loaded.
"""

from __future__ import annotations

import datetime as dt
import uuid

from django.db.models import Exists, Max, OuterRef, Prefetch, QuerySet, Subquery

from governance.cases.models import (
    OPEN_STATUSES,
    Case,
    Open311Client,
    Open311Request,
    ServiceAttribute,
    TimelineEntry,
)
from governance.cases.open311 import keys
from governance.cases.open311.parsing import LIMIT, RequestFilter, usable
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids
from governance.stations.models import Service, Station

# What a request row shows, and nothing more (no contact fields, no internal notes).
REQUEST_FIELDS = (
    "reference",
    "description",
    "status",
    "status_changed_at",
    "created_at",
    "updated_at",
    "resolve_due_at",
    "latitude",
    "longitude",
    "address",
    "rejection_reason",
    "is_public",
    "service",
    "service__service_code",
    "service__name_zh",
    "service__name_en",
    "category",
    "category__name_zh",
    "category__name_en",
    "station",
    "station__slug",
    "station__address_zh",
    "station__address_en",
    "station__latitude",
    "station__longitude",
    "responsible",
    "responsible__name_zh",
    "responsible__name_en",
    "duplicate_of",
    "duplicate_of__reference",
    "open311__address_id",
    "open311__media_url",
)


# The catalogue ---------------------------------------------------------------------------------
def _active_attributes():
    return ServiceAttribute.objects.filter(is_active=True).order_by("order", "code", "pk")


def open311_services() -> QuerySet[Service]:
    """The active catalogue, each service marked ``has_attributes`` for ``metadata``."""
    return (
        Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .annotate(has_attributes=Exists(_active_attributes().filter(service=OuterRef("pk"))))
        .order_by("service_code")
    )


def open311_service(code: str) -> Service | None:
    """An active service by its code, with its active attributes in order (two queries)."""
    if not usable(code, max_length=40):
        return None
    return (
        open311_services()
        .filter(service_code=code)
        .prefetch_related(
            Prefetch("open311_attributes", queryset=_active_attributes(), to_attr="attributes")
        )
        .first()
    )


def catalogue_changed_at() -> dt.datetime | None:
    """When the catalogue or its attributes last changed (discovery's ``changeset``)."""
    services = Service.objects.aggregate(at=Max("updated_at"))["at"]
    attributes = ServiceAttribute.objects.aggregate(at=Max("updated_at"))["at"]
    moments = [moment for moment in (services, attributes) if moment is not None]
    return max(moments, default=None)


def open311_station(slug: str) -> Station | None:
    """The place an ``address_id`` names: an active station, by slug."""
    if not usable(slug, max_length=64):
        return None
    return Station.objects.filter(slug=slug, is_active=True).first()


# Requests --------------------------------------------------------------------------------------
def public_requests() -> QuerySet[Case]:
    """Public cases as Open311 requests, newest first, with everything a row shows joined: the
    service or category, station, responsible organisation, the original of a duplicate, the
    Open311 sidecar, and the latest public reply (``status_notes``) as a subquery."""
    replies = TimelineEntry.objects.filter(
        case=OuterRef("pk"), kind=TimelineEntry.Kind.REPLY, is_public=True
    ).order_by("-created_at", "-pk")
    return (
        Case.objects.filter(is_public=True)
        .select_related("service", "category", "station", "responsible", "duplicate_of", "open311")
        .only(*REQUEST_FIELDS)
        .annotate(
            latest_reply=Subquery(replies.values("body")[:1]),
            latest_reply_at=Subquery(replies.values("created_at")[:1]),
        )
        .order_by("-created_at", "-pk")
    )


def services_by_code(codes) -> dict[str, int]:
    """Catalogue ids of the given codes (active or not: old requests keep their service)."""
    return dict(
        Service.objects.filter(service_code__in=list(codes)).values_list("service_code", "pk")
    )


def filtered_requests(wanted: RequestFilter, *, service_ids=None) -> list[Case]:
    """At most :data:`LIMIT` public requests matching ``wanted``; ``service_ids`` are the
    catalogue ids of ``wanted.service_codes`` (see :func:`services_by_code`)."""
    qs = public_requests()
    if wanted.ids:
        return list(qs.filter(reference__in=wanted.ids)[:LIMIT])
    if wanted.start is not None:
        qs = qs.filter(created_at__gte=wanted.start)
    if wanted.end is not None:
        qs = qs.filter(created_at__lte=wanted.end)
    if service_ids is not None:
        qs = qs.filter(service_id__in=service_ids)
    if wanted.statuses == {"open"}:
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif wanted.statuses == {"closed"}:
        qs = qs.exclude(status__in=OPEN_STATUSES)
    return list(qs[:LIMIT])


def public_request(reference: str) -> Case | None:
    if not usable(reference, max_length=24):
        return None
    return public_requests().filter(reference=reference).first()


def public_token(token: str) -> Open311Request | None:
    """The Open311 submission a token names, if its case is public."""
    try:
        value = uuid.UUID(token)
    except ValueError:
        return None
    return (
        Open311Request.objects.filter(token=value, case__is_public=True)
        .select_related("case")
        .only("token", "case__reference", "case__is_public")
        .first()
    )


# Apps and keys ---------------------------------------------------------------------------------
def client_for_key(key: str | None) -> Open311Client | None:
    """The active app that holds ``key``, or ``None``."""
    if not key or len(key) > keys.MAX_KEY_LENGTH:
        return None
    return (
        Open311Client.objects.filter(key_hash=keys.hash_key(key), is_active=True)
        .select_related("organisation")
        .first()
    )


def clients_for_admin(user) -> QuerySet[Open311Client]:
    """Every app for superusers; the apps of their organisations (any role) for members."""
    qs = Open311Client.objects.select_related("organisation")
    if user.is_superuser:
        return qs
    return qs.filter(organisation_id__in=organisation_ids(user))


def attributes_for_admin(user) -> QuerySet[ServiceAttribute]:
    """Attributes of the services the user's departments keep (all of them for superusers)."""
    qs = ServiceAttribute.objects.select_related("service", "service__department")
    if user.is_superuser:
        return qs
    departments = organisation_ids(user, kind=Organisation.Kind.DEPARTMENT)
    return qs.filter(service__department_id__in=departments)


def attribute_services_for_admin(user) -> QuerySet[Service]:
    """The services whose attributes the user may add: their departments' (acting seats)."""
    qs = Service.objects.select_related("department").order_by("service_code")
    if user.is_superuser:
        return qs
    acting = organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles=ACTING_ROLES)
    return qs.filter(department_id__in=acting)
