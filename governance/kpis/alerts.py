"""Red-light alerts: a KPI that turns red for its period tells its owners, once.

Celery beat runs :func:`kpis_check_alerts` hourly. It looks at every target whose period is
under way (or ended within the last :data:`GRACE_DAYS`, so the last day's rollup and a figure
approved just after the period still count), measures the period so far from the rollups, and
when the light is red and the target has no :class:`~governance.kpis.models.Alert` yet, inserts
one and publishes :class:`~governance.kpis.events.KpiTurnedRed` in the same transaction. The
unique alert per target is the once-only rule: a second check, or a concurrent one that lost the
race, inserts nothing and tells no one.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from governance.kpis import registry, services
from governance.kpis.events import KpiTurnedRed
from governance.kpis.models import (
    Alert,
    Indicator,
    Light,
    ReportedFigure,
    Target,
    Visibility,
)
from governance.kpis.registry import Combine
from governance.notifications.registry import Audience, EventType, register
from governance.notifications.services import publish
from governance.stakeholders.models import Organisation
from governance.stakeholders.queries import acting_members

# Days after a period's end during which it is still checked.
GRACE_DAYS = 7
# The longest period (a leap year), plus the grace: targets starting earlier are long over.
LOOKBACK = dt.timedelta(days=366 + GRACE_DAYS)


def kpi_owners_acting(event: KpiTurnedRed):
    """Admins and staff of the indicator's active owner organisations (viewers only read)."""
    return acting_members(Organisation.objects.filter(kpi_indicators=event.indicator_id))


def kpi_url(event: KpiTurnedRed) -> str:
    # Owners see every indicator they own, whatever its visibility.
    return reverse("kpis:indicator", args=[event.code])


def register_event_types() -> None:
    register(
        EventType(
            code="kpis.turned_red",
            event=KpiTurnedRed,
            label=_("指标亮红灯"),
            recipients=kpi_owners_acting,
            url=kpi_url,
            # A red light asks for action this period: a weekly digest would come too late.
            defaults={Audience.DEPARTMENT: "immediate", Audience.PARTNER: "immediate"},
        )
    )


def _unit(indicator: Indicator, metric: registry.Metric | None) -> str:
    if metric is None:
        return indicator.unit
    with translation.override(settings.LANGUAGE_CODE):
        return str(metric.unit)


def _reported_value(target: Target) -> float | None:
    return (
        ReportedFigure.objects.filter(
            indicator_id=target.indicator_id,
            period=target.period,
            period_start=target.period_start,
            status=ReportedFigure.Status.APPROVED,
            **target.scope.columns(),
        )
        .values_list("value", flat=True)
        .first()
    )


def _value(target: Target, today: dt.date) -> tuple[float | None, registry.Metric | None]:
    """The target's value so far, or ``None`` when it cannot be judged (yet)."""
    indicator = target.indicator
    if indicator.kind == Indicator.Kind.REPORTED:
        return _reported_value(target), None
    try:
        metric = registry.get(indicator.metric)
    except registry.UnknownMetric:
        return None, None
    if metric.combine == Combine.SUM and metric.higher_is_better and target.period_end >= today:
        # A count still growing: below its target mid-period says nothing yet.
        return None, metric
    end = min(today, target.period_end)
    return services.measure(metric, target.scope, target.period_start, end), metric


def _event(target: Target, value: float, metric: registry.Metric | None) -> KpiTurnedRed:
    indicator = target.indicator
    scope_zh, scope_en = services.scope_names(target)
    return KpiTurnedRed(
        indicator_id=indicator.pk,
        code=indicator.code,
        name_zh=indicator.name_zh,
        name_en=indicator.name_en,
        period=target.period,
        period_start=target.period_start,
        period_end=target.period_end,
        scope_zh=scope_zh,
        scope_en=scope_en,
        value=value,
        amber=target.amber,
        green=target.green,
        unit=_unit(indicator, metric),
        higher_is_better=indicator.is_higher_better,
        url_public=indicator.visibility == Visibility.PUBLIC,
    )


def kpis_check_alerts(*, today: dt.date) -> dict:
    """Alert the owners of every target that is red for its period and has not alerted yet.

    ``today`` is the Asia/Shanghai day. One query for the targets, then one or two per target
    under way (its value, and the alert and notifications when it is red).
    """
    targets = [
        target
        for target in Target.objects.filter(
            indicator__is_active=True,
            period_start__lte=today,
            period_start__gt=today - LOOKBACK,
        )
        .filter(~Exists(Alert.objects.filter(target=OuterRef("pk"))))
        .select_related("indicator", "station", "service", "department", "partner")
        .order_by("pk")
        if target.period_end >= today - dt.timedelta(days=GRACE_DAYS)
    ]
    red = alerted = 0
    for target in targets:
        value, metric = _value(target, today)
        if target.light(value) != Light.RED:
            continue
        red += 1
        if _alert(target, value, metric):
            alerted += 1
    return {"checked": len(targets), "red": red, "alerted": alerted}


@transaction.atomic
def _alert(target: Target, value: float, metric: registry.Metric | None) -> bool:
    """Insert the target's alert and publish the event; ``False`` when it already alerted."""
    try:
        with transaction.atomic():
            Alert.objects.create(
                indicator_id=target.indicator_id,
                target=target,
                period=target.period,
                period_start=target.period_start,
                value=value,
            )
    except IntegrityError:
        return False
    publish(_event(target, value, metric))
    return True
