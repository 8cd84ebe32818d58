"""Demo seed: the triage desk, case categories, routing rules, SLA policies, about ninety cases
from the last three months at the Chenghua Mixc station, and the KPIs on the case metrics.

Runs after the stations seeder (it needs the catalogue) and before the KPI seeder. The
configuration rows are keyed on natural keys (slugs, a rule's service or category, a policy's
scope); the case history is told once: when any of the demo cases is already there, none is
written again, so a second run (on the same day or a later one) writes nothing.

The history is replayed through the services (``case_open``, ``case_transition``,
``case_reply``…) with the times it happened at, so SLA clocks, on-time verdicts, open spells and
reopen counts come out as the services compute them. Two things differ from live use, both for
the replay only (see :func:`_replaying`): the services that take no time of their own read the
replayed time as "now", and nobody is notified (the history happened before anyone could be).

The handlers are demo accounts, so the history needs them: without demo users the seeder writes
the configuration and the KPIs, and no cases. Household administration, traffic police and the
mall answer through their demo staff; exit-entry and Tianfutong have no demo staff, so the
platform administrator answers for them, and triages.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils import timezone

from governance.cases import metrics, services, sla
from governance.cases.models import (
    Case,
    Category,
    CoHandler,
    Priority,
    RoutingRule,
    SlaPolicy,
    Source,
    Status,
)
from governance.cases.routing import triage_slug
from governance.core.clock import replaying
from governance.core.seeding import SeedContext, sync_row
from governance.kpis.models import DirtyDay
from governance.kpis.seed import seed_metric_indicators
from governance.kpis.services import kpis_backfill
from governance.notifications.services import muted
from governance.stakeholders.models import Organisation, User
from governance.stations.models import Service, Station

TZ = ZoneInfo("Asia/Shanghai")
STATION = "chenghua-mixc"

MODELS = (
    "stakeholders.Organisation",
    "cases.Category",
    "cases.RoutingRule",
    "cases.RoutingRule_cohandlers",
    "cases.SlaPolicy",
    "cases.Case",
    "cases.TimelineEntry",
    "cases.OpenSpell",
    "cases.Follower",
    "cases.CoHandler",
    "kpis.Indicator",
    "kpis.Indicator_owners",
    "kpis.Target",
)

TRIAGE = {
    "kind": Organisation.Kind.DEPARTMENT,
    "name_zh": "成华区万象城智慧警务服务站综合受理窗口",
    "name_en": "One-stop Counter, Chenghua Mixc Smart Police Service Station",
    "short_name_zh": "综合受理窗口",
    "short_name_en": "One-stop counter",
    "description_zh": "由户政管理大队牵头的综合受理窗口：接收没有对应部门的问题和报告，"
    "分拨给负责的部门或合作单位。",
    "description_en": "The one-stop counter run by household administration: it receives "
    "reports that fit no department and hands them to the department or partner in charge.",
    "contact_email": "triage@demo.gongzhi.local",
    "contact_phone": "028-84312100",
}

# slug, name_zh, name_en, description_zh, description_en
CATEGORIES = (
    (
        "facility",
        "设施问题",
        "Facility problem",
        "服务站及周边的门、空调、桌椅、照明、自助设备等损坏或故障。",
        "Doors, air conditioning, furniture, lighting or self-service machines at or around "
        "the station that are broken or faulty.",
    ),
    (
        "queue",
        "排队叫号",
        "Queue and ticketing system",
        "取号机、叫号屏、叫号广播和短信提醒的问题。",
        "Ticket machines, calling screens, announcements and text reminders.",
    ),
    (
        "lost-property",
        "失物招领",
        "Lost property",
        "在服务站或商场内遗失、拾到的物品和证件。",
        "Items and documents lost or found at the station or in the mall.",
    ),
    (
        "environment",
        "环境卫生",
        "Environment and cleanliness",
        "等候区、卫生间和通道的清洁、积水、异味和吸烟等问题。",
        "Cleanliness, standing water, smells and smoking in the waiting area, toilets and "
        "passages.",
    ),
    (
        "accessibility",
        "无障碍",
        "Accessibility",
        "轮椅通道、无障碍电梯、低位服务台和为老年人、残障人士提供的帮助。",
        "Wheelchair access, accessible lifts, low counters and help for older and disabled people.",
    ),
    (
        "other",
        "其他",
        "Other",
        "以上类别都不合适的问题，由综合受理窗口分拨给负责单位。",
        "Anything else; the one-stop counter passes it to whoever is in charge.",
    ),
)

# category slug → (responsible, co-handlers, co-handler task, rule names); "other" has no rule
# and goes to the triage queue.
CATEGORY_RULES = {
    "queue": (
        "hukou",
        ("mall",),
        "检查叫号屏、取号机和候区广播的供电与网络（商场工程部）。",
        "排队叫号问题（户政牵头，商场协办）",
        "Queue system (household administration, with the mall)",
    ),
    "facility": ("mall", (), "", "服务站设施（商场）", "Station facilities (the mall)"),
    "environment": ("mall", (), "", "环境卫生（商场）", "Cleanliness (the mall)"),
    "accessibility": ("mall", (), "", "无障碍设施与服务（商场）", "Accessibility (the mall)"),
    "lost-property": ("mall", (), "", "失物招领（商场客服中心）", "Lost property (mall desk)"),
}
CATEGORY_RULE_ORDER = 10
SERVICE_RULE_ORDER = 100

# (service code or category slug or "" for the platform default, priority or "") →
# (acknowledge within N working hours, resolve within N working days)
SLA_POLICIES = {
    ("", ""): (8, 5),
    ("", Priority.URGENT): (2, 1),
    ("", Priority.HIGH): (4, 3),
    ("", Priority.LOW): (16, 10),
    ("category:facility", ""): (4, 3),
    ("category:facility", Priority.URGENT): (1, 1),
    ("category:queue", ""): (2, 2),
    ("category:environment", ""): (2, 1),
    ("category:accessibility", ""): (4, 3),
    ("category:lost-property", ""): (4, 5),
    ("service:HK-ID-LOST", ""): (4, 3),
    ("service:HK-MOVE-IN", ""): (8, 10),
    ("service:TR-VIOLATION", ""): (8, 10),
    ("service:EE-PASSPORT", ""): (8, 7),
    ("service:EE-HKMO", ""): (8, 7),
}

# KPIs on the case metrics: owned by the departments and the mall, public, monthly targets.
CASE_OWNERS = ("hukou", "traffic", "exit-entry", "tianfu", "mall")
INDICATORS = (
    {
        "code": "cases-acknowledged-on-time",
        "metric": metrics.ACKNOWLEDGED_ON_TIME.code,
        "thresholds": (95, 85),
        "name_zh": "事项按时受理率",
        "name_en": "Cases acknowledged on time",
        "description_zh": "当月受理的事项中，在受理时限（工作小时）内受理的百分比。",
        "description_en": "Cases acknowledged in the month within their acknowledgement "
        "deadline (working hours), as a percentage.",
    },
    {
        "code": "cases-resolved-on-time",
        "metric": metrics.RESOLVED_ON_TIME.code,
        "thresholds": (90, 80),
        "name_zh": "事项按时办结率",
        "name_en": "Cases resolved on time",
        "description_zh": "当月首次解决的事项中，在办结时限（工作日）内解决的百分比；"
        "重开不改变首次的判定。",
        "description_en": "Cases first resolved in the month within their resolution deadline "
        "(working days), as a percentage; reopening does not change the first verdict.",
    },
    {
        "code": "cases-resolution-median",
        "metric": metrics.RESOLUTION_MEDIAN.code,
        "thresholds": (72, 96),
        "name_zh": "事项办结时长中位数",
        "name_en": "Median time to resolve a case",
        "description_zh": "当月首次解决的事项从提交到解决的小时数（自然时间）的中位数。",
        "description_en": "The median number of hours (calendar time) from report to first "
        "resolution, over the cases first resolved in the month.",
    },
    {
        "code": "cases-backlog",
        "metric": metrics.BACKLOG.code,
        "thresholds": (6, 9),
        "name_zh": "待办事项数",
        "name_en": "Open cases (backlog)",
        "description_zh": "每天结束时尚未解决的事项数，按当月各天平均。",
        "description_en": "Cases still open at the end of each day, averaged over the month.",
    },
    {
        "code": "cases-reopen-rate",
        "metric": metrics.REOPEN_RATE.code,
        "thresholds": (5, 10),
        "name_zh": "事项重开率",
        "name_en": "Cases reopened",
        "description_zh": "当月首次解决的事项中，之后被重开的百分比。",
        "description_en": "Cases first resolved in the month that were reopened since, as a "
        "percentage.",
    },
)

# The people who act in the history (demo accounts, see governance.stakeholders.seed).
ADMIN = "admin@demo.gongzhi.local"
CITIZEN = "citizen@demo.gongzhi.local"
# responsible organisation → (who handles, who assigns the handler or None)
HANDLERS = {
    "hukou": ("hukou.staff@demo.gongzhi.local", "hukou.admin@demo.gongzhi.local"),
    "traffic": ("traffic.staff@demo.gongzhi.local", "traffic.staff@demo.gongzhi.local"),
    "exit-entry": (ADMIN, None),
    "tianfu": (ADMIN, None),
    "mall": ("mall.staff@demo.gongzhi.local", "mall.admin@demo.gongzhi.local"),
}
COHANDLER_STAFF = {"mall": "mall.staff@demo.gongzhi.local", "bank": "bank.admin@demo.gongzhi.local"}
REPORTERS = {
    "citizen": CITIZEN,
    "staff": "hukou.staff@demo.gongzhi.local",
    "partner": "mall.staff@demo.gongzhi.local",
}
SOURCES = {"staff": Source.STAFF, "partner": Source.PARTNER}


# The history -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Story:
    """One demo case and how it went.

    ``fate`` is one of: ``on_time`` (acknowledged and resolved in time), ``late`` (resolved
    after its deadline), ``late_ack`` (acknowledged late, resolved in time), ``reopened``
    (resolved, reopened at the reporter's request, resolved again), ``reopened_open`` (reopened
    and not yet resolved again), ``rejected``, ``duplicate`` (of the story titled
    ``duplicate_of``), ``new``, ``acknowledged``, ``in_progress``, ``overdue`` (in progress,
    past its deadline), ``triage`` (waiting to be routed), ``triage_routed`` (routed to
    ``route_to`` by the desk, then on time) and ``triage_rejected``.
    """

    days_ago: float
    subject: str  # "service:CODE" or "category:slug"
    fate: str
    title: str
    description: str
    reply: str = ""
    reporter: str = "anonymous"  # anonymous | citizen | staff | partner
    contact: tuple[str, str, str] = ("", "", "")
    priority: str = Priority.NORMAL
    public: bool = True
    reason: str = ""  # rejection or reopening reason
    second_reply: str = ""  # the answer after a reopening
    duplicate_of: str = ""
    route_to: str = ""
    note: str = ""  # an internal note while it is handled
    cohandler: tuple[str, str, str] = ("", "", "")  # organisation, task, note when done


STORIES = (
    # Household administration --------------------------------------------------------------
    Story(
        86.2,
        "service:HK-ID-RENEW",
        "on_time",
        "身份证换领后一直没收到领取短信",
        "上个月在服务站换领了身份证，工作人员说制证完成后会发短信通知领取，"
        "现在快一个月了还没收到，想问问证件到了没有。",
        "经查询，您的新证件已制作完成并寄到服务站。受理时登记的手机号少了一位，短信没能送达，"
        "我们已为您更正。请携带受理回执到户政窗口领取，周末也可以办理。",
        contact=("黄先生", "13800001101", ""),
    ),
    Story(
        80.4,
        "service:HK-RESPERMIT",
        "late",
        "居住证办理进度在网上查不到",
        "三周前在服务站提交了居住证申请，天府通办上一直查不到办理进度，"
        "打电话也没人接，请帮忙查一下。",
        "很抱歉让您久等。您的申请需要社区民警上门核实居住信息，因核实人员调整耽误了几天，"
        "现已核实完毕，居住证已制作完成，可以到服务站户政窗口领取。",
        reporter="citizen",
    ),
    Story(
        74.5,
        "service:HK-CERT",
        "on_time",
        "户籍证明开具要求的材料和网上说的不一致",
        "网上办事指南写只需要身份证，窗口却要求提供户口簿原件，白跑了一趟。",
        "感谢您的反映。开具亲属关系类户籍证明需要户口簿，其他户籍证明凭身份证即可办理。"
        "我们已请网站更新办事指南，把两类证明分开写清楚，给您带来不便深表歉意。",
    ),
    Story(
        67.3,
        "service:HK-NOCRIME",
        "rejected",
        "希望服务站能给外省户籍开无犯罪记录证明",
        "我是外省户籍，在成都工作，单位要无犯罪记录证明，能不能在这里直接开？",
        reason="无犯罪记录证明由户籍地或居住地公安机关出具：您在本市办理居住证满半年的，"
        "可以在本站申请；尚未办理居住证的，请向户籍地派出所申请，也可通过户籍地的"
        "网上办事平台申请。本站暂不能为您办理，特此说明。",
    ),
    Story(
        60.1,
        "service:HK-ID-LOST",
        "on_time",
        "补领身份证能不能加急",
        "下周要坐飞机出差，身份证丢了，补领的话最快多久能拿到？",
        "身份证补领一般 7 个工作日内制证完成。出行急用的，可以在服务站当场办理临时身份证，"
        "机场也可以办理临时乘机证明。我们已为您的补领申请加急。",
        reporter="citizen",
    ),
    Story(
        52.6,
        "service:HK-BIRTH",
        "on_time",
        "出生登记需要补交的材料没有一次说清楚",
        "（窗口代为登记）市民反映办理新生儿出生登记时，前后两次被告知需要补交不同的材料。",
        "已与市民联系并当面说明全部材料：出生医学证明、父母双方户口簿和身份证、"
        "结婚证。已在窗口张贴出生登记一次性告知单，避免群众多次往返。",
        reporter="staff",
    ),
    Story(
        45.4,
        "service:HK-ID-XPROV",
        "reopened",
        "跨省换证被告知照片不合格",
        "在服务站办理跨省异地换领身份证，收件十天后才被告知照片不合格需要重拍。",
        "已为您重新采集照片并提交户籍地公安机关审核，审核已通过，证件制作中。",
        reporter="citizen",
        reason="市民来电反映：重新采集的照片仍被户籍地退回，要求再次核查原因。",
        second_reply="经与户籍地公安机关联系，退回原因是照片背景色不符合当地要求。"
        "已按要求第三次采集并当场审核通过，由我们负责跟进到证件寄达，给您添麻烦了。",
    ),
    Story(
        38.2,
        "service:HK-MOVE-IN",
        "late",
        "户口迁入审批超过了承诺时限",
        "申请把户口迁入配偶家，窗口说 10 个工作日出结果，现在已经超过了还没有消息。",
        "经核查，您的迁入申请需要迁出地出具户籍档案，档案邮寄延误导致超期，我们已主动联系"
        "迁出地补寄。现已审批通过，请携带准迁证明到窗口办理落户。对超期办理深表歉意。",
        contact=("杨女士", "13800001102", "yang.nvshi@example.com"),
    ),
    Story(
        30.3,
        "service:HK-ID-RENEW",
        "on_time",
        "身份证照片拍得偏暗",
        "在服务站换领身份证时拍的照片偏暗，看起来气色很差，能不能重拍？",
        "已检查拍照区补光灯，发现一盏灯管老化，已更换。照片未制证前可以免费重拍，"
        "我们已为您预约重拍时间。",
    ),
    Story(
        16.4,
        "service:HK-CERT",
        "on_time",
        "开具的户籍证明上姓名有错字",
        "昨天在服务站开的户籍证明，母亲姓名中“玥”字打成了“月”，需要重新开具。",
        "非常抱歉。您母亲的姓名在系统中原为生僻字，打印时被替换了。已在系统中补录生僻字，"
        "重新开具的证明已核对无误，可凭身份证到窗口领取，也可以寄送到您留下的地址。",
        reporter="citizen",
        public=False,
        contact=("王小明", "13800001103", "wang.xiaoming@example.com"),
    ),
    Story(
        9.2,
        "service:HK-ID-TEMP",
        "late_ack",
        "临时身份证当天能否拿到",
        "周六上午来办理临时身份证，想确认当天下午能不能拿到，赶晚上的高铁。",
        "临时身份证在服务站当场制证，一般 30 分钟内可以领取，周末同样办理。"
        "回复晚了，非常抱歉，希望没有耽误您的行程。",
    ),
    Story(
        13.3,
        "service:HK-MOVE-IN",
        "overdue",
        "投靠子女户口迁入材料审核没有结果",
        "为母亲办理投靠子女的户口迁入，材料交了两周多，审核一直没有结果。",
        "您的申请已进入审核，需要核实老人在原籍的赡养关系，已函请原籍派出所协助，"
        "收到回函后会第一时间通知您。",
        reporter="citizen",
        note="原籍派出所回函未到，已电话催办。",
    ),
    Story(
        3.8,
        "service:HK-NOCRIME",
        "in_progress",
        "无犯罪记录证明能否寄到外地",
        "在服务站申请了无犯罪记录证明，人已回老家，证明能不能邮寄？",
        "可以邮寄。我们已登记您的寄送需求，证明开具后用 EMS 寄出，费用到付。",
        contact=("周先生", "13800001104", ""),
    ),
    Story(
        0.3,
        "service:HK-ID-RENEW",
        "new",
        "周末能否办理身份证换领",
        "想趁周末来换身份证，请问周六日窗口开不开？需要提前预约吗？",
    ),
    # Traffic police ------------------------------------------------------------------------
    Story(
        84.1,
        "service:TR-DL-RENEW",
        "on_time",
        "驾驶证换证时体检结果上传失败",
        "在医院做完驾驶人体检，到服务站换证时系统显示没有体检信息。",
        "已核查，医院体检信息上传接口当天出现故障，现已恢复，您的体检信息已同步。"
        "请携带身份证到交管窗口继续办理，不需要重新体检。",
    ),
    Story(
        70.2,
        "service:TR-VIOLATION",
        "late",
        "对一条电子监控违法记录有异议",
        "一条闯红灯的记录，当时是避让救护车，申请复核。",
        "经调取路口视频复核，您当时确为避让执行任务的救护车，该违法记录已撤销。"
        "因需要调取的视频存放在外区，复核超出了时限，向您致歉。",
        contact=("刘先生", "13800001105", ""),
    ),
    Story(
        58.5,
        "service:TR-INSPECT",
        "on_time",
        "免检车辆申领检验标志后没有电子标志",
        "六年免检的车申领了检验标志，交管 12123 上一直没有生成电子标志。",
        "已为您重新推送电子检验标志，请在交管 12123 中刷新查看。"
        "原因是申领时车辆保险信息未同步，现已同步。",
        reporter="citizen",
    ),
    Story(
        47.1,
        "service:TR-TEMPPLATE",
        "rejected",
        "想在服务站给外地车辆办临时号牌",
        "在外地买的车，想直接在万象城服务站办临时号牌。",
        reason="按规定，临时号牌由机动车销售地或登记地车辆管理所核发。服务站可以办理本市"
        "登记车辆的临时号牌，外地购买的车辆请到销售地车管所或通过交管 12123 申请。",
    ),
    Story(
        33.4,
        "service:TR-MEDICAL",
        "on_time",
        "体检信息备案后仍提示未备案",
        "上周在服务站做了驾驶人体检信息备案，今天在 12123 上查询还是显示未备案。",
        "备案数据需要 1 个工作日同步，您的备案已经生效。若再次遇到显示不一致，"
        "可以在窗口现场打印备案凭证。",
    ),
    Story(
        21.2,
        "service:TR-DL-LOST",
        "reopened",
        "补领的驾驶证信息有误",
        "补领的驾驶证上准驾车型少了 D 照（摩托车）。",
        "已核对档案，您的准驾车型为 C1D，已安排重新制证，新证可在窗口领取。",
        contact=("赵先生", "13800001106", ""),
        reason="市民反映：重新制作的驾驶证仍未显示 D，要求再查。",
        second_reply="已查明是制证模板未更新所致，已联系车管所修正并当场重新制证，"
        "新证准驾车型显示为 C1D，已请您现场核对确认。",
    ),
    Story(
        11.4,
        "service:TR-VIOLATION",
        "on_time",
        "交通违法处理后罚款缴纳页面打不开",
        "在服务站处理了违法记录，但缴款链接一直打不开，担心产生滞纳金。",
        "缴款平台当日在维护，您的缴款期限已顺延，不会产生滞纳金。"
        "现在可以在交管 12123 或商场内工商银行网点缴纳。",
    ),
    Story(
        18.1,
        "service:TR-VIOLATION",
        "overdue",
        "违法记录异议复核需要调取外地视频",
        "在外省被记了一次违停，当时车在成都，怀疑是套牌，申请复核。",
        "已受理您的套牌异议，正在协调外省交管部门调取抓拍原始图片，有结果会及时告知。",
        note="已发函外省交管部门，对方表示需 10 个工作日调取。",
    ),
    Story(
        2.2,
        "service:TR-DL-RENEW",
        "acknowledged",
        "驾驶证到期换证能否异地办理",
        "驾驶证是在重庆考的，现在在成都工作，能不能在服务站换证？",
    ),
    Story(
        0.15,
        "service:TR-INSPECT",
        "new",
        "检验标志申领需要带哪些材料",
        "想来服务站领取六年免检车辆的检验标志，需要带行驶证原件吗？",
    ),
    # Exit-entry ----------------------------------------------------------------------------
    Story(
        88.3,
        "service:EE-PASSPORT",
        "on_time",
        "护照加急办理的条件是什么",
        "下个月要出国参加会议，护照还没办，能不能加急？",
        "因公务、就医、奔丧等紧急事由可以申请加急，需提供相关证明材料，"
        "加急办理一般 5 个工作日出证。您可带邀请函到服务站出入境窗口申请。",
    ),
    Story(
        78.1,
        "service:EE-HKMO",
        "late",
        "港澳通行证制证进度迟迟不更新",
        "港澳通行证受理十多天了，查询进度一直显示“审批中”。",
        "经查，您的申请因系统数据校验需要人工复核，耽误了几天，现已审批通过并制证，"
        "请到服务站领取。对超出承诺时限深表歉意。",
        reporter="citizen",
    ),
    Story(
        63.4,
        "service:EE-PHOTO",
        "on_time",
        "出入境照片采集机总是提示重拍",
        "在服务站自助采集出入境证件照，机器连续五次提示“照片不合格”，最后只好去窗口拍。",
        "已联系设备厂商检修，原因是摄像头镜头有污渍、补光角度偏移，已清洁并重新校准。"
        "感谢您的反映。",
    ),
    Story(
        49.2,
        "service:EE-HKMO-ENDORSE",
        "on_time",
        "自助签注机不识别新版通行证",
        "用电子往来港澳通行证在自助签注机上办理再次签注，机器一直读不出证件。",
        "自助签注机读卡模块已升级，现在可以识别新版电子通行证。升级期间请到窗口办理。",
    ),
    Story(
        48.9,
        "service:EE-HKMO-ENDORSE",
        "duplicate",
        "签注机读不了港澳通行证",
        "自助签注机放上通行证没有反应，试了好几次。",
        duplicate_of="自助签注机不识别新版通行证",
    ),
    Story(
        40.3,
        "service:EE-TW",
        "on_time",
        "台湾通行证签注需要什么材料",
        "想去台湾旅游，往来台湾通行证的签注要准备什么？",
        "个人旅游签注需持有效的往来台湾通行证，在服务站出入境窗口或自助机办理即可，"
        "一般 7 个工作日内办结。",
    ),
    Story(
        27.2,
        "service:EE-FOREIGN-STAY",
        "on_time",
        "外国人住宿登记怎样网上办理",
        "（窗口代为登记）一位外籍访客咨询住在亲戚家时如何办理住宿登记。",
        "已向访客说明：住在亲友家的，应在抵达后 24 小时内由本人或留宿人办理住宿登记，"
        "可以到服务站出入境窗口办理，也可以通过“四川公安”网上办理。",
        reporter="staff",
    ),
    Story(
        19.3,
        "service:EE-PASSPORT",
        "late_ack",
        "护照到期换发能否提前办理",
        "护照还有八个月到期，想提前换，会不会被拒绝？",
        "护照有效期不足一年的可以申请换发，您可以直接到服务站办理。回复不够及时，请见谅。",
    ),
    Story(
        8.3,
        "service:EE-PASSPORT",
        "on_time",
        "节假日前办证排队太久",
        "国庆前带孩子来办护照，排了一个半小时，希望节前能多开窗口。",
        "节假日前出入境业务量明显上升，我们已调整节前两周的排班，高峰时段增开一个窗口，"
        "并建议错峰通过“移民局”App 预约。感谢您的建议。",
    ),
    Story(
        2.4,
        "service:EE-HKMO",
        "in_progress",
        "港澳通行证邮寄到付能否改地址",
        "受理港澳通行证时选了邮寄，现在搬家了，想改收件地址。",
        "已记录您的新地址，正在联系制证中心更改邮寄信息，更改完成后通知您。",
        contact=("林女士", "13800001107", ""),
    ),
    # Tianfutong ---------------------------------------------------------------------------
    Story(
        83.2,
        "service:TF-SSCARD",
        "on_time",
        "补换的社保卡金融功能无法激活",
        "在服务站补换了社保卡，去银行激活金融功能时被告知卡片状态异常。",
        "经与工商银行万象城支行核实，是卡片制卡信息同步延迟，现已同步，"
        "请携带身份证和社保卡到支行柜台激活。",
        cohandler=(
            "bank",
            "请工行万象城支行核实该社保卡金融账户的激活状态。",
            "已核实，制卡信息已同步，市民可到柜台激活。",
        ),
    ),
    Story(
        69.4,
        "service:TF-ACCOUNT",
        "on_time",
        "天府通办实名认证一直人脸比对失败",
        "手机上注册天府通办，人脸比对一直失败，提示“非本人操作”。",
        "人脸比对失败多与证件照片年代久远有关。可以在服务站自助终端用身份证现场认证，"
        "或请中国移动营业厅工作人员协助完成认证。",
    ),
    Story(
        55.3,
        "service:TF-SOCIAL",
        "on_time",
        "社保缴费记录打印少了几个月",
        "打印的社保参保缴费记录缺了去年三个月，但工资条上是扣了的。",
        "经核实，缺失的三个月为单位补缴，补缴记录已入账，现在打印可以显示完整记录。",
        reporter="citizen",
    ),
    Story(
        42.2,
        "service:TF-HOUSINGFUND",
        "rejected",
        "公积金提取额度太低",
        "租房提取公积金每月额度太低，希望提高。",
        reason="租房提取额度由市住房公积金管理中心统一规定，服务站无权调整。"
        "您的意见已转市公积金中心，也可以拨打 12329 热线或在“共治”平台发起建议。",
    ),
    Story(
        29.1,
        "service:TF-ECERT",
        "late",
        "电子证照申领后在 App 里看不到",
        "在服务站申领了电子营业执照和电子驾驶证，天府通办 App 的卡包里看不到。",
        "已查明是证照库与 App 的数据同步任务中断，已修复并重新推送，"
        "现在卡包中可以看到您的电子证照。处理时间超出了承诺，深表歉意。",
    ),
    Story(
        15.2,
        "service:TF-ESTATE",
        "on_time",
        "不动产登记信息查询需要本人到场吗",
        "想帮父母查询名下房产信息，需要他们本人来吗？",
        "查询本人名下不动产信息需本人持身份证查询；代为查询需要提供经公证的委托书。"
        "父母行动不便的，可在天府通办 App 上由本人刷脸查询。",
    ),
    Story(
        21.4,
        "service:TF-MEDINS",
        "on_time",
        "新生儿医保参保登记能否在服务站办理",
        "孩子刚办完出生登记，想顺便在服务站把医保也办了。",
        "可以办理。新生儿出生登记后，凭户口簿即可在服务站天府通办窗口办理城乡居民医保参保，"
        "已为您预约。",
    ),
    Story(
        2.8,
        "service:TF-SSCARD",
        "in_progress",
        "社保卡申领后多久能领卡",
        "在服务站申领社保卡已经一周了，不知道什么时候能领。",
        "您的社保卡已在制作中，制卡完成后会短信通知您到服务站领取。",
    ),
    # Queue system: household administration with the mall ---------------------------------
    Story(
        85.3,
        "category:queue",
        "on_time",
        "叫号屏黑屏，群众听不到叫号",
        "（商场巡查发现）服务站等候区左侧叫号屏黑屏，叫号广播也没有声音，群众只能挤在窗口前看号。",
        "商场工程部已更换叫号屏电源适配器，广播功放重新接线，叫号恢复正常。"
        "我们也在窗口旁增设了临时号码提示牌。",
        reporter="partner",
        cohandler=("mall", "", "已更换叫号屏电源适配器，检查广播线路并重新接线。"),
    ),
    Story(
        61.2,
        "category:queue",
        "late",
        "叫号短信提醒不准，过号了才收到",
        "取号后留了手机号，说快到号时会短信提醒，结果短信收到时已经过号了。",
        "短信平台在高峰时段发送排队，导致提醒延迟。已把提醒提前到前面还有 5 位时发送，"
        "并在候区增设了手机扫码查看实时叫号的二维码。处理超时，向您致歉。",
        cohandler=("mall", "", "已在候区立柱张贴实时叫号二维码。"),
    ),
    Story(
        44.2,
        "category:queue",
        "on_time",
        "取号机没有纸了",
        "取号机不出票，只能手机扫码取号，老年人不会操作。",
        "取号机已补充热敏纸，商场客服台备有备用纸卷。我们已安排志愿者在取号机旁帮助老年人取号。",
        reporter="citizen",
        cohandler=("mall", "", "已补充热敏纸，客服台备存 10 卷。"),
    ),
    Story(
        43.9,
        "category:queue",
        "duplicate",
        "取号机不出票",
        "在取号机上按了几次都不出号票。",
        duplicate_of="取号机没有纸了",
    ),
    Story(
        31.3,
        "category:queue",
        "on_time",
        "叫号广播和窗口号对不上",
        "广播叫“请 A023 到 3 号窗口”，结果 3 号窗口说不是他们叫的。",
        "叫号系统中窗口编号配置有误（3 号和 5 号窗口对调），已更正并逐个窗口测试。",
        cohandler=("mall", "", "已配合测试候区各广播喇叭。"),
    ),
    Story(
        14.2,
        "category:queue",
        "overdue",
        "候区叫号广播声音太小",
        "商场背景音乐比叫号广播还响，坐在后排根本听不清叫号。",
        "已与商场协商在服务站门口调低背景音乐音量，并申请增加两个广播喇叭，设备到货后安装。",
        note="喇叭已下单，供应商说下周到货；商场已调低背景音乐。",
    ),
    Story(
        1.3,
        "category:queue",
        "in_progress",
        "线上预约号到现场取不了号",
        "在天府通办上预约了下午三点的号，到了取号机上输入预约码提示无效。",
        "已查明预约系统与取号机的数据接口有延迟，正在与厂商排查，"
        "在此期间预约群众可直接到综合受理窗口登记优先叫号。",
    ),
    # Facilities: the mall -----------------------------------------------------------------
    Story(
        87.1,
        "category:facility",
        "on_time",
        "服务站门口的自动门感应失灵",
        "服务站门口的自动门经常感应不到人，推着婴儿车进不去。",
        "商场工程部已更换自动门感应器，并调高了感应灵敏度。",
    ),
    Story(
        76.3,
        "category:facility",
        "late",
        "服务站空调温度太低",
        "等候区空调开得太冷，出风口正对着座位，老人和小孩都受不了。",
        "已调整服务站区域空调设定温度为 26 度，出风口加装导风板。"
        "导风板需要定制，处理时间超出承诺，请谅解。",
        contact=("陈阿姨", "13800001108", ""),
    ),
    Story(
        65.2,
        "category:facility",
        "on_time",
        "填表台的笔都写不出来",
        "填表台上的几支笔都没有水了。",
        "已更换填表台用笔并安排每日开门前检查。",
        priority=Priority.LOW,
    ),
    Story(
        50.4,
        "category:facility",
        "reopened",
        "服务站旁母婴室的尿布台坏了",
        "服务站旁边母婴室的尿布台折叠板掉下来了，很危险。",
        "已更换尿布台折叠铰链，维修后试用正常。",
        reporter="citizen",
        reason="市民反映尿布台仍然松动，要求彻底更换。",
        second_reply="已整体更换为新的壁挂式尿布台，承重测试合格。感谢您的监督。",
    ),
    Story(
        37.1,
        "category:facility",
        "on_time",
        "服务站天花板漏水",
        "等候区中间的天花板在滴水，已经滴湿了两排座椅，旁边还有插座。",
        "工程部已关闭上层漏水的空调冷凝水管并完成维修，受潮吊顶已更换，周边插座经电工检测安全。",
        priority=Priority.URGENT,
    ),
    Story(
        26.3,
        "category:facility",
        "on_time",
        "等候区的充电宝柜还不了充电宝",
        "在服务站等候区借的充电宝还不进去，一直在扣费。",
        "已联系充电宝运营方，机柜故障已修复，故障期间的费用已全额退回到您的支付账户。",
    ),
    Story(
        12.1,
        "category:facility",
        "on_time",
        "自助填表机触摸屏失灵",
        "服务站的自助填表机触摸屏点不动，只能手写。",
        "已更换触摸屏，并校准触控位置，现已恢复使用。",
    ),
    Story(
        11.9,
        "category:facility",
        "duplicate",
        "自助填表机屏幕点不动",
        "填表机的屏幕怎么点都没反应。",
        duplicate_of="自助填表机触摸屏失灵",
    ),
    Story(
        7.2,
        "category:facility",
        "late",
        "服务站门口指示灯箱不亮",
        "晚上八点以后服务站门口的灯箱不亮，从扶梯下来找不到服务站。",
        "灯箱镇流器损坏，已更换，并在扶梯口增加服务站指引牌。更换配件耽误了时间，请见谅。",
    ),
    Story(
        16.3,
        "category:facility",
        "overdue",
        "服务站门口的地砖松动",
        "服务站门口有两块地砖松动，踩上去会翘起来，担心绊倒老人。",
        "已设置警示标识并围挡，需要同规格地砖更换，正在采购。",
        note="同批次地砖停产，正在找替代规格。",
    ),
    Story(
        1.1,
        "category:facility",
        "acknowledged",
        "服务站指引牌被广告挡住",
        "负一楼扶梯口的服务站指引牌被新立的促销广告牌挡住了。",
    ),
    # Cleanliness: the mall ----------------------------------------------------------------
    Story(
        81.2,
        "category:environment",
        "on_time",
        "服务站旁卫生间没有洗手液",
        "离服务站最近的卫生间洗手液是空的。",
        "已补充洗手液，并把该卫生间的巡查频次调整为每小时一次。",
    ),
    Story(
        57.1,
        "category:environment",
        "on_time",
        "等候区地面有积水容易滑倒",
        "下雨天等候区入口地面全是水，有位老人差点滑倒。",
        "已在入口铺设防滑地垫并放置警示牌，雨天安排保洁专人值守入口。",
        reporter="citizen",
        priority=Priority.HIGH,
    ),
    Story(
        35.3,
        "category:environment",
        "late",
        "服务站门口有人吸烟",
        "服务站门口的消防通道经常有人吸烟，烟味飘进等候区。",
        "已在通道增设禁烟标识，安保人员加强巡查劝导，并在室外设置了吸烟点。"
        "协调安保排班耗时较长，回复晚了，请谅解。",
    ),
    Story(
        20.2,
        "category:environment",
        "on_time",
        "等候区座椅上有口香糖",
        "等候区第三排座椅上粘着口香糖，衣服都弄脏了。",
        "已清理座椅并全面检查等候区座椅。衣物清洗费用可到商场客服中心登记报销。",
    ),
    Story(
        0.6,
        "category:environment",
        "new",
        "等候区垃圾桶满了没人清理",
        "等候区两个垃圾桶都满了，饮料瓶掉在地上。",
    ),
    # Accessibility: the mall --------------------------------------------------------------
    Story(
        79.1,
        "category:accessibility",
        "on_time",
        "从停车场到服务站没有无障碍指引",
        "推轮椅从地下停车场到服务站，找不到无障碍电梯，绕了很久。",
        "已在停车场各电梯厅增设无障碍路线指引，双庆社区志愿者周末在停车场电梯口协助引导。",
        reporter="citizen",
        cohandler=(
            "shuangqing-community",
            "请安排志愿者周末在停车场电梯口为轮椅和婴儿车用户引路。",
            "已安排 4 名志愿者周末轮值。",
        ),
    ),
    Story(
        54.3,
        "category:accessibility",
        "late",
        "无障碍电梯经常停用",
        "去服务站最近的无障碍电梯这个月停了三次，每次都要绕到另一头。",
        "电梯维保单位已更换门机控制板，停梯期间在电梯口张贴绕行指引。"
        "配件到货慢导致超时，向您致歉。",
        priority=Priority.HIGH,
        contact=("何先生", "13800001109", ""),
    ),
    Story(
        39.2,
        "category:accessibility",
        "on_time",
        "希望服务站配备老花镜",
        "老年人填表看不清字，希望服务站能准备老花镜和放大镜。",
        "已在填表台配备三种度数的老花镜和两个带灯放大镜，咨询台也可借用。",
    ),
    Story(
        28.1,
        "category:accessibility",
        "on_time",
        "低位服务台被杂物占用",
        "服务站的低位服务台上堆满了宣传册，坐轮椅的人没法用。",
        "已清理低位服务台，宣传资料改放在资料架上，并纳入每日开门检查。",
    ),
    Story(
        6.4,
        "category:accessibility",
        "reopened_open",
        "服务站没有文字或手语沟通服务",
        "我是听障人士，到窗口办事只能靠手机打字，工作人员不太有耐心。",
        "已在各窗口配备沟通写字板，并向工作人员重申服务规范。",
        reporter="citizen",
        reason="市民反映写字板只解决了一部分问题，希望能预约手语翻译。",
    ),
    Story(
        9.4,
        "category:accessibility",
        "overdue",
        "盲道被商场临时展台占用",
        "服务站门口到扶梯的盲道被商场的临时展台压住了一段。",
        "已要求展台方移位，展台合同期内暂设人工引导，合同到期后恢复盲道。",
        note="展台方同意下周末撤展，撤展前安保在此引导。",
    ),
    # Lost property: the mall ---------------------------------------------------------------
    Story(
        72.2,
        "category:lost-property",
        "on_time",
        "在服务站遗失了一个黑色钱包",
        "上午在服务站办理业务后，发现黑色长款钱包不见了，里面有身份证和银行卡。",
        "商场保洁在等候区座椅缝中拾到您的钱包，已交商场客服中心保管，"
        "请携带本人身份证明到一楼客服中心领取。",
        contact=("吴女士", "13800001110", ""),
    ),
    Story(
        46.3,
        "category:lost-property",
        "on_time",
        "在等候区丢了身份证",
        "昨天在服务站等候时身份证从卡套里掉了，不知道有没有人捡到。",
        "拾到的身份证已由商场客服中心移交服务站户政窗口，请到户政窗口核对后领取。",
        reporter="citizen",
    ),
    Story(
        25.1,
        "category:lost-property",
        "on_time",
        "孩子的水壶落在服务站了",
        "周日下午带孩子办证，把一个蓝色儿童水壶落在等候区了。",
        "水壶已找到，存放在商场客服中心，保管期 30 天。",
        priority=Priority.LOW,
    ),
    Story(
        17.2,
        "category:lost-property",
        "rejected",
        "要求调看商场监控找回手机",
        "手机在商场被偷了，要求商场调监控给我看。",
        reason="商场监控录像只能由公安机关依法调取。请携带身份证到服务站报案，"
        "民警会按程序调阅监控。本事项按失物登记不予受理，报案途径已告知。",
    ),
    Story(
        1.9,
        "category:lost-property",
        "acknowledged",
        "遗失了一把折叠伞",
        "在服务站填表台遗失一把藏青色折叠伞。",
    ),
    # Other: the triage desk ---------------------------------------------------------------
    Story(
        77.2,
        "category:other",
        "triage_routed",
        "服务站能否增加电动自行车登记上牌",
        "电动自行车上牌要跑车管分所，希望在商场服务站也能办。",
        "电动自行车登记目前需要查验车辆，暂只能在车管分所办理。我们已把您的建议纳入"
        "服务站新增业务评估，具备查验条件后会公告。",
        route_to="traffic",
    ),
    Story(
        59.2,
        "category:other",
        "triage_rejected",
        "商场停车费太贵",
        "来服务站办事停车一个小时要十块钱，希望免费。",
        reason="停车收费属于商场经营事项，不在服务站受理范围。商场现已对在服务站办理业务的"
        "群众提供凭受理回执免费停车 1 小时的服务，请到服务站前台盖章。",
    ),
    Story(
        34.3,
        "category:other",
        "triage_routed",
        "商场广播太吵影响窗口沟通",
        "商场促销活动的音响对着服务站，窗口里外说话都要喊。",
        "已与商场运营部门沟通，促销活动音响改为背向服务站摆放，并控制音量。",
        route_to="mall",
    ),
    Story(
        15.6,
        "category:other",
        "triage_routed",
        "希望增加公积金贷款咨询",
        "在服务站能不能咨询住房公积金贷款的额度和流程？",
        "天府通办窗口可以提供公积金贷款额度试算和流程咨询，"
        "每周三下午还有公积金中心工作人员驻点答疑。",
        route_to="tianfu",
    ),
    Story(
        1.6,
        "category:other",
        "triage",
        "预约了周日下午办事却被告知系统维护",
        "在网上预约了周日下午，到现场被告知系统维护办不了，也没有提前通知。",
        contact=("郑先生", "13800001111", ""),
    ),
    Story(
        0.4,
        "category:other",
        "triage",
        "服务站附近能不能放个饮水机",
        "排队时间长，带着老人孩子，附近找不到喝水的地方。",
    ),
)


def seed_cases(context: SeedContext) -> None:
    organisations = {org.slug: org for org in Organisation.objects.all()}
    organisations[triage_slug()], _changed = sync_row(
        Organisation, {"slug": triage_slug()}, {**TRIAGE, "is_active": True}
    )
    categories = seed_categories()
    services_by_code = {service.service_code: service for service in Service.objects.all()}
    seed_routing(categories, services_by_code, organisations)
    seed_sla_policies(categories, services_by_code)
    seed_indicators(context, organisations)
    if not context.with_demo_users:
        context.write("演示事项需要演示账号来办理：未创建演示账号，跳过事项记录。")
        return
    station = Station.objects.filter(slug=STATION).first()
    if station is None:
        return
    titles = [story.title for story in STORIES]
    if Case.objects.filter(station=station, title__in=titles).exists():
        return  # The history is told once.
    people = {
        user.email: user for user in User.objects.filter(email__endswith="@demo.gongzhi.local")
    }
    History(context, station, categories, services_by_code, organisations, people).play()
    roll_up_case_metrics()


def seed_categories() -> dict[str, Category]:
    categories = {}
    for order, (slug, name_zh, name_en, description_zh, description_en) in enumerate(CATEGORIES):
        categories[slug], _changed = sync_row(
            Category,
            {"slug": slug},
            {
                "name_zh": name_zh,
                "name_en": name_en,
                "description_zh": description_zh,
                "description_en": description_en,
                "order": (order + 1) * 10,
                "is_active": True,
            },
        )
    return categories


def seed_routing(categories, services_by_code, organisations) -> None:
    """A rule per category (before the services') and one per service to its department."""
    for order, (slug, spec) in enumerate(CATEGORY_RULES.items()):
        responsible, cohandlers, task, name_zh, name_en = spec
        rule, _changed = sync_row(
            RoutingRule,
            {"category": categories[slug], "service": None, "station": None},
            {
                "name_zh": name_zh,
                "name_en": name_en,
                "order": CATEGORY_RULE_ORDER + order,
                "responsible": organisations[responsible],
                "cohandler_task_zh": task,
                "is_active": True,
            },
        )
        wanted = {organisations[slug].pk for slug in cohandlers}
        if set(rule.cohandlers.values_list("pk", flat=True)) != wanted:
            rule.cohandlers.set(wanted)
    for service in sorted(services_by_code.values(), key=lambda s: s.service_code):
        department = service.department
        sync_row(
            RoutingRule,
            {"service": service, "category": None, "station": None},
            {
                "name_zh": f"{service.name_zh}（{department.short_name_zh or department.name_zh}）",
                "name_en": f"{service.name_en} ({department.short_name_en or department.name_en})",
                "order": SERVICE_RULE_ORDER,
                "responsible": department,
                "cohandler_task_zh": "",
                "is_active": True,
            },
        )


def seed_sla_policies(categories, services_by_code) -> None:
    for (scope, priority), (hours, days) in SLA_POLICIES.items():
        service = category = None
        if scope.startswith("service:"):
            service = services_by_code.get(scope.removeprefix("service:"))
            if service is None:
                continue
        elif scope.startswith("category:"):
            category = categories[scope.removeprefix("category:")]
        sync_row(
            SlaPolicy,
            {"service": service, "category": category, "priority": priority},
            {"acknowledge_hours": hours, "resolve_days": days},
        )


def seed_indicators(context: SeedContext, organisations) -> None:
    seed_metric_indicators(context, INDICATORS, CASE_OWNERS)


def roll_up_case_metrics() -> None:
    """Recompute the case metrics over the days the history marked dirty.

    The KPI seeder rolls up only the visit metrics, so the cases seeder rolls up its own.
    """
    days = DirtyDay.objects.filter(metric__in=metrics.METRIC_CODES).order_by("day")
    first = days.values_list("day", flat=True).first()
    last = days.reverse().values_list("day", flat=True).first()
    if first is not None:
        kpis_backfill(start=first, end=last, metric_codes=metrics.METRIC_CODES)


# Replaying the history -------------------------------------------------------------------------
class _ReplayClock:
    """The moment being replayed, as the services' clock (``services.replaying``)."""

    def __init__(self):
        self.at: dt.datetime | None = None

    def __call__(self) -> dt.datetime:
        return self.at or timezone.now()


@contextmanager
def _replaying(clock: _ReplayClock) -> Iterator[None]:
    """Let the services write the past: the actions that take no time of their own read the
    replayed one; and the events they publish tell no one (the people would get today
    hundreds of notices about things that happened months ago)."""
    with replaying(clock), muted():
        yield


class _Stop(Exception):
    """The story has reached the present: what comes next has not happened yet."""


class History:
    def __init__(self, context, station, categories, services_by_code, organisations, people):
        self.context = context
        self.station = station
        self.categories = categories
        self.services = services_by_code
        self.organisations = organisations
        self.people = people
        self.clock = _ReplayClock()
        self.cases: dict[str, Case] = {}

    def play(self) -> None:
        with _replaying(self.clock):
            # Oldest first: a duplicate's original exists before it.
            for story in sorted(STORIES, key=lambda story: -story.days_ago):
                self.tell(story)
        self.context.write(f"演示事项：{len(self.cases)} 个。")

    # Times ------------------------------------------------------------------------------------
    def opened_at(self, story: Story, rng: random.Random) -> dt.datetime:
        """Reports come in while the mall is open (10:00–22:00); today's only until now."""
        now = self.context.now
        if story.days_ago < 1:
            return now - dt.timedelta(hours=story.days_ago * 24)
        day = self.context.today - dt.timedelta(days=int(story.days_ago))
        minutes = int((story.days_ago % 1) * 11 * 60) + rng.randint(0, 59)
        return dt.datetime.combine(day, dt.time(10), TZ) + dt.timedelta(minutes=minutes)

    @staticmethod
    def working(after: dt.datetime, hours: float) -> dt.datetime:
        return sla.add_working_hours(after, hours).at

    def within(self, after: dt.datetime, due: dt.datetime, rng, *, share=(0.2, 0.8)):
        """A working moment after ``after`` and, if there is working time left, before ``due``."""
        hours = rng.uniform(*share) * 7 * 3
        moment = self.working(after, hours)
        while moment > due and hours > 0.1:
            hours /= 2
            moment = self.working(after, hours)
        return moment

    # One case ---------------------------------------------------------------------------------
    def tell(self, story: Story) -> None:
        rng = random.Random(f"gongzhi-cases:{story.title}")  # noqa: S311  (demo data)
        opened = self.opened_at(story, rng)
        case = self.open(story, opened)
        self.cases[story.title] = case
        with suppress(_Stop):
            self.live(story, case, opened, rng)

    def open(self, story: Story, opened: dt.datetime) -> Case:
        kind, key = story.subject.split(":", 1)
        reporter = self.people.get(REPORTERS.get(story.reporter, ""))
        name, phone, email = story.contact
        self.clock.at = opened
        return services.case_open(
            actor=reporter,
            title=story.title,
            description=story.description,
            source=SOURCES.get(story.reporter, Source.CITIZEN),
            service=self.services[key] if kind == "service" else None,
            category=self.categories[key] if kind == "category" else None,
            station=self.station,
            contact_name=name,
            contact_phone=phone,
            contact_email=email,
            priority=story.priority,
            is_public=story.public,
            opened_at=opened,
        )

    def at(self, moment: dt.datetime) -> dt.datetime:
        if moment > self.context.now:
            raise _Stop
        self.clock.at = moment
        return moment

    def move(self, case: Case, actor, to: str, moment: dt.datetime, **kwargs) -> Case:
        return services.case_transition(actor=actor, case=case, to=to, at=self.at(moment), **kwargs)

    def handler(self, case: Case):
        slug = case.responsible.slug if case.responsible_id else ""
        handler, assigner = HANDLERS.get(slug, (ADMIN, None))
        return self.people[handler], self.people.get(assigner) if assigner else None

    def live(self, story: Story, case: Case, opened: dt.datetime, rng: random.Random) -> None:
        fate = story.fate
        admin = self.people[ADMIN]
        if fate == "new" or fate == "triage":
            return
        policy = case.sla_policy
        ack_hours = policy.acknowledge_hours if policy else sla.BUILT_IN[case.priority][0]
        if fate == "late_ack":
            acknowledged = self.working(opened, ack_hours + rng.uniform(1.5, 6))
        else:
            acknowledged = self.working(opened, ack_hours * rng.uniform(0.15, 0.8))

        if fate == "triage_rejected":
            self.move(case, admin, Status.REJECTED, acknowledged, reason=story.reason)
            return
        if fate == "triage_routed":
            self.at(acknowledged)
            case = services.case_route(
                actor=admin,
                case=case,
                responsible=self.organisations[story.route_to],
                note="已联系报告人确认诉求，转交负责单位办理。",
            )
            acknowledged = self.working(acknowledged, rng.uniform(0.3, 1.5))
        handler, assigner = self.handler(case)
        if fate == "rejected":
            self.move(case, handler, Status.REJECTED, acknowledged, reason=story.reason)
            return
        if fate == "duplicate":
            original = self.cases[story.duplicate_of]
            self.move(case, handler, Status.DUPLICATE, acknowledged, duplicate_of=original)
            return

        case = self.move(case, handler, Status.ACKNOWLEDGED, acknowledged)
        moment = acknowledged
        if assigner is not None:
            moment = self.at(moment + dt.timedelta(minutes=rng.randint(2, 25)))
            services.case_assign(actor=assigner, case=case, assignee=handler)
        cohandler_org, task, done_note = story.cohandler
        if cohandler_org and task:
            moment = self.at(moment + dt.timedelta(minutes=rng.randint(5, 40)))
            services.case_add_cohandler(
                actor=handler, case=case, organisation=self.organisations[cohandler_org], task=task
            )
        if fate == "acknowledged":
            return

        due = case.resolve_due_at
        late = fate == "late"
        if fate in ("in_progress", "overdue") or rng.random() < 0.5:
            moment = self.working(moment, rng.uniform(0.5, 3))
            case = self.move(case, handler, Status.IN_PROGRESS, moment)
        if story.note:
            moment = self.working(moment, rng.uniform(0.5, 4))
            self.at(moment)
            services.case_note(actor=handler, case=case, body=story.note)
        if fate in ("in_progress", "overdue"):
            if story.reply:
                self.at(self.working(moment, rng.uniform(0.2, 2)))
                services.case_reply(actor=handler, case=case, body=story.reply)
            return

        if late:
            resolved = max(self.working(due, rng.uniform(2, 18)), moment + dt.timedelta(hours=1))
        else:
            resolved = self.within(moment, due, rng)
        replied = max(moment, resolved - dt.timedelta(minutes=rng.randint(3, 30)))
        if cohandler_org:
            self.complete_cohandler(case, cohandler_org, done_note, moment, replied, rng)
        self.at(replied)
        services.case_reply(actor=handler, case=case, body=story.reply)
        case = self.move(case, handler, Status.RESOLVED, resolved)

        if fate in ("reopened", "reopened_open"):
            reopened = self.working(resolved, rng.uniform(4, 12))
            case = self.move(case, handler, Status.REOPENED, reopened, reason=story.reason)
            if fate == "reopened_open":
                return
            moment = self.working(reopened, rng.uniform(0.5, 3))
            case = self.move(case, handler, Status.IN_PROGRESS, moment)
            resolved = self.within(moment, case.resolve_due_at, rng, share=(0.1, 0.4))
            self.at(max(moment, resolved - dt.timedelta(minutes=rng.randint(3, 20))))
            services.case_reply(actor=handler, case=case, body=story.second_reply)
            case = self.move(case, handler, Status.RESOLVED, resolved)
        self.close(story, case, handler, resolved, rng)

    def complete_cohandler(self, case, slug, note, start, end, rng) -> None:
        cohandler = CoHandler.objects.get(case=case, organisation=self.organisations[slug])
        actor = self.people.get(COHANDLER_STAFF.get(slug, "")) or self.handler(case)[0]
        self.at(min(end, self.within(start, end, rng, share=(0.05, 0.3))))
        services.cohandler_complete(actor=actor, cohandler=cohandler, note=note)

    def close(self, story: Story, case: Case, handler, resolved, rng) -> None:
        """Most resolved cases are closed within a week: by their reporter, or by the handler
        after a call-back (or when nobody can be called)."""
        if rng.random() < 0.25:
            return
        reporter = self.people.get(REPORTERS.get(story.reporter, ""))
        if story.reporter == "citizen" and reporter is not None:
            # In the evening or over the next days, as people read their messages.
            day = resolved.astimezone(TZ).date() + dt.timedelta(days=rng.randint(0, 3))
            closed = dt.datetime.combine(day, dt.time(rng.randint(8, 21), rng.randint(0, 59)), TZ)
            closed = max(closed, resolved + dt.timedelta(minutes=rng.randint(20, 90)))
            self.move(case, reporter, Status.CLOSED, closed)
            return
        closed = self.working(resolved, rng.uniform(14, 35))
        reason = (
            "已电话回访，报告人对处理结果表示满意，办结归档。"
            if story.contact[1]
            else "答复已公开满 7 天，无异议，办结归档。"
        )
        self.move(case, handler, Status.CLOSED, closed, reason=reason)
