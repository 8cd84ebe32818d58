"""Demo seed: ratings of about a third of the last 90 days' visits, online ratings, suggestions,
complaints and praise, the bad-rating loop told through the services, two appeals, each
department's deadlines, and the KPIs on the feedback figures.

Runs after the stations seeder (the visits), the cases seeder (the routing rules a
rectification case follows) and the KPI seeder. The deadlines, indicators and targets are keyed
on natural keys (the organisation, the indicator's code, a target's period and scope); the
history is told once: when any demo feedback is there (``device`` is :data:`DEVICE`), none is
written again, so a second run, on the same day or a later one, writes nothing.

Each visit draws from ``random.Random`` seeded with its station, arrival and ticket, so the mix
comes out the same on every machine: about 88 % of ratings at 满意 or 非常满意 and 4 % at
不满意 or 非常不满意, with reasons, some comments and a few contact details. The plain rows are
bulk-inserted; each bad rating then goes through the services as it would live
(``rectification_open``, the handler's acknowledgement, a return visit with
``case_record_contact``, the resolution with ``case_transition`` and the rater's re-rating), at
the times it happened. As in the cases seeder, the services read the replayed time as "now"
and publish nothing while the history is told (see :func:`_replaying`).

The handlers are demo accounts: without them the seeder writes the deadlines and the KPIs only.
It rolls up what it changed itself (the KPI seeder ran before it).
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass

from django.db.models import Min
from django.utils import timezone

from feedback import metrics
from feedback import services as feedback_services
from feedback.models import BAD_LEVELS, Channel, Feedback, FeedbackPolicy, Kind
from feedback.reasons import for_level
from governance.cases import metrics as case_metrics
from governance.cases import services as case_services
from governance.cases import sla
from governance.cases.models import Status
from governance.core.clock import replaying
from governance.core.seeding import SeedContext, sync_row
from governance.kpis.models import DirtyDay
from governance.kpis.registry import TZ, day_range, day_start
from governance.kpis.seed import seed_metric_indicators
from governance.kpis.services import kpis_backfill, kpis_mark_dirty, kpis_rollup
from governance.notifications.services import muted
from governance.stakeholders.models import Organisation, User
from governance.stations.models import Service, Station, Visit

MODELS = (
    "feedback.FeedbackPolicy",
    "feedback.Feedback",
    "feedback.Appeal",
    "cases.Case",
    "cases.TimelineEntry",
    "kpis.Indicator",
    "kpis.Indicator_owners",
    "kpis.Target",
    "kpis.Measurement",
)

# Marks the demo rows: the history is told once.
DEVICE = "demo-seed"
WINDOW_DAYS = 90
RATED_SHARE = 1 / 3
# Level → share of ratings: 89 % good (4–5), 7 % fair, 4 % bad (1–2); a visit sent away for a
# missing document is rated a little lower, which brings the good ones near 88 %.
LEVEL_WEIGHTS = {5: 67, 4: 22, 3: 7, 2: 2.5, 1: 1.5}
DEPARTMENTS = ("hukou", "traffic", "exit-entry", "tianfu")
RETURN_VISIT_DAYS = 1
RECTIFY_DAYS = 15
ONLINE_PER_DAY = 0.8

ADMIN = "admin@demo.gongzhi.local"
CITIZEN = "citizen@demo.gongzhi.local"
# organisation → (who handles its feedback and rectification cases, who decides an appeal)
HANDLERS = {
    "hukou": ("hukou.staff@demo.gongzhi.local", "hukou.admin@demo.gongzhi.local"),
    "traffic": ("traffic.staff@demo.gongzhi.local", ADMIN),
    "exit-entry": (ADMIN, ADMIN),
    "tianfu": (ADMIN, ADMIN),
    "mall": ("mall.staff@demo.gongzhi.local", "mall.admin@demo.gongzhi.local"),
}
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"

COMMENTS = {
    5: (
        "工作人员很耐心，一次就办好了，点赞！",
        "周末也能办证，太方便了。",
        "叫号很快，前后不到二十分钟。",
        "窗口的工作人员讲得很清楚，材料一次就备齐了。",
        "在商场里就能办，逛街顺便把事情办了。",
        "给老人办证，工作人员主动搬了椅子，很贴心。",
        "比去派出所方便多了，晚上也开门。",
    ),
    4: (
        "整体很满意，就是取号的地方不太好找。",
        "自助机很好用，旁边还有人指导。",
        "材料带错了，工作人员帮忙想办法，没有白跑。",
        "环境干净，等候区有充电的地方。",
    ),
    3: (
        "办得还行，就是等得有点久。",
        "流程可以，取号机不太好用。",
        "整体还可以，希望高峰时多开一个窗口。",
        "工作人员态度挺好，就是系统有点慢。",
    ),
}
BAD_COMMENTS = {
    "waiting_time": "排了一个多小时才叫到号，只开了一个窗口。",
    "attitude": "问了两遍材料要求，工作人员很不耐烦。",
    "documents": "网上说带身份证就行，到了又要户口簿，白跑一趟。",
    "system_down": "系统一直转圈，等了四十分钟说今天办不了。",
    "not_done": "材料都带齐了还是没办成，让我下周再来。",
    "facilities": "自助机坏了两台，也没有人管。",
    "guidance_unclear": "不知道该取哪个号，问了三个人才弄清楚。",
}
RETURN_VISITS = (
    "已电话联系评价人，致歉并了解具体情况，告知整改安排和时限。",
    "电话回访：评价人反映的问题属实，已说明原因并致歉，约定整改后再次回访。",
    "已联系评价人，核实了办件经过，评价人同意等待整改结果。",
)
MEASURES = (
    "整改措施：高峰时段增开一个窗口，由值班长现场调度排队。",
    "整改措施：已对当班工作人员进行服务规范提醒，并纳入本月考核。",
    "整改措施：办事指南已更新，窗口张贴一次性告知单。",
    "整改措施：设备已报修并更换，每天开门前检查一遍。",
)
RERATINGS = {
    5: "工作人员主动打电话说明情况，问题解决了，谢谢。",
    4: "整改挺及时，这次来办很顺利。",
    3: "解决了，但是花的时间有点长。",
    2: "回访了，但问题还是没有彻底解决。",
}
HIDDEN_TEXT = "什么破地方，工作人员全是摆设！！！"
APPEALS = (
    (
        True,
        "评价人当天并未在本站办理业务：办件记录显示该号在叫号前已离开，评价内容与办件不符。",
        "经核查叫号记录和监控，评价所述情况与办件不符，申诉成立，该评价不计入统计。",
    ),
    (
        False,
        "高峰时段等候时间长是客观原因，当班窗口已全部开放，申请不计入差评。",
        "等候时间长确实影响了群众体验，不属于恶意评价，申诉不成立，请按整改流程处理。",
    ),
)


@dataclass(frozen=True)
class Note:
    """A suggestion, complaint or praise, and the public reply if there is one."""

    days_ago: float
    kind: str
    subject: str  # "service:CODE" or "station:slug"
    text: str
    reply: str = ""
    contact: tuple[str, str] = ("", "")


NOTES = (
    Note(
        78.3,
        Kind.SUGGESTION,
        "station:chenghua-mixc",
        "建议在等候区增加几个充电插座，排队时手机经常没电。",
        "感谢建议。商场已在等候区安装了 8 个 USB 充电口和一台共享充电宝，欢迎使用。",
    ),
    Note(
        52.6,
        Kind.SUGGESTION,
        "service:EE-PASSPORT",
        "节假日前办护照的人很多，建议开放网上预约时段，避免大家都挤在周末。",
        "感谢建议。节前两周起可以通过“移民局”App 预约服务站的办理时段，预约号优先叫号。",
    ),
    Note(
        20.4,
        Kind.SUGGESTION,
        "station:chenghua-government-services",
        "希望周六下午也能开放，上班族工作日请假不方便。",
    ),
    Note(
        6.2,
        Kind.SUGGESTION,
        "service:TR-VIOLATION",
        "自助处理违法的机器能不能支持扫码缴款？现在只能插银行卡。",
    ),
    Note(
        64.5,
        Kind.COMPLAINT,
        "service:HK-RESPERMIT",
        "居住证申请交了三周还没有消息，打窗口电话也没人接。",
        "很抱歉让您久等。您的申请需要社区民警上门核实，现已核实完毕，证件可以领取了。"
        "窗口电话已增加专人接听时段。",
        contact=("赵女士", "13800002101"),
    ),
    Note(
        33.2,
        Kind.COMPLAINT,
        "station:chenghua-mixc",
        "服务站门口的指示牌太小，在商场里绕了半天才找到。",
        "感谢反映。商场已在各出入口和电梯厅增设服务站导视牌，负一楼地面也加了指引贴。",
    ),
    Note(
        11.3,
        Kind.COMPLAINT,
        "service:EE-PHOTO",
        "照片采集机连续提示不合格，最后还是去窗口拍的，浪费了半个小时。",
    ),
    Note(
        2.1,
        Kind.COMPLAINT,
        "station:chenghua-mixc",
        "晚上九点多过去，说已经停止取号了，网上写的是十点关门。",
    ),
    Note(
        80.2,
        Kind.PRAISE,
        "service:HK-ID-LOST",
        "身份证丢了又急着坐飞机，工作人员当场帮我办了临时身份证，非常感谢！",
        "感谢您的肯定，祝您旅途顺利。",
    ),
    Note(
        45.5,
        Kind.PRAISE,
        "service:TR-DL-RENEW",
        "工作人员耐心指导我用自助机换驾驶证，十分钟就办好了。",
    ),
    Note(
        27.3,
        Kind.PRAISE,
        "station:chenghua-mixc",
        "带着孩子来办证，工作人员还给孩子拿了小玩具，很暖心。",
        "谢谢您的表扬，欢迎常来。",
    ),
    Note(8.4, Kind.PRAISE, "service:TF-SSCARD", "社保卡当场就拿到了，比以前快多了。"),
)

# The KPIs on the feedback figures: public, owned by the departments, monthly targets.
INDICATORS = (
    {
        "code": "feedback-good-rate",
        "metric": metrics.GOOD_RATE.code,
        "thresholds": (90, 85),
        "name_zh": "好评率",
        "name_en": "Good ratings",
        "description_zh": "当月办件评价和在线评价中，评为“满意”或“非常满意”的百分比；"
        "申诉成立的评价不计入。",
        "description_en": "Visit and online ratings in the month at satisfied or very "
        "satisfied, as a percentage; ratings excluded on appeal do not count.",
    },
    {
        "code": "feedback-bad-rate",
        "metric": metrics.BAD_RATE.code,
        "thresholds": (3, 5),
        "name_zh": "差评率",
        "name_en": "Bad ratings",
        "description_zh": "当月办件评价和在线评价中，评为“不满意”或“非常不满意”的百分比；"
        "申诉成立的评价不计入。",
        "description_en": "Visit and online ratings in the month at dissatisfied or very "
        "dissatisfied, as a percentage; ratings excluded on appeal do not count.",
    },
    {
        "code": "feedback-rating-rate",
        "metric": metrics.RATING_RATE.code,
        "thresholds": (35, 25),
        "name_zh": "主动评价率",
        "name_en": "Visits rated",
        "description_zh": "当月办件中，办事群众扫码作出评价的百分比（一次一评）。",
        "description_en": "Visits in the month that the visitor rated through the QR code, "
        "as a percentage (one rating per visit).",
    },
    {
        "code": "feedback-rectified-on-time",
        "metric": metrics.RECTIFIED_ON_TIME.code,
        "thresholds": (90, 80),
        "name_zh": "差评整改率",
        "name_en": "Bad ratings rectified on time",
        "description_zh": "当月首次办结的差评整改事项中，在整改时限（工作日）内办结的百分比。",
        "description_en": "Rectification cases of bad ratings first resolved in the month within "
        "their deadline (working days), as a percentage.",
    },
    {
        "code": "feedback-return-visit-rate",
        "metric": metrics.RETURN_VISIT_RATE.code,
        "thresholds": (90, 75),
        "name_zh": "差评回访率",
        "name_en": "Bad ratings followed up in time",
        "description_zh": "当月应回访的差评中，在回访时限内联系了评价人的百分比。",
        "description_en": "Bad ratings due a return visit in the month whose rater was "
        "contacted within the deadline, as a percentage.",
    },
    {
        "code": "feedback-rectification-satisfaction",
        "metric": metrics.RECTIFICATION_SATISFACTION.code,
        "thresholds": (80, 65),
        "name_zh": "整改满意率",
        "name_en": "Satisfaction with rectification",
        "description_zh": "当月评价人对整改结果的再次评价中，评为“满意”或“非常满意”的百分比。",
        "description_en": "Re-ratings of a rectification in the month at satisfied or very "
        "satisfied, as a percentage.",
    },
    {
        "code": "feedback-average-level",
        "metric": metrics.AVERAGE_LEVEL.code,
        "thresholds": (4.5, 4.2),
        "name_zh": "平均评价等级",
        "name_en": "Average rating",
        "description_zh": "当月办件评价和在线评价的平均等级（1–5 分）。",
        "description_en": "The average level of the month's visit and online ratings "
        "(1 to 5 points).",
    },
)


def seed_feedback(context: SeedContext) -> None:
    organisations = {org.slug: org for org in Organisation.objects.all()}
    for slug in DEPARTMENTS:
        if slug in organisations:
            sync_row(
                FeedbackPolicy,
                {"organisation": organisations[slug]},
                {"return_visit_days": RETURN_VISIT_DAYS, "rectify_days": RECTIFY_DAYS},
            )
    seed_indicators(context, organisations)
    if not context.with_demo_users:
        context.write("演示评价需要演示账号来处理差评：未创建演示账号，跳过评价记录。")
        return
    if Feedback.objects.filter(device=DEVICE).exists():
        return  # The history is told once.
    people = {
        user.email: user for user in User.objects.filter(email__endswith="@demo.gongzhi.local")
    }
    History(context, organisations, people).tell()
    roll_up_dirty_days(context.today)


def seed_indicators(context: SeedContext, organisations) -> None:
    seed_metric_indicators(context, INDICATORS, DEPARTMENTS)


def roll_up_dirty_days(today: dt.date) -> None:
    """Recompute what the history changed; the KPI seeder ran before, and a second run must
    find nothing dirty.

    The feedback figures and the case metrics (the loop opens and resolves cases, and a case's
    backlog changes on every day it is open) are recomputed from their first dirty day to
    today, in month-long chunks. Any other metric marked on the way (re-ratings and appeals
    mark every registered metric) is recomputed on its marked days only.
    """
    ranged = {*metrics.METRIC_CODES, *case_metrics.METRIC_CODES}
    spans = (
        DirtyDay.objects.filter(metric__in=ranged)
        .order_by()
        .values("metric")
        .annotate(first=Min("day"))
    )
    for span in spans:
        kpis_backfill(start=span["first"], end=today, metric_codes=[span["metric"]])
    while DirtyDay.objects.exists():
        if not kpis_rollup(limit=1000)["marks"]:
            break


# Replaying the history -------------------------------------------------------------------------
class _ReplayClock:
    """The moment being replayed, as the services' clock (``governance.core.clock``)."""

    def __init__(self):
        self.at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or timezone.now()


@contextmanager
def _replaying(clock: _ReplayClock) -> Iterator[None]:
    """Let the services write the past: the ones that take no time of their own (a note on the
    case, a reply, a decided appeal) read the replayed one, and the events they publish tell no
    one (the raters and staff would get today hundreds of notices of things long past)."""
    with replaying(clock), muted():
        yield


class _Stop(Exception):
    """The story has reached the present: what comes next has not happened yet."""


def _level(rng: random.Random) -> int:
    return rng.choices(list(LEVEL_WEIGHTS), weights=list(LEVEL_WEIGHTS.values()))[0]


def _owner(station: Station) -> int | None:
    """Who answers for a station: its host (the mall), or the department it houses."""
    if station.host_id is not None:
        return station.host_id
    departments = sorted(station.departments.all(), key=lambda org: org.pk)
    return departments[0].pk if departments else None


def _contact(rng: random.Random, serial: int) -> tuple[str, str]:
    title = rng.choice(("先生", "女士"))
    return f"{rng.choice(SURNAMES)}{title}", f"1380000{3000 + serial:04d}"


class History:
    def __init__(self, context: SeedContext, organisations, people):
        self.context = context
        self.now = context.now
        self.organisations = organisations
        self.slugs = {org.pk: slug for slug, org in organisations.items()}
        self.people = people
        self.citizen = people.get(CITIZEN)
        self.clock = _ReplayClock()
        self.contacts = 0

    def tell(self) -> None:
        first = self.context.today - dt.timedelta(days=WINDOW_DAYS - 1)
        rows = self.visit_ratings(first) + self.online_ratings(first) + self.notes()
        rows.sort(key=lambda row: row.created_at)
        abusive = self.abusive(rows)
        Feedback.objects.bulk_create(rows, batch_size=1000)
        kpis_mark_dirty(
            metric_codes=metrics.METRIC_CODES, days=day_range(first, self.context.today)
        )
        bad = [row for row in rows if row.level in BAD_LEVELS and row.service_id is not None]
        with _replaying(self.clock):
            for feedback in bad:
                key = feedback.created_at.isoformat()
                rng = random.Random(f"gongzhi-feedback-loop:{key}")  # noqa: S311  (demo data)
                with suppress(_Stop):
                    self.rectify(feedback, rng)
            self.clock.at = None
            self.reply_to_notes(rows)
            self.appeal(bad)
            self.hide(abusive)
        self.context.write(
            f"演示评价与反馈：{len(rows)} 条，其中差评 {len(bad)} 条已进入整改流程。"
        )

    # Rows ---------------------------------------------------------------------------------------
    def rating(self, rng: random.Random, level: int, **values) -> Feedback:
        reasons = []
        if level != 3 or rng.random() < 0.5:
            choices = [reason.code for reason in for_level(level)]
            if level == 3:
                choices = [code for code in choices if code in BAD_COMMENTS]
            reasons = rng.sample(choices, k=rng.choice((1, 1, 2)))
        text = ""
        if level in BAD_LEVELS:
            if rng.random() < 0.8:
                text = BAD_COMMENTS.get(reasons[0], "") if reasons else ""
        elif rng.random() < (0.3 if level == 3 else 0.12):
            text = rng.choice(COMMENTS[level])
        name = phone = ""
        if rng.random() < (0.9 if level in BAD_LEVELS else 0.03):
            self.contacts += 1
            name, phone = _contact(rng, self.contacts)
        user = self.citizen if self.citizen is not None and rng.random() < 0.02 else None
        return Feedback(
            level=level,
            reasons=reasons,
            text=text,
            contact_name=name,
            contact_phone=phone,
            user=user,
            device=DEVICE,
            **values,
        )

    def visit_ratings(self, first: dt.date) -> list[Feedback]:
        visits = (
            Visit.objects.filter(
                arrived_at__gte=day_start(first),
                finished_at__isnull=False,
                finished_at__lte=self.now,
                outcome__in=(
                    Visit.Outcome.COMPLETED,
                    Visit.Outcome.MISSING_DOCUMENTS,
                    Visit.Outcome.REFERRED,
                ),
                rating__isnull=True,
            )
            .select_related("station", "service")
            .order_by("arrived_at", "pk")
        )
        rows = []
        for visit in visits:
            key = f"{visit.station.slug}:{visit.arrived_at.isoformat()}:{visit.ticket}"
            rng = random.Random(f"gongzhi-feedback:{key}")  # noqa: S311  (demo data)
            if rng.random() >= RATED_SHARE:
                continue
            if rng.random() < 0.9:
                delay = dt.timedelta(minutes=rng.uniform(0.5, 15))
            else:
                delay = dt.timedelta(hours=rng.uniform(1, 40))
            created = visit.finished_at + delay
            if created > self.now:
                continue
            level = _level(rng)
            if visit.outcome != Visit.Outcome.COMPLETED and level > 3 and rng.random() < 0.5:
                level -= 1  # Sent away for a missing document, people rate a little lower.
            rows.append(
                self.rating(
                    rng,
                    level,
                    kind=Kind.VISIT_RATING,
                    visit=visit,
                    station_id=visit.station_id,
                    service_id=visit.service_id,
                    organisation_id=visit.service.department_id,
                    channel=Channel.QR,
                    created_at=created,
                )
            )
        return rows

    def online_ratings(self, first: dt.date) -> list[Feedback]:
        """A service rated on the website (一事一评), or a station; most days none or one."""
        services = list(Service.objects.filter(is_active=True).order_by("service_code"))
        stations = list(
            Station.objects.filter(is_active=True).prefetch_related("departments").order_by("slug")
        )
        if not services:
            return []
        rows = []
        for day in day_range(first, self.context.today):
            rng = random.Random(f"gongzhi-feedback-online:{day.isoformat()}")  # noqa: S311
            count = sum(rng.random() < ONLINE_PER_DAY / 2 for _index in range(2))
            for _index in range(count):
                created = dt.datetime.combine(day, dt.time(8), TZ) + dt.timedelta(
                    minutes=rng.randint(0, 15 * 60)
                )
                if created > self.now:
                    continue
                level = _level(rng)
                if stations and rng.random() < 0.25:
                    station = rng.choice(stations)
                    subject = {"station": station, "organisation_id": _owner(station)}
                else:
                    service = rng.choice(services)
                    subject = {"service": service, "organisation_id": service.department_id}
                rows.append(
                    self.rating(
                        rng,
                        level,
                        kind=Kind.ONLINE_RATING,
                        channel=Channel.WEB,
                        created_at=created,
                        **subject,
                    )
                )
        return rows

    def notes(self) -> list[Feedback]:
        services = {service.service_code: service for service in Service.objects.all()}
        stations = {
            station.slug: station for station in Station.objects.prefetch_related("departments")
        }
        rows = []
        for note in NOTES:
            created = self.moment(note.days_ago)
            kind, key = note.subject.split(":", 1)
            if kind == "service":
                if key not in services:
                    continue
                subject = {
                    "service": services[key],
                    "organisation_id": services[key].department_id,
                }
            else:
                if key not in stations:
                    continue
                subject = {"station": stations[key], "organisation_id": _owner(stations[key])}
            if created > self.now:
                continue
            rows.append(
                Feedback(
                    kind=note.kind,
                    text=note.text,
                    contact_name=note.contact[0],
                    contact_phone=note.contact[1],
                    channel=Channel.WEB,
                    device=DEVICE,
                    created_at=created,
                    **subject,
                )
            )
        return rows

    def moment(self, days_ago: float) -> dt.datetime:
        """A moment while the mall is open (10:00–22:00), ``days_ago`` days before today."""
        day = self.context.today - dt.timedelta(days=int(days_ago))
        minutes = int((days_ago % 1) * 12 * 60)
        return dt.datetime.combine(day, dt.time(10), TZ) + dt.timedelta(minutes=minutes)

    # The bad-rating loop -------------------------------------------------------------------------
    def at(self, moment: dt.datetime) -> dt.datetime:
        if moment > self.now:
            raise _Stop
        self.clock.at = moment
        return moment

    def handler(self, case):
        slug = case.responsible.slug if case.responsible_id else ""
        handler, _decider = HANDLERS.get(slug, (ADMIN, ADMIN))
        return self.people.get(handler) or self.people[ADMIN]

    @staticmethod
    def working(after: dt.datetime, hours: float) -> dt.datetime:
        return sla.add_working_hours(after, hours).at

    def rectify(self, feedback: Feedback, rng: random.Random) -> None:
        """One bad rating's loop: the case opens a minute or two after the rating; the handler
        acknowledges it, calls the rater back (most of them within the deadline), puts it
        right (most within the deadline) and the rater re-rates (most of them)."""
        opened = self.at(feedback.created_at + dt.timedelta(seconds=rng.randint(20, 180)))
        case = feedback_services.rectification_open(feedback_id=feedback.pk, now=opened)
        if case is None:
            return
        feedback.refresh_from_db(fields=["case", "return_visit_due_at"])
        handler = self.handler(case)
        acknowledged = self.working(opened, rng.uniform(0.2, 1.5))
        case = case_services.case_transition(
            actor=handler, case=case, to=Status.ACKNOWLEDGED, at=self.at(acknowledged)
        )
        roll = rng.random()
        if feedback.contact_phone or feedback.user_id:
            if roll < 0.92:
                called = min(
                    self.working(acknowledged, rng.uniform(0.2, 4)),
                    feedback.return_visit_due_at,
                )
            else:
                called = self.working(feedback.return_visit_due_at, rng.uniform(1, 8))
            self.at(max(called, acknowledged))
            case_services.case_record_contact(
                actor=handler,
                case=case,
                channel="phone",
                body=rng.choice(RETURN_VISITS),
                at=max(called, acknowledged),
            )
        working = self.working(acknowledged, rng.uniform(1, 6))
        case = case_services.case_transition(
            actor=handler, case=case, to=Status.IN_PROGRESS, at=self.at(working)
        )
        roll = rng.random()
        if roll < 0.86:
            resolved = self.working(working, rng.uniform(4, 7 * 9))
            resolved = min(resolved, case.resolve_due_at)
        elif roll < 0.96:
            resolved = self.working(case.resolve_due_at, rng.uniform(2, 20))
        else:
            return  # Still being put right.
        self.at(resolved - dt.timedelta(minutes=rng.randint(5, 40)))
        case_services.case_note(actor=handler, case=case, body=rng.choice(MEASURES))
        case_services.case_transition(
            actor=handler, case=case, to=Status.RESOLVED, at=self.at(resolved)
        )
        if not (feedback.contact_phone or feedback.user_id) or rng.random() > 0.75:
            return
        rerated = self.at(resolved + dt.timedelta(hours=rng.uniform(2, 60)))
        level = rng.choices((5, 4, 3, 2), weights=(45, 33, 14, 8))[0]
        feedback_services.rectification_rerate(
            feedback=feedback, level=level, comment=RERATINGS[level], now=rerated
        )

    def appeal(self, bad: list[Feedback]) -> None:
        """Household administration contests two bad ratings: one upheld, one dismissed."""
        staff = self.people.get(HANDLERS["hukou"][0])
        decider = self.people.get(HANDLERS["hukou"][1])
        hukou = self.organisations.get("hukou")
        if staff is None or decider is None or hukou is None:
            return
        contested = [row for row in bad if row.organisation_id == hukou.pk][-len(APPEALS) :]
        for feedback, (upheld, reason, note) in zip(contested, APPEALS, strict=False):
            appeal = feedback_services.appeal_file(actor=staff, feedback=feedback, reason=reason)
            feedback_services.appeal_decide(actor=decider, appeal=appeal, upheld=upheld, note=note)

    def reply_to_notes(self, rows: list[Feedback]) -> None:
        replies = {note.text: note.reply for note in NOTES if note.reply}
        for feedback in rows:
            reply = replies.get(feedback.text)
            if not reply or feedback.organisation_id is None:
                continue
            slug = self.slugs.get(feedback.organisation_id, "")
            handler, _decider = HANDLERS.get(slug, (ADMIN, ADMIN))
            actor = self.people.get(handler) or self.people[ADMIN]
            replied = self.working(feedback.created_at, 6)
            if replied > self.now:
                continue
            self.clock.at = replied
            feedback_services.feedback_reply(actor=actor, feedback=feedback, body=reply)
        self.clock.at = None

    def abusive(self, rows: list[Feedback]) -> Feedback | None:
        """The first very bad visit rating of household administration gets an abusive text."""
        hukou = self.organisations.get("hukou")
        for feedback in rows:
            if (
                hukou is not None
                and feedback.kind == Kind.VISIT_RATING
                and feedback.level == 1
                and feedback.organisation_id == hukou.pk
            ):
                feedback.text = HIDDEN_TEXT
                return feedback
        return None

    def hide(self, feedback: Feedback | None) -> None:
        """Moderation hides the abusive text; the rating's level still counts."""
        moderator = self.people.get(HANDLERS["hukou"][1])
        if feedback is None or moderator is None:
            return
        feedback_services.feedback_hide(actor=moderator, feedback=feedback, reason="含辱骂性语言。")
