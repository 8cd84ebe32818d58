"""The proposal pages: anyone reads and browses, people propose, support and discuss, the
responsible department answers and reports the implementation.

- ``/proposals/`` — the public list: filters, search, four sorts, pages.
- ``/proposals/new/`` — propose (signed in), as a draft or published at once; the service and
  station pages link here with ``?service=<code>`` / ``?station=<slug>``.
- ``/proposals/<pk>/`` — one proposal: its text and versions, attachments, supports, the
  timeline from idea to done, the official answers, the implementation and the comments.
  A draft is its author's alone.
- ``/proposals/<pk>/edit/`` — the author edits a draft, or a published proposal within 30
  minutes of publishing.
- ``/proposals/<pk>/answer/`` and ``/implementation/`` — the responsible department's acting
  staff draft and publish the official answer, then add milestones and open task cases.
- ``/proposals/to-answer/`` and ``/flagged/`` — the department's work list and the
  moderators' list of flagged comments.
- ``/proposals/<pk>/<action>/`` — the page's buttons and small forms (POST only).

Views parse, call one service and render; the services decide who may do what. A refusal is
``PermissionDenied`` (a 403 page with the service's reason; anonymous visitors are sent to
sign in), bad input is a ``ValidationError`` shown on the form (400), and a refusal because of
the proposal's state (``services.CONFLICTS``) comes back as a message (409 when a form is
shown again). Successful posts redirect (POST-redirect-GET) with a message. Every list runs
a constant number of queries (joined in ``queries``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import rules
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.cases.rules import signed_in
from governance.core import clock
from governance.core import panels as core_panels
from governance.core.admin import CappedCountPaginator
from governance.core.errors import bad_request
from governance.proposals import forms, queries, services
from governance.proposals.filters import ProposalFilter
from governance.proposals.models import (
    OPEN_FOR_SUPPORT,
    Answer,
    Milestone,
    Proposal,
    Scope,
    Status,
)
from governance.stakeholders.rules import ACTING_ROLES, organisation_ids

PAGE_SIZE = 20
WORK_PAGE_SIZE = 50
ANSWERABLE = frozenset({Status.PUBLISHED, Status.EVALUATING})


# Helpers ----------------------------------------------------------------------------------------


def _may(user, permission: str, obj=None) -> bool:
    """The rule itself, as the services ask it: Django's ``has_perm`` says yes to every
    superuser first, and a page must not offer what the service then refuses (a superuser
    does not answer for a department)."""
    return rules.has_perm(permission, user, obj)


def _proposal(request, pk: int) -> Proposal:
    """The proposal if the reader may see it (a draft only by its author), else 404."""
    proposal = queries.proposal_for(request.user, pk)
    if proposal is None:
        raise Http404(_("没有这条建议，或你无权查看。"))
    return proposal


def detail_url(proposal: Proposal, anchor: str = "") -> str:
    url = reverse("proposals:detail", args=[proposal.pk])
    return f"{url}#{anchor}" if anchor else url


def _messages_of(error: ValidationError) -> str:
    return " ".join(str(message) for message in error.messages)


def _put_on_form(form, error: ValidationError) -> None:
    """A service's refusal shown where it belongs: on its field if the form shows one."""
    visible = {field.name for field in form.visible_fields()}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in visible else None, errors)
    else:
        form.add_error(None, error)


def _is_conflict(error: ValidationError) -> bool:
    """The proposal's state refuses it (answered, withdrawn, past the edit window…)."""
    codes = {getattr(error, "code", None)}
    if hasattr(error, "error_list"):
        codes |= {getattr(item, "code", None) for item in error.error_list}
    return bool(codes & services.CONFLICTS)


def _forbidden(request, error: PermissionDenied) -> HttpResponse:
    """The site's 403 page, saying why: the service's reason."""
    return render(
        request,
        "errors/error.html",
        {
            "status": 403,
            "title": _("没有权限"),
            "message": str(error) or _("您没有访问此页面的权限。"),
        },
        status=403,
    )


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


# The list ---------------------------------------------------------------------------------------
@require_safe
def proposal_list(request):
    """Published proposals (and the reader's own drafts), filtered, searched and sorted."""
    filters = ProposalFilter(
        request.GET or None, queryset=queries.listing(request.user), request=request
    )
    form = filters.form
    for name in ("category", "scope", "status", "station", "service"):
        form.fields[name].empty_label = _("全部")
    for name in ("answered", "mine", "supported"):
        form.fields[name].empty_label = _("不限")
    # "Mine" and "supported by me" mean nothing to an anonymous reader: not offered (asked
    # for anyway, they list nothing).
    personal = () if signed_in(request.user) else ("mine", "supported")
    fields = [field for field in form.visible_fields() if field.name not in ("q", *personal)]
    page = CappedCountPaginator(filters.qs, PAGE_SIZE).get_page(request.GET.get("page"))
    invalid = filters.is_bound and not form.is_valid()
    return render(
        request,
        "proposals/list.html",
        {
            "filters": form,
            "filter_fields": fields,
            "page": page,
            "query": _query_without_page(request),
            "filtered": filters.is_bound,
            # The acting staff of an organisation: links to their work lists.
            "works": bool(organisation_ids(request.user, roles=ACTING_ROLES)),
        },
        status=400 if invalid else 200,
    )


# Proposing and editing --------------------------------------------------------------------------
def _new_initial(request) -> dict:
    """``?service=<code>`` or ``?station=<slug>`` from the service and station pages."""
    initial = {}
    if request.GET.get("station"):
        initial["station"] = request.GET["station"]
        initial["scope"] = Scope.STATION
    if request.GET.get("service"):
        initial["service"] = request.GET["service"]
        initial["scope"] = Scope.SERVICE
    return initial


def _attachments_error(error: ValidationError) -> ValidationError:
    """The attachment checks speak of one file; on the form they belong to the files field."""
    if hasattr(error, "error_dict"):
        return error
    if getattr(error, "code", None) in services.CONFLICTS:
        return error
    return ValidationError({"attachments": error.error_list})


def _new_context(form) -> dict:
    return {"form": form, "edit_minutes": services.edit_minutes()}


@login_required
@require_http_methods(["GET", "POST"])
def proposal_new(request):
    """Propose: save a draft (private) or publish at once. A file that is too large or no
    image refuses the whole proposal, with nothing written; the form comes back."""
    if request.method != "POST":
        form = forms.ProposalForm(initial=_new_initial(request), user=request.user)
        return render(request, "proposals/new.html", _new_context(form))
    form = forms.ProposalForm(request.POST, request.FILES, user=request.user)
    publish_now = request.POST.get("intent") == "publish"
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            proposal = services.proposal_create(
                actor=request.user,
                title=data["title"],
                body=data["body"],
                category=data["category"],
                scope=data["scope"],
                station=data["station"],
                service=data["service"],
                on_behalf_of=data["on_behalf_of"],
                uploads=data["attachments"],
                publish_now=publish_now,
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = 413 if getattr(error, "code", None) == "too_large" else 400
            _put_on_form(form, _attachments_error(error))
        else:
            if publish_now:
                messages.success(
                    request,
                    _("建议已发布。发布后 %(minutes)d 分钟内你还可以修改。")
                    % {"minutes": services.edit_minutes()},
                )
            else:
                messages.success(request, _("草稿已保存，只有你能看到。准备好后请发布。"))
            return redirect(detail_url(proposal))
    return render(request, "proposals/new.html", _new_context(form), status=status)


@login_required
@require_http_methods(["GET", "POST"])
def edit(request, pk: int):
    """The author edits a draft, or a published proposal within its edit window; outside it
    the page says so and sends them back (only withdrawing is left)."""
    proposal = _proposal(request, pk)
    if proposal.author_id != request.user.pk:
        return _forbidden(request, PermissionDenied(_("只有提议人才能修改建议。")))
    room = services.MAX_ATTACHMENTS - len(proposal.attachments.all())
    if request.method != "POST":
        if not proposal.editable_now(clock.now()):
            messages.error(request, _closed_message(proposal))
            return redirect(detail_url(proposal))
        form = forms.EditForm(
            room=room,
            initial={
                "title": proposal.title,
                "body": proposal.body,
                "category": proposal.category.slug,
            },
        )
        return render(request, "proposals/edit.html", {"proposal": proposal, "form": form})
    form = forms.EditForm(request.POST, request.FILES, room=room)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.proposal_update(
                actor=request.user,
                proposal=proposal,
                title=data["title"],
                body=data["body"],
                category=data["category"],
                uploads=data.get("attachments") or (),
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            # Past the window while typing: the text stays on the page, to copy elsewhere.
            if _is_conflict(error):
                status = 409
            elif getattr(error, "code", None) == "too_large":
                status = 413
            _put_on_form(form, _attachments_error(error))
        else:
            messages.success(request, _("建议已修改。"))
            return redirect(detail_url(proposal))
    return render(
        request, "proposals/edit.html", {"proposal": proposal, "form": form}, status=status
    )


def _closed_message(proposal: Proposal) -> str:
    if proposal.status == Status.PUBLISHED:
        return _("发布 %(minutes)d 分钟后不能再修改，只能撤回。") % {
            "minutes": services.edit_minutes()
        }
    return _("这条建议当前不能修改。")


# The attachments --------------------------------------------------------------------------------
@require_safe
def attachment(request, pk: int, attachment: int):
    """Serve a file to those who may read the proposal: anyone once it is public, only its
    author while it is a draft. Files never sit at a public media URL."""
    proposal = _proposal(request, pk)
    found = next((item for item in proposal.attachments.all() if item.pk == attachment), None)
    if found is None:
        raise Http404
    try:
        handle = default_storage.open(found.file.name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type=found.content_type)
    disposition = "inline" if found.content_type.startswith("image/") else "attachment"
    extension = found.file.name.rsplit(".", 1)[-1]
    response["Content-Disposition"] = (
        f'{disposition}; filename="proposal-{proposal.pk}-{found.pk}.{extension}"'
    )
    response["Cache-Control"] = "max-age=3600" if proposal.is_public else "private, no-store"
    return response


# One proposal -----------------------------------------------------------------------------------
@dataclass
class Step:
    """One step of the public timeline told in words."""

    kind: str
    at: object
    title: str
    detail: str = ""


def _describe(events: list[queries.Event]) -> list[Step]:
    states = dict(Answer.State.choices)
    steps = []
    for event in events:
        data = event.data
        detail = ""
        if event.kind == "published":
            title = _("建议发布，开始征集支持")
        elif event.kind == "edited":
            title = _("提议人修改了建议（第 %(number)d 版）") % {"number": data["number"]}
        elif event.kind == "threshold":
            title = _("支持人数达到门槛，答复单位须正式答复")
            if data.get("due"):
                detail = _("应在 %(when)s 前答复。") % {
                    "when": timezone.localtime(data["due"]).strftime("%Y-%m-%d")
                }
        elif event.kind == "answered":
            answer = data["answer"]
            title = _("%(organisation)s 正式答复：%(state)s") % {
                "organisation": answer.organisation.name,
                "state": states.get(answer.state, answer.state),
            }
        elif event.kind == "milestone":
            title = _("里程碑完成：%(title)s") % {"title": data["milestone"].title}
        elif event.kind == "task_done":
            case = data["case"]
            # A private case's title is for the organisations on it (the API hides it too).
            shown = case.title if case.is_public else case.reference
            title = _("落实事项办结：%(title)s") % {"title": shown}
            detail = case.reference
        elif event.kind == "panel":
            # A wing's step (a partner's pledge delivered), told in its own words.
            title = data["entry"].text
            detail = str(data["panel"].title)
        elif event.kind == "implemented":
            title = _("建议已落实")
        elif event.kind == "withdrawn":
            title = _("提议人撤回了建议")
        else:  # a kind this page does not know yet: shown, never a 500
            title = event.kind
        steps.append(Step(kind=event.kind, at=event.at, title=title, detail=detail))
    return steps


def _detail_context(request, proposal: Proposal, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    reader_signed_in = signed_in(user)
    is_author = reader_signed_in and proposal.author_id == user.pk
    result = getattr(proposal, "result", None)
    panels = core_panels.load_one("proposal", user, proposal)
    context = {
        "proposal": proposal,
        "result": result,
        "panels": panels,
        "is_author": is_author,
        "attachments": list(proposal.attachments.all()),
        "versions": list(proposal.versions.all()),
        "answers": list(getattr(proposal, "published_answers", [])),
        "threshold": services.support_threshold(),
        "answer_days": services.answer_days(),
        "edit_minutes": services.edit_minutes(),
        "now": timezone.now(),
        "can_publish": is_author and proposal.status == Status.DRAFT,
        "can_edit": _may(user, "proposals.edit_proposal", proposal),
        "can_withdraw": _may(user, "proposals.withdraw_proposal", proposal),
        "takes_supports": proposal.status in OPEN_FOR_SUPPORT,
        "can_support": _may(user, "proposals.support_proposal", proposal),
        "can_follow": _may(user, "proposals.follow_proposal", proposal),
        "can_comment": _may(user, "proposals.comment_proposal", proposal),
    }
    if not proposal.is_public:
        return context
    milestones = queries.milestones_of(proposal) if result is not None else []
    cases = queries.task_cases_of(proposal) if result is not None else []
    moderator = _may(user, "proposals.moderate_proposal", proposal)
    context.update(
        {
            "milestones": milestones,
            "task_cases": cases,
            "steps": _describe(
                queries.timeline(proposal, milestones=milestones, cases=cases, panels=panels)
            ),
            "comments": queries.comments_of(proposal, user),
            "can_moderate": moderator,
            "can_answer": proposal.status in ANSWERABLE
            and _may(user, "proposals.answer_proposal", proposal),
            "can_manage": result is not None and _may(user, "proposals.manage_result", proposal),
            "can_route": _may(user, "proposals.route_proposal", proposal),
        }
    )
    replying = bound.get("comment")
    if replying is not None and replying.data.get("comment-parent"):
        # A refused reply comes back under the comment it answers; the main form stays empty.
        context["reply_form"] = replying
        context["reply_to"] = replying.data["comment-parent"]
        bound = {key: form for key, form in bound.items() if key != "comment"}
    if "hide" in bound:
        context["hide_form"] = bound["hide"]
        context["hide_target"] = bound["hide"].data.get("hide-comment")
    if context["can_comment"]:
        context["comment_form"] = bound.get("comment") or forms.CommentForm()
    if context["can_route"]:
        context["route_form"] = bound.get("route") or forms.RouteForm(
            initial={"responsible": proposal.responsible.slug if proposal.responsible else None}
        )
    # A refused form the page does not offer (any more) is not shown: its errors are listed
    # at the top instead (``act``).
    return context


@require_safe
def detail(request, pk: int):
    proposal = _proposal(request, pk)
    return render(request, "proposals/detail.html", _detail_context(request, proposal))


# Actions on a proposal ----------------------------------------------------------------------------
@dataclass(frozen=True)
class Action:
    run: Callable  # (request, proposal, cleaned_data) -> (level, message, anchor)
    form: type | None = None
    # Forms whose text the person typed come back on the page when refused; buttons redirect
    # back with the message.
    typed: bool = False


def _publish(request, proposal, data):
    services.proposal_publish(actor=request.user, proposal=proposal)
    message = _("建议已发布。发布后 %(minutes)d 分钟内你还可以修改。") % {
        "minutes": services.edit_minutes()
    }
    return messages.SUCCESS, message, ""


def _withdraw(request, proposal, data):
    services.proposal_withdraw(actor=request.user, proposal=proposal)
    return messages.SUCCESS, _("建议已撤回。"), ""


def _support(request, proposal, data):
    _proposal_now, created = services.proposal_support(actor=request.user, proposal=proposal)
    if created:
        return messages.SUCCESS, _("谢谢你的支持！"), "support"
    return messages.INFO, _("你已经支持过这条建议。"), "support"


def _unsupport(request, proposal, data):
    _proposal_now, deleted = services.proposal_unsupport(actor=request.user, proposal=proposal)
    if deleted:
        return messages.SUCCESS, _("已取消支持。"), "support"
    return messages.INFO, _("你没有支持过这条建议。"), "support"


def _follow(request, proposal, data):
    services.proposal_follow(actor=request.user, proposal=proposal)
    return messages.SUCCESS, _("已关注这条建议，有新评论、答复和进展会通知你。"), ""


def _unfollow(request, proposal, data):
    services.proposal_unfollow(actor=request.user, proposal=proposal)
    return messages.SUCCESS, _("已取消关注。"), ""


def _comment(request, proposal, data):
    comment = services.comment_add(
        actor=request.user, proposal=proposal, body=data["body"], parent=data["parent"]
    )
    message = _("回复已发布。") if data["parent"] is not None else _("评论已发布。")
    return messages.SUCCESS, message, f"comment-{comment.pk}"


def _vote(request, proposal, data):
    comment = data["comment"]
    services.comment_vote(actor=request.user, comment=comment, value=data["value"])
    message = _("已取消投票。") if data["value"] == 0 else _("已投票。")
    return messages.SUCCESS, message, f"comment-{comment.pk}"


def _flag(request, proposal, data):
    comment = data["comment"]
    _comment_now, created = services.comment_flag(
        actor=request.user, comment=comment, reason=data["reason"]
    )
    if created:
        return messages.SUCCESS, _("已举报，审核人员会处理。"), f"comment-{comment.pk}"
    return messages.INFO, _("你已经举报过这条评论。"), f"comment-{comment.pk}"


def _hide(request, proposal, data):
    comment = data["comment"]
    services.comment_hide(actor=request.user, comment=comment, reason=data["reason"])
    return messages.SUCCESS, _("评论已隐藏，原因对所有人可见。"), f"comment-{comment.pk}"


def _route(request, proposal, data):
    services.proposal_route(actor=request.user, proposal=proposal, responsible=data["responsible"])
    message = _("已指定答复单位：%(organisation)s。") % {"organisation": data["responsible"].name}
    return messages.SUCCESS, message, ""


ACTIONS: dict[str, Action] = {
    "publish": Action(_publish),
    "withdraw": Action(_withdraw),
    "support": Action(_support),
    "unsupport": Action(_unsupport),
    "follow": Action(_follow),
    "unfollow": Action(_unfollow),
    "comment": Action(_comment, forms.CommentForm, typed=True),
    "vote": Action(_vote, forms.VoteForm),
    "flag": Action(_flag, forms.FlagForm),
    "hide": Action(_hide, forms.HideForm, typed=True),
    "route": Action(_route, forms.RouteForm, typed=True),
}


def _bind(action: Action, request, proposal: Proposal):
    if action.form is None:
        return None
    if action.form is forms.RouteForm:
        return action.form(request.POST)
    return action.form(request.POST, proposal=proposal)


def _back(request, proposal: Proposal, anchor: str = ""):
    """Back to the proposal, or to the moderators' list the hide form was sent from."""
    if request.POST.get("back") == "flagged":
        return redirect("proposals:flagged")
    return redirect(detail_url(proposal, anchor))


@login_required
@require_POST
def act(request, pk: int, action: str):
    """One button or small form of the proposal page."""
    chosen = ACTIONS.get(action)
    if chosen is None:
        raise Http404
    proposal = _proposal(request, pk)
    form = _bind(chosen, request, proposal)
    status = 400
    if form is None or form.is_valid():
        data = form.cleaned_data if form is not None else {}
        try:
            level, message, anchor = chosen.run(request, proposal, data)
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            if form is None or not chosen.typed:
                # A button on a page that was stale, or a double tap: say why, show the page.
                messages.error(request, _messages_of(error))
                return _back(request, proposal)
            status = 409 if _is_conflict(error) else 400
            _put_on_form(form, error)
        else:
            messages.add_message(request, level, message)
            return _back(request, proposal, anchor)
    proposal = _proposal(request, pk)
    context = _detail_context(request, proposal, bound={action: form})
    # Errors the page has no field to show them on: a button's, a hidden field's (a comment
    # that is not this proposal's), or any of a form the page does not show (a comment on a
    # draft, a reply to a reply).
    shown = chosen.typed and _form_shown(context, action, form)
    hidden = {field.name for field in form.hidden_fields()}
    context["action_errors"] = [
        error
        for name, errors in form.errors.items()
        if not shown or name in hidden
        for error in errors
    ]
    return render(request, "proposals/detail.html", context, status=status)


def _form_shown(context: dict, action: str, form) -> bool:
    """Whether the detail page shows ``form`` (with its errors) where it was sent from."""
    if action == "route":
        return bool(context.get("can_route"))
    comments = {
        str(comment.pk): comment
        for top in context.get("comments", [])
        for comment in (top, *top.thread_replies)
    }
    if action == "hide":
        target = comments.get(form.data.get("hide-comment", ""))
        return bool(context.get("can_moderate")) and target is not None and not target.is_hidden
    if not context.get("can_comment"):
        return False
    parent = form.data.get("comment-parent")
    if not parent:
        return True
    target = comments.get(parent)
    return target is not None and target.parent_id is None and not target.is_hidden


# The department's answer ------------------------------------------------------------------------
def _staff_proposal(request, pk: int, permission: str, message: str) -> Proposal:
    proposal = _proposal(request, pk)
    if not _may(request.user, permission, proposal):
        raise PermissionDenied(message)
    return proposal


@login_required
@require_http_methods(["GET", "POST"])
def answer(request, pk: int):
    """Draft the official answer (seen by the department only) or publish it: the proposal
    takes its verdict and everyone involved is told."""
    try:
        proposal = _staff_proposal(
            request, pk, "proposals.answer_proposal", _("只有答复单位的工作人员才能答复建议。")
        )
    except PermissionDenied as error:
        return _forbidden(request, error)
    draft = queries.draft_answer(proposal)
    status = 200
    if request.method == "POST":
        form = forms.AnswerForm(request.POST)
        publish_now = request.POST.get("intent") == "publish"
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            values = {
                "state": data["state"],
                "text": data["text"],
                "cost": data["cost"],
                "starts_on": data["starts_on"],
                "ends_on": data["ends_on"],
            }
            try:
                if publish_now:
                    services.proposal_answer(actor=request.user, proposal=proposal, **values)
                else:
                    services.answer_draft(actor=request.user, proposal=proposal, **values)
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                status = 409 if _is_conflict(error) else 400
                _put_on_form(form, error)
            else:
                if publish_now:
                    messages.success(request, _("正式答复已发布，提议人和支持者会收到通知。"))
                    return redirect(detail_url(proposal, "answers"))
                messages.success(request, _("答复草稿已保存，发布前只有本单位能看到。"))
                return redirect("proposals:answer", pk=proposal.pk)
    elif draft is not None:
        form = forms.AnswerForm(
            initial={
                "state": draft.state,
                "text": draft.text,
                "cost": draft.cost,
                "starts_on": draft.starts_on,
                "ends_on": draft.ends_on,
            }
        )
    else:
        form = forms.AnswerForm()
    return render(
        request,
        "proposals/answer.html",
        {
            "proposal": proposal,
            "form": form,
            "draft": draft,
            "answers": list(getattr(proposal, "published_answers", [])),
            "answerable": proposal.status in ANSWERABLE,
            "threshold": services.support_threshold(),
            "now": timezone.now(),
        },
        status=status,
    )


# The implementation -----------------------------------------------------------------------------
IMPLEMENTATION_STEPS = ("milestone", "state", "task")


@login_required
@require_http_methods(["GET", "POST"])
def implementation(request, pk: int):
    """Milestones and task cases of an accepted proposal, and its progress."""
    try:
        proposal = _staff_proposal(
            request,
            pk,
            "proposals.manage_result",
            _("只有答复单位的工作人员才能管理落实情况。"),
        )
    except PermissionDenied as error:
        return _forbidden(request, error)
    bound: dict = {}
    status = 200
    if request.method == "POST":
        step = request.POST.get("step")
        if step not in IMPLEMENTATION_STEPS:
            return bad_request(request)
        form, run = _implementation_step(request, proposal, step)
        status = 400
        if form.is_valid():
            try:
                message = run(form.cleaned_data)
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                status = 409 if _is_conflict(error) else 400
                _put_on_form(form, error)
            else:
                messages.success(request, message)
                return redirect("proposals:implementation", pk=proposal.pk)
        key = step if step != "state" else f"state-{request.POST.get('milestone', '')}"
        bound[key] = form
        proposal = _proposal(request, pk)
    context = _implementation_context(request, proposal, bound)
    # Errors with no field on the page to show them: a milestone that is not this proposal's,
    # or any form the page does not show now.
    shown = {f"state-{row['milestone'].pk}" for row in context["milestones"]}
    if context["open_for_work"]:
        shown |= {"milestone", "task"}
    context["step_errors"] = [
        error
        for key, form in bound.items()
        for name, errors in form.errors.items()
        if key not in shown or name in {field.name for field in form.hidden_fields()}
        for error in errors
    ]
    return render(request, "proposals/implementation.html", context, status=status)


def _implementation_step(request, proposal: Proposal, step: str):
    user = request.user
    if step == "milestone":
        form = forms.MilestoneForm(request.POST)

        def run(data):
            services.milestone_add(
                actor=user,
                proposal=proposal,
                title=data["title"],
                due_on=data["due_on"],
                description=data["description"],
            )
            return _("里程碑已添加。")

    elif step == "state":
        form = forms.MilestoneStateForm(
            request.POST,
            proposal=proposal,
            auto_id=f"id_state_{request.POST.get('milestone', '')}_%s",
        )

        def run(data):
            milestone = services.milestone_set_state(
                actor=user, milestone=data["milestone"], state=data["state"]
            )
            return _("里程碑“%(title)s”已更新为：%(state)s。") % {
                "title": milestone.title,
                "state": milestone.get_state_display(),
            }

    else:
        form = forms.TaskCaseForm(request.POST)

        def run(data):
            case = services.result_open_case(
                actor=user,
                proposal=proposal,
                title=data["title"],
                description=data["description"],
                service=data["service"],
                station=data["station"],
            )
            return _("已开立落实事项 %(reference)s。") % {"reference": case.reference}

    return form, run


def _implementation_context(request, proposal: Proposal, bound: dict) -> dict:
    result = getattr(proposal, "result", None)
    milestones = queries.milestones_of(proposal) if result is not None else []
    rows = [
        {
            "milestone": milestone,
            "form": bound.get(f"state-{milestone.pk}")
            or forms.MilestoneStateForm(
                auto_id=f"id_state_{milestone.pk}_%s",
                initial={"milestone": milestone.pk, "state": milestone.state},
            ),
        }
        for milestone in milestones
    ]
    open_for_work = result is not None and proposal.status in (
        Status.ACCEPTED,
        Status.IMPLEMENTED,
    )
    return {
        "proposal": proposal,
        "result": result,
        "milestones": rows,
        "task_cases": queries.task_cases_of(proposal) if result is not None else [],
        "open_for_work": open_for_work,
        "milestone_form": bound.get("milestone") or forms.MilestoneForm(),
        "task_form": bound.get("task") or forms.TaskCaseForm(),
        "states": Milestone.State,
    }


# Work lists -------------------------------------------------------------------------------------
@login_required
@require_safe
def to_answer(request):
    """The department's proposals awaiting an official answer, due first."""
    user = request.user
    if not organisation_ids(user, roles=ACTING_ROLES):
        return _forbidden(request, PermissionDenied(_("待答复建议只对单位的工作人员开放。")))
    page = CappedCountPaginator(queries.to_answer(user), WORK_PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "proposals/to_answer.html",
        {
            "page": page,
            "now": timezone.now(),
            "query": _query_without_page(request),
            "threshold": services.support_threshold(),
        },
    )


@login_required
@require_safe
def flagged(request):
    """Flagged comments on the proposals the user moderates, most flagged first."""
    user = request.user
    if not _may(user, "proposals.moderate_proposal"):
        return _forbidden(request, PermissionDenied(_("被举报的评论只对审核人员开放。")))
    return render(
        request,
        "proposals/flagged.html",
        {"comments": list(queries.flagged_comments(user))},
    )
