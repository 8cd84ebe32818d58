"""Serializers of the partners API: input ones that parse a request, output ones that render.

Input and output are separate classes (what a client sends differs from what it reads back).
Output serializers are plain ``Serializer`` classes reading the relations ``queries`` already
joined; what depends on the reader (the direction of a booking, what they may do with a row)
is decided by the view through ``rules`` and passed in the context as ``reader``, which also
builds the rows' URLs once per response.

Organisations and stations are named by their slug, cases by their reference, everything
else by its id. Times are ISO 8601; a time without an offset is Asia/Shanghai time, and
answers give every time with its offset (+08:00).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from governance.cases.models import Case
from governance.cases.serializers import StrictBooleanField, TextField
from governance.core.api import HourMinuteField, RowUrlField
from governance.proposals.serializers import IdField, SlugRefField
from governance.stakeholders.models import Organisation
from governance.stations.models import Station
from governance.stations.serializers import OrganisationRefSerializer, StationRefSerializer
from partners.models import (
    MAX_BOOKING_MINUTES,
    Agreement,
    Booking,
    Kind,
    Pledge,
    Unit,
    Visibility,
    VolunteerShift,
)
from partners.services import CONFLICTS

# Dates and times the API takes: wide enough for any real plan, narrow enough that no
# arithmetic on them (a week after, the local day of) leaves the calendar.
FIRST_DAY = dt.date(2000, 1, 1)
LAST_DAY = dt.date(2100, 12, 31)
MAX_RULES = 50
MAX_ATTENDEES = 500
MAX_DEPARTMENTS = 20
WEEKDAYS = [(0, "Mon"), (1, "Tue"), (2, "Wed"), (3, "Thu"), (4, "Fri"), (5, "Sat"), (6, "Sun")]
DIRECTIONS = [("incoming", _("收到的预约")), ("outgoing", _("发出的预约"))]
OVERLAP = "overlap"
# The bookings a calendar shows (ENUM_NAME_OVERRIDES names this set).
CALENDAR_STATUSES = [
    (value, label)
    for value, label in Booking.Status.choices
    if value in (Booking.Status.REQUESTED, Booking.Status.APPROVED)
]


# Input fields -----------------------------------------------------------------------------------
def _out_of_range():
    return _("日期必须在 %(first)s 至 %(last)s 之间。") % {"first": FIRST_DAY, "last": LAST_DAY}


class BoundedDateField(serializers.DateField):
    """A date between 2000-01-01 and 2100-12-31, as ``YYYY-MM-DD``."""

    def to_internal_value(self, value):
        day = super().to_internal_value(value)
        if not FIRST_DAY <= day <= LAST_DAY:
            raise serializers.ValidationError(_out_of_range())
        return day


class BoundedDateTimeField(serializers.DateTimeField):
    """A moment between 2000 and 2100, ISO 8601; without an offset it is Asia/Shanghai time."""

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if not FIRST_DAY <= moment.date() <= LAST_DAY:
            raise serializers.ValidationError(_out_of_range())
        return moment


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0.01, "maximum": 9999999999.99},
            {"type": "string", "format": "decimal", "pattern": r"^\d{1,10}(\.\d{1,2})?$"},
        ]
    }
)
class QuantityField(serializers.DecimalField):
    """A positive amount with at most two decimals, as a number or a decimal string."""

    def __init__(self, **kwargs):
        super().__init__(max_digits=12, decimal_places=2, min_value=Decimal("0.01"), **kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


@extend_schema_field(
    {
        "oneOf": [
            {"type": "number", "minimum": 0.5, "maximum": 40},
            {"type": "string", "format": "decimal", "pattern": r"^\d{1,2}(\.\d)?$"},
        ]
    }
)
class HoursField(serializers.DecimalField):
    """Training hours: 0.5 to 40, one decimal."""

    def __init__(self, **kwargs):
        super().__init__(
            max_digits=4,
            decimal_places=1,
            min_value=Decimal("0.5"),
            max_value=Decimal("40"),
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictIntegerField(serializers.IntegerField):
    """An integer, nothing else (DRF would also take ``"5"``, ``5.0`` and ``true``)."""

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def _organisation_field(kind: str | None = None, **kwargs) -> SlugRefField:
    queryset = Organisation.objects.filter(is_active=True)
    if kind is not None:
        queryset = queryset.filter(kind=kind)
    kwargs.setdefault("required", False)
    kwargs.setdefault("allow_null", True)
    kwargs.setdefault("default", None)
    return SlugRefField(slug_field="slug", queryset=queryset, **kwargs)


def _partner_field(help_text) -> SlugRefField:
    return _organisation_field(Organisation.Kind.PARTNER, help_text=help_text)


def _station_field(**kwargs) -> SlugRefField:
    return SlugRefField(
        slug_field="slug", queryset=Station.objects.all(), help_text=_("站点标识。"), **kwargs
    )


def _text(limit: int, **kwargs) -> TextField:
    return TextField(max_length=limit, **kwargs)


def _optional_text(limit: int, **kwargs) -> TextField:
    kwargs.setdefault("default", "")
    return TextField(max_length=limit, required=False, allow_blank=True, **kwargs)


PARTNER_HELP = _("企业伙伴标识；只在一个企业伙伴任职时可不填。")


@extend_schema_field(OpenApiTypes.URI)
class ApiUrlField(serializers.Field):
    """The absolute API URL of a row named by its id, from the reader's templates (reversed
    once per response: ``core.api.RowUrlField``'s placeholder is no id)."""

    def __init__(self, view_name: str, **kwargs):
        self.view_name = view_name
        kwargs.update(source="*", read_only=True)
        super().__init__(**kwargs)

    def to_representation(self, instance) -> str:
        return self.context["reader"].url(self.view_name, instance.pk)


@extend_schema_field({"type": "string", "format": "uri-reference"})
class PagePathField(ApiUrlField):
    """The path of the row's page on the site (``partners:…``)."""

    def to_representation(self, instance) -> str:
        return self.context["reader"].url(self.view_name, instance.pk, absolute=False)


# Input: resources -------------------------------------------------------------------------------
class ResourceUpdateInputSerializer(serializers.Serializer):
    """A change to a resource: only the fields sent change."""

    kind = serializers.ChoiceField(choices=Kind.choices, required=False)
    name_zh = _text(120, required=False)
    name_en = TextField(max_length=160, required=False, allow_blank=True)
    description_zh = TextField(max_length=4_000, required=False, allow_blank=True)
    description_en = TextField(max_length=4_000, required=False, allow_blank=True)
    station = _station_field(required=False, allow_null=True)
    place_zh = TextField(max_length=120, required=False, allow_blank=True)
    place_en = TextField(max_length=160, required=False, allow_blank=True)
    quantity = QuantityField(required=False, help_text=_("容量或数量。"))
    unit = serializers.ChoiceField(choices=Unit.choices, required=False)
    visibility = serializers.ChoiceField(
        choices=Visibility.choices,
        required=False,
        help_text=_("public：所有人可见；stakeholders：仅在任一单位任职的人可见。"),
    )
    bookable = StrictBooleanField(
        required=False, help_text=_("是否接受预约（资金类资源总是不接受）。")
    )
    max_booking_minutes = StrictIntegerField(
        required=False, min_value=15, max_value=MAX_BOOKING_MINUTES
    )
    is_active = StrictBooleanField(required=False)


class ResourceCreateInputSerializer(serializers.Serializer):
    partner = _partner_field(PARTNER_HELP)
    kind = serializers.ChoiceField(choices=Kind.choices)
    name_zh = _text(120)
    name_en = _optional_text(160)
    description_zh = _optional_text(4_000)
    description_en = _optional_text(4_000)
    station = _station_field(required=False, allow_null=True, default=None)
    place_zh = _optional_text(120, help_text=_("在商场中的位置，例如“一层中庭”。"))
    place_en = _optional_text(160)
    quantity = QuantityField(help_text=_("容量或数量。"))
    unit = serializers.ChoiceField(choices=Unit.choices)
    visibility = serializers.ChoiceField(choices=Visibility.choices, default=Visibility.PUBLIC)
    bookable = StrictBooleanField(default=True)
    max_booking_minutes = StrictIntegerField(
        min_value=15, max_value=MAX_BOOKING_MINUTES, default=8 * 60
    )
    is_active = StrictBooleanField(default=True)


class OpeningRuleSerializer(serializers.Serializer):
    """A weekly window: ``weekday`` 0 (Monday) to 6 (Sunday); ``closes`` 00:00 is midnight at
    the end of the day."""

    weekday = StrictIntegerField(min_value=0, max_value=6)
    opens = HourMinuteField()
    closes = HourMinuteField(help_text=_("00:00 表示当天结束（24:00）。"))


class OpeningRulesInputSerializer(serializers.Serializer):
    rules = serializers.ListField(
        child=OpeningRuleSerializer(),
        max_length=MAX_RULES,
        allow_empty=True,
        help_text=_("新的每周开放时段，整体替换原有规则；空列表表示不再按周开放。"),
    )


# Input: bookings --------------------------------------------------------------------------------
class BookingCreateInputSerializer(serializers.Serializer):
    resource = IdField(help_text=_("要预约的资源编号。"))
    requester = _organisation_field(
        help_text=_("以哪个单位的名义预约（单位标识）；只在一个其他单位任职时可不填。")
    )
    starts_at = BoundedDateTimeField()
    ends_at = BoundedDateTimeField()
    purpose = _text(500, help_text=_("用途，例如“交通安全宣传活动”。"))


class ReasonInputSerializer(serializers.Serializer):
    reason = _text(500, help_text=_("原因，对方可见。"))


# Input: pledges ---------------------------------------------------------------------------------
class PledgeCreateInputSerializer(serializers.Serializer):
    """An offer to a proposal (``proposal``) or a case (``case``): exactly one of them."""

    partner = _partner_field(PARTNER_HELP)
    proposal = IdField(required=False, allow_null=True, default=None, help_text=_("建议编号。"))
    case = SlugRefField(
        slug_field="reference",
        queryset=Case.objects.none(),  # per request: the cases the caller may see
        required=False,
        allow_null=True,
        default=None,
        help_text=_("事项编号（reference）。"),
    )
    resource = IdField(
        required=False,
        allow_null=True,
        default=None,
        help_text=_("承诺的本单位资源编号；承诺资金时不填。"),
    )
    quantity = QuantityField()
    unit = serializers.ChoiceField(
        choices=Unit.choices,
        required=False,
        allow_blank=True,
        default="",
        help_text=_("不填时用资源的单位（资金为元）。"),
    )
    note = _optional_text(500)
    starts_on = BoundedDateField()
    ends_on = BoundedDateField()

    def __init__(self, *args, cases=None, **kwargs):
        super().__init__(*args, **kwargs)
        if cases is not None:
            self.fields["case"].queryset = cases


# Input: agreements ------------------------------------------------------------------------------
def _departments_field(**kwargs) -> serializers.ListField:
    return serializers.ListField(
        child=_organisation_field(
            Organisation.Kind.DEPARTMENT, required=True, allow_null=False, default=serializers.empty
        ),
        min_length=1,
        max_length=MAX_DEPARTMENTS,
        help_text=_("合作部门的标识。"),
        **kwargs,
    )


class AgreementCreateInputSerializer(serializers.Serializer):
    partner = _partner_field(_("企业伙伴标识；只在一个企业伙伴任职时可不填。"))
    departments = _departments_field()
    title_zh = _text(200)
    title_en = _optional_text(250)
    scope_zh = _text(5_000)
    scope_en = _optional_text(5_000)
    starts_on = BoundedDateField()
    ends_on = BoundedDateField()
    status = serializers.ChoiceField(choices=Agreement.Status.choices, default="draft")


class AgreementUpdateInputSerializer(serializers.Serializer):
    departments = _departments_field(required=False)
    title_zh = _text(200, required=False)
    title_en = TextField(max_length=250, required=False, allow_blank=True)
    scope_zh = _text(5_000, required=False)
    scope_en = TextField(max_length=5_000, required=False, allow_blank=True)
    starts_on = BoundedDateField(required=False)
    ends_on = BoundedDateField(required=False)
    status = serializers.ChoiceField(choices=Agreement.Status.choices, required=False)


class AgreementDocumentInputSerializer(serializers.Serializer):
    title = _text(200)
    file = serializers.FileField(max_length=200, help_text=_("PDF 文件，不超过 10 MB。"))


# Input: shifts and training ---------------------------------------------------------------------
class ShiftUpdateInputSerializer(serializers.Serializer):
    station = _station_field(required=False)
    volunteer = _text(80, required=False, help_text=_("志愿者姓名。"))
    role = _text(80, required=False, help_text=_("岗位，例如“引导员”。"))
    starts_at = BoundedDateTimeField(required=False)
    ends_at = BoundedDateTimeField(required=False)
    status = serializers.ChoiceField(choices=VolunteerShift.Status.choices, required=False)


class ShiftCreateInputSerializer(serializers.Serializer):
    partner = _partner_field(PARTNER_HELP)
    station = _station_field()
    volunteer = _text(80, help_text=_("志愿者姓名。"))
    role = _text(80, help_text=_("岗位，例如“引导员”。"))
    starts_at = BoundedDateTimeField()
    ends_at = BoundedDateTimeField()
    status = serializers.ChoiceField(choices=VolunteerShift.Status.choices, default="scheduled")


class TrainingUpdateInputSerializer(serializers.Serializer):
    topic_zh = _text(200, required=False)
    topic_en = TextField(max_length=250, required=False, allow_blank=True)
    trainer = _text(120, required=False)
    station = _station_field(required=False, allow_null=True)
    location = TextField(max_length=200, required=False, allow_blank=True)
    starts_at = BoundedDateTimeField(required=False)
    hours = HoursField(required=False)
    description = TextField(max_length=4_000, required=False, allow_blank=True)


class TrainingCreateInputSerializer(serializers.Serializer):
    organiser = _organisation_field(
        help_text=_("主办单位标识；只在一个单位任职（管理员或工作人员）时可不填。")
    )
    topic_zh = _text(200)
    topic_en = _optional_text(250)
    trainer = _text(120)
    station = _station_field(required=False, allow_null=True, default=None)
    location = _optional_text(200)
    starts_at = BoundedDateTimeField()
    hours = HoursField()
    description = _optional_text(4_000)


class AttendeeSerializer(serializers.Serializer):
    name = _text(80)
    organisation = _organisation_field(
        required=True, allow_null=False, default=serializers.empty, help_text=_("所属单位标识。")
    )
    attended = StrictBooleanField(default=False, help_text=_("培训开始后才能登记为已出席。"))


class AttendanceInputSerializer(serializers.Serializer):
    attendees = serializers.ListField(
        child=AttendeeSerializer(),
        max_length=MAX_ATTENDEES,
        allow_empty=True,
        help_text=_("完整的参训名单，整体替换原有名单；姓名不能重复。"),
    )


# Output: references -----------------------------------------------------------------------------
class ResourceRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    url = ApiUrlField("api:partner-resource-detail")


class ProposalRefSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    url = ApiUrlField("api:proposal-detail")


class CaseRefSerializer(serializers.Serializer):
    """A case: its title only when the case is public."""

    reference = serializers.CharField(read_only=True)
    title = serializers.SerializerMethodField()
    url = RowUrlField("api:case-detail", "reference")

    @extend_schema_field({"type": "string", "nullable": True})
    def get_title(self, case) -> str | None:
        return case.title if case.is_public else None


class TimeSpanSerializer(serializers.Serializer):
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)


# Output: resources ------------------------------------------------------------------------------
class ResourcePhotoOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    caption = serializers.CharField(read_only=True)
    content_type = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    url = serializers.SerializerMethodField(help_text=_("下载地址（检查查看权限）。"))

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, photo) -> str:
        return self.context["reader"].photo_url(photo)


class ResourceSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-resource-detail")
    page_url = PagePathField("partners:resource")
    partner = OrganisationRefSerializer(read_only=True)
    kind = serializers.ChoiceField(choices=Kind.choices, read_only=True)
    kind_label = serializers.CharField(source="get_kind_display", read_only=True)
    name = serializers.CharField(read_only=True)
    name_zh = serializers.CharField(read_only=True)
    name_en = serializers.CharField(read_only=True)
    description = serializers.CharField(read_only=True)
    description_zh = serializers.CharField(read_only=True)
    description_en = serializers.CharField(read_only=True)
    station = StationRefSerializer(read_only=True, allow_null=True)
    place = serializers.CharField(read_only=True)
    place_zh = serializers.CharField(read_only=True)
    place_en = serializers.CharField(read_only=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    unit_label = serializers.CharField(source="get_unit_display", read_only=True)
    visibility = serializers.ChoiceField(choices=Visibility.choices, read_only=True)
    bookable = serializers.BooleanField(read_only=True)
    max_booking_minutes = serializers.IntegerField(read_only=True)
    is_active = serializers.BooleanField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)


class ResourcePermissionsSerializer(serializers.Serializer):
    manage = serializers.BooleanField(read_only=True)
    book = serializers.BooleanField(read_only=True)


class ResourceDetailSerializer(ResourceSummarySerializer):
    opening_rules = OpeningRuleSerializer(many=True, read_only=True, source="opening_rules.all")
    photos = ResourcePhotoOutputSerializer(many=True, read_only=True, source="photos.all")
    availability_url = serializers.SerializerMethodField(
        help_text=_("本周的开放时段与预约（可加 ?week=YYYY-MM-DD）。")
    )
    permissions = serializers.SerializerMethodField()

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_availability_url(self, resource) -> str:
        return self.context["reader"].url("api:partner-resource-availability", resource.pk)

    @extend_schema_field(ResourcePermissionsSerializer)
    def get_permissions(self, resource) -> dict:
        return self.context["reader"].resource_permissions(resource)


class OpeningRulesOutputSerializer(serializers.Serializer):
    rules = OpeningRuleSerializer(many=True, read_only=True)


# Output: availability ---------------------------------------------------------------------------
class ClosureOutputSerializer(TimeSpanSerializer):
    reason = serializers.CharField(read_only=True)


class CalendarBookingSerializer(TimeSpanSerializer):
    """A booking in the calendar. Another organisation's booking is taken time only:
    ``hidden`` is true and its id, requester and purpose are null."""

    id = serializers.IntegerField(read_only=True, allow_null=True)
    status = serializers.ChoiceField(choices=CALENDAR_STATUSES, read_only=True)
    hidden = serializers.BooleanField(read_only=True)
    requester = OrganisationRefSerializer(read_only=True, allow_null=True)
    purpose = serializers.CharField(read_only=True, allow_null=True)


class CalendarDaySerializer(serializers.Serializer):
    date = serializers.DateField(read_only=True)
    windows = TimeSpanSerializer(
        many=True, read_only=True, help_text=_("可以预约的时段（开放规则加临时开放，减去暂停）。")
    )
    closures = ClosureOutputSerializer(many=True, read_only=True)
    bookings = CalendarBookingSerializer(
        many=True, read_only=True, help_text=_("待审批和已批准的预约。")
    )


class AvailabilityOutputSerializer(serializers.Serializer):
    resource = ResourceRefSerializer(read_only=True)
    week = serializers.DateField(read_only=True, help_text=_("这一周的星期一。"))
    previous_week = serializers.DateField(read_only=True)
    next_week = serializers.DateField(read_only=True)
    timezone = serializers.CharField(read_only=True)
    days = CalendarDaySerializer(many=True, read_only=True)


def calendar_rows(week) -> list[dict]:
    """``queries.week``'s days as :class:`CalendarDaySerializer` renders them; a booking the
    reader may not read keeps its time and status only."""
    days = []
    for day in week.days:
        bookings = []
        for booking in day.bookings:
            hidden = bool(getattr(booking, "hidden", True))
            bookings.append(
                {
                    "id": None if hidden else booking.pk,
                    "starts_at": booking.starts_at,
                    "ends_at": booking.ends_at,
                    "status": booking.status,
                    "hidden": hidden,
                    "requester": None if hidden else booking.requester,
                    "purpose": None if hidden else booking.purpose,
                }
            )
        days.append(
            {
                "date": day.date,
                "windows": [{"starts_at": s, "ends_at": e} for s, e in day.windows],
                "closures": day.closures,
                "bookings": bookings,
            }
        )
    return days


# Output: bookings -------------------------------------------------------------------------------
class BookingSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-booking-detail")
    page_url = PagePathField("partners:booking")
    resource = ResourceRefSerializer(read_only=True)
    partner = OrganisationRefSerializer(source="resource.partner", read_only=True)
    requester = OrganisationRefSerializer(read_only=True)
    direction = serializers.SerializerMethodField(
        help_text=_(
            "incoming：别的单位预约本单位的资源；outgoing：本单位发出的预约；"
            "都不是（如超级管理员）时为 null。"
        )
    )
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    purpose = serializers.CharField(read_only=True)
    status = serializers.ChoiceField(choices=Booking.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    decline_reason = serializers.CharField(read_only=True)
    cancelled_at = serializers.DateTimeField(read_only=True, allow_null=True)
    cancelled_side = serializers.ChoiceField(
        choices=[("", "-"), *Booking.Side.choices], read_only=True
    )
    cancel_reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    @extend_schema_field(
        {"type": "string", "enum": ["incoming", "outgoing", None], "nullable": True}
    )
    def get_direction(self, booking) -> str | None:
        return self.context["reader"].direction(booking)


class BookingPermissionsSerializer(serializers.Serializer):
    approve = serializers.BooleanField(read_only=True)
    decline = serializers.BooleanField(read_only=True)
    cancel = serializers.BooleanField(read_only=True)


class BookingDetailSerializer(BookingSummarySerializer):
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(BookingPermissionsSerializer)
    def get_permissions(self, booking) -> dict:
        return self.context["reader"].booking_permissions(booking)


# Output: pledges --------------------------------------------------------------------------------
class PledgeSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-pledge-detail")
    page_url = PagePathField("partners:pledge")
    partner = OrganisationRefSerializer(read_only=True)
    resource = ResourceRefSerializer(read_only=True, allow_null=True)
    proposal = ProposalRefSerializer(read_only=True, allow_null=True)
    case = CaseRefSerializer(read_only=True, allow_null=True)
    quantity = serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True)
    unit = serializers.ChoiceField(choices=Unit.choices, read_only=True)
    unit_label = serializers.CharField(source="get_unit_display", read_only=True)
    note = serializers.CharField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    status = serializers.ChoiceField(choices=Pledge.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    decided_at = serializers.DateTimeField(read_only=True, allow_null=True)
    delivered_at = serializers.DateTimeField(read_only=True, allow_null=True)
    withdrawn_at = serializers.DateTimeField(read_only=True, allow_null=True)
    reason = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class PledgePermissionsSerializer(serializers.Serializer):
    accept = serializers.BooleanField(read_only=True)
    decline = serializers.BooleanField(read_only=True)
    deliver = serializers.BooleanField(read_only=True)
    withdraw = serializers.BooleanField(read_only=True)


class PledgeDetailSerializer(PledgeSummarySerializer):
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(PledgePermissionsSerializer)
    def get_permissions(self, pledge) -> dict:
        return self.context["reader"].pledge_permissions(pledge)


# Output: agreements -----------------------------------------------------------------------------
class AgreementDocumentOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    title = serializers.CharField(read_only=True)
    size = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)
    url = serializers.SerializerMethodField(
        help_text=_("下载地址：再次检查查看权限后返回 PDF，不是公开的文件地址。")
    )

    @extend_schema_field({"type": "string", "format": "uri"})
    def get_url(self, document) -> str:
        return self.context["reader"].document_url(document)


class AgreementSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-agreement-detail")
    page_url = PagePathField("partners:agreement")
    partner = OrganisationRefSerializer(read_only=True)
    departments = OrganisationRefSerializer(many=True, read_only=True, source="departments.all")
    title = serializers.CharField(read_only=True)
    title_zh = serializers.CharField(read_only=True)
    title_en = serializers.CharField(read_only=True)
    scope = serializers.CharField(read_only=True)
    scope_zh = serializers.CharField(read_only=True)
    scope_en = serializers.CharField(read_only=True)
    starts_on = serializers.DateField(read_only=True)
    ends_on = serializers.DateField(read_only=True)
    status = serializers.ChoiceField(choices=Agreement.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    expired = serializers.SerializerMethodField(help_text=_("已生效但已过到期日期。"))
    documents = AgreementDocumentOutputSerializer(many=True, read_only=True, source="documents.all")
    created_at = serializers.DateTimeField(read_only=True)
    updated_at = serializers.DateTimeField(read_only=True)

    def get_expired(self, agreement) -> bool:
        return agreement.is_expired(self.context["reader"].today)


class AgreementPermissionsSerializer(serializers.Serializer):
    manage = serializers.BooleanField(read_only=True)


class AgreementDetailSerializer(AgreementSummarySerializer):
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(AgreementPermissionsSerializer)
    def get_permissions(self, agreement) -> dict:
        return self.context["reader"].agreement_permissions(agreement)


# Output: shifts and training --------------------------------------------------------------------
class ShiftSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-shift-detail")
    partner = OrganisationRefSerializer(read_only=True)
    station = StationRefSerializer(read_only=True)
    volunteer = serializers.CharField(read_only=True)
    role = serializers.CharField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    ends_at = serializers.DateTimeField(read_only=True)
    status = serializers.ChoiceField(choices=VolunteerShift.Status.choices, read_only=True)
    status_label = serializers.CharField(source="get_status_display", read_only=True)
    hours = serializers.DecimalField(max_digits=6, decimal_places=2, read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class ShiftPermissionsSerializer(serializers.Serializer):
    manage = serializers.BooleanField(read_only=True)


class ShiftDetailSerializer(ShiftSummarySerializer):
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(ShiftPermissionsSerializer)
    def get_permissions(self, shift) -> dict:
        return self.context["reader"].shift_permissions(shift)


class TrainingSummarySerializer(serializers.Serializer):
    id = serializers.IntegerField(read_only=True)
    url = ApiUrlField("api:partner-training-detail")
    page_url = PagePathField("partners:training")
    organiser = OrganisationRefSerializer(read_only=True)
    topic = serializers.CharField(read_only=True)
    topic_zh = serializers.CharField(read_only=True)
    topic_en = serializers.CharField(read_only=True)
    trainer = serializers.CharField(read_only=True)
    station = StationRefSerializer(read_only=True, allow_null=True)
    location = serializers.CharField(read_only=True)
    starts_at = serializers.DateTimeField(read_only=True)
    hours = serializers.DecimalField(max_digits=4, decimal_places=1, read_only=True)
    description = serializers.CharField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)


class TrainingPermissionsSerializer(serializers.Serializer):
    manage = serializers.BooleanField(read_only=True)
    view_attendance = serializers.BooleanField(read_only=True)


class TrainingDetailSerializer(TrainingSummarySerializer):
    permissions = serializers.SerializerMethodField()

    @extend_schema_field(TrainingPermissionsSerializer)
    def get_permissions(self, session) -> dict:
        return self.context["reader"].training_permissions(session)


class AttendeeOutputSerializer(serializers.Serializer):
    name = serializers.CharField(read_only=True)
    organisation = OrganisationRefSerializer(read_only=True)
    attended = serializers.BooleanField(read_only=True)


class AttendanceOutputSerializer(serializers.Serializer):
    attendees = AttendeeOutputSerializer(many=True, read_only=True)


# Errors -----------------------------------------------------------------------------------------
class PartnerConflictSerializer(serializers.Serializer):
    """The 409 of a request the row's state refuses, with the reason's code."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=sorted(CONFLICTS))


class ConflictingBookingSerializer(serializers.Serializer):
    """The approved booking in the way. ``id`` and ``requester`` only for callers who may read
    that booking (its partner, its requester): others learn, as from the calendar, only the
    time taken."""

    id = serializers.IntegerField(required=False)
    starts_at = serializers.DateTimeField()
    ends_at = serializers.DateTimeField()
    requester = OrganisationRefSerializer(required=False)


class BookingConflictSerializer(serializers.Serializer):
    """A 409 on a booking: ``overlap`` (an approved booking holds the time, given in
    ``conflicting_booking``) or a state refusal (``not_requested``, ``not_open``,
    ``started``, ``ended``, ``not_bookable``), for which ``conflicting_booking`` is absent."""

    detail = serializers.CharField()
    code = serializers.ChoiceField(choices=sorted({OVERLAP, *CONFLICTS}))
    conflicting_booking = ConflictingBookingSerializer(required=False)
