"""Demo seed: what the mall, the bank and the telecom store contribute to the Chenghua Mixc
station, and how the departments and the community have used it.

Runs after the proposals seeder (order 48, after its 45): pledges go to the proposals it
accepted and to an open case of the cases seeder. Two parts:

- **The catalogue** (every run, with or without demo accounts): each partner's resources, keyed
  on (partner, Chinese name) and brought up to date with ``sync_row``, and their weekly opening
  rules (the mall's hours 10:00–22:00, the management office's and the bank's weekday hours,
  the visitor parking round the clock), replaced only when they differ. The KPIs on the
  partners metrics, with owners and monthly targets, as every KPI seeder keys them.
- **The history** (demo accounts only: people do it): closures, about seventy bookings over
  the last sixteen weeks and the coming two (campaigns in the atrium, meetings, the LED screen,
  parking for the campaign vans; some declined, some called off, the latest still waiting),
  pledges to proposals and a case (delivered, accepted, offered, declined, withdrawn), three
  agreements the partners drafted (one put into force by household administration, ending in
  45 days and reminded; one expired; one still a draft), volunteer shifts
  over the last eight weeks and the next two, and training sessions with their attendance.
  Each kind is told once: when its demo rows are there, none is written again, so a second run
  (on the same day or a later one) writes nothing.

The history is replayed through the services at the moments it happened, oldest first, with
the services' clock set back (``governance.core.clock.replaying``) and notifications muted (the
people would otherwise be told today of months of bookings); whatever lies after the seed's
"now" has not happened yet (a decision still to come leaves a request waiting). One kind of
row is written here rather than by its service, after the same checks: the requests of
exit-entry and of the residents' committee, which have no demo account to act for them
(``booking_request`` needs someone acting for the requester, and a demo seat for them would
be one more published password); their decisions and cancellations go through the services.

The seeder then recomputes the partners metrics over the days the history covers, so the KPI
pages have figures and a second run finds nothing dirty.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.utils import timezone

from governance.cases.models import OPEN_STATUSES, Case
from governance.core.clock import replaying
from governance.core.seeding import SeedContext, sync_row
from governance.kpis.models import DirtyDay
from governance.kpis.seed import seed_metric_indicators
from governance.kpis.services import kpis_backfill, kpis_rollup
from governance.notifications.services import muted
from governance.proposals.models import Answer, Proposal
from governance.stakeholders.models import Organisation, User
from governance.stations.models import Station
from partners import metrics, services
from partners.models import (
    MIDNIGHT,
    Agreement,
    AvailabilityException,
    Booking,
    OpeningRule,
    Pledge,
    Resource,
    TrainingSession,
    VolunteerShift,
)

TZ = ZoneInfo("Asia/Shanghai")
STATION = "chenghua-mixc"
DOMAIN = "demo.gongzhi.local"
PARTNERS = ("mall", "bank", "telecom")

MODELS = (
    "partners.Resource",
    "partners.OpeningRule",
    "partners.AvailabilityException",
    "partners.Booking",
    "partners.Pledge",
    "partners.Agreement",
    "partners.Agreement_departments",
    "partners.VolunteerShift",
    "partners.TrainingSession",
    "partners.Attendance",
    "kpis.Indicator",
    "kpis.Indicator_owners",
    "kpis.Target",
    "kpis.Measurement",
)

# The people who act in the history (demo accounts, see governance.stakeholders.seed), and
# who acts for each organisation that books or decides.
PEOPLE = {
    "admin": f"admin@{DOMAIN}",
    "hukou-staff": f"hukou.staff@{DOMAIN}",
    "hukou-admin": f"hukou.admin@{DOMAIN}",
    "traffic-staff": f"traffic.staff@{DOMAIN}",
    "mall-staff": f"mall.staff@{DOMAIN}",
    "mall-admin": f"mall.admin@{DOMAIN}",
    "bank-admin": f"bank.admin@{DOMAIN}",
}
ACTS_FOR = {
    "hukou": "hukou-staff",
    "traffic": "traffic-staff",
    "mall": "mall-staff",
    "bank": "bank-admin",
}
# Where each demo person sits (the organisation they train for).
SEATS = {
    "hukou-staff": "hukou",
    "hukou-admin": "hukou",
    "traffic-staff": "traffic",
    "mall-staff": "mall",
    "mall-admin": "mall",
    "bank-admin": "bank",
}
COMMUNITY = "shuangqing-community"

# The catalogue -----------------------------------------------------------------------------------

TEN, TWENTY_TWO = dt.time(10), dt.time(22)
MALL_HOURS = tuple((day, TEN, TWENTY_TWO) for day in range(7))
OFFICE_HOURS = tuple((day, dt.time(9), dt.time(18)) for day in range(5))
BANK_HOURS = tuple((day, dt.time(9), dt.time(17)) for day in range(5))
ROUND_THE_CLOCK = tuple((day, MIDNIGHT, MIDNIGHT) for day in range(7))


@dataclass(frozen=True)
class Item:
    """One resource of a partner's catalogue; ``key`` names it in this module only."""

    partner: str
    key: str
    kind: str
    name_zh: str
    name_en: str
    description_zh: str
    description_en: str
    quantity: str
    unit: str
    place_zh: str = ""
    place_en: str = ""
    visibility: str = "public"
    bookable: bool = True
    max_hours: int = 8
    hours: tuple = MALL_HOURS
    at_station: bool = True


CATALOGUE = (
    Item(
        "mall",
        "atrium",
        "space",
        "中庭活动场地",
        "Atrium event space",
        "一楼中庭约 400 平方米的开放场地，可布置展板、咨询台和小型舞台，适合警务宣传、便民服务"
        "和社区活动。活动须在商场营业时间内进行，搭建和撤场计入预约时间。",
        "About 400 square metres of open floor in the ground-floor atrium, for display boards, "
        "advice desks and a small stage: police campaigns, public services and community "
        "events. Events run within the mall's opening hours; setting up and clearing away count "
        "as booked time.",
        "400",
        "sqm",
        place_zh="一楼中庭",
        place_en="Ground floor, atrium",
        max_hours=12,
    ),
    Item(
        "mall",
        "meeting-room",
        "space",
        "物业管理处会议室",
        "Management office meeting room",
        "可容纳 20 人，配投影和视频会议设备，供警企联席会议、培训和活动筹备使用。",
        "Seats 20, with a projector and video conferencing: joint meetings, training and event "
        "planning.",
        "20",
        "people",
        place_zh="三楼物业管理处",
        place_en="3rd floor, management office",
        visibility="stakeholders",
        max_hours=4,
        hours=OFFICE_HOURS,
    ),
    Item(
        "mall",
        "counter-space",
        "counter",
        "服务站办事窗口场地",
        "Service station counter space",
        "负一楼地铁出口旁约 180 平方米的场地，含 6 个办事窗口和等候区，由商场无偿提供给智慧"
        "警务服务站长期使用，水电和保洁由商场承担。",
        "About 180 square metres next to the B1 metro exit, with six service counters and a "
        "waiting area, given free of charge to the police service station for its permanent "
        "use; the mall pays for utilities and cleaning.",
        "180",
        "sqm",
        place_zh="负一楼地铁出口旁",
        place_en="B1, next to the metro exit",
        bookable=False,
    ),
    Item(
        "mall",
        "kiosks",
        "equipment",
        "自助服务终端",
        "Self-service kiosks",
        "两台自助服务终端，可办理证件照采集、交通违法查询和户籍证明打印，由商场采购和维护。",
        "Two self-service kiosks for ID photos, traffic-violation lookups and household "
        "certificates, bought and maintained by the mall.",
        "2",
        "items",
        place_zh="服务站等候区",
        place_en="Station waiting area",
        bookable=False,
    ),
    Item(
        "mall",
        "led",
        "equipment",
        "中庭 LED 大屏",
        "Atrium LED screen",
        "中庭 12 米宽的 LED 大屏，可整日轮播警务宣传片和便民提示，视频由申请单位提供。",
        "The atrium's 12-metre LED screen shows police campaign films and public notices all "
        "day; the requesting organisation supplies the video.",
        "1",
        "items",
        place_zh="一楼中庭",
        place_en="Ground floor, atrium",
        visibility="stakeholders",
        max_hours=12,
    ),
    Item(
        "mall",
        "parking",
        "parking",
        "办事群众专用停车位",
        "Parking for station visitors",
        "负二楼 B 区靠近服务站电梯的 20 个车位，平时供办事群众免费停放两小时；"
        "宣传活动时可预约整区停放宣传车和流动采集车。",
        "Twenty spaces in zone B of level B2 by the station lift: free for two hours to people "
        "visiting the station, and bookable as a whole for campaign vehicles and mobile photo "
        "vans.",
        "20",
        "spaces",
        place_zh="负二楼 B 区",
        place_en="B2, zone B",
        max_hours=24,
        hours=ROUND_THE_CLOCK,
    ),
    Item(
        "mall",
        "volunteers",
        "volunteers",
        "商场志愿者引导服务",
        "Mall volunteer guides",
        "商场员工志愿者在服务站协助取号引导、自助终端使用和老年人陪同办理，每班最多 6 人。",
        "Mall staff volunteers help at the station with tickets, the kiosks and accompanying "
        "older people; up to six per shift.",
        "6",
        "people",
        place_zh="服务站",
        place_en="Service station",
        visibility="stakeholders",
        max_hours=8,
    ),
    Item(
        "mall",
        "funding",
        "funding",
        "便民服务专项资金",
        "Public service fund",
        "万象城每年安排的便民服务专项资金，用于服务站设施改善和群众建议的落实。",
        "The mall's yearly fund for the station's facilities and for carrying out the public's "
        "proposals.",
        "200000",
        "yuan",
        visibility="stakeholders",
        bookable=False,
        at_station=False,
    ),
    Item(
        "bank",
        "bank-room",
        "space",
        "网点二楼多功能会议室",
        "Branch meeting room, 2nd floor",
        "工行万象城支行二楼会议室，可容纳 12 人，工作日开放，适合业务对接和小型培训。",
        "The branch's second-floor meeting room for twelve, open on weekdays: working meetings "
        "and small training sessions.",
        "12",
        "people",
        place_zh="工行网点二楼",
        place_en="Bank branch, 2nd floor",
        visibility="stakeholders",
        max_hours=4,
        hours=BANK_HOURS,
    ),
    Item(
        "bank",
        "bank-kiosk",
        "equipment",
        "交通罚款自助缴费机",
        "Traffic fine payment kiosk",
        "放在服务站等候区的自助缴费机，支持银行卡和扫码缴纳交通违法罚款。",
        "A payment kiosk in the station's waiting area for traffic fines, by bank card or QR code.",
        "1",
        "items",
        place_zh="服务站等候区",
        place_en="Station waiting area",
        bookable=False,
    ),
    Item(
        "bank",
        "bank-volunteers",
        "volunteers",
        "金融知识宣传志愿者",
        "Financial literacy volunteers",
        "支行员工志愿者在宣传活动中讲解防范电信诈骗和非法集资知识。",
        "Branch staff volunteers who explain how to avoid telecom fraud and illegal "
        "fund-raising at campaigns.",
        "3",
        "people",
        visibility="stakeholders",
        max_hours=4,
    ),
    Item(
        "bank",
        "bank-funding",
        "funding",
        "反诈宣传专项经费",
        "Anti-fraud campaign fund",
        "支行每年用于与警方联合开展反诈宣传的经费。",
        "The branch's yearly budget for anti-fraud campaigns run with the police.",
        "30000",
        "yuan",
        visibility="stakeholders",
        bookable=False,
        at_station=False,
    ),
    Item(
        "telecom",
        "telecom-space",
        "space",
        "营业厅体验区",
        "Store experience area",
        "营业厅内约 40 平方米的体验区，可借用开展“天府通办”注册和手机实名认证指导。",
        "About 40 square metres in the store, lent for help with Tianfutong sign-up and mobile "
        "number real-name checks.",
        "40",
        "sqm",
        place_zh="一楼中国移动营业厅",
        place_en="Ground floor, China Mobile store",
        max_hours=4,
    ),
    Item(
        "telecom",
        "telecom-network",
        "other",
        "服务站网络保障",
        "Network support for the station",
        "为服务站提供专线网络和 5G 备份链路，故障 2 小时内到场处理。",
        "A dedicated line and a 5G backup link for the station, with an engineer on site within "
        "two hours of a fault.",
        "1",
        "items",
        visibility="stakeholders",
        bookable=False,
    ),
)

# The KPIs the partners share, with the organisations that own them.
INDICATORS = (
    (
        ("mall", "hukou"),
        {
            "code": "partners-volunteer-hours",
            "metric": "partners.volunteer_hours",
            "thresholds": (160, 130),
            "name_zh": "志愿服务时长",
            "name_en": "Volunteer hours",
            "description_zh": "当月企业伙伴志愿者在服务站已到岗班次的小时数。",
            "description_en": "Hours of the shifts partners' volunteers served at the station "
            "in the month.",
        },
    ),
    (
        ("mall", "bank", "hukou", "traffic", "exit-entry"),
        {
            "code": "partners-resource-hours",
            "metric": "partners.resource_hours",
            "thresholds": (70, 50),
            "name_zh": "企业资源贡献时长",
            "name_en": "Hours of partner resources used",
            "description_zh": "当月各部门和社区使用企业伙伴场地、设备和车位等资源的小时数"
            "（已批准并已实际使用的预约）。",
            "description_en": "Hours the departments and the community used the partners' "
            "spaces, equipment and parking in the month (approved bookings that took place).",
        },
    ),
    (
        ("mall", "bank", "hukou"),
        {
            "code": "partners-booking-response",
            "metric": "partners.booking_response_hours",
            "thresholds": (24, 48),
            "name_zh": "资源预约答复时长中位数",
            "name_en": "Median hours to answer a booking",
            "description_zh": "当月作出审批的资源预约，从提出申请到批准或拒绝的小时数的中位数。",
            "description_en": "The median number of hours from a booking request to its "
            "approval or refusal, over the requests decided in the month.",
        },
    ),
    (
        ("mall",),
        {
            "code": "partners-utilisation",
            "metric": "partners.utilisation",
            "thresholds": (4, 2.5),
            "name_zh": "共享资源利用率",
            "name_en": "Use of shared resources",
            "description_zh": "当月可预约资源的开放时间中被已批准预约占用的百分比。",
            "description_en": "The share of the bookable resources' open hours taken by "
            "approved bookings in the month, as a percentage.",
        },
    ),
    (
        ("hukou", "traffic", "mall"),
        {
            "code": "partners-training-hours",
            "metric": "partners.training_hours_per_member",
            "thresholds": (2, 1),
            "name_zh": "人均培训学时",
            "name_en": "Training hours per staff member",
            "description_zh": "当月在岗工作人员实际参加培训的学时除以在岗人数。",
            "description_en": "Training hours attended by staff members in the month, divided "
            "by the number of staff members.",
        },
    ),
)

# The history ---------------------------------------------------------------------------------

HISTORY_WEEKS = 16
AHEAD_WEEKS = 2
SHIFT_WEEKS = 8
# The atrium's renovation: from this many days ahead, for this many days.
RENOVATION = (9, 5)


@dataclass
class Ask:
    """A booking request and what became of it. ``answer``: approve, decline or wait;
    ``after`` hours from the request to the answer; ``cancel`` (who, why), ``cancel_days``
    before the start."""

    resource: str
    requester: str
    day: dt.date
    start: dt.time
    end: dt.time
    purpose: str
    lead: int
    answer: str = "approve"
    after: float = 6.0
    reason: str = ""
    decider: str = "mall-staff"
    cancel: tuple[str, str] | None = None
    cancel_days: float = 1.5

    @property
    def starts_at(self) -> dt.datetime:
        return dt.datetime.combine(self.day, self.start, TZ)

    @property
    def ends_at(self) -> dt.datetime:
        day = self.day + dt.timedelta(days=1) if self.end == MIDNIGHT else self.day
        return dt.datetime.combine(day, self.end, TZ)


def booking_plan(today: dt.date, rng: random.Random) -> list[Ask]:
    """The bookings of the last ``HISTORY_WEEKS`` weeks and the next ``AHEAD_WEEKS``: regular
    campaigns and meetings, and the stories that went otherwise."""
    asks: list[Ask] = []
    this_monday = today - dt.timedelta(days=today.weekday())
    for week in range(-HISTORY_WEEKS, AHEAD_WEEKS + 1):
        monday = this_monday + dt.timedelta(weeks=week)
        sat, sun = monday + dt.timedelta(days=5), monday + dt.timedelta(days=6)

        def add(resource, requester, day, start, end, purpose, lead=None, **extra):
            asks.append(
                Ask(
                    resource,
                    requester,
                    day,
                    dt.time(*start),
                    dt.time(*end),
                    purpose,
                    lead=lead if lead is not None else rng.randint(5, 12),
                    after=extra.pop("after", round(rng.uniform(1.5, 28), 1)),
                    decider=extra.pop(
                        "decider", "mall-admin" if rng.random() < 0.3 else "mall-staff"
                    ),
                    **extra,
                )
            )

        if week % 2 == 0:
            add(
                "meeting-room",
                "hukou",
                monday + dt.timedelta(days=2),
                (14,),
                (16,),
                "警企联席例会：服务站运行情况和下周活动安排",
                lead=rng.randint(3, 6),
            )
        if week % 4 == 1:
            add(
                "meeting-room",
                "traffic",
                monday + dt.timedelta(days=3),
                (10,),
                (11, 30),
                "交通安全宣传活动筹备会",
                lead=rng.randint(3, 6),
            )
        if week % 4 == 3:
            add(
                "bank-room",
                "hukou",
                monday + dt.timedelta(days=1),
                (10,),
                (11, 30),
                "社保卡金融功能激活业务对接会",
                decider="bank-admin",
            )
        if week % 8 == 5:
            add(
                "bank-room",
                "mall",
                monday + dt.timedelta(days=3),
                (15,),
                (16, 30),
                "警银企联合反诈宣传活动协调会",
                decider="bank-admin",
            )
        if week % 4 == 0:
            campaign = "交通安全宣传日：酒驾危害展板、头盔佩戴和模拟驾驶体验"
            cancel = None
            if week == -4:
                cancel = (
                    "traffic",
                    "气象台发布大风橙色预警，户外展板和体验设备无法布置，活动延期。",
                )
            add("atrium", "traffic", sat, (10,), (17,), campaign, lead=14, cancel=cancel)
            led_cancel = cancel
            if week == -8:
                led_cancel = ("mall", "LED 屏控制系统故障，需停机检修，无法播放，敬请谅解。")
            add(
                "led",
                "traffic",
                sat,
                (10,),
                (22,),
                "交通安全宣传片全天轮播",
                lead=13,
                cancel=led_cancel,
            )
            if week == -12:
                add(
                    "parking",
                    "traffic",
                    sat,
                    (9,),
                    (18,),
                    "交警宣传车和模拟驾驶车停放",
                    answer="decline",
                    reason="当天负二楼 B 区承接商场会员日活动，车位已全部预留。",
                )
            else:
                add(
                    "parking",
                    "traffic",
                    sat,
                    (9,),
                    (18,),
                    "交警宣传车和模拟驾驶车停放",
                    lead=13,
                    cancel=cancel,
                )
        if week % 4 == 2:
            add(
                "atrium",
                "hukou",
                sun,
                (13,),
                (18,),
                "反诈宣传进商场：防范电信网络诈骗现场咨询和案例展板",
            )
            add("led", "hukou", sun, (10,), (22,), "反诈宣传片全天轮播")
            if week == -6:
                add(
                    "atrium",
                    "traffic",
                    sat,
                    (13,),
                    (17,),
                    "交通安全进商场：电动自行车安全头盔佩戴宣传",
                    lead=12,
                    after=60,
                )
                add(
                    "atrium",
                    "bank",
                    sat,
                    (14,),
                    (18,),
                    "金融知识进商场：防范非法集资宣传",
                    lead=10,
                    after=40,
                    decider="mall-staff",
                    answer="decline",
                    reason="该时段中庭已批准交管部门的电动自行车安全宣传活动，建议改在周日下午"
                    "或下周六。",
                )
            else:
                add("atrium", "bank", sat, (14,), (18,), "金融知识进商场：防范非法集资宣传")
        if week % 6 == 3:
            add(
                "atrium",
                "exit-entry",
                sat,
                (10,),
                (16,),
                "出入境证件办理政策宣讲：节假日出游高峰前办证提示",
                lead=14,
            )
            add("parking", "exit-entry", sat, (9,), (17,), "流动出入境证件照采集车停放", lead=14)
        if week % 5 == 4:
            add(
                "atrium",
                COMMUNITY,
                sun,
                (10,),
                (12,),
                "双庆社区“银龄助办”志愿服务日：帮老年人预约和填写表格",
            )
        if week % 2 == 1:
            add(
                "volunteers",
                "hukou",
                sat,
                (10,),
                (14,),
                "周末高峰志愿者协助取号引导",
                lead=rng.randint(4, 7),
            )
        if week == -10:
            add(
                "atrium",
                "hukou",
                sat,
                (10,),
                (16,),
                "户籍业务政策宣传咨询",
                answer="decline",
                reason="当天中庭已安排商场周年庆活动，无法提供，建议改期。",
            )
    # The latest requests wait for the mall's answer.
    for ask in asks:
        if ask.day > today + dt.timedelta(days=6) and ask.requester in ("hukou", COMMUNITY):
            ask.answer = "wait"
    closed_from = today + dt.timedelta(days=RENOVATION[0])
    closed_to = closed_from + dt.timedelta(days=RENOVATION[1])
    return [
        ask
        for ask in asks
        if not (ask.resource in ("atrium", "led") and closed_from <= ask.day < closed_to)
    ]


@dataclass(frozen=True)
class Promise:
    """A pledge: ``target`` is ``proposal:<title>`` or ``case:<title>``; days count from the
    target's verdict (a proposal) or from its opening (a case), ``None`` when it never
    happened; ``end`` is the last step (declined, withdrawn) with its reason."""

    partner: str
    target: str
    resource: str | None
    quantity: str
    note: str
    offered: float
    accepted: float | None = None
    delivered: float | None = None
    end: tuple[str, float, str] | None = None
    recent: bool = False


APP_PROPOSAL = "proposal:在万象城会员 App 上线服务站预约取号"
SMS_PROPOSAL = "proposal:叫号前短信提醒，不用一直守在等候区"
SIGNS_PROPOSAL = "proposal:服务站标识增加英文"
CERT_PROPOSAL = "proposal:户籍证明提供电子版"
CASE_TITLE = "候区叫号广播声音太小"

PROMISES = (
    Promise(
        "mall",
        APP_PROPOSAL,
        "kiosks",
        "1",
        "在负一楼入口放置一台自助取号终端，支持扫会员 App 预约码直接取号。",
        offered=3,
        accepted=4,
        delivered=22,
    ),
    Promise(
        "mall",
        APP_PROPOSAL,
        "funding",
        "50000",
        "会员 App 预约取号功能的开发和短信费用。",
        offered=3.2,
        accepted=5,
    ),
    Promise(
        "bank",
        APP_PROPOSAL,
        "bank-funding",
        "10000",
        "资助预约取号功能开发。",
        offered=6,
        end=("decline", 7, "开发费用已由万象城承担，感谢支持，无需另行资助。"),
    ),
    Promise(
        "mall",
        SMS_PROPOSAL,
        "led",
        "1",
        "中庭 LED 大屏同步滚动显示服务站叫号信息，群众逛街时也能看到。",
        offered=5,
        accepted=6,
        delivered=20,
    ),
    Promise(
        "bank",
        SIGNS_PROPOSAL,
        "bank-funding",
        "8000",
        "资助制作中英文双语标识牌。",
        offered=6,
        recent=True,
    ),
    Promise(
        "mall",
        CERT_PROPOSAL,
        "volunteers",
        "2",
        "安排两名志愿者在自助终端旁协助群众下载电子户籍证明。",
        offered=2,
        end=("withdraw", 6, "志愿者排班已满，改为下季度再承诺。"),
    ),
    Promise(
        "mall",
        f"case:{CASE_TITLE}",
        "volunteers",
        "2",
        "高峰时段安排两名志愿者在等候区后排提醒叫号。",
        offered=1,
        recent=True,
    ),
)

VOLUNTEERS = ("张晓燕", "刘洋", "陈思雨", "杨帆", "黄丽", "赵磊", "周婷", "吴昊")
ROLES = ("取号引导", "自助终端协助", "排队秩序维护", "老年人陪同办理")
BANK_VOLUNTEERS = ("孙婷", "钱坤")


@dataclass(frozen=True)
class Session:
    """A training session ``days_ago`` (negative: ahead) at ``hour``; attendees are demo
    people (keys of :data:`PEOPLE`) or named volunteers ``(name, organisation slug)``; those
    in ``absent`` did not come."""

    organiser: str
    topic_zh: str
    topic_en: str
    trainer: str
    days_ago: int
    hour: int
    hours: str
    location: str
    people: tuple[str, ...] = ()
    named: tuple[tuple[str, str], ...] = ()
    absent: tuple[str, ...] = ()
    description: str = ""


SESSIONS = (
    Session(
        "bank",
        "社保卡金融功能与反洗钱基础",
        "Social security card banking and anti-money laundering basics",
        "工行成都分行 李经理",
        70,
        9,
        "1.5",
        "网点二楼多功能会议室",
        people=("bank-admin", "hukou-staff"),
    ),
    Session(
        "hukou",
        "窗口服务规范与群众工作方法",
        "Counter service standards and working with the public",
        "成华分局政治处 王老师",
        56,
        9,
        "3.0",
        "物业管理处会议室",
        people=("hukou-staff", "hukou-admin", "traffic-staff", "mall-staff"),
        named=(("出入境窗口 陈警官", "exit-entry"), ("张晓燕", "mall"), ("刘洋", "mall")),
        description="服务站窗口人员和志愿者的服务礼仪、首问负责和群众诉求记录。",
    ),
    Session(
        "mall",
        "志愿者引导服务与应急处置培训",
        "Volunteer guiding and emergency response",
        "万象城安全部 赵主管",
        42,
        9,
        "2.0",
        "服务站等候区",
        people=("mall-staff", "mall-admin"),
        named=tuple((name, "mall") for name in VOLUNTEERS),
        absent=("周婷",),
    ),
    Session(
        "traffic",
        "交通安全宣传讲解要点",
        "Giving a road safety talk",
        "交管成华分局 刘警官",
        28,
        9,
        "1.5",
        "物业管理处会议室",
        people=("traffic-staff", "hukou-staff"),
        named=(("陈思雨", "mall"), ("杨帆", "mall"), ("黄丽", "mall")),
    ),
    Session(
        "hukou",
        "反电信网络诈骗宣传培训",
        "Countering telecom fraud",
        "成华分局反诈中心 周警官",
        14,
        9,
        "2.5",
        "物业管理处会议室",
        people=("hukou-staff", "hukou-admin", "bank-admin", "mall-staff"),
        absent=("hukou-admin",),
    ),
    Session(
        "mall",
        "消防安全与疏散演练",
        "Fire safety and evacuation drill",
        "万象城安全部 赵主管",
        -9,
        9,
        "2.0",
        "服务站等候区",
        people=("mall-staff", "mall-admin", "hukou-staff"),
        named=tuple((name, "mall") for name in VOLUNTEERS[:4]),
    ),
)


# The seeder ----------------------------------------------------------------------------------


def seed_partners(context: SeedContext) -> None:
    organisations = {
        org.slug: org
        for org in Organisation.objects.filter(
            slug__in=(*PARTNERS, "hukou", "traffic", "exit-entry", "tianfu", COMMUNITY)
        )
    }
    station = Station.objects.filter(slug=STATION).first()
    if station is None or "mall" not in organisations:
        return
    catalogue = seed_catalogue(organisations, station)
    seed_indicators(context)
    if not context.with_demo_users:
        context.write("企业伙伴的预约、承诺和排班需要演示账号：未创建演示账号，只写入资源目录。")
        return
    people = {key: User.objects.filter(email=email).first() for key, email in PEOPLE.items()}
    if any(user is None for user in people.values()):
        return
    history = History(context, organisations, station, catalogue, people)
    if history.tell():
        roll_up(context, history.first_day)


def seed_catalogue(organisations, station) -> dict[str, Resource]:
    catalogue = {}
    for item in CATALOGUE:
        partner = organisations.get(item.partner)
        if partner is None:
            continue
        resource, _changed = sync_row(
            Resource,
            {"partner": partner, "name_zh": item.name_zh},
            {
                "kind": item.kind,
                "name_en": item.name_en,
                "description_zh": item.description_zh,
                "description_en": item.description_en,
                "station": station if item.at_station else None,
                "place_zh": item.place_zh,
                "place_en": item.place_en,
                "quantity": Decimal(item.quantity),
                "unit": item.unit,
                "visibility": item.visibility,
                "bookable": item.bookable,
                "max_booking_minutes": item.max_hours * 60,
                "is_active": True,
            },
        )
        sync_opening_rules(resource, item.hours)
        catalogue[item.key] = resource
    return catalogue


def sync_opening_rules(resource: Resource, windows) -> None:
    """Replace the resource's weekly rules with ``windows`` when they differ."""
    wanted = set(windows)
    current = set(resource.opening_rules.values_list("weekday", "opens", "closes"))
    if current == wanted:
        return
    OpeningRule.objects.filter(resource=resource).delete()
    OpeningRule.objects.bulk_create(
        OpeningRule(resource=resource, weekday=weekday, opens=opens, closes=closes)
        for weekday, opens, closes in sorted(wanted)
    )


def seed_indicators(context: SeedContext) -> None:
    for owners, spec in INDICATORS:
        seed_metric_indicators(context, [spec], owners)


def roll_up(context: SeedContext, first: dt.date) -> None:
    """Recompute the partners metrics over the history and the weeks ahead (utilisation counts
    what is booked for them), at the seed's "now"; then anything the services marked on the
    way. The KPI seeder ran before, and a second run must find nothing dirty."""
    last = context.today + dt.timedelta(weeks=AHEAD_WEEKS + 1)
    with replaying(lambda: context.now):
        kpis_backfill(start=first, end=last, metric_codes=metrics.CODES)
        while DirtyDay.objects.exists():
            if not kpis_rollup(limit=1000)["marks"]:
                break


# Replaying the history -------------------------------------------------------------------------


class _ReplayClock:
    def __init__(self):
        self.at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or timezone.now()


def _office(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The same moment if staff are at work then (09:00–18:00), else the next morning."""
    local = moment.astimezone(TZ)
    if 9 <= local.hour < 18:
        return moment
    day = local.date() + dt.timedelta(days=1 if local.hour >= 18 else 0)
    return dt.datetime.combine(day, dt.time(9, rng.randint(5, 55)), TZ)


@dataclass
class History:
    context: SeedContext
    organisations: dict[str, Organisation]
    station: Station
    catalogue: dict[str, Resource]
    people: dict[str, User]
    rng: random.Random = field(default_factory=lambda: random.Random("gongzhi-partners"))  # noqa: S311
    clock: _ReplayClock = field(default_factory=_ReplayClock)
    events: list[tuple[dt.datetime, int, Callable[[], None]]] = field(default_factory=list)
    told: dict[str, int] = field(default_factory=dict)
    # The first moment a metric counts (agreements count in none).
    earliest: dt.datetime | None = None

    @property
    def now(self) -> dt.datetime:
        return self.context.now

    @property
    def today(self) -> dt.date:
        return self.context.today

    @property
    def first_day(self) -> dt.date:
        return (self.earliest or self.now).astimezone(TZ).date()

    def on(self, moment: dt.datetime, action: Callable[[], None], *, measured=True) -> None:
        self.events.append((moment, len(self.events), action))
        if measured and (self.earliest is None or moment < self.earliest):
            self.earliest = moment

    def at(self, days_ago: float, hour: int = 10, minute: int = 0) -> dt.datetime:
        day = self.today - dt.timedelta(days=int(days_ago))
        return dt.datetime.combine(day, dt.time(hour, minute), TZ)

    def count(self, kind: str) -> None:
        self.told[kind] = self.told.get(kind, 0) + 1

    def tell(self) -> bool:
        """Plan every part not told yet, then play the actions in order up to now."""
        partners = [self.organisations[slug] for slug in PARTNERS if slug in self.organisations]
        resources = list(self.catalogue.values())
        if not AvailabilityException.objects.filter(resource__in=resources).exists():
            self.plan_closures()
        if not Booking.objects.filter(resource__in=resources).exists():
            self.plan_bookings()
        if not Pledge.objects.filter(partner__in=partners).exists():
            self.plan_pledges()
        if not Agreement.objects.filter(partner__in=partners).exists():
            self.plan_agreements()
        if not VolunteerShift.objects.filter(partner__in=partners).exists():
            self.plan_shifts()
        if not TrainingSession.objects.filter(topic_zh__in=[s.topic_zh for s in SESSIONS]).exists():
            self.plan_trainings()
        if not self.events:
            return False
        with replaying(self.clock), muted():
            for moment, _order, action in sorted(self.events, key=lambda event: event[:2]):
                if moment > self.now:
                    continue
                self.clock.at = moment
                action()
            self.clock.at = None
        summary = "，".join(f"{kind} {count}" for kind, count in sorted(self.told.items()))
        self.context.write(f"企业伙伴演示记录：{summary}。")
        return True

    # Closures ---------------------------------------------------------------------------------
    def plan_closures(self) -> None:
        staff = self.people["mall-staff"]
        atrium, led = self.catalogue.get("atrium"), self.catalogue.get("led")
        if atrium is not None:
            start = self.today + dt.timedelta(days=RENOVATION[0])
            end = start + dt.timedelta(days=RENOVATION[1])
            self.on(
                self.at(20, 16),
                self.closing(
                    staff,
                    atrium,
                    dt.datetime.combine(start, dt.time(0), TZ),
                    dt.datetime.combine(end, dt.time(0), TZ),
                    "中庭地面翻新改造，暂停对外开放",
                ),
            )
        if led is not None:
            monday = self.today - dt.timedelta(days=self.today.weekday(), weeks=7)
            self.on(
                self.at((self.today - monday).days + 5, 11),
                self.closing(
                    staff,
                    led,
                    dt.datetime.combine(monday + dt.timedelta(days=1), TEN, TZ),
                    dt.datetime.combine(monday + dt.timedelta(days=2), TWENTY_TWO, TZ),
                    "LED 屏年度维护保养",
                ),
            )

    def closing(self, actor, resource, starts_at, ends_at, reason):
        def action():
            services.exception_add(
                actor=actor,
                resource=resource,
                kind=AvailabilityException.Kind.CLOSED,
                starts_at=starts_at,
                ends_at=ends_at,
                reason=reason,
            )
            self.count("closures")

        return action

    # Bookings ---------------------------------------------------------------------------------
    def plan_bookings(self) -> None:
        for ask in booking_plan(self.today, self.rng):
            resource = self.catalogue.get(ask.resource)
            requester = self.organisations.get(ask.requester)
            if resource is None or requester is None:
                continue
            asked = _office(
                dt.datetime.combine(
                    ask.day - dt.timedelta(days=ask.lead),
                    dt.time(self.rng.randint(9, 16), self.rng.randint(0, 59)),
                    TZ,
                ),
                self.rng,
            )
            if ask.day > self.today:
                # The coming weeks' requests are in already, some of them still unanswered.
                asked = min(asked, self.now - dt.timedelta(hours=self.rng.randint(2, 72)))
            made: dict[str, Booking] = {}
            self.on(asked, self.requesting(ask, resource, requester, made))
            if ask.answer == "wait":
                continue
            answered = _office(asked + dt.timedelta(hours=ask.after), self.rng)
            answered = min(answered, ask.starts_at - dt.timedelta(hours=2))
            self.on(max(answered, asked + dt.timedelta(minutes=20)), self.answering(ask, made))
            if ask.cancel is not None:
                moment = _office(ask.starts_at - dt.timedelta(days=ask.cancel_days), self.rng)
                self.on(moment, self.cancelling(ask, made))

    def requesting(self, ask: Ask, resource: Resource, requester: Organisation, made: dict):
        def action():
            actor_key = ACTS_FOR.get(ask.requester)
            if actor_key is not None:
                made["booking"] = services.booking_request(
                    actor=self.people[actor_key],
                    resource=resource,
                    requester=requester,
                    starts_at=ask.starts_at,
                    ends_at=ask.ends_at,
                    purpose=ask.purpose,
                )
            else:
                made["booking"] = self.request_without_account(ask, resource, requester)
            self.count("bookings")

        return action

    def request_without_account(self, ask: Ask, resource: Resource, requester: Organisation):
        """The request of an organisation with no demo account, as its clerk made it: the same
        checks as ``booking_request`` (the period, an approved booking in the way), then the
        row."""
        now = self.clock()
        services.check_period(resource, ask.starts_at, ask.ends_at, now=now)
        taken = services.conflicting_booking(resource.pk, ask.starts_at, ask.ends_at)
        if taken is not None:
            raise services.BookingOverlap(taken)
        booking = Booking(
            resource=resource,
            requester=requester,
            starts_at=ask.starts_at,
            ends_at=ask.ends_at,
            purpose=ask.purpose,
            created_at=now,
        )
        # Nobody with an account asked: the requester field stays empty.
        booking.full_clean(exclude=["requested_by"])
        booking.save()
        return booking

    def answering(self, ask: Ask, made: dict):
        def action():
            actor = self.people[ask.decider]
            if ask.answer == "decline":
                made["booking"] = services.booking_decline(
                    actor=actor, booking=made["booking"], reason=ask.reason
                )
            else:
                made["booking"] = services.booking_approve(actor=actor, booking=made["booking"])

        return action

    def cancelling(self, ask: Ask, made: dict):
        def action():
            side, reason = ask.cancel
            actor = self.people[ACTS_FOR[side]]
            if made["booking"].status != Booking.Status.APPROVED:
                return
            made["booking"] = services.booking_cancel(
                actor=actor, booking=made["booking"], reason=reason
            )

        return action

    # Pledges ----------------------------------------------------------------------------------
    def plan_pledges(self) -> None:
        for promise in PROMISES:
            partner = self.organisations.get(promise.partner)
            actor_key = ACTS_FOR.get(promise.partner)
            target, since = self.target(promise.target)
            if partner is None or actor_key is None or target is None:
                continue
            resource = self.catalogue.get(promise.resource) if promise.resource else None
            offered = _office(since + dt.timedelta(days=promise.offered), self.rng)
            if promise.recent:
                offered = max(offered, _office(self.now - dt.timedelta(days=2), self.rng))
                offered = min(offered, self.now - dt.timedelta(hours=1))
            made: dict[str, Pledge] = {}
            self.on(offered, self.offering(promise, partner, target, resource, made))
            decider = self.responsible_actor(target)
            for days, step in ((promise.accepted, "accept"), (promise.delivered, "deliver")):
                if days is not None and decider is not None:
                    moment = _office(since + dt.timedelta(days=days), self.rng)
                    self.on(
                        max(moment, offered + dt.timedelta(hours=1)),
                        self.answering_pledge(step, decider, made),
                    )
            if promise.end is not None:
                step, days, reason = promise.end
                who = decider if step == "decline" else self.people[actor_key]
                if who is not None:
                    moment = _office(since + dt.timedelta(days=days), self.rng)
                    self.on(
                        max(moment, offered + dt.timedelta(hours=1)),
                        self.answering_pledge(step, who, made, reason),
                    )

    def target(self, key: str) -> tuple[Proposal | Case | None, dt.datetime | None]:
        """The proposal (from its verdict) or case (from its opening) a pledge goes to."""
        kind, _sep, title = key.partition(":")
        if kind == "proposal":
            proposal = Proposal.objects.filter(title=title).first()
            if proposal is None or proposal.status not in services.PLEDGEABLE_PROPOSALS:
                return None, None
            verdict = (
                Answer.objects.filter(proposal=proposal, published_at__isnull=False)
                .order_by("-published_at")
                .values_list("published_at", flat=True)
                .first()
            )
            return proposal, verdict or proposal.published_at
        case = (
            Case.objects.filter(
                title=title, status__in=OPEN_STATUSES, is_public=True, responsible__isnull=False
            ).first()
            or Case.objects.filter(
                status__in=OPEN_STATUSES,
                is_public=True,
                responsible__kind=Organisation.Kind.DEPARTMENT,
                responsible__slug__in=ACTS_FOR,
            )
            .order_by("-created_at")
            .first()
        )
        return case, case.created_at if case is not None else None

    def responsible_actor(self, target) -> User | None:
        slugs = {org.pk: slug for slug, org in self.organisations.items()}
        key = ACTS_FOR.get(slugs.get(target.responsible_id, ""))
        return self.people[key] if key is not None else None

    def offering(self, promise: Promise, partner, target, resource, made: dict):
        def action():
            today = self.clock().astimezone(TZ).date()
            made["pledge"] = services.pledge_offer(
                actor=self.people[ACTS_FOR[promise.partner]],
                partner=partner,
                quantity=promise.quantity,
                starts_on=today + dt.timedelta(days=7),
                ends_on=today + dt.timedelta(days=90),
                proposal=target if isinstance(target, Proposal) else None,
                case=target if isinstance(target, Case) else None,
                resource=resource,
                note=promise.note,
            )
            self.count("pledges")

        return action

    def answering_pledge(self, step: str, actor: User, made: dict, reason: str = ""):
        def action():
            pledge = made.get("pledge")
            if pledge is None:
                return
            if step == "accept":
                made["pledge"] = services.pledge_accept(actor=actor, pledge=pledge)
            elif step == "deliver":
                made["pledge"] = services.pledge_deliver(actor=actor, pledge=pledge)
            elif step == "decline":
                made["pledge"] = services.pledge_decline(actor=actor, pledge=pledge, reason=reason)
            else:
                made["pledge"] = services.pledge_withdraw(actor=actor, pledge=pledge, reason=reason)

        return action

    # Agreements -------------------------------------------------------------------------------
    def plan_agreements(self) -> None:
        departments = [
            self.organisations[slug]
            for slug in ("hukou", "traffic", "exit-entry", "tianfu")
            if slug in self.organisations
        ]
        hukou = [self.organisations["hukou"]] if "hukou" in self.organisations else departments
        traffic = [self.organisations.get("traffic") or departments[0]]
        today = self.today
        ends = today + dt.timedelta(days=45)
        self.agreement(
            "mall-admin",
            departments,
            activated_by="hukou-admin",
            created=today - dt.timedelta(days=323),
            starts_on=ends - dt.timedelta(days=365),
            ends_on=ends,
            title_zh="成华区万象城智慧警务服务站共建合作协议",
            title_en="Agreement on running the Chenghua Mixc smart police service station",
            scope_zh="万象城无偿提供负一楼服务站场地、水电、保洁、停车位和志愿者；"
            "各部门派驻窗口人员、负责业务办理和系统维护；双方每月召开联席会议。",
            scope_en="The mall provides the B1 station premises, utilities, cleaning, parking "
            "and volunteers free of charge; the departments staff the counters and run the "
            "services and systems; both sides meet monthly.",
        )
        expired = today - dt.timedelta(days=20)
        self.agreement(
            "mall-admin",
            traffic,
            # Traffic has no demo admin: the platform's administrator put it into force.
            activated_by="admin",
            created=expired - dt.timedelta(days=380),
            starts_on=expired - dt.timedelta(days=364),
            ends_on=expired,
            title_zh="交通安全宣传停车位共享协议（年度）",
            title_en="Parking for road safety campaigns (yearly agreement)",
            scope_zh="宣传活动日负二楼 B 区 20 个车位供交警宣传车和模拟驾驶车停放。",
            scope_en="On campaign days the 20 spaces of B2 zone B hold the traffic police's "
            "campaign and driving-simulator vehicles.",
        )
        self.agreement(
            "bank-admin",
            hukou,
            created=today - dt.timedelta(days=6),
            starts_on=today + dt.timedelta(days=30),
            ends_on=today + dt.timedelta(days=760),
            title_zh="金融服务进警务站合作备忘录（草案）",
            title_en="Memorandum on banking services at the police station (draft)",
            scope_zh="工行在服务站设置交通罚款自助缴费机，派员协助社保卡金融功能激活，"
            "并与户政部门联合开展反诈宣传。",
            scope_en="The bank places a traffic-fine payment kiosk at the station, sends staff "
            "to help activate social security cards' banking functions, and runs anti-fraud "
            "campaigns with household administration.",
        )

    def agreement(
        self, actor_key, departments, *, activated_by=None, created, starts_on, ends_on, **text
    ):
        """Drafted by the partner's admin on ``created``; put into force three days later by
        ``activated_by`` (an admin of one of its departments, or the platform's), if anyone."""
        partner = self.organisations["bank" if actor_key.startswith("bank") else "mall"]
        made: dict[str, Agreement] = {}

        def draft():
            made["agreement"] = services.agreement_create(
                actor=self.people[actor_key],
                partner=partner,
                departments=departments,
                data={**text, "starts_on": starts_on, "ends_on": ends_on},
            )
            self.count("agreements")

        def activate():
            made["agreement"] = services.agreement_update(
                actor=self.people[activated_by],
                agreement=made["agreement"],
                data={},
                status=Agreement.Status.ACTIVE,
            )

        drafted = dt.datetime.combine(created, dt.time(10), TZ)
        self.on(drafted, draft, measured=False)
        if activated_by is None:
            return
        self.on(drafted + dt.timedelta(days=3), activate, measured=False)
        # The daily sweep told both sides 60 and 14 days before the end, each once.
        for days in services.REMINDER_DAYS:
            day = ends_on - dt.timedelta(days=days)
            moment = dt.datetime.combine(day, dt.time(8, 30), TZ)
            self.on(moment, lambda day=day: services.agreements_remind(today=day), measured=False)

    # Volunteers -------------------------------------------------------------------------------
    def plan_shifts(self) -> None:
        mall, bank = self.organisations["mall"], self.organisations.get("bank")
        first = self.today - dt.timedelta(weeks=SHIFT_WEEKS)
        turn = 0
        for offset in range((SHIFT_WEEKS + AHEAD_WEEKS) * 7 + 1):
            day = first + dt.timedelta(days=offset)
            # Weekends: two volunteers each half day; weekdays: one over lunch.
            slots = [(10, 4), (10, 4), (14, 4), (14, 4)] if day.weekday() >= 5 else [(12, 2)]
            for hour, hours in slots:
                volunteer = VOLUNTEERS[turn % len(VOLUNTEERS)]
                role = ROLES[turn % len(ROLES)]
                turn += 1
                self.shift(mall, "mall-staff", day, hour, hours, volunteer, role)
            if bank is not None and day.weekday() == 5 and day.isocalendar().week % 2 == 0:
                volunteer = BANK_VOLUNTEERS[day.isocalendar().week // 2 % len(BANK_VOLUNTEERS)]
                self.shift(bank, "bank-admin", day, 14, 3, volunteer, "反诈和金融知识讲解")

    def shift(self, partner, actor_key, day, hour, hours, volunteer, role) -> None:
        starts_at = dt.datetime.combine(day, dt.time(hour), TZ)
        ends_at = starts_at + dt.timedelta(hours=hours)
        made: dict[str, VolunteerShift] = {}
        planned = _office(starts_at - dt.timedelta(days=self.rng.randint(7, 12)), self.rng)
        # The rota of the coming weeks is out already.
        planned = min(planned, self.now - dt.timedelta(hours=self.rng.randint(2, 48)))

        def create():
            made["shift"] = services.shift_create(
                actor=self.people[actor_key],
                partner=partner,
                data={
                    "station": self.station,
                    "volunteer": volunteer,
                    "role": role,
                    "starts_at": starts_at,
                    "ends_at": ends_at,
                },
            )
            self.count("shifts")

        def setting(status):
            def action():
                made["shift"] = services.shift_update(
                    actor=self.people[actor_key], shift=made["shift"], data={"status": status}
                )

            return action

        self.on(planned, create)
        draw = self.rng.random()
        if draw < 0.04:
            self.on(starts_at - dt.timedelta(hours=20), setting(VolunteerShift.Status.CANCELLED))
        elif draw < 0.09:
            self.on(starts_at + dt.timedelta(minutes=30), setting(VolunteerShift.Status.MISSED))
        else:
            self.on(ends_at + dt.timedelta(minutes=10), setting(VolunteerShift.Status.DONE))

    # Training ---------------------------------------------------------------------------------
    def plan_trainings(self) -> None:
        for session in SESSIONS:
            organiser = self.organisations.get(session.organiser)
            actor_key = ACTS_FOR.get(session.organiser)
            if organiser is None or actor_key is None:
                continue
            starts_at = self.at(session.days_ago, session.hour)
            made: dict[str, TrainingSession] = {}
            self.on(starts_at - dt.timedelta(days=10), self.organising(session, organiser, made))
            attended = starts_at <= self.now
            moment = starts_at + dt.timedelta(hours=float(session.hours), minutes=10)
            if not attended:
                moment = self.now - dt.timedelta(hours=1)
            self.on(moment, self.attending(session, actor_key, made, attended))

    def organising(self, session: Session, organiser, made: dict):
        def action():
            made["session"] = services.training_create(
                actor=self.people[ACTS_FOR[session.organiser]],
                organiser=organiser,
                data={
                    "topic_zh": session.topic_zh,
                    "topic_en": session.topic_en,
                    "trainer": session.trainer,
                    "station": self.station,
                    "location": session.location,
                    "starts_at": self.at(session.days_ago, session.hour),
                    "hours": Decimal(session.hours),
                    "description": session.description,
                },
            )
            self.count("trainings")

        return action

    def attending(self, session: Session, actor_key: str, made: dict, attended: bool):
        def action():
            entries = []
            for key in session.people:
                user = self.people[key]
                slug = SEATS[key]
                entries.append(
                    {
                        "name": user.display_name,
                        "user": user,
                        "organisation": self.organisations[slug],
                        "attended": attended and key not in session.absent,
                    }
                )
            for name, slug in session.named:
                if slug in self.organisations:
                    entries.append(
                        {
                            "name": name,
                            "organisation": self.organisations[slug],
                            "attended": attended and name not in session.absent,
                        }
                    )
            services.attendance_record(
                actor=self.people[actor_key], session=made["session"], attendees=entries
            )

        return action
