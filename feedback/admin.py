"""The feedback admin: staff read the ratings, feedback and appeals of their organisations,
superusers all of them; nobody edits them here, since every change (a reply, hiding a text, an
appeal and its decision) goes through the services and their pages. The rater's contact details
and account are shown only to those who may see them (``feedback.view_feedback_contact``).
Each organisation's deadlines for the bad-rating loop are kept by superusers; members read their
own.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _
from rules.contrib.admin import ObjectPermissionsModelAdmin

from feedback import queries, services
from feedback.models import Appeal, Feedback, FeedbackPolicy
from governance.core.admin import CappedCountPaginator, ReadOnlyAdminMixin
from governance.stakeholders.rules import organisation_ids

# The rater's personal data: their contact details and their account.
PRIVATE_FIELDS = ("user", "contact_name", "contact_phone", "contact_email")


def _scoped(queryset: QuerySet, user, path: str) -> QuerySet:
    """Rows whose organisation (reached by ``path``) is one of the user's; all for superusers."""
    if user.is_active and user.is_superuser:
        return queryset
    return queryset.filter(**{f"{path}__in": organisation_ids(user)})


@admin.register(Feedback)
class FeedbackAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    list_display = (
        "id",
        "kind",
        "level",
        "organisation",
        "station",
        "service",
        "channel",
        "created_at",
        "case",
        "is_hidden",
        "excluded",
    )
    list_filter = ("kind", "level", "excluded", "is_hidden", "channel")
    # Exact ids (what the inbox and the case's description show); no full-text scan.
    search_fields = ("=id",)
    date_hierarchy = "created_at"
    list_select_related = ("organisation", "station", "service", "case")
    show_full_result_count = False
    list_per_page = 50
    paginator = CappedCountPaginator
    fieldsets = (
        (None, {"fields": ("kind", "level", "reasons", "text", "photo", "channel", "created_at")}),
        (
            _("办件与负责单位"),
            {"fields": ("visit", "station", "service", "organisation")},
        ),
        (_("评价人"), {"fields": PRIVATE_FIELDS}),
        (
            _("差评整改"),
            {
                "fields": (
                    "case",
                    "return_visit_due_at",
                    "rectified_at",
                    "rater_told_at",
                    "rerating_level",
                    "rerating_comment",
                    "rerated_at",
                )
            },
        ),
        (
            _("答复与审核"),
            {
                "fields": (
                    "reply",
                    "replied_by",
                    "replied_at",
                    "is_hidden",
                    "hidden_reason",
                    "hidden_by",
                    "excluded",
                )
            },
        ),
    )

    def get_queryset(self, request):
        return queries.feedback_inbox(request.user).select_related("visit", "user")

    def get_fieldsets(self, request, obj=None):
        if request.user.has_perm("feedback.view_feedback_contact", obj):
            return self.fieldsets
        return tuple(
            (name, options)
            for name, options in self.fieldsets
            if not set(options["fields"]) <= set(PRIVATE_FIELDS)
        )

    def get_readonly_fields(self, request, obj=None):
        return [
            field
            for _name, options in self.get_fieldsets(request, obj)
            for field in options["fields"]
        ]


@admin.register(Appeal)
class AppealAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """Appeals are filed and decided on the feedback pages (``appeal_file``, ``appeal_decide``)."""

    list_display = (
        "id",
        "feedback",
        "status",
        "filed_by",
        "filed_role",
        "created_at",
        "decided_by",
        "decided_at",
    )
    list_filter = ("status",)
    search_fields = ("=id", "=feedback__id")
    date_hierarchy = "created_at"
    list_select_related = ("feedback", "filed_by", "decided_by")
    show_full_result_count = False
    paginator = CappedCountPaginator
    fields = (
        "feedback",
        "status",
        "filed_by",
        "filed_role",
        "reason",
        "created_at",
        "decided_by",
        "decision_note",
        "decided_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("feedback")
        return _scoped(queryset, request.user, "feedback__organisation_id")


class FeedbackPolicyForm(forms.ModelForm):
    class Meta:
        model = FeedbackPolicy
        fields = ("organisation", "return_visit_days", "rectify_days")

    def clean(self):
        data = super().clean()
        return_visit, rectify = data.get("return_visit_days"), data.get("rectify_days")
        if return_visit and rectify and return_visit > rectify:
            raise ValidationError(_("回访时限不能长于整改时限。"), code="invalid")
        return data


@admin.register(FeedbackPolicy)
class FeedbackPolicyAdmin(admin.ModelAdmin):
    """Superusers set any organisation's deadlines (through ``policy_set``); members read their
    own organisation's."""

    form = FeedbackPolicyForm
    list_display = ("organisation", "return_visit_days", "rectify_days", "updated_at")
    list_select_related = ("organisation",)
    search_fields = ("organisation__name_zh", "organisation__slug")
    ordering = ("organisation__name_zh",)

    def get_queryset(self, request):
        return _scoped(super().get_queryset(request), request.user, "organisation_id")

    def get_readonly_fields(self, request, obj=None):
        return ("organisation",) if obj is not None else ()

    def has_module_permission(self, request):
        return request.user.has_perm("feedback")

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(
            "feedback.view_feedbackpolicy", obj.organisation if obj is not None else None
        )

    def has_add_permission(self, request):
        return request.user.has_perm("feedback.add_feedbackpolicy")

    def has_change_permission(self, request, obj=None):
        return request.user.has_perm("feedback.change_feedbackpolicy", obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.has_perm("feedback.delete_feedbackpolicy", obj)

    def save_model(self, request, obj, form, change):
        policy = services.policy_set(
            actor=request.user,
            organisation=obj.organisation,
            return_visit_days=obj.return_visit_days,
            rectify_days=obj.rectify_days,
        )
        obj.pk = policy.pk
