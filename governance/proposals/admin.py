"""The proposals admin, the departments' desk for the proposals they answer.

The people of the organisation that answers a proposal, and of the one that made it, read the
proposal and what hangs on it (its versions, attachments, answers, comments and their flags,
its implementation); the triage desk and superusers read every published proposal. A draft is
its author's alone, here too. An unpublished answer is read only by its department. Nobody
edits these records here, superusers included: every change goes through ``services.py``,
which keeps the versions, the counters and the events true. Hiding comments is an action that
calls ``comment_hide`` for each comment, with the reason the moderator gives; "view on site"
opens the proposal's page, where answers and milestones are written. Categories are the
platform's, kept by superusers.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q, QuerySet
from django.http import HttpResponse
from django.template import engines
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.core.admin import CappedCountPaginator, ReadOnlyAdminMixin
from governance.proposals import search, services
from governance.proposals.models import (
    Answer,
    Attachment,
    Category,
    Comment,
    CommentFlag,
    Milestone,
    Proposal,
    ProposalVersion,
    Result,
    ResultCase,
    Status,
)
from governance.proposals.rules import acts_for_triage
from governance.proposals.serializers import public_name
from governance.stakeholders.rules import organisation_ids


def _person(user) -> str:
    """A citizen as the public pages show them (display name, never the e-mail address): the
    people of a proposal's organisations read these records, viewers included."""
    return public_name(user) if user is not None else "—"


class PeopleByPublicName:
    """Display methods for the people on a proposal's records."""

    @admin.display(description=_("提议人"))
    def author_name(self, obj) -> str:
        return _person(obj.author)

    @admin.display(description=_("修改人"))
    def editor_name(self, obj) -> str:
        return _person(obj.edited_by)

    @admin.display(description=_("举报人"))
    def user_name(self, obj) -> str:
        return _person(obj.user)


def _everything(user) -> bool:
    return bool(user.is_active and user.is_superuser)


def proposals_for_admin(user, queryset: QuerySet, path: str = "") -> QuerySet:
    """Rows of the proposals ``user`` reads in the admin (``rules.ADMIN_READERS``), reached
    from ``queryset`` by ``path`` ("" for proposals themselves)."""
    prefix = f"{path}__" if path else ""
    published = ~Q(**{f"{prefix}status": Status.DRAFT})
    if _everything(user) or acts_for_triage(user):
        return queryset.filter(published)
    mine = organisation_ids(user)
    concerned = Q(**{f"{prefix}responsible_id__in": mine}) | Q(
        **{f"{prefix}on_behalf_of_id__in": mine}
    )
    return queryset.filter(published & concerned)


def answers_for_admin(user, queryset: QuerySet, path: str = "proposal") -> QuerySet:
    """Answers of those proposals, an unpublished one only for its own department."""
    queryset = proposals_for_admin(user, queryset, path)
    if _everything(user):
        return queryset
    return queryset.filter(
        Q(published_at__isnull=False) | Q(organisation_id__in=organisation_ids(user))
    )


class _ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_view_permission(self, request, obj=None):
        codename = f"proposals.view_{self.opts.model_name}"
        return request.user.has_perm(codename, obj)


class VersionInline(PeopleByPublicName, _ReadOnlyInline):
    model = ProposalVersion
    fields = ("number", "created_at", "editor_name", "title", "body")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("edited_by")


class AttachmentInline(_ReadOnlyInline):
    model = Attachment
    fields = ("created_at", "original_name", "content_type", "size")
    readonly_fields = fields


class AnswerInline(_ReadOnlyInline):
    model = Answer
    fields = ("state", "published_at", "organisation", "drafted_by", "published_by", "text")
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = (
            super()
            .get_queryset(request)
            .select_related("organisation", "drafted_by", "published_by")
        )
        return answers_for_admin(request.user, queryset)


class AnswerDueFilter(admin.SimpleListFilter):
    """Proposals past their support threshold that still await an official answer
    (``proposals_awaiting_answer_idx``)."""

    title = _("正式答复")
    parameter_name = "answer_due"

    def lookups(self, request, model_admin):
        return [("awaiting", _("待答复（已达支持门槛）")), ("overdue", _("已逾期未答复"))]

    def queryset(self, request, queryset):
        value = self.value()
        if value not in ("awaiting", "overdue"):
            return queryset
        queryset = queryset.filter(answer_due_at__isnull=False, answered_at__isnull=True)
        if value == "overdue":
            queryset = queryset.filter(answer_due_at__lt=timezone.now())
        return queryset


@admin.register(Proposal)
class ProposalAdmin(PeopleByPublicName, ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    list_display = (
        "id",
        "title",
        "status",
        "category",
        "scope",
        "responsible",
        "on_behalf_of",
        "supports_count",
        "comments_count",
        "published_at",
        "answer_due_at",
    )
    # Each filter rides an index: status, category and scope with the publication time, the
    # awaiting-answer index; the search box uses the full-text index (see get_search_results).
    list_filter = ("status", "category", "scope", AnswerDueFilter)
    search_fields = ("title",)
    search_help_text = _("按编号，或标题和正文中的词语搜索（中文按词组匹配）。")
    date_hierarchy = "published_at"
    list_select_related = ("category", "responsible", "on_behalf_of")
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    inlines = (VersionInline, AttachmentInline, AnswerInline)
    fieldsets = (
        (None, {"fields": ("title", "status", "category", "scope", "station", "service")}),
        (_("提议人"), {"fields": ("author_name", "on_behalf_of")}),
        (_("正文"), {"fields": ("body", "version")}),
        (
            _("支持与答复"),
            {
                "fields": (
                    "responsible",
                    "supports_count",
                    "comments_count",
                    "threshold_reached_at",
                    "answer_due_at",
                    "answered_at",
                )
            },
        ),
        (
            _("时间"),
            {
                "fields": (
                    "created_at",
                    "published_at",
                    "edit_until",
                    "implemented_at",
                    "withdrawn_at",
                )
            },
        ),
    )
    readonly_fields = tuple(field for _name, options in fieldsets for field in options["fields"])

    def get_queryset(self, request):
        # Naming select_related here turns off list_select_related: name both.
        queryset = super().get_queryset(request)
        queryset = queryset.select_related(
            *self.list_select_related, "author", "station", "service"
        )
        return proposals_for_admin(request.user, queryset)

    def get_search_results(self, request, queryset, search_term):
        """An id, or the words of the title and body through the search index (Chinese as
        bigrams); a term with no words (punctuation only) filters nothing."""
        term = search_term.strip()
        if not term:
            return queryset, False
        if term.isdigit():
            return queryset.filter(pk=int(term)), False
        return search.matching(queryset, term), False

    def view_on_site(self, obj):
        return reverse("proposals:detail", args=[obj.pk])


# Comments ----------------------------------------------------------------------------------------
class FlagInline(PeopleByPublicName, _ReadOnlyInline):
    model = CommentFlag
    fields = ("created_at", "user_name", "reason")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("user")


class FlaggedFilter(admin.SimpleListFilter):
    """Flagged comments nobody has hidden yet (``proposals_comment_flagged_idx``)."""

    title = _("举报")
    parameter_name = "flagged"

    def lookups(self, request, model_admin):
        return [("yes", _("有举报、未隐藏"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(flags_count__gt=0, is_hidden=False)
        return queryset


class HideForm(forms.Form):
    reason = forms.CharField(
        label=_("隐藏原因"),
        max_length=200,
        help_text=_("评论仍留在讨论中，显示为已隐藏，并注明这个原因。"),
    )


HIDE_PAGE = """{% extends "admin/base_site.html" %}
{% block content %}<div id="content-main">
<form method="post">{% csrf_token %}
<p>{{ intro }}</p>
<ul>{% for comment in comments %}
<li>#{{ comment.pk }} {{ comment.proposal.title }}：{{ comment.body|truncatechars:80 }}</li>
{% endfor %}</ul>
{{ form.as_p }}
{% for comment in comments %}
<input type="hidden" name="_selected_action" value="{{ comment.pk }}">
{% endfor %}
<input type="hidden" name="action" value="hide_selected">
<input type="hidden" name="confirm" value="yes">
<input type="submit" value="{{ submit }}">
</form></div>{% endblock %}"""


@admin.register(Comment)
class CommentAdmin(PeopleByPublicName, ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    list_display = (
        "id",
        "proposal",
        "author_name",
        "excerpt",
        "upvotes",
        "downvotes",
        "flags_count",
        "is_hidden",
        "created_at",
    )
    list_filter = (FlaggedFilter, "is_hidden")
    search_fields = ("=id", "=proposal__id")
    search_help_text = _("按评论编号或建议编号搜索。")
    list_select_related = ("proposal", "author")
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    inlines = (FlagInline,)
    actions = ("hide_selected",)
    fields = (
        "proposal",
        "parent",
        "author_name",
        "body",
        "created_at",
        "upvotes",
        "downvotes",
        "flags_count",
        "is_hidden",
        "hidden_reason",
        "hidden_by",
        "hidden_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        queryset = queryset.select_related(*self.list_select_related, "parent", "hidden_by")
        return proposals_for_admin(request.user, queryset, "proposal")

    @admin.display(description=_("内容"))
    def excerpt(self, comment):
        return comment.body[:40]

    def has_moderate_permission(self, request):
        return request.user.has_perm("proposals.moderate_proposal")

    def view_on_site(self, obj):
        return reverse("proposals:detail", args=[obj.proposal_id])

    @admin.action(description=_("隐藏所选评论（须说明原因）"), permissions=["moderate"])
    def hide_selected(self, request, queryset):
        """Ask for the reason, then hide each comment through the service, which checks the
        moderator's seat comment by comment."""
        form = HideForm(request.POST if request.POST.get("confirm") else None)
        comments = list(queryset.select_related("proposal").order_by("pk"))
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("隐藏评论"),
                "intro": _("将隐藏以下 %(count)d 条评论：") % {"count": len(comments)},
                "comments": comments,
                "form": form,
                "submit": _("隐藏"),
            }
            page = engines["django"].from_string(HIDE_PAGE).render(context, request)
            return HttpResponse(page)
        done, refused = 0, []
        for comment in comments:
            try:
                services.comment_hide(
                    actor=request.user, comment=comment, reason=form.cleaned_data["reason"]
                )
            except ValidationError as error:
                refused.append(f"#{comment.pk}：{'；'.join(error.messages)}")
            except PermissionDenied as error:
                refused.append(f"#{comment.pk}：{error}")
            else:
                done += 1
        if done:
            self.message_user(
                request, _("已隐藏 %(count)d 条评论。") % {"count": done}, messages.SUCCESS
            )
        if refused:
            self.message_user(
                request,
                _("以下评论未隐藏：%(list)s") % {"list": "　".join(refused)},
                messages.WARNING,
            )
        return None


# Answers and the implementation ------------------------------------------------------------------
@admin.register(Answer)
class AnswerAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """Answers are drafted and published on the proposal's answer page (``answer_draft``,
    ``answer_publish``)."""

    list_display = (
        "proposal",
        "state",
        "organisation",
        "published_at",
        "starts_on",
        "ends_on",
        "cost",
    )
    list_filter = ("state", ("published_at", admin.EmptyFieldListFilter))
    search_fields = ("=proposal__id",)
    search_help_text = _("按建议编号搜索。")
    list_select_related = ("proposal", "organisation")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "proposal",
        "organisation",
        "state",
        "text",
        "cost",
        "starts_on",
        "ends_on",
        "drafted_by",
        "created_at",
        "published_by",
        "published_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        queryset = queryset.select_related(*self.list_select_related, "drafted_by", "published_by")
        return answers_for_admin(request.user, queryset)


class MilestoneInline(_ReadOnlyInline):
    model = Milestone
    fields = ("title", "due_on", "state", "completed_at", "description")
    readonly_fields = fields


class TaskCaseInline(_ReadOnlyInline):
    model = ResultCase
    fields = ("case", "case_status", "created_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("case")

    @admin.display(description=_("事项状态"))
    def case_status(self, link):
        return link.case.get_status_display()


@admin.register(Result)
class ResultAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """The implementation of accepted proposals; milestones are kept and task cases opened on
    the proposal's implementation page."""

    list_display = ("proposal", "state", "progress", "starts_on", "ends_on", "completed_at")
    list_filter = ("state",)
    search_fields = ("=proposal__id",)
    search_help_text = _("按建议编号搜索。")
    list_select_related = ("proposal",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    inlines = (MilestoneInline, TaskCaseInline)
    fields = ("proposal", "state", "progress", "starts_on", "ends_on", "cost", "completed_at")
    readonly_fields = fields

    def get_queryset(self, request):
        return proposals_for_admin(request.user, super().get_queryset(request), "proposal")

    def view_on_site(self, obj):
        return reverse("proposals:detail", args=[obj.proposal_id])


# The platform's settings -------------------------------------------------------------------------
@admin.register(Category)
class CategoryAdmin(ObjectPermissionsModelAdmin):
    list_display = ("name_zh", "name_en", "slug", "order", "is_active")
    list_filter = ("is_active",)
    search_fields = ("name_zh", "name_en", "slug")
    prepopulated_fields = {"slug": ("name_en",)}
    ordering = ("order", "slug")
