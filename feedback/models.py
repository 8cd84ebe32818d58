"""The public's feedback: visit ratings (好差评, five levels), online ratings of a service or a
station, suggestions, complaints and praise; the appeals staff file against a rating; and each
organisation's own deadlines for the bad-rating loop.

One table holds every kind, so the inbox, the moderation and the figures read one place:

- a **visit rating** (一次一评) comes from the signed link on the counter's QR code, one per
  ``Visit`` (a unique constraint, not a check in code);
- an **online rating** (一事一评) rates a service or a station without a visit;
- **suggestions, complaints and praise** carry a text and, optionally, a photo.

A rating at 不满意 or 非常不满意 opens a rectification case for the organisation that handled it
(谁办理、谁负责); the rater may re-rate the rectification once, stored beside the original,
which is never changed. An upheld appeal excludes a rating from the figures and never deletes
it. Hiding abusive text keeps the rating in the figures.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.cases.models import Case
from governance.core.models import TimeStampedModel
from governance.stakeholders.models import Organisation
from governance.stations.models import Service, Station, Visit

MAX_COMMENT = 1000
MAX_TEXT = 2000


class Level(models.IntegerChoices):
    VERY_DISSATISFIED = 1, pgettext_lazy("rating", "非常不满意")
    DISSATISFIED = 2, pgettext_lazy("rating", "不满意")
    FAIRLY_SATISFIED = 3, pgettext_lazy("rating", "基本满意")
    SATISFIED = 4, pgettext_lazy("rating", "满意")
    VERY_SATISFIED = 5, pgettext_lazy("rating", "非常满意")


LEVELS = frozenset(Level.values)  # ``Level.values`` builds its list again at each call
GOOD_LEVELS = frozenset({Level.SATISFIED, Level.VERY_SATISFIED})
BAD_LEVELS = frozenset({Level.VERY_DISSATISFIED, Level.DISSATISFIED})


class Kind(models.TextChoices):
    VISIT_RATING = "visit_rating", _("办件评价")
    ONLINE_RATING = "online_rating", _("在线评价")
    SUGGESTION = "suggestion", _("建议")
    COMPLAINT = "complaint", _("投诉")
    PRAISE = "praise", _("表扬")


RATING_KINDS = frozenset({Kind.VISIT_RATING, Kind.ONLINE_RATING})


class Channel(models.TextChoices):
    QR = "qr", _("扫码")
    WEB = "web", _("网页")
    API = "api", _("接口")


class FeedbackPolicy(TimeStampedModel):
    """An organisation's deadlines for the bad-rating loop, in Chinese working days."""

    organisation = models.OneToOneField(
        Organisation,
        on_delete=models.CASCADE,
        related_name="feedback_policy",
        verbose_name=_("组织"),
    )
    return_visit_days = models.PositiveSmallIntegerField(
        _("回访时限（工作日）"), default=1, help_text=_("差评后多少个工作日内回访评价人。")
    )
    rectify_days = models.PositiveSmallIntegerField(
        _("整改时限（工作日）"), default=15, help_text=_("差评后多少个工作日内完成整改。")
    )

    class Meta:
        verbose_name = _("评价处理时限")
        verbose_name_plural = pgettext_lazy("plural", "评价处理时限")
        constraints = [
            models.CheckConstraint(
                condition=Q(return_visit_days__gte=1, rectify_days__gte=1),
                name="feedback_policy_positive_days",
            )
        ]

    def __str__(self) -> str:
        return str(self.organisation)


class Feedback(models.Model):
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    level = models.PositiveSmallIntegerField(
        _("评价等级"), choices=Level.choices, null=True, blank=True
    )
    # Codes from ``feedback.reasons``; a list, written with the row in one insert.
    reasons = models.JSONField(_("原因"), default=list, blank=True)
    text = models.TextField(_("内容"), max_length=MAX_TEXT, blank=True)
    visit = models.OneToOneField(
        Visit,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="rating",
        verbose_name=_("办件"),
    )
    station = models.ForeignKey(
        Station,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        db_index=False,
        verbose_name=_("站点"),
    )
    service = models.ForeignKey(
        Service,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        db_index=False,
        verbose_name=_("服务事项"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        db_index=False,
        verbose_name=_("负责单位"),
        help_text=_("办理该事项的单位（谁办理、谁负责）。"),
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="feedback",
        db_index=False,
        verbose_name=_("提交人"),
    )
    contact_name = models.CharField(_("联系人"), max_length=80, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    channel = models.CharField(_("渠道"), max_length=8, choices=Channel.choices)
    # A double tap sends the same key twice: the second finds the first row.
    idempotency_key = models.UUIDField(_("幂等键"), null=True, blank=True, editable=False)
    device = models.CharField(_("设备标识"), max_length=64, blank=True, editable=False)
    photo = models.FileField(_("照片"), max_length=200, blank=True, default="", db_default="")
    photo_type = models.CharField(
        _("照片类型"), max_length=40, blank=True, default="", db_default=""
    )

    # The bad-rating loop.
    case = models.ForeignKey(
        Case,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="feedback",
        db_index=False,  # feedback_case_idx, where set
        verbose_name=_("整改事项"),
    )
    return_visit_due_at = models.DateTimeField(_("应回访时间"), null=True, blank=True)
    rectified_at = models.DateTimeField(_("整改完成时间"), null=True, blank=True)
    rater_told_at = models.DateTimeField(_("告知评价人时间"), null=True, blank=True)
    rerating_level = models.PositiveSmallIntegerField(
        _("整改后评价"), choices=Level.choices, null=True, blank=True
    )
    rerating_comment = models.TextField(
        _("整改后评价说明"), max_length=MAX_COMMENT, blank=True, default="", db_default=""
    )
    rerated_at = models.DateTimeField(_("整改后评价时间"), null=True, blank=True)

    # Staff.
    reply = models.TextField(
        _("公开答复"), max_length=MAX_TEXT, blank=True, default="", db_default=""
    )
    replied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("答复人"),
    )
    replied_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    is_hidden = models.BooleanField(_("内容已隐藏"), default=False, db_default=False)
    hidden_reason = models.CharField(
        _("隐藏原因"), max_length=200, blank=True, default="", db_default=""
    )
    hidden_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
        verbose_name=_("隐藏人"),
    )
    excluded = models.BooleanField(
        _("不计入统计"),
        default=False,
        db_default=False,
        help_text=_("申诉成立的评价保留记录，但不计入指标。"),
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now)

    class Meta:
        verbose_name = _("评价与反馈")
        verbose_name_plural = pgettext_lazy("plural", "评价与反馈")
        ordering = ("-created_at",)
        # The busiest insert of the site (a rating per visit): every index here serves a filter
        # or a sweep; the foreign keys a composite index leads with have none of their own.
        indexes = [
            models.Index(fields=("-created_at",), name="feedback_created_idx"),
            models.Index(fields=("organisation", "-created_at"), name="feedback_org_idx"),
            models.Index(fields=("station", "-created_at"), name="feedback_station_idx"),
            models.Index(fields=("service", "-created_at"), name="feedback_service_idx"),
            # Kind and level are indexed for their selective values only: the kinds other than
            # the visit rating, and the levels staff look into (基本满意 and below; "level=bad"
            # of the inbox and the radar). The common values (most rows: a QR rating at 4 or 5)
            # are found by walking created_at, and the busiest insert pays two index insertions
            # fewer.
            models.Index(
                fields=("kind", "-created_at"),
                condition=~Q(kind=Kind.VISIT_RATING),
                name="feedback_kind_idx",
            ),
            models.Index(
                fields=("level", "-created_at"),
                condition=Q(level__lte=3),
                name="feedback_level_idx",
            ),
            # Columns most rows leave empty (a QR rating has no account, no case, no
            # re-rating) are indexed only where set: every lookup on them names a value, and a
            # rating then pays three index insertions fewer.
            models.Index(
                fields=("user", "-created_at"),
                condition=Q(user__isnull=False),
                name="feedback_user_idx",
            ),
            models.Index(
                fields=("rerated_at",),
                condition=Q(rerated_at__isnull=False),
                name="feedback_rerated_idx",
            ),
            models.Index(
                fields=("case",), condition=Q(case__isnull=False), name="feedback_case_idx"
            ),
            # The sweep's two questions: bad ratings still without a case, raters not told.
            models.Index(
                fields=("created_at",),
                condition=Q(case__isnull=True, level__lte=2, excluded=False),
                name="feedback_awaiting_case_idx",
            ),
            models.Index(
                fields=("rectified_at",),
                condition=Q(rectified_at__isnull=False, rater_told_at__isnull=True),
                name="feedback_untold_idx",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(level__isnull=True) | Q(level__gte=1, level__lte=5),
                name="feedback_level_range",
            ),
            models.CheckConstraint(
                condition=~Q(kind__in=[Kind.VISIT_RATING, Kind.ONLINE_RATING])
                | Q(level__isnull=False),
                name="feedback_rating_has_level",
            ),
            models.CheckConstraint(
                condition=~Q(kind=Kind.VISIT_RATING) | Q(visit__isnull=False),
                name="feedback_visit_rating_has_visit",
            ),
            models.CheckConstraint(
                condition=Q(rerating_level__isnull=True)
                | Q(rerating_level__gte=1, rerating_level__lte=5),
                name="feedback_rerating_range",
            ),
            models.UniqueConstraint(
                fields=("idempotency_key",),
                condition=Q(idempotency_key__isnull=False),
                name="feedback_idempotency_unique",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_level_display() if self.level else self.get_kind_display()
        return f"{self.get_kind_display()} #{self.pk} · {label}"

    @property
    def is_rating(self) -> bool:
        return self.kind in RATING_KINDS

    @property
    def is_bad(self) -> bool:
        return self.is_rating and self.level in BAD_LEVELS

    @property
    def may_rerate(self) -> bool:
        return self.rectified_at is not None and self.rerated_at is None


class Appeal(models.Model):
    """Staff contest a rating they consider malicious or mistaken (申诉); someone in a
    different role decides."""

    class Status(models.TextChoices):
        PENDING = "pending", pgettext_lazy("appeal", "待审核")
        UPHELD = "upheld", pgettext_lazy("appeal", "申诉成立")
        DISMISSED = "dismissed", pgettext_lazy("appeal", "申诉不成立")

    feedback = models.ForeignKey(
        Feedback, on_delete=models.PROTECT, related_name="appeals", verbose_name=_("评价")
    )
    filed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("申诉人"),
    )
    filed_role = models.CharField(_("申诉人角色"), max_length=16)
    reason = models.TextField(_("申诉理由"), max_length=MAX_TEXT)
    status = models.CharField(
        _("状态"), max_length=12, choices=Status.choices, default=Status.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("审核人"),
    )
    decision_note = models.TextField(_("审核意见"), max_length=MAX_TEXT, blank=True)
    created_at = models.DateTimeField(_("申诉时间"), default=timezone.now)
    decided_at = models.DateTimeField(_("审核时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("评价申诉")
        verbose_name_plural = pgettext_lazy("plural", "评价申诉")
        ordering = ("-created_at",)
        indexes = [models.Index(fields=("status", "created_at"), name="feedback_appeal_status_idx")]
        constraints = [
            models.UniqueConstraint(
                fields=("feedback",),
                condition=Q(status="pending"),
                name="feedback_one_pending_appeal",
            ),
            models.CheckConstraint(
                condition=Q(status="pending") | Q(decided_by__isnull=False),
                name="feedback_appeal_decided_by",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.feedback} · {self.get_status_display()}"
