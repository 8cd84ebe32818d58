"""The case pages: a citizen reports a problem and follows it; staff work their queue and the
case.

- ``/cases/report/`` — the report form (phone first, photos, a station or an address);
  anyone, signed in or not.
- ``/cases/mine/`` — the cases the signed-in user reported.
- ``/cases/<reference>/`` — one case: the public timeline for everyone who may see it; for the
  organisations on it also the internal notes, the reporter's contact and the forms
  (transition, reply, note, assign, route, co-handlers, due dates, attachments).
- ``/cases/queue/`` — the staff work queue: mine, my organisations', triage, overdue, due soon;
  filters and bulk assignment.

Views parse, check, call one service and render; the services decide who may do what and
refuse with ``PermissionDenied`` (403) or ``ValidationError`` (the form shows the message,
status 400). Every list runs a constant number of queries (joined in ``queries``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe
from django_ratelimit.core import is_ratelimited

from governance.cases import forms, queries, services
from governance.cases.models import OPEN_STATUSES, Case, CoHandler, Source, Status, TimelineEntry
from governance.cases.rules import is_triager, signed_in
from governance.core import panels as core_panels
from governance.core.admin import CappedCountPaginator
from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.queries import acting_members
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids
from governance.stakeholders.services import client_ip

QUEUE_PAGE_SIZE = 50
RECEIPTS_KEY = "cases_reported"
RECEIPTS_KEPT = 20
MINE_PAGE_SIZE = 20


def _due_soon() -> dt.timedelta:
    return getattr(settings, "CASES_RESOLVE_DUE_SOON", queries.DEFAULT_RESOLVE_DUE_SOON)


def _visible_case(request, reference: str) -> Case:
    case = queries.cases_visible_to(request.user).filter(reference=reference).first()
    if case is None:
        raise Http404(_("没有这个事项，或你无权查看。"))
    return case


def _put_on_form(form, error: ValidationError) -> None:
    """A service's refusal shown where it belongs: on its field if the form has one."""
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


# Report ----------------------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def report(request):
    """Report a problem. A photo that is too large or no image refuses the whole report, with
    nothing written; the form comes back with the message."""
    user = request.user if signed_in(request.user) else None
    initial = {}
    if "station" in request.GET:
        initial["station"] = request.GET["station"]
    if "service" in request.GET:
        initial["service"] = request.GET["service"]
    if request.method == "POST":
        if user is None and _report_limited(request):
            response = render(
                request,
                "cases/report.html",
                {
                    "form": forms.ReportForm(user=user),
                    "limited": True,
                },
                status=429,
            )
            response["Retry-After"] = "3600"
            return response
        form = forms.ReportForm(request.POST, request.FILES, user=user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.case_open(
                    actor=user,
                    title=data["title"],
                    description=data["description"],
                    source=Source.CITIZEN,
                    service=data["service"],
                    category=data["category"],
                    station=data["station"],
                    address=data["address"],
                    contact_name=data["contact_name"],
                    contact_phone=data["contact_phone"],
                    contact_email=data["contact_email"],
                    is_public=data["is_public"],
                    uploads=data["photos"],
                )
            except ValidationError as error:
                if getattr(error, "code", None) == "too_large":
                    form.add_error("photos", error)
                    return render(request, "cases/report.html", {"form": form}, status=413)
                _put_on_form(form, _photos_error(error))
            else:
                receipts = request.session.get(RECEIPTS_KEY, [])[-(RECEIPTS_KEPT - 1) :]
                request.session[RECEIPTS_KEY] = [*receipts, case.reference]
                return redirect("cases:submitted", reference=case.reference)
        return render(request, "cases/report.html", {"form": form}, status=400)
    form = forms.ReportForm(initial=initial, user=user)
    return render(request, "cases/report.html", {"form": form})


def _report_limited(request) -> bool:
    """Anonymous reports per address, at the API's rate (``API_THROTTLE_CASE_REPORT``): each
    one opens a case and tells its handlers, so the page is no way around the API's limit."""
    rate = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["case_report"]
    count, _slash, period = rate.partition("/")
    rate = f"{count}/{period[:1] or 'h'}"
    return is_ratelimited(
        request,
        group="cases-report",
        key=lambda group, request: client_ip(request) or "unknown",
        rate=rate,
        method="POST",
        increment=True,
    )


def _photos_error(error: ValidationError) -> ValidationError:
    """The attachment checks speak of one file; on the report form they belong to the photos."""
    if hasattr(error, "error_dict"):
        if "attachments" in error.error_dict:
            return ValidationError({"photos": error.error_dict["attachments"]})
        return error
    return ValidationError({"photos": error.error_list})


@require_safe
def submitted(request, reference: str):
    """The receipt: the reference to quote, and where to follow the case if one may."""
    case = Case.objects.filter(reference=reference).only(
        "reference", "is_public", "reporter_id", "responsible_id", "acknowledge_due_at", "status"
    )
    case = case.first()
    if case is None:
        raise Http404
    can_view = request.user.has_perm("cases.view_case", case)
    # References are sequential: the receipt of a private case is for the browser that sent
    # the report (or those who may see the case), never for someone trying numbers.
    if not can_view and reference not in request.session.get(RECEIPTS_KEY, []):
        raise Http404
    return render(request, "cases/submitted.html", {"case": case, "can_view": can_view})


@login_required
@require_safe
def mine(request):
    qs = queries.reported_by(request.user)
    page = Paginator(qs, MINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cases/mine.html", {"page": page, "now": timezone.now()})


# One case ---------------------------------------------------------------------------------------
@dataclass
class Line:
    """One timeline entry told in words for the page."""

    entry: TimelineEntry
    title: str
    detail: str


def _describe(entries: list[TimelineEntry]) -> list[Line]:
    """Turn entries into words, reading the users and organisations they name in two queries."""
    user_ids, org_ids = set(), set()
    for entry in entries:
        data = entry.data or {}
        if entry.kind in (TimelineEntry.Kind.ASSIGNED, TimelineEntry.Kind.COHANDLER_TASK):
            user_ids.update(v for v in (data.get("to"),) if v)
        if entry.kind in (TimelineEntry.Kind.ROUTED, TimelineEntry.Kind.COHANDLER_TASK):
            org_ids.update(
                v for v in (data.get("responsible_id"), data.get("organisation_id")) if v
            )
        if entry.kind == TimelineEntry.Kind.COHANDLER:
            org_ids.add(data.get("organisation_id"))
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    orgs = {o.pk: o for o in Organisation.objects.filter(pk__in=org_ids)} if org_ids else {}
    statuses = dict(Status.choices)
    lines = []
    for entry in entries:
        data = entry.data or {}
        kind = entry.kind
        title, detail = entry.get_kind_display(), entry.body
        if kind == TimelineEntry.Kind.STATUS:
            title = _("状态变为“%(status)s”") % {"status": statuses.get(data.get("to"), "")}
            if data.get("duplicate_of"):
                detail = _("与事项 %(reference)s 重复。") % {"reference": data["duplicate_of"]}
        elif kind == TimelineEntry.Kind.ROUTED:
            org = orgs.get(data.get("responsible_id"))
            if data.get("routing") == Case.Routing.TRIAGE:
                title = _("没有匹配的分派规则，进入分拨队列")
            elif data.get("routing") == Case.Routing.RULE:
                title = _("由分派规则“%(rule)s”分派给 %(org)s") % {
                    "rule": data.get("rule_name", ""),
                    "org": org.name if org else "",
                }
            else:
                title = _("转给 %(org)s") % {"org": org.name if org else ""}
        elif kind == TimelineEntry.Kind.ASSIGNED:
            user = users.get(data.get("to"))
            title = _("指定经办人：%(name)s") % {"name": str(user)} if user else _("取消经办人")
        elif kind == TimelineEntry.Kind.COHANDLER:
            org = orgs.get(data.get("organisation_id"))
            title = _("增加协办单位：%(org)s") % {"org": org.name if org else ""}
        elif kind == TimelineEntry.Kind.COHANDLER_TASK:
            org = orgs.get(data.get("organisation_id"))
            name = org.name if org else ""
            if data.get("state") == CoHandler.State.DONE:
                title = _("%(org)s 完成协办任务") % {"org": name}
            else:
                user = users.get(data.get("to"))
                title = _("%(org)s 协办经办人：%(name)s") % {
                    "org": name,
                    "name": str(user) if user else _("无"),
                }
        elif kind == TimelineEntry.Kind.CONTACT:
            channel = services.CONTACT_CHANNELS.get(data.get("channel"), "")
            title = _("联系报告人（%(channel)s）") % {"channel": channel}
        elif kind == TimelineEntry.Kind.ATTACHMENT:
            detail = data.get("name", "")
        elif kind == TimelineEntry.Kind.DUE_CHANGED:
            title = (
                _("受理时限调整") if data.get("deadline") == "acknowledge" else _("办结时限调整")
            )
        lines.append(Line(entry=entry, title=title, detail=detail))
    return lines


def _members_of(organisation_id: int | None) -> QuerySet[User]:
    if organisation_id is None:
        return User.objects.none()
    return acting_members([organisation_id]).order_by("display_name", "email")


def _members_by_organisation(organisation_ids: list[int]) -> dict[int, list[User]]:
    """The acting members of each organisation, in one query for all of them."""
    if not organisation_ids:
        return {}
    seats = (
        Membership.objects.filter(
            organisation_id__in=organisation_ids,
            organisation__is_active=True,
            role__in=ACTING_ROLES,
            user__is_active=True,
        )
        .select_related("user")
        .order_by("user__display_name", "user__email")
    )
    people: dict[int, list[User]] = {}
    for seat in seats:
        people.setdefault(seat.organisation_id, []).append(seat.user)
    return people


def _detail_context(request, case: Case, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    internal = user.has_perm("cases.view_case_internal", case)
    can_handle = user.has_perm("cases.handle_case", case)
    transitions = services.transitions_for(user, case)
    # The reporter's two steps have their own buttons; handlers use the transition form.
    can_reopen = not can_handle and Status.REOPENED in transitions
    can_close = not can_handle and Status.CLOSED in transitions
    entries = list(queries.timeline_for(user, case))
    cohandlers = list(case.cohandlers.all())
    people = _members_by_organisation([c.organisation_id for c in cohandlers])
    cohandler_rows = []
    for cohandler in cohandlers:
        cohandler.case = case
        manage = cohandler.state == CoHandler.State.OPEN and user.has_perm(
            "cases.handle_cohandler", cohandler
        )
        cohandler_rows.append(
            {
                "cohandler": cohandler,
                "manage": manage and case.is_open,
                "done_form": bound.get(f"done-{cohandler.pk}")
                or forms.CoHandlerDoneForm(prefix=f"done-{cohandler.pk}"),
                "assign_form": bound.get(f"task-{cohandler.pk}")
                or forms.AssignForm(
                    prefix=f"task-{cohandler.pk}",
                    members=people.get(cohandler.organisation_id, []),
                    initial={"assignee": cohandler.assignee_id},
                ),
            }
        )
    context = {
        "case": case,
        "lines": _describe(entries),
        "attachments": list(queries.attachments_for(user, case)),
        "contact": queries.contact_for(user, case),
        "internal": internal,
        "can_handle": can_handle,
        "can_reply": user.has_perm("cases.reply_case", case),
        "can_note": user.has_perm("cases.note_case", case),
        "can_attach": case.is_open and user.has_perm("cases.attach_case", case),
        "can_reopen": can_reopen,
        "can_close": can_close,
        "can_follow": user.has_perm("cases.follow_case", case),
        "following": signed_in(user) and case.follows.filter(user=user).exists(),
        "is_reporter": signed_in(user) and case.reporter_id == user.pk,
        "cohandlers": cohandler_rows,
        # What the wings show about the case (the resources partners pledged to it).
        "panels": core_panels.load_one("case", user, case),
        "now": timezone.now(),
    }
    if context["can_reply"]:
        context["reply_form"] = bound.get("reply") or forms.ReplyForm()
    if context["can_note"]:
        context["note_form"] = bound.get("note") or forms.NoteForm()
    if context["contact"] is not None and internal and not context["is_reporter"]:
        context["contact_form"] = bound.get("contact") or forms.ContactForm()
    if context["can_attach"]:
        context["attachment_form"] = bound.get("attachment") or forms.AttachmentForm()
    if can_reopen:
        context["reopen_form"] = bound.get("reopen") or forms.ReopenForm()
    if can_handle:
        if transitions:
            context["transition_form"] = bound.get("transition") or forms.TransitionForm(
                allowed=transitions
            )
        if case.is_open:
            if not case.in_triage:
                context["assign_form"] = bound.get("assign") or forms.AssignForm(
                    members=_members_of(case.responsible_id),
                    initial={"assignee": case.assignee_id},
                )
                context["cohandler_form"] = bound.get("cohandler") or forms.CoHandlerForm()
                context["due_form"] = bound.get("due") or forms.DueForm()
            context["route_form"] = bound.get("route") or forms.RouteForm()
    # A refused form comes back with its message even when the page would not offer it now
    # (a colleague closed the case meanwhile).
    for key, form in bound.items():
        if "-" not in key:
            context.setdefault(f"{key}_form", form)
    return context


@require_safe
def detail(request, reference: str):
    case = _visible_case(request, reference)
    return render(request, "cases/detail.html", _detail_context(request, case))


# Actions on a case -----------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    form: Callable
    run: Callable  # (request, case, cleaned_data) -> message
    key: str


def _transition(request, case, data):
    original = None
    if data["to"] == Status.DUPLICATE:
        reference = (data.get("duplicate_of") or "").strip().upper()
        original = queries.cases_visible_to(request.user).filter(reference=reference).first()
        if original is None:
            raise ValidationError({"duplicate_of": _("没有找到这个事项编号，或你无权查看。")})
    services.case_transition(
        actor=request.user,
        case=case,
        to=data["to"],
        reason=data.get("reason", ""),
        duplicate_of=original,
    )
    return _("事项状态已更新。")


def _reopen(request, case, data):
    services.case_transition(
        actor=request.user, case=case, to=Status.REOPENED, reason=data["reason"]
    )
    return _("事项已重开，办理单位会再次处理。")


def _close(request, case, data):
    services.case_transition(actor=request.user, case=case, to=Status.CLOSED)
    return _("事项已关闭，谢谢你的确认。")


def _reply(request, case, data):
    services.case_reply(actor=request.user, case=case, body=data["body"])
    return _("答复已发布。")


def _contact(request, case, data):
    services.case_record_contact(
        actor=request.user, case=case, channel=data["channel"], body=data["body"]
    )
    return _("联系记录已保存。")


def _note(request, case, data):
    services.case_note(actor=request.user, case=case, body=data["body"])
    return _("内部备注已保存。")


def _assign(request, case, data):
    services.case_assign(actor=request.user, case=case, assignee=data["assignee"])
    return _("经办人已更新。")


def _route(request, case, data):
    services.case_route(
        actor=request.user, case=case, responsible=data["responsible"], note=data["note"]
    )
    return _("事项已转交。")


def _add_cohandler(request, case, data):
    services.case_add_cohandler(
        actor=request.user,
        case=case,
        organisation=data["organisation"],
        task=data["task"],
        due_at=data["due_at"],
    )
    return _("协办单位已增加。")


def _set_due(request, case, data):
    services.case_set_due(
        actor=request.user,
        case=case,
        due_at=data["due_at"],
        reason=data["reason"],
        deadline=data["deadline"],
    )
    return _("时限已调整。")


def _attach(request, case, data):
    services.case_attach(
        actor=request.user, case=case, upload=data["file"], is_public=data["is_public"]
    )
    return _("附件已上传。")


def _follow(request, case, data):
    services.case_follow(actor=request.user, case=case)
    return _("已关注此事项，有进展会通知你。")


def _unfollow(request, case, data):
    services.case_unfollow(actor=request.user, case=case)
    return _("已取消关注。")


class _NoInput(forms.forms.Form):
    pass


ACTIONS: dict[str, Action] = {
    "transition": Action(forms.TransitionForm, _transition, "transition"),
    "reopen": Action(forms.ReopenForm, _reopen, "reopen"),
    "close": Action(_NoInput, _close, "close"),
    "reply": Action(forms.ReplyForm, _reply, "reply"),
    "note": Action(forms.NoteForm, _note, "note"),
    "contact": Action(forms.ContactForm, _contact, "contact"),
    "assign": Action(forms.AssignForm, _assign, "assign"),
    "route": Action(forms.RouteForm, _route, "route"),
    "cohandlers": Action(forms.CoHandlerForm, _add_cohandler, "cohandler"),
    "due": Action(forms.DueForm, _set_due, "due"),
    "attachments": Action(forms.AttachmentForm, _attach, "attachment"),
    "follow": Action(_NoInput, _follow, "follow"),
    "unfollow": Action(_NoInput, _unfollow, "unfollow"),
}


def _bind(action: Action, request, case: Case):
    if action.form is forms.TransitionForm:
        return action.form(request.POST, allowed=services.transitions_for(request.user, case))
    if action.form is forms.AssignForm:
        return action.form(request.POST, members=_members_of(case.responsible_id))
    if action.form is forms.AttachmentForm:
        return action.form(request.POST, request.FILES)
    return action.form(request.POST)


@login_required
@require_POST
def act(request, reference: str, action: str):
    """One form of the case page; on a refusal the page comes back with the message."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise Http404
    case = _visible_case(request, reference)
    if action == "transition" and not request.user.has_perm("cases.handle_case", case):
        raise PermissionDenied(_("只有办理单位的工作人员才能变更事项状态。"))
    form = _bind(chosen, request, case)
    if form.is_valid():
        try:
            message = chosen.run(request, case, form.cleaned_data)
        except ValidationError as error:
            _put_on_form(form, error)
            status = 413 if getattr(error, "code", None) == "too_large" else 400
        else:
            messages.success(request, message)
            if not queries.cases_visible_to(request.user).filter(pk=case.pk).exists():
                # Routed or passed on out of the user's sight: back to their queue.
                return redirect("cases:queue")
            return redirect(case_url(case))
    else:
        status = 400
    case = _visible_case(request, reference)
    context = _detail_context(request, case, bound={chosen.key: form})
    context["failed"] = chosen.key
    return render(request, "cases/detail.html", context, status=status)


@login_required
@require_POST
def cohandler_act(request, reference: str, pk: int, action: str):
    """Assign or complete one co-handling task."""
    case = _visible_case(request, reference)
    cohandler = next((c for c in case.cohandlers.all() if c.pk == pk), None)
    if cohandler is None or action not in ("assign", "done"):
        raise Http404
    cohandler.case = case
    if action == "assign":
        key = f"task-{pk}"
        form = forms.AssignForm(
            request.POST, prefix=key, members=_members_of(cohandler.organisation_id)
        )
    else:
        key = f"done-{pk}"
        form = forms.CoHandlerDoneForm(request.POST, prefix=key)
    if form.is_valid():
        try:
            if action == "assign":
                services.cohandler_assign(
                    actor=request.user, cohandler=cohandler, assignee=form.cleaned_data["assignee"]
                )
                messages.success(request, _("协办经办人已更新。"))
            else:
                services.cohandler_complete(
                    actor=request.user, cohandler=cohandler, note=form.cleaned_data["note"]
                )
                messages.success(request, _("协办任务已完成。"))
            return redirect(case_url(case))
        except ValidationError as error:
            _put_on_form(form, error)
    context = _detail_context(request, _visible_case(request, reference), bound={key: form})
    return render(request, "cases/detail.html", context, status=400)


def case_url(case: Case) -> str:
    return reverse("cases:detail", kwargs={"reference": case.reference})


@require_safe
def attachment(request, reference: str, pk: int):
    """Serve an attachment to those who may see it; private ones never sit at a public URL."""
    case = _visible_case(request, reference)
    found = queries.attachments_for(request.user, case).filter(pk=pk).first()
    if found is None:
        raise Http404
    try:
        handle = default_storage.open(found.file.name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=found.content_type)
    disposition = "inline" if found.content_type.startswith("image/") else "attachment"
    extension = found.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = f'{disposition}; filename="{case.reference}-{pk}.{extension}"'
    response["Cache-Control"] = "private, max-age=3600" if not found.is_public else "max-age=3600"
    return response


# Work queue ------------------------------------------------------------------------------------
def _may_work(user) -> bool:
    return user.is_superuser or bool(organisation_ids(user, roles=ACTING_ROLES)) or is_triager(user)


@login_required
@require_http_methods(["GET", "POST"])
def queue(request):
    user = request.user
    if not _may_work(user):
        raise PermissionDenied(_("工作台只对组织的工作人员开放。"))
    filters = forms.QueueFilterForm(request.GET or None)
    params = filters.cleaned_data if filters.is_valid() else {}
    tab = params.get("tab") or "department"
    qs = queries.queue(user, tab)
    if params.get("status"):
        qs = qs.filter(status=params["status"])
    if params.get("priority"):
        qs = qs.filter(priority=params["priority"])
    for name in ("station", "service", "category"):
        if params.get(name):
            qs = qs.filter(**{name: params[name]})
    if params.get("reference"):
        qs = qs.filter(reference=params["reference"].strip().upper())

    members = acting_members(organisation_ids(user, roles=ACTING_ROLES)).order_by(
        "display_name", "email"
    )
    bulk = None
    if request.method == "POST":
        bulk = forms.BulkAssignForm(request.POST, cases=queries.queue(user, tab), members=members)
        if bulk.is_valid():
            done = _bulk_assign(request, bulk.cleaned_data["cases"], bulk.cleaned_data["assignee"])
            if done is not None:
                return redirect(request.get_full_path())
    page = CappedCountPaginator(qs, QUEUE_PAGE_SIZE).get_page(request.GET.get("page"))
    counts = _tab_counts(user)
    return render(
        request,
        "cases/queue.html",
        {
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in forms.QUEUE_TABS],
            "filters": filters if filters.is_bound else forms.QueueFilterForm(),
            "page": page,
            "members": members,
            "bulk": bulk,
            "now": timezone.now(),
            "due_soon": timezone.now() + _due_soon(),
            "query": _query_without_page(request),
        },
        status=400 if bulk is not None and not bulk.is_valid() else 200,
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _tab_counts(user) -> dict[str, int]:
    """How many cases wait in each tab, capped like the pager (one query per tab)."""
    cap = CappedCountPaginator.CAP
    return {
        tab: queries.queue(user, tab).order_by()[:cap].count() for tab, _label in forms.QUEUE_TABS
    }


def _bulk_assign(request, cases, assignee) -> int | None:
    """Assign every selected case or none (``services.cases_assign``), and say which."""
    try:
        count = services.cases_assign(actor=request.user, cases=cases, assignee=assignee)
    except services.BatchRefused as refused:
        messages.error(
            request,
            _("没有指派任何事项：%(reference)s 不能指派给该经办人（%(reason)s）。")
            % {"reference": refused.reference, "reason": refused.reason},
        )
        return None
    messages.success(
        request,
        _("已把 %(count)d 个事项指派给 %(name)s。") % {"count": count, "name": str(assignee)},
    )
    return count


# Public list ------------------------------------------------------------------------------------
@require_safe
def public_list(request) -> HttpResponse:
    """Recent public cases, so anyone can see what is reported and how it is handled."""
    qs = queries.public_cases()
    status = request.GET.get("status", "")
    if status == "open":
        qs = qs.filter(status__in=OPEN_STATUSES)
    elif status == "closed":
        qs = qs.exclude(status__in=OPEN_STATUSES)
    station = request.GET.get("station", "")
    if station:
        qs = qs.filter(station__slug=station)
    page = CappedCountPaginator(qs, MINE_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(
        request,
        "cases/public_list.html",
        {"page": page, "status": status, "station": station, "query": _query_without_page(request)},
    )
