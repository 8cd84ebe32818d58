"""Demo seed: proposal categories, about thirty proposals for the Chenghua Mixc station from
the last five months told through the services, the demo residents who support them, and the
KPIs on the proposals metrics.

Runs after the cases seeder (the triage desk that receives the station's proposals, the case
metrics a task case moves) and the feedback seeder. Categories are keyed on their slug, the
demo residents on their e-mail address, indicators and targets as every KPI seeder keys them;
the history is told once: when any demo proposal is already there, none is written again, so
a second run (on the same day or a later one) writes nothing.

Each story is replayed through the services (``proposal_create``, ``proposal_publish``,
``proposal_route``, ``proposal_support``, ``comment_add``, ``proposal_answer``,
``milestone_set_state``, ``result_open_case``…) at the moments it happened, oldest action
first, so threshold dates, answer deadlines, versions, counters, progress and the implemented
date come out as the services compute them. As in the other seeders, the services read the
replayed moment as "now" and publish nothing while the history is told (see
:func:`_replaying`), and a story stops where the present is.

The proposals come from the demo citizen (王小明, who also has two drafts to find after
signing in), from demo residents, from the mall on its own behalf and from household
administration on its own behalf. People, never organisations, support them: the residents are
demo accounts without a password (they cannot sign in), created only with the demo users, as
many as the most supported story needs (131 at the default threshold of 100). The station's
proposals land at the triage desk, which the platform administrator routes to household
administration or the mall; proposals on a service go to its department. Household
administration, traffic police and the mall answer through their demo staff; exit-entry and
Tianfutong have no demo staff and no one else may answer for them, so their proposals wait,
some past their answer deadline, as they would.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from decimal import Decimal
from zoneinfo import ZoneInfo

from django.contrib.auth.hashers import make_password
from django.db.models import Min
from django.utils import timezone

from governance.cases import metrics as case_metrics
from governance.cases import services as case_services
from governance.cases.models import Status as CaseStatus
from governance.core.clock import replaying
from governance.core.seeding import SeedContext, sync_row
from governance.kpis.models import DirtyDay
from governance.kpis.seed import seed_metric_indicators
from governance.kpis.services import kpis_backfill, kpis_rollup
from governance.notifications.services import muted
from governance.proposals import metrics, services
from governance.proposals.models import Answer, Category, Milestone, Proposal, Scope
from governance.stakeholders.models import Organisation, User
from governance.stations.models import Service, Station

TZ = ZoneInfo("Asia/Shanghai")
STATION = "chenghua-mixc"
DOMAIN = "demo.gongzhi.local"

MODELS = (
    "proposals.Category",
    "stakeholders.User",
    "proposals.Proposal",
    "proposals.ProposalVersion",
    "proposals.Support",
    "proposals.Follow",
    "proposals.Comment",
    "proposals.CommentVote",
    "proposals.CommentFlag",
    "proposals.Answer",
    "proposals.Result",
    "proposals.Milestone",
    "proposals.ResultCase",
    "cases.Case",
    "kpis.Indicator",
    "kpis.Indicator_owners",
    "kpis.Target",
    "kpis.Measurement",
)

# slug, name_zh, name_en
CATEGORIES = (
    ("opening-hours", "开放时间", "Opening hours"),
    ("facilities", "场地设施", "Premises and facilities"),
    ("convenience", "便民服务", "Convenience services"),
    ("digital", "数字化服务", "Digital services"),
    ("accessibility", "无障碍", "Accessibility"),
    ("parking", "停车交通", "Parking and transport"),
    ("safety", "安全秩序", "Safety and order"),
    ("other", "其他", "Other"),
)

# The organisations that answer proposals own their KPIs, as they own the case KPIs.
OWNERS = ("hukou", "traffic", "exit-entry", "tianfu", "mall")
INDICATORS = (
    {
        "code": "proposals-received",
        "metric": "proposals.received",
        "thresholds": (6, 3),
        "name_zh": "收到的共治建议数",
        "name_en": "Proposals received",
        "description_zh": "当月公开发布的建议数，含之后撤回的。",
        "description_en": "Proposals published in the month, including those withdrawn since.",
    },
    {
        "code": "proposals-answered-in-time",
        "metric": "proposals.answered_in_time",
        "thresholds": (90, 75),
        "name_zh": "建议按时答复率",
        "name_en": "Proposals answered within 30 days",
        "description_zh": "发布后 30 天内作出首次正式答复的建议所占的百分比；"
        "按时答复的计入答复当月，到期未答复的计入期满当月，答复前撤回的不计。",
        "description_en": "Proposals given a first official answer within 30 days of "
        "publication, as a percentage; an answer in time counts in the month of the answer, a "
        "missed deadline in the month it passed; proposals withdrawn before an answer do not "
        "count.",
    },
    {
        "code": "proposals-acceptance-rate",
        "metric": "proposals.acceptance_rate",
        "thresholds": (40, 25),
        "name_zh": "建议采纳率",
        "name_en": "Proposals accepted",
        "description_zh": "当月作出采纳或不采纳答复的建议中，予以采纳的百分比。",
        "description_en": "Of the proposals accepted or rejected in the month, the percentage "
        "accepted.",
    },
    {
        "code": "proposals-implemented-on-time",
        "metric": "proposals.implemented_on_time",
        "thresholds": (85, 70),
        "name_zh": "建议按期落实率",
        "name_en": "Accepted proposals implemented on time",
        "description_zh": "已采纳的建议中，在计划完成日期当天或之前落实完成的百分比；"
        "计划完成日期已过仍未完成的计为未按期。",
        "description_en": "Accepted proposals implemented by their planned end date, as a "
        "percentage; one still unfinished after that date counts as late.",
    },
    {
        "code": "proposals-answer-days-median",
        "metric": "proposals.answer_days_median",
        "thresholds": (15, 30),
        "name_zh": "建议答复天数中位数",
        "name_en": "Median days to answer a proposal",
        "description_zh": "当月作出首次正式答复的建议，从发布到答复的天数的中位数。",
        "description_en": "The median number of days from publication to the first official "
        "answer, over the proposals first answered in the month.",
    },
)

# The people who act in the history (demo accounts, see governance.stakeholders.seed).
ADMIN = f"admin@{DOMAIN}"
CITIZEN = f"citizen@{DOMAIN}"
PEOPLE = {
    "admin": ADMIN,
    "citizen": CITIZEN,
    "hukou-staff": f"hukou.staff@{DOMAIN}",
    "hukou-admin": f"hukou.admin@{DOMAIN}",
    "traffic-staff": f"traffic.staff@{DOMAIN}",
    "mall-staff": f"mall.staff@{DOMAIN}",
    "mall-admin": f"mall.admin@{DOMAIN}",
}
# responsible organisation → (who drafts and publishes its answers and runs the
# implementation, who moderates its proposals' comments). Exit-entry and Tianfutong have no
# demo staff: their proposals wait for an answer.
HANDLERS = {
    "hukou": ("hukou-staff", "hukou-admin"),
    "traffic": ("traffic-staff", "admin"),
    "mall": ("mall-staff", "mall-admin"),
}
# The demo residents: e-mail ``resident001@…`` and a name made of these.
RESIDENT_EMAIL = "resident{:03d}@" + DOMAIN
SURNAMES = "王李张刘陈杨黄赵周吴徐孙马朱胡郭何林罗高"
GIVEN_NAMES = (
    "芳", "伟", "娜", "敏", "静", "磊", "洋", "艳", "勇", "军",
    "杰", "娟", "涛", "明", "超", "秀兰", "霞", "平", "刚", "桂英",
)  # fmt: skip
MAX_RESIDENTS = 500


# The history -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Step:
    """A milestone of the plan, added the day after the verdict; days count from the verdict."""

    title: str
    due: int
    done: float | None = None
    started: float | None = None


@dataclass(frozen=True)
class Task:
    """A case opened for a concrete task, on a service at a station (a case names both);
    days count from the verdict."""

    title: str
    description: str
    opened: float
    service: str
    station: str = STATION
    reply: str = ""
    resolved: float | None = None


@dataclass(frozen=True)
class Talk:
    """A comment ``after`` days from publication, by ``who`` (a key of :data:`PEOPLE`, or
    ``resident`` for a resident drawn at random), with its votes, flags, replies and the reason
    a moderator hid it for."""

    after: float
    who: str
    body: str
    replies: tuple[Talk, ...] = ()
    up: int = 0
    down: int = 0
    flags: int = 0
    hidden: str = ""


@dataclass(frozen=True)
class Story:
    """One demo proposal and how it went; days count from publication.

    ``fate``: ``draft`` (never published), ``open`` (waiting for support or an answer),
    ``evaluating``, ``accepted`` (its plan under way), ``implemented``, ``rejected`` or
    ``withdrawn``. ``author`` is a key of :data:`PEOPLE` or ``resident:N``; ``behalf`` the
    organisation the author proposes for. ``subject`` is ``platform``, ``station:slug`` or
    ``service:CODE``. ``supports`` is the number of supporters as a share of the support
    threshold; they come while the proposal takes supports (within ``support_days`` when set),
    most of them in the first days. ``route_to``: the triage desk hands the proposal to that
    organisation a few hours after it is published. ``evaluation`` is an interim answer
    ("under evaluation") given ``evaluated`` days after publication; ``answer`` the verdict,
    ``answered`` days after (drafted ``drafted`` days after when set, and published by the
    department's admin); ``pending`` an answer drafted ``drafted`` days after publication and
    not published yet. ``plan`` is (start, end) in days from the verdict. ``correction`` is the
    text as the author corrected it ten minutes after publishing.
    """

    days_ago: float
    author: str
    subject: str
    category: str
    fate: str
    title: str
    body: str
    supports: float = 0.0
    support_days: float | None = None
    behalf: str = ""
    route_to: str = ""
    evaluation: str = ""
    evaluated: float = 0.0
    answer: str = ""
    answered: float = 0.0
    drafted: float | None = None
    pending: str = ""
    cost: int | None = None
    plan: tuple[int, int] = (0, 0)
    steps: tuple[Step, ...] = ()
    task: Task | None = None
    talks: tuple[Talk, ...] = ()
    withdrawn: float = 0.0
    correction: str = ""


STATION_SUBJECT = f"station:{STATION}"

STORIES = (
    # Implemented ------------------------------------------------------------------------------
    Story(
        148.3,
        "resident:15",
        STATION_SUBJECT,
        "convenience",
        "implemented",
        "服务站提供复印打印服务",
        "办理户口迁移、居住证时经常要补一份身份证复印件，服务站里没有复印机，"
        "要跑到商场三楼的图文店，来回二十分钟，回来号已经过了。\n\n"
        "建议在服务站放一台自助复印打印机，**扫码付费**即可，不需要专人值守。",
        supports=0.55,
        route_to="mall",
        answer="感谢您的建议。万象城采纳：我们将在服务站等候区放置一台自助复印打印一体机，"
        "支持身份证正反面复印和手机文件打印，按商场图文店价格扫码付费，"
        "设备和耗材由商场提供和维护。",
        answered=7.2,
        cost=12_000,
        plan=(3, 21),
        steps=(Step("服务站等候区放置自助复印打印一体机", due=21, done=15.1, started=8),),
        talks=(
            Talk(0.4, "resident", "太需要了，上次就是因为少一份复印件白排了一次队。", up=14),
            Talk(
                1.3,
                "resident",
                "能不能也支持证件照打印？",
                up=3,
                replies=(
                    Talk(
                        2.1,
                        "mall-staff",
                        "证件照请使用出入境照片采集机或户政窗口拍照，"
                        "复印机打印的照片不符合制证要求。",
                        up=5,
                    ),
                ),
            ),
        ),
    ),
    Story(
        146.2,
        "citizen",
        STATION_SUBJECT,
        "opening-hours",
        "implemented",
        "周末上午九点开门，方便上班族办户籍业务",
        "服务站跟着商场十点开门，周末上午十点到十二点是一天里人最多的时候，"
        "户政窗口经常要排一个多小时。\n\n"
        "建议**周六、周日提前到 9:00 开门**，至少户政窗口先开，"
        "商场负一楼靠地铁的入口也配合提前开放。",
        supports=1.2,
        route_to="hukou",
        evaluation="感谢您的建议。周末提前开放需要商场配合开放负一楼通道，"
        "我们正在与万象城物业协商，并测算户政窗口的周末排班，评估结果将在两周内答复。",
        evaluated=5.2,
        answer="经与万象城协商，我们采纳这条建议：自下月起周六、周日户政窗口 9:00 开始受理，"
        "商场负一楼 B 口地铁通道 8:50 开放。先试运行一个月，根据办件量决定是否长期实行。"
        "增加的人员加班费用由户政管理大队承担。",
        answered=19.3,
        cost=36_000,
        plan=(7, 60),
        steps=(
            Step("与万象城签订周末负一楼通道提前开放协议", due=14, done=10.2),
            Step("调整户政窗口周末排班", due=30, done=25.1, started=12),
            Step("周末 9:00 开门试运行一个月", due=60, done=58.2, started=31),
        ),
        talks=(
            Talk(1.1, "resident", "支持！周末上午人最多，九点开门能错开高峰。", up=12),
            Talk(
                2.4,
                "resident",
                "商场十点才开门，九点从哪个门进来？",
                up=5,
                replies=(
                    Talk(2.6, "citizen", "负一楼有地铁通道，希望商场配合开一下。", up=4),
                    Talk(
                        6.1,
                        "hukou-staff",
                        "我们已和商场沟通，试运行期间负一楼 B 口 8:50 开放。",
                        up=9,
                    ),
                ),
            ),
        ),
    ),
    Story(
        132.4,
        "resident:4",
        STATION_SUBJECT,
        "convenience",
        "implemented",
        "服务站旁边增设母婴室",
        "带着几个月大的宝宝来给孩子上户口，排队的时候孩子饿了，"
        "整个负一楼找不到可以喂奶、换尿布的地方，只能去三楼的母婴室，来回很不方便。"
        "建议在服务站旁边增设一个小母婴室。",
        supports=0.9,
        route_to="mall",
        evaluation="感谢您的建议。负一楼服务站附近有一间闲置的储物间，"
        "我们正在评估改造成母婴室的可行性和费用。",
        evaluated=3.3,
        answer="万象城采纳这条建议：将服务站旁的储物间改造为母婴室，"
        "配备哺乳椅、尿布台、温奶器和洗手台，预计两个月内开放。",
        answered=14.2,
        cost=85_000,
        plan=(5, 60),
        steps=(
            Step("选址：负一楼服务站旁原储物间", due=10, done=8.1),
            Step("装修改造和设备采购", due=45, done=40.3, started=10),
            Step("母婴室开放使用", due=60, done=52.2),
        ),
        talks=(
            Talk(0.4, "resident", "带宝宝来办出生登记的家长太需要了。", up=16),
            Talk(
                4.0,
                "mall-staff",
                "商场三楼 L3 卫生间旁有母婴室，步行约五分钟；"
                "我们也在研究在负一楼增设，请大家再等等。",
                up=4,
            ),
        ),
    ),
    Story(
        125.1,
        "citizen",
        STATION_SUBJECT,
        "parking",
        "implemented",
        "到服务站办事的群众停车给予优惠",
        "开车来服务站办证，停车场按商场标准收费，排队加办理经常要两个小时，"
        "停车费二三十元。\n\n建议**凭服务站当天的取号小票免两小时停车费**，"
        "和商场消费满额减免一样在缴费机上操作。",
        supports=1.3,
        route_to="mall",
        answer="万象城采纳这条建议：自即日起凭服务站当天的取号小票，"
        "可在停车场自助缴费机或出口岗亭减免两小时停车费。"
        "缴费机程序升级和现场说明牌制作由商场负责，预计一个半月内完成。",
        answered=12.5,
        cost=48_000,
        plan=(3, 45),
        steps=(
            Step("停车缴费系统增加“服务站办事”优惠", due=20, done=16.2, started=4),
            Step("服务站和停车场入口张贴优惠说明", due=30, done=22.1),
            Step("停车场六台自助缴费机识别取号小票二维码", due=35, done=28.2, started=5),
        ),
        talks=(
            Talk(0.3, "resident", "每次来办证停车都要二三十块，支持！", up=25),
            Talk(
                1.5,
                "resident",
                "别变成有人蹭停车，建议只限办事当天。",
                up=11,
                down=2,
                replies=(Talk(2.0, "citizen", "同意，凭当天的取号小票就行。", up=7),),
            ),
        ),
    ),
    Story(
        112.3,
        "hukou-admin",
        STATION_SUBJECT,
        "parking",
        "implemented",
        "停车场增设服务站指引标识和办事临时停车位",
        "不少群众反映开车进了地下停车场找不到服务站，在停车场里绕圈。"
        "户政管理大队建议商场在停车场各入口和电梯厅增设服务站指引标识，"
        "并在靠近服务站的 B1 区域划设几个办事临时停车位（限停两小时）。",
        behalf="hukou",
        supports=0.25,
        route_to="mall",
        answer="万象城采纳：在停车场三个入口和 B1 电梯厅增设服务站指引标识，"
        "并在 B1 区 B 口附近划设 4 个办事临时停车位。",
        answered=8.2,
        cost=6_500,
        plan=(5, 35),
        steps=(
            Step("停车场入口和电梯厅增设服务站指引标识", due=20, done=18.1),
            Step("B1 区划设 4 个办事临时停车位", due=35, done=38.2, started=20),
        ),
        talks=(Talk(0.9, "resident", "上次在停车场绕了三圈才找到电梯。", up=6),),
    ),
    Story(
        103.2,
        "resident:18",
        STATION_SUBJECT,
        "digital",
        "implemented",
        "公布各窗口实时排队人数",
        "来之前不知道要排多久。建议在天府通办小程序和商场入口的电子屏上"
        "显示服务站各窗口的实时排队人数和预计等候时间，大家可以错峰来办。",
        supports=0.75,
        route_to="hukou",
        answer="采纳。我们将把叫号系统的排队数据接入商场入口电子屏和天府通办小程序，"
        "显示各业务的等候人数和预计等候时间。答复晚于承诺时间，向您致歉："
        "数据对接需要与天府通办平台协调，评估时间比预期长。",
        answered=35.5,
        cost=20_000,
        plan=(3, 30),
        steps=(
            Step("商场入口电子屏显示各窗口排队人数", due=20, done=16.2),
            Step("天府通办小程序可查服务站实时排队", due=30, done=27.1, started=8),
        ),
        talks=(
            Talk(3.2, "resident", "这个好，出门前看一眼就知道要不要去。", up=9),
            Talk(31.0, "resident", "一个月了还没有答复吗？", up=4),
        ),
    ),
    Story(
        84.4,
        "resident:21",
        "service:HK-ID-RENEW",
        "accessibility",
        "implemented",
        "老年人换领身份证设绿色通道",
        "陪八十岁的父亲来换身份证，和年轻人一样取号排队站了四十分钟。"
        "建议对 70 岁以上老人、孕妇和残障人士优先叫号，窗口工作人员协助填表。",
        supports=0.5,
        answer="采纳。户政窗口即日起对 70 岁以上老年人、孕妇和残障人士设置优先窗口，"
        "取号时选择“优先”即可；并对窗口人员进行助老服务规范培训。",
        answered=4.2,
        cost=0,
        plan=(1, 14),
        steps=(
            Step("设置优先窗口和取号机“优先”选项", due=7, done=5.2),
            Step("窗口人员助老服务规范培训", due=14, done=12.1),
        ),
        task=Task(
            "取号机增加“优先”取号选项",
            "在服务站取号机首页增加“老年人、孕妇、残障人士优先”按钮，优先号进入优先窗口队列。",
            opened=1.2,
            service="HK-ID-RENEW",
            reply="取号机程序已更新，首页增加了“优先”按钮，已在服务站试用。",
            resolved=6.1,
        ),
        talks=(Talk(0.6, "resident", "支持，老人站久了真受不了。", up=13),),
    ),
    Story(
        79.2,
        "resident:11",
        STATION_SUBJECT,
        "accessibility",
        "implemented",
        "服务站增设低位服务台并配备轮椅",
        "坐轮椅的朋友来办事，窗口台面太高，签字要别人托着平板。"
        "建议至少改造一个低位服务台，并在服务站配备轮椅供行动不便的群众借用。",
        supports=0.45,
        route_to="mall",
        answer="万象城采纳：将 2 号窗口改造为低位服务台，"
        "并购置两台轮椅放在服务站入口，凭身份证登记免费借用。",
        answered=6.1,
        cost=15_000,
        plan=(3, 30),
        steps=(
            Step("采购两台折叠轮椅放在服务站入口", due=14, done=9.2),
            Step("改造 2 号窗口为低位服务台", due=25, done=21.2, started=5),
        ),
        talks=(Talk(1.4, "resident", "无障碍不只是坡道，细节很重要。", up=8),),
    ),
    Story(
        68.3,
        "resident:13",
        STATION_SUBJECT,
        "safety",
        "implemented",
        "高峰时段安排志愿者引导和维持排队秩序",
        "周末下午服务站人很多，取号机前挤成一团，还有人插队。"
        "建议周末高峰时段请社区志愿者在取号区引导，帮老人取号，也维持一下秩序。",
        supports=0.6,
        route_to="hukou",
        answer="采纳。户政管理大队与双庆社区合作，周六、周日 13:00–18:00 安排两名志愿者"
        "在取号区引导群众、协助老人取号和使用自助机，并维持排队秩序。",
        answered=10.1,
        cost=3_000,
        plan=(4, 35),
        steps=(
            Step("与双庆社区签订志愿服务协议", due=10, done=8.2),
            Step("周末高峰时段志愿者上岗", due=35, done=30.1, started=11),
        ),
        talks=(
            Talk(1.2, "resident", "门口总有人问要不要代办加急，也该管一管。", up=10),
            Talk(
                2.0,
                "resident",
                "代办加急，当天出证，不用排队，联系微信 dbjj2026",
                down=6,
                flags=4,
                hidden="广告和代办引流信息，违反社区规则，已隐藏。",
            ),
            Talk(
                3.5,
                "resident",
                "我愿意报名当志愿者，在哪里报名？",
                up=3,
                replies=(
                    Talk(4.2, "hukou-staff", "请联系双庆社区居委会 028-84318520 报名。", up=2),
                ),
            ),
        ),
    ),
    # Accepted, under way ----------------------------------------------------------------------
    Story(
        98.1,
        "resident:3",
        STATION_SUBJECT,
        "facilities",
        "accepted",
        "服务站标识增加英文",
        "商场里外国朋友越来越多，服务站的业务指引、取号机和叫号屏只有中文。"
        "建议增加英文标识，至少“出入境”“取号”“等候区”这些要有。",
        supports=0.35,
        route_to="mall",
        answer="万象城采纳：服务站导视牌、业务指引牌和取号区标识将改为中英双语，"
        "译法请出入境管理部门审核。",
        answered=9.1,
        cost=18_000,
        plan=(3, 40),
        steps=(
            Step("确定中英文译法（请出入境部门审核）", due=15, done=14.2),
            Step("制作并安装中英双语导视牌", due=40, started=20),
        ),
        talks=(
            Talk(1.0, "resident", "在商场工作的外籍同事也说找不到办签证的地方。", up=6),
            Talk(2.2, "resident", "“港澳通行证”的英文一定要写准确。", up=3),
        ),
    ),
    Story(
        72.2,
        "resident:2",
        STATION_SUBJECT,
        "digital",
        "accepted",
        "叫号前短信提醒，不用一直守在等候区",
        "取了号前面还有四五十人，又不敢走开，怕错过叫号。"
        "建议在取号时可以留手机号，**前面还剩 5 个号时发短信提醒**，"
        "这样可以先去商场里逛逛。",
        supports=1.1,
        route_to="hukou",
        evaluation="感谢您的建议。短信提醒需要采购短信服务并改造叫号系统，我们正在评估费用和工期。",
        evaluated=4.1,
        answer="采纳。我们将为叫号系统接入短信提醒：取号时可留手机号，"
        "前面还剩 5 个号时发送提醒，同时评估微信服务号提醒。预计三个月内上线。",
        answered=16.2,
        drafted=13.3,
        cost=120_000,
        plan=(5, 90),
        steps=(
            Step("采购短信平台服务", due=20, done=18.1, started=6),
            Step("叫号系统接入短信网关", due=60, started=25),
            Step("试运行并收集意见", due=90),
        ),
        talks=(
            Talk(0.8, "resident", "出去逛一圈回来，号早就过了，这个很需要。", up=18),
            Talk(
                5.0,
                "resident",
                "能不能同时支持微信提醒？短信有时候被拦截。",
                up=9,
                replies=(
                    Talk(
                        5.5, "hukou-staff", "感谢建议，我们会在方案中一并考虑微信服务号提醒。", up=6
                    ),
                ),
            ),
        ),
    ),
    Story(
        58.2,
        "mall-admin",
        STATION_SUBJECT,
        "digital",
        "accepted",
        "在万象城会员 App 上线服务站预约取号",
        "万象城会员 App 有 60 多万注册用户。商场建议与户政部门对接，"
        "在会员 App 中提供服务站业务预约和线上取号，群众到店后扫码签到即可。",
        behalf="mall",
        correction="万象城会员 App 有 60 多万注册用户。商场建议与户政部门对接，"
        "在会员 App 中提供服务站业务预约和线上取号，群众到店后扫码签到即可。"
        "商场负责 App 开发和运维费用，不向群众收费。",
        supports=0.5,
        route_to="hukou",
        answer="采纳。户政管理大队将开放预约取号接口，与万象城共同测试，"
        "预约号与现场号统一排队，线上取号不收取任何费用。",
        answered=11.2,
        cost=0,
        plan=(10, 75),
        steps=(
            Step("确定预约取号接口规范", due=20, done=17.2),
            Step("会员 App 上线预约取号", due=75, started=30),
        ),
        talks=(Talk(0.7, "resident", "不想装太多 App，小程序也可以吗？", up=7),),
    ),
    Story(
        38.3,
        "resident:20",
        "service:HK-CERT",
        "digital",
        "accepted",
        "户籍证明提供电子版",
        "单位、学校要户籍证明，每次都要到窗口开纸质的。"
        "建议在天府通办提供加盖电子签章的电子户籍证明，可以直接下载发给对方。",
        supports=0.3,
        answer="采纳。我们将与市局户籍系统对接电子签章，在天府通办上线电子户籍证明，"
        "可在线申请、下载和核验。",
        answered=13.1,
        cost=0,
        plan=(7, 120),
        steps=(
            Step("与户籍系统对接电子证明签章", due=60, started=10),
            Step("天府通办上线电子户籍证明", due=120),
        ),
        task=Task(
            "户籍系统对接电子证明签章",
            "对接市局户籍系统和天府通办电子证照库，为户籍证明加盖电子签章并支持在线核验。",
            opened=15.2,
            service="HK-CERT",
        ),
    ),
    # Rejected ---------------------------------------------------------------------------------
    Story(
        108.2,
        "resident:5",
        STATION_SUBJECT,
        "opening-hours",
        "rejected",
        "服务站设 24 小时自助办证区",
        "晚上十点以后就办不了事了。建议像银行一样设一个 24 小时自助区，"
        "自助机放在外面，随时可以办。",
        supports=0.4,
        route_to="hukou",
        evaluation="感谢您的建议，我们正在与商场评估夜间开放自助区的条件。",
        evaluated=6.2,
        answer="经评估，暂不采纳。理由如下：\n\n"
        "1. 服务站位于商场负一楼，商场 22:00 闭店后通道关闭，无法保障夜间进出和安全；\n"
        "2. 自助机办理的证件涉及个人敏感信息，夜间无人值守存在证件被冒领的风险；\n"
        "3. 大部分夜间需求可以在线办理：无犯罪记录证明、户籍证明预约可通过天府通办，"
        "交通违法处理可通过“交管 12123”。\n\n"
        "我们已在服务站门口张贴在线办理指南，感谢您的关注。",
        answered=24.1,
        talks=(Talk(0.9, "resident", "晚上下班才有时间，支持。", up=8),),
    ),
    Story(
        88.1,
        "resident:6",
        "service:TR-VIOLATION",
        "convenience",
        "rejected",
        "交通违法罚款可以在服务站现金缴纳",
        "老年人不会用手机缴罚款，银行卡也不常带。建议服务站交管窗口直接收现金。",
        supports=0.12,
        answer="感谢您的建议，但不能采纳。按照《中华人民共和国行政处罚法》罚缴分离的规定，"
        "作出罚款决定的行政机关及执法人员不得自行收缴罚款。"
        "您可以在商场内的工商银行网点柜台用现金缴纳，或由家人通过“交管 12123”代缴；"
        "服务站导服人员可以协助老年人操作。",
        answered=7.2,
    ),
    Story(
        54.3,
        "resident:19",
        STATION_SUBJECT,
        "parking",
        "rejected",
        "周末开通商场到地铁站的接驳车",
        "周末人多，从地铁站走到服务站要穿过整个商场，建议开通接驳车。",
        supports=0.2,
        route_to="mall",
        answer="感谢您的建议，暂不采纳。地铁 7 号线万象城站 B 口直通商场负一楼，"
        "到服务站步行约 3 分钟，无需接驳；地面接驳车反而要绕行。"
        "我们已在地铁 B 口增加服务站指引，方便大家找到。",
        answered=9.2,
    ),
    Story(
        30.2,
        "resident:24",
        STATION_SUBJECT,
        "safety",
        "rejected",
        "允许携带宠物进入服务站",
        "周末带狗逛商场，想顺便办个证，但服务站不让宠物进。建议允许牵绳的小型犬进入。",
        supports=0.1,
        route_to="mall",
        answer="感谢您的建议，暂不采纳。服务站等候区面积有限，常有老人、孕妇和婴幼儿，"
        "也有群众对动物过敏或害怕。商场服务台提供免费宠物寄存，办事期间可寄存。",
        answered=5.3,
        talks=(
            Talk(
                1.1,
                "resident",
                "等候区本来就挤，不太赞成。",
                up=9,
                down=2,
            ),
        ),
    ),
    Story(
        19.3,
        "resident:23",
        "service:TR-DL-RENEW",
        "digital",
        "rejected",
        "驾驶证自助换证机增加英文界面",
        "在成都工作的外籍人士换驾驶证，自助机只有中文界面，只能去窗口排队。",
        supports=0.2,
        answer="感谢您的建议。驾驶证自助换证机使用公安部统一的软件，地方不能单独修改界面，"
        "因此暂不能采纳；我们已将建议反馈上级部门。外籍人士可直接到交管窗口办理，"
        "服务站也提供英文版办事指南。",
        answered=8.1,
    ),
    # Under evaluation -------------------------------------------------------------------------
    Story(
        34.2,
        "resident:12",
        "platform",
        "accessibility",
        "evaluating",
        "为听障人士提供手语视频服务",
        "听障朋友到服务站办事沟通很困难，写字交流效率低。"
        "建议接入远程手语视频翻译服务，窗口用平板就能连线手语翻译。",
        supports=0.3,
        route_to="hukou",
        evaluation="感谢您的建议。我们正在联系市残联和手语翻译服务机构，"
        "了解远程手语视频服务的接入方式和费用，评估后再作正式答复。",
        evaluated=12.2,
    ),
    Story(
        26.1,
        "resident:8",
        "service:TR-DL-RENEW",
        "convenience",
        "evaluating",
        "驾驶证期满换证可以在服务站现场体检",
        "换驾驶证要先去医院体检，再来服务站，跑两趟。建议引入有资质的体检机构在服务站设体检点。",
        supports=0.7,
        evaluation="感谢您的建议。驾驶人体检须由具备资质的医疗机构出具，"
        "我们正在联系附近的医疗机构，评估在服务站设立体检点的场地和费用。",
        evaluated=9.2,
        talks=(Talk(2.0, "resident", "体检加换证一次办完就太好了。", up=11),),
    ),
    # Waiting for support or an answer ---------------------------------------------------------
    Story(
        63.2,
        "resident:17",
        "station:chenghua-government-services",
        "opening-hours",
        "open",
        "政务服务中心周六下午开放",
        "区政务服务中心周六只开上午，上班族工作日请假不方便，"
        "建议周六下午也开放，或者工作日延长到晚上七点。",
        supports=0.8,
        route_to="tianfu",
    ),
    Story(
        49.1,
        "resident:16",
        "service:TF-SSCARD",
        "digital",
        "open",
        "社保卡申领进度可在线查询",
        "在服务站申请了社保卡，只说二十个工作日左右，中间完全不知道进度。"
        "建议在天府通办可以查询制卡进度，制好后短信通知。",
        supports=0.2,
    ),
    Story(
        41.2,
        "resident:1",
        "service:EE-PHOTO",
        "digital",
        "open",
        "再增加一台出入境证件照自助拍照机",
        "服务站只有一台出入境证件照采集机，周末经常排队二十分钟，"
        "拍完还要到窗口再核对一次照片。\n\n建议：\n\n"
        "- 再增加一台自助拍照机；\n"
        "- 照片合格后**直接推送到受理系统**，窗口不用再核对。",
        supports=1.3,
        support_days=6,
        talks=(
            Talk(0.5, "resident", "周末去拍照排了好久，强烈支持。", up=20),
            Talk(3.2, "resident", "拍照机旁边能不能放面镜子？", up=9),
            Talk(36.1, "citizen", "已经超过一个月了，期待出入境部门的答复。", up=7),
        ),
    ),
    Story(
        17.2,
        "resident:10",
        "service:EE-HKMO-ENDORSE",
        "digital",
        "open",
        "港澳签注自助机支持扫码缴费",
        "港澳签注自助机只能插银行卡缴费，很多人不带卡。建议支持微信、支付宝扫码缴费。",
        supports=1.15,
        support_days=10,
        talks=(Talk(0.3, "resident", "现在谁还带银行卡，支持扫码。", up=15),),
    ),
    Story(
        13.1,
        "citizen",
        STATION_SUBJECT,
        "convenience",
        "open",
        "办好的证件可以在夜间快递柜自取",
        "证件制好后只能在窗口开放时间领取。建议在服务站外设智能快递柜，"
        "领取短信附取件码，刷身份证加验证码即可夜间自取。",
        supports=0.45,
        route_to="hukou",
        pending="感谢您的建议。证件自取柜需要满足证件安全管理要求，"
        "我们正在与商场评估安装位置和身份核验方式，评估后作正式答复。",
        drafted=11.2,
        talks=(
            Talk(0.5, "resident", "上班族下班赶不上，支持夜间自取。", up=8),
            Talk(
                2.0,
                "resident",
                "证件放快递柜安全吗？一定要实名验证。",
                up=12,
                down=1,
                replies=(Talk(2.3, "citizen", "可以刷身份证加短信验证码取件。", up=6),),
            ),
        ),
    ),
    Story(
        9.2,
        "resident:14",
        STATION_SUBJECT,
        "safety",
        "open",
        "整治服务站门口的“黄牛”代办",
        "服务站门口经常有人拉客，说可以代办加急、包过，还收高价。"
        "建议加强巡查，并在门口张贴“办证不收加急费”的提示。",
        supports=0.15,
    ),
    Story(
        5.5,
        "resident:9",
        STATION_SUBJECT,
        "facilities",
        "open",
        "等候区设一个儿童游戏角",
        "周末带孩子来办证，孩子在等候区跑来跑去，建议设一个小小的儿童游戏角。",
        supports=0.05,
    ),
    # Withdrawn --------------------------------------------------------------------------------
    Story(
        93.4,
        "resident:7",
        STATION_SUBJECT,
        "facilities",
        "withdrawn",
        "服务站搬到商场一楼",
        "负一楼不好找，建议把服务站搬到一楼中庭旁边。",
        supports=0.08,
        withdrawn=2.5,
        talks=(
            Talk(
                0.6,
                "mall-staff",
                "负一楼紧邻地铁口和停车场电梯，多数群众坐地铁或开车来，"
                "一楼反而更远；我们会加强负一楼的指引。",
                up=5,
            ),
            Talk(1.2, "resident", "负一楼挨着地铁挺方便的。", up=4),
        ),
    ),
    Story(
        44.2,
        "resident:22",
        "service:HK-ID-LOST",
        "convenience",
        "withdrawn",
        "补领身份证当场拿到新证",
        "身份证丢了补办要等一周，建议服务站当场制证。",
        supports=0.1,
        evaluation="感谢您的建议。居民身份证由省级制证中心统一制作，服务站无法当场制证；"
        "急需用证的可以当场办理临时身份证，机场也可以办理临时乘机证明。"
        "我们正在研究缩短补领制证和寄送时间的办法。",
        evaluated=3.1,
        withdrawn=5.2,
    ),
    # Drafts of the demo citizen ---------------------------------------------------------------
    Story(
        2.3,
        "citizen",
        STATION_SUBJECT,
        "convenience",
        "draft",
        "服务站等候区增设饮水机",
        "排队时间长，带着老人孩子，附近找不到喝水的地方。建议在等候区放一台饮水机和纸杯。",
    ),
    Story(
        0.6,
        "citizen",
        "service:HK-ID-RENEW",
        "convenience",
        "draft",
        "换领的身份证可以选择邮寄到家",
        "（草稿）换领身份证要跑两趟：一次受理，一次领证。建议受理时可以选择 EMS 邮寄到家。",
    ),
)


def seed_proposals(context: SeedContext) -> None:
    categories = seed_categories()
    seed_indicators(context)
    if not context.with_demo_users:
        context.write("演示建议需要演示账号来提出和答复：未创建演示账号，跳过建议记录。")
        return
    station = Station.objects.filter(slug=STATION).first()
    if station is None:
        return
    titles = [story.title for story in STORIES]
    if Proposal.objects.filter(title__in=titles, author__email__endswith=f"@{DOMAIN}").exists():
        return  # The history is told once.
    residents = seed_residents(residents_needed())
    people = {user.email: user for user in User.objects.filter(email__endswith=f"@{DOMAIN}")}
    History(context, categories, people, residents).play()
    roll_up(context)


def seed_categories() -> dict[str, Category]:
    categories = {}
    for order, (slug, name_zh, name_en) in enumerate(CATEGORIES):
        categories[slug], _changed = sync_row(
            Category,
            {"slug": slug},
            {"name_zh": name_zh, "name_en": name_en, "order": (order + 1) * 10, "is_active": True},
        )
    return categories


def seed_indicators(context: SeedContext) -> None:
    seed_metric_indicators(context, INDICATORS, OWNERS)


def residents_needed() -> int:
    """Enough residents for the most supported story (one more: its author, if a resident,
    does not support it) and for every story's author."""
    threshold = services.support_threshold()
    most = max(math.ceil(story.supports * threshold) for story in STORIES) + 1
    authors = max(
        (
            int(story.author.split(":")[1])
            for story in STORIES
            if story.author.startswith("resident")
        ),
        default=0,
    )
    return min(MAX_RESIDENTS, max(most, authors))


def resident_name(index: int) -> str:
    """A name for resident ``index`` (1-based); distinct for the first 400."""
    number = index - 1
    surname = SURNAMES[number % len(SURNAMES)]
    given = GIVEN_NAMES[(number // len(SURNAMES) + number) % len(GIVEN_NAMES)]
    return f"{surname}{given}"


def seed_residents(count: int) -> list[User]:
    """The demo residents ``1``–``count``: created where missing, never changed (they have no
    password, so they cannot sign in; they support and comment in the history)."""
    emails = [RESIDENT_EMAIL.format(index) for index in range(1, count + 1)]
    existing = set(User.objects.filter(email__in=emails).values_list("email", flat=True))
    missing = [
        User(email=email, display_name=resident_name(index), password=make_password(None))
        for index, email in enumerate(emails, start=1)
        if email not in existing
    ]
    User.objects.bulk_create(missing)
    users = {user.email: user for user in User.objects.filter(email__in=emails)}
    return [users[email] for email in emails]


def roll_up(context: SeedContext) -> None:
    """Recompute what the history changed; the KPI seeder ran before, and a second run must
    find nothing dirty.

    The proposals metrics and the case metrics (task cases are cases, and a case's backlog
    changes on every day it is open) are recomputed from their first dirty day to today: the
    days on which an answer window closed or a planned end passed were marked by no write.
    Any other metric marked on the way is recomputed on its marked days only. "Now", for the
    windows and plans that have passed, is the seed's present.
    """
    ranged = {*metrics.CODES, *case_metrics.METRIC_CODES}
    spans = (
        DirtyDay.objects.filter(metric__in=ranged)
        .order_by()
        .values("metric")
        .annotate(first=Min("day"))
    )
    with replaying(lambda: context.now):
        for span in spans:
            kpis_backfill(start=span["first"], end=context.today, metric_codes=[span["metric"]])
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
    """Let the services write the past: they read the replayed moment as "now", and the events
    they publish tell no one (the authors, supporters and departments would get today
    hundreds of notices of things long past)."""
    with replaying(clock), muted():
        yield


class _Stop(Exception):
    """The story has reached the present: what comes next has not happened yet."""


def _office(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The same moment if staff are at work then (09:00–18:00), else the next morning."""
    local = moment.astimezone(TZ)
    if 9 <= local.hour < 18:
        return moment
    day = local.date() + dt.timedelta(days=1 if local.hour >= 18 else 0)
    return dt.datetime.combine(day, dt.time(9, rng.randint(5, 55)), TZ)


def _awake(moment: dt.datetime, rng: random.Random) -> dt.datetime:
    """The same moment if people are up (07:00–23:00), else the next morning."""
    local = moment.astimezone(TZ)
    if 7 <= local.hour < 23:
        return moment
    day = local.date() + dt.timedelta(days=1 if local.hour >= 23 else 0)
    return dt.datetime.combine(day, dt.time(7, rng.randint(10, 59)), TZ)


class History:
    def __init__(self, context: SeedContext, categories, people, residents):
        self.context = context
        self.now = context.now
        self.categories = categories
        self.people = people
        self.residents = residents
        self.organisations = {org.slug: org for org in Organisation.objects.all()}
        self.stations = {station.slug: station for station in Station.objects.all()}
        self.services = {service.service_code: service for service in Service.objects.all()}
        self.slugs = {org.pk: slug for slug, org in self.organisations.items()}
        self.clock = _ReplayClock()
        self.told = 0

    def play(self) -> None:
        with _replaying(self.clock):
            for story in sorted(STORIES, key=lambda story: -story.days_ago):
                self.tell(story)
        self.context.write(f"演示建议：{self.told} 条。")

    def person(self, key: str, rng: random.Random, *, besides=()) -> User:
        if key.startswith("resident:"):
            return self.residents[int(key.split(":")[1]) - 1]
        if key == "resident":
            return rng.choice([user for user in self.residents if user not in besides])
        return self.people[PEOPLE[key]]

    def published_at(self, story: Story, rng: random.Random) -> dt.datetime:
        """People write from morning to late evening (08:00–22:00); today's only until now."""
        if story.days_ago < 1:
            return self.now - dt.timedelta(hours=story.days_ago * 24)
        day = self.context.today - dt.timedelta(days=int(story.days_ago))
        minutes = int((story.days_ago % 1) * 14 * 60) + rng.randint(0, 59)
        return dt.datetime.combine(day, dt.time(8), TZ) + dt.timedelta(minutes=minutes)

    # One proposal -----------------------------------------------------------------------------
    def tell(self, story: Story) -> None:
        rng = random.Random(f"gongzhi-proposals:{story.title}")  # noqa: S311  (demo data)
        telling = _Telling(self, story, rng)
        telling.plan()
        with suppress(_Stop):
            for moment, _order, action in sorted(telling.events, key=lambda event: event[:2]):
                if moment > self.now:
                    raise _Stop
                self.clock.at = moment
                action()
        self.clock.at = None
        self.told += 1


class _Telling:
    """The actions of one story, each at its moment, planned before any is done."""

    def __init__(self, history: History, story: Story, rng: random.Random):
        self.history = history
        self.story = story
        self.rng = rng
        self.events: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.author = history.person(story.author, rng)
        self.proposal: Proposal | None = None
        self.published = history.published_at(story, rng)
        self.verdict: dt.datetime | None = None

    def on(self, moment: dt.datetime, action: Callable[[], None]) -> None:
        self.events.append((moment, len(self.events), action))

    def after(self, days: float, *, office: bool = False) -> dt.datetime:
        moment = self.published + dt.timedelta(days=days, minutes=self.rng.randint(0, 50))
        return _office(moment, self.rng) if office else _awake(moment, self.rng)

    @property
    def handler(self) -> tuple[User | None, User | None]:
        """Who answers for the proposal's responsible organisation now, and who moderates."""
        slug = self.history.slugs.get(self.proposal.responsible_id, "")
        if slug not in HANDLERS:
            return None, None
        staff, moderator = HANDLERS[slug]
        return self.history.person(staff, self.rng), self.history.person(moderator, self.rng)

    # Planning ---------------------------------------------------------------------------------
    def plan(self) -> None:
        story = self.story
        self.on(self.published, self.write)
        if story.fate == "draft":
            return
        if story.correction:
            self.on(self.published + dt.timedelta(minutes=self.rng.randint(6, 20)), self.correct)
        if story.route_to:
            route_at = _office(
                self.published + dt.timedelta(hours=self.rng.uniform(1, 6)), self.rng
            )
            self.on(route_at, self.route)
        if story.evaluation:
            self.on(self.after(story.evaluated, office=True), self.evaluate)
        if story.answer:
            self.verdict = self.after(story.answered, office=True)
            if story.drafted is not None:
                self.on(self.after(story.drafted, office=True), self.draft_verdict)
                self.on(self.verdict, self.publish_verdict)
            else:
                self.on(self.verdict, self.give_verdict)
            self.plan_implementation()
        if story.pending:
            self.on(self.after(story.drafted, office=True), self.draft_pending)
        closed = self.verdict
        if story.withdrawn:
            closed = self.after(story.withdrawn)
            self.on(closed, self.withdraw)
        self.plan_supports(closed)
        for talk in story.talks:
            self.plan_talk(talk)

    def plan_supports(self, closed: dt.datetime | None) -> None:
        """Supporters come from publication until the verdict or withdrawal (or now), most of
        them in the first days."""
        story = self.story
        wanted = min(
            math.ceil(story.supports * services.support_threshold()), len(self.history.residents)
        )
        pool = [user for user in self.history.residents if user != self.author]
        supporters = self.rng.sample(pool, min(wanted, len(pool)))
        end = closed or self.history.now
        if story.support_days is not None:
            end = min(end, self.published + dt.timedelta(days=story.support_days))
        span = max(0.0, (end - self.published).total_seconds() - 600)
        for user in supporters:
            moment = self.published + dt.timedelta(seconds=300 + span * self.rng.random() ** 2)
            self.on(moment, self.supporting(user))
            if self.rng.random() < 0.15:
                self.on(moment + dt.timedelta(minutes=1), self.following(user))

    def plan_talk(self, talk: Talk, *, parent: dict | None = None, since=None) -> None:
        said = self.after(talk.after)
        if since is not None:
            # A reply comes after the comment it answers, whatever the hour.
            said = max(said, since + dt.timedelta(minutes=self.rng.randint(5, 40)))
        who = self.history.person(talk.who, self.rng, besides=(self.author,))
        posted: dict = {}
        self.on(said, self.commenting(who, talk.body, parent, posted))
        others = [user for user in self.history.residents if user != who]
        voters = self.rng.sample(others, talk.up + talk.down + talk.flags)
        for index, voter in enumerate(voters):
            moment = said + dt.timedelta(minutes=self.rng.randint(5, 36 * 60))
            if index < talk.up + talk.down:
                self.on(moment, self.voting(voter, posted, 1 if index < talk.up else -1))
            else:
                self.on(said + dt.timedelta(minutes=10 + index), self.flagging(voter, posted))
        if talk.hidden:
            hidden = _office(said + dt.timedelta(hours=self.rng.uniform(1, 3)), self.rng)
            self.on(hidden, self.hiding(posted, talk.hidden))
        for reply in talk.replies:
            self.plan_talk(reply, parent=posted, since=said)

    def plan_implementation(self) -> None:
        """Milestones are added the day after the verdict; days count from the verdict."""
        story = self.story
        since = self.verdict
        milestones: dict[str, Milestone] = {}
        for step in story.steps:
            self.on(
                _office(since + dt.timedelta(hours=20), self.rng), self.adding(step, milestones)
            )
            if step.started is not None:
                moment = _office(since + dt.timedelta(days=step.started), self.rng)
                self.on(moment, self.moving(step, milestones, Milestone.State.IN_PROGRESS))
            if step.done is not None:
                moment = _office(since + dt.timedelta(days=step.done), self.rng)
                self.on(moment, self.moving(step, milestones, Milestone.State.DONE))
        task = story.task
        if task is not None:
            opened = _office(since + dt.timedelta(days=task.opened), self.rng)
            case: dict = {}
            self.on(opened, self.opening(task, case))
            acknowledged = opened + dt.timedelta(minutes=self.rng.randint(20, 120))
            self.on(acknowledged, self.transition(case, CaseStatus.ACKNOWLEDGED))
            working = _office(acknowledged + dt.timedelta(days=1), self.rng)
            self.on(working, self.transition(case, CaseStatus.IN_PROGRESS))
            if task.resolved is not None:
                resolved = _office(since + dt.timedelta(days=task.resolved), self.rng)
                self.on(resolved - dt.timedelta(minutes=15), self.replying(case, task.reply))
                self.on(resolved, self.transition(case, CaseStatus.RESOLVED))

    @property
    def verdict_day(self) -> dt.date:
        return self.verdict.astimezone(TZ).date()

    def plan_dates(self) -> dict:
        start, end = self.story.plan
        verdict_day = self.verdict_day
        return {
            "cost": Decimal(self.story.cost) if self.story.cost is not None else None,
            "starts_on": verdict_day + dt.timedelta(days=start),
            "ends_on": verdict_day + dt.timedelta(days=end),
        }

    # Actions ----------------------------------------------------------------------------------
    def write(self) -> None:
        story = self.story
        kind, _sep, key = story.subject.partition(":")
        self.proposal = services.proposal_create(
            actor=self.author,
            title=story.title,
            body=story.body,
            category=self.history.categories[story.category],
            scope={"platform": Scope.PLATFORM, "station": Scope.STATION}.get(kind, Scope.SERVICE),
            station=self.history.stations[key] if kind == "station" else None,
            service=self.history.services[key] if kind == "service" else None,
            on_behalf_of=self.history.organisations[story.behalf] if story.behalf else None,
            publish_now=story.fate != "draft",
        )

    def correct(self) -> None:
        self.proposal = services.proposal_update(
            actor=self.author, proposal=self.proposal, body=self.story.correction
        )

    def route(self) -> None:
        self.proposal = services.proposal_route(
            actor=self.history.people[ADMIN],
            proposal=self.proposal,
            responsible=self.history.organisations[self.story.route_to],
        )

    def _answer(self, state: str, text: str, **plan) -> None:
        staff, _moderator = self.handler
        if staff is None:
            return
        services.proposal_answer(
            actor=staff, proposal=self.proposal, state=state, text=text, **plan
        )

    def evaluate(self) -> None:
        self._answer(Answer.State.EVALUATING, self.story.evaluation)

    def _verdict(self) -> dict:
        """Accepted with its plan (dates from the day it is published), or rejected."""
        if self.story.fate in ("accepted", "implemented"):
            return {"state": Answer.State.ACCEPTED, "text": self.story.answer, **self.plan_dates()}
        return {"state": Answer.State.REJECTED, "text": self.story.answer}

    def give_verdict(self) -> None:
        self._answer(**self._verdict())

    def draft_verdict(self) -> None:
        staff, _moderator = self.handler
        if staff is not None:
            services.answer_draft(actor=staff, proposal=self.proposal, **self._verdict())

    def publish_verdict(self) -> None:
        _staff, moderator = self.handler
        draft = Answer.objects.filter(proposal=self.proposal, published_at__isnull=True).first()
        if moderator is not None and draft is not None:
            services.answer_publish(actor=moderator, answer=draft)

    def draft_pending(self) -> None:
        staff, _moderator = self.handler
        if staff is not None:
            services.answer_draft(
                actor=staff,
                proposal=self.proposal,
                state=Answer.State.EVALUATING,
                text=self.story.pending,
            )

    def withdraw(self) -> None:
        services.proposal_withdraw(actor=self.author, proposal=self.proposal)

    def supporting(self, user: User) -> Callable[[], None]:
        return lambda: services.proposal_support(actor=user, proposal=self.proposal)

    def following(self, user: User) -> Callable[[], None]:
        return lambda: services.proposal_follow(actor=user, proposal=self.proposal)

    def commenting(self, who: User, body: str, parent: dict | None, posted: dict):
        def action():
            posted["comment"] = services.comment_add(
                actor=who,
                proposal=self.proposal,
                body=body,
                parent=parent["comment"] if parent is not None else None,
            )

        return action

    def voting(self, voter: User, posted: dict, value: int):
        return lambda: services.comment_vote(actor=voter, comment=posted["comment"], value=value)

    def flagging(self, voter: User, posted: dict):
        return lambda: services.comment_flag(
            actor=voter, comment=posted["comment"], reason="广告或引流信息"
        )

    def hiding(self, posted: dict, reason: str):
        def action():
            _staff, moderator = self.handler
            services.comment_hide(
                actor=moderator or self.history.people[ADMIN],
                comment=posted["comment"],
                reason=reason,
            )

        return action

    def adding(self, step: Step, milestones: dict):
        def action():
            staff, _moderator = self.handler
            due_on = self.verdict_day + dt.timedelta(days=step.due)
            milestones[step.title] = services.milestone_add(
                actor=staff, proposal=self.proposal, title=step.title, due_on=due_on
            )

        return action

    def moving(self, step: Step, milestones: dict, state: str):
        def action():
            staff, _moderator = self.handler
            services.milestone_set_state(actor=staff, milestone=milestones[step.title], state=state)

        return action

    def opening(self, task: Task, case: dict):
        def action():
            staff, _moderator = self.handler
            case["case"] = services.result_open_case(
                actor=staff,
                proposal=self.proposal,
                title=task.title,
                description=task.description,
                service=self.history.services[task.service],
                station=self.history.stations[task.station],
            )

        return action

    def transition(self, case: dict, to: str):
        def action():
            staff, _moderator = self.handler
            case["case"] = case_services.case_transition(
                actor=staff, case=case["case"], to=to, at=self.history.clock()
            )

        return action

    def replying(self, case: dict, body: str):
        def action():
            staff, _moderator = self.handler
            case_services.case_reply(actor=staff, case=case["case"], body=body)

        return action
