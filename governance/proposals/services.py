"""Every write of the proposals app, one function per action.

Refusals are ``PermissionDenied``; bad input is a ``ValidationError`` naming its field. A
refusal because of the proposal's state (supporting a withdrawn proposal, answering an
accepted one) carries one of the codes in :data:`CONFLICTS`, which the API answers 409; a
draft cannot be supported (``not_published``, a 400: the request is wrong, not the moment).

Counters (supports, comments, votes, flags) move by ``UPDATE … SET n = n ± 1`` in the
transaction that inserts or deletes the row they count, behind the row's unique constraint:
two supports at once are two increments, a double tap is one row, and nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation

import rules
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.cases import attachments
from governance.cases import services as case_services
from governance.cases.models import Case, Source
from governance.cases.models import Status as CaseStatus
from governance.cases.routing import route
from governance.core import clock
from governance.kpis.registry import local_day
from governance.kpis.services import kpis_mark_dirty
from governance.notifications.services import publish
from governance.proposals import markup, search
from governance.proposals.events import (
    ProposalAnswerDueSoon,
    ProposalAnswered,
    ProposalAnswerOverdue,
    ProposalCommented,
    ProposalImplemented,
    ProposalMilestoneReached,
    ProposalPublished,
    ProposalThresholdReached,
)
from governance.proposals.models import (
    MAX_ANSWER,
    MAX_BODY,
    MAX_COMMENT,
    MAX_TITLE,
    OPEN_FOR_SUPPORT,
    Answer,
    Attachment,
    Category,
    Comment,
    CommentFlag,
    CommentVote,
    Follow,
    Milestone,
    Proposal,
    ProposalVersion,
    Result,
    ResultCase,
    Scope,
    Status,
    Support,
)
from governance.stakeholders.models import Organisation, User
from governance.stakeholders.rules import ACTING_ROLES, seat_in
from governance.stations.models import Service, Station

MAX_ATTACHMENTS = 5
CONFLICTS = frozenset({"closed", "not_editable", "answered", "not_accepted", "not_open"})
# Cases of an implementation count as done once resolved or closed; a rejected one (the task
# was dropped) or a duplicate (done under another case) does not count at all, so it cannot
# hold the implementation short of done for ever.
CASE_DONE = frozenset({CaseStatus.RESOLVED, CaseStatus.CLOSED})
CASE_DROPPED = frozenset({CaseStatus.REJECTED, CaseStatus.DUPLICATE})


def support_threshold() -> int:
    return int(getattr(settings, "PROPOSALS_SUPPORT_THRESHOLD", 100))


def answer_days() -> int:
    return int(getattr(settings, "PROPOSALS_ANSWER_DAYS", 30))


def edit_minutes() -> int:
    return int(getattr(settings, "PROPOSALS_EDIT_MINUTES", 30))


def due_soon_days() -> int:
    return int(getattr(settings, "PROPOSALS_DUE_SOON_DAYS", 5))


# Helpers -----------------------------------------------------------------------------------------
def _signed_in(actor) -> User:
    if actor is None or not getattr(actor, "is_authenticated", False) or not actor.is_active:
        raise PermissionDenied(_("请先登录。"))
    return actor


def _invalid(field: str, message, code: str) -> ValidationError:
    """A refusal naming ``field``, with its code kept on the field's error (a code given to a
    dict-shaped ValidationError is dropped: forms and the API read it per field)."""
    return ValidationError({field: ValidationError(message, code=code)})


def _require(actor, permission: str, obj, message) -> None:
    """The rule itself, not ``actor.has_perm``: Django answers yes to every superuser before
    it asks the rules, and a superuser neither answers for a department (an official answer
    is the department's word) nor comments on a withdrawn proposal. The rules name superusers
    wherever they may act."""
    if actor is None or not rules.has_perm(permission, actor, obj):
        raise PermissionDenied(message)


def _text(value, *, field: str, limit: int, required: bool = True) -> str:
    """Text as given, trimmed; too long or missing is refused, naming the limit."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise _invalid(field, _("必须是文本。"), "invalid")
    value = value.strip()
    if "\x00" in value:
        raise _invalid(field, _("不能包含空字符。"), "null_characters")
    if len(value) > limit:
        raise ValidationError(
            {
                field: ValidationError(
                    _("最多 %(limit)d 个字（现在 %(length)d 个）。"),
                    code="max_length",
                    params={"limit": limit, "length": len(value)},
                )
            }
        )
    if required and not value:
        raise _invalid(field, _("不能为空。"), "required")
    return value


def _lock(proposal: Proposal) -> Proposal:
    return Proposal.objects.select_for_update().get(pk=proposal.pk)


def _mark(*days: dt.datetime | dt.date | None) -> None:
    """Have the KPI rollup recompute the proposals metrics on ``days``."""
    from governance.proposals.metrics import CODES

    local = {day if isinstance(day, dt.date) and not isinstance(day, dt.datetime) else
             local_day(day) for day in days if day is not None}  # fmt: skip
    if local:
        kpis_mark_dirty(metric_codes=CODES, days=local)


def _scope(scope: str, station: Station | None, service: Service | None):
    """The scope and the object it names; a service's station stays optional."""
    if scope not in Scope.values:
        raise _invalid(
            "scope",
            _("范围只能是：%(allowed)s。") % {"allowed": "、".join(Scope.values)},
            "invalid_choice",
        )
    if scope == Scope.PLATFORM:
        if station is not None or service is not None:
            raise _invalid("scope", _("整个平台的建议不能指定站点或服务事项。"), "invalid")
        return None, None
    if scope == Scope.STATION:
        if station is None:
            raise _invalid("station", _("请选择站点。"), "required")
        if service is not None:
            raise _invalid("service", _("站点范围的建议不能指定服务事项。"), "invalid")
        return station, None
    if service is None:
        raise _invalid("service", _("请选择服务事项。"), "required")
    return station, service


def _active_scope(scope: str, station: Station | None, service: Service | None):
    """:func:`_scope`, for a new proposal: a closed station or a withdrawn service takes
    none (the forms offer neither; the API would otherwise take them)."""
    station, service = _scope(scope, station, service)
    if station is not None and not station.is_active:
        raise _invalid("station", _("这个站点已停用。"), "invalid_choice")
    if service is not None and not service.is_active:
        raise _invalid("service", _("这个服务事项已停用。"), "invalid_choice")
    return station, service


def _on_behalf_of(actor: User, organisation: Organisation | None) -> Organisation | None:
    if organisation is None:
        return None
    seat = seat_in(actor, organisation.pk)
    if seat is None or seat.role not in ACTING_ROLES or not organisation.is_active:
        raise PermissionDenied(_("只有单位的管理员或工作人员才能以单位名义提出建议。"))
    return organisation


def _responsible_for(proposal: Proposal) -> int | None:
    """The organisation that answers: a service's own department; otherwise whoever the cases'
    routing rules name for the station (or the platform), else the triage desk. That may be
    a partner: the mall answers for what it contributes (its space, its parking), as it
    handles the station's facility cases."""
    if proposal.service_id is not None:
        return Service.objects.values_list("department_id", flat=True).get(pk=proposal.service_id)
    rule = route(service_id=None, category_id=None, station_id=proposal.station_id)
    if rule.responsible_id is not None:
        return rule.responsible_id
    from governance.proposals.rules import triage_id

    return triage_id()


def _render(proposal: Proposal) -> None:
    proposal.body_html = markup.render(proposal.body)
    proposal.summary = markup.plain(proposal.body_html, 240)


def _index(proposal: Proposal) -> None:
    """The search vector of the title and body (nothing on SQLite, which searches the text)."""
    if not search.enabled():
        return
    Proposal.objects.filter(pk=proposal.pk).update(
        search=search.vector(proposal.title, markup.plain(proposal.body_html, MAX_BODY))
    )


def _attach(proposal: Proposal, uploads: Sequence, *, at: dt.datetime) -> list[Attachment]:
    """Check every upload before storing any: one bad file refuses them all."""
    have = proposal.attachments.count() if proposal.pk else 0
    if have + len(uploads) > MAX_ATTACHMENTS:
        raise ValidationError(
            {
                "attachments": ValidationError(
                    _("每条建议最多 %(count)d 个附件。"),
                    code="too_many",
                    params={"count": MAX_ATTACHMENTS},
                )
            }
        )
    checked = [(upload, attachments.check(upload)) for upload in uploads]
    return [
        Attachment.objects.create(
            proposal=proposal,
            file=attachments.store(reference=str(proposal.pk), checked=item, folder="proposals"),
            content_type=item.content_type,
            size=len(item.content),
            original_name=(getattr(upload, "name", "") or "").rsplit("/", 1)[-1][:200],
            created_at=at,
        )
        for upload, item in checked
    ]


# Writing ------------------------------------------------------------------------------------------
@transaction.atomic
def proposal_create(
    *,
    actor,
    title: str,
    body: str,
    category: Category,
    scope: str = Scope.PLATFORM,
    station: Station | None = None,
    service: Service | None = None,
    on_behalf_of: Organisation | None = None,
    uploads: Sequence = (),
    publish_now: bool = False,
) -> Proposal:
    """A draft (private to its author), or published at once with ``publish_now``."""
    author = _signed_in(actor)
    now = clock.now()
    if category is None or not category.is_active:
        raise _invalid("category", _("请选择有效的类别。"), "invalid_choice")
    station, service = _active_scope(scope, station, service)
    proposal = Proposal(
        title=_text(title, field="title", limit=MAX_TITLE),
        body=_text(body, field="body", limit=MAX_BODY),
        category=category,
        scope=scope,
        station=station,
        service=service,
        author=author,
        on_behalf_of=_on_behalf_of(author, on_behalf_of),
        created_at=now,
    )
    _render(proposal)
    proposal.save()
    if uploads:
        _attach(proposal, list(uploads), at=now)
    if publish_now:
        return proposal_publish(actor=author, proposal=proposal)
    return proposal


@transaction.atomic
def proposal_update(
    *,
    actor,
    proposal: Proposal,
    title: str | None = None,
    body: str | None = None,
    category: Category | None = None,
    uploads: Sequence = (),
) -> Proposal:
    """Edit a draft, or a published proposal within 30 minutes of publishing (before any
    answer): each edit of a published text is a new version everyone can read."""
    proposal = _lock(proposal)
    _signed_in(actor)
    if proposal.author_id != actor.pk:
        raise PermissionDenied(_("只有提议人才能修改建议。"))
    now = clock.now()
    if not proposal.editable_now(now):
        raise ValidationError(
            _("发布 %(minutes)d 分钟后不能再修改，只能撤回。"),
            code="not_editable",
            params={"minutes": edit_minutes()},
        )
    changed = False
    if title is not None:
        new = _text(title, field="title", limit=MAX_TITLE)
        changed |= new != proposal.title
        proposal.title = new
    if body is not None:
        new = _text(body, field="body", limit=MAX_BODY)
        changed |= new != proposal.body
        proposal.body = new
    if category is not None:
        if not category.is_active:
            raise _invalid("category", _("请选择有效的类别。"), "invalid_choice")
        proposal.category = category
    _render(proposal)
    if changed and proposal.status != Status.DRAFT:
        proposal.version += 1
        ProposalVersion.objects.create(
            proposal=proposal,
            number=proposal.version,
            title=proposal.title,
            body=proposal.body,
            edited_by=actor,
            created_at=now,
        )
    proposal.save()
    if uploads:
        _attach(proposal, list(uploads), at=now)
    if proposal.status != Status.DRAFT:
        _index(proposal)
    return proposal


@transaction.atomic
def proposal_publish(*, actor, proposal: Proposal) -> Proposal:
    """Make a draft public: its first version, its answering department, 30 minutes in which
    its author may still correct it. The author follows it."""
    proposal = _lock(proposal)
    _signed_in(actor)
    if proposal.author_id != actor.pk:
        raise PermissionDenied(_("只有提议人才能发布建议。"))
    if proposal.status != Status.DRAFT:
        raise ValidationError(_("这条建议已经发布。"), code="closed")
    if proposal.on_behalf_of_id is not None:
        # The seat is checked again: whoever left the organisation since drafting no longer
        # speaks for it.
        _on_behalf_of(actor, proposal.on_behalf_of)
    now = clock.now()
    proposal.status = Status.PUBLISHED
    proposal.published_at = now
    proposal.edit_until = now + dt.timedelta(minutes=edit_minutes())
    proposal.version = 1
    proposal.responsible_id = _responsible_for(proposal)
    proposal.save()
    ProposalVersion.objects.create(
        proposal=proposal,
        number=1,
        title=proposal.title,
        body=proposal.body,
        edited_by=actor,
        created_at=now,
    )
    Follow.objects.get_or_create(proposal=proposal, user=actor, defaults={"created_at": now})
    _index(proposal)
    _mark(now)
    publish(
        ProposalPublished(
            proposal_id=proposal.pk, title=proposal.title, responsible_id=proposal.responsible_id
        ),
        actor=actor,
    )
    return proposal


@transaction.atomic
def proposal_withdraw(*, actor, proposal: Proposal) -> Proposal:
    proposal = _lock(proposal)
    _signed_in(actor)
    if proposal.author_id != actor.pk:
        raise PermissionDenied(_("只有提议人才能撤回建议。"))
    if proposal.status not in (Status.PUBLISHED, Status.EVALUATING):
        raise ValidationError(_("这条建议当前不能撤回。"), code="closed")
    proposal.status = Status.WITHDRAWN
    proposal.withdrawn_at = clock.now()
    proposal.save(update_fields=["status", "withdrawn_at", "updated_at"])
    _mark(proposal.published_at)
    return proposal


@transaction.atomic
def proposal_route(*, actor, proposal: Proposal, responsible: Organisation) -> Proposal:
    """Hand the proposal to another responsible organisation (the triage desk, superusers)."""
    proposal = _lock(proposal)
    _require(actor, "proposals.route_proposal", proposal, _("只有分派人员才能指定答复单位。"))
    if responsible is None or not responsible.is_active:
        raise _invalid("responsible", _("请选择有效的单位。"), "invalid_choice")
    from governance.proposals.rules import triage_id

    answering = {Organisation.Kind.DEPARTMENT, Organisation.Kind.PARTNER}
    if responsible.kind not in answering and responsible.pk != triage_id():
        # A department, or a partner for what it contributes; never a community group.
        raise _invalid("responsible", _("只能分派给政府部门或企业伙伴。"), "invalid_choice")
    if proposal.status == Status.DRAFT:
        raise ValidationError(_("草稿不能分派。"), code="not_published")
    if responsible.pk != proposal.responsible_id:
        # The previous department's unpublished draft answer is its own, not the new one's
        # to publish under the old name: it goes with the hand-over.
        Answer.objects.filter(proposal=proposal, published_at__isnull=True).delete()
    proposal.responsible = responsible
    proposal.save(update_fields=["responsible", "updated_at"])
    from governance.proposals.metrics import days_counted

    # The proposal counts for its new organisation on every day it counts at all.
    _mark(*days_counted(proposal))
    return proposal


# Supports and follows ----------------------------------------------------------------------------
def _refuse_support(proposal: Proposal) -> None:
    if proposal.status == Status.DRAFT:
        raise ValidationError(_("草稿还不能支持；请先发布。"), code="not_published")
    if proposal.status not in OPEN_FOR_SUPPORT:
        raise ValidationError(_("这条建议已经答复或撤回，不再征集支持。"), code="closed")


@transaction.atomic
def proposal_support(*, actor, proposal: Proposal) -> tuple[Proposal, bool]:
    """Support as oneself (never as an organisation). Supporting again changes nothing:
    returns ``(proposal, False)``. Past the threshold the department owes an answer within
    30 days."""
    user = _signed_in(actor)
    current = Proposal.objects.only("status", "author_id").get(pk=proposal.pk)
    _refuse_support(current)
    now = clock.now()
    try:
        with transaction.atomic():
            Support.objects.create(proposal_id=proposal.pk, user=user, created_at=now)
    except IntegrityError:
        return Proposal.objects.get(pk=proposal.pk), False
    Proposal.objects.filter(pk=proposal.pk).update(supports_count=F("supports_count") + 1)
    # The row stays locked by the update until commit: this read is our own increment's.
    proposal = Proposal.objects.get(pk=proposal.pk)
    # Answered or withdrawn while this support waited for the row: refused, and the
    # transaction (the support with it) rolls back.
    _refuse_support(proposal)
    threshold = support_threshold()
    if proposal.threshold_reached_at is None and proposal.supports_count >= threshold:
        proposal.threshold_reached_at = now
        proposal.answer_due_at = now + dt.timedelta(days=answer_days())
        proposal.save(update_fields=["threshold_reached_at", "answer_due_at", "updated_at"])
        _mark(proposal.published_at)
        publish(
            ProposalThresholdReached(
                proposal_id=proposal.pk,
                title=proposal.title,
                supports=proposal.supports_count,
                threshold=threshold,
                responsible_id=proposal.responsible_id,
                answer_due_at=timezone.localtime(proposal.answer_due_at),
            ),
            actor=user,
        )
    return proposal, True


@transaction.atomic
def proposal_unsupport(*, actor, proposal: Proposal) -> tuple[Proposal, bool]:
    """Withdraw one's support while the proposal still takes supports; a support never given
    changes nothing. A threshold once reached stays reached (the answer is owed)."""
    user = _signed_in(actor)
    current = Proposal.objects.only("status").get(pk=proposal.pk)
    _refuse_support(current)
    deleted, _rows = Support.objects.filter(proposal_id=proposal.pk, user=user).delete()
    if deleted:
        Proposal.objects.filter(pk=proposal.pk).update(supports_count=F("supports_count") - 1)
    proposal = Proposal.objects.get(pk=proposal.pk)
    if deleted:
        # Answered or withdrawn while this waited for the row: refused, and rolled back.
        _refuse_support(proposal)
    return proposal, bool(deleted)


def proposal_follow(*, actor, proposal: Proposal) -> bool:
    user = _signed_in(actor)
    _require(user, "proposals.follow_proposal", proposal, _("只能关注已发布的建议。"))
    _follow, created = Follow.objects.get_or_create(
        proposal=proposal, user=user, defaults={"created_at": clock.now()}
    )
    return created


def proposal_unfollow(*, actor, proposal: Proposal) -> bool:
    user = _signed_in(actor)
    deleted, _rows = Follow.objects.filter(proposal=proposal, user=user).delete()
    return bool(deleted)


# Comments -----------------------------------------------------------------------------------------
@transaction.atomic
def comment_add(*, actor, proposal: Proposal, body: str, parent: Comment | None = None) -> Comment:
    """A comment, or a reply to a top-level comment (one level). Plain text: the pages escape
    it. The commenter follows the proposal; its author and followers are told."""
    user = _signed_in(actor)
    proposal = Proposal.objects.get(pk=proposal.pk)
    if proposal.status == Status.DRAFT:
        raise ValidationError(_("草稿还不能评论。"), code="not_published")
    _require(user, "proposals.comment_proposal", proposal, _("这条建议已撤回，不能再评论。"))
    if parent is not None:
        if parent.proposal_id != proposal.pk:
            raise _invalid("parent", _("回复的评论不属于这条建议。"), "invalid")
        if parent.parent_id is not None:
            raise _invalid("parent", _("只能回复一级评论。"), "too_deep")
    now = clock.now()
    comment = Comment.objects.create(
        proposal=proposal,
        parent=parent,
        author=user,
        body=_text(body, field="body", limit=MAX_COMMENT),
        created_at=now,
    )
    Proposal.objects.filter(pk=proposal.pk).update(comments_count=F("comments_count") + 1)
    Follow.objects.get_or_create(proposal=proposal, user=user, defaults={"created_at": now})
    publish(
        ProposalCommented(
            proposal_id=proposal.pk,
            title=proposal.title,
            comment_id=comment.pk,
            commenter_id=user.pk,
            parent_author_id=parent.author_id if parent is not None else None,
            excerpt=comment.body[:80],
        ),
        actor=user,
    )
    return comment


@transaction.atomic
def comment_vote(*, actor, comment: Comment, value: int) -> Comment:
    """Up (1), down (-1), or take one's vote back (0). Not on one's own comment."""
    user = _signed_in(actor)
    if value not in (1, -1, 0) or isinstance(value, bool):
        raise _invalid("value", _("投票只能是 1（赞同）、-1（反对）或 0（取消）。"), "invalid")
    comment = Comment.objects.select_related("proposal").get(pk=comment.pk)
    if comment.author_id == user.pk:
        raise ValidationError(_("不能给自己的评论投票。"), code="own_comment")
    if comment.proposal.status == Status.DRAFT:
        raise PermissionDenied(_("草稿的评论不能投票。"))
    counts = {1: "upvotes", -1: "downvotes"}
    previous = (
        CommentVote.objects.select_for_update()
        .filter(comment=comment, user=user)
        .values_list("value", flat=True)
        .first()
    )
    if previous == value or (previous is None and value == 0):
        return comment
    changes: dict[str, object] = {}
    if previous is not None:
        changes[counts[previous]] = F(counts[previous]) - 1
    if value == 0:
        CommentVote.objects.filter(comment=comment, user=user).delete()
    elif previous is None:
        try:
            with transaction.atomic():
                CommentVote.objects.create(comment=comment, user=user, value=value)
        except IntegrityError:  # a concurrent first vote of the same person won
            return Comment.objects.get(pk=comment.pk)
        changes[counts[value]] = F(counts[value]) + 1
    else:
        CommentVote.objects.filter(comment=comment, user=user).update(value=value)
        changes[counts[value]] = F(counts[value]) + 1
    Comment.objects.filter(pk=comment.pk).update(**changes)
    return Comment.objects.get(pk=comment.pk)


@transaction.atomic
def comment_flag(*, actor, comment: Comment, reason: str = "") -> tuple[Comment, bool]:
    """Flag a comment for the moderators, once per person, never one's own."""
    user = _signed_in(actor)
    if comment.author_id == user.pk:
        raise ValidationError(_("不能举报自己的评论。"), code="own_comment")
    reason = _text(reason, field="reason", limit=200, required=False)
    try:
        with transaction.atomic():
            CommentFlag.objects.create(comment=comment, user=user, reason=reason)
    except IntegrityError:
        return Comment.objects.get(pk=comment.pk), False
    Comment.objects.filter(pk=comment.pk).update(flags_count=F("flags_count") + 1)
    return Comment.objects.get(pk=comment.pk), True


@transaction.atomic
def comment_hide(*, actor, comment: Comment, reason: str) -> Comment:
    """Hide a comment with a reason: it stays in the thread as hidden, never deleted."""
    comment = Comment.objects.select_for_update().select_related("proposal").get(pk=comment.pk)
    _require(
        actor, "proposals.moderate_proposal", comment.proposal, _("只有审核人员才能隐藏评论。")
    )
    reason = _text(reason, field="reason", limit=200)
    if comment.is_hidden:
        return comment
    comment.is_hidden = True
    comment.hidden_reason = reason
    comment.hidden_by = actor
    comment.hidden_at = clock.now()
    comment.save(
        update_fields=["is_hidden", "hidden_reason", "hidden_by", "hidden_at", "updated_at"]
    )
    return comment


# Official answers -------------------------------------------------------------------------------
def _refuse_answer(proposal: Proposal) -> None:
    """Answers are given while the proposal is open or under evaluation; a withdrawn one is
    closed, a decided one answered already (both conflicts)."""
    if proposal.status == Status.WITHDRAWN:
        raise ValidationError(_("这条建议已撤回，不能再答复。"), code="closed")
    if proposal.status not in (Status.PUBLISHED, Status.EVALUATING):
        raise ValidationError(_("这条建议已有正式答复结论，不能再答复。"), code="answered")


def _decimal(value, field: str) -> Decimal | None:
    if value in (None, ""):
        return None
    try:
        amount = Decimal(str(value))
    except (InvalidOperation, ValueError):
        raise _invalid(field, _("请填写金额。"), "invalid") from None
    if not amount.is_finite() or amount < 0 or amount >= Decimal("1e10"):
        raise _invalid(field, _("金额须在 0 到 9,999,999,999.99 之间。"), "invalid")
    return amount.quantize(Decimal("0.01"))


@transaction.atomic
def answer_draft(
    *,
    actor,
    proposal: Proposal,
    state: str,
    text: str,
    cost=None,
    starts_on: dt.date | None = None,
    ends_on: dt.date | None = None,
) -> Answer:
    """Write (or rewrite) the department's draft answer; nobody but the department sees it
    until it is published. Accepting needs a plan: its start and end dates."""
    proposal = _lock(proposal)
    _require(
        actor, "proposals.answer_proposal", proposal, _("只有答复单位的工作人员才能答复建议。")
    )
    _refuse_answer(proposal)
    if state not in Answer.State.values:
        raise _invalid(
            "state",
            _("答复结论只能是：%(allowed)s。") % {"allowed": "、".join(Answer.State.values)},
            "invalid_choice",
        )
    errors = {}
    if state == Answer.State.ACCEPTED:
        if starts_on is None:
            errors["starts_on"] = _("采纳的建议须有计划开始日期。")
        if ends_on is None:
            errors["ends_on"] = _("采纳的建议须有计划完成日期。")
    if starts_on and ends_on and ends_on < starts_on:
        errors["ends_on"] = _("计划完成日期不能早于开始日期。")
    if errors:
        raise ValidationError(errors)
    values = {
        "state": state,
        "text": _text(text, field="text", limit=MAX_ANSWER),
        "cost": _decimal(cost, "cost"),
        "starts_on": starts_on,
        "ends_on": ends_on,
        "organisation_id": proposal.responsible_id,
        "drafted_by": actor,
    }
    values["text_html"] = markup.render(values["text"])
    draft = Answer.objects.filter(proposal=proposal, published_at__isnull=True).first()
    if draft is None:
        return Answer.objects.create(proposal=proposal, created_at=clock.now(), **values)
    for name, value in values.items():
        setattr(draft, name, value)
    draft.save()
    return draft


@transaction.atomic
def answer_publish(*, actor, answer: Answer) -> Answer:
    """Publish the draft: the proposal takes its verdict, the author, supporters and
    followers are told, and an accepted proposal gets its implementation result."""
    answer = Answer.objects.select_for_update().get(pk=answer.pk)
    proposal = _lock(answer.proposal)
    _require(
        actor, "proposals.answer_proposal", proposal, _("只有答复单位的工作人员才能答复建议。")
    )
    if answer.published_at is not None:
        raise ValidationError(_("这份答复已经发布。"), code="answered")
    _refuse_answer(proposal)
    now = clock.now()
    answer.published_at = now
    answer.published_by = actor
    answer.save(update_fields=["published_at", "published_by", "updated_at"])
    proposal.status = answer.state
    proposal.answered_at = now
    proposal.save(update_fields=["status", "answered_at", "updated_at"])
    if answer.state == Answer.State.ACCEPTED:
        Result.objects.update_or_create(
            proposal=proposal,
            defaults={
                "starts_on": answer.starts_on,
                "ends_on": answer.ends_on,
                "cost": answer.cost,
            },
        )
    _mark(proposal.published_at, now)
    publish(
        ProposalAnswered(
            proposal_id=proposal.pk,
            title=proposal.title,
            state=answer.state,
            responsible_id=proposal.responsible_id,
        ),
        actor=actor,
    )
    return answer


def proposal_answer(
    *,
    actor,
    proposal: Proposal,
    state: str,
    text: str,
    cost=None,
    starts_on=None,
    ends_on=None,
) -> Answer:
    """Draft and publish an answer in one step."""
    with transaction.atomic():
        draft = answer_draft(
            actor=actor,
            proposal=proposal,
            state=state,
            text=text,
            cost=cost,
            starts_on=starts_on,
            ends_on=ends_on,
        )
        return answer_publish(actor=actor, answer=draft)


# Implementation ---------------------------------------------------------------------------------
def _result(actor, proposal: Proposal) -> Result:
    _require(
        actor, "proposals.manage_result", proposal, _("只有答复单位的工作人员才能管理落实情况。")
    )
    result = Result.objects.select_for_update().filter(proposal=proposal).first()
    if result is None or proposal.status not in (Status.ACCEPTED, Status.IMPLEMENTED):
        raise ValidationError(_("只有已采纳的建议才有落实情况。"), code="not_accepted")
    return result


@transaction.atomic
def milestone_add(
    *, actor, proposal: Proposal, title: str, due_on: dt.date, description: str = ""
) -> Milestone:
    proposal = _lock(proposal)
    result = _result(actor, proposal)
    if not isinstance(due_on, dt.date):
        raise _invalid("due_on", _("请填写计划日期。"), "required")
    milestone = Milestone.objects.create(
        result=result,
        title=_text(title, field="title", limit=150),
        description=_text(description, field="description", limit=2_000, required=False),
        due_on=due_on,
        created_at=clock.now(),
    )
    result_recompute(result, actor=actor)
    return milestone


@transaction.atomic
def milestone_set_state(*, actor, milestone: Milestone, state: str) -> Milestone:
    """Move a milestone along; done tells everyone involved and moves the progress."""
    milestone = Milestone.objects.select_for_update().get(pk=milestone.pk)
    proposal = _lock(milestone.result.proposal)
    result = _result(actor, proposal)
    if state not in Milestone.State.values:
        raise _invalid(
            "state",
            _("状态只能是：%(allowed)s。") % {"allowed": "、".join(Milestone.State.values)},
            "invalid_choice",
        )
    if state == milestone.state:
        return milestone
    milestone.state = state
    milestone.completed_at = clock.now() if state == Milestone.State.DONE else None
    milestone.save(update_fields=["state", "completed_at", "updated_at"])
    result = result_recompute(result, actor=actor)
    if state == Milestone.State.DONE:
        publish(
            ProposalMilestoneReached(
                proposal_id=proposal.pk,
                title=proposal.title,
                milestone=milestone.title,
                progress=result.progress,
            ),
            actor=actor,
        )
    return milestone


@transaction.atomic
def result_open_case(
    *,
    actor,
    proposal: Proposal,
    title: str,
    description: str,
    service: Service | None = None,
    station: Station | None = None,
) -> Case:
    """Open a case for a concrete task of the implementation, handled by the responsible
    department; its resolution moves the progress.

    A case names a service and a place: the proposal's own unless others are given, and a
    service offered at one station only is done there. A platform-wide proposal names
    neither, so its tasks must."""
    proposal = _lock(proposal)
    result = _result(actor, proposal)
    title = _text(title, field="title", limit=200)
    description = _text(description, field="description", limit=4_000)
    service = service or proposal.service
    station = station or proposal.station
    if station is None and service is not None:
        offered = list(service.stations.filter(is_active=True).order_by("pk")[:2])
        station = offered[0] if len(offered) == 1 else None
    if service is None:
        raise _invalid("service", _("请选择这项落实任务所属的服务事项。"), "required")
    if station is None:
        raise _invalid("station", _("请选择这项落实任务所在的站点。"), "required")
    responsible = Organisation.objects.filter(pk=proposal.responsible_id).first()
    case = case_services.case_open(
        actor=actor,
        title=title,
        description=description,
        source=Source.PROPOSAL,
        service=service,
        station=station,
        system=True,
        responsible=responsible,
    )
    ResultCase.objects.create(result=result, case=case, created_at=clock.now())
    result_recompute(result, actor=actor)
    return case


def result_recompute(result: Result, *, actor=None) -> Result:
    """The progress is the share of milestones and task cases that are done; at 100 % the
    proposal is implemented (and goes back to accepted if a task reopens)."""
    milestones = list(result.milestones.values_list("state", flat=True))
    cases = list(
        Case.objects.filter(proposal_task__result=result)
        .exclude(status__in=CASE_DROPPED)
        .values_list("status", flat=True)
    )
    total = len(milestones) + len(cases)
    done = sum(state == Milestone.State.DONE for state in milestones) + sum(
        status in CASE_DONE for status in cases
    )
    progress = round(100 * done / total) if total else 0
    if total and done == total:
        state = Result.State.DONE
    elif done or cases or Milestone.State.IN_PROGRESS in milestones:
        state = Result.State.IN_PROGRESS
    else:
        state = Result.State.NOT_STARTED
    now = clock.now()
    was_done = result.state == Result.State.DONE
    completed_before = result.completed_at
    result.progress, result.state = progress, state
    result.completed_at = (result.completed_at or now) if state == Result.State.DONE else None
    result.save(update_fields=["progress", "state", "completed_at", "updated_at"])
    proposal = Proposal.objects.select_for_update().get(pk=result.proposal_id)
    if state == Result.State.DONE and not was_done:
        proposal.status = Status.IMPLEMENTED
        proposal.implemented_at = now
        proposal.save(update_fields=["status", "implemented_at", "updated_at"])
        _mark(result.ends_on, now)
        publish(ProposalImplemented(proposal_id=proposal.pk, title=proposal.title), actor=actor)
    elif was_done and state != Result.State.DONE:
        proposal.status = Status.ACCEPTED
        proposal.implemented_at = None
        proposal.save(update_fields=["status", "implemented_at", "updated_at"])
        _mark(result.ends_on, completed_before)
    return result


def on_case_status_changed(case: Case) -> None:
    """A task case moved: recompute the progress of the implementation it belongs to."""
    link = (
        ResultCase.objects.filter(case_id=case.pk)
        .values("result_id", "result__proposal_id")
        .first()
    )
    if link is not None:
        # The proposal first, then its result: the order every other writer locks them in,
        # so a case moving while a milestone is added waits instead of deadlocking.
        Proposal.objects.select_for_update().filter(pk=link["result__proposal_id"]).first()
        result = Result.objects.select_for_update().get(pk=link["result_id"])
        result_recompute(result)


# Reminders --------------------------------------------------------------------------------------
def answers_sweep(*, now: dt.datetime | None = None, limit: int = 1_000) -> dict[str, int]:
    """Tell departments of answers due within ``PROPOSALS_DUE_SOON_DAYS`` (their acting
    staff) and of answers overdue (their admins), once each."""
    now = now or clock.now()
    awaiting = Proposal.objects.filter(
        answer_due_at__isnull=False,
        answered_at__isnull=True,
        responsible__isnull=False,
        status=Status.PUBLISHED,
    )
    soon = awaiting.filter(
        answer_due_at__gt=now, answer_due_at__lte=now + dt.timedelta(days=due_soon_days())
    )
    late = awaiting.filter(answer_due_at__lte=now)
    return {
        "due_soon": _tell_once(soon, "due_soon_told_at", ProposalAnswerDueSoon, now, limit),
        "overdue": _tell_once(late, "overdue_told_at", ProposalAnswerOverdue, now, limit),
    }


def _tell_once(proposals, told_column: str, event, now: dt.datetime, limit: int) -> int:
    """Publish ``event`` for each of ``proposals`` not yet told, claiming ``told_column`` by an
    ``UPDATE`` first: two sweeps at once tell each proposal once."""
    told = 0
    untold = proposals.filter(**{f"{told_column}__isnull": True}).order_by("answer_due_at")
    for proposal in untold[:limit]:
        with transaction.atomic():
            claimed = Proposal.objects.filter(
                pk=proposal.pk, **{f"{told_column}__isnull": True}
            ).update(**{told_column: now})
            if claimed:
                publish(
                    event(
                        proposal_id=proposal.pk,
                        title=proposal.title,
                        responsible_id=proposal.responsible_id,
                        answer_due_at=timezone.localtime(proposal.answer_due_at),
                    )
                )
                told += 1
    return told
