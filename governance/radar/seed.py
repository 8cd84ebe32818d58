"""Demo seed: what the needs radar shows on a fresh ``seed_demo``, and the radar computed.

The story of the issue: on Saturday afternoons a queue forms at the exit-entry counters of the
Chenghua Mixc station (passports and Hong Kong and Macao permits, families and office workers
who can only come at the weekend), and this month residents publish proposals asking for
weekend hours ("周末办证"), where the months before brought one or none. A few catalogue
searches found nothing. Then the radar is computed for the current month and the three before
(``compute.compute``), as the periodic task would have done.

Runs after every seeder that writes visits, texts and ratings (radar order 90). Keyed on natural
keys, so a second run writes nothing:

- the extra visits carry tickets ``C6xx``, and a Saturday that has any is never seeded again;
  only Saturdays whose afternoon is over by ``context.now`` are seeded;
- the proposals are keyed on their titles (the history is told once, as in the proposals
  seed), replayed through ``proposals.services`` at their moments with notifications muted;
  they need the demo residents, so they are skipped without the demo users;
- searches that found nothing are keyed on (day, station, term) and never changed;
- the radar is computed only when the current month has no finished run.
"""

from __future__ import annotations

import datetime as dt
import random
from zoneinfo import ZoneInfo

from django.db.models.functions import TruncDate

from governance.core.clock import replaying
from governance.core.seeding import SeedContext
from governance.kpis.seed import roll_up_seeded_days
from governance.kpis.services import kpis_mark_dirty
from governance.notifications.services import muted
from governance.radar import compute
from governance.radar.models import Run, SearchMiss
from governance.radar.text import normalise_query
from governance.stakeholders.models import User
from governance.stations.metrics import METRIC_CODES
from governance.stations.models import Service, Station, Visit

TZ = ZoneInfo("Asia/Shanghai")
STATION = "chenghua-mixc"
DOMAIN = "demo.gongzhi.local"
MONTHS = compute.HISTORY_MONTHS + 1  # the current month and the three before

MODELS = (
    "stations.Visit",
    "proposals.Proposal",
    "proposals.ProposalVersion",
    "proposals.Follow",
    "proposals.Support",
    "radar.SearchMiss",
    "radar.Run",
    "radar.HeatCell",
    "radar.ReasonCount",
    "radar.TermCount",
    "radar.Theme",
    "radar.ThemeItem",
    "radar.UnmetDemand",
    "kpis.Measurement",
)

# The Saturday-afternoon queue -----------------------------------------------------------------
TICKET_PREFIX = "C6"  # exit-entry tickets the day's own never reach
COUNTERS = ("04", "05")
# Counter services of exit-entry and how often they are asked for on a Saturday afternoon.
QUEUE_SERVICES = {"EE-HKMO": 3.0, "EE-PASSPORT": 2.0, "EE-TW": 0.5}
# (from, over how many minutes, arrivals, mean wait in minutes): the queue builds after lunch,
# waits of half an hour and more fall inside 14:00–15:00, and it drains after three.
QUEUE_WAVES = ((dt.time(14), 40, 10, 35.0), (dt.time(15), 50, 3, 20.0))
ABANDON_RATE = 0.08


def seed_queue(context: SeedContext) -> int:
    """Extra exit-entry visits on each Saturday afternoon of the radar's months."""
    station = Station.objects.filter(slug=STATION).first()
    services = list(
        Service.objects.filter(service_code__in=QUEUE_SERVICES, stations=station, is_active=True)
        .order_by("service_code")
        .select_related("department")
    )
    if station is None or not services:
        return 0
    first = compute.add_months(compute.month_of(context.today), -(MONTHS - 1))
    start = dt.datetime.combine(first, dt.time(0), TZ)
    end = dt.datetime.combine(context.today + dt.timedelta(days=1), dt.time(0), TZ)
    seeded = set(
        Visit.objects.filter(
            station=station,
            ticket__startswith=TICKET_PREFIX,
            arrived_at__gte=start,
            arrived_at__lt=end,
        )
        .annotate(day=TruncDate("arrived_at", tzinfo=TZ))
        .order_by()
        .values_list("day", flat=True)
        .distinct()
    )
    visits: list[Visit] = []
    days: set[dt.date] = set()
    day = first + dt.timedelta(days=(5 - first.weekday()) % 7)
    while day <= context.today:
        over = dt.datetime.combine(day, dt.time(17), TZ) <= context.now
        if over and day not in seeded:
            visits += saturday_visits(station, services, day)
            days.add(day)
        day += dt.timedelta(days=7)
    Visit.objects.bulk_create(visits, batch_size=1000)
    if days:
        kpis_mark_dirty(metric_codes=METRIC_CODES, days=days)
        roll_up_seeded_days()
    return len(visits)


def saturday_visits(station: Station, services: list[Service], day: dt.date) -> list[Visit]:
    """The extra visits of one Saturday afternoon, the same on every machine."""
    rng = random.Random(f"radar-queue:{station.slug}:{day.isoformat()}")  # noqa: S311  (demo)
    weights = [QUEUE_SERVICES[service.service_code] for service in services]
    visits = []
    number = 0
    for start, minutes, arrivals, mean_wait in QUEUE_WAVES:
        for _index in range(arrivals):
            number += 1
            service = rng.choices(services, weights=weights)[0]
            arrived = dt.datetime.combine(day, start, TZ) + dt.timedelta(
                seconds=rng.randint(0, minutes * 60 - 1)
            )
            wait = min(45.0, max(10.0, rng.gauss(mean_wait, mean_wait * 0.2)))
            visit = Visit(
                station=station,
                service=service,
                ticket=f"{TICKET_PREFIX}{number:02d}",
                channel=service.channel,
                arrived_at=arrived,
            )
            if rng.random() < ABANDON_RATE:
                # Gave up before being called.
                visit.outcome = Visit.Outcome.ABANDONED
            else:
                visit.called_at = arrived + dt.timedelta(minutes=wait)
                visit.finished_at = visit.called_at + dt.timedelta(
                    minutes=max(4.0, rng.gauss(service.target_minutes, 3))
                )
                visit.counter = rng.choice(COUNTERS)
                visit.outcome = Visit.Outcome.COMPLETED
            visits.append(visit)
    return visits


# Proposals asking for weekend hours ----------------------------------------------------------
# (months back, day of that month or None for "spread over this month so far", resident,
# title, body). The residents are the proposals seed's demo residents (``resident:N``).
WEEKEND_PROPOSALS = (
    (
        2,
        17,
        21,
        "周末办证可否延长到傍晚",
        "周六下午出入境窗口四点多就不再取号了，上班族只有周末有空，建议周末办证延长到傍晚五点半。",
    ),
    (
        1,
        13,
        22,
        "建议周末办证多开窗口",
        "平时上班没空，周末办证的人很多，港澳签注窗口只开了一个。",
    ),
    (
        0,
        None,
        23,
        "周末办证窗口再多开一个",
        "周六下午出入境窗口排队要一个多小时，只开了两个窗口。建议周末办证高峰时段再多开一个窗口。",
    ),
    (
        0,
        None,
        24,
        "希望周末办证能网上预约",
        "周末办证都挤在下午，能不能在天府通办上预约时段，到点再来，不用在商场里干等。",
    ),
    (
        0,
        None,
        25,
        "上班族只能周末办证",
        "工作日请不了假，周末办证的人越来越多，希望周六周日出入境业务多安排人手。",
    ),
    (
        0,
        None,
        26,
        "周末办证取号太难",
        "周六两点多来取号，港澳通行证的号已经发完了，白跑一趟。",
    ),
    (
        0,
        None,
        27,
        "周末办证增加护照受理",
        "护照业务周末办证排队最久，建议周末增加护照受理窗口。",
    ),
    (
        0,
        None,
        28,
        "开学前周末办证人更多",
        "孩子开学前都是周末来办港澳通行证，建议周末办证时在公众号公布排队人数。",
    ),
    (
        0,
        None,
        29,
        "周末办证能否提供叫号提醒",
        "周六排队时间太长，取号后可以去商场逛逛，希望周末办证叫号前短信提醒。",
    ),
)
CATEGORY = "opening-hours"
# Authors are residents 21–29, their supporters the four after ``30 + N``.
MIN_RESIDENTS = 64


def _published_at(context: SeedContext, back: int, day: int | None, index: int, of: int):
    """When a proposal was published: on ``day`` of the month ``back`` months ago, or spread
    over the current month up to today; in the evening, when people write."""
    if day is None:
        this_month = compute.month_of(context.today)
        span = (context.today - this_month).days
        date = this_month + dt.timedelta(days=round(span * (index + 1) / (of + 1)))
    else:
        date = compute.add_months(compute.month_of(context.today), -back).replace(day=day)
    moment = dt.datetime.combine(date, dt.time(19, 10 + 5 * index), TZ)
    return min(moment, context.now - dt.timedelta(minutes=30 - index))


def seed_weekend_proposals(context: SeedContext) -> int:
    from governance.proposals import services
    from governance.proposals.models import Category, Proposal, Scope
    from governance.proposals.seed import residents_needed, seed_residents

    if not context.with_demo_users:
        return 0
    station = Station.objects.filter(slug=STATION).first()
    category = Category.objects.filter(slug=CATEGORY, is_active=True).first()
    titles = [title for *_when, title, _body in WEEKEND_PROPOSALS]
    if station is None or category is None:
        return 0
    if Proposal.objects.filter(title__in=titles, author__email__endswith=f"@{DOMAIN}").exists():
        return 0  # told once
    residents = seed_residents(max(residents_needed(), MIN_RESIDENTS))
    current = [row for row in WEEKEND_PROPOSALS if row[1] is None]
    told = 0
    for back, day, who, title, body in WEEKEND_PROPOSALS:
        index = current.index((back, day, who, title, body)) if day is None else 0
        moment = _published_at(context, back, day, index, len(current))
        author: User = residents[who - 1]
        with replaying(lambda moment=moment: moment), muted():
            proposal = services.proposal_create(
                actor=author,
                title=title,
                body=body,
                category=category,
                scope=Scope.STATION,
                station=station,
                publish_now=True,
            )
            # A few neighbours support it within the hour.
            for offset, supporter in enumerate(residents[30 + who : 34 + who]):
                at = moment + dt.timedelta(minutes=5 * (offset + 1))
                if at >= context.now:
                    break
                with replaying(lambda at=at: at):
                    services.proposal_support(actor=supporter, proposal=proposal)
        told += 1
    return told


# Searches that found nothing -------------------------------------------------------------------
# (days ago, query, times)
SEARCHES = (
    (1, "外国人签证延期", 3),
    (4, "外国人签证延期", 2),
    (9, "护照加急", 4),
    (2, "电动车上牌", 3),
    (12, "电动车上牌", 2),
    (6, "无犯罪记录证明", 3),
    (15, "老年人优待证", 2),
    (40, "护照加急", 1),
)


def seed_searches(context: SeedContext) -> int:
    station = Station.objects.filter(slug=STATION).first()
    created = 0
    for days_ago, query, times in SEARCHES:
        _row, made = SearchMiss.objects.get_or_create(
            day=context.today - dt.timedelta(days=days_ago),
            station=station,
            term=normalise_query(query),
            defaults={"count": times},
        )
        created += made
    return created


# The radar -------------------------------------------------------------------------------------
def seed_radar(context: SeedContext) -> None:
    visits = seed_queue(context)
    proposals = seed_weekend_proposals(context)
    if proposals:
        from governance.proposals.seed import roll_up

        roll_up(context)
    searches = seed_searches(context)
    month = compute.month_of(context.today)
    if Run.objects.filter(month=month, done_at__isnull=False).exists():
        runs = []
    else:
        runs = compute.compute(month, on=context.today)
    if visits or proposals or searches or runs:
        context.write(
            f"需求雷达演示：{visits} 条周六下午办件，{proposals} 条周末办证建议，"
            f"{searches} 条无结果搜索，计算了 {len(runs)} 个月。"
        )
