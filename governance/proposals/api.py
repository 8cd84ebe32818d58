"""The proposals API: ``/api/v1/proposals/``.

- ``GET /proposals/``: published proposals (the caller's own drafts too with ``mine``), with
  the list page's filters and sorts (``filters.ProposalFilter``); ``POST /proposals/``: a new
  proposal, a draft unless ``publish`` (JSON, or multipart with up to 5 ``attachments``),
  signed in.
- ``GET /proposals/{id}/``: everything its page shows (versions, attachments, published
  answers, the implementation's result, the timeline, the wings' ``panels`` such as the
  resources partners pledged, what the caller may do); a draft is its author's alone, a 404
  for everyone else. ``PATCH`` (JSON): its author edits it (a draft, or within 30 minutes of
  publishing); ``POST …/publish/``, ``…/withdraw/``: its author.
- ``POST …/support/`` supports it (201; 200 when the caller already did, and nothing more is
  written); ``DELETE …/support/`` takes the support back (200 with the new count).
  ``POST``/``DELETE …/follow/`` follows it or stops.
- ``GET …/comments/``: the threads, oldest first, each with its replies; ``POST`` adds a
  comment or (with ``parent``) a reply. ``POST …/comments/{comment_id}/vote/``, ``…/flag/``
  and (moderators) ``…/hide/`` act on one comment of the proposal.
- ``POST …/answer/``: the responsible department's acting staff draft, or publish, the
  official answer.

The same permissions and the same lifecycle as the pages, because both go through the same
code: rows come from ``queries`` (a proposal the caller may not see is a 404), every write is
one function of ``services`` (which checks again), and the actions that need a role ask
``rules`` first, so a caller who lacks it gets a 403 before their input is looked at. The
permission rules are tested as ``rules`` states them (``rules.has_perm``), not through
``User.has_perm``, which answers yes to a superuser whatever the rule: an official answer is
the department's word, and a superuser without a seat in it gets a 403 like anyone else.

Errors: an anonymous write is a 401; a refusal is a 403; bad input is a 400 naming the field
(supporting or commenting a draft, ``not_published``, is a 400 too: the request is wrong, not
the moment); a refusal because of the proposal's state (a code of ``services.CONFLICTS``:
closed, not_editable, answered…) is a 409 carrying that ``code``; a file over 10 MB is a 413.
"""

from __future__ import annotations

from contextlib import contextmanager

import rules
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import OuterRef, Subquery
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import JSONParser, MultiPartParser
from rest_framework.response import Response

from governance.cases.api import ATTACHMENT_ERRORS, TOO_LARGE, PayloadTooLarge
from governance.core import panels as core_panels
from governance.core.api import CappedPagination, parse_input
from governance.proposals import queries, services
from governance.proposals.filters import ProposalFilter
from governance.proposals.models import Answer, Comment, CommentVote, Proposal, Status
from governance.proposals.rules import is_author
from governance.proposals.serializers import (
    CommentFlagInputSerializer,
    CommentFlagOutputSerializer,
    CommentHideInputSerializer,
    CommentVoteInputSerializer,
    ProposalAnswerInputSerializer,
    ProposalAnswerOutputSerializer,
    ProposalCommentInputSerializer,
    ProposalCommentOutputSerializer,
    ProposalCommentThreadSerializer,
    ProposalConflictSerializer,
    ProposalCreateInputSerializer,
    ProposalDetailSerializer,
    ProposalFollowOutputSerializer,
    ProposalSummarySerializer,
    ProposalSupportOutputSerializer,
    ProposalUpdateInputSerializer,
    timeline_rows,
)

# The actions take JSON: the types the schema gives are the types they get.
JSON_ONLY = (JSONParser,)
# Far beyond any id: a placeholder ``reverse`` accepts where an id goes.
PLACEHOLDER = 9081726354
CONFLICT = OpenApiResponse(
    ProposalConflictSerializer, description="The proposal's state refuses it; `code` says why."
)
COMMENT_ID = OpenApiParameter("comment_id", OpenApiTypes.INT, OpenApiParameter.PATH)


class Conflict(exceptions.APIException):
    """A 409 whose body says why in ``code`` (one of ``services.CONFLICTS``)."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = _("建议当前的状态不允许这样操作。")
    default_code = "conflict"

    def __init__(self, message, code: str):
        super().__init__({"detail": message, "code": code})


def _codes(exc: DjangoValidationError) -> set[str]:
    if hasattr(exc, "error_dict"):
        errors = [error for group in exc.error_dict.values() for error in group]
    else:
        errors = exc.error_list
    return {error.code for error in errors if error.code}


@contextmanager
def _service_errors():
    """Turn a service's refusal into the answer the API gives: a file over the limit is a 413,
    a refused file a 400 on ``attachments``, a refusal because of the proposal's state a 409
    with its code; other refusals stay 400s naming their field (``core.api``'s handler)."""
    try:
        yield
    except DjangoValidationError as exc:
        codes = _codes(exc)
        if "too_large" in codes:
            raise PayloadTooLarge(exc.messages[0]) from exc
        if not hasattr(exc, "error_dict"):
            if codes & ATTACHMENT_ERRORS:
                raise exceptions.ValidationError({"attachments": exc.messages}) from exc
            conflicts = codes & services.CONFLICTS
            if conflicts:
                raise Conflict(exc.messages[0], code=sorted(conflicts)[0]) from exc
        raise


class Reader:
    """What the caller may do with each proposal, from ``rules`` (each answer kept for the
    request; their seats are read once), who they are, and the URLs of what they read."""

    def __init__(self, request):
        self.request = request
        self.user = request.user
        self._templates: dict[tuple[str, bool], str] = {}
        self._answers: dict[tuple[str, int], bool] = {}

    def may(self, permission: str, proposal: Proposal) -> bool:
        key = (permission, proposal.pk)
        if key not in self._answers:
            self._answers[key] = rules.has_perm(permission, self.user, proposal)
        return self._answers[key]

    def is_me(self, user_id: int | None) -> bool:
        return bool(self.user.is_authenticated and user_id == self.user.pk)

    def url(self, view_name: str, pk: int, *, absolute: bool = True) -> str:
        # Reversed once per response, not once per row (as ``core.api.RowUrlField``, whose
        # placeholder is no id).
        template = self._templates.get((view_name, absolute))
        if template is None:
            template = reverse(view_name, kwargs={"pk": PLACEHOLDER})
            if absolute:
                template = self.request.build_absolute_uri(template)
            self._templates[(view_name, absolute)] = template
        return template.replace(str(PLACEHOLDER), str(pk))

    def attachment_url(self, attachment) -> str:
        """The pages' download view, which checks again that the caller may see it."""
        path = reverse(
            "proposals:attachment",
            kwargs={"pk": attachment.proposal_id, "attachment": attachment.pk},
        )
        return self.request.build_absolute_uri(path)

    def case_url(self, case) -> str:
        path = reverse("api:case-detail", kwargs={"reference": case.reference})
        return self.request.build_absolute_uri(path)

    def permissions(self, proposal: Proposal) -> dict[str, bool]:
        return {
            "edit": self.may("proposals.edit_proposal", proposal),
            "publish": proposal.status == Status.DRAFT and self.is_me(proposal.author_id),
            "withdraw": self.may("proposals.withdraw_proposal", proposal),
            "support": self.may("proposals.support_proposal", proposal),
            "comment": self.may("proposals.comment_proposal", proposal),
            "follow": self.may("proposals.follow_proposal", proposal),
            "answer": self.may("proposals.answer_proposal", proposal),
            "moderate": self.may("proposals.moderate_proposal", proposal),
        }


class ProposalViewSet(mixins.ListModelMixin, viewsets.GenericViewSet):
    """Co-governance proposals: anyone reads the published ones; signed in, people propose,
    support, follow and discuss them; the responsible department answers them officially."""

    filterset_class = ProposalFilter
    pagination_class = CappedPagination
    lookup_value_regex = r"[0-9]+"
    queryset = Proposal.objects.none()
    serializer_class = ProposalSummarySerializer
    parser_classes = (JSONParser, MultiPartParser)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Proposal.objects.none()
        if self.action == "list":
            return queries.listing(self.request.user)  # the filter orders it
        return queries.visible_to(self.request.user)

    def get_parsers(self):
        # Editing takes JSON only: in form data DRF reads a blank optional field as one not
        # sent, so a blank title would quietly change nothing instead of being refused.
        request = getattr(self, "request", None)
        if request is not None and request.method == "PATCH":
            return [JSONParser()]
        return super().get_parsers()

    def get_serializer_class(self):
        return ProposalSummarySerializer if self.action == "list" else ProposalDetailSerializer

    def get_serializer_context(self):
        return {**super().get_serializer_context(), "reader": self.reader}

    def get_object(self) -> Proposal:
        # No filters here: the list's query parameters do not narrow a detail.
        proposal = queries.visible_to(self.request.user).filter(pk=self.kwargs["pk"]).first()
        if proposal is None:
            raise exceptions.NotFound()
        return proposal

    # Helpers --------------------------------------------------------------------------------
    @cached_property
    def reader(self) -> Reader:
        """One per request (a view instance serves one request)."""
        return Reader(self.request)

    def _require(self, permission: str, proposal: Proposal, message) -> None:
        if not self.reader.may(permission, proposal):
            raise exceptions.PermissionDenied(message)

    def _require_author(self, proposal: Proposal, message) -> None:
        if not is_author(self.request.user, proposal):
            raise exceptions.PermissionDenied(message)

    def _detail(self, pk) -> dict:
        """The proposal as its page shows it, read again (after a write: as written)."""
        proposal = queries.proposal_for(self.request.user, pk)
        if proposal is None:
            raise exceptions.NotFound()
        has_result = getattr(proposal, "result", None) is not None
        milestones = queries.milestones_of(proposal) if has_result else []
        task_cases = queries.task_cases_of(proposal) if has_result else []
        panels = core_panels.load_one("proposal", self.request.user, proposal)
        context = {
            **self.get_serializer_context(),
            "milestones": milestones,
            "task_cases": task_cases,
            "timeline": timeline_rows(
                queries.timeline(proposal, milestones=milestones, cases=task_cases, panels=panels)
            ),
            "panels": core_panels.serialized(panels, self.request),
            "permissions": self.reader.permissions(proposal),
        }
        return ProposalDetailSerializer(proposal, context=context).data

    def _comment(self, proposal: Proposal, comment_id) -> Comment:
        """One comment of the proposal, with the reader's vote on it, or a 404."""
        comments = Comment.objects.filter(pk=comment_id, proposal=proposal).select_related("author")
        if self.request.user.is_authenticated:
            votes = CommentVote.objects.filter(comment=OuterRef("pk"), user_id=self.request.user.pk)
            comments = comments.annotate(my_vote=Subquery(votes.values("value")[:1]))
        comment = comments.first()
        if comment is None:
            raise exceptions.NotFound()
        comment.proposal = proposal
        return comment

    def _comment_context(self, proposal: Proposal) -> dict:
        return {
            **self.get_serializer_context(),
            "moderates": self.reader.may("proposals.moderate_proposal", proposal),
        }

    # List, detail, create, edit ---------------------------------------------------------------
    def list(self, request, *args, **kwargs):
        """Published proposals (with ``mine=true``, the caller's own, drafts included),
        newest first unless ``sort`` says otherwise. Each row says whether the caller
        supports and follows it."""
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: ProposalDetailSerializer})
    def retrieve(self, request, pk=None):
        """The proposal with its versions, attachments, published answers, implementation,
        timeline and the wings' panels (e.g. ``pledges``: what partners pledged to it), and what
        the caller may do with it. A draft is a 404 for all but its author."""
        return Response(self._detail(pk))

    @extend_schema(
        request={
            "application/json": ProposalCreateInputSerializer,
            "multipart/form-data": ProposalCreateInputSerializer,
        },
        responses={201: ProposalDetailSerializer, 413: TOO_LARGE},
    )
    def create(self, request):
        """Propose (signed in): a draft only its author sees, or published at once with
        ``publish``. ``on_behalf_of`` proposes as an organisation the caller acts for. A
        refused file refuses the whole proposal, and nothing is kept."""
        values = parse_input(ProposalCreateInputSerializer, request)
        uploads = values.pop("attachments")
        publish_now = values.pop("publish")
        with _service_errors():
            proposal = services.proposal_create(
                actor=request.user, uploads=uploads, publish_now=publish_now, **values
            )
        return Response(self._detail(proposal.pk), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=ProposalUpdateInputSerializer,
        responses={200: ProposalDetailSerializer, 409: CONFLICT},
    )
    def partial_update(self, request, pk=None):
        """Edit (the author): a draft at any time, a published proposal within 30 minutes of
        publishing and before any answer; after that a 409 ``not_editable`` (withdraw it
        instead). Each edit of a published text is a new version everyone can read."""
        proposal = self.get_object()
        self._require_author(proposal, _("只有提议人才能修改建议。"))
        values = parse_input(ProposalUpdateInputSerializer, request)
        with _service_errors():
            services.proposal_update(actor=request.user, proposal=proposal, **values)
        return Response(self._detail(proposal.pk))

    # Lifecycle --------------------------------------------------------------------------------
    @extend_schema(request=None, responses={200: ProposalDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def publish(self, request, pk=None):
        """Publish a draft (its author): everyone may read it, its department is named, and
        its author may still correct it for 30 minutes."""
        proposal = self.get_object()
        self._require_author(proposal, _("只有提议人才能发布建议。"))
        with _service_errors():
            services.proposal_publish(actor=request.user, proposal=proposal)
        return Response(self._detail(proposal.pk))

    @extend_schema(request=None, responses={200: ProposalDetailSerializer, 409: CONFLICT})
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY)
    def withdraw(self, request, pk=None):
        """Withdraw it (its author), while it is open or under evaluation."""
        proposal = self.get_object()
        self._require_author(proposal, _("只有提议人才能撤回建议。"))
        with _service_errors():
            services.proposal_withdraw(actor=request.user, proposal=proposal)
        return Response(self._detail(proposal.pk))

    # Supports and follows ---------------------------------------------------------------------
    @extend_schema(
        methods=["POST"],
        request=None,
        responses={
            201: OpenApiResponse(ProposalSupportOutputSerializer, description="Supported."),
            200: OpenApiResponse(
                ProposalSupportOutputSerializer, description="Already supported: nothing changed."
            ),
            409: CONFLICT,
        },
    )
    @extend_schema(
        methods=["DELETE"],
        request=None,
        responses={
            200: OpenApiResponse(
                ProposalSupportOutputSerializer,
                description="Not (or no longer) supported, with the count after.",
            ),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post", "delete"], parser_classes=JSON_ONLY)
    def support(self, request, pk=None):
        """Support the proposal as oneself (signed in), once: supporting again answers 200
        and writes nothing. ``DELETE`` takes the support back (200 with the count, also when
        there was none). Supports are taken while it is open or under evaluation (409
        ``closed`` after); a draft cannot be supported (400)."""
        proposal = self.get_object()
        with _service_errors():
            if request.method == "DELETE":
                proposal, _changed = services.proposal_unsupport(
                    actor=request.user, proposal=proposal
                )
                supported, code = False, status.HTTP_200_OK
            else:
                proposal, created = services.proposal_support(actor=request.user, proposal=proposal)
                supported = True
                code = status.HTTP_201_CREATED if created else status.HTTP_200_OK
        body = {"supported": supported, "supports_count": proposal.supports_count}
        return Response(ProposalSupportOutputSerializer(body).data, status=code)

    @extend_schema(
        methods=["POST", "DELETE"], request=None, responses={200: ProposalFollowOutputSerializer}
    )
    @action(detail=True, methods=["post", "delete"], parser_classes=JSON_ONLY)
    def follow(self, request, pk=None):
        """Follow a published proposal (hear of its comments, answers and progress), or stop
        (``DELETE``)."""
        proposal = self.get_object()
        if request.method == "DELETE":
            services.proposal_unfollow(actor=request.user, proposal=proposal)
            return Response(ProposalFollowOutputSerializer({"following": False}).data)
        services.proposal_follow(actor=request.user, proposal=proposal)
        return Response(ProposalFollowOutputSerializer({"following": True}).data)

    # Comments ---------------------------------------------------------------------------------
    @extend_schema(
        methods=["GET"],
        responses={200: ProposalCommentThreadSerializer(many=True)},
        filters=False,
    )
    @extend_schema(
        methods=["POST"],
        request=ProposalCommentInputSerializer,
        responses={201: ProposalCommentOutputSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        parser_classes=JSON_ONLY,
        filterset_class=None,
        pagination_class=None,
    )
    def comments(self, request, pk=None):
        """The discussion: top-level comments oldest first, each with its replies (one
        level). A hidden comment stays, with its reason, and its text only for moderators.
        ``POST`` adds a comment, or a reply to a top-level one (``parent``), signed in."""
        proposal = self.get_object()
        context = self._comment_context(proposal)
        if request.method == "GET":
            threads = queries.comments_of(proposal, request.user)
            return Response(
                ProposalCommentThreadSerializer(threads, many=True, context=context).data
            )
        if proposal.status != Status.DRAFT:  # a draft's refusal is the service's 400
            self._require("proposals.comment_proposal", proposal, _("这条建议已撤回，不能再评论。"))
        data = parse_input(ProposalCommentInputSerializer, request)
        parent = None
        if data["parent"] is not None:
            parent = Comment.objects.filter(pk=data["parent"], proposal=proposal).first()
            if parent is None:
                raise exceptions.ValidationError({"parent": [_("回复的评论不属于这条建议。")]})
        with _service_errors():
            comment = services.comment_add(
                actor=request.user, proposal=proposal, body=data["body"], parent=parent
            )
        return Response(
            ProposalCommentOutputSerializer(
                self._comment(proposal, comment.pk), context=context
            ).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        parameters=[COMMENT_ID],
        request=CommentVoteInputSerializer,
        responses={200: ProposalCommentOutputSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"comments/(?P<comment_id>[0-9]+)/vote",
        url_name="comment-vote",
        parser_classes=JSON_ONLY,
        filterset_class=None,
    )
    def comment_vote(self, request, pk=None, comment_id=None):
        """Vote a comment up (1) or down (-1), or take one's vote back (0); not one's own."""
        proposal = self.get_object()
        comment = self._comment(proposal, comment_id)
        data = parse_input(CommentVoteInputSerializer, request)
        with _service_errors():
            services.comment_vote(actor=request.user, comment=comment, value=data["value"])
        return Response(
            ProposalCommentOutputSerializer(
                self._comment(proposal, comment.pk), context=self._comment_context(proposal)
            ).data
        )

    @extend_schema(
        parameters=[COMMENT_ID],
        request=CommentFlagInputSerializer,
        responses={
            201: OpenApiResponse(CommentFlagOutputSerializer, description="Flagged."),
            200: OpenApiResponse(CommentFlagOutputSerializer, description="Flagged before."),
        },
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"comments/(?P<comment_id>[0-9]+)/flag",
        url_name="comment-flag",
        parser_classes=JSON_ONLY,
        filterset_class=None,
    )
    def comment_flag(self, request, pk=None, comment_id=None):
        """Flag a comment for the moderators, with an optional reason; once per person
        (again: 200, nothing more written), never one's own (400)."""
        proposal = self.get_object()
        comment = self._comment(proposal, comment_id)
        data = parse_input(CommentFlagInputSerializer, request)
        with _service_errors():
            _comment, created = services.comment_flag(
                actor=request.user, comment=comment, reason=data["reason"]
            )
        return Response(
            CommentFlagOutputSerializer({"flagged": True, "created": created}).data,
            status=status.HTTP_201_CREATED if created else status.HTTP_200_OK,
        )

    @extend_schema(
        parameters=[COMMENT_ID],
        request=CommentHideInputSerializer,
        responses={200: ProposalCommentOutputSerializer},
    )
    @action(
        detail=True,
        methods=["post"],
        url_path=r"comments/(?P<comment_id>[0-9]+)/hide",
        url_name="comment-hide",
        parser_classes=JSON_ONLY,
        filterset_class=None,
    )
    def comment_hide(self, request, pk=None, comment_id=None):
        """Hide a comment, with a reason everyone reads (the moderators: the responsible
        organisation's acting staff, the triage desk, superusers). It is never deleted."""
        proposal = self.get_object()
        comment = self._comment(proposal, comment_id)
        self._require("proposals.moderate_proposal", proposal, _("只有审核人员才能隐藏评论。"))
        data = parse_input(CommentHideInputSerializer, request)
        with _service_errors():
            services.comment_hide(actor=request.user, comment=comment, reason=data["reason"])
        return Response(
            ProposalCommentOutputSerializer(
                self._comment(proposal, comment.pk), context=self._comment_context(proposal)
            ).data
        )

    # The official answer ----------------------------------------------------------------------
    @extend_schema(
        request=ProposalAnswerInputSerializer,
        responses={
            201: OpenApiResponse(
                ProposalAnswerOutputSerializer,
                description="The answer as saved: the draft, or published with `publish`.",
            ),
            409: CONFLICT,
        },
    )
    @action(detail=True, methods=["post"], parser_classes=JSON_ONLY, filterset_class=None)
    def answer(self, request, pk=None):
        """The official answer (the responsible department's admins and staff; nobody else,
        superusers included): evaluating, accepted (with the plan's dates and cost) or
        rejected. Without ``publish`` it is saved as the department's draft (a second call
        rewrites it); with it, it is published, the proposal takes its verdict and its author,
        supporters and followers are told. A proposal already decided is a 409."""
        proposal = self.get_object()
        self._require(
            "proposals.answer_proposal",
            proposal,
            _("只有答复单位的工作人员才能答复建议。"),
        )
        data = parse_input(ProposalAnswerInputSerializer, request)
        write = services.proposal_answer if data.pop("publish") else services.answer_draft
        with _service_errors():
            answer = write(actor=request.user, proposal=proposal, **data)
        answer = Answer.objects.select_related("organisation").get(pk=answer.pk)
        return Response(ProposalAnswerOutputSerializer(answer).data, status=status.HTTP_201_CREATED)
