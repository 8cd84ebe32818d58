"""Co-governance proposals: how the service should change, from idea to done.

A :class:`Proposal` is written by a person, alone or on behalf of an organisation they act for
(a partner or a department proposing as itself), about the platform, a station or a service.
It is private while a draft; published, anyone reads it, people (never organisations) support
it, and it is discussed in :class:`Comment` threads one level deep. Past the support threshold
its responsible department owes an official :class:`Answer` within 30 days. An accepted
proposal gets an implementation :class:`Result`: milestones, and cases spawned for concrete
tasks, whose completion moves its progress up to done.

Writes go through ``governance.proposals.services``; the models keep the invariants of a row.
Every published version of the text is kept (:class:`ProposalVersion`, append-only).
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.postgres.indexes import GinIndex
from django.contrib.postgres.search import SearchVectorField
from django.core.validators import MaxValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import AppendOnlyModel, Localized, TimeStampedModel
from governance.stakeholders.models import Organisation

MAX_TITLE = 150
MAX_BODY = 20_000
MAX_COMMENT = 2_000
MAX_ANSWER = 20_000


class Scope(models.TextChoices):
    PLATFORM = "platform", _("整个平台")
    STATION = "station", _("站点")
    SERVICE = "service", _("服务事项")


class Status(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("征集支持中")
    EVALUATING = "evaluating", _("评估中")
    ACCEPTED = "accepted", _("已采纳")
    REJECTED = "rejected", _("未采纳")
    IMPLEMENTED = "implemented", _("已落实")
    WITHDRAWN = "withdrawn", _("已撤回")


# Readers see everything but drafts; supports are taken until the official verdict.
PUBLIC_STATUSES = frozenset(set(Status.values) - {Status.DRAFT})
OPEN_FOR_SUPPORT = frozenset({Status.PUBLISHED, Status.EVALUATING})
OPEN_FOR_COMMENTS = frozenset(PUBLIC_STATUSES - {Status.WITHDRAWN})
ANSWERED = frozenset({Status.EVALUATING, Status.ACCEPTED, Status.REJECTED, Status.IMPLEMENTED})


class Category(models.Model):
    """What a proposal is about: opening hours, facilities, digital services…"""

    slug = models.SlugField(_("标识"), max_length=64, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=80)
    name_en = models.CharField(_("英文名称"), max_length=120, blank=True)
    order = models.PositiveSmallIntegerField(_("排序"), default=100)
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")

    class Meta:
        verbose_name = _("建议类别")
        verbose_name_plural = pgettext_lazy("plural", "建议类别")
        ordering = ("order", "slug")

    def __str__(self) -> str:
        return str(self.name)


class Proposal(TimeStampedModel):
    title = models.CharField(_("标题"), max_length=MAX_TITLE)
    # Markdown as the author wrote it, and the sanitised HTML made from it when it is saved.
    body = models.TextField(_("正文"), max_length=MAX_BODY)
    body_html = models.TextField(_("正文（HTML）"), blank=True, editable=False)
    summary = models.CharField(_("摘要"), max_length=240, blank=True, editable=False)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        related_name="proposals",
        db_index=False,  # proposals_category_idx
        verbose_name=_("类别"),
    )
    scope = models.CharField(_("范围"), max_length=16, choices=Scope.choices)
    station = models.ForeignKey(
        "stations.Station",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        db_index=False,
        verbose_name=_("站点"),
    )
    service = models.ForeignKey(
        "stations.Service",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        db_index=False,
        verbose_name=_("服务事项"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="proposals",
        db_index=False,
        verbose_name=_("提议人"),
    )
    on_behalf_of = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals_made",
        verbose_name=_("代表单位"),
        help_text=_("以单位名义提出时，提议人须是该单位的管理员或工作人员。"),
    )
    responsible = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals_to_answer",
        db_index=False,
        verbose_name=_("答复单位"),
        help_text=_("负责正式答复和落实的政府部门。"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.DRAFT
    )
    version = models.PositiveIntegerField(_("版本"), default=0, editable=False)

    supports_count = models.PositiveIntegerField(_("支持数"), default=0, editable=False)
    comments_count = models.PositiveIntegerField(_("评论数"), default=0, editable=False)

    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    edit_until = models.DateTimeField(_("可修改至"), null=True, blank=True)
    threshold_reached_at = models.DateTimeField(_("达到支持门槛时间"), null=True, blank=True)
    answer_due_at = models.DateTimeField(_("应答复时间"), null=True, blank=True)
    answered_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    implemented_at = models.DateTimeField(_("落实时间"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    due_soon_told_at = models.DateTimeField(null=True, blank=True, editable=False)
    overdue_told_at = models.DateTimeField(null=True, blank=True, editable=False)

    # Title and body as CJK bigrams and words ("simple" configuration): see search.py.
    search = SearchVectorField(null=True, editable=False)

    class Meta:
        verbose_name = pgettext_lazy("proposal", "建议")
        verbose_name_plural = pgettext_lazy("plural", "建议")
        ordering = ("-published_at", "-pk")
        permissions = [
            ("answer_proposal", _("正式答复建议")),
            ("moderate_proposal", _("管理建议评论")),
        ]
        # The public list's filters and sorts, among published proposals only (drafts are
        # each author's alone and never listed).
        indexes = [
            models.Index(
                fields=("-published_at", "-id"),
                condition=~Q(status="draft"),
                name="proposals_newest_idx",
            ),
            models.Index(
                fields=("-supports_count", "-id"),
                condition=~Q(status="draft"),
                name="proposals_supported_idx",
            ),
            models.Index(
                fields=("-comments_count", "-id"),
                condition=~Q(status="draft"),
                name="proposals_commented_idx",
            ),
            models.Index(
                fields=("-answered_at", "-id"),
                condition=Q(answered_at__isnull=False),
                name="proposals_answered_idx",
            ),
            models.Index(fields=("status", "-published_at"), name="proposals_status_idx"),
            models.Index(
                fields=("category", "-published_at", "-id"),
                condition=~Q(status="draft"),
                name="proposals_category_idx",
            ),
            models.Index(
                fields=("scope", "-published_at", "-id"),
                condition=~Q(status="draft"),
                name="proposals_scope_idx",
            ),
            models.Index(
                fields=("station", "-published_at", "-id"),
                condition=Q(station__isnull=False) & ~Q(status="draft"),
                name="proposals_station_idx",
            ),
            models.Index(
                fields=("service", "-published_at", "-id"),
                condition=Q(service__isnull=False) & ~Q(status="draft"),
                name="proposals_service_idx",
            ),
            models.Index(fields=("author", "-created_at"), name="proposals_author_idx"),
            models.Index(
                fields=("responsible", "status", "answer_due_at"),
                condition=Q(responsible__isnull=False),
                name="proposals_responsible_idx",
            ),
            models.Index(
                fields=("answer_due_at",),
                condition=Q(answer_due_at__isnull=False, answered_at__isnull=True),
                name="proposals_awaiting_answer_idx",
            ),
            GinIndex(fields=("search",), name="proposals_search_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(scope=Scope.PLATFORM) & Q(station__isnull=True, service__isnull=True))
                | (Q(scope=Scope.STATION) & Q(station__isnull=False, service__isnull=True))
                | (Q(scope=Scope.SERVICE) & Q(service__isnull=False)),
                name="proposals_scope_names_its_object",
            ),
            models.CheckConstraint(
                condition=Q(status="draft") | Q(published_at__isnull=False),
                name="proposals_published_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_public(self) -> bool:
        return self.status != Status.DRAFT

    def editable_now(self, now=None) -> bool:
        """A draft always; a published proposal within its edit window, before any answer."""
        if self.status == Status.DRAFT:
            return True
        return (
            self.status == Status.PUBLISHED
            and self.edit_until is not None
            and (now or timezone.now()) < self.edit_until
        )


class ProposalVersion(AppendOnlyModel):
    """The text as published, and after each edit: every reader sees what changed."""

    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="versions",
        db_index=False,  # proposals_version_unique leads with it
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    number = models.PositiveIntegerField(_("版本号"))
    title = models.CharField(_("标题"), max_length=MAX_TITLE)
    body = models.TextField(_("正文"), max_length=MAX_BODY)
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("修改人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    update_refused_message = _("建议的历史版本不能修改。")
    delete_refused_message = _("建议的历史版本不能删除。")

    class Meta:
        verbose_name = _("建议版本")
        verbose_name_plural = pgettext_lazy("plural", "建议版本")
        ordering = ("proposal", "number")
        constraints = [
            models.UniqueConstraint(fields=("proposal", "number"), name="proposals_version_unique")
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id} v{self.number}"


class Attachment(models.Model):
    """A photo or PDF on a proposal, checked as a case's (``cases.attachments``)."""

    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="attachments",
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    file = models.FileField(_("文件"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=40)
    size = models.PositiveIntegerField(_("大小（字节）"))
    original_name = models.CharField(_("原文件名"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("上传时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("建议附件")
        verbose_name_plural = pgettext_lazy("plural", "建议附件")
        ordering = ("proposal", "created_at", "pk")
        constraints = [
            models.CheckConstraint(
                condition=Q(
                    content_type__in=["image/jpeg", "image/png", "image/webp", "application/pdf"]
                ),
                name="proposals_attachment_type_allowed",
            ),
        ]

    def __str__(self) -> str:
        return self.original_name or self.file.name


class Support(models.Model):
    """One person's support: one row per person and proposal (the database says so)."""

    # Each foreign key leads one of the two indexes below: no index of its own (every
    # support would maintain five where three serve).
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="supports",
        db_index=False,
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proposal_supports",
        db_index=False,
        verbose_name=_("支持人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("支持")
        verbose_name_plural = pgettext_lazy("plural", "支持")
        constraints = [
            models.UniqueConstraint(fields=("proposal", "user"), name="proposals_support_once")
        ]
        # (proposal, user) is the constraint's index; "supported by me" reads by user.
        indexes = [models.Index(fields=("user", "proposal"), name="proposals_support_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} → {self.proposal_id}"


class Follow(models.Model):
    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="follows",
        db_index=False,  # proposals_follow_once leads with it
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="proposal_follows",
        db_index=False,  # proposals_follow_user_idx leads with it
        verbose_name=_("关注人"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("关注")
        verbose_name_plural = pgettext_lazy("plural", "关注")
        constraints = [
            models.UniqueConstraint(fields=("proposal", "user"), name="proposals_follow_once")
        ]
        indexes = [models.Index(fields=("user", "proposal"), name="proposals_follow_user_idx")]

    def __str__(self) -> str:
        return f"{self.user_id} ↔ {self.proposal_id}"


class Comment(TimeStampedModel):
    """Plain text, one level of replies. A moderator hides a comment with a reason; it stays
    in the thread, shown as hidden, and is never deleted."""

    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="comments",
        db_index=False,  # proposals_comment_idx leads with it
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    parent = models.ForeignKey(
        "self",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="replies",
        verbose_name=_("回复的评论"),
    )
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="proposal_comments",
        verbose_name=_("评论人"),
    )
    body = models.TextField(_("内容"), max_length=MAX_COMMENT)
    upvotes = models.PositiveIntegerField(_("赞同"), default=0, editable=False)
    downvotes = models.PositiveIntegerField(_("反对"), default=0, editable=False)
    flags_count = models.PositiveIntegerField(_("举报数"), default=0, editable=False)
    is_hidden = models.BooleanField(_("已隐藏"), default=False)
    hidden_reason = models.CharField(_("隐藏原因"), max_length=200, blank=True)
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("隐藏人"),
    )
    hidden_at = models.DateTimeField(_("隐藏时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("建议评论")
        verbose_name_plural = pgettext_lazy("plural", "建议评论")
        ordering = ("proposal", "created_at", "pk")
        indexes = [
            models.Index(fields=("proposal", "created_at"), name="proposals_comment_idx"),
            models.Index(
                fields=("-flags_count", "-created_at"),
                condition=Q(flags_count__gt=0, is_hidden=False),
                name="proposals_comment_flagged_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")), name="proposals_comment_not_own_parent"
            ),
        ]

    def __str__(self) -> str:
        return self.body[:40]


class CommentVote(models.Model):
    class Value(models.IntegerChoices):
        UP = 1, _("赞同")
        DOWN = -1, _("反对")

    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        related_name="votes",
        db_index=False,  # proposals_vote_once leads with it
        verbose_name=_("评论"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("人")
    )
    value = models.SmallIntegerField(_("票"), choices=Value.choices)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("评论投票")
        verbose_name_plural = pgettext_lazy("plural", "评论投票")
        constraints = [
            models.UniqueConstraint(fields=("comment", "user"), name="proposals_vote_once"),
            models.CheckConstraint(condition=Q(value__in=(1, -1)), name="proposals_vote_value"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.value:+d} → {self.comment_id}"


class CommentFlag(models.Model):
    comment = models.ForeignKey(
        Comment,
        on_delete=models.CASCADE,
        related_name="flags",
        db_index=False,  # proposals_flag_once leads with it
        verbose_name=_("评论"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("人")
    )
    reason = models.CharField(_("举报原因"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("评论举报")
        verbose_name_plural = pgettext_lazy("plural", "评论举报")
        constraints = [
            models.UniqueConstraint(fields=("comment", "user"), name="proposals_flag_once"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} ⚑ {self.comment_id}"


class Answer(TimeStampedModel):
    """An official answer of the responsible department: drafted, then published. A proposal
    may be answered more than once (evaluating first, then accepted or rejected); the latest
    published answer is its verdict, and the earlier ones stay on its timeline."""

    class State(models.TextChoices):
        EVALUATING = "evaluating", _("评估中")
        ACCEPTED = "accepted", _("采纳")
        REJECTED = "rejected", _("不采纳")

    proposal = models.ForeignKey(
        Proposal,
        on_delete=models.CASCADE,
        related_name="answers",
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    state = models.CharField(_("答复结论"), max_length=16, choices=State.choices)
    text = models.TextField(_("答复内容"), max_length=MAX_ANSWER)
    text_html = models.TextField(blank=True, editable=False)
    # The execution plan of an accepted proposal.
    cost = models.DecimalField(
        _("预计费用（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    starts_on = models.DateField(_("计划开始"), null=True, blank=True)
    ends_on = models.DateField(_("计划完成"), null=True, blank=True)
    organisation = models.ForeignKey(
        Organisation, on_delete=models.PROTECT, related_name="+", verbose_name=_("答复单位")
    )
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        related_name="+",
        verbose_name=_("起草人"),
    )
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("发布人"),
    )
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("正式答复")
        verbose_name_plural = pgettext_lazy("plural", "正式答复")
        ordering = ("proposal", "created_at", "pk")
        indexes = [
            models.Index(
                fields=("proposal", "-published_at"),
                condition=Q(published_at__isnull=False),
                name="proposals_answer_published_idx",
            )
        ]
        constraints = [
            # One draft at a time per proposal.
            models.UniqueConstraint(
                fields=("proposal",),
                condition=Q(published_at__isnull=True),
                name="proposals_one_draft_answer",
            ),
            models.CheckConstraint(
                condition=~Q(state="accepted") | Q(starts_on__isnull=False, ends_on__isnull=False),
                name="proposals_accepted_has_plan",
            ),
            models.CheckConstraint(
                condition=Q(starts_on__isnull=True)
                | Q(ends_on__isnull=True)
                | Q(ends_on__gte=F("starts_on")),
                name="proposals_plan_ends_after_start",
            ),
            models.CheckConstraint(
                condition=Q(cost__isnull=True) | Q(cost__gte=0), name="proposals_cost_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.get_state_display()}"


class Result(TimeStampedModel):
    """The implementation of an accepted proposal (Decidim's accountability): its progress is
    the share of its milestones and spawned cases that are done."""

    class State(models.TextChoices):
        NOT_STARTED = "not_started", _("未开始")
        IN_PROGRESS = "in_progress", _("实施中")
        DONE = "done", _("已完成")

    proposal = models.OneToOneField(
        Proposal,
        on_delete=models.CASCADE,
        related_name="result",
        verbose_name=pgettext_lazy("proposal", "建议"),
    )
    state = models.CharField(
        _("实施状态"), max_length=16, choices=State.choices, default=State.NOT_STARTED
    )
    progress = models.PositiveSmallIntegerField(
        _("进度（%）"), default=0, validators=[MaxValueValidator(100)]
    )
    starts_on = models.DateField(_("计划开始"))
    ends_on = models.DateField(_("计划完成"))
    cost = models.DecimalField(
        _("预计费用（元）"), max_digits=12, decimal_places=2, null=True, blank=True
    )
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("落实情况")
        verbose_name_plural = pgettext_lazy("plural", "落实情况")
        constraints = [
            models.CheckConstraint(
                condition=Q(progress__lte=100), name="proposals_progress_at_most_100"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.proposal_id}: {self.progress}%"


class Milestone(TimeStampedModel):
    class State(models.TextChoices):
        PLANNED = "planned", _("计划中")
        IN_PROGRESS = "in_progress", _("进行中")
        DONE = "done", _("已完成")

    result = models.ForeignKey(
        Result,
        on_delete=models.CASCADE,
        related_name="milestones",
        db_index=False,  # proposals_milestone_idx leads with it
        verbose_name=_("落实情况"),
    )
    title = models.CharField(_("里程碑"), max_length=150)
    description = models.TextField(_("说明"), max_length=2_000, blank=True)
    due_on = models.DateField(_("计划日期"))
    state = models.CharField(_("状态"), max_length=16, choices=State.choices, default=State.PLANNED)
    completed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("里程碑")
        verbose_name_plural = pgettext_lazy("plural", "里程碑")
        ordering = ("result", "due_on", "pk")
        indexes = [models.Index(fields=("result", "due_on"), name="proposals_milestone_idx")]
        constraints = [
            models.CheckConstraint(
                condition=~Q(state="done") | Q(completed_at__isnull=False),
                name="proposals_done_milestone_has_time",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class ResultCase(models.Model):
    """A case opened for a concrete task of the implementation; its resolution counts."""

    result = models.ForeignKey(
        Result,
        on_delete=models.CASCADE,
        related_name="task_cases",
        db_index=False,  # proposals_task_idx leads with it
        verbose_name=_("落实情况"),
    )
    case = models.OneToOneField(
        "cases.Case",
        on_delete=models.PROTECT,
        related_name="proposal_task",
        verbose_name=_("事项"),
    )
    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("落实事项")
        verbose_name_plural = pgettext_lazy("plural", "落实事项")
        indexes = [models.Index(fields=("result", "created_at"), name="proposals_task_idx")]

    def __str__(self) -> str:
        return f"{self.result_id} → {self.case_id}"
