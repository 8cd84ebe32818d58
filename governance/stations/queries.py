"""Reads of stations, services and visits, scoped and joined for the pages that use them."""

from __future__ import annotations

from django.db.models import Prefetch, Q, QuerySet

from governance.stakeholders.models import Organisation, User
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids
from governance.stations.models import OpeningHours, Service, Station, Visit

# What a public page or the API shows of an organisation; loading the rest (descriptions,
# timestamps) for every department of every station was most of a station list's time.
ORGANISATION_REF_FIELDS = ("slug", "kind", "name_zh", "name_en", "short_name_zh", "short_name_en")


def public_stations() -> QuerySet[Station]:
    return (
        Station.objects.filter(is_active=True)
        .select_related("host")
        .defer("created_at", "updated_at")
        .defer(*(f"host__{name}" for name in ("description_zh", "description_en", "created_at")))
        .prefetch_related(
            Prefetch(
                "opening_hours",
                queryset=OpeningHours.objects.only(
                    "station_id", "weekday", "opens", "closes"
                ).order_by("weekday", "opens"),
            ),
            Prefetch(
                "departments",
                queryset=Organisation.objects.filter(is_active=True)
                .only(*ORGANISATION_REF_FIELDS)
                .order_by("name_zh"),
            ),
        )
    )


def public_services() -> QuerySet[Service]:
    return (
        Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .prefetch_related(
            Prefetch(
                "stations", queryset=Station.objects.filter(is_active=True).order_by("name_zh")
            )
        )
        # The department id breaks ties between departments that share a name, so that pages
        # grouping by department (itertools.groupby) see each department's services together.
        .order_by("department__name_zh", "department_id", "service_code")
    )


def public_service_summaries() -> QuerySet[Service]:
    """The catalogue as a list needs it: the service and its department, nothing nested."""
    return (
        Service.objects.filter(is_active=True, department__is_active=True)
        .select_related("department")
        .only(
            "service_code",
            "name_zh",
            "name_en",
            "channel",
            "target_minutes",
            "department__slug",
            "department__kind",
            "department__name_zh",
            "department__name_en",
        )
        .order_by("department__name_zh", "department_id", "service_code")
    )


def search_services(qs: QuerySet[Service], text: str) -> QuerySet[Service]:
    """Services whose code, names, description or keywords contain each word of ``text``."""
    for word in text.split()[:8]:
        qs = qs.filter(
            Q(service_code__icontains=word)
            | Q(name_zh__icontains=word)
            | Q(name_en__icontains=word)
            | Q(keywords__icontains=word)
            | Q(description_zh__icontains=word)
            | Q(description_en__icontains=word)
        )
    return qs


# Admin scoping --------------------------------------------------------------------------------
def stations_for_admin(user) -> QuerySet[Station]:
    qs = Station.objects.select_related("host")
    if user.is_superuser:
        return qs
    mine = organisation_ids(user)
    return qs.filter(Q(host_id__in=mine) | Q(departments__in=mine)).distinct()


def services_for_admin(user) -> QuerySet[Service]:
    qs = Service.objects.select_related("department")
    if user.is_superuser:
        return qs
    return qs.filter(department_id__in=organisation_ids(user, kind=Organisation.Kind.DEPARTMENT))


def visits_for_admin(user) -> QuerySet[Visit]:
    qs = Visit.objects.select_related("station", "service", "service__department", "handled_by")
    if user.is_superuser:
        return qs
    return qs.filter(
        service__department_id__in=organisation_ids(user, kind=Organisation.Kind.DEPARTMENT)
    )


def departments_for_admin(user) -> QuerySet[Organisation]:
    """The departments a user may put a service under."""
    qs = Organisation.objects.filter(kind=Organisation.Kind.DEPARTMENT, is_active=True)
    if user.is_superuser:
        return qs
    return qs.filter(
        pk__in=organisation_ids(user, kind=Organisation.Kind.DEPARTMENT, roles=ACTING_ROLES)
    )


def visit_services_for_admin(user) -> QuerySet[Service]:
    """The services a user may record a visit under: those of the departments they act for."""
    return services_for_admin(user).filter(department__in=departments_for_admin(user))


def visit_handlers_for_admin(user, *, current_id: int | None = None) -> QuerySet[User]:
    """The people a user may name as a visit's handler: members of the departments they act
    for, plus the visit's current handler (so editing a visit never drops a former colleague).

    Only superusers choose from every account; nobody else may browse users.
    """
    qs = User.objects.filter(is_active=True)
    if user.is_superuser:
        return qs
    return (
        qs.filter(Q(memberships__organisation__in=departments_for_admin(user)) | Q(pk=current_id))
        .distinct()
        .order_by("email")
    )
