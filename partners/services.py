"""Every write of the partners app, one function per action.

Refusals are ``PermissionDenied``; bad input is a ``ValidationError`` naming its field. A
refusal because of the row's state (approving a declined booking, delivering a pledge nobody
accepted) carries one of the codes in :data:`CONFLICTS`, which the API answers 409; an
approval that would double-book is a :class:`BookingOverlap`, a 409 naming the booking in the
way.

No double booking rests on the database: ``partners_booking_no_overlap`` (PostgreSQL's
exclusion constraint, SQLite's trigger) refuses a second approved booking of a resource over
the same time, whatever two requests race. The checks here come first only to say so clearly.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal, InvalidOperation
from itertools import pairwise

import rules
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.cases.attachments import Checked, read_limited
from governance.cases.attachments import check as check_upload
from governance.cases.attachments import store as store_file
from governance.cases.models import OPEN_STATUSES as CASE_OPEN_STATUSES
from governance.cases.models import Case
from governance.core import clock
from governance.kpis.registry import local_day
from governance.kpis.services import kpis_mark_dirty
from governance.notifications.services import publish
from governance.proposals.models import Proposal
from governance.proposals.models import Status as ProposalStatus
from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.rules import organisation_ids
from governance.stakeholders.services import membership_grant, membership_revoke
from partners import availability, metrics
from partners.events import (
    AgreementExpiring,
    BookingApproved,
    BookingCancelled,
    BookingDeclined,
    BookingRequested,
    PledgeAnswered,
    PledgeOffered,
    PledgeWithdrawn,
)
from partners.models import (
    MAX_BOOKING,
    MIDNIGHT,
    Agreement,
    AgreementDocument,
    Attendance,
    AvailabilityException,
    Booking,
    Invitation,
    Kind,
    OpeningRule,
    Pledge,
    Resource,
    ResourcePhoto,
    TrainingSession,
    Unit,
    VolunteerShift,
)
from partners.rules import acts_for, agreement_department_ids, is_partner_admin

CONFLICTS = frozenset(
    {
        "not_requested",
        "not_open",
        "started",
        "ended",
        "not_bookable",
        "not_offered",
        "not_accepted",
        "not_draft",
    }
)
# What a pledge may be made to: a proposal before its verdict or while it is being carried
# out, a case that is still open.
PLEDGEABLE_PROPOSALS = frozenset(
    {ProposalStatus.PUBLISHED, ProposalStatus.EVALUATING, ProposalStatus.ACCEPTED}
)
MAX_PHOTOS = 8
# The link is a bearer credential for the invited address (it went to that mailbox, and the
# invitation page vouches for the address to allauth), so it lives a week.
INVITATION_DAYS = 7
REMINDER_DAYS = (60, 14)

RESOURCE_FIELDS = (
    "kind",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "station",
    "place_zh",
    "place_en",
    "quantity",
    "unit",
    "visibility",
    "bookable",
    "max_booking_minutes",
    "is_active",
)
AGREEMENT_FIELDS = ("title_zh", "title_en", "scope_zh", "scope_en", "starts_on", "ends_on")
SHIFT_FIELDS = ("station", "volunteer", "role", "starts_at", "ends_at", "status")
TRAINING_FIELDS = (
    "topic_zh",
    "topic_en",
    "trainer",
    "station",
    "location",
    "starts_at",
    "hours",
    "description",
)


class BookingOverlap(ValidationError):
    """The time overlaps ``booking``, an approved booking of the same resource.

    ``named`` says whether the caller may read that booking (the partner always may): the
    message then names it; otherwise it gives only the time taken, as the week calendar
    shows another organisation's booking."""

    def __init__(self, booking: Booking, *, named: bool = True):
        self.booking = booking
        self.named = named
        period = {
            "start": timezone.localtime(booking.starts_at).strftime("%Y-%m-%d %H:%M"),
            "end": timezone.localtime(booking.ends_at).strftime("%Y-%m-%d %H:%M"),
        }
        if named:
            message = _("该时段已被预约 #%(id)s（%(requester)s，%(start)s–%(end)s）占用。") % {
                "id": booking.pk,
                "requester": booking.requester,
                **period,
            }
        else:
            message = _("该时段已被占用（%(start)s–%(end)s）。") % period
        super().__init__(message, code="overlap")


# Shared checks ------------------------------------------------------------------------------
def _require(actor, permission: str, obj, message) -> None:
    if not rules.has_perm(permission, actor, obj):
        raise PermissionDenied(message)


def _invalid(field: str, message, code: str) -> ValidationError:
    return ValidationError({field: ValidationError(message, code=code)})


def _conflict(message, code: str) -> ValidationError:
    return ValidationError(message, code=code)


def _text(value, *, field: str, limit: int, required: bool = True) -> str:
    text = (value or "").strip() if isinstance(value, str) or value is None else None
    if text is None:
        raise _invalid(field, _("请填写文字。"), "invalid")
    if required and not text:
        raise _invalid(field, _("此项为必填项。"), "required")
    if len(text) > limit:
        raise _invalid(field, _("不能超过 %(limit)s 个字符。") % {"limit": limit}, "max_length")
    return text


def _aware(value, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise _invalid(field, _("请填写日期和时间。"), "required")
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    return value


def _acting_seat(actor, organisation: Organisation, message) -> None:
    if not acts_for(actor, organisation.pk):
        raise PermissionDenied(message)


def _apply(instance, data: Mapping, allowed: Sequence[str]) -> list[str]:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise ValidationError(
            {name: ValidationError(_("不能修改此项。"), code="unknown") for name in unknown}
        )
    changed = []
    for name, value in data.items():
        if isinstance(value, str):
            value = value.strip()
        try:
            current = getattr(instance, name)
        except ObjectDoesNotExist:  # a required relation not set yet (a new shift's station)
            current = None
        if current != value:
            setattr(instance, name, value)
            changed.append(name)
    return changed


def _mark(codes: Sequence[str], days: Iterable[dt.date]) -> None:
    """Have the KPI rollup recompute ``codes`` on ``days`` (in this transaction)."""
    days = set(days)
    if days:
        kpis_mark_dirty(metric_codes=codes, days=days)


def _use_days(booking: Booking) -> set[dt.date]:
    return metrics.days_touched(booking.starts_at, booking.ends_at)


def _horizon() -> list[dt.date]:
    today = _today()
    return [today + dt.timedelta(days=n) for n in range(metrics.OPENING_HORIZON_DAYS + 1)]


def _today() -> dt.date:
    return timezone.localdate(clock.now())


def _what(pledge: Pledge) -> str:
    amount = f"{pledge.quantity.normalize():f} {pledge.get_unit_display()}"
    if pledge.resource_id:
        return f"{pledge.resource.name_zh} × {amount}"
    return amount


# Resources ----------------------------------------------------------------------------------
def _check_station(resource: Resource) -> None:
    if resource.station_id and not resource.station.is_active:
        raise _invalid("station", _("该站点已停用。"), "inactive")


@transaction.atomic
def resource_create(*, actor: User, partner: Organisation, data: Mapping) -> Resource:
    """Add a resource to ``partner``'s catalogue (``data``: the fields of ``RESOURCE_FIELDS``)."""
    _require(actor, "partners.add_resource", partner, _("只有该企业伙伴的成员才能添加资源。"))
    if partner.kind != Organisation.Kind.PARTNER:
        raise _invalid("partner", _("只有企业伙伴可以提供资源。"), "not_partner")
    resource = Resource(partner=partner, created_by=actor, created_at=clock.now())
    _apply(resource, data, RESOURCE_FIELDS)
    if resource.kind == Kind.FUNDING:
        resource.bookable = False
    resource.full_clean()
    _check_station(resource)
    resource.save()
    return resource


@transaction.atomic
def resource_update(*, actor: User, resource: Resource, data: Mapping) -> Resource:
    _require(actor, "partners.manage_resource", resource, _("只有提供方的成员才能修改资源。"))
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    changed = _apply(resource, data, RESOURCE_FIELDS)
    if resource.kind == Kind.FUNDING and resource.bookable:
        resource.bookable = False
        changed.append("bookable")
    if not changed:
        return resource
    resource.full_clean()
    if "station" in changed:
        _check_station(resource)
    resource.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    _mark(metrics.OPENING_CODES, _horizon())
    return resource


def _time(value, field: str) -> dt.time:
    if isinstance(value, dt.time):
        return value
    try:
        return dt.time.fromisoformat(str(value))
    except ValueError as exc:
        raise _invalid(field, _("请填写 HH:MM 格式的时间。"), "invalid") from exc


@transaction.atomic
def resource_set_opening_rules(
    *, actor: User, resource: Resource, windows: Iterable[tuple[int, dt.time, dt.time]]
) -> list[OpeningRule]:
    """Replace the weekly rules with ``windows`` (weekday 0 = Monday, opens, closes; closes at
    00:00 is the end of the day). Windows of one day may not overlap."""
    _require(actor, "partners.manage_resource", resource, _("只有提供方的成员才能修改资源。"))
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    rows: list[OpeningRule] = []
    for weekday, opens, closes in windows:
        if not isinstance(weekday, int) or not 0 <= weekday <= 6:
            raise _invalid("weekday", _("星期须为 0（星期一）到 6（星期日）。"), "invalid")
        opens, closes = _time(opens, "opens"), _time(closes, "closes")
        if closes != MIDNIGHT and closes <= opens:
            raise _invalid("closes", _("结束时间必须晚于开始时间。"), "invalid")
        rows.append(OpeningRule(resource=resource, weekday=weekday, opens=opens, closes=closes))
    rows.sort(key=lambda rule: (rule.weekday, rule.opens))
    for before, after in pairwise(rows):
        if before.weekday == after.weekday and (
            before.closes == MIDNIGHT or before.closes > after.opens
        ):
            raise _invalid(
                "opens",
                _("%(day)s 的开放时段相互重叠。") % {"day": before.get_weekday_display()},
                "overlap",
            )
    OpeningRule.objects.filter(resource=resource).delete()
    created = OpeningRule.objects.bulk_create(rows)
    _mark(metrics.OPENING_CODES, _horizon())
    return created


@transaction.atomic
def exception_add(
    *,
    actor: User,
    resource: Resource,
    kind: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    reason: str = "",
) -> AvailabilityException:
    """A closure (or an extra opening). A closure does not cancel approved bookings; the
    partner cancels those itself, with a reason their requester reads."""
    _require(actor, "partners.manage_resource", resource, _("只有提供方的成员才能修改资源。"))
    if kind not in AvailabilityException.Kind.values:
        raise _invalid("kind", _("类型只能是暂停开放或临时开放。"), "invalid_choice")
    starts_at, ends_at = _aware(starts_at, "starts_at"), _aware(ends_at, "ends_at")
    if ends_at <= starts_at:
        raise _invalid("ends_at", _("结束时间必须晚于开始时间。"), "invalid")
    exception = AvailabilityException(
        resource=resource,
        kind=kind,
        starts_at=starts_at,
        ends_at=ends_at,
        reason=_text(reason, field="reason", limit=200, required=False),
    )
    exception.full_clean()
    exception.save()
    _mark(metrics.OPENING_CODES, metrics.days_touched(starts_at, ends_at))
    return exception


@transaction.atomic
def exception_remove(*, actor: User, exception: AvailabilityException) -> None:
    _require(actor, "partners.manage_resource", exception, _("只有提供方的成员才能修改资源。"))
    _mark(metrics.OPENING_CODES, metrics.days_touched(exception.starts_at, exception.ends_at))
    exception.delete()


@transaction.atomic
def photo_add(*, actor: User, resource: Resource, upload, caption: str = "") -> ResourcePhoto:
    """A photo of the resource: an image checked from its content, re-encoded without its
    metadata (as case attachments are)."""
    _require(actor, "partners.manage_resource", resource, _("只有提供方的成员才能修改资源。"))
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    count = resource.photos.count()
    if count >= MAX_PHOTOS:
        raise _invalid(
            "photo", _("每项资源最多 %(max)s 张照片。") % {"max": MAX_PHOTOS}, "too_many"
        )
    try:
        checked = check_upload(upload)
    except ValidationError as error:  # too large, empty, not an image: name the field
        raise ValidationError({"photo": error.error_list}) from error
    if not checked.content_type.startswith("image/"):
        raise _invalid("photo", _("只能上传 JPEG、PNG 或 WebP 图片。"), "unsupported_type")
    name = store_file(reference=str(resource.pk), checked=checked, folder="partners/resources")
    return ResourcePhoto.objects.create(
        resource=resource,
        file=name,
        content_type=checked.content_type,
        size=len(checked.content),
        caption=_text(caption, field="caption", limit=120, required=False),
        position=count,
        created_at=clock.now(),
    )


@transaction.atomic
def photo_remove(*, actor: User, photo: ResourcePhoto) -> None:
    _require(actor, "partners.manage_resource", photo, _("只有提供方的成员才能修改资源。"))
    photo.file.delete(save=False)
    photo.delete()


# Bookings -----------------------------------------------------------------------------------
def conflicting_booking(
    resource_id: int, starts_at: dt.datetime, ends_at: dt.datetime, *, exclude: int | None = None
) -> Booking | None:
    """The first approved booking of the resource that overlaps ``[starts_at, ends_at)``."""
    qs = Booking.objects.select_related("requester").filter(
        resource_id=resource_id,
        status=Booking.Status.APPROVED,
        starts_at__lt=ends_at,
        # Bounded on both sides (no booking is longer than MAX_BOOKING): the scan of
        # partners_booking_resource_idx reads the neighbourhood, not the years before.
        ends_at__gt=starts_at,
        ends_at__lt=ends_at + MAX_BOOKING,
    )
    if exclude is not None:
        qs = qs.exclude(pk=exclude)
    return qs.order_by("starts_at", "pk").first()


def check_period(
    resource: Resource, starts_at: dt.datetime, ends_at: dt.datetime, *, now: dt.datetime
) -> None:
    """Refuse a time range that is backwards, past, too long or outside the opening hours."""
    if ends_at <= starts_at:
        raise _invalid("ends_at", _("结束时间必须晚于开始时间。"), "ends_before_start")
    if starts_at < now:
        raise _invalid("starts_at", _("不能预约已经过去的时间。"), "in_past")
    minutes = (ends_at - starts_at).total_seconds() / 60
    if minutes > resource.max_booking_minutes:
        raise _invalid(
            "ends_at",
            _("该资源单次最多可预约 %(minutes)s 分钟。")
            % {"minutes": resource.max_booking_minutes},
            "too_long",
        )
    refused = availability.refusal(
        list(resource.opening_rules.all()),
        list(resource.exceptions.filter(starts_at__lt=ends_at, ends_at__gt=starts_at)),
        starts_at,
        ends_at,
    )
    if refused is not None:
        if refused.code == "closed":
            message = _("该时段资源暂停开放：%(reason)s") % {
                "reason": refused.reason or _("提供方未说明原因")
            }
        else:
            message = _("该时段不在资源的开放时间内。")
        raise _invalid("starts_at", message, refused.code)


@transaction.atomic
def booking_request(
    *,
    actor: User,
    resource: Resource,
    requester: Organisation,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    purpose: str,
) -> Booking:
    """Ask ``resource``'s partner for it, for ``requester`` (an organisation the actor acts
    for). A time already approved for someone else is refused at once, naming that booking;
    requests may overlap each other until one is approved."""
    # The rule reads the row as it is now: a resource switched off or made unbookable since
    # the caller read it takes no request.
    resource = Resource.objects.get(pk=resource.pk)
    _require(
        actor,
        "partners.book_resource",
        resource,
        _("只有其他单位的工作人员才能预约这项资源。"),
    )
    _acting_seat(actor, requester, _("您只能以自己任职的单位名义预约。"))
    if requester.pk == resource.partner_id:
        raise _invalid(
            "requester", _("提供方不需要预约自己的资源；请改为设置暂停开放。"), "own_resource"
        )
    starts_at, ends_at = _aware(starts_at, "starts_at"), _aware(ends_at, "ends_at")
    purpose = _text(purpose, field="purpose", limit=500)
    check_period(resource, starts_at, ends_at, now=clock.now())
    taken = conflicting_booking(resource.pk, starts_at, ends_at)
    if taken is not None:
        raise BookingOverlap(taken, named=rules.has_perm("partners.view_booking", actor, taken))
    booking = Booking.objects.create(
        resource=resource,
        requester=requester,
        requested_by=actor,
        starts_at=starts_at,
        ends_at=ends_at,
        purpose=purpose,
        created_at=clock.now(),
    )
    publish(
        BookingRequested(
            booking_id=booking.pk,
            resource_name=resource.name_zh,
            partner_id=resource.partner_id,
            requester_id=requester.pk,
            requester_name=requester.name_zh,
            starts_at=timezone.localtime(starts_at),
            ends_at=timezone.localtime(ends_at),
            purpose=purpose,
        ),
        actor=actor,
    )
    return booking


def _lock_booking(booking: Booking) -> Booking:
    return (
        Booking.objects.select_for_update(of=("self",))
        .select_related("resource", "requester", "resource__partner")
        .get(pk=booking.pk)
    )


@transaction.atomic
def booking_approve(*, actor: User, booking: Booking) -> Booking:
    """The partner says yes. Refused while another approved booking holds any of the time:
    checked first for a clear message, and enforced by the database when two approvals race
    (the loser's transaction waits for the winner's, then gets the constraint's error)."""
    _require(actor, "partners.decide_booking", booking, _("只有提供方的工作人员才能审批预约。"))
    booking = _lock_booking(booking)
    if booking.status != Booking.Status.REQUESTED:
        raise _conflict(_("只有待审批的预约才能批准或拒绝。"), "not_requested")
    now = clock.now()
    if booking.starts_at <= now:
        raise _conflict(_("预约的开始时间已过，不能再批准。"), "started")
    if not (booking.resource.is_active and booking.resource.bookable):
        raise _conflict(_("该资源已停用或不再接受预约，请拒绝这项申请。"), "not_bookable")
    # The rules may have changed since the request: a closure added, hours shortened.
    check_period(booking.resource, booking.starts_at, booking.ends_at, now=now)
    taken = conflicting_booking(
        booking.resource_id, booking.starts_at, booking.ends_at, exclude=booking.pk
    )
    if taken is not None:
        raise BookingOverlap(taken)
    booking.status = Booking.Status.APPROVED
    booking.decided_by = actor
    booking.decided_at = now
    try:
        with transaction.atomic():
            booking.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    except IntegrityError as exc:
        # Another approval of an overlapping booking committed while this one ran.
        taken = conflicting_booking(
            booking.resource_id, booking.starts_at, booking.ends_at, exclude=booking.pk
        )
        if taken is None:
            raise
        raise BookingOverlap(taken) from exc
    _mark(metrics.BOOKING_DECISION_CODES, {local_day(now)})
    _mark(metrics.BOOKING_USE_CODES, _use_days(booking))
    publish(
        BookingApproved(
            booking_id=booking.pk,
            resource_name=booking.resource.name_zh,
            partner_name=booking.resource.partner.name_zh,
            requester_id=booking.requester_id,
            requested_by_id=booking.requested_by_id,
            starts_at=timezone.localtime(booking.starts_at),
            ends_at=timezone.localtime(booking.ends_at),
        ),
        actor=actor,
    )
    return booking


@transaction.atomic
def booking_decline(*, actor: User, booking: Booking, reason: str) -> Booking:
    _require(actor, "partners.decide_booking", booking, _("只有提供方的工作人员才能审批预约。"))
    reason = _text(reason, field="reason", limit=500)
    booking = _lock_booking(booking)
    if booking.status != Booking.Status.REQUESTED:
        raise _conflict(_("只有待审批的预约才能批准或拒绝。"), "not_requested")
    booking.status = Booking.Status.DECLINED
    booking.decided_by = actor
    booking.decided_at = clock.now()
    booking.decline_reason = reason
    booking.save(
        update_fields=["status", "decided_by", "decided_at", "decline_reason", "updated_at"]
    )
    _mark(metrics.BOOKING_DECISION_CODES, {local_day(booking.decided_at)})
    publish(
        BookingDeclined(
            booking_id=booking.pk,
            resource_name=booking.resource.name_zh,
            partner_name=booking.resource.partner.name_zh,
            requester_id=booking.requester_id,
            requested_by_id=booking.requested_by_id,
            starts_at=timezone.localtime(booking.starts_at),
            ends_at=timezone.localtime(booking.ends_at),
            reason=reason,
        ),
        actor=actor,
    )
    return booking


@transaction.atomic
def booking_cancel(*, actor: User, booking: Booking, reason: str) -> Booking:
    """Either side calls off a pending or approved booking that has not ended, with a reason
    the other side reads."""
    _require(actor, "partners.cancel_booking", booking, _("只有预约双方的工作人员才能取消预约。"))
    reason = _text(reason, field="reason", limit=500)
    booking = _lock_booking(booking)
    if not booking.is_open:
        raise _conflict(_("只有待审批或已批准的预约才能取消。"), "not_open")
    if booking.ends_at <= clock.now():
        raise _conflict(_("预约已经结束，不能取消。"), "ended")
    side = Booking.Side.REQUESTER if acts_for(actor, booking.requester_id) else Booking.Side.OWNER
    if booking.status == Booking.Status.APPROVED:
        _mark(metrics.BOOKING_USE_CODES, _use_days(booking))
    booking.status = Booking.Status.CANCELLED
    booking.cancelled_by = actor
    booking.cancelled_at = clock.now()
    booking.cancelled_side = side
    booking.cancel_reason = reason
    booking.save(
        update_fields=[
            "status",
            "cancelled_by",
            "cancelled_at",
            "cancelled_side",
            "cancel_reason",
            "updated_at",
        ]
    )
    publish(
        BookingCancelled(
            booking_id=booking.pk,
            resource_name=booking.resource.name_zh,
            partner_id=booking.resource.partner_id,
            requester_id=booking.requester_id,
            side=side,
            starts_at=timezone.localtime(booking.starts_at),
            ends_at=timezone.localtime(booking.ends_at),
            reason=reason,
        ),
        actor=actor,
    )
    return booking


# Pledges ------------------------------------------------------------------------------------
def _decimal(value, field: str) -> Decimal:
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError) as exc:
        raise _invalid(field, _("请填写数字。"), "invalid") from exc
    if not amount.is_finite() or amount <= 0:
        raise _invalid(field, _("数量必须大于 0。"), "min_value")
    if amount != amount.quantize(Decimal("0.01")) or amount >= Decimal("1e10"):
        raise _invalid(field, _("数量最多两位小数、不超过 100 亿。"), "invalid")
    return amount


def _target_summary(pledge: Pledge) -> dict:
    target = pledge.target
    return {
        "target_title": getattr(target, "title", ""),
        "proposal_id": pledge.proposal_id,
        "case_id": pledge.case_id,
    }


@transaction.atomic
def pledge_offer(
    *,
    actor: User,
    partner: Organisation,
    quantity,
    starts_on: dt.date,
    ends_on: dt.date,
    proposal: Proposal | None = None,
    case: Case | None = None,
    resource: Resource | None = None,
    unit: str = "",
    note: str = "",
) -> Pledge:
    """``partner`` promises ``quantity`` of ``resource`` (or, without one, that much money)
    to a proposal or a case it can read, for ``starts_on``–``ends_on``."""
    _require(actor, "partners.add_pledge", partner, _("只有该企业伙伴的工作人员才能作出承诺。"))
    if (proposal is None) == (case is None):
        raise _invalid("proposal", _("请选择一项建议或一个事项（只能选一个）。"), "one_target")
    if proposal is not None:
        if proposal.status not in PLEDGEABLE_PROPOSALS or proposal.responsible_id is None:
            raise _invalid(
                "proposal", _("只能向征集中、评估中或已采纳的建议作出承诺。"), "not_pledgeable"
            )
    else:
        if not rules.has_perm("cases.view_case", actor, case):
            raise PermissionDenied(_("您无权查看该事项。"))
        if case.status not in CASE_OPEN_STATUSES or case.responsible_id is None:
            raise _invalid("case", _("只能向处理中的事项作出承诺。"), "not_pledgeable")
    if (proposal or case).responsible_id == partner.pk:
        # Accepting and confirming its own pledge would count it delivered on its own word.
        raise _invalid(
            "proposal" if proposal is not None else "case",
            _("不能向本单位负责的建议或事项作出承诺。"),
            "own_target",
        )
    if resource is not None:
        if resource.partner_id != partner.pk or not resource.is_active:
            raise _invalid("resource", _("只能承诺本单位启用中的资源。"), "not_own")
        unit = unit or resource.unit
    else:
        unit = unit or Unit.YUAN
    if unit not in Unit.values:
        raise _invalid("unit", _("请选择有效的单位。"), "invalid_choice")
    if not isinstance(starts_on, dt.date) or not isinstance(ends_on, dt.date):
        raise _invalid("starts_on", _("请填写承诺期限。"), "required")
    if ends_on < starts_on:
        raise _invalid("ends_on", _("结束日期不能早于开始日期。"), "invalid")
    if ends_on < _today():
        raise _invalid("ends_on", _("承诺期限不能已经结束。"), "in_past")
    pledge = Pledge(
        partner=partner,
        resource=resource,
        proposal=proposal,
        case=case,
        quantity=_decimal(quantity, "quantity"),
        unit=unit,
        note=_text(note, field="note", limit=500, required=False),
        starts_on=starts_on,
        ends_on=ends_on,
        offered_by=actor,
        created_at=clock.now(),
    )
    pledge.full_clean()
    pledge.save()
    publish(
        PledgeOffered(
            pledge_id=pledge.pk,
            partner_name=partner.name_zh,
            what=_what(pledge),
            responsible_id=pledge.target.responsible_id,
            **_target_summary(pledge),
        ),
        actor=actor,
    )
    return pledge


def _lock_pledge(pledge: Pledge) -> Pledge:
    return (
        Pledge.objects.select_for_update(of=("self",))
        .select_related("partner", "resource", "proposal", "case")
        .get(pk=pledge.pk)
    )


def _answered(pledge: Pledge, actor: User, reason: str = "") -> None:
    publish(
        PledgeAnswered(
            pledge_id=pledge.pk,
            partner_id=pledge.partner_id,
            what=_what(pledge),
            status=pledge.status,
            reason=reason,
            **_target_summary(pledge),
        ),
        actor=actor,
    )


@transaction.atomic
def pledge_accept(*, actor: User, pledge: Pledge) -> Pledge:
    _require(actor, "partners.decide_pledge", pledge, _("只有负责单位的工作人员才能接受承诺。"))
    pledge = _lock_pledge(pledge)
    if pledge.status != Pledge.Status.OFFERED:
        raise _conflict(_("只有待接受的承诺才能接受或谢绝。"), "not_offered")
    pledge.status = Pledge.Status.ACCEPTED
    pledge.decided_by, pledge.decided_at = actor, clock.now()
    pledge.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    _answered(pledge, actor)
    return pledge


@transaction.atomic
def pledge_decline(*, actor: User, pledge: Pledge, reason: str) -> Pledge:
    _require(actor, "partners.decide_pledge", pledge, _("只有负责单位的工作人员才能谢绝承诺。"))
    reason = _text(reason, field="reason", limit=500)
    pledge = _lock_pledge(pledge)
    if pledge.status != Pledge.Status.OFFERED:
        raise _conflict(_("只有待接受的承诺才能接受或谢绝。"), "not_offered")
    pledge.status = Pledge.Status.DECLINED
    pledge.decided_by, pledge.decided_at, pledge.reason = actor, clock.now(), reason
    pledge.save(update_fields=["status", "decided_by", "decided_at", "reason", "updated_at"])
    _answered(pledge, actor, reason)
    return pledge


@transaction.atomic
def pledge_deliver(*, actor: User, pledge: Pledge) -> Pledge:
    """The responsible organisation confirms it received what was pledged; the delivery then
    shows on the proposal's implementation timeline (and the case page)."""
    _require(
        actor, "partners.decide_pledge", pledge, _("只有负责单位的工作人员才能确认承诺已兑现。")
    )
    pledge = _lock_pledge(pledge)
    if pledge.status != Pledge.Status.ACCEPTED:
        raise _conflict(_("只有已接受的承诺才能确认兑现。"), "not_accepted")
    pledge.status = Pledge.Status.DELIVERED
    pledge.delivered_by, pledge.delivered_at = actor, clock.now()
    pledge.save(update_fields=["status", "delivered_by", "delivered_at", "updated_at"])
    _mark(metrics.PLEDGE_CODES, {local_day(pledge.delivered_at)})
    _answered(pledge, actor)
    return pledge


@transaction.atomic
def pledge_withdraw(*, actor: User, pledge: Pledge, reason: str) -> Pledge:
    _require(actor, "partners.withdraw_pledge", pledge, _("只有承诺方的工作人员才能撤回承诺。"))
    reason = _text(reason, field="reason", limit=500)
    pledge = _lock_pledge(pledge)
    if pledge.status not in (Pledge.Status.OFFERED, Pledge.Status.ACCEPTED):
        raise _conflict(_("只有尚未兑现的承诺才能撤回。"), "not_open")
    pledge.status = Pledge.Status.WITHDRAWN
    pledge.withdrawn_at, pledge.reason = clock.now(), reason
    pledge.save(update_fields=["status", "withdrawn_at", "reason", "updated_at"])
    publish(
        PledgeWithdrawn(
            pledge_id=pledge.pk,
            partner_name=pledge.partner.name_zh,
            what=_what(pledge),
            responsible_id=pledge.target.responsible_id,
            reason=reason,
            **_target_summary(pledge),
        ),
        actor=actor,
    )
    return pledge


# Agreements ---------------------------------------------------------------------------------
def _departments(departments: Iterable[Organisation]) -> list[Organisation]:
    departments = list(departments)
    if not departments:
        raise _invalid("departments", _("请至少选择一个合作部门。"), "required")
    if any(d.kind != Organisation.Kind.DEPARTMENT or not d.is_active for d in departments):
        raise _invalid("departments", _("合作方只能是启用中的政府部门。"), "not_department")
    return departments


def _check_agreement_period(agreement: Agreement) -> None:
    # The database's check constraint would say only that a constraint failed, on no field.
    starts_on, ends_on = agreement.starts_on, agreement.ends_on
    if isinstance(starts_on, dt.date) and isinstance(ends_on, dt.date) and ends_on < starts_on:
        raise _invalid("ends_on", _("到期日期不能早于生效日期。"), "invalid")


AGREEMENT_TRANSITIONS = {
    Agreement.Status.DRAFT: {Agreement.Status.ACTIVE, Agreement.Status.TERMINATED},
    Agreement.Status.ACTIVE: {Agreement.Status.TERMINATED},
    Agreement.Status.TERMINATED: set(),
}


def _transition(actor: User, agreement: Agreement, status: str) -> None:
    """Move ``agreement`` to ``status``: draft → active → terminated (or a draft dropped).
    Government leads: an agreement takes effect on the word of an admin of one of its
    departments (or the platform's), never on the partner's alone."""
    if status == agreement.status:
        return
    if status not in Agreement.Status.values:
        raise _invalid("status", _("请选择有效的状态。"), "invalid_choice")
    if status not in AGREEMENT_TRANSITIONS[agreement.status]:
        raise _conflict(
            _("协议不能从“%(old)s”改为“%(new)s”。")
            % {"old": agreement.get_status_display(), "new": Agreement.Status(status).label},
            "not_draft",
        )
    if status == Agreement.Status.ACTIVE:
        admin_of = organisation_ids(actor, roles={Membership.Role.ADMIN})
        departments = agreement_department_ids(agreement)
        if not (getattr(actor, "is_superuser", False) or departments & admin_of):
            raise PermissionDenied(_("只有合作部门的管理员才能使协议生效。"))
    agreement.status = status


@transaction.atomic
def agreement_create(
    *,
    actor: User,
    partner: Organisation,
    departments: Iterable[Organisation],
    data: Mapping,
    status: str = Agreement.Status.DRAFT,
) -> Agreement:
    """Record a memorandum between ``partner`` and ``departments``; the actor is an admin of
    one of its sides (or a superuser)."""
    departments = _departments(departments)
    if partner.kind != Organisation.Kind.PARTNER:
        raise _invalid("partner", _("协议的一方必须是企业伙伴。"), "not_partner")
    agreement = Agreement(
        partner=partner, created_by=actor, created_at=clock.now(), status=Agreement.Status.DRAFT
    )
    agreement._department_ids = {department.pk for department in departments}
    _require(actor, "partners.manage_agreement", agreement, _("只有协议双方的管理员才能登记协议。"))
    _transition(actor, agreement, status)
    _apply(agreement, data, AGREEMENT_FIELDS)
    _check_agreement_period(agreement)
    agreement.full_clean()
    agreement.save()
    agreement.departments.set(departments)
    return agreement


@transaction.atomic
def agreement_update(
    *,
    actor: User,
    agreement: Agreement,
    data: Mapping,
    departments: Iterable[Organisation] | None = None,
    status: str | None = None,
) -> Agreement:
    _require(actor, "partners.manage_agreement", agreement, _("只有协议双方的管理员才能修改协议。"))
    agreement = Agreement.objects.select_for_update().get(pk=agreement.pk)
    if departments is not None:
        departments = _departments(departments)
        new_ids = {department.pk for department in departments}
        moved = new_ids != agreement_department_ids(agreement)
        if moved and agreement.status != Agreement.Status.DRAFT:
            raise _conflict(_("协议生效后不能更改合作部门。"), "not_draft")
    changed = _apply(agreement, data, AGREEMENT_FIELDS)
    if status is not None and status != agreement.status:
        _transition(actor, agreement, status)
        changed.append("status")
    if "ends_on" in changed:
        # A renewed agreement is reminded of its new end in its turn.
        agreement.reminded_60_at = agreement.reminded_14_at = None
        changed += ["reminded_60_at", "reminded_14_at"]
    _check_agreement_period(agreement)
    agreement.full_clean()
    if changed:
        agreement.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
    if departments is not None:
        agreement.departments.set(departments)
    return agreement


@transaction.atomic
def agreement_attach(*, actor: User, agreement: Agreement, upload, title: str) -> AgreementDocument:
    """A signed copy or an annex: PDF only, checked from its content, 10 MB at most."""
    _require(actor, "partners.manage_agreement", agreement, _("只有协议双方的管理员才能上传文件。"))
    title = _text(title, field="title", limit=200)
    try:
        data = read_limited(upload)
    except ValidationError as error:  # too large or empty: name the field
        raise ValidationError({"file": error.error_list}) from error
    if not data.startswith(b"%PDF-"):
        raise _invalid("file", _("协议文件只能是 PDF。"), "unsupported_type")
    name = store_file(
        reference=str(agreement.pk),
        checked=Checked(content=data, content_type="application/pdf"),
        folder="partners/agreements",
    )
    return AgreementDocument.objects.create(
        agreement=agreement,
        title=title,
        file=name,
        size=len(data),
        uploaded_by=actor,
        created_at=clock.now(),
    )


def agreements_remind(*, today: dt.date | None = None, limit: int = 500) -> dict[str, int]:
    """Tell both sides' admins of each active agreement ending within 60 days, then again
    within 14; each reminder once (the row is marked in the transaction that tells). An
    agreement first seen inside the 14-day window gets the nearer reminder only."""
    today = today or _today()
    sent = {}
    for days in REMINDER_DAYS:
        column = f"reminded_{days}_at"
        window = Q(ends_on__gte=today, ends_on__lte=today + dt.timedelta(days=days))
        if days == 60:
            window &= Q(ends_on__gt=today + dt.timedelta(days=14))
        due = (
            Agreement.objects.filter(window, status=Agreement.Status.ACTIVE)
            .filter(**{f"{column}__isnull": True})
            .order_by("ends_on", "pk")
            .values_list("pk", flat=True)[:limit]
        )
        count = 0
        for agreement_id in list(due):
            with transaction.atomic():
                agreement = (
                    Agreement.objects.select_for_update()
                    .filter(pk=agreement_id, **{f"{column}__isnull": True})
                    .first()
                )
                if agreement is None:
                    continue
                now = clock.now()
                agreement.reminded_14_at = agreement.reminded_14_at if days == 60 else now
                agreement.reminded_60_at = agreement.reminded_60_at or now
                agreement.save(update_fields=["reminded_60_at", "reminded_14_at"])
                publish(
                    AgreementExpiring(
                        agreement_id=agreement.pk,
                        title=agreement.title_zh,
                        partner_id=agreement.partner_id,
                        department_ids=tuple(
                            agreement.departments.order_by("pk").values_list("pk", flat=True)
                        ),
                        ends_on=agreement.ends_on,
                        days_left=(agreement.ends_on - today).days,
                    )
                )
                count += 1
        sent[f"reminded_{days}"] = count
    return sent


# Volunteers ---------------------------------------------------------------------------------
def _shift_times(shift: VolunteerShift) -> None:
    """Times that make a shift, and a status its times allow: done (which counts its hours)
    or missed only once it has started."""
    if (
        shift.status in (VolunteerShift.Status.DONE, VolunteerShift.Status.MISSED)
        and isinstance(shift.starts_at, dt.datetime)
        and shift.starts_at > clock.now()
    ):
        raise _invalid("status", _("班次开始之后才能登记到岗或缺勤。"), "not_started")
    if shift.starts_at and shift.ends_at:
        if shift.ends_at <= shift.starts_at:
            raise _invalid("ends_at", _("结束时间必须晚于开始时间。"), "ends_before_start")
        if shift.ends_at - shift.starts_at > dt.timedelta(hours=12):
            raise _invalid("ends_at", _("一个班次不能超过 12 小时。"), "too_long")


@transaction.atomic
def shift_create(*, actor: User, partner: Organisation, data: Mapping) -> VolunteerShift:
    _require(actor, "partners.manage_shift", partner, _("只有该企业伙伴的工作人员才能排班。"))
    if partner.kind != Organisation.Kind.PARTNER:
        raise _invalid("partner", _("只有企业伙伴可以安排志愿者。"), "not_partner")
    shift = VolunteerShift(partner=partner, created_at=clock.now())
    _apply(shift, data, SHIFT_FIELDS)
    _shift_times(shift)
    shift.full_clean()
    shift.save()
    _mark(metrics.SHIFT_CODES, {local_day(shift.starts_at)})
    return shift


@transaction.atomic
def shift_update(*, actor: User, shift: VolunteerShift, data: Mapping) -> VolunteerShift:
    """Change a shift, including its status: done counts its hours, missed and cancelled do
    not. A shift is marked done only once it has started."""
    _require(actor, "partners.manage_shift", shift, _("只有该企业伙伴的工作人员才能排班。"))
    shift = VolunteerShift.objects.select_for_update().get(pk=shift.pk)
    before = local_day(shift.starts_at)
    changed = _apply(shift, data, SHIFT_FIELDS)
    _shift_times(shift)
    if changed:
        shift.full_clean()
        shift.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        _mark(metrics.SHIFT_CODES, {before, local_day(shift.starts_at)})
    return shift


# Training -----------------------------------------------------------------------------------
@transaction.atomic
def training_create(*, actor: User, organiser: Organisation, data: Mapping) -> TrainingSession:
    session = TrainingSession(organiser=organiser, created_by=actor, created_at=clock.now())
    _require(actor, "partners.manage_training", session, _("您只能为自己任职的单位登记培训。"))
    _apply(session, data, TRAINING_FIELDS)
    session.full_clean()
    session.save()
    return session


@transaction.atomic
def training_update(*, actor: User, session: TrainingSession, data: Mapping) -> TrainingSession:
    _require(actor, "partners.manage_training", session, _("只有主办单位的工作人员才能修改培训。"))
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    before = local_day(session.starts_at)
    changed = _apply(session, data, TRAINING_FIELDS)
    if changed:
        session.full_clean()
        session.save(update_fields=[*dict.fromkeys(changed), "updated_at"])
        _mark(metrics.TRAINING_CODES, {before, local_day(session.starts_at)})
    return session


@transaction.atomic
def attendance_record(
    *,
    actor: User,
    session: TrainingSession,
    attendees: Iterable[Mapping],
) -> list[Attendance]:
    """Set the attendance list: each entry ``{"name", "organisation", "user"?, "attended"}``.
    Names are unique per session; the list replaces the one before. Attendance (attended =
    yes) can be recorded only once the session has started.

    An entry without ``user`` is linked to an account when the name says whose: the account
    the same name had on this list before, else the one member of that organisation with that
    display name. The training-hours KPI counts the members' hours, so it needs the link; a
    volunteer without an account stays a name."""
    _require(actor, "partners.manage_training", session, _("只有主办单位的工作人员才能登记出勤。"))
    session = TrainingSession.objects.select_for_update().get(pk=session.pk)
    linked = dict(
        Attendance.objects.filter(session=session, user__isnull=False).values_list(
            "name", "user_id"
        )
    )
    entries = list(attendees)
    names = {
        (entry.get("name") or "").strip()
        for entry in entries
        if isinstance(entry.get("name"), str) and entry.get("user") is None
    }
    members: dict[tuple[int, str], list[int]] = {}
    for user_id, organisation_id, display_name in Membership.objects.filter(
        user__display_name__in=names, user__is_active=True
    ).values_list("user_id", "organisation_id", "user__display_name"):
        members.setdefault((organisation_id, display_name), []).append(user_id)
    rows: list[Attendance] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries):
        name = _text(entry.get("name"), field=f"attendees.{index}.name", limit=80)
        if name in seen:
            raise _invalid(
                f"attendees.{index}.name", _("名单中“%(name)s”重复。") % {"name": name}, "unique"
            )
        seen.add(name)
        organisation = entry.get("organisation")
        if not isinstance(organisation, Organisation):
            raise _invalid(f"attendees.{index}.organisation", _("请选择所属单位。"), "required")
        attended = bool(entry.get("attended", False))
        if attended and session.starts_at > clock.now():
            raise _invalid(
                f"attendees.{index}.attended", _("培训开始之后才能登记出席。"), "not_started"
            )
        user = entry.get("user")
        user_id = user.pk if user is not None else linked.get(name)
        if user_id is None:
            candidates = members.get((organisation.pk, name), [])
            user_id = candidates[0] if len(candidates) == 1 else None
        rows.append(
            Attendance(
                session=session,
                name=name,
                user_id=user_id,
                organisation=organisation,
                attended=attended,
            )
        )
    Attendance.objects.filter(session=session).delete()
    created = Attendance.objects.bulk_create(rows)
    _mark(metrics.TRAINING_CODES, {local_day(session.starts_at)})
    return created


# Members ------------------------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@transaction.atomic
def invitation_send(
    *, actor: User, organisation: Organisation, email: str, role: str
) -> tuple[Invitation, str]:
    """Invite ``email`` to a seat in the partner. Returns the invitation and its token (kept
    only as a hash; the e-mail carries it). An earlier open invitation to the same address is
    replaced, so the newest link is the one that works."""
    _require(
        actor, "partners.manage_members", organisation, _("只有该企业伙伴的管理员才能邀请成员。")
    )
    email = User.objects.normalize_email(_text(email, field="email", limit=254)).lower()
    if role not in Membership.Role.values:
        raise _invalid("role", _("请选择有效的角色。"), "invalid_choice")
    if Membership.objects.filter(organisation=organisation, user__email__iexact=email).exists():
        raise _invalid("email", _("此人已经是本单位成员。"), "already_member")
    now = clock.now()
    Invitation.objects.filter(
        organisation=organisation,
        email__iexact=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        organisation=organisation,
        email=email,
        role=role,
        token_hash=_token_hash(token),
        invited_by=actor,
        created_at=now,
        expires_at=now + dt.timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    from partners.tasks import send_invitation

    transaction.on_commit(lambda: send_invitation.delay(invitation.pk, token))
    return invitation, token


def invitation_for_token(token: str) -> Invitation | None:
    """The open, unexpired invitation the token belongs to, if any."""
    if not isinstance(token, str) or not 20 <= len(token) <= 100:
        return None
    return (
        Invitation.objects.select_related("organisation")
        .filter(
            token_hash=_token_hash(token),
            accepted_at__isnull=True,
            revoked_at__isnull=True,
            expires_at__gt=clock.now(),
            organisation__is_active=True,
        )
        .first()
    )


@transaction.atomic
def invitation_accept(*, actor: User, token: str) -> Membership:
    """The signed-in invitee takes the seat. The account's e-mail must be the invited
    address: a forwarded link does not give someone else the seat."""
    invitation = invitation_for_token(token)
    if invitation is None:
        raise _invalid("token", _("邀请链接无效、已过期或已被使用。"), "invalid_token")
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is not None or invitation.revoked_at is not None:
        raise _invalid("token", _("邀请链接无效、已过期或已被使用。"), "invalid_token")
    if not is_partner_admin(invitation.invited_by, invitation.organisation):
        # The inviter is no longer an admin there: the invitation lapsed with their seat.
        raise _invalid("token", _("邀请链接无效、已过期或已被使用。"), "invalid_token")
    if actor.email.lower() != invitation.email.lower():
        raise PermissionDenied(
            _("这份邀请发给 %(email)s；请用该邮箱登录后再接受。") % {"email": invitation.email}
        )
    # Someone who joined meanwhile keeps the seat they have: an invitation never changes a
    # role (an admin following an old "staff" link stays admin).
    membership = Membership.objects.filter(
        user=actor, organisation=invitation.organisation
    ).first() or membership_grant(
        actor=invitation.invited_by,
        user=actor,
        organisation=invitation.organisation,
        role=invitation.role,
    )
    invitation.accepted_at, invitation.accepted_by = clock.now(), actor
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_revoke(*, actor: User, invitation: Invitation) -> Invitation:
    _require(
        actor, "partners.manage_members", invitation, _("只有该企业伙伴的管理员才能撤销邀请。")
    )
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = clock.now()
        invitation.save(update_fields=["revoked_at"])
    return invitation


def _keeps_an_admin(membership: Membership, new_role: str | None) -> None:
    """Refuse to leave the organisation without an admin, and take back the open invitations
    of an admin who stops being one (they were sent on that admin's authority)."""
    if membership.role != Membership.Role.ADMIN or new_role == Membership.Role.ADMIN:
        return
    # Every admin seat locked, in one order: two admins demoting each other at once cannot
    # both see the other still there.
    admins = list(
        Membership.objects.select_for_update()
        .filter(organisation_id=membership.organisation_id, role=Membership.Role.ADMIN)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    if not set(admins) - {membership.pk}:
        raise _invalid("role", _("每个单位至少要保留一名管理员。"), "last_admin")
    Invitation.objects.filter(
        organisation_id=membership.organisation_id,
        invited_by_id=membership.user_id,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
    ).update(revoked_at=clock.now())


@transaction.atomic
def member_set_role(*, actor: User, membership: Membership, role: str) -> Membership:
    _require(
        actor,
        "partners.manage_members",
        membership.organisation,
        _("只有该企业伙伴的管理员才能调整成员角色。"),
    )
    if role not in Membership.Role.values:
        raise _invalid("role", _("请选择有效的角色。"), "invalid_choice")
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _keeps_an_admin(membership, role)
    return membership_grant(
        actor=actor, user=membership.user, organisation=membership.organisation, role=role
    )


@transaction.atomic
def member_remove(*, actor: User, membership: Membership) -> None:
    _require(
        actor,
        "partners.manage_members",
        membership.organisation,
        _("只有该企业伙伴的管理员才能移除成员。"),
    )
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    _keeps_an_admin(membership, None)
    membership_revoke(actor=actor, membership=membership)
