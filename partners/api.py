"""The partners API: ``/api/v1/partners/…``.

- ``resources/``: the catalogue the caller may see (``GET``, with filters and ``q``); partner
  members add (``POST``) and change (``PATCH``) their partner's resources.
  ``resources/{id}/availability/?week=YYYY-MM-DD`` is the week holding that day (default: this
  week): per day the open windows, the closures and the pending and approved bookings, the
  bookings of other organisations as taken time only. ``resources/{id}/opening-rules/``:
  ``GET`` the weekly rules, ``PUT`` replaces them (the partner's members).
  ``resources/{id}/photos/{photo_id}/`` streams a photo to those who may see the resource.
- ``bookings/``: the bookings the caller's organisations made or were asked for; ``POST``
  requests a resource; ``…/approve/``, ``…/decline/`` (the resource's partner) and
  ``…/cancel/`` (either side) with a reason where one is needed.
- ``pledges/``: pledges the caller may see; ``POST`` offers one (a partner's members);
  ``…/accept/``, ``…/decline/``, ``…/deliver/`` (the organisation responsible for the proposal
  or case) and ``…/withdraw/`` (the partner).
- ``agreements/``: the agreements of the caller's organisations; the admins of either side
  record (``POST``) and change (``PATCH``) them and attach PDFs
  (``POST …/documents/``); ``GET …/documents/{document_id}/`` streams one to those who may
  read the agreement (files are never at a public address).
- ``shifts/`` and ``trainings/``: volunteer shifts and training sessions, kept by their
  partner or organiser; ``trainings/{id}/attendance/`` reads (the organiser's members) and
  replaces (``PUT``, its acting members) the attendance list.

The same permissions as the pages, because both go through the same code: rows come from
``queries`` (a row the caller may not see is a 404: a member of one partner never learns of
another partner's bookings or private resources), every write is one function of
``services`` (which checks again), and each action asks ``rules`` first, so a caller who
lacks the permission gets a 403 before their input is looked at. Changing a resource the
caller's organisation does not own is a 404 even where the resource itself is public; only
its own partner's members without an acting role (viewers) hear 403. The rules are asked
through ``rules.has_perm``, not ``User.has_perm`` (which answers yes to any superuser): a
booking's or a pledge's answer is the organisations' word, not a superuser's.

Errors: an anonymous write is a 401; a refusal a 403; bad input a 400 naming the field (a
booking ending before it starts, in the past, longer than the resource allows, outside its
opening hours or in a closure); a refusal because of the row's state (a code of
``services.CONFLICTS``) a 409 carrying that ``code``; a request or an approval over the time
of an approved booking a 409 with ``code`` ``overlap`` and the booking in the way as
``conflicting_booking`` (its id and requester only for callers who may read that booking;
others learn the time taken, as the calendar shows it); a document over 10 MB a 413.
"""

from __future__ import annotations

from contextlib import contextmanager

import rules
from django.core.exceptions import ValidationError as DjangoValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.cases.api import ATTACHMENT_ERRORS, TOO_LARGE, PayloadTooLarge
from governance.cases.queries import cases_visible_to
from governance.core import clock
from governance.core.api import CappedPagination, flat_messages
from governance.proposals.queries import visible_to as proposals_visible_to
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import memberships_of, organisation_ids, seat_in
from partners import queries, services
from partners.filters import (
    AgreementFilter,
    BookingFilter,
    PledgeFilter,
    ResourceFilter,
    ShiftFilter,
    TrainingFilter,
)
from partners.models import (
    Agreement,
    AgreementDocument,
    Attendance,
    Booking,
    Pledge,
    Resource,
    ResourcePhoto,
    TrainingSession,
    VolunteerShift,
)
from partners.rules import ACTING_ROLES
from partners.serializers import (
    OVERLAP,
    AgreementCreateInputSerializer,
    AgreementDetailSerializer,
    AgreementDocumentInputSerializer,
    AgreementDocumentOutputSerializer,
    AgreementSummarySerializer,
    AgreementUpdateInputSerializer,
    AttendanceInputSerializer,
    AttendanceOutputSerializer,
    AvailabilityOutputSerializer,
    BookingConflictSerializer,
    BookingCreateInputSerializer,
    BookingDetailSerializer,
    BookingSummarySerializer,
    BoundedDateField,
    ConflictingBookingSerializer,
    OpeningRulesInputSerializer,
    OpeningRulesOutputSerializer,
    PartnerConflictSerializer,
    PledgeCreateInputSerializer,
    PledgeDetailSerializer,
    PledgeSummarySerializer,
    ReasonInputSerializer,
    ResourceCreateInputSerializer,
    ResourceDetailSerializer,
    ResourceSummarySerializer,
    ResourceUpdateInputSerializer,
    ShiftCreateInputSerializer,
    ShiftDetailSerializer,
    ShiftSummarySerializer,
    ShiftUpdateInputSerializer,
    TrainingCreateInputSerializer,
    TrainingDetailSerializer,
    TrainingSummarySerializer,
    TrainingUpdateInputSerializer,
    calendar_rows,
)

# The actions take JSON: the types the schema gives are the types they get.
JSON_ONLY = (JSONParser,)
# Far beyond any id: a placeholder ``reverse`` accepts where an id goes.
PLACEHOLDER = 9081726354
SUB_PLACEHOLDER = 9081726355
CONFLICT = OpenApiResponse(
    PartnerConflictSerializer, description="The row's state refuses it; `code`."
)
BOOKING_CONFLICT = OpenApiResponse(
    BookingConflictSerializer,
    description=(
        "The time is taken by an approved booking (`code` `overlap`, the booking in "
        "`conflicting_booking`), or the booking's state refuses it (`code`)."
    ),
)
BAD_QUERY = OpenApiResponse(
    OpenApiTypes.OBJECT, description="Invalid query: the message names the parameter."
)
PHOTO_ID = OpenApiParameter("photo_id", OpenApiTypes.INT, OpenApiParameter.PATH)
DOCUMENT_ID = OpenApiParameter("document_id", OpenApiTypes.INT, OpenApiParameter.PATH)


# Errors -----------------------------------------------------------------------------------------
class Conflict(exceptions.APIException):
    """A 409 whose body says why in ``code`` (``overlap`` or one of ``services.CONFLICTS``)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("当前状态不允许这样操作。")
    default_code = "conflict"

    def __init__(self, body: dict):
        # Kept as given (DRF would turn every value into a string, the booking's id too).
        super().__init__()
        self.detail = body


def _codes(exc: DjangoValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        errors = [error for group in exc.error_dict.values() for error in group]
    else:
        errors = exc.error_list
    return {error.code for error in errors if error.code}


@contextmanager
def _service_errors(*, file_field: str | None = None):
    """Turn a service's refusal into the API's answer: an approved booking in the way is a
    409 naming it, a refusal because of the row's state a 409 with its code, a file over the
    limit a 413 and a refused file a 400 on ``file_field``; other refusals stay 400s naming
    their field (``core.api``'s handler)."""
    try:
        yield
    except services.BookingOverlap as exc:
        taken = ConflictingBookingSerializer(exc.booking).data
        if not exc.named:  # someone else's booking: the time taken, not who took it
            taken = {"starts_at": taken["starts_at"], "ends_at": taken["ends_at"]}
        raise Conflict(
            {"detail": str(exc.messages[0]), "code": OVERLAP, "conflicting_booking": taken}
        ) from exc
    except DjangoValidationError as exc:
        codes = _codes(exc)
        if "too_large" in codes:
            raise PayloadTooLarge(exc.messages[0]) from exc
        if not hasattr(exc, "error_dict"):
            if file_field and codes & ATTACHMENT_ERRORS:
                raise exceptions.ValidationError({file_field: exc.messages}) from exc
            conflicts = codes & services.CONFLICTS
            if conflicts:
                code = sorted(conflicts)[0]
                raise Conflict({"detail": str(exc.messages[0]), "code": code}) from exc
        raise


def _parse(serializer_class, request, data=None, **kwargs) -> dict:
    """The request's body (or ``data``), checked by ``serializer_class``; a 400 maps each
    field to its messages, flat."""
    serializer = serializer_class(data=request.data if data is None else data, **kwargs)
    if not serializer.is_valid():
        raise exceptions.ValidationError(
            {field: flat_messages(errors) for field, errors in serializer.errors.items()}
        )
    return dict(serializer.validated_data)


def _required(field: str, message) -> exceptions.ValidationError:
    return exceptions.ValidationError({field: [message]})


def _stream(file, *, content_type: str, filename: str, inline: bool) -> FileResponse:
    try:
        handle = default_storage.open(file.name, "rb")
    except (FileNotFoundError, OSError):
        raise exceptions.NotFound() from None
    response = FileResponse(handle, content_type=content_type)
    disposition = "inline" if inline else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# The reader -------------------------------------------------------------------------------------
class Reader:
    """What the caller may do with each row, from ``rules`` (their seats are read once), the
    direction of a booking for them, and the URLs of what they read."""

    def __init__(self, request):
        self.request = request
        self.user = request.user
        self.today = timezone.localdate(clock.now())
        self._templates: dict[tuple[str, bool], str] = {}

    def may(self, permission: str, obj=None) -> bool:
        return rules.has_perm(permission, self.user, obj)

    def _template(self, view_name: str, *, absolute: bool = True, **kwargs) -> str:
        template = self._templates.get((view_name, absolute))
        if template is None:
            template = reverse(view_name, kwargs=kwargs)
            if absolute:
                template = self.request.build_absolute_uri(template)
            self._templates[(view_name, absolute)] = template
        return template

    def url(self, view_name: str, pk: int, *, absolute: bool = True) -> str:
        template = self._template(view_name, absolute=absolute, pk=PLACEHOLDER)
        return template.replace(str(PLACEHOLDER), str(pk))

    def _nested(self, view_name: str, pk: int, name: str, sub: int) -> str:
        template = self._template(view_name, pk=PLACEHOLDER, **{name: SUB_PLACEHOLDER})
        return template.replace(str(SUB_PLACEHOLDER), str(sub)).replace(str(PLACEHOLDER), str(pk))

    def photo_url(self, photo: ResourcePhoto) -> str:
        return self._nested("api:partner-resource-photo", photo.resource_id, "photo_id", photo.pk)

    def document_url(self, document: AgreementDocument) -> str:
        return self._nested(
            "api:partner-agreement-document", document.agreement_id, "document_id", document.pk
        )

    def direction(self, booking: Booking) -> str | None:
        seats = memberships_of(self.user)
        if booking.resource.partner_id in seats:
            return "incoming"
        if booking.requester_id in seats:
            return "outgoing"
        return None

    def resource_permissions(self, resource: Resource) -> dict:
        return {
            "manage": self.may("partners.manage_resource", resource),
            "book": self.may("partners.book_resource", resource),
        }

    def booking_permissions(self, booking: Booking) -> dict:
        decide = (
            booking.status == Booking.Status.REQUESTED
            and booking.starts_at > clock.now()
            and self.may("partners.decide_booking", booking)
        )
        return {
            "approve": decide,
            "decline": decide,
            "cancel": booking.is_open
            and booking.ends_at > clock.now()
            and self.may("partners.cancel_booking", booking),
        }

    def pledge_permissions(self, pledge: Pledge) -> dict:
        decide = self.may("partners.decide_pledge", pledge)
        offered = pledge.status == Pledge.Status.OFFERED
        return {
            "accept": decide and offered,
            "decline": decide and offered,
            "deliver": decide and pledge.status == Pledge.Status.ACCEPTED,
            "withdraw": pledge.status in (Pledge.Status.OFFERED, Pledge.Status.ACCEPTED)
            and self.may("partners.withdraw_pledge", pledge),
        }

    def agreement_permissions(self, agreement: Agreement) -> dict:
        return {"manage": self.may("partners.manage_agreement", agreement)}

    def shift_permissions(self, shift: VolunteerShift) -> dict:
        return {"manage": self.may("partners.manage_shift", shift)}

    def training_permissions(self, session: TrainingSession) -> dict:
        return {
            "manage": self.may("partners.manage_training", session),
            "view_attendance": self.may("partners.view_attendance", session),
        }


# The shared base --------------------------------------------------------------------------------
class PartnersViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Lists paged with a capped count, ids in the path, JSON bodies, and a :class:`Reader`
    per request."""

    pagination_class = CappedPagination
    lookup_value_regex = r"[0-9]+"
    parser_classes = JSON_ONLY
    summary_serializer: type[serializers.Serializer]
    detail_serializer: type[serializers.Serializer]

    def get_serializer_class(self):
        return self.summary_serializer if self.action == "list" else self.detail_serializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "reader": self.reader}

    @cached_property
    def reader(self) -> Reader:
        return Reader(self.request)

    def _fake(self) -> bool:
        return getattr(self, "swagger_fake_view", False)

    def _require(self, permission: str, obj, message) -> None:
        if not self.reader.may(permission, obj):
            raise exceptions.PermissionDenied(message)

    def _visible(self, queryset, pk):
        found = queryset.filter(pk=pk).first()
        if found is None:
            raise exceptions.NotFound()
        return found

    def _render(self, row, code: int = status.HTTP_200_OK) -> Response:
        return Response(
            self.detail_serializer(row, context=self.get_serializer_context()).data, status=code
        )

    def _acting_organisation(self, given, *, field: str, kind: str | None = None, roles=None):
        """``given``, or the one organisation (of ``kind``) the caller sits in with one of
        ``roles`` (acting roles by default); several or none: a 400 asking to name it."""
        if given is not None:
            return given
        ids = organisation_ids(self.request.user, kind=kind, roles=roles or ACTING_ROLES)
        if len(ids) == 1:
            found = Organisation.objects.filter(pk__in=ids, is_active=True).first()
            if found is not None:
                return found
        raise _required(field, _("请指定单位（您不只在一个单位任职，或没有可用的单位）。"))


# Resources --------------------------------------------------------------------------------------
class WeekQuerySerializer(serializers.Serializer):
    week = BoundedDateField(
        required=False, help_text=_("这一周中的任一天（YYYY-MM-DD），默认本周。")
    )

    def to_internal_value(self, data):
        # A blank parameter would otherwise count as an absent one (DRF reads query strings
        # as form input); it is no date, and the schema says so.
        if data.get("week") == "":
            raise serializers.ValidationError({"week": [_("不能为空。")]})
        return super().to_internal_value(data)


class ResourceViewSet(PartnersViewSet):
    """The resources partners contribute: spaces, counters, equipment, volunteer time,
    parking, funding. Everyone reads the public ones, anyone with a seat the stakeholders-only
    ones, a partner's members all of their partner's (inactive ones too)."""

    filterset_class = ResourceFilter
    queryset = Resource.objects.none()
    summary_serializer = ResourceSummarySerializer
    detail_serializer = ResourceDetailSerializer

    def get_queryset(self):
        if self._fake():
            return Resource.objects.none()
        return queries.resources_visible_to(self.request.user)

    def _resource(self, pk) -> Resource:
        resource = queries.resource_for(self.request.user, pk)
        if resource is None:
            raise exceptions.NotFound()
        return resource

    def _managed(self, pk) -> Resource:
        """A resource the caller's partner owns and they may change: another organisation's
        resource is a 404 (public or not), their own partner's without an acting role a 403."""
        resource = self._resource(pk)
        if not self.reader.may("partners.manage_resource", resource):
            if seat_in(self.request.user, resource.partner_id) is None:
                raise exceptions.NotFound()
            raise exceptions.PermissionDenied(_("只有提供方的管理员和工作人员才能修改资源。"))
        return resource

    def _detail(self, pk, code: int = status.HTTP_200_OK) -> Response:
        return self._render(self._resource(pk), code)

    def list(self, request, *args, **kwargs):
        """The resources the caller may see, by partner and name; ``q`` searches names,
        descriptions and places."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """A resource with its weekly opening rules, photos and what the caller may do."""
        return self._detail(pk)

    @extend_schema(request=ResourceCreateInputSerializer, responses={201: ResourceDetailSerializer})
    def create(self, request):
        """Add a resource to the catalogue of a partner the caller acts for (admin or staff);
        ``partner`` may be left out by those who act for one partner only."""
        self._require("partners.add_resource", None, _("只有企业伙伴的成员才能添加资源。"))
        values = _parse(ResourceCreateInputSerializer, request)
        partner = self._acting_organisation(
            values.pop("partner"), field="partner", kind=Organisation.Kind.PARTNER
        )
        with _service_errors():
            resource = services.resource_create(actor=request.user, partner=partner, data=values)
        return self._detail(resource.pk, status.HTTP_201_CREATED)

    @extend_schema(request=ResourceUpdateInputSerializer, responses={200: ResourceDetailSerializer})
    def partial_update(self, request, pk=None):
        """Change a resource (its partner's admins and staff): only the fields sent change."""
        resource = self._managed(pk)
        values = _parse(ResourceUpdateInputSerializer, request)
        with _service_errors():
            services.resource_update(actor=request.user, resource=resource, data=values)
        return self._detail(resource.pk)

    @extend_schema(
        parameters=[WeekQuerySerializer],
        responses={200: AvailabilityOutputSerializer, 400: BAD_QUERY},
        filters=False,
    )
    @action(detail=True, methods=["get"], filterset_class=None, pagination_class=None)
    def availability(self, request, pk=None):
        """The week holding ``week`` (default: this week), Monday to Sunday in Asia/Shanghai
        time: each day's open windows, closures and pending and approved bookings. Bookings
        of organisations other than the caller's (and the resource's partner's, for its
        members) are taken time only: no id, requester or purpose. A constant number of
        queries, whatever the resource's past."""
        query = WeekQuerySerializer(data=request.query_params)
        if not query.is_valid():
            raise exceptions.ValidationError(
                {field: flat_messages(errors) for field, errors in query.errors.items()}
            )
        resource = self._visible(queries.resources_visible_to(request.user), pk)
        day = query.validated_data.get("week") or self.reader.today
        week = queries.week(resource, queries.monday_of(day), user=request.user)
        body = {
            "resource": resource,
            "week": week.monday,
            "previous_week": week.previous,
            "next_week": week.next,
            "timezone": timezone.get_current_timezone_name(),
            "days": calendar_rows(week),
        }
        return Response(
            AvailabilityOutputSerializer(body, context=self.get_serializer_context()).data
        )

    @extend_schema(
        methods=["GET"], request=None, responses={200: OpeningRulesOutputSerializer}, filters=False
    )
    @extend_schema(
        methods=["PUT"],
        request=OpeningRulesInputSerializer,
        responses={200: OpeningRulesOutputSerializer},
    )
    @action(
        detail=True,
        methods=["get", "put"],
        url_path="opening-rules",
        url_name="opening-rules",
        filterset_class=None,
        pagination_class=None,
    )
    def opening_rules(self, request, pk=None):
        """The weekly windows in which the resource may be booked (weekday 0 is Monday; a
        window closing at 00:00 runs to midnight). ``PUT`` replaces them all (its partner's
        admins and staff); windows of one day may not overlap."""
        if request.method == "GET":
            resource = self._resource(pk)
        else:
            resource = self._managed(pk)
            data = _parse(OpeningRulesInputSerializer, request)
            windows = [(rule["weekday"], rule["opens"], rule["closes"]) for rule in data["rules"]]
            with _service_errors():
                services.resource_set_opening_rules(
                    actor=request.user, resource=resource, windows=windows
                )
            resource = self._resource(pk)
        return Response(OpeningRulesOutputSerializer({"rules": resource.opening_rules.all()}).data)

    @extend_schema(
        parameters=[PHOTO_ID],
        responses={
            (200, content_type): OpenApiTypes.BINARY
            for content_type in ("image/jpeg", "image/png", "image/webp")
        },
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"photos/(?P<photo_id>[0-9]+)",
        url_name="photo",
        filterset_class=None,
        pagination_class=None,
    )
    def photo(self, request, pk=None, photo_id=None):
        """A photo of a resource the caller may see (checked and re-encoded on upload)."""
        resource = self._visible(queries.resources_visible_to(request.user), pk)
        found = ResourcePhoto.objects.filter(resource=resource, pk=photo_id).first()
        if found is None:
            raise exceptions.NotFound()
        extension = found.file.name.rsplit(".", 1)[-1]
        return _stream(
            found.file,
            content_type=found.content_type,
            filename=f"resource-{resource.pk}-{found.pk}.{extension}",
            inline=True,
        )


# Bookings ---------------------------------------------------------------------------------------
class BookingViewSet(PartnersViewSet):
    """Bookings of partners' resources. Each side sees its bookings: the organisation that
    asked and the partner that was asked; nobody else."""

    filterset_class = BookingFilter
    queryset = Booking.objects.none()
    summary_serializer = BookingSummarySerializer
    detail_serializer = BookingDetailSerializer

    def get_queryset(self):
        if self._fake():
            return Booking.objects.none()
        return queries.bookings_visible_to(self.request.user)

    def _booking(self, pk) -> Booking:
        booking = queries.booking_for(self.request.user, pk)
        if booking is None:
            raise exceptions.NotFound()
        return booking

    def list(self, request, *args, **kwargs):
        """Bookings the caller's organisations made (``direction=outgoing``) or were asked
        for (``incoming``), latest start first unless ``ordering`` says otherwise."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """A booking, with what the caller may do with it."""
        return self._render(self._booking(pk))

    @extend_schema(
        request=BookingCreateInputSerializer,
        responses={201: BookingDetailSerializer, 409: BOOKING_CONFLICT},
    )
    def create(self, request):
        """Request a resource for a time range, for an organisation the caller acts for (not
        the resource's partner). The time must lie in the future, within one open window of
        the resource and its longest booking (400 naming the field otherwise); time an
        approved booking holds is a 409 giving that booking's time (and, to those who may
        read it, the booking). Requests may overlap each other until one is approved."""
        self._require("partners.book_resource", None, _("只有单位的管理员和工作人员才能预约资源。"))
        values = _parse(BookingCreateInputSerializer, request)
        resource = queries.resources_visible_to(request.user).filter(pk=values["resource"]).first()
        if resource is None:
            raise _required("resource", _("没有找到这项资源。"))
        self._require(
            "partners.book_resource",
            resource,
            _("这项资源不接受预约，或您只能以提供方以外的单位名义预约。"),
        )
        requester = values["requester"]
        if requester is None:
            ids = organisation_ids(request.user, roles=ACTING_ROLES) - {resource.partner_id}
            requester = Organisation.objects.filter(pk__in=ids, is_active=True).first()
            if len(ids) != 1 or requester is None:
                raise _required("requester", _("请指定以哪个单位的名义预约。"))
        with _service_errors():
            booking = services.booking_request(
                actor=request.user,
                resource=resource,
                requester=requester,
                starts_at=values["starts_at"],
                ends_at=values["ends_at"],
                purpose=values["purpose"],
            )
        return self._render(self._booking(booking.pk), status.HTTP_201_CREATED)

    @extend_schema(request=None, responses={200: BookingDetailSerializer, 409: BOOKING_CONFLICT})
    @action(detail=True, methods=["post"], filterset_class=None)
    def approve(self, request, pk=None):
        """Approve a pending request (the resource's partner, admins and staff). Time another
        approved booking holds is a 409 naming it; so is a request already answered, one
        whose start has passed, or one of a resource no longer taking bookings (with its
        code)."""
        booking = self._booking(pk)
        self._require(
            "partners.decide_booking", booking, _("只有资源提供方的工作人员才能审批预约。")
        )
        with _service_errors():
            services.booking_approve(actor=request.user, booking=booking)
        return self._render(self._booking(pk))

    @extend_schema(
        request=ReasonInputSerializer,
        responses={200: BookingDetailSerializer, 409: BOOKING_CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def decline(self, request, pk=None):
        """Decline a pending request with a reason the requester reads (the resource's
        partner)."""
        booking = self._booking(pk)
        self._require(
            "partners.decide_booking", booking, _("只有资源提供方的工作人员才能审批预约。")
        )
        data = _parse(ReasonInputSerializer, request)
        with _service_errors():
            services.booking_decline(actor=request.user, booking=booking, reason=data["reason"])
        return self._render(self._booking(pk))

    @extend_schema(
        request=ReasonInputSerializer,
        responses={200: BookingDetailSerializer, 409: BOOKING_CONFLICT},
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def cancel(self, request, pk=None):
        """Call off a pending or approved booking that has not ended (the acting members of
        either side), with a reason the other side reads."""
        booking = self._booking(pk)
        self._require(
            "partners.cancel_booking", booking, _("只有预约双方的管理员和工作人员才能取消预约。")
        )
        data = _parse(ReasonInputSerializer, request)
        with _service_errors():
            services.booking_cancel(actor=request.user, booking=booking, reason=data["reason"])
        return self._render(self._booking(pk))


# Pledges ----------------------------------------------------------------------------------------
class PledgeViewSet(PartnersViewSet):
    """Partners' pledges of resources or funding to proposals and cases. Live pledges to
    public proposals and cases are public; the rest are seen by the partner and by the
    organisation responsible for the proposal or case."""

    filterset_class = PledgeFilter
    queryset = Pledge.objects.none()
    summary_serializer = PledgeSummarySerializer
    detail_serializer = PledgeDetailSerializer

    def get_queryset(self):
        if self._fake():
            return Pledge.objects.none()
        return queries.pledges_visible_to(self.request.user)

    def _pledge(self, pk) -> Pledge:
        return self._visible(queries.pledges_visible_to(self.request.user), pk)

    def list(self, request, *args, **kwargs):
        """The pledges the caller may see, newest first."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """A pledge, with what the caller may do with it."""
        return self._render(self._pledge(pk))

    @extend_schema(request=PledgeCreateInputSerializer, responses={201: PledgeDetailSerializer})
    def create(self, request):
        """Pledge (a partner's admins and staff) a quantity of one of the partner's resources,
        or money, to a proposal being collected, evaluated or carried out, or to an open case,
        for a period; the responsible organisation is told."""
        self._require("partners.add_pledge", None, _("只有企业伙伴的工作人员才能作出承诺。"))
        values = _parse(PledgeCreateInputSerializer, request, cases=cases_visible_to(request.user))
        partner = self._acting_organisation(
            values.pop("partner"), field="partner", kind=Organisation.Kind.PARTNER
        )
        proposal = None
        if values["proposal"] is not None:
            proposal = proposals_visible_to(request.user).filter(pk=values["proposal"]).first()
            if proposal is None:
                raise _required("proposal", _("没有找到这条建议。"))
        resource = None
        if values["resource"] is not None:
            visible = queries.resources_visible_to(request.user)
            resource = visible.filter(pk=values["resource"]).first()
            if resource is None:
                raise _required("resource", _("没有找到这项资源。"))
        with _service_errors():
            pledge = services.pledge_offer(
                actor=request.user,
                partner=partner,
                quantity=values["quantity"],
                starts_on=values["starts_on"],
                ends_on=values["ends_on"],
                proposal=proposal,
                case=values["case"],
                resource=resource,
                unit=values["unit"],
                note=values["note"],
            )
        return self._render(self._pledge(pledge.pk), status.HTTP_201_CREATED)

    def _answer(self, request, pk, write, message, *, reason: bool, permission: str):
        pledge = self._pledge(pk)
        self._require(permission, pledge, message)
        extra = {"reason": _parse(ReasonInputSerializer, request)["reason"]} if reason else {}
        with _service_errors():
            write(actor=request.user, pledge=pledge, **extra)
        return self._render(self._pledge(pk))

    @extend_schema(request=None, responses={200: PledgeDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], filterset_class=None)
    def accept(self, request, pk=None):
        """Accept an offered pledge (the acting members of the organisation responsible for
        the proposal or case)."""
        return self._answer(
            request,
            pk,
            services.pledge_accept,
            _("只有负责单位的工作人员才能接受承诺。"),
            reason=False,
            permission="partners.decide_pledge",
        )

    @extend_schema(
        request=ReasonInputSerializer, responses={200: PledgeDetailSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def decline(self, request, pk=None):
        """Decline an offered pledge with a reason the partner reads (the responsible
        organisation)."""
        return self._answer(
            request,
            pk,
            services.pledge_decline,
            _("只有负责单位的工作人员才能谢绝承诺。"),
            reason=True,
            permission="partners.decide_pledge",
        )

    @extend_schema(request=None, responses={200: PledgeDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], filterset_class=None)
    def deliver(self, request, pk=None):
        """Confirm an accepted pledge was delivered (the responsible organisation); it then
        shows on the proposal's implementation timeline."""
        return self._answer(
            request,
            pk,
            services.pledge_deliver,
            _("只有负责单位的工作人员才能确认承诺已兑现。"),
            reason=False,
            permission="partners.decide_pledge",
        )

    @extend_schema(
        request=ReasonInputSerializer, responses={200: PledgeDetailSerializer, 409: CONFLICT}
    )
    @action(detail=True, methods=["post"], filterset_class=None)
    def withdraw(self, request, pk=None):
        """Withdraw a pledge not yet delivered, with a reason (the partner's admins and
        staff)."""
        return self._answer(
            request,
            pk,
            services.pledge_withdraw,
            _("只有承诺方的工作人员才能撤回承诺。"),
            reason=True,
            permission="partners.withdraw_pledge",
        )


# Agreements -------------------------------------------------------------------------------------
class AgreementViewSet(PartnersViewSet):
    """Cooperation agreements between a partner and departments, read by the members of
    either side and kept by their admins."""

    filterset_class = AgreementFilter
    queryset = Agreement.objects.none()
    summary_serializer = AgreementSummarySerializer
    detail_serializer = AgreementDetailSerializer

    def get_queryset(self):
        if self._fake():
            return Agreement.objects.none()
        return queries.agreements_visible_to(self.request.user)

    def _agreement(self, pk) -> Agreement:
        return self._visible(queries.agreements_visible_to(self.request.user), pk)

    def list(self, request, *args, **kwargs):
        """The agreements of the caller's organisations, the soonest to end first; ``expired``
        flags an active agreement past its end."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """An agreement with its departments and documents."""
        return self._render(self._agreement(pk))

    @extend_schema(
        request=AgreementCreateInputSerializer, responses={201: AgreementDetailSerializer}
    )
    def create(self, request):
        """Record an agreement (the admins of the partner or of one of the departments), a
        draft unless ``status`` says otherwise: it takes effect (``active``) only on the word
        of an admin of one of its departments. ``partner`` may be left out by the admin of
        one partner only."""
        self._require("partners.manage_agreement", None, _("只有协议双方的管理员才能登记协议。"))
        values = _parse(AgreementCreateInputSerializer, request)
        partner = self._acting_organisation(
            values.pop("partner"),
            field="partner",
            kind=Organisation.Kind.PARTNER,
            roles={Membership.Role.ADMIN},
        )
        departments = values.pop("departments")
        agreement_status = values.pop("status")
        with _service_errors():
            agreement = services.agreement_create(
                actor=request.user,
                partner=partner,
                departments=departments,
                data=values,
                status=agreement_status,
            )
        return self._render(self._agreement(agreement.pk), status.HTTP_201_CREATED)

    @extend_schema(
        request=AgreementUpdateInputSerializer,
        responses={200: AgreementDetailSerializer, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        """Change an agreement (the admins of either side): only the fields sent change; a
        new end date rearms the expiry reminders. A draft is put in force (``active``) by an
        admin of one of its departments; in force, it may only be terminated, and its
        departments no longer change (409 ``not_draft``)."""
        agreement = self._agreement(pk)
        self._require(
            "partners.manage_agreement", agreement, _("只有协议双方的管理员才能修改协议。")
        )
        values = _parse(AgreementUpdateInputSerializer, request)
        departments = values.pop("departments", None)
        agreement_status = values.pop("status", None)
        with _service_errors():
            services.agreement_update(
                actor=request.user,
                agreement=agreement,
                data=values,
                departments=departments,
                status=agreement_status,
            )
        return self._render(self._agreement(pk))

    @extend_schema(
        request={"multipart/form-data": AgreementDocumentInputSerializer},
        responses={201: AgreementDocumentOutputSerializer, 413: TOO_LARGE},
    )
    @action(
        detail=True,
        methods=["post"],
        parser_classes=(MultiPartParser,),
        filterset_class=None,
        pagination_class=None,
    )
    def documents(self, request, pk=None):
        """Attach a PDF (a signed copy, an annex) of at most 10 MB (the admins of either
        side). It is read back through its ``url``, which checks permission again."""
        agreement = self._agreement(pk)
        self._require(
            "partners.manage_agreement", agreement, _("只有协议双方的管理员才能上传文件。")
        )
        data = _parse(AgreementDocumentInputSerializer, request)
        with _service_errors(file_field="file"):
            document = services.agreement_attach(
                actor=request.user, agreement=agreement, upload=data["file"], title=data["title"]
            )
        return Response(
            AgreementDocumentOutputSerializer(document, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[DOCUMENT_ID],
        responses={(200, "application/pdf"): OpenApiTypes.BINARY},
        filters=False,
    )
    @action(
        detail=True,
        methods=["get"],
        url_path=r"documents/(?P<document_id>[0-9]+)",
        url_name="document",
        filterset_class=None,
        pagination_class=None,
    )
    def document(self, request, pk=None, document_id=None):
        """A document of an agreement the caller may read, as a PDF download."""
        agreement = self._agreement(pk)
        found = AgreementDocument.objects.filter(agreement=agreement, pk=document_id).first()
        if found is None:
            raise exceptions.NotFound()
        return _stream(
            found.file,
            content_type="application/pdf",
            filename=f"agreement-{agreement.pk}-{found.pk}.pdf",
            inline=False,
        )


# Volunteers -------------------------------------------------------------------------------------
class ShiftViewSet(PartnersViewSet):
    """Volunteer shifts partners staff at stations: kept by the partner's admins and staff,
    read by the partner's members and by the departments at the shift's station."""

    filterset_class = ShiftFilter
    queryset = VolunteerShift.objects.none()
    summary_serializer = ShiftSummarySerializer
    detail_serializer = ShiftDetailSerializer

    def get_queryset(self):
        if self._fake():
            return VolunteerShift.objects.none()
        return queries.shifts_visible_to(self.request.user)

    def _shift(self, pk) -> VolunteerShift:
        return self._visible(queries.shifts_visible_to(self.request.user), pk)

    def list(self, request, *args, **kwargs):
        """The shifts the caller may see, the earliest first."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """A shift, with its hours."""
        return self._render(self._shift(pk))

    @extend_schema(request=ShiftCreateInputSerializer, responses={201: ShiftDetailSerializer})
    def create(self, request):
        """Schedule a volunteer (a partner's admins and staff); at most 12 hours a shift."""
        self._require("partners.manage_shift", None, _("只有企业伙伴的工作人员才能排班。"))
        values = _parse(ShiftCreateInputSerializer, request)
        partner = self._acting_organisation(
            values.pop("partner"), field="partner", kind=Organisation.Kind.PARTNER
        )
        with _service_errors():
            shift = services.shift_create(actor=request.user, partner=partner, data=values)
        return self._render(self._shift(shift.pk), status.HTTP_201_CREATED)

    @extend_schema(request=ShiftUpdateInputSerializer, responses={200: ShiftDetailSerializer})
    def partial_update(self, request, pk=None):
        """Change a shift, its status included: ``done`` counts its hours (once it has
        started), ``missed`` and ``cancelled`` do not."""
        shift = self._shift(pk)
        self._require("partners.manage_shift", shift, _("只有该企业伙伴的工作人员才能排班。"))
        values = _parse(ShiftUpdateInputSerializer, request)
        with _service_errors():
            services.shift_update(actor=request.user, shift=shift, data=values)
        return self._render(self._shift(pk))


# Training ---------------------------------------------------------------------------------------
class TrainingViewSet(PartnersViewSet):
    """Training sessions for staff and volunteers: anyone with a seat reads them; the
    organiser's admins and staff keep them and their attendance."""

    filterset_class = TrainingFilter
    queryset = TrainingSession.objects.none()
    summary_serializer = TrainingSummarySerializer
    detail_serializer = TrainingDetailSerializer

    def get_queryset(self):
        if self._fake():
            return TrainingSession.objects.none()
        return queries.trainings_visible_to(self.request.user)

    def _session(self, pk) -> TrainingSession:
        return self._visible(queries.trainings_visible_to(self.request.user), pk)

    def list(self, request, *args, **kwargs):
        """Training sessions, the latest first."""
        return super().list(request, *args, **kwargs)

    def retrieve(self, request, pk=None):
        """A training session."""
        return self._render(self._session(pk))

    @extend_schema(request=TrainingCreateInputSerializer, responses={201: TrainingDetailSerializer})
    def create(self, request):
        """Record a session for an organisation the caller acts for (``organiser`` may be
        left out by those who act for one only)."""
        self._require(
            "partners.manage_training", None, _("只有单位的管理员和工作人员才能登记培训。")
        )
        values = _parse(TrainingCreateInputSerializer, request)
        organiser = self._acting_organisation(values.pop("organiser"), field="organiser")
        with _service_errors():
            session = services.training_create(actor=request.user, organiser=organiser, data=values)
        return self._render(self._session(session.pk), status.HTTP_201_CREATED)

    @extend_schema(request=TrainingUpdateInputSerializer, responses={200: TrainingDetailSerializer})
    def partial_update(self, request, pk=None):
        """Change a session (the organiser's admins and staff)."""
        session = self._session(pk)
        self._require(
            "partners.manage_training", session, _("只有主办单位的工作人员才能修改培训。")
        )
        values = _parse(TrainingUpdateInputSerializer, request)
        with _service_errors():
            services.training_update(actor=request.user, session=session, data=values)
        return self._render(self._session(pk))

    @extend_schema(
        methods=["GET"], request=None, responses={200: AttendanceOutputSerializer}, filters=False
    )
    @extend_schema(
        methods=["PUT"],
        request=AttendanceInputSerializer,
        responses={200: AttendanceOutputSerializer},
    )
    @action(
        detail=True,
        methods=["get", "put"],
        filterset_class=None,
        pagination_class=None,
    )
    def attendance(self, request, pk=None):
        """The session's trainees and who attended (the organiser's members). ``PUT``
        replaces the list (its admins and staff); attendance is recorded once the session
        has started."""
        session = self._session(pk)
        if request.method == "GET":
            self._require(
                "partners.view_attendance", session, _("只有主办单位的成员才能查看参训名单。")
            )
        else:
            self._require(
                "partners.manage_training", session, _("只有主办单位的工作人员才能登记出勤。")
            )
            data = _parse(AttendanceInputSerializer, request)
            with _service_errors():
                services.attendance_record(
                    actor=request.user, session=session, attendees=data["attendees"]
                )
        attendees = Attendance.objects.filter(session=session).select_related("organisation")
        return Response(AttendanceOutputSerializer({"attendees": attendees}).data)
