"""Filters and sorts of the proposal list, for the page and the API alike. Each one narrows
``queries.listing`` (what the reader may see) and nothing else.

Every filter rides an index of ``Proposal.Meta.indexes``: status, category, scope, station,
service (each with the publication time), the author (``mine``), ``Support``'s (user,
proposal) index (``supported``), the answered-time index, and the search's GIN index; every
sort has its partial index among published proposals.
"""

from __future__ import annotations

import django_filters
from django.db.models import Exists, OuterRef
from django.utils.translation import gettext_lazy as _

from governance.proposals import search
from governance.proposals.models import Category, Proposal, Scope, Status, Support
from governance.stations.models import Service, Station

YES_NO = [("true", _("是")), ("false", _("否"))]
SORTS = [
    ("newest", _("最新发布")),
    ("supported", _("支持最多")),
    ("commented", _("评论最多")),
    ("answered", _("最近答复")),
]
ORDER_BY = {
    "newest": ("-published_at", "-id"),
    "supported": ("-supports_count", "-id"),
    "commented": ("-comments_count", "-id"),
    "answered": ("-answered_at", "-id"),
}


def _truthy(value) -> bool | None:
    return {"true": True, "false": False}.get(value)


class ProposalFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_search",
        max_length=100,
        label=_("搜索"),
        help_text=_("在标题和正文中搜索（中文按词组匹配）。"),
    )
    category = django_filters.ModelChoiceFilter(
        queryset=Category.objects.filter(is_active=True),
        to_field_name="slug",
        label=_("类别"),
    )
    scope = django_filters.ChoiceFilter(choices=Scope.choices, label=_("范围"))
    status = django_filters.ChoiceFilter(
        choices=[(value, label) for value, label in Status.choices], label=_("状态")
    )
    station = django_filters.ModelChoiceFilter(
        queryset=Station.objects.all(), to_field_name="slug", label=_("站点")
    )
    service = django_filters.ModelChoiceFilter(
        queryset=Service.objects.all(), to_field_name="service_code", label=_("服务事项")
    )
    answered = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=_truthy, method="filter_answered", label=_("已答复")
    )
    mine = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=_truthy, method="filter_mine", label=_("我提出的")
    )
    supported = django_filters.TypedChoiceFilter(
        choices=YES_NO, coerce=_truthy, method="filter_supported", label=_("我支持的")
    )
    sort = django_filters.ChoiceFilter(
        choices=SORTS, method="filter_sort", empty_label=None, label=_("排序")
    )

    class Meta:
        model = Proposal
        fields = ["q", "category", "scope", "status", "station", "service"]

    def _user(self):
        user = getattr(self.request, "user", None)
        return user if user is not None and user.is_authenticated else None

    def filter_search(self, queryset, name, value):
        return search.matching(queryset, value)

    def filter_answered(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        return queryset.filter(answered_at__isnull=not value)

    def filter_mine(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        user = self._user()
        if user is None:
            return queryset.none() if value else queryset
        return queryset.filter(author=user) if value else queryset.exclude(author=user)

    def filter_supported(self, queryset, name, value: bool | None):
        if value is None:
            return queryset
        user = self._user()
        if user is None:
            return queryset.none() if value else queryset
        mine = Exists(Support.objects.filter(proposal=OuterRef("pk"), user=user))
        return queryset.filter(mine) if value else queryset.exclude(mine)

    def filter_sort(self, queryset, name, value):
        return queryset  # applied in ``qs`` so that it is also the default

    @property
    def qs(self):
        queryset = super().qs
        cleaned = self.form.cleaned_data if self.form.is_valid() else {}
        sort = cleaned.get("sort")
        order = ORDER_BY.get(sort or "newest")
        if sort == "answered":
            queryset = queryset.filter(answered_at__isnull=False)
        if cleaned.get("mine") is not True:
            # The list is of published proposals; the reader's own drafts show under "mine"
            # only. Said outright, the condition also lets the partial indexes serve the list
            # for signed-in readers, whose visible rows include their drafts.
            queryset = queryset.exclude(status=Status.DRAFT)
        # Drafts (the reader's own, when ``mine``) have no publication time: newest first.
        return queryset.order_by(*order, "-created_at")
