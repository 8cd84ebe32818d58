"""The feedback pages.

Public, phone first:
- ``/r/<token>/`` — rate a visit from the counter's QR code in three taps; a second scan shows
  the rating given; a forged or expired link gets a page that says so (400 / 410).
- ``/feedback/new/`` — rate a service or station online, or send a suggestion, complaint or
  praise (with a photo).
- ``/feedback/rerate/<token>/`` — the rater's verdict on a rectification, once.
- ``/feedback/mine/`` and ``/feedback/<pk>/`` — one's own feedback and the replies.

Staff:
- ``/feedback/inbox/`` (+ ``.csv``) — their organisations' feedback, filtered (kind, level or
  every 差评, reason ticked, station, service, organisation, dates, answer, appeals); the
  needs radar links its reason counts here.
- ``/feedback/<pk>/`` — reply, hide abusive text, appeal a rating, decide an appeal.
- ``/feedback/visits/<id>/card/`` — the printable slip with the visit's rating QR code.

Anonymous submissions are limited per address and per device cookie (django-ratelimit, counted
in the cache): past the limit the answer is 429 with ``Retry-After``, and nothing is written.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid

import segno
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from feedback import forms, queries, reasons, services, tokens
from feedback.models import Appeal, Feedback
from governance.core.admin import CappedCountPaginator
from governance.stakeholders.rules import organisation_ids
from governance.stakeholders.services import client_ip
from governance.stations.models import Visit

DEVICE_COOKIE = "gz_device"
DEVICE_COOKIE_AGE = 365 * 24 * 3600
INBOX_PAGE_SIZE = 50
RETRY_AFTER_SECONDS = 60
CSV_LIMIT = 50_000


# Abuse resistance ------------------------------------------------------------------------------
def _ip_key(group, request) -> str:
    return client_ip(request) or "unknown"


def _device_key(group, request) -> str:
    return request.COOKIES.get(DEVICE_COOKIE, "") or _ip_key(group, request)


def limited(request) -> bool:
    """Count one anonymous submission against the address and the device; True past either
    limit. Signed-in people are limited by their account's own pace, not here."""
    if request.user.is_authenticated:
        return False
    rate = settings.FEEDBACK_ANONYMOUS_RATE
    by_ip = is_ratelimited(
        request, group="feedback-ip", key=_ip_key, rate=rate, method="POST", increment=True
    )
    by_device = is_ratelimited(
        request, group="feedback-device", key=_device_key, rate=rate, method="POST", increment=True
    )
    return by_ip or by_device


def _too_many(request) -> HttpResponse:
    response = render(
        request,
        "feedback/problem.html",
        {
            "title": _("提交太频繁"),
            "message": _("同一网络或设备一分钟内最多提交 10 次，请稍后再试。"),
        },
        status=429,
    )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _with_device(request, response: HttpResponse) -> HttpResponse:
    if DEVICE_COOKIE not in request.COOKIES:
        response.set_cookie(
            DEVICE_COOKIE,
            uuid.uuid4().hex,
            max_age=DEVICE_COOKIE_AGE,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
    return response


def _device(request) -> str:
    return request.COOKIES.get(DEVICE_COOKIE, "")


def _actor(request):
    return request.user if request.user.is_authenticated else None


def _put_on_form(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# Rating a visit --------------------------------------------------------------------------------
def _reasons_by_level() -> list[dict]:
    return [
        {"level": level, "codes": [r.code for r in reasons.for_level(level)]}
        for level in range(1, 6)
    ]


@require_http_methods(["GET", "POST"])
def rate(request, token: str):
    try:
        claim = tokens.visit_claim(token)
    except tokens.BadLink as bad:
        return render(
            request,
            "feedback/problem.html",
            {"title": _("评价链接不可用"), "message": bad.message},
            status=410 if bad.code == "expired" else 400,
        )
    visit = (
        Visit.objects.select_related("service__department", "station")
        .filter(pk=claim.visit_id)
        .first()
    )
    if visit is None:
        raise Http404
    given = Feedback.objects.filter(visit_id=visit.pk).first()
    if given is not None:
        status = 409 if request.method == "POST" else 200
        return render(
            request, "feedback/rated.html", {"visit": visit, "rating": given}, status=status
        )
    if request.method == "POST":
        form = forms.RatingForm(request.POST)
        if limited(request):
            return _too_many(request)
        if form.is_valid():
            if form.is_bot:
                # Looks accepted to the bot; nothing is written.
                return redirect("feedback:rate", token=token)
            data = form.cleaned_data
            try:
                services.visit_rate(
                    token=token,
                    level=data["level"],
                    reasons=data["reasons"],
                    comment=data["comment"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    actor=_actor(request),
                    idempotency_key=data["idempotency_key"],
                    device=_device(request),
                )
            except services.AlreadyRated:
                return redirect("feedback:rate", token=token)
            except tokens.BadLink as bad:
                return render(
                    request,
                    "feedback/problem.html",
                    {"title": _("评价链接不可用"), "message": bad.message},
                    status=410,
                )
            except ValidationError as error:
                _put_on_form(form, error)
            else:
                messages.success(request, _("谢谢你的评价！"))
                return redirect("feedback:rate", token=token)
        status = 400
    else:
        form = forms.RatingForm()
        status = 200
    response = render(
        request,
        "feedback/rate.html",
        {"visit": visit, "form": form, "reasons_by_level": _reasons_by_level(), "claim": claim},
        status=status,
    )
    return _with_device(request, response)


# Online ratings and feedback ---------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def new(request):
    if request.method == "POST":
        form = forms.FeedbackForm(request.POST, request.FILES)
        if limited(request):
            return _too_many(request)
        if form.is_valid():
            if form.is_bot:
                return redirect("feedback:thanks")
            data = form.cleaned_data
            try:
                feedback = services.feedback_submit(
                    actor=_actor(request),
                    kind=data["kind"],
                    text=data["text"],
                    level=data["level"],
                    reasons=data["reasons"],
                    service=data["service"],
                    station=data["station"],
                    photo=data["photo"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    idempotency_key=data["idempotency_key"],
                    device=_device(request),
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "too_large":
                    form.add_error("photo", error)
                    return render(
                        request,
                        "feedback/new.html",
                        {"form": form, "reasons_by_level": _reasons_by_level()},
                        status=413,
                    )
                _put_on_form(form, _photo_error(error))
            else:
                messages.success(request, _("已收到，谢谢你的反馈！"))
                if request.user.is_authenticated:
                    return redirect("feedback:detail", pk=feedback.pk)
                return redirect("feedback:thanks")
        return render(
            request,
            "feedback/new.html",
            {"form": form, "reasons_by_level": _reasons_by_level()},
            status=400,
        )
    initial = {k: request.GET[k] for k in ("kind", "service", "station") if k in request.GET}
    form = forms.FeedbackForm(initial=initial)
    return _with_device(
        request,
        render(
            request,
            "feedback/new.html",
            {"form": form, "reasons_by_level": _reasons_by_level()},
        ),
    )


def _photo_error(error: ValidationError) -> ValidationError:
    if hasattr(error, "error_dict"):
        return error
    return ValidationError({"photo": error.error_list})


@require_safe
def thanks(request):
    return render(request, "feedback/thanks.html")


# The rater's own -------------------------------------------------------------------------------
@login_required
@require_safe
def mine(request):
    qs = queries.feedback_of(request.user).order_by("-created_at", "-pk")
    page = Paginator(qs, 20).get_page(request.GET.get("page"))
    return render(request, "feedback/mine.html", {"page": page})


@require_http_methods(["GET", "POST"])
def rerate(request, token: str):
    """Re-rate a rectification from the link in the notification or the e-mail."""
    try:
        feedback_id = tokens.rerate_claim(token)
    except tokens.BadLink as bad:
        return render(
            request,
            "feedback/problem.html",
            {"title": _("链接不可用"), "message": bad.message},
            status=410 if bad.code == "expired" else 400,
        )
    feedback = get_object_or_404(
        Feedback.objects.select_related("service", "station", "case"), pk=feedback_id
    )
    if request.method == "POST":
        form = forms.RerateForm(request.POST)
        if form.is_valid():
            try:
                services.rectification_rerate(
                    feedback=feedback,
                    level=form.cleaned_data["level"],
                    comment=form.cleaned_data["comment"],
                )
            except ValidationError as error:
                _put_on_form(form, error)
            else:
                messages.success(request, _("谢谢！你对整改的评价已记录。"))
                return redirect("feedback:rerate", token=token)
        status = 400
    else:
        form = forms.RerateForm()
        status = 200
    return render(
        request, "feedback/rerate.html", {"feedback": feedback, "form": form}, status=status
    )


# Staff -----------------------------------------------------------------------------------------
def _filtered(request) -> tuple[QuerySet[Feedback], forms.InboxFilterForm]:
    user = request.user
    if not (user.is_superuser or organisation_ids(user)):
        raise PermissionDenied(_("评价收件箱只对组织成员开放。"))
    form = forms.InboxFilterForm(request.GET or None)
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    criteria = {name: value for name, value in data.items() if value not in (None, "")}
    return queries.inbox_filtered(user, **criteria), form


@login_required
@require_safe
def inbox(request):
    qs, form = _filtered(request)
    page = CappedCountPaginator(qs, INBOX_PAGE_SIZE).get_page(request.GET.get("page"))
    # The form's data: a link's ids (the radar's) already read as the fields' slugs and codes.
    query = form.data.copy() if form.is_bound else request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "feedback/inbox.html",
        {
            "page": page,
            "filters": form if form.is_bound else forms.InboxFilterForm(),
            "query": query.urlencode(),
        },
        status=400 if form.is_bound and not form.is_valid() else 200,
    )


CSV_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "level",
    "reasons",
    "text",
    "station",
    "service",
    "organisation",
    "case",
    "reply",
    "rerating_level",
    "excluded",
    "hidden",
)


@login_required
@require_safe
def inbox_csv(request):
    """The filtered inbox as CSV (UTF-8 with BOM for Excel); contacts are not exported, and
    hidden text stays hidden."""
    qs, _form = _filtered(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="feedback-{stamp}.csv"'
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    for item in qs[:CSV_LIMIT].iterator(chunk_size=2000):
        writer.writerow(
            (
                item.pk,
                timezone.localtime(item.created_at).strftime("%Y-%m-%d %H:%M"),
                item.kind,
                item.level or "",
                ";".join(item.reasons or ()),
                "" if item.is_hidden else _csv_safe(item.text),
                item.station.slug if item.station_id else "",
                item.service.service_code if item.service_id else "",
                item.organisation.slug if item.organisation_id else "",
                item.case.reference if item.case_id else "",
                _csv_safe(item.reply),
                item.rerating_level or "",
                int(item.excluded),
                int(item.is_hidden),
            )
        )
    return response


def _csv_safe(text: str) -> str:
    """Text a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _feedback_for(request, pk: int) -> Feedback:
    feedback = queries.feedback_visible_to(request.user).select_related("visit").filter(pk=pk)
    feedback = feedback.first()
    if feedback is None:
        raise Http404
    return feedback


def _detail_context(request, feedback: Feedback, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    # Appeals are the organisation's business: the rater never reads what staff said of them.
    appeals = (
        list(feedback.appeals.select_related("filed_by", "decided_by").order_by("created_at"))
        if user.has_perm("feedback.view_appeal", feedback)
        else []
    )
    pending = next((a for a in appeals if a.status == Appeal.Status.PENDING), None)
    context = {
        "feedback": feedback,
        "appeals": appeals,
        "pending": pending,
        "staff": user.has_perm("feedback.view_feedback_contact", feedback),
        "author": feedback.user_id is not None and feedback.user_id == user.pk,
        "reason_labels": [
            reasons.BY_CODE[code].label for code in feedback.reasons if code in reasons.BY_CODE
        ],
    }
    if user.has_perm("feedback.reply_feedback", feedback):
        context["reply_form"] = bound.get("reply") or forms.ReplyForm(
            initial={"body": feedback.reply}
        )
    if user.has_perm("feedback.moderate_feedback", feedback) and not feedback.is_hidden:
        context["hide_form"] = bound.get("hide") or forms.HideForm()
    if (
        feedback.is_rating
        and not feedback.excluded
        and pending is None
        and user.has_perm("feedback.appeal_feedback", feedback)
    ):
        context["appeal_form"] = bound.get("appeal") or forms.AppealForm()
    if pending is not None and user.has_perm("feedback.decide_appeal", pending):
        context["decide_form"] = bound.get("decide") or forms.DecideForm()
    # A refused form comes back with its message even when the page would not offer it now
    # (an appeal filed meanwhile, a decision on an appeal that is gone).
    for key, form in bound.items():
        context.setdefault(f"{key}_form", form)
    if context["author"] and feedback.may_rerate:
        context["rerate_url"] = reverse("feedback:rerate", args=[tokens.rerate_token(feedback.pk)])
    return context


@login_required
@require_safe
def detail(request, pk: int):
    feedback = _feedback_for(request, pk)
    return render(request, "feedback/detail.html", _detail_context(request, feedback))


@login_required
@require_POST
def act(request, pk: int, action: str):
    feedback = _feedback_for(request, pk)
    user = request.user
    handlers = {
        "reply": (
            forms.ReplyForm,
            lambda d: services.feedback_reply(actor=user, feedback=feedback, body=d["body"]),
            _("答复已发布。"),
        ),
        "hide": (
            forms.HideForm,
            lambda d: services.feedback_hide(actor=user, feedback=feedback, reason=d["reason"]),
            _("内容已隐藏；评价等级仍计入统计。"),
        ),
        "appeal": (
            forms.AppealForm,
            lambda d: services.appeal_file(actor=user, feedback=feedback, reason=d["reason"]),
            _("申诉已提交，等待审核。"),
        ),
        "decide": (
            forms.DecideForm,
            lambda d: services.appeal_decide(
                actor=user,
                appeal=_pending_appeal(feedback),
                upheld=d["upheld"],
                note=d["note"],
            ),
            _("申诉已审核。"),
        ),
    }
    if action not in handlers:
        raise Http404
    form_class, run, message = handlers[action]
    form = form_class(request.POST)
    if form.is_valid():
        try:
            run(form.cleaned_data)
        except ValidationError as error:
            _put_on_form(form, error)
        else:
            messages.success(request, message)
            return redirect("feedback:detail", pk=feedback.pk)
    context = _detail_context(request, _feedback_for(request, pk), bound={action: form})
    return render(request, "feedback/detail.html", context, status=400)


def _pending_appeal(feedback: Feedback) -> Appeal:
    appeal = feedback.appeals.filter(status=Appeal.Status.PENDING).first()
    if appeal is None:
        raise ValidationError(_("没有待审核的申诉。"), code="no_pending")
    return appeal


# The counter's slip ----------------------------------------------------------------------------
def may_print_for(user, visit: Visit) -> bool:
    """Staff (admins and staff, not viewers) of the visit's department or of the station's
    host print its rating slip: a rating link in the wrong hands is a vote."""
    return queries.may_fetch_rating_link(user, visit)


def rating_link(request, visit: Visit) -> tuple[str, str]:
    token = tokens.visit_token(visit)
    return token, request.build_absolute_uri(reverse("feedback:rate", args=[token]))


def qr_svg(url: str) -> str:
    return segno.make(url, error="m").svg_inline(scale=5, border=2, title=_("评价二维码"))


@login_required
@require_safe
def counter_card(request, visit_id: int):
    visit = get_object_or_404(
        Visit.objects.select_related("service__department", "station"), pk=visit_id
    )
    if not may_print_for(request.user, visit):
        raise PermissionDenied(_("只有该站点或办理部门的工作人员才能打印评价码。"))
    _token, url = rating_link(request, visit)
    return render(
        request,
        "feedback/counter_card.html",
        {
            "visit": visit,
            "url": url,
            "qr": qr_svg(url),
            "expires_at": (visit.finished_at or visit.arrived_at)
            + dt.timedelta(days=tokens.rating_link_days()),
        },
    )
