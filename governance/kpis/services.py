"""Rollups: daily measurements computed from source rows, only for the days that changed.

Source writes (a visit recorded, called, finished; a seed; an import) mark the days they touch
dirty with :func:`kpis_mark_dirty`. Celery beat runs :func:`kpis_rollup` every ten minutes: it
recomputes each dirty day of each metric in one transaction (delete the day's measurements,
insert the new ones, clear the marks), so its cost follows the changed days' rows, never the
history. :func:`kpis_backfill` recomputes a whole range. Pages and the API read measurements only
(:func:`measure`).
"""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from governance.kpis import registry
from governance.kpis.events import FigureReviewed, FigureSubmitted, TargetSet
from governance.kpis.models import (
    DirtyDay,
    Indicator,
    Measurement,
    ReportedFigure,
    ScopedModel,
    Target,
)
from governance.kpis.registry import Metric, Scope
from governance.kpis.rules import acts_for, owner_ids, reviewing_owner_ids
from governance.notifications.services import publish
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import ACTING_ROLES

BACKFILL_MAX_YEARS = 3
# Days computed per query in a backfill: one query per metric per chunk.
BACKFILL_CHUNK_DAYS = 31


class BackfillRangeError(ValueError):
    pass


def kpis_mark_dirty(*, metric_codes: Iterable[str] | None = None, days: Iterable[dt.date]) -> int:
    """Mark ``days`` of the metrics (every registered one by default) for recomputation."""
    codes = (
        [metric.code for metric in registry.all_metrics()]
        if metric_codes is None
        else list(metric_codes)
    )
    rows = [DirtyDay(metric=code, day=day) for day in set(days) for code in codes]
    if not rows:
        return 0
    DirtyDay.objects.bulk_create(rows, ignore_conflicts=True, batch_size=1000)
    return len(rows)


def _measurements(metric: Metric, rows: Iterable[registry.Row], now: dt.datetime):
    for row in rows:
        yield Measurement(
            metric=metric.code,
            day=row.day,
            value=row.value,
            weight=row.weight,
            histogram=row.histogram,
            computed_at=now,
            **row.scope.columns(),
        )


def _recompute(metric: Metric, start: dt.date, end: dt.date) -> int:
    """Replace the metric's measurements of ``start``–``end``; the caller holds a transaction."""
    rows = list(metric.compute(start, end))
    Measurement.objects.filter(metric=metric.code, day__range=(start, end)).delete()
    created = Measurement.objects.bulk_create(
        _measurements(metric, rows, timezone.now()), batch_size=1000
    )
    return len(created)


def kpis_rollup(*, limit: int = 400) -> dict:
    """Recompute up to ``limit`` dirty (metric, day) pairs, oldest day first.

    Each day is one transaction that first deletes its marks, then recomputes: a mark added by
    a write that commits meanwhile waits for this transaction and survives it, so that write is
    picked up by the next run. Marks of metrics no longer registered are dropped.
    """
    marks = list(
        DirtyDay.objects.order_by("day", "metric").values_list("pk", "metric", "day")[:limit]
    )
    by_day: dict[dt.date, list[tuple[int, str]]] = defaultdict(list)
    for pk, code, day in marks:
        by_day[day].append((pk, code))
    days = measurements = 0
    for day, entries in sorted(by_day.items()):
        with transaction.atomic():
            DirtyDay.objects.filter(pk__in=[pk for pk, _code in entries]).delete()
            for _pk, code in entries:
                try:
                    metric = registry.get(code)
                except registry.UnknownMetric:
                    continue
                measurements += _recompute(metric, day, day)
        days += 1
    return {"days": days, "marks": len(marks), "measurements": measurements}


def check_backfill_range(start: dt.date, end: dt.date) -> None:
    if end < start:
        raise BackfillRangeError(
            _("回填范围颠倒：结束日 %(end)s 早于开始日 %(start)s。") % {"start": start, "end": end}
        )
    try:
        limit = start.replace(year=start.year + BACKFILL_MAX_YEARS)
    except ValueError:  # 29 February
        limit = start.replace(year=start.year + BACKFILL_MAX_YEARS, day=28)
    if end >= limit:
        raise BackfillRangeError(
            _("回填范围不能超过 %(years)d 年：%(start)s 至 %(end)s 太长，请分段回填。")
            % {"years": BACKFILL_MAX_YEARS, "start": start, "end": end}
        )


def kpis_backfill(
    *, start: dt.date, end: dt.date, metric_codes: Iterable[str] | None = None
) -> dict:
    """Recompute every day from ``start`` to ``end`` (inclusive) of the metrics, all by default.

    Refuses a reversed range or one over three years before computing anything. Works in
    chunks of a month, each one transaction with one compute query per metric, and clears the
    dirty marks of the days it recomputed.
    """
    check_backfill_range(start, end)
    metrics = (
        registry.all_metrics()
        if metric_codes is None
        else [registry.get(code) for code in metric_codes]
    )
    measurements = 0
    chunk_start = start
    while chunk_start <= end:
        chunk_end = min(end, chunk_start + dt.timedelta(days=BACKFILL_CHUNK_DAYS - 1))
        with transaction.atomic():
            DirtyDay.objects.filter(
                metric__in=[metric.code for metric in metrics],
                day__range=(chunk_start, chunk_end),
            ).delete()
            for metric in metrics:
                measurements += _recompute(metric, chunk_start, chunk_end)
        chunk_start = chunk_end + dt.timedelta(days=1)
    return {"days": (end - start).days + 1, "measurements": measurements}


# Reads -----------------------------------------------------------------------------------------


def measure(
    metric: Metric | str, scope: Scope | None, start: dt.date, end: dt.date
) -> float | None:
    """The metric's value over ``start``–``end`` in ``scope`` (the platform by default).

    Combines the stored days as the metric says: a SUM adds them (no row is a zero), a
    WEIGHTED_MEAN weighs each day by its weight, a DISTRIBUTION merges the days' histograms and
    reads its quantile from the merged one. ``None`` when nothing was measured. One query.
    """
    if isinstance(metric, str):
        metric = registry.get(metric)
    scope = scope or Scope()
    rows = (
        Measurement.objects.filter(metric=metric.code, day__range=(start, end), **scope.columns())
        .order_by()
        .values_list("value", "weight", "histogram")
    )
    return registry.combine(metric, rows)


# Targets and reported figures ------------------------------------------------------------------


def scope_names(row: ScopedModel) -> tuple[str, str]:
    """The Chinese and English names of a row's scope; empty for the whole platform."""
    for column in ("station", "service", "department", "partner"):
        place = getattr(row, column)
        if place is not None:
            return place.name_zh, place.name_en
    return "", ""


def _act_for(actor, organisation: Organisation, indicator: Indicator, roles) -> None:
    """Refuse unless ``organisation`` owns the indicator and ``actor`` acts for it in ``roles``."""
    if organisation.pk not in owner_ids(indicator):
        raise PermissionDenied(
            _("%(organisation)s 不是“%(indicator)s”的共有方。")
            % {"organisation": organisation.name, "indicator": indicator.name}
        )
    if not acts_for(actor, organisation.pk, roles):
        raise PermissionDenied(
            _("您没有代表 %(organisation)s 办理此事的权限。") % {"organisation": organisation.name}
        )


def _check_scope(indicator: Indicator, scope: Scope) -> None:
    dimension = scope.dimension
    if dimension is None:
        return
    if indicator.kind == Indicator.Kind.METRIC:
        allowed = registry.get(indicator.metric).dimensions
        if dimension not in allowed:
            raise ValidationError({"scope": _("该指标不能按这个范围设定。")})


@transaction.atomic
def target_set(
    *,
    actor,
    organisation: Organisation,
    indicator: Indicator,
    period: str,
    period_start: dt.date,
    scope: Scope,
    green: float,
    amber: float,
) -> Target:
    """Set the indicator's target for one period and scope, acting for an owning organisation.

    Replaces the thresholds of an existing target of that period and scope. An admin of an
    owning organisation may; the other owners' admins and staff are told. Thresholds in the
    wrong order for the indicator's direction are refused with the rule named.
    """
    _act_for(actor, organisation, indicator, {Membership.Role.ADMIN})
    _check_scope(indicator, scope)
    target = (
        Target.objects.select_for_update()
        .filter(indicator=indicator, period=period, period_start=period_start, **scope.columns())
        .first()
    )
    previous = (target.green, target.amber) if target is not None else (None, None)
    if target is None:
        target = Target(
            indicator=indicator, period=period, period_start=period_start, **scope.columns()
        )
    target.indicator = indicator
    target.green = green
    target.amber = amber
    target.set_by = actor
    target.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            target.save()
    except IntegrityError:
        raise ValidationError(_("同一周期和范围的目标刚刚被他人设定，请刷新后再试。")) from None
    scope_zh, scope_en = scope_names(target)
    publish(
        TargetSet(
            indicator_id=indicator.pk,
            code=indicator.code,
            name_zh=indicator.name_zh,
            name_en=indicator.name_en,
            organisation_id=organisation.pk,
            organisation_zh=organisation.name_zh,
            organisation_en=organisation.name_en,
            period=period,
            period_start=period_start,
            scope_zh=scope_zh,
            scope_en=scope_en,
            green=green,
            amber=amber,
            previous_green=previous[0],
            previous_amber=previous[1],
        ),
        actor=actor,
    )
    return target


def _figure_fields(figure: ReportedFigure) -> dict:
    """What both figure events say about the figure and its indicator."""
    indicator = figure.indicator
    return {
        "figure_id": figure.pk,
        "indicator_id": indicator.pk,
        "code": indicator.code,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "reported_by_id": figure.reported_by_id,
        "period": figure.period,
        "period_start": figure.period_start,
        "value": figure.value,
        "unit": indicator.unit,
    }


@transaction.atomic
def reported_figure_submit(
    *,
    actor,
    organisation: Organisation,
    indicator: Indicator,
    period: str,
    period_start: dt.date,
    scope: Scope,
    value: float,
    today: dt.date,
) -> ReportedFigure:
    """Report a reported KPI's figure for a period, acting for an owning organisation.

    The figure waits for a co-owner's approval before anyone else sees it. A figure still
    pending or sent back may be corrected (it waits again); an approved one stays as approved.
    A period that has not started yet cannot be reported.
    """
    _act_for(actor, organisation, indicator, ACTING_ROLES)
    if indicator.kind != Indicator.Kind.REPORTED:
        raise ValidationError(_("该指标由系统计算，不能填报。"))
    if not math.isfinite(value):
        raise ValidationError({"value": _("请输入有限的数值。")})
    if period_start > today:
        raise ValidationError({"period_start": _("该周期尚未开始，不能填报。")})
    _check_scope(indicator, scope)
    figure = (
        ReportedFigure.objects.select_for_update()
        .filter(indicator=indicator, period=period, period_start=period_start, **scope.columns())
        .first()
    )
    if figure is None:
        figure = ReportedFigure(
            indicator=indicator, period=period, period_start=period_start, **scope.columns()
        )
    elif figure.status == ReportedFigure.Status.APPROVED:
        raise ValidationError(_("该周期的数据已审核通过，不能再修改。"))
    elif (
        figure.reported_by_id != organisation.pk and figure.status == ReportedFigure.Status.PENDING
    ):
        raise ValidationError(
            _("该周期的数据已由 %(organisation)s 填报，等待审核。")
            % {"organisation": figure.reported_by.name}
        )
    figure.indicator = indicator
    figure.value = value
    figure.reported_by = organisation
    figure.entered_by = actor
    figure.status = ReportedFigure.Status.PENDING
    figure.reviewed_by = None
    figure.reviewed_at = None
    figure.review_note = ""
    figure.full_clean(validate_constraints=False)
    try:
        with transaction.atomic():
            figure.save()
    except IntegrityError:
        raise ValidationError(_("同一周期的数据刚刚被他人填报，请刷新后再试。")) from None
    publish(
        FigureSubmitted(
            **_figure_fields(figure),
            reporter_zh=organisation.name_zh,
            reporter_en=organisation.name_en,
        ),
        actor=actor,
    )
    return figure


@transaction.atomic
def reported_figure_review(
    *,
    actor,
    organisation: Organisation,
    figure: ReportedFigure,
    approve: bool,
    note: str = "",
) -> ReportedFigure:
    """Approve a pending figure (it is shown as the KPI's visibility allows) or send it back.

    The reviewer is an admin of an owning organisation other than the one that reported it (or,
    for a single owner, another admin than the one who entered it). Sending back needs a note
    saying why; the person who entered the figure is told either way.
    """
    figure = (
        # Lock the figure only: reviews of other figures of the same KPI need not wait.
        ReportedFigure.objects.select_for_update(of=("self",))
        .select_related("indicator")
        .get(pk=figure.pk)
    )
    indicator = figure.indicator
    _act_for(actor, organisation, indicator, {Membership.Role.ADMIN})
    if not actor.is_superuser and organisation.pk not in reviewing_owner_ids(actor, figure):
        raise PermissionDenied(_("填报数据须由另一共有方审核。"))
    if figure.status != ReportedFigure.Status.PENDING:
        raise ValidationError(_("这条数据已经审核过了。"))
    note = note.strip()
    if not approve and not note:
        raise ValidationError({"note": _("退回时请写明原因。")})
    figure.status = ReportedFigure.Status.APPROVED if approve else ReportedFigure.Status.REJECTED
    figure.reviewed_by = actor
    figure.reviewed_at = timezone.now()
    figure.review_note = note
    figure.full_clean(validate_constraints=False)
    figure.save(update_fields=["status", "reviewed_by", "reviewed_at", "review_note", "updated_at"])
    publish(
        FigureReviewed(
            **_figure_fields(figure),
            entered_by_id=figure.entered_by_id,
            reviewer_zh=organisation.name_zh,
            reviewer_en=organisation.name_en,
            approved=approve,
            note=note,
        ),
        actor=actor,
    )
    return figure
