"""The core's own text sources: the cases people report and the proposals they publish.

Wings register theirs (feedback registers ratings' comments, suggestions and complaints, with
their reasons) in their own ``AppConfig.ready``.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from governance.radar.registry import Item, TextSource, register_text_source


def _visible_cases(actor, ids: Iterable[int]) -> list[Item]:
    from governance.cases.queries import cases_visible_to

    rows = (
        cases_visible_to(actor)
        .filter(pk__in=list(ids))
        .select_related(None)
        .only("pk", "reference", "title", "created_at")
        .order_by("-created_at")
    )
    return [
        Item(
            source="cases",
            object_id=case.pk,
            title=f"{case.reference} {case.title}",
            url=reverse("cases:detail", args=[case.reference]),
            created_at=case.created_at,
        )
        for case in rows
    ]


def _visible_proposals(actor, ids: Iterable[int]) -> list[Item]:
    from governance.proposals.queries import visible_to

    rows = (
        visible_to(actor)
        .filter(pk__in=list(ids))
        .only("pk", "title", "published_at")
        .order_by("-published_at")
    )
    return [
        Item(
            source="proposals",
            object_id=proposal.pk,
            title=proposal.title,
            url=reverse("proposals:detail", args=[proposal.pk]),
            created_at=proposal.published_at,
        )
        for proposal in rows
    ]


def register_core_sources() -> None:
    register_text_source(
        TextSource(
            code="cases",
            label=_("事项"),
            model="cases.Case",
            fields=("title", "description"),
            created="created_at",
            station="station_id",
            # A case opened from a bad rating repeats the rating's words, which the feedback
            # wing already gives the radar: counted once, as feedback.
            eligible=~Q(source="feedback"),
            visible=_visible_cases,
        )
    )
    register_text_source(
        TextSource(
            code="proposals",
            label=_("共治建议"),
            model="proposals.Proposal",
            fields=("title", "body"),
            created="published_at",
            station="station_id",
            # Published ones only: a draft is its author's alone.
            eligible=~Q(status="draft") & Q(published_at__isnull=False),
            visible=_visible_proposals,
        )
    )
