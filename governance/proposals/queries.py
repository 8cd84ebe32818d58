"""Reads of the proposals app: what a reader may see, the public list, one proposal with
everything its page shows, and its timeline. Pages and API both read here.

The list is a constant number of queries whatever its length: the page's rows with their
category, station, service and proposing organisation joined, and whether the reader
supports each as an ``EXISTS`` column.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import (
    BooleanField,
    Exists,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
)

from governance.cases.models import Case
from governance.cases.rules import signed_in
from governance.core import panels as core_panels
from governance.proposals.models import (
    Answer,
    Comment,
    CommentVote,
    Follow,
    Milestone,
    Proposal,
    ProposalVersion,
    Status,
    Support,
)

LIST_RELATED = ("category", "station", "service", "on_behalf_of", "responsible")


def visible_to(user) -> QuerySet[Proposal]:
    """Published proposals, and the reader's own drafts."""
    published = ~Q(status=Status.DRAFT)
    if signed_in(user):
        return Proposal.objects.filter(published | Q(author_id=user.pk))
    return Proposal.objects.filter(published)


def with_reader(qs: QuerySet[Proposal], user) -> QuerySet[Proposal]:
    """``supported_by_me`` and ``followed_by_me`` on each row (False for anonymous readers)."""
    if not signed_in(user):
        return qs.annotate(
            supported_by_me=Value(False, output_field=BooleanField()),
            followed_by_me=Value(False, output_field=BooleanField()),
        )
    return qs.annotate(
        supported_by_me=Exists(Support.objects.filter(proposal=OuterRef("pk"), user_id=user.pk)),
        followed_by_me=Exists(Follow.objects.filter(proposal=OuterRef("pk"), user_id=user.pk)),
    )


def listing(user) -> QuerySet[Proposal]:
    """The list's rows (filters in ``filters.ProposalFilter`` narrow it further), without
    the columns no list shows: the body, its HTML and the search vector are three quarters of
    a row."""
    rows = visible_to(user).select_related(*LIST_RELATED).defer("body", "body_html", "search")
    return with_reader(rows, user)


def proposal_for(user, pk: int) -> Proposal | None:
    """One proposal the reader may see, with what its page needs, or None."""
    return (
        with_reader(visible_to(user).select_related(*LIST_RELATED, "author", "result"), user)
        .prefetch_related(
            "attachments",
            Prefetch("versions", queryset=ProposalVersion.objects.order_by("number")),
            Prefetch(
                "answers",
                queryset=Answer.objects.filter(published_at__isnull=False)
                .select_related("organisation")
                .order_by("published_at", "pk"),
                to_attr="published_answers",
            ),
        )
        .filter(pk=pk)
        .first()
    )


def draft_answer(proposal: Proposal) -> Answer | None:
    return Answer.objects.filter(proposal=proposal, published_at__isnull=True).first()


def milestones_of(proposal: Proposal) -> list[Milestone]:
    return list(Milestone.objects.filter(result__proposal=proposal).order_by("due_on", "pk"))


def task_cases_of(proposal: Proposal) -> list[Case]:
    return list(
        Case.objects.filter(proposal_task__result__proposal=proposal)
        .select_related("responsible")
        .order_by("created_at", "pk")
    )


def comments_of(proposal: Proposal, user) -> list[Comment]:
    """Top-level comments, oldest first, each with ``thread_replies`` and, for a signed-in
    reader, ``my_vote`` (1, -1 or None): three queries however many comments."""
    votes = (
        CommentVote.objects.filter(comment=OuterRef("pk"), user_id=user.pk).values("value")[:1]
        if signed_in(user)
        else None
    )

    def annotate(qs):
        qs = qs.select_related("author", "hidden_by")
        if votes is not None:
            qs = qs.annotate(my_vote=Subquery(votes))
        return qs

    replies = annotate(Comment.objects.filter(parent__isnull=False).order_by("created_at", "pk"))
    return list(
        annotate(Comment.objects.filter(proposal=proposal, parent__isnull=True))
        .prefetch_related(Prefetch("replies", queryset=replies, to_attr="thread_replies"))
        .order_by("created_at", "pk")
    )


def flagged_comments(user, limit: int = 100) -> QuerySet[Comment]:
    """Comments flagged and not hidden, most flagged first, on proposals ``user`` moderates
    (every proposal for a superuser or the triage desk; the responsible organisation's
    otherwise)."""
    from governance.proposals.rules import acts_for_triage
    from governance.stakeholders.rules import ACTING_ROLES, organisation_ids

    qs = Comment.objects.filter(flags_count__gt=0, is_hidden=False).select_related(
        "proposal", "author"
    )
    if not (getattr(user, "is_superuser", False) or acts_for_triage(user)):
        qs = qs.filter(proposal__responsible_id__in=organisation_ids(user, roles=ACTING_ROLES))
    return qs.order_by("-flags_count", "-created_at")[:limit]


def to_answer(user) -> QuerySet[Proposal]:
    """The department's work list: proposals it is responsible for that await an official
    answer (past the threshold first, by due date), for its acting staff."""
    from governance.stakeholders.rules import ACTING_ROLES, organisation_ids

    return (
        Proposal.objects.filter(
            responsible_id__in=organisation_ids(user, roles=ACTING_ROLES),
            status__in=(Status.PUBLISHED, Status.EVALUATING),
        )
        .select_related(*LIST_RELATED)
        # Proposals with no due date yet (below the threshold) after those with one, on
        # every database (SQLite sorts NULL first).
        .order_by(
            F("answer_due_at").asc(nulls_last=True), "-supports_count", "-published_at", "-pk"
        )
    )


# The timeline -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Event:
    """One step on the public timeline: ``kind`` is one of published, edited, threshold,
    answered, milestone, task_done, implemented, withdrawn, or ``panel`` for a step a wing's
    panel adds (``data``: ``panel``, the panel; ``entry``, its ``core.panels.TimelineEntry``),
    e.g. a partner's pledge delivered."""

    kind: str
    at: dt.datetime
    data: dict = field(default_factory=dict)


def timeline(proposal: Proposal, *, milestones=None, cases=None, panels=None) -> list[Event]:
    """From idea to done, oldest first: publication and each edit, the threshold, each
    published answer, each milestone reached and task finished, what the wings' panels add
    (a pledge delivered), implementation or withdrawal. Reads the prefetched versions and
    answers of :func:`proposal_for`, and ``panels`` (``core.panels.load_one`` for the
    reader); without them, the panels as an anonymous reader sees them."""
    events: list[Event] = []
    if proposal.published_at:
        events.append(Event("published", proposal.published_at))
    for version in proposal.versions.all():
        if version.number > 1:
            events.append(Event("edited", version.created_at, {"number": version.number}))
    if proposal.threshold_reached_at:
        events.append(
            Event(
                "threshold",
                proposal.threshold_reached_at,
                {"due": proposal.answer_due_at},
            )
        )
    answers = getattr(proposal, "published_answers", None)
    if answers is None:
        answers = Answer.objects.filter(proposal=proposal, published_at__isnull=False).order_by(
            "published_at", "pk"
        )
    for answer in answers:
        events.append(Event("answered", answer.published_at, {"answer": answer}))
    for milestone in milestones if milestones is not None else milestones_of(proposal):
        if milestone.completed_at:
            events.append(Event("milestone", milestone.completed_at, {"milestone": milestone}))
    for case in cases if cases is not None else task_cases_of(proposal):
        if case.resolved_at:
            events.append(Event("task_done", case.resolved_at, {"case": case}))
    if panels is None:
        panels = core_panels.load_one("proposal", None, proposal)
    for panel, entry in core_panels.timeline_entries(panels):
        events.append(Event("panel", entry.at, {"panel": panel, "entry": entry}))
    if proposal.implemented_at:
        events.append(Event("implemented", proposal.implemented_at))
    if proposal.withdrawn_at:
        events.append(Event("withdrawn", proposal.withdrawn_at))
    return sorted(events, key=lambda event: event.at)
