"""Demo KPIs: indicators on the visit metrics and the mall's footfall, targets, and rollups.

Runs after the stations seeder (which marks the days of the visits it adds dirty): it rolls up
exactly those days, so a second run recomputes nothing. Keys: the indicator's code; a target's
(indicator, period, start, scope); a figure's (indicator, period, start, scope).
"""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext_noop

from governance.core.seeding import SeedContext, sync_row
from governance.kpis.models import (
    DirtyDay,
    Indicator,
    Period,
    ReportedFigure,
    Target,
    Visibility,
)
from governance.kpis.services import kpis_backfill
from governance.stakeholders.models import Organisation, User
from governance.stations.metrics import METRIC_CODES

MODELS = (
    "kpis.Indicator",
    "kpis.Indicator_owners",
    "kpis.Target",
    "kpis.ReportedFigure",
    "kpis.Measurement",
)

# code, metric, owners, visibility, (green, amber) monthly, names and descriptions.
INDICATORS = (
    {
        "code": "wait-median",
        "metric": "stations.wait_median",
        "owners": ("hukou", "mall"),
        "visibility": Visibility.PUBLIC,
        "thresholds": (15, 18),
        "name_zh": "窗口等候时间中位数",
        "name_en": "Median waiting time at the counter",
        "description_zh": "从取号到被叫号的分钟数的中位数，只计窗口办件；按全月所有办件计算，"
        "不是每日中位数的平均。",
        "description_en": "The median number of minutes from taking a ticket to being called, "
        "counter visits only; computed over all of the month's visits, not as an average of "
        "daily medians.",
    },
    {
        "code": "wait-p90",
        "metric": "stations.wait_p90",
        "owners": ("hukou", "mall"),
        "visibility": Visibility.OWNERS,
        "thresholds": (28, 32),
        "name_zh": "窗口等候时间（90% 办件）",
        "name_en": "Counter waiting time (90th percentile)",
        "description_zh": "九成窗口办件的等候时间不超过的分钟数。",
        "description_en": "The minutes within which nine in ten counter visits are called.",
    },
    {
        "code": "self-service-share",
        "metric": "stations.self_service",
        "owners": ("hukou", "exit-entry", "mall"),
        "visibility": Visibility.PUBLIC,
        "thresholds": (45, 40),
        "name_zh": "自助办理占比",
        "name_en": "Share of self-service visits",
        "description_zh": "在自助终端办理的办件占全部办件的百分比。",
        "description_en": "Visits made at a self-service kiosk, as a percentage of all visits.",
    },
    {
        "code": "visits",
        "metric": "stations.visits",
        "owners": ("hukou", "traffic", "exit-entry", "tianfu", "mall"),
        "visibility": Visibility.PUBLIC,
        "thresholds": (1600, 1450),
        "name_zh": "办件量",
        "name_en": "Visits served",
        "description_zh": "各站点当月受理的办件数，含未办结的。",
        "description_en": "Visits received at the stations in the month, unfinished ones included.",
    },
    {
        "code": "within-target",
        "metric": "stations.within_target",
        "owners": ("hukou", "traffic", "exit-entry", "tianfu"),
        "visibility": Visibility.STAKEHOLDERS,
        "thresholds": (70, 60),
        "name_zh": "办理时长达标率",
        "name_en": "Visits handled within target time",
        "description_zh": "已办结的办件中，办理时长不超过该事项承诺时限的百分比。",
        "description_en": "Completed visits handled within the service's target time, as a "
        "percentage.",
    },
)
FOOTFALL = {
    "code": "mall-footfall",
    "owners": ("mall", "hukou"),
    "name_zh": "商场月客流量",
    "name_en": "Monthly footfall at the mall",
    "description_zh": "万象城当月进场客流人次，由商场填报、户政部门审核后公布。",
    "description_en": "People entering The Mixc in the month, reported by the mall and "
    "published once household administration approves it.",
    # A catalogue msgid: the pages translate it.
    "unit": gettext_noop("人次"),
}
# The mall's monthly footfall by calendar month: busier in the Spring Festival,
# the summer holidays and Golden Week.
FOOTFALL_BY_MONTH = {
    1: 1_520_000,
    2: 1_610_000,
    3: 1_240_000,
    4: 1_260_000,
    5: 1_450_000,
    6: 1_300_000,
    7: 1_480_000,
    8: 1_530_000,
    9: 1_290_000,
    10: 1_640_000,
    11: 1_330_000,
    12: 1_470_000,
}
# Monthly targets from this many months back to this many ahead of the current one.
TARGET_MONTHS_BACK = 12
TARGET_MONTHS_AHEAD = 2
FOOTFALL_THRESHOLDS = (1_400_000, 1_250_000)


def target_months(today: dt.date) -> list[dt.date]:
    """The first days of the months from a year back to two months ahead: the months every
    demo KPI has a target for."""
    month = today.replace(day=1)
    months = [month]
    back = month
    for _index in range(TARGET_MONTHS_BACK):
        back = (back - dt.timedelta(days=1)).replace(day=1)
        months.insert(0, back)
    ahead = month
    for _index in range(TARGET_MONTHS_AHEAD):
        ahead = (ahead + dt.timedelta(days=32)).replace(day=1)
        months.append(ahead)
    return months


def seed_monthly_targets(indicator: Indicator, thresholds, months) -> None:
    """Platform-wide monthly ``(green, amber)`` targets of ``indicator``."""
    green, amber = thresholds
    for start in months:
        lookup = {"indicator": indicator, "period": Period.MONTH, "period_start": start}
        lookup.update(dict.fromkeys(("station", "service", "department", "partner")))
        sync_row(Target, lookup, {"green": green, "amber": amber})


def seed_metric_indicators(context: SeedContext, specs, owners) -> None:
    """Public indicators on registered metrics, owned by ``owners`` (slugs, those that exist),
    with monthly targets: what an app's seeder declares for the metrics it registers. A spec
    has code, metric, names, descriptions and ``thresholds`` (green, amber)."""
    organisations = {org.slug: org for org in Organisation.objects.filter(slug__in=owners)}
    months = target_months(context.today)
    for spec in specs:
        indicator = _indicator(
            {**spec, "owners": owners},
            organisations,
            kind=Indicator.Kind.METRIC,
            extra={"metric": spec["metric"], "visibility": Visibility.PUBLIC},
        )
        seed_monthly_targets(indicator, spec["thresholds"], months)


def seed_kpis(context: SeedContext) -> None:
    organisations = {org.slug: org for org in Organisation.objects.all()}
    months = target_months(context.today)
    for spec in INDICATORS:
        indicator = _indicator(
            spec,
            organisations,
            kind=Indicator.Kind.METRIC,
            extra={"metric": spec["metric"], "visibility": spec["visibility"]},
        )
        seed_monthly_targets(indicator, spec["thresholds"], months)
    footfall = _indicator(
        FOOTFALL,
        organisations,
        kind=Indicator.Kind.REPORTED,
        extra={"unit": FOOTFALL["unit"], "higher_is_better": True},
    )
    seed_monthly_targets(footfall, FOOTFALL_THRESHOLDS, months)
    mall = organisations.get("mall")
    reviewer = User.objects.filter(email="hukou.admin@demo.gongzhi.local").first()
    if mall is not None:
        # Every complete month of the last year, reported by the mall and approved by
        # household administration; the current month is reported once it is over.
        for start in months[:TARGET_MONTHS_BACK]:
            lookup = {"indicator": footfall, "period": Period.MONTH, "period_start": start}
            lookup.update(dict.fromkeys(("station", "service", "department", "partner")))
            if ReportedFigure.objects.filter(**lookup).exists():
                continue  # Approved once, when first seeded: re-seeding keeps its review.
            sync_row(
                ReportedFigure,
                lookup,
                {
                    "value": FOOTFALL_BY_MONTH[start.month],
                    "reported_by": mall,
                    "status": ReportedFigure.Status.APPROVED,
                    "reviewed_by": reviewer,
                    "reviewed_at": context.now,
                },
            )
    roll_up_seeded_days()


def _indicator(spec, organisations, *, kind, extra) -> Indicator:
    indicator, _changed = sync_row(
        Indicator,
        {"code": spec["code"]},
        {
            "kind": kind,
            "name_zh": spec["name_zh"],
            "name_en": spec["name_en"],
            "description_zh": spec["description_zh"],
            "description_en": spec["description_en"],
            "is_active": True,
            **extra,
        },
    )
    owners = [organisations[slug] for slug in spec["owners"] if slug in organisations]
    if set(indicator.owners.values_list("pk", flat=True)) != {owner.pk for owner in owners}:
        indicator.owners.set(owners)
    return indicator


def roll_up_seeded_days() -> None:
    """Recompute the visit metrics over the days the seed marked dirty (none on a re-run)."""
    days = DirtyDay.objects.filter(metric__in=METRIC_CODES).order_by("day")
    first = days.values_list("day", flat=True).first()
    last = days.reverse().values_list("day", flat=True).first()
    if first is not None:
        kpis_backfill(start=first, end=last, metric_codes=METRIC_CODES)
