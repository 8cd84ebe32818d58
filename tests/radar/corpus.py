"""A known corpus for the radar: four months (July to October 2026) of cases, proposals, visits
and catalogue searches at two stations, where what the radar must find is known in advance.

- **Themes** (October, all stations): 周末办证 rises from one text a month to twelve; the
  English "weekend opening" appears in five English texts; 叫号广播 in four; the name of a
  service the mall station does not offer (住房公积金提取) in three. 停车收费 is raised by the
  same six texts every month: steady, never a rising theme. 周末 and 办证 only ever appear
  together, so their pair carries them.
- **Heatmap** (October, the mall station): on three Saturdays, four people each took an
  exit-entry ticket between 14:00 and 15:00 and waited 20, 30, 40 and 50 minutes (one more
  left without being called after 15:00): the busiest cell by far. Two visits sit just inside
  and just outside the month in Asia/Shanghai (UTC would move them).
- **Reasons**: :func:`reason_source` counts the visits that ended without the service done,
  by outcome, as a reason source would count bad ratings.
- **Unmet demand**: 住房公积金提取 is offered at the district centre only, and people at the mall
  ask for it (three texts, two searches); "外国人签证" is in no catalogue (four searches).

Everything is written through the real paths: cases by ``cases.services.case_open``, proposals
by ``proposals.services.proposal_create`` (published, at their moment on the services' clock),
visits and searches as the stations app and ``radar.services`` write them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from django.db.models import Count

from governance.cases import services as case_services
from governance.core.clock import replaying
from governance.notifications.services import muted
from governance.proposals import services as proposal_services
from governance.proposals.models import Category, Scope
from governance.radar.models import SearchMiss
from governance.radar.registry import ReasonRow, ReasonSource
from governance.radar.text import normalise_query
from governance.stakeholders.models import User
from governance.stations.models import Channel, Station, Visit
from tests.cases.factories import CategoryFactory as CaseCategoryFactory
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")
MONTH = dt.date(2026, 10, 1)
HISTORY = (dt.date(2026, 7, 1), dt.date(2026, 8, 1), dt.date(2026, 9, 1))
MALL, CENTRE = "corpus-mall", "corpus-centre"
AUTHOR = "corpus.author@example.com"

# The themes of October over all stations, in rank order: term, texts, mean of the three
# months before.
THEMES = (
    ("周末办证", 12, 1.0),
    ("weekend opening", 5, 0.0),
    ("叫号广播", 4, 0.0),
    ("住房公积金提取", 3, 0.0),
)
# The same, at the mall station: two of the weekend texts name no station.
MALL_THEMES = (
    ("周末办证", 10, 1.0),
    ("weekend opening", 5, 0.0),
    ("叫号广播", 4, 0.0),
    ("住房公积金提取", 3, 0.0),
)
STEADY = "停车收费"

# The Saturday 14:00 exit-entry cell at the mall in October.
PEAK_SERVICE = "CX-HKMO"
PEAK_WAITS = (20, 30, 40, 50)
PEAK_SATURDAYS = (dt.date(2026, 10, 3), dt.date(2026, 10, 10), dt.date(2026, 10, 17))
PEAK_VISITS = len(PEAK_WAITS) * len(PEAK_SATURDAYS)
PEAK_WAIT_MINUTES = sum(PEAK_WAITS) * len(PEAK_SATURDAYS)  # 420, by the hour of the ticket
# The waiting that falls inside 14:00–15:00: tickets at 14:05, 14:15, 14:25 and 14:35 called
# at 14:25, 14:45, 15:05 and 15:25 wait 20 + 30 + 35 + 25 minutes of that hour.
PEAK_QUEUE_MINUTES = (20 + 30 + 35 + 25) * len(PEAK_SATURDAYS)  # 330
OCTOBER_SATURDAYS = 5
# Little's law: the minutes people spent waiting over the minutes of the five Saturday hours.
PEAK_QUEUE = PEAK_QUEUE_MINUTES / (60 * OCTOBER_SATURDAYS)  # 1.1

# Catalogue searches that found nothing: (day, station slug, query, times).
SEARCHES = (
    (dt.date(2026, 10, 5), MALL, "外国人签证", 3),
    (dt.date(2026, 10, 18), MALL, "  外国人签证 ", 1),
    (dt.date(2026, 10, 9), MALL, "住房公积金提取", 2),
    (dt.date(2026, 9, 30), MALL, "外国人签证", 7),  # September
    (dt.date(2026, 11, 1), MALL, "外国人签证", 9),  # November
)
UNMET_MALL = (
    # term, service code (None: in no catalogue), mentions in texts, searches
    ("住房公积金提取", "CX-HF-WITHDRAW", 3, 2),
    ("外国人签证", None, 0, 4),
)


@dataclass(frozen=True)
class Text:
    """One text: a case (``kind="case"``) or a published proposal, at a Shanghai moment."""

    kind: str
    day: dt.date
    title: str
    body: str
    station: str | None = MALL
    hour: int = 11

    @property
    def at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, dt.time(self.hour), TZ)


def _d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


# 停车收费: the same six texts every month.
PARKING = (
    ("商场停车收费太贵", "来办一次证交了二十块停车费。"),
    ("停车收费能否减免", "办事群众可以凭排队号减免停车收费吗？"),
    ("停车收费标准不清楚", "入口没有公示价格。"),
    ("办证停车收费偏高", "一个小时十元，等候又久。"),
    ("关于停车收费", "建议与商场协商优惠。"),
    ("停车收费问题", "希望给来办事的人一些优惠。"),
)


def _parking(month: int) -> list[Text]:
    return [
        Text("case", _d(month, 2 + index), title, body)
        for index, (title, body) in enumerate(PARKING)
    ]


HISTORY_TEXTS = (
    *_parking(7),
    *_parking(8),
    *_parking(9),
    Text("proposal", _d(7, 20), "周末办证可以吗", "平时要上班。"),
    Text("proposal", _d(8, 14), "建议周末办证", "工作日没空。"),
    Text("case", _d(9, 9), "周末办证的咨询", "请问这里周末办证吗？"),
    Text("case", _d(9, 11), "身份证照片可以自带吗", "想用自己拍的照片。"),
    Text("case", _d(8, 23), "Lost my residence permit", "Where do I report a lost permit?"),
)

OCTOBER_TEXTS = (
    *_parking(10),
    # 周末办证: eight proposals and four cases; two proposals name no station.
    Text("proposal", _d(10, 2), "希望开通周末办证", "上班族请假很难。"),
    Text("proposal", _d(10, 4), "周末办证窗口太少", "只有一个窗口开着。"),
    Text("proposal", _d(10, 6), "恳请增加周末办证时段", "孩子上学平时来不了。"),
    Text("proposal", _d(10, 8), "周末办证需要预约吗", "想带老人一起来。"),
    Text("proposal", _d(10, 9), "关于周末办证的建议", "延长周六的营业时间。"),
    Text("proposal", _d(10, 12), "出入境周末办证", "护照到期，只有星期天有空。"),
    Text("proposal", _d(10, 14), "全市推广周末办证", "别的区也应该这样。", station=None),
    Text("proposal", _d(10, 15), "周末办证经验推广", "方便了大家。", station=None),
    Text("case", _d(10, 3), "周末办证排了很久", "从两点等到三点。", hour=15),
    Text("case", _d(10, 10), "周末办证人太多", "队伍排到了扶梯口。", hour=16),
    Text("case", _d(10, 17), "周末办证时取不到号", "取号机说今天号已发完。", hour=14),
    Text("case", _d(10, 18), "周末办证能否加开窗口", "港澳签注的人特别多。", hour=15),
    # weekend opening: three proposals and two cases, in English.
    Text(
        "proposal",
        _d(10, 5),
        "Weekend opening for passports",
        "I work Monday to Friday and cannot take leave.",
    ),
    Text("proposal", _d(10, 11), "More weekend opening, please", "Saturdays are busy."),
    Text("proposal", _d(10, 16), "Weekend opening hours", "Sunday afternoons would suit families."),
    Text("case", _d(10, 19), "Asking about weekend opening", "Is the counter staffed on Sunday?"),
    Text("case", _d(10, 20), "Weekend opening for exit-entry", "My visa appointment is soon."),
    # 叫号广播: four cases.
    Text("case", _d(10, 7), "叫号广播太小声", "坐在后排听不见。"),
    Text("case", _d(10, 13), "叫号广播被音乐盖住", "背景音乐太响。"),
    Text("case", _d(10, 21), "叫号广播坏了", "只能盯着屏幕看。"),
    Text("case", _d(10, 22), "请修好叫号广播", "错过了自己的号。"),
    # 住房公积金提取: offered at the district centre only.
    Text("case", _d(10, 23), "这里能办住房公积金提取吗", "不想再跑一趟政务中心。"),
    Text("case", _d(10, 24), "开通住房公积金提取业务", "租房提取很常见。"),
    Text("case", _d(10, 25), "住房公积金提取", "在这里办不了，只能去别处。"),
    # One of each: nothing to rank.
    Text("case", _d(10, 26), "自助机死机", "屏幕卡住不动。"),
    Text("proposal", _d(10, 27), "没有母婴室", "带婴儿办事不方便。"),
    # Just inside the month in Shanghai (16:30 UTC on 30 September).
    Text("case", _d(10, 1), "国庆值班安排", "假期有人值班吗？", hour=0),
    # Just outside it (1 November 00:30 in Shanghai, still 31 October in UTC).
    Text("proposal", _d(11, 1), "周末办证十一月", "下个月也要周末办证。", hour=0),
)
TEXTS = HISTORY_TEXTS + OCTOBER_TEXTS
OCTOBER_TEXT_COUNT = sum(1 for text in OCTOBER_TEXTS if text.day.month == 10)


@dataclass
class World:
    mall: Station
    centre: Station
    services: dict = field(default_factory=dict)
    cases: dict = field(default_factory=dict)  # title → Case
    proposals: dict = field(default_factory=dict)  # title → Proposal


def build_world() -> World:
    """The stations, their catalogue and the people; no text, visit or search yet."""
    exit_entry = DepartmentFactory(slug="corpus-exit-entry", name_zh="出入境管理")
    tianfu = DepartmentFactory(slug="corpus-tianfu", name_zh="天府通办")
    mall = StationFactory(slug=MALL, departments=[exit_entry])
    centre = StationFactory(slug=CENTRE, host=None, departments=[tianfu])
    services = {
        "CX-HKMO": ServiceFactory(
            department=exit_entry,
            service_code="CX-HKMO",
            name_zh="往来港澳通行证及签注",
            name_en="Exit-entry permit for Hong Kong and Macao",
            keywords="港澳;签注",
            stations=[mall],
        ),
        "CX-PASSPORT": ServiceFactory(
            department=exit_entry,
            service_code="CX-PASSPORT",
            name_zh="普通护照签发",
            name_en="Ordinary passport issuance",
            keywords="护照",
            stations=[mall],
        ),
        "CX-HF-WITHDRAW": ServiceFactory(
            department=tianfu,
            service_code="CX-HF-WITHDRAW",
            name_zh="住房公积金提取",
            name_en="Housing provident fund withdrawal",
            stations=[centre],
        ),
    }
    return World(mall=mall, centre=centre, services=services)


def write_texts(world: World, texts=TEXTS) -> None:
    """Each text through its service, at its moment, telling no one."""
    author = User.objects.filter(email=AUTHOR).first() or UserFactory(email=AUTHOR)
    category, _created = Category.objects.get_or_create(
        slug="corpus", defaults={"name_zh": "开放时间", "name_en": "Opening hours"}
    )
    case_category = CaseCategoryFactory(slug="corpus", name_zh="其他", name_en="Other")
    stations = {MALL: world.mall, CENTRE: world.centre}
    with muted():
        for text in texts:
            station = stations.get(text.station)
            with replaying(lambda moment=text.at: moment):
                if text.kind == "case":
                    world.cases[text.title] = case_services.case_open(
                        actor=author,
                        title=text.title,
                        description=text.body,
                        station=station,
                        category=case_category,
                        opened_at=text.at,
                    )
                else:
                    world.proposals[text.title] = proposal_services.proposal_create(
                        actor=author,
                        title=text.title,
                        body=text.body,
                        category=category,
                        scope=Scope.STATION if station else Scope.PLATFORM,
                        station=station,
                        publish_now=True,
                    )


def _visit(world: World, code: str, arrived: dt.datetime, wait: int | None, **extra) -> Visit:
    called = None if wait is None else arrived + dt.timedelta(minutes=wait)
    return Visit(
        station=extra.pop("station", world.mall),
        service=world.services[code],
        ticket=extra.pop("ticket", "C001"),
        channel=Channel.COUNTER,
        arrived_at=arrived,
        called_at=called,
        finished_at=None if called is None else called + dt.timedelta(minutes=10),
        outcome=extra.pop(
            "outcome", Visit.Outcome.ABANDONED if called is None else Visit.Outcome.COMPLETED
        ),
        **extra,
    )


def write_visits(world: World) -> list[Visit]:
    visits = []
    for saturday in PEAK_SATURDAYS:
        for index, wait in enumerate(PEAK_WAITS):
            arrived = dt.datetime.combine(saturday, dt.time(14, 5 + 10 * index), TZ)
            visits.append(_visit(world, PEAK_SERVICE, arrived, wait, ticket=f"C{index + 1:03d}"))
    # Left without being called, in the next hour: a visit, never called.
    visits.append(_visit(world, PEAK_SERVICE, dt.datetime(2026, 10, 3, 15, 40, tzinfo=TZ), None))
    # A quiet Tuesday morning: passports, short waits; two came without their documents.
    for week in range(4):
        day = dt.date(2026, 10, 6) + dt.timedelta(weeks=week)
        arrived = dt.datetime.combine(day, dt.time(10, 15), TZ)
        outcome = Visit.Outcome.MISSING_DOCUMENTS if week < 2 else Visit.Outcome.COMPLETED
        visits.append(_visit(world, "CX-PASSPORT", arrived, 5, outcome=outcome))
    # The district centre: a weekday-morning withdrawal.
    visits.append(
        _visit(
            world,
            "CX-HF-WITHDRAW",
            dt.datetime(2026, 10, 14, 9, 30, tzinfo=TZ),
            8,
            station=world.centre,
        )
    )
    # At the edges of October in Shanghai: 1 October 00:30 (in), 1 November 00:30 (out; a
    # Saturday 16:30 in October if read in UTC).
    visits.append(_visit(world, "CX-PASSPORT", dt.datetime(2026, 10, 1, 0, 30, tzinfo=TZ), 1))
    visits.append(_visit(world, "CX-HKMO", dt.datetime(2026, 11, 1, 0, 30, tzinfo=TZ), 90))
    # September: another month's peak, never October's.
    visits.append(_visit(world, "CX-HKMO", dt.datetime(2026, 9, 26, 14, 30, tzinfo=TZ), 60))
    return Visit.objects.bulk_create(visits)


def write_searches(world: World) -> None:
    stations = {MALL: world.mall, CENTRE: world.centre}
    for day, station, query, times in SEARCHES:
        term = normalise_query(query)
        row, _created = SearchMiss.objects.get_or_create(
            day=day, station=stations[station], term=term, defaults={"count": 0}
        )
        row.count += times
        row.save(update_fields=["count"])


def build(*, visits: bool = True, searches: bool = True) -> World:
    world = build_world()
    write_texts(world)
    if visits:
        write_visits(world)
    if searches:
        write_searches(world)
    return world


# A reason source, as the feedback wing registers bad ratings: visits that ended without the
# service done, by outcome.
REASON_SOURCE = "corpus.outcomes"
REASONS = {
    Visit.Outcome.MISSING_DOCUMENTS: "材料不全",
    Visit.Outcome.ABANDONED: "未办理离开",
}


def _count_outcomes(start: dt.datetime, end: dt.datetime) -> list[ReasonRow]:
    rows = (
        Visit.objects.filter(arrived_at__gte=start, arrived_at__lt=end, outcome__in=list(REASONS))
        .values("outcome", "station_id", "service_id", "service__department_id")
        .annotate(count=Count("pk"))
        .order_by()
    )
    return [
        ReasonRow(
            reason=row["outcome"],
            count=row["count"],
            station_id=row["station_id"],
            service_id=row["service_id"],
            department_id=row["service__department_id"],
        )
        for row in rows
    ]


def reason_source() -> ReasonSource:
    return ReasonSource(
        code=REASON_SOURCE,
        label="办件结果",
        reasons=REASONS,
        count=_count_outcomes,
        items_url=lambda reason, month, *scope: f"/visits/?outcome={reason}&month={month:%Y-%m}",
    )
