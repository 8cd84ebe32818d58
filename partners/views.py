"""The partner pages about resources and bookings, and the partner portal's dashboard.

Anyone:
- ``/partners/resources/`` — the catalogue of what partners contribute: the resources the
  reader may see, filtered by kind, station, partner and name, in pages.
- ``/partners/resources/<pk>/`` — one resource: its details, photos, opening hours in words,
  and its week calendar (``?week=YYYY-MM-DD``): open windows, closures with their reasons, and
  the pending and approved bookings; other organisations' bookings show as taken time only.
- ``/partners/resources/<pk>/photos/<photo>/`` — a photo, to those who may see the resource.

The acting staff of organisations (departments, other partners, community organisations):
- ``/partners/resources/<pk>/book/`` — ask for a resource for a time range and a purpose.
- ``/partners/bookings/`` — the bookings their organisations made (outgoing) or were asked
  for (incoming), by status and dates; ``/partners/bookings/<pk>/`` — one booking, with the
  partner's approve and decline, and either side's cancel (``/<action>/``, POST only).

The partner's members:
- ``/partners/portal/`` — the dashboard (``?partner=<slug>`` for those in several partners):
  pending requests, upcoming bookings, pledges, agreements ending or ended, the KPIs the
  partner shares, and its resources (inactive ones too).
- ``/partners/resources/new/`` and ``/partners/resources/<pk>/edit/``, ``hours/``,
  ``closures/``, ``photos/`` — resource management. A resource outside the ones the user
  manages is a 404, whoever owns it.

Views parse, call one service or query, and render; the services decide. A refusal is
``PermissionDenied`` (a 403 page with the reason; anonymous visitors are sent to sign in), bad
input a ``ValidationError`` shown on the form (400), a refusal because of the booking's state
a 409, and an overlap (``services.BookingOverlap``) a 409 that names the booking in the way.
Lists run a constant number of queries.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from dataclasses import dataclass, field

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Count, Prefetch
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.core import clock
from governance.core.admin import CappedCountPaginator
from governance.kpis import queries as kpi_queries
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_superuser,
    memberships_of,
    organisation_ids,
)
from partners import forms, queries, services
from partners.models import (
    MIDNIGHT,
    AvailabilityException,
    Booking,
    Pledge,
    Resource,
    ResourcePhoto,
    Visibility,
)

PAGE_SIZE = 24
BOOKINGS_PAGE_SIZE = 30
DASHBOARD_ROWS = 20
EXPIRY_DAYS = 60
FIRST_YEAR, LAST_YEAR = forms.FIRST_YEAR, forms.LAST_YEAR


# Helpers --------------------------------------------------------------------------------------
def _may(user, permission: str, obj=None) -> bool:
    """The rule itself, as the services ask it: Django's ``has_perm`` says yes to every
    superuser first, and a page must not offer what the service then refuses (a superuser
    does not book or answer for an organisation)."""
    return rules.has_perm(permission, user, obj)


def _error_page(request, status: int, title: str, message: str) -> HttpResponse:
    return render(
        request,
        "errors/error.html",
        {"status": status, "title": title, "message": message},
        status=status,
    )


def _forbidden(request, message) -> HttpResponse:
    return _error_page(request, 403, _("没有权限"), str(message) or _("您没有访问此页面的权限。"))


def _messages_of(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _is_conflict(error: ValidationError) -> bool:
    codes = {getattr(error, "code", None)}
    if hasattr(error, "error_list"):
        codes |= {getattr(item, "code", None) for item in error.error_list}
    return bool(codes & services.CONFLICTS) or isinstance(error, services.BookingOverlap)


def _put_on_form(form, error: ValidationError, aliases: dict[str, str] | None = None) -> None:
    """A service's refusal shown where it belongs: on the field the form shows for it (the
    service's ``starts_at`` is the form's start time…), otherwise above the form."""
    aliases = aliases or {}
    visible = {bound.name for bound in form.visible_fields()}
    if hasattr(error, "error_dict"):
        for name, errors in error.error_dict.items():
            name = aliases.get(name, name)
            form.add_error(name if name in visible else None, errors)
    else:
        form.add_error(None, error)


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _today() -> dt.date:
    return timezone.localdate(clock.now())


def _photos() -> Prefetch:
    return Prefetch("photos", queryset=ResourcePhoto.objects.order_by("position", "pk"))


def _visible_resource(request, pk: int) -> Resource:
    resource = queries.resource_for(request.user, pk)
    if resource is None:
        raise Http404(_("没有这项资源，或您无权查看。"))
    return resource


def _managed_resource(request, pk: int) -> Resource:
    """The resource if the user manages it (its partner's acting staff, superusers); a 404
    for everyone else, including the members of other partners."""
    resource = queries.resources_managed_by(request.user).filter(pk=pk).first()
    if resource is None:
        raise Http404(_("没有这项资源，或您无权管理。"))
    return resource


def _clock(moment: dt.datetime, day_end: dt.datetime) -> str:
    if moment >= day_end:
        return "24:00"
    return timezone.localtime(moment).strftime("%H:%M")


def span(start: dt.datetime, end: dt.datetime, day: dt.date) -> str:
    """``start``–``end`` within one local day, as HH:MM–HH:MM (the day's end is 24:00)."""
    day_start = forms.local(day, dt.time(0))
    day_end = day_start + dt.timedelta(days=1)
    start, end = max(start, day_start), min(end, day_end)
    return f"{_clock(start, day_end)}–{_clock(end, day_end)}"


def hours_in_words(rules_of_resource) -> list[tuple[str, str]]:
    """The weekly rules in words, consecutive days with the same hours together:
    ``[("星期一至星期五", "09:00–12:00、13:00–18:00"), ("星期六、星期日", "不开放")]``."""
    rules_of_resource = list(rules_of_resource)
    if not rules_of_resource:
        return []
    separator = pgettext("separator between list items", "、")
    names = dict(forms.WEEKDAYS)
    per_day: dict[int, list[str]] = {day: [] for day in range(7)}
    for rule in sorted(rules_of_resource, key=lambda rule: (rule.weekday, rule.opens)):
        closes = "24:00" if rule.closes == MIDNIGHT else rule.closes.strftime("%H:%M")
        per_day[rule.weekday].append(f"{rule.opens:%H:%M}–{closes}")
    groups: list[list] = []
    for day in range(7):
        text = separator.join(per_day[day]) or _("不开放")
        if groups and groups[-1][2] == text:
            groups[-1][1] = day
        else:
            groups.append([day, day, text])
    result = []
    for first, last, text in groups:
        if first == last:
            days = str(names[first])
        elif last == first + 1:
            days = f"{names[first]}{separator}{names[last]}"
        else:
            days = _("%(first)s至%(last)s") % {"first": names[first], "last": names[last]}
        result.append((days, text))
    return result


# The catalogue --------------------------------------------------------------------------------
@require_safe
def resource_list(request):
    """The resources the reader may see, filtered; the partner's own inactive ones marked."""
    form = forms.CatalogueForm(request.GET or None)
    resources = queries.resources_visible_to(request.user)
    status = 200
    if form.is_bound:
        if form.is_valid():
            resources = form.filter(resources)
        else:
            status, resources = 400, resources.none()
    page = CappedCountPaginator(resources.prefetch_related(_photos()), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    user = request.user
    return render(
        request,
        "partners/resources/list.html",
        {
            "form": form,
            "page": page,
            "query": _query_without_page(request),
            "filtered": form.is_bound and bool(_query_without_page(request)),
            "may_add": _may(user, "partners.add_resource"),
            "may_portal": _may(user, "partners.view_portal"),
            "manages": organisation_ids(user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES),
        },
        status=status,
    )


# One resource and its week ------------------------------------------------------------------
@dataclass
class Entry:
    """Something on a day of the calendar, with its time on that day."""

    label: str
    item: object


@dataclass
class CalendarDay:
    date: dt.date
    is_today: bool
    is_past: bool
    windows: list[str] = field(default_factory=list)
    closures: list[Entry] = field(default_factory=list)
    bookings: list[Entry] = field(default_factory=list)


def _week_start(value: str | None, today: dt.date) -> dt.date | None:
    """The Monday of ``?week=`` (any day of that week), this week's without it; None when
    the value is no date this site can show."""
    if not value:
        return queries.monday_of(today)
    try:
        day = dt.date.fromisoformat(value.strip())
    except ValueError:
        return None
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return queries.monday_of(day)


def calendar_days(week: queries.Week, today: dt.date) -> list[CalendarDay]:
    days = []
    for day in week.days:
        days.append(
            CalendarDay(
                date=day.date,
                is_today=day.date == today,
                is_past=day.date < today,
                windows=[span(start, end, day.date) for start, end in day.windows],
                closures=[
                    Entry(span(closure.starts_at, closure.ends_at, day.date), closure)
                    for closure in day.closures
                ],
                bookings=[
                    Entry(span(booking.starts_at, booking.ends_at, day.date), booking)
                    for booking in day.bookings
                ],
            )
        )
    return days


@require_safe
def resource_detail(request, pk: int):
    """A resource's details and its week: what is open, closed and taken, day by day."""
    resource = _visible_resource(request, pk)
    today = _today()
    monday = _week_start(request.GET.get("week"), today)
    if monday is None:
        return _error_page(
            request,
            400,
            _("日期有误"),
            _("请用 YYYY-MM-DD 格式给出 %(first)s 到 %(last)s 年之间的日期。")
            % {"first": FIRST_YEAR, "last": LAST_YEAR},
        )
    week = queries.week(resource, monday, user=request.user)
    user = request.user
    bookable = resource.bookable and resource.is_active
    return render(
        request,
        "partners/resources/detail.html",
        {
            "resource": resource,
            "photos": list(resource.photos.all()),
            "hours": hours_in_words(resource.opening_rules.all()),
            "week": week,
            "days": calendar_days(week, today),
            "this_week": queries.monday_of(today),
            "may_book": _may(user, "partners.book_resource", resource),
            "sign_in_to_book": bookable and not user.is_authenticated,
            "may_manage": _may(user, "partners.manage_resource", resource),
        },
    )


@require_safe
def resource_photo(request, pk: int, photo: int):
    """A photo of a resource, to those who may see the resource. Files never sit at a
    public media URL."""
    resource = _visible_resource(request, pk)
    found = next((item for item in resource.photos.all() if item.pk == photo), None)
    if found is None:
        raise Http404
    try:
        handle = default_storage.open(found.file.name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=found.content_type)
    extension = found.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = (
        f'inline; filename="resource-{resource.pk}-{found.pk}.{extension}"'
    )
    public = resource.is_active and resource.visibility == Visibility.PUBLIC
    response["Cache-Control"] = "max-age=3600" if public else "private, no-store"
    return response


# Booking a resource ---------------------------------------------------------------------------
def _booking_refusal(user, resource: Resource) -> str:
    if not resource.is_active:
        return _("这项资源已停用，暂不接受预约。")
    if not resource.bookable:
        return _("这项资源不按时段使用，不接受预约。")
    if organisation_ids(user, roles=ACTING_ROLES) == {resource.partner_id}:
        return _("提供方不需要预约自己的资源；请改为设置暂停开放。")
    return _("只有政府部门、其他企业伙伴或社区组织的工作人员才能预约资源。")


def _requesters(user, resource: Resource):
    ids = organisation_ids(user, roles=ACTING_ROLES) - {resource.partner_id}
    return Organisation.objects.filter(pk__in=ids, is_active=True).order_by("kind", "name_zh")


BOOKING_FIELDS = {"starts_at": "start_time", "ends_at": "end_time"}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def book(request, pk: int):
    """Ask the partner for the resource. A time already approved for someone else is refused
    at once, naming that booking (409)."""
    resource = _visible_resource(request, pk)
    user = request.user
    if not _may(user, "partners.book_resource", resource):
        return _forbidden(request, _booking_refusal(user, resource))
    requesters = _requesters(user, resource)
    status = 200
    if request.method == "POST":
        form = forms.BookingForm(request.POST, requesters=requesters)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                booking = services.booking_request(
                    actor=user,
                    resource=resource,
                    requester=data["requester"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    purpose=data["purpose"],
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                status = 409 if _is_conflict(error) else 400
                _put_on_form(form, error, BOOKING_FIELDS)
            else:
                messages.success(request, _("预约申请已提交，等待提供方审批。"))
                return redirect("partners:booking", pk=booking.pk)
    else:
        initial = {}
        choices = list(requesters)
        if len(choices) == 1:
            initial["requester"] = choices[0].slug
        with contextlib.suppress(ValueError):
            initial["date"] = dt.date.fromisoformat(request.GET.get("date", ""))
        form = forms.BookingForm(initial=initial, requesters=requesters)
    return render(
        request,
        "partners/resources/book.html",
        {
            "resource": resource,
            "form": form,
            "hours": hours_in_words(resource.opening_rules.all()),
        },
        status=status,
    )


# Bookings -------------------------------------------------------------------------------------
def _tabs(user) -> tuple[list[tuple[str, str]], str]:
    tabs = [("incoming", _("收到的申请")), ("outgoing", _("本单位的申请"))]
    if is_superuser(user):
        tabs.append(("all", _("全部预约")))
    if organisation_ids(user, kind=Organisation.Kind.PARTNER):
        default = "incoming"
    elif memberships_of(user):
        default = "outgoing"
    else:
        default = "all"
    return tabs, default


@login_required
@require_safe
def booking_list(request):
    """The bookings of the user's organisations: those they were asked for (incoming) and
    those they asked for (outgoing), by status and dates."""
    user = request.user
    if not memberships_of(user) and not is_superuser(user):
        return _forbidden(request, _("预约只对政府部门、企业伙伴和社区组织的成员开放。"))
    tabs, default = _tabs(user)
    data = request.GET.copy()
    data.setdefault("tab", default)
    form = forms.BookingFilterForm(data, tabs=tabs)
    bookings = queries.bookings_visible_to(user)
    status = 200
    tab = data["tab"] if data["tab"] in dict(tabs) else default
    if form.is_valid():
        seats = set(memberships_of(user))
        if tab == "incoming":
            bookings = bookings.filter(resource__partner_id__in=seats)
        elif tab == "outgoing":
            bookings = bookings.filter(requester_id__in=seats)
        bookings = form.filter(bookings)
    else:
        status, bookings = 400, bookings.none()
    page = CappedCountPaginator(bookings, BOOKINGS_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "partners/bookings/list.html",
        {
            "form": form,
            "tabs": tabs,
            "tab": tab,
            "page": page,
            "query": _query_without_page(request),
        },
        status=status,
    )


def _booking(request, pk: int) -> Booking:
    booking = queries.booking_for(request.user, pk)
    if booking is None:
        raise Http404(_("没有这条预约，或您无权查看。"))
    return booking


def _booking_context(
    request,
    booking: Booking,
    *,
    bound: dict | None = None,
    errors: list[str] | None = None,
    overlap: Booking | None = None,
) -> dict:
    user = request.user
    bound = bound or {}
    now = clock.now()
    can_decide = (
        booking.status == Booking.Status.REQUESTED
        and booking.starts_at > now
        and _may(user, "partners.decide_booking", booking)
    )
    can_cancel = (
        booking.is_open and booking.ends_at > now and _may(user, "partners.cancel_booking", booking)
    )
    in_the_way = overlap
    if in_the_way is None and can_decide:
        in_the_way = services.conflicting_booking(
            booking.resource_id, booking.starts_at, booking.ends_at, exclude=booking.pk
        )
    return {
        "booking": booking,
        "resource": booking.resource,
        "day": timezone.localtime(booking.starts_at).date(),
        "can_decide": can_decide,
        "can_cancel": can_cancel,
        "decline_form": bound.get("decline") or forms.ReasonForm(prefix="decline"),
        "cancel_form": bound.get("cancel") or forms.ReasonForm(prefix="cancel"),
        "action_errors": errors or [],
        "in_the_way": in_the_way,
        "in_the_way_visible": in_the_way is not None
        and queries.booking_for(user, in_the_way.pk) is not None,
        "week_of": queries.monday_of(timezone.localtime(booking.starts_at).date()),
    }


@login_required
@require_safe
def booking_detail(request, pk: int):
    booking = _booking(request, pk)
    return render(request, "partners/bookings/detail.html", _booking_context(request, booking))


BOOKING_ACTIONS = ("approve", "decline", "cancel")


@login_required
@require_POST
def booking_act(request, pk: int, action: str):
    """Approve, decline (with a reason) or cancel (with a reason) one booking."""
    if action not in BOOKING_ACTIONS:
        raise Http404
    booking = _booking(request, pk)
    user = request.user
    form = None if action == "approve" else forms.ReasonForm(request.POST, prefix=action)
    status, errors, overlap = 400, [], None
    if form is None or form.is_valid():
        try:
            if action == "approve":
                services.booking_approve(actor=user, booking=booking)
                message = _("预约已批准，申请单位会收到通知。")
            elif action == "decline":
                services.booking_decline(
                    actor=user, booking=booking, reason=form.cleaned_data["reason"]
                )
                message = _("预约已拒绝，申请单位会看到原因。")
            else:
                services.booking_cancel(
                    actor=user, booking=booking, reason=form.cleaned_data["reason"]
                )
                message = _("预约已取消，对方会看到原因。")
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = 409 if _is_conflict(error) else 400
            if isinstance(error, services.BookingOverlap):
                overlap = error.booking
            if form is not None and hasattr(error, "error_dict"):
                _put_on_form(form, error)
            else:
                errors = [_messages_of(error)]
        else:
            messages.success(request, message)
            return redirect("partners:booking", pk=booking.pk)
    booking = _booking(request, pk)
    context = _booking_context(
        request, booking, bound={action: form} if form else None, errors=errors, overlap=overlap
    )
    return render(request, "partners/bookings/detail.html", context, status=status)


# The portal -----------------------------------------------------------------------------------
def portal_partner(request) -> tuple[Organisation | None, list[Organisation]]:
    """The partner a portal page acts for, and the ones to choose from: the partners the user
    has a seat in (any partner, for a superuser), ``?partner=<slug>`` picking one (the first
    by default). A partner outside the choice is a 404; no seat at all is a 403."""
    user = request.user
    if not _may(user, "partners.view_portal"):
        raise PermissionDenied(_("伙伴工作台只对企业伙伴的成员开放。"))
    if is_superuser(user):
        choices = list(
            Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True).order_by(
                "name_zh"
            )
        )
    else:
        choices = list(queries.partners_of(user))
    wanted = request.GET.get("partner")
    if wanted:
        chosen = next((partner for partner in choices if partner.slug == wanted), None)
        if chosen is None:
            raise Http404(_("您不在这个企业伙伴中任职。"))
        return chosen, choices
    # A superuser starts with a partner they sit in, if any.
    seats = memberships_of(user)
    own = next((partner for partner in choices if partner.pk in seats), None)
    return (own or (choices[0] if choices else None)), choices


@dataclass
class CardView:
    """A KPI card as ``kpis/includes/card.html`` reads it."""

    card: kpi_queries.Card
    unit: str
    spark: dict
    spark_id: str


def _kpi_cards(user, partner: Organisation) -> list[CardView]:
    """The indicators the partner shares (owns with others, or alone) that the user may see."""
    indicators = (
        kpi_queries.indicators_visible_to(user).filter(owners=partner).order_by("name_zh", "pk")
    )
    cards = kpi_queries.indicator_cards(indicators, today=kpi_queries.local_today())
    return [
        CardView(
            card=card,
            unit=kpi_queries.indicator_unit(card.indicator),
            spark={
                "labels": [row.start.isoformat() for row in card.history],
                "values": [row.value for row in card.history],
                "green": [row.target.green if row.target else None for row in card.history],
            },
            spark_id=f"partner-spark-{card.indicator.code}",
        )
        for card in cards
    ]


@login_required
@require_safe
def portal(request):
    """A partner's dashboard: what waits for an answer, what is coming, what was pledged,
    which agreements end, the shared KPIs, and the resources (inactive ones too)."""
    try:
        partner, partners = portal_partner(request)
    except PermissionDenied as error:
        return _forbidden(request, error)
    user = request.user
    context: dict = {"partner": partner, "partners": partners}
    if partner is None:
        return render(request, "partners/portal/dashboard.html", context)
    now = clock.now()
    today = _today()
    pending = list(
        queries.bookings_visible_to(user)
        .filter(resource__partner=partner, status=Booking.Status.REQUESTED, starts_at__gt=now)
        .order_by("starts_at", "pk")[: DASHBOARD_ROWS + 1]
    )
    upcoming = list(queries.upcoming_bookings(user, partner_ids={partner.pk})[: DASHBOARD_ROWS + 1])
    pledges = queries.pledges_visible_to(user).filter(partner=partner)
    counts = dict(pledges.order_by().values_list("status").annotate(n=Count("pk")))
    pledge_counts = [(value, label, counts.get(value, 0)) for value, label in Pledge.Status.choices]
    open_pledges = list(
        pledges.filter(status__in=(Pledge.Status.OFFERED, Pledge.Status.ACCEPTED)).order_by(
            "-created_at", "-pk"
        )[:DASHBOARD_ROWS]
    )
    agreements = list(
        queries.expiring_agreements(user, within_days=EXPIRY_DAYS)
        .filter(partner=partner)
        .order_by("ends_on", "pk")[:DASHBOARD_ROWS]
    )
    for agreement in agreements:
        agreement.expired = agreement.is_expired(today)
        agreement.days_left = (agreement.ends_on - today).days
    resources = list(
        queries.resources_visible_to(user)
        .filter(partner=partner)
        .order_by("-is_active", "name_zh", "pk")[: DASHBOARD_ROWS + 1]
    )
    context.update(
        {
            "pending": pending[:DASHBOARD_ROWS],
            "more_pending": len(pending) > DASHBOARD_ROWS,
            "upcoming": upcoming[:DASHBOARD_ROWS],
            "more_upcoming": len(upcoming) > DASHBOARD_ROWS,
            "pledge_counts": pledge_counts,
            "pledge_total": sum(counts.values()),
            "open_pledges": open_pledges,
            "agreements": agreements,
            "cards": _kpi_cards(user, partner),
            "resources": resources[:DASHBOARD_ROWS],
            "more_resources": len(resources) > DASHBOARD_ROWS,
            "may_manage": _may(user, "partners.manage_resource", partner),
            "may_add": _may(user, "partners.add_resource", partner),
            "today": today,
        }
    )
    return render(request, "partners/portal/dashboard.html", context)


# Managing resources ---------------------------------------------------------------------------
def _resource_data(form) -> dict:
    return {name: form.cleaned_data[name] for name in services.RESOURCE_FIELDS}


def _managing_partners(user) -> list[Organisation]:
    if is_superuser(user):
        return list(
            Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True).order_by(
                "name_zh"
            )
        )
    return list(queries.partners_of(user, acting=True))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resource_new(request):
    """Add a resource to a partner's catalogue (``?partner=<slug>`` when one acts for
    several); then on to its opening hours."""
    user = request.user
    choices = _managing_partners(user)
    if not choices:
        return _forbidden(request, _("只有企业伙伴的管理员和工作人员才能添加资源。"))
    wanted = request.GET.get("partner")
    partner = choices[0]
    if wanted:
        partner = next((choice for choice in choices if choice.slug == wanted), None)
        if partner is None:
            raise Http404(_("您不在这个企业伙伴中任职。"))
    status = 200
    if request.method == "POST":
        form = forms.ResourceForm(request.POST)
        status = 400
        if form.is_valid():
            try:
                resource = services.resource_create(
                    actor=user, partner=partner, data=_resource_data(form)
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                _put_on_form(form, error)
            else:
                messages.success(request, _("资源已添加。请设置它的开放时间。"))
                return redirect("partners:resource_hours", pk=resource.pk)
    else:
        form = forms.ResourceForm()
    return render(
        request,
        "partners/resources/form.html",
        {"form": form, "partner": partner, "partners": choices, "resource": None},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resource_edit(request, pk: int):
    resource = _managed_resource(request, pk)
    status = 200
    if request.method == "POST":
        form = forms.ResourceForm(request.POST, instance=Resource.objects.get(pk=resource.pk))
        status = 400
        if form.is_valid():
            try:
                services.resource_update(
                    actor=request.user, resource=resource, data=_resource_data(form)
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                _put_on_form(form, error)
            else:
                messages.success(request, _("资源已保存。"))
                return redirect("partners:resource_edit", pk=resource.pk)
    else:
        form = forms.ResourceForm(instance=resource)
    return render(
        request,
        "partners/resources/form.html",
        {"form": form, "partner": resource.partner, "resource": resource, "section": "edit"},
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resource_hours(request, pk: int):
    """The weekly opening hours: for each day, the windows in which the resource is open."""
    resource = _managed_resource(request, pk)
    rules_now = list(resource.opening_rules.order_by("weekday", "opens"))
    status = 200
    if request.method == "POST":
        form = forms.OpeningHoursForm(request.POST, rules=rules_now)
        status = 400
        if form.is_valid():
            try:
                services.resource_set_opening_rules(
                    actor=request.user, resource=resource, windows=form.cleaned_data["windows"]
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                form.add_error(None, _messages_of(error))
            else:
                messages.success(request, _("开放时间已保存。"))
                return redirect("partners:resource_hours", pk=resource.pk)
    else:
        form = forms.OpeningHoursForm(rules=rules_now)
    return render(
        request,
        "partners/resources/hours.html",
        {
            "resource": resource,
            "form": form,
            "hours": hours_in_words(rules_now),
            "section": "hours",
        },
        status=status,
    )


EXCEPTION_FIELDS = {"starts_at": "start_date", "ends_at": "end_date"}


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resource_closures(request, pk: int):
    """Closures and extra openings to come (and add one). A closure does not cancel approved
    bookings: the page lists the ones it covers, for the partner to cancel with a reason."""
    resource = _managed_resource(request, pk)
    status = 200
    if request.method == "POST":
        form = forms.ExceptionForm(request.POST)
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                exception = services.exception_add(
                    actor=request.user,
                    resource=resource,
                    kind=data["kind"],
                    starts_at=data["starts_at"],
                    ends_at=data["ends_at"],
                    reason=data["reason"],
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                _put_on_form(form, error, EXCEPTION_FIELDS)
            else:
                messages.success(request, _("已保存。"))
                covered = Booking.objects.filter(
                    resource=resource,
                    status=Booking.Status.APPROVED,
                    starts_at__lt=exception.ends_at,
                    ends_at__gt=exception.starts_at,
                ).count()
                if exception.kind == AvailabilityException.Kind.CLOSED and covered:
                    messages.warning(
                        request,
                        _(
                            "暂停期间还有 %(count)s 个已批准的预约，它们不会自动取消；"
                            "请在下方逐一取消并说明原因。"
                        )
                        % {"count": covered},
                    )
                return redirect("partners:resource_closures", pk=resource.pk)
    else:
        form = forms.ExceptionForm()
    now = clock.now()
    exceptions = list(
        AvailabilityException.objects.filter(resource=resource, ends_at__gt=now).order_by(
            "starts_at", "pk"
        )
    )
    closed = [e for e in exceptions if e.kind == AvailabilityException.Kind.CLOSED]
    affected = []
    if closed:
        first = min(e.starts_at for e in closed)
        last = max(e.ends_at for e in closed)
        candidates = queries.bookings_visible_to(request.user).filter(
            resource=resource,
            status=Booking.Status.APPROVED,
            starts_at__lt=last,
            ends_at__gt=max(first, now),
        )
        affected = [
            booking
            for booking in candidates.order_by("starts_at", "pk")
            if any(e.starts_at < booking.ends_at and e.ends_at > booking.starts_at for e in closed)
        ]
    return render(
        request,
        "partners/resources/closures.html",
        {
            "resource": resource,
            "form": form,
            "exceptions": exceptions,
            "affected": affected,
            "section": "closures",
        },
        status=status,
    )


@login_required
@require_POST
def resource_closure_remove(request, pk: int, exception: int):
    resource = _managed_resource(request, pk)
    found = AvailabilityException.objects.filter(resource=resource, pk=exception).first()
    if found is None:
        raise Http404
    try:
        services.exception_remove(actor=request.user, exception=found)
    except PermissionDenied as error:
        return _forbidden(request, error)
    messages.success(request, _("已删除。"))
    return redirect("partners:resource_closures", pk=resource.pk)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def resource_photos(request, pk: int):
    """The resource's photos: add (checked and stripped of metadata by the service) and
    remove."""
    resource = _managed_resource(request, pk)
    status = 200
    if request.method == "POST":
        form = forms.PhotoForm(request.POST, request.FILES)
        status = 400
        if form.is_valid():
            try:
                services.photo_add(
                    actor=request.user,
                    resource=resource,
                    upload=form.cleaned_data["photo"],
                    caption=form.cleaned_data["caption"],
                )
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                if getattr(error, "code", None) == "too_large":
                    status = 413
                if not hasattr(error, "error_dict"):
                    error = ValidationError({"photo": error.error_list})
                _put_on_form(form, error)
            else:
                messages.success(request, _("照片已上传。"))
                return redirect("partners:resource_photos", pk=resource.pk)
    else:
        form = forms.PhotoForm()
    return render(
        request,
        "partners/resources/photos.html",
        {
            "resource": resource,
            "form": form,
            "photos": list(resource.photos.order_by("position", "pk")),
            "max_photos": services.MAX_PHOTOS,
            "section": "photos",
        },
        status=status,
    )


@login_required
@require_POST
def resource_photo_remove(request, pk: int, photo: int):
    resource = _managed_resource(request, pk)
    found = ResourcePhoto.objects.filter(resource=resource, pk=photo).first()
    if found is None:
        raise Http404
    try:
        services.photo_remove(actor=request.user, photo=found)
    except PermissionDenied as error:
        return _forbidden(request, error)
    messages.success(request, _("照片已删除。"))
    return redirect("partners:resource_photos", pk=resource.pk)


urlpatterns = [
    path("resources/", resource_list, name="resources"),
    path("resources/new/", resource_new, name="resource_new"),
    path("resources/<int:pk>/", resource_detail, name="resource"),
    path("resources/<int:pk>/book/", book, name="book"),
    path("resources/<int:pk>/edit/", resource_edit, name="resource_edit"),
    path("resources/<int:pk>/hours/", resource_hours, name="resource_hours"),
    path("resources/<int:pk>/closures/", resource_closures, name="resource_closures"),
    path(
        "resources/<int:pk>/closures/<int:exception>/remove/",
        resource_closure_remove,
        name="resource_closure_remove",
    ),
    path("resources/<int:pk>/photos/", resource_photos, name="resource_photos"),
    path("resources/<int:pk>/photos/<int:photo>/", resource_photo, name="resource_photo"),
    path(
        "resources/<int:pk>/photos/<int:photo>/remove/",
        resource_photo_remove,
        name="resource_photo_remove",
    ),
    path("bookings/", booking_list, name="bookings"),
    path("bookings/<int:pk>/", booking_detail, name="booking"),
    path("bookings/<int:pk>/<slug:action>/", booking_act, name="booking_act"),
    path("portal/", portal, name="portal"),
]
