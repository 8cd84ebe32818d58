#!/usr/bin/env python
"""Proposals at scale (issue 8): the public proposal list, as a page and through the API, over
100,000 proposals with 5,000,000 supports and 500,000 comments.

    .venv/bin/python bench/proposals.py                      # build or reuse the data set, then all
    .venv/bin/python bench/proposals.py --duration 5 --rounds 2 --only api_search
    .venv/bin/python bench/proposals.py --skip-http --explain  # queries, their time and plans only

What it does, on PostgreSQL and Redis like bench/run.py (production settings, DEBUG off, API
throttling off):

1. Builds ``gongzhi_bench_proposals`` once and reuses it (a marker row records what was built):
   the catalogue of bench/dataset.py (10 stations, 200 services of 4 departments), a triage
   desk, 8 proposal categories, 5 staff for each department, the triage desk and the mall,
   ``--citizens`` (50,000) citizens (one of them, with a DRF token, is the benchmark's caller);
   ``--proposals`` (100,000) proposals over ``--days`` (730) days up to now, twice as many a day
   at the end as at the start: 4 % drafts, 3 % withdrawn, the rest published; past the support
   threshold (100) most are answered within 3–40 days (evaluating, accepted with a plan,
   rejected), and 10 % of the others are answered anyway; accepted ones have an implementation
   result with 3–5 milestones, and those whose plan ended are implemented. Scopes: the platform
   (30 %), a station (30 %) or a service (40 %); 3 % on behalf of the mall or a department.
   Titles and Markdown bodies are Chinese, drawn from a few hundred words with Zipf weights,
   rendered by ``markup.render`` with their summary and search document exactly as the
   services compute them (``search.document`` in Python, ``to_tsvector`` in SQL), written to a
   staging table with COPY. Then ``--supports`` (5,000,000) supports, a Lomax (Pareto II)
   draw per proposal scaled to the total (a few proposals with tens of thousands, a long tail;
   distinct citizens per proposal by a stride through them), ``--comments`` (500,000) comments
   weighted by support (a third of them replies), the followers the services would have made
   (authors and commenters), the first version of each published text (a second for 3 %), and
   the answers, results and milestones. ``INSERT … SELECT generate_series`` with secondary
   indexes dropped and rebuilt, foreign key triggers skipped, then VACUUM ANALYZE; the
   counters (supports_count, comments_count) are checked against the rows, and the stored
   search vectors, HTML and summaries of a sample against the services' own functions.
2. Counts the queries of one request of each scenario in-process with the test client on the
   same data (and the Redis commands), with the time of each query, and those of the list's
   query layer alone (``queries.listing`` narrowed by ``filters.ProposalFilter``: DRF's count
   and the page of 20), which needs neither the pages nor the API; ``--explain`` adds the plans
   of the queries over 5 ms.
3. wrk against gunicorn, interleaved with the baselines of bench/run.py for ``--rounds``
   rounds, medians: requests per second, p50/p95/p99, errors, and the ratio to the scenario's
   baseline (the issue states no goal for these). A scenario whose path does not answer 2xx is
   skipped and named.

Each step that touches Django runs in a child process of its own (``--phase``). See
bench/README.md.
"""

from __future__ import annotations

import argparse
import bisect
import datetime as dt
import json
import math
import os
import random
import shutil
import signal
import statistics
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.cases import (  # noqa: E402  (after the path is set)
    RedisCounter,
    drain,
    emit,
    log,
    secondary_indexes,
    status_of,
    with_credentials,
)
from bench.run import (  # noqa: E402
    BASELINES,
    Result,
    Scenario,
    ensure_database,
    environment,
    manage,
    run_wrk,
    start_gunicorn,
)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_proposals"
DEFAULT_REDIS = "redis://127.0.0.1:6379/7"
STATIONS, SERVICES = 10, 200
STAFF_PER_ORGANISATION = 5
THRESHOLD = 100  # PROPOSALS_SUPPORT_THRESHOLD's default
ANSWER_DAYS = 30
CATEGORIES = [  # slug, zh, en, weight
    ("bench-hours", "开放时间", "Opening hours", 18),
    ("bench-facilities", "设施设备", "Facilities", 20),
    ("bench-digital", "数字服务", "Digital services", 16),
    ("bench-process", "办事流程", "Procedures", 15),
    ("bench-accessibility", "无障碍与适老", "Accessibility", 10),
    ("bench-environment", "环境秩序", "Environment", 9),
    ("bench-staffing", "窗口与人员", "Counters and staff", 8),
    ("bench-other", "其他", "Other", 4),
]
SEARCH_PHRASE = "跨省通办"  # in about 6 % of the proposals: see the build's report
FILTER_CATEGORY = "bench-accessibility"
CALLER_NUMBER = 4243  # the caller is bench-citizen-4243: a citizen like the others
CALLER_EMAIL = f"bench-citizen-{CALLER_NUMBER}@bench.invalid"
STAGING = "bench_proposal_rows"
MARKER = "bench_proposals_dataset"
GENERATOR = 2  # bumped when the rows drawn change: a data set of another generator is rebuilt
LOMAX_ALPHA = 1.4  # the supports' tail: about 20 proposals over 10,000, a median near 14

BASELINE_NAMES = ("baseline_bare", "baseline_values")
PROPOSAL_BASELINES = [b for b in BASELINES if b.name in BASELINE_NAMES]
TOKEN = (("WRK_AUTHORIZATION", "Token {token}"),)


def scenarios() -> list[Scenario]:
    """The scenarios; the signed-in ones carry the caller's token (``{token}``), filled in by
    ``with_credentials``."""
    api = "/api/v1/proposals/"
    return [
        Scenario("proposals_page", "/proposals/", baseline="baseline_bare"),
        Scenario("proposals_api", api, baseline="baseline_values"),
        Scenario("api_sort_supported", f"{api}?sort=supported", baseline="baseline_values"),
        Scenario("api_status_accepted", f"{api}?status=accepted", baseline="baseline_values"),
        Scenario("api_search", f"{api}?q={quote(SEARCH_PHRASE)}", baseline="baseline_values"),
        Scenario("api_category", f"{api}?category={FILTER_CATEGORY}", baseline="baseline_values"),
        Scenario("api_signed_in", api, baseline="baseline_values", env=TOKEN),
        Scenario(
            "api_supported_by_me", f"{api}?supported=true", baseline="baseline_values", env=TOKEN
        ),
    ]


# The texts -----------------------------------------------------------------------------------
# What people ask of a police and government service station in a mall: the words are drawn
# with Zipf weights (the first of each list is the most common), so a search finds some
# phrases in thousands of proposals and others in a handful.
SERVICES_ZH = [
    "身份证", "驾驶证换证", "港澳通行证", "户口迁移", "居住证", "护照", "违章处理", "机动车年检",
    "临时身份证", "户籍证明", "无犯罪记录证明", "新生儿落户", "电动自行车上牌", "签注",
    "社保卡", "公积金提取", "营业执照", "居住登记", "异地就医备案", "不动产登记",
]  # fmt: skip
FACILITIES = [
    "自助机", "取号机", "叫号屏", "等候区座椅", "饮水机", "母婴室", "无障碍通道", "卫生间",
    "空调", "照明", "停车场", "充电桩", "复印机", "证件照拍摄机", "指引标识", "电子显示屏",
    "储物柜", "雨伞架", "阅读架", "急救箱",
]  # fmt: skip
ACTIONS = [
    "增加", "延长", "优化", "调整", "开通", "完善", "增设", "推广", "简化", "公开", "升级", "改进",
]  # fmt: skip
AIMS = [
    "周末开放时间", "网上预约名额", "办理流程", "夜间服务时间", "材料清单", "办理进度查询",
    "老年人专窗", "帮办代办服务", "午间服务", "排队等候提醒", "短信通知", "双语服务", "一次办结",
    "跨省通办", "上门服务", "志愿者引导", "收费标准公示", "投诉渠道", "电子证照", "线上缴费",
]  # fmt: skip
PROBLEMS = [
    "经常死机", "数量不足", "排队太长", "标识不清", "位置太偏", "长期损坏", "操作复杂",
    "没有语音提示", "晚上太暗", "经常停用", "温度太低", "太拥挤",
]  # fmt: skip
FIXES = [
    "尽快维修", "增加数量", "调整位置", "更换新设备", "安排专人值守", "张贴使用说明", "定期检查",
    "延长使用时间",
]  # fmt: skip
PLACES = [
    "商场一楼", "服务站入口", "地铁站出口", "停车场电梯口", "东门", "二楼中庭", "等候区",
    "自助服务区",
]  # fmt: skip
GROUPS = [
    "老年人", "上班族", "带小孩的家长", "残疾人", "外地务工人员", "学生", "外籍人士", "孕妇",
]  # fmt: skip
NEEDS = [
    "等候时间太长", "需要多次往返", "看不懂操作说明", "找不到对应窗口", "希望提供预约",
    "需要专人帮办", "材料准备不清楚", "希望优先办理",
]  # fmt: skip
TIMES = [
    "周末", "工作日晚上", "午休时间", "节假日", "月初", "开学季", "春节前后", "暑假期间",
]  # fmt: skip
METRICS = ["排队时间", "往返次数", "现场咨询量", "投诉数量", "窗口压力"]

TITLES = [
    "建议{act}{aim}",
    "{fac}{problem}，建议{fix}",
    "关于{svc}{aim}的建议",
    "希望在{place}{act}{fac}",
    "{group}办理{svc}时{need}",
    "{time}能否{act}{aim}",
    "{svc}窗口{problem}，希望{act}{aim}",
]
SENTENCES = [
    "我是附近小区的居民，经常来服务站办理{svc}。",
    "上周{time}我来办理{svc}，{group}特别多，{need}。",
    "{fac}{problem}，已经持续了一段时间。",
    "建议{act}{aim}，方便大家办事。",
    "很多{group}反映{need}。",
    "如果能{act}{aim}，可以减少{metric}。",
    "其他城市的服务站已经{act}了{aim}，效果很好。",
    "另外，{place}的{fac}{problem}，建议{fix}。",
    "{time}来办事的人明显更多，{svc}窗口前经常排起长队。",
    "工作人员态度很好，但{fac}{problem}，影响办事体验。",
]
COMMENTS = [
    "支持！{need}的问题确实存在。",
    "同意，{fac}{problem}，希望早点解决。",
    "我上次来办{svc}也遇到了同样的情况。",
    "建议同时{act}{aim}。",
    "+1，希望尽快落实。",
    "这个建议很实在，{group}会方便很多。",
    "{time}确实人多，{need}。",
    "已经好多了，感谢工作人员。",
    "不太同意，{place}本来就很挤，再{act}{fac}反而不方便。",
    "能不能先在{place}试点？",
]
ANSWER_TEXTS = {
    "evaluating": "感谢您的建议。关于{act}{aim}，我们已组织相关科室评估，"
    "预计一个月内给出正式答复。",
    "accepted": "经研究，我们采纳这条建议：将在{place}{act}{aim}，具体安排见落实计划，"
    "欢迎继续监督。",
    "rejected": "感谢您的建议。经评估，{act}{aim}目前受场地和人员条件限制暂不具备实施条件，"
    "我们将通过{fix}等方式改善{svc}的办事体验。",
}
MILESTONES = ["制定实施方案", "完成场地和设备准备", "培训窗口工作人员", "试运行", "正式上线并公示"]
SLOTS = {
    "svc": SERVICES_ZH,
    "fac": FACILITIES,
    "act": ACTIONS,
    "aim": AIMS,
    "problem": PROBLEMS,
    "fix": FIXES,
    "place": PLACES,
    "group": GROUPS,
    "need": NEEDS,
    "time": TIMES,
    "metric": METRICS,
}


class Words:
    """Zipf-weighted draws from each list of words, filling a template's slots."""

    def __init__(self, rng: random.Random):
        self.rng = rng
        self.cumulative = {
            key: list(_cumulative([1 / (rank + 1) for rank in range(len(words))]))
            for key, words in SLOTS.items()
        }

    def word(self, key: str) -> str:
        cumulative = self.cumulative[key]
        index = bisect.bisect(cumulative, self.rng.random() * cumulative[-1])
        return SLOTS[key][min(index, len(cumulative) - 1)]

    def fill(self, template: str) -> str:
        return template.format_map(_Lazy(self))

    def title(self) -> str:
        return self.fill(self.rng.choice(TITLES))

    def body(self) -> list[str]:
        """Two to five paragraphs of Markdown: sentences, sometimes a list, sometimes bold."""
        rng = self.rng
        paragraphs = []
        for _ in range(rng.randint(2, 6)):
            text = "".join(self.fill(rng.choice(SENTENCES)) for _ in range(rng.randint(1, 4)))
            if rng.random() < 0.1:
                fix = self.word("fix")
                text = text + f"**{fix}**是大家最关心的。"
            paragraphs.append(text)
        if rng.random() < 0.3:
            items = "\n".join(
                f"- {self.word('act')}{self.word('aim')}" for _ in range(rng.randint(2, 3))
            )
            paragraphs.insert(len(paragraphs) // 2 + 1, "具体建议如下：\n\n" + items)
        paragraphs.append(rng.choice(["希望相关部门能够考虑，谢谢！", "谢谢！", "盼复。"]))
        return paragraphs


class _Lazy(dict):
    def __init__(self, words: Words):
        super().__init__()
        self.words = words

    def __missing__(self, key: str) -> str:
        return self.words.word(key)


def _cumulative(weights):
    total = 0.0
    for weight in weights:
        total += weight
        yield total


# Generating the data set ------------------------------------------------------------------
STAGING_SQL = f"""
CREATE UNLOGGED TABLE {STAGING} (
    id bigint PRIMARY KEY, created_at timestamptz, updated_at timestamptz, title text,
    body text, body_html text, summary text, scope text, status text, version int,
    supports_count int, comments_count int, published_at timestamptz, edit_until timestamptz,
    threshold_reached_at timestamptz, answer_due_at timestamptz, answered_at timestamptz,
    implemented_at timestamptz, withdrawn_at timestamptz, due_soon_told_at timestamptz,
    overdue_told_at timestamptz, document text, author_id bigint, category_id bigint,
    on_behalf_of_id bigint, responsible_id bigint, service_id bigint, station_id bigint,
    support_to timestamptz, u0 bigint, step bigint, comment_base bigint, comment_to timestamptz,
    first_body text, final_state text, answer_text text, answer_html text,
    evaluating_at timestamptz, evaluating_text text, evaluating_html text, starts_on date,
    ends_on date, cost numeric(12, 2), staff_id bigint
)
"""
STAGING_COLUMNS = (
    "id", "created_at", "updated_at", "title", "body", "body_html", "summary", "scope", "status",
    "version", "supports_count", "comments_count", "published_at", "edit_until",
    "threshold_reached_at", "answer_due_at", "answered_at", "implemented_at", "withdrawn_at",
    "due_soon_told_at", "overdue_told_at", "document", "author_id", "category_id",
    "on_behalf_of_id", "responsible_id", "service_id", "station_id", "support_to", "u0", "step",
    "comment_base", "comment_to", "first_body", "final_state", "answer_text", "answer_html",
    "evaluating_at", "evaluating_text", "evaluating_html", "starts_on", "ends_on", "cost",
    "staff_id",
)  # fmt: skip
PROPOSAL_COLUMNS = tuple(
    column
    for column in STAGING_COLUMNS[: STAGING_COLUMNS.index("station_id") + 1]
    if column != "document"
)
# The search vector as ``search.vector`` makes it: SearchVector(Value(document), "simple")
# is to_tsvector('simple', COALESCE(document, '')); drafts have none until published.
PROPOSALS_SQL = f"""
INSERT INTO proposals_proposal ({", ".join((*PROPOSAL_COLUMNS, "search"))})
SELECT {", ".join(PROPOSAL_COLUMNS)},
       CASE WHEN status <> 'draft' THEN to_tsvector('simple'::regconfig, COALESCE(document, ''))
       END
FROM {STAGING} ORDER BY id
"""  # noqa: S608 (constants)
# Support i (0 …) of a proposal: the citizen at u0 + i × step around the list (step prime to
# its length, so no citizen twice), given at the i-th quantile of a span, early ones denser.
SUPPORTS_SQL = f"""
INSERT INTO proposals_support (proposal_id, user_id, created_at)
SELECT r.id, (%(citizens)s::bigint[])[1 + (r.u0 + i * r.step) %% %(n)s],
       r.published_at + (r.support_to - r.published_at)
                        * power((i + 1)::float / r.supports_count, 2)
FROM {STAGING} r, generate_series(0, r.supports_count - 1) AS i
WHERE r.id BETWEEN %(first)s AND %(last)s AND r.supports_count > 0
ORDER BY r.id, i
"""  # noqa: S608
# Comment g (1 …) of a proposal: one in three (g = 3, 6, …) answers one of the two top-level
# comments before it, so threads are one level deep, as ``comment_add`` allows.
COMMENTS_SQL = f"""
INSERT INTO proposals_comment
    (id, created_at, updated_at, body, upvotes, downvotes, flags_count, is_hidden,
     hidden_reason, hidden_at, author_id, hidden_by_id, parent_id, proposal_id)
SELECT comment_base + g, at, at,
       CASE WHEN g %% 3 = 0 THEN '回复：' ELSE '' END
         || (%(bodies)s::text[])[1 + floor(x * array_length(%(bodies)s::text[], 1))::int],
       floor(20 * power(y, 3))::int, floor(6 * power(y, 8))::int,
       CASE WHEN z > 0.997 THEN 3 WHEN z > 0.985 THEN 1 + floor(3 * x)::int ELSE 0 END,
       z > 0.997,
       CASE WHEN z > 0.997 THEN '含有人身攻击，已隐藏。' ELSE '' END,
       CASE WHEN z > 0.997 THEN at + interval '1 day' END,
       (%(citizens)s::bigint[])[1 + floor(w * %(n)s)::int],
       CASE WHEN z > 0.997 THEN %(moderator)s::bigint END,
       CASE WHEN g %% 3 = 0 THEN comment_base + g - 1 - (CASE WHEN y < 0.5 THEN 1 ELSE 0 END) END,
       id
FROM (
    SELECT r.id, r.comment_base, g,
           r.published_at + (r.comment_to - r.published_at)
                            * ((g - 1 + random()) / r.comments_count) AS at,
           random() AS x, random() AS y, random() AS z, random() AS w
    FROM {STAGING} r, generate_series(1, r.comments_count) AS g
    WHERE r.id BETWEEN %(first)s AND %(last)s AND r.comments_count > 0
) AS c
ORDER BY 1
"""  # noqa: S608
# What the services leave besides: the author follows (``proposal_publish``), so does every
# commenter (``comment_add``); the first version of each published text, and a second one
# for those edited within their 30 minutes.
FOLLOWS_SQL = """
INSERT INTO proposals_follow (proposal_id, user_id, created_at)
SELECT proposal_id, user_id, min(at) FROM (
    SELECT id AS proposal_id, author_id AS user_id, published_at AS at FROM proposals_proposal
    WHERE status <> 'draft'
    UNION ALL
    SELECT proposal_id, author_id, created_at FROM proposals_comment
) AS f
GROUP BY 1, 2 ORDER BY 1, 2
"""
VERSIONS_SQL = f"""
INSERT INTO proposals_proposalversion (proposal_id, number, title, body, edited_by_id, created_at)
SELECT id, 1, title, COALESCE(first_body, body), author_id, published_at FROM {STAGING}
WHERE status <> 'draft'
UNION ALL
SELECT id, 2, title, body, author_id, published_at + interval '12 minutes' FROM {STAGING}
WHERE version = 2
ORDER BY 1, 2
"""  # noqa: S608
# The answers (an evaluating one first for some), drafted and published by a staff member of
# the responsible organisation; the results of the accepted ones and their milestones.
ANSWERS_SQL = f"""
INSERT INTO proposals_answer
    (created_at, updated_at, state, text, text_html, cost, starts_on, ends_on, published_at,
     drafted_by_id, organisation_id, published_by_id, proposal_id)
SELECT at - interval '2 hours', at, state, text, html, cost, starts_on, ends_on, at,
       staff_id, responsible_id, staff_id, id
FROM (
    SELECT evaluating_at AS at, 'evaluating' AS state, evaluating_text AS text,
           evaluating_html AS html, NULL::numeric AS cost, NULL::date AS starts_on,
           NULL::date AS ends_on, staff_id, responsible_id, id
    FROM {STAGING} WHERE evaluating_at IS NOT NULL
    UNION ALL
    SELECT answered_at, final_state, answer_text, answer_html, cost, starts_on, ends_on,
           staff_id, responsible_id, id
    FROM {STAGING} WHERE final_state IS NOT NULL
) AS a
ORDER BY at
"""  # noqa: S608
RESULTS_SQL = f"""
INSERT INTO proposals_result
    (created_at, updated_at, state, progress, starts_on, ends_on, cost, completed_at, proposal_id)
SELECT answered_at, COALESCE(implemented_at, answered_at),
       CASE WHEN status = 'implemented' THEN 'done' ELSE 'not_started' END,
       CASE WHEN status = 'implemented' THEN 100 ELSE 0 END,
       starts_on, ends_on, cost, implemented_at, id
FROM {STAGING} WHERE status IN ('accepted', 'implemented') ORDER BY id
"""  # noqa: S608
MILESTONES_SQL = """
INSERT INTO proposals_milestone
    (created_at, updated_at, title, description, due_on, state, completed_at, result_id)
SELECT r.created_at, COALESCE(m.completed, r.created_at), (%(titles)s::text[])[k], '', m.due,
       m.state, m.completed, r.id
FROM proposals_result r
JOIN proposals_proposal p ON p.id = r.proposal_id,
LATERAL generate_series(1, 3 + (p.id %% 3)::int) AS k,
LATERAL (
    SELECT due, state,
           CASE WHEN state = 'done'
                THEN least(COALESCE(p.implemented_at, now()), due + interval '18 hours') END
             AS completed
    FROM (
        SELECT r.starts_on + (r.ends_on - r.starts_on) * k / (3 + (p.id %% 3)::int) AS due,
               CASE WHEN p.status = 'implemented' THEN 'done'
                    WHEN k < 3 + (p.id %% 3)
                         AND r.starts_on + (r.ends_on - r.starts_on) * k / (3 + (p.id %% 3)::int)
                             < %(today)s THEN 'done'
                    WHEN r.starts_on + (r.ends_on - r.starts_on) * (k - 1)
                                       / (3 + (p.id %% 3)::int) <= %(today)s THEN 'in_progress'
                    ELSE 'planned' END AS state
    ) AS d
) AS m
ORDER BY r.id, k
"""
# ``result_recompute``: progress is the share of milestones done (no task cases here).
PROGRESS_SQL = """
UPDATE proposals_result r
SET progress = round(100.0 * m.done / m.total),
    state = CASE WHEN m.done = m.total THEN 'done'
                 WHEN m.done > 0 OR m.started THEN 'in_progress' ELSE 'not_started' END
FROM (SELECT result_id, count(*) AS total, count(*) FILTER (WHERE state = 'done') AS done,
             bool_or(state = 'in_progress') AS started
      FROM proposals_milestone GROUP BY 1) AS m
WHERE m.result_id = r.id
"""
TABLES = (
    "proposals_proposal",
    "proposals_proposalversion",
    "proposals_support",
    "proposals_follow",
    "proposals_comment",
    "proposals_answer",
    "proposals_result",
    "proposals_milestone",
)


def marker(cursor) -> dict | None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (key text PRIMARY KEY, value jsonb)")
    cursor.execute(f"SELECT value FROM {MARKER} WHERE key = 'built'")  # noqa: S608
    row = cursor.fetchone()
    if row is None:
        return None
    return json.loads(row[0]) if isinstance(row[0], str) else row[0]


def people(args, organisations) -> dict:
    """Staff of each organisation (an admin and four staff, acting seats), the citizens, and
    the caller's DRF token."""
    from django.contrib.auth.hashers import make_password
    from django.db import connection
    from rest_framework.authtoken.models import Token

    from governance.stakeholders.models import Membership, User

    password = make_password("bench-password-not-used")
    staff: dict[int, list[int]] = {}
    for organisation in organisations:
        for number in range(STAFF_PER_ORGANISATION):
            user, _created = User.objects.get_or_create(
                email=f"bench-staff-{organisation.slug}-{number:02d}@bench.invalid",
                defaults={
                    "display_name": f"{organisation.name_zh}工作人员{number:02d}",
                    "is_staff": organisation.kind == "department",
                    "password": password,
                },
            )
            Membership.objects.get_or_create(
                user=user,
                organisation=organisation,
                defaults={"role": Membership.Role.ADMIN if number == 0 else Membership.Role.STAFF},
            )
            staff.setdefault(organisation.pk, []).append(user.pk)
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO stakeholders_user
                (password, is_superuser, is_staff, is_active, date_joined, email, display_name,
                 phone, language)
            SELECT %s, false, false, true, now() - interval '800 days',
                   'bench-citizen-' || g || '@bench.invalid', '市民' || g, '', ''
            FROM generate_series(1, %s) AS g
            """,
            [password, args.citizens],
        )
    citizens = list(
        User.objects.filter(email__startswith="bench-citizen-")
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    caller = User.objects.get(email=CALLER_EMAIL)
    token, _created = Token.objects.get_or_create(user=caller)
    return {"staff": staff, "citizens": citizens, "caller": caller.pk, "token": token.key}


def lomax_counts(rng: random.Random, recency: list[float], total: int, cap: int) -> list[int]:
    """One Lomax draw per proposal (times its recency: a new proposal has had less time),
    scaled so that the floors sum to ``total``, each at most ``cap``."""
    raw = [((1 - rng.random()) ** (-1 / LOMAX_ALPHA) - 1) * r for r in recency]
    low, high = 0.0, float(total)
    for _ in range(80):
        scale = (low + high) / 2
        if sum(min(cap, int(scale * value)) for value in raw) < total:
            low = scale
        else:
            high = scale
    counts = [min(cap, int(high * value)) for value in raw]
    # The binary search lands within a few of the total: the largest below the cap take it up.
    excess = sum(counts) - total
    order = sorted(range(len(counts)), key=lambda i: -counts[i])
    position = 0
    while excess != 0:
        i = order[position % len(order)]
        if excess > 0 and counts[i] > 0:
            counts[i] -= 1
            excess -= 1
        elif excess < 0 and counts[i] < cap:
            counts[i] += 1
            excess += 1
        position += 1
    return counts


def draw_rows(args, start, end, who, catalogue, rng: random.Random):
    """The proposals' rows for the staging table, in id order (ids in order of creation)."""
    from governance.proposals import markup, search
    from governance.proposals.models import MAX_BODY

    n, citizens = args.proposals, who["citizens"]
    span = (end - start).total_seconds()
    words = Words(rng)
    day = dt.timedelta(days=1)
    categories = catalogue["categories"]
    category_weights = list(_cumulative(weight for *_rest, weight in CATEGORIES))
    stations, services = catalogue["stations"], catalogue["services"]
    departments, triage, mall = catalogue["departments"], catalogue["triage"], catalogue["mall"]
    caller_index = citizens.index(who["caller"])

    # First pass: when, what, by whom; the supports' raw draws.
    base = []
    for g in range(1, n + 1):
        created = start + dt.timedelta(seconds=span * (-1 + math.sqrt(1 + 3 * g / n)))
        draft = rng.random() < 0.04
        published = None
        if not draft:
            published = created + min(rng.random() * 2 * day, (end - created) / 2)
        scope = rng.choices(("platform", "station", "service"), (30, 30, 40))[0]
        station = service = None
        if scope == "station":
            station = stations[min(len(stations) - 1, int(len(stations) * rng.random() ** 1.5))]
        elif scope == "service":
            service = services[min(len(services) - 1, int(len(services) * rng.random() ** 1.5))]
        category = categories[bisect.bisect(category_weights, rng.random() * category_weights[-1])]
        author = citizens[(int(len(citizens) * rng.random() ** 1.5) * 7919) % len(citizens)]
        if g % 20011 == 7:
            author = who["caller"]  # the caller's own few proposals (``mine``)
        on_behalf_of = None
        if rng.random() < 0.03:
            on_behalf_of = mall if rng.random() < 0.7 else rng.choice(departments)
            author = rng.choice(who["staff"][on_behalf_of])
        if service is not None:
            responsible = catalogue["service_departments"][service]
        else:
            responsible = triage if rng.random() < 0.15 else rng.choice(departments)
        age_days = (end - published).total_seconds() / 86400 if published else 0.0
        base.append(
            (g, created, published, scope, station, service, category, author, on_behalf_of,
             responsible, min(1.0, (age_days + 1) / 14) if published else 0.0)
        )  # fmt: skip
    supports = lomax_counts(rng, [row[-1] for row in base], args.supports, len(citizens) - 1)
    public = [i for i, row in enumerate(base) if row[2] is not None]
    weights = [(supports[i] + 2) ** 0.6 * (0.5 + rng.random()) for i in public]
    comments = Counter(rng.choices(public, weights=weights, k=args.comments))
    comment_base = 0
    htmls: dict[str, str] = {}

    def rendered(text: str) -> str:
        if text not in htmls:
            htmls[text] = markup.render(text)
        return htmls[text]

    # Second pass: the life of each one, its text, and its row.
    for i, (g, created, published, scope, station, service, category, author, on_behalf_of,
            responsible, _recency) in enumerate(base):  # fmt: skip
        title = words.title()
        paragraphs = words.body()
        body = "\n\n".join(paragraphs)
        body_html = markup.render(body)
        summary = markup.plain(body_html, 240)
        status, version, first_body = "draft", 0, None
        support_count, comment_count = supports[i], comments.get(i, 0)
        edit_until = threshold = due = answered = implemented = withdrawn = None
        due_soon_told = overdue_told = support_to = comment_to = None
        final = answer_text = evaluating_at = evaluating_text = None
        starts_on = ends_on = cost = staff = None
        updated = created
        document = ""
        if published is not None:
            status, version = "published", 1
            edit_until = published + dt.timedelta(minutes=30)
            if rng.random() < 0.03 and len(paragraphs) > 2:
                version, first_body = 2, "\n\n".join(paragraphs[:-2] + paragraphs[-1:])
            document = search.document(title, markup.plain(body_html, MAX_BODY))
            age = end - published
            campaign = min(age, 60 * day)
            support_to = published + campaign
            if rng.random() < 0.03:
                status = "withdrawn"
                withdrawn = published + rng.random() * campaign
                support_to = withdrawn
            elif support_count >= THRESHOLD:
                first_reached = published + campaign * (THRESHOLD / support_count) ** 2
                answered = first_reached + (3 + 37 * rng.random()) * day
                if answered < end:
                    final = rng.choices(("evaluating", "accepted", "rejected"), (15, 45, 40))[0]
                else:
                    answered = None
            elif age > 20 * day and rng.random() < 0.10:
                answered = published + (10 + 50 * rng.random()) * day
                if answered < end:
                    final = rng.choices(("evaluating", "accepted", "rejected"), (10, 35, 55))[0]
                else:
                    answered = None
            if final is not None:
                status = final
                if final != "evaluating":  # the verdict closes the supports
                    support_to = min(support_to, answered)
                    if rng.random() < 0.35:
                        evaluating_at = published + (answered - published) * 0.6
                        evaluating_text = words.fill(ANSWER_TEXTS["evaluating"])
                answer_text = words.fill(ANSWER_TEXTS[final])
                staff = rng.choice(who["staff"][responsible])
                if final == "accepted":
                    starts_on = (answered + 7 * day).date()
                    ends_on = starts_on + rng.randint(30, 180) * day
                    cost = round(rng.uniform(2_000, 300_000), 2)
                    if ends_on + 10 * day < end.date() and rng.random() < 0.7:
                        status = "implemented"
                        implemented = min(
                            end,
                            dt.datetime.combine(ends_on, dt.time(10), tzinfo=dt.UTC)
                            + rng.random() * 10 * day,
                        )
            if support_count >= THRESHOLD:
                threshold = published + (support_to - published) * (THRESHOLD / support_count) ** 2
                due = threshold + ANSWER_DAYS * day
                if answered is None and status == "published":
                    if due - 5 * day < end:
                        due_soon_told = due - 5 * day
                    if due < end:
                        overdue_told = due + dt.timedelta(minutes=5)
            comment_to = min(withdrawn or end, published + 90 * day)
            updated = max(
                t
                for t in (edit_until, threshold, answered, implemented, withdrawn, support_to)
                if t is not None
            )
            updated = min(updated, end)
        u0 = rng.randrange(len(citizens))
        step = rng.randrange(1, len(citizens))
        while math.gcd(step, len(citizens)) != 1:
            step = rng.randrange(1, len(citizens))
        if author == who["caller"]:
            u0 = caller_index  # the caller's first supporter is the caller
        yield (
            g, created, updated, title, body, body_html, summary, scope, status, version,
            support_count, comment_count, published, edit_until, threshold, due, answered,
            implemented, withdrawn, due_soon_told, overdue_told, document, author, category,
            on_behalf_of, responsible, service, station, support_to, u0, step, comment_base,
            comment_to, first_body, final if final != "implemented" else None,
            answer_text, rendered(answer_text) if answer_text else None, evaluating_at,
            evaluating_text, rendered(evaluating_text) if evaluating_text else None, starts_on,
            ends_on, cost, staff,
        )  # fmt: skip
        comment_base += comment_count


def phase_load(args) -> None:
    """Build the data set unless the marker says it is there; report what it holds."""
    from django.db import connection, transaction

    from bench.dataset import DEPARTMENTS, _catalogue
    from governance.cases.routing import triage_slug
    from governance.proposals.models import Category
    from governance.stakeholders.models import Organisation
    from governance.stations.models import Service, Station

    with connection.cursor() as cursor:
        built = marker(cursor)
    wanted = {
        "proposals": args.proposals,
        "supports": args.supports,
        "comments": args.comments,
        "citizens": args.citizens,
        "days": args.days,
        "generator": GENERATOR,
    }
    if built and {key: built.get(key) for key in wanted} == wanted:
        log(f"reusing the data set built on {built['built_at']}")
        emit({**built, "reused": True})
        return

    log(
        f"building {args.proposals:,} proposals, {args.supports:,} supports and "
        f"{args.comments:,} comments over {args.days} days"
    )
    started_all = time.perf_counter()
    with connection.cursor() as cursor:
        # The indexes a build that failed half-way had dropped (rebuilt with the others).
        cursor.execute(f"SELECT value FROM {MARKER} WHERE key = 'dropped'")  # noqa: S608
        row = cursor.fetchone()
        saved = (json.loads(row[0]) if isinstance(row[0], str) else row[0]) if row else []
        pending = [tuple(pair) for pair in saved]
        cursor.execute(f"TRUNCATE {', '.join(TABLES)}, {MARKER} RESTART IDENTITY CASCADE")
        cursor.execute(f"DROP TABLE IF EXISTS {STAGING}")
        cursor.execute(
            "DELETE FROM authtoken_token WHERE user_id IN "
            "(SELECT id FROM stakeholders_user WHERE email LIKE 'bench-citizen-%%')"
        )
        cursor.execute("DELETE FROM stakeholders_user WHERE email LIKE 'bench-citizen-%%'")
    _catalogue(STATIONS, SERVICES)
    for order, (slug, zh, en, _weight) in enumerate(CATEGORIES):
        Category.objects.get_or_create(
            slug=slug, defaults={"name_zh": zh, "name_en": en, "order": order}
        )
    by_slug = {o.slug: o for o in Organisation.objects.filter(slug__in=[d[0] for d in DEPARTMENTS])}
    departments = [by_slug[slug] for slug, _zh, _en in DEPARTMENTS]
    triage, _created = Organisation.objects.get_or_create(
        slug=triage_slug(),
        defaults={"kind": "department", "name_zh": "综合受理窗口", "name_en": "One-stop counter"},
    )
    mall = Organisation.objects.get(slug="bench-mall")
    who = people(args, [*departments, triage, mall])
    catalogue = {
        "categories": list(
            Category.objects.filter(slug__in=[c[0] for c in CATEGORIES])
            .order_by("order")
            .values_list("pk", flat=True)
        ),
        "stations": list(
            Station.objects.filter(slug__startswith="bench-")
            .order_by("slug")
            .values_list("pk", flat=True)
        ),
        "services": list(
            Service.objects.filter(service_code__startswith="BENCH-")
            .order_by("service_code")
            .values_list("pk", flat=True)
        ),
        "service_departments": dict(
            Service.objects.filter(service_code__startswith="BENCH-").values_list(
                "pk", "department_id"
            )
        ),
        "departments": [d.pk for d in departments],
        "triage": triage.pk,
        "mall": mall.pk,
    }
    end = dt.datetime.now(dt.UTC).replace(microsecond=0)
    start = end - dt.timedelta(days=args.days)
    rng = random.Random(8)  # noqa: S311 (a data set, not a secret)
    timings: list[tuple[str, float]] = []  # in build order (a jsonb object would not keep it)

    def timed(label: str, function) -> None:
        began = time.perf_counter()
        function()
        timings.append((label, round(time.perf_counter() - began, 1)))
        log(f"{label}: {timings[-1][1]} s")

    with connection.cursor() as cursor:
        dropped = list(pending)
        for table in TABLES:
            for name, definition in secondary_indexes(cursor, table):
                cursor.execute(f'DROP INDEX "{name}"')
                dropped.append((name, definition))
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES ('dropped', %s)",  # noqa: S608
            [json.dumps(dropped)],
        )
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        cursor.execute("SET work_mem = '256MB'")
        cursor.execute(STAGING_SQL)
        counts: list[tuple[int, int, int]] = []  # id, supports, comments

        def texts() -> None:
            with (
                transaction.atomic(),
                cursor.copy(f"COPY {STAGING} ({', '.join(STAGING_COLUMNS)}) FROM STDIN") as copy,
            ):
                for row in draw_rows(args, start, end, who, catalogue, rng):
                    copy.write_row(row)
                    counts.append((row[0], row[10], row[11]))
            cursor.execute(f"ANALYZE {STAGING}")

        def proposals() -> None:
            with transaction.atomic():
                cursor.execute(PROPOSALS_SQL)

        def batches(column: int, size: int):
            """Id ranges holding about ``size`` rows of the column each."""
            first, held = 1, 0
            for pk, *values in counts:
                held += values[column]
                if held >= size:
                    yield first, pk
                    first, held = pk + 1, 0
            if first <= counts[-1][0]:
                yield first, counts[-1][0]

        def supports() -> None:
            for first, last in batches(0, 500_000):
                with transaction.atomic():
                    cursor.execute(
                        SUPPORTS_SQL,
                        {
                            "first": first,
                            "last": last,
                            "citizens": who["citizens"],
                            "n": len(who["citizens"]),
                        },
                    )

        def comments() -> None:
            words = Words(random.Random(9))  # noqa: S311
            bodies = sorted({words.fill(rng.choice(COMMENTS)) for _ in range(3_000)})
            moderator = who["staff"][triage.pk][0]
            for first, last in batches(1, 250_000):
                with transaction.atomic():
                    cursor.execute(
                        COMMENTS_SQL,
                        {
                            "first": first,
                            "last": last,
                            "bodies": bodies,
                            "citizens": who["citizens"],
                            "n": len(who["citizens"]),
                            "moderator": moderator,
                        },
                    )

        def extras() -> None:
            with transaction.atomic():
                cursor.execute(FOLLOWS_SQL)
                cursor.execute(VERSIONS_SQL)
                cursor.execute(ANSWERS_SQL)
                cursor.execute(RESULTS_SQL)
                cursor.execute(MILESTONES_SQL, {"titles": MILESTONES, "today": end.date()})
                cursor.execute(PROGRESS_SQL)

        timed("texts (Python, COPY to staging)", texts)
        timed("proposals", proposals)
        timed("supports", supports)
        timed("comments", comments)
        timed("follows, versions, answers, results, milestones", extras)
        cursor.execute("SET session_replication_role = origin")
        for table in TABLES:
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                f"(SELECT COALESCE(max(id), 1) FROM {table}))"
            )
        cursor.execute("SET maintenance_work_mem = '1GB'")

        def indexes() -> None:
            for _name, definition in dropped:
                cursor.execute(definition)

        timed(f"{len(dropped)} indexes rebuilt", indexes)
        cursor.execute(f"DELETE FROM {MARKER} WHERE key = 'dropped'")  # noqa: S608
        cursor.execute(f"DROP TABLE {STAGING}")
        timed(
            "VACUUM ANALYZE",
            lambda: [
                cursor.execute(f"VACUUM (ANALYZE) {table}")
                for table in (*TABLES, "stakeholders_user")
            ],
        )
    build_s = round(time.perf_counter() - started_all, 1)
    built = {
        **wanted,
        "first": start.isoformat(),
        "last": end.isoformat(),
        "token": who["token"],
        "caller": who["caller"],
        "timings": timings,
        "build_s": build_s,
        "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    built.update(describe(who["caller"]))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER} VALUES ('built', %s)",  # noqa: S608
            [json.dumps(built, default=str)],
        )
    emit({**built, "reused": False})


def describe(caller: int) -> dict:
    """What the data set holds, and the checks: the counters against the rows, and the stored
    HTML, summary and search vector of a sample against the services' own functions."""
    from django.db import connection

    from governance.proposals import markup, search
    from governance.proposals.models import MAX_BODY, Proposal

    out: dict = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, count(*) FROM proposals_proposal GROUP BY status ORDER BY 2 DESC"
        )
        out["statuses"] = dict(cursor.fetchall())
        cursor.execute(
            "SELECT scope, count(*) FROM proposals_proposal GROUP BY scope ORDER BY 2 DESC"
        )
        out["scopes"] = dict(cursor.fetchall())
        cursor.execute(
            """
            SELECT max(supports_count),
                   percentile_disc(0.5) WITHIN GROUP (ORDER BY supports_count),
                   percentile_disc(0.99) WITHIN GROUP (ORDER BY supports_count),
                   count(*) FILTER (WHERE supports_count >= 10000),
                   count(*) FILTER (WHERE supports_count >= %s),
                   count(*) FILTER (WHERE supports_count = 0),
                   max(comments_count)
            FROM proposals_proposal WHERE status <> 'draft'
            """,
            [THRESHOLD],
        )
        row = cursor.fetchone()
        out["supports_shape"] = dict(
            zip(
                ("max", "median", "p99", "over_10000", "past_threshold", "none", "max_comments"),
                row,
                strict=True,
            )
        )
        cursor.execute(
            """
            SELECT count(*) FROM proposals_proposal p
            LEFT JOIN (SELECT proposal_id, count(*) AS n FROM proposals_support GROUP BY 1) s
                   ON s.proposal_id = p.id
            WHERE p.supports_count <> COALESCE(s.n, 0)
            """
        )
        out["supports_count_mismatches"] = cursor.fetchone()[0]
        cursor.execute(
            """
            SELECT count(*) FROM proposals_proposal p
            LEFT JOIN (SELECT proposal_id, count(*) AS n FROM proposals_comment GROUP BY 1) c
                   ON c.proposal_id = p.id
            WHERE p.comments_count <> COALESCE(c.n, 0)
            """
        )
        out["comments_count_mismatches"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM proposals_comment c JOIN proposals_comment p "
            "ON p.id = c.parent_id WHERE p.parent_id IS NOT NULL OR p.proposal_id <> c.proposal_id"
        )
        out["comment_thread_errors"] = cursor.fetchone()[0]
        query = search.query(SEARCH_PHRASE)
        out["search_matches"] = Proposal.objects.filter(search=query).count()
        out["category_rows"] = (
            Proposal.objects.filter(category__slug=FILTER_CATEGORY).exclude(status="draft").count()
        )
        cursor.execute("SELECT count(*) FROM proposals_support WHERE user_id = %s", [caller])
        out["caller_supports"] = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FILTER (WHERE status <> 'draft'), count(*) "
            "FROM proposals_proposal WHERE author_id = %s",
            [caller],
        )
        out["caller_proposals"] = list(cursor.fetchone())
        counts = {}
        for table in (*TABLES, "proposals_commentvote"):
            cursor.execute(
                f"SELECT count(*), pg_total_relation_size('{table}') FROM {table}"  # noqa: S608
            )
            rows, size = cursor.fetchone()
            counts[table] = {"rows": rows, "mb": round(size / 2**20)}
        out["tables"] = counts
        # The sample: 300 published proposals, their stored derivations recomputed.
        cursor.execute(
            "SELECT id, title, body, body_html, summary FROM proposals_proposal "
            "WHERE status <> 'draft' ORDER BY md5(id::text) LIMIT 300"
        )
        wrong = 0
        for pk, title, body, body_html, summary in cursor.fetchall():
            html = markup.render(body)
            document = search.document(title, markup.plain(html, MAX_BODY))
            with connection.cursor() as check:
                check.execute(
                    "SELECT search = to_tsvector('simple'::regconfig, %s) "
                    "FROM proposals_proposal WHERE id = %s",
                    [document, pk],
                )
                same_vector = check.fetchone()[0]
            if not (same_vector and html == body_html and markup.plain(html, 240) == summary):
                wrong += 1
        out["sample_derivation_errors"] = wrong
    return out


def phase_queries(args) -> None:
    """Queries, Redis commands, status and size of one request of each path, with the test
    client (the signed-in ones with the caller's token); then the list's query layer alone
    for each: ``ProposalFilter(query string, queryset=queries.listing(user)).qs``, counted as
    DRF's paginator counts it, and its page of 20."""
    from django.contrib.auth.models import AnonymousUser
    from django.db import connection
    from django.test import Client, RequestFactory
    from django.test.utils import CaptureQueriesContext

    from governance.proposals import queries
    from governance.proposals.filters import ProposalFilter
    from governance.stakeholders.models import User

    paths = json.loads(args.paths)
    signed = set(json.loads(args.signed))
    host = "127.0.0.1"
    anonymous = Client(HTTP_HOST=host)
    caller_api = Client(HTTP_HOST=host, HTTP_AUTHORIZATION=f"Token {args.token}")
    caller = User.objects.get(email=CALLER_EMAIL)

    def measured(send) -> tuple[object, list[dict], int, float]:
        send()  # warm: first-request imports, caches
        with RedisCounter() as redis_calls, CaptureQueriesContext(connection) as context:
            response = send()
        queries_ = [
            {"ms": round(float(query["time"]) * 1000, 1), "sql": query["sql"]}
            for query in context.captured_queries
        ]
        walls = []
        for _ in range(args.repeat):
            began = time.perf_counter()
            send()
            walls.append(time.perf_counter() - began)
        return response, queries_, redis_calls.commands, round(statistics.median(walls) * 1000, 1)

    def plans_of(queries_) -> list[list[str]]:
        plans = []
        if args.explain:
            for query in queries_:
                if query["ms"] >= 5 and query["sql"].lstrip().upper().startswith("SELECT"):
                    with connection.cursor() as cursor:
                        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + query["sql"])
                        plans.append([row[0] for row in cursor.fetchall()])
        return plans

    out, direct = {}, {}
    for name, path in paths.items():
        client = caller_api if name in signed else anonymous
        response, queries_, redis, wall = measured(
            lambda client=client, path=path: client.get(path)
        )
        out[name] = {
            "ms": wall,
            "status": response.status_code,
            "bytes": len(response.content),
            "queries": len(queries_),
            "redis": redis,
            "sql": queries_,
            "plans": plans_of(queries_),
        }
        if name.startswith("baseline"):
            continue
        user = caller if name in signed else AnonymousUser()
        request = RequestFactory().get(path)
        request.user = user

        def layer(request=request, user=user):
            qs = ProposalFilter(request.GET, queryset=queries.listing(user), request=request).qs
            return qs.count(), list(qs[:20])

        (count, rows), queries_, _redis, wall = measured(layer)
        direct[name] = {
            "ms": wall,
            "count": count,
            "rows": len(rows),
            "queries": len(queries_),
            "sql": queries_,
            "plans": plans_of(queries_),
        }
    emit({"counts": out, "direct": direct})


PHASES = {"load": phase_load, "queries": phase_queries}


# The orchestrating process -----------------------------------------------------------------
def run_phase(env, phase: str, database_url: str, *extra: str) -> object:
    """Run ``phase`` in a child process on ``database_url``; echo its log; return its RESULT."""
    command = [sys.executable, __file__, "--phase", phase, "--database-url", database_url, *extra]
    child = subprocess.Popen(
        command,
        cwd=ROOT,
        env={**env, "DATABASE_URL": database_url},
        stdout=subprocess.PIPE,
        text=True,
    )
    result = None
    for line in child.stdout:
        if line.startswith("RESULT "):
            result = json.loads(line.split(" ", 1)[1])
        else:
            print(line, end="", flush=True)
    if child.wait() != 0:
        raise SystemExit(f"phase {phase} failed on {database_url}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--proposals", type=int, default=100_000)
    parser.add_argument("--supports", type=int, default=5_000_000)
    parser.add_argument("--comments", type=int, default=500_000)
    parser.add_argument("--citizens", type=int, default=50_000)
    parser.add_argument("--days", type=int, default=730, help="days of history")
    parser.add_argument("--duration", type=int, default=10, help="seconds per wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--port", type=int, default=8768)
    parser.add_argument("--only", nargs="*", help="scenario names to run (baselines always run)")
    parser.add_argument("--skip-http", action="store_true", help="no gunicorn, no wrk")
    parser.add_argument("--explain", action="store_true", help="plans of the queries over 5 ms")
    parser.add_argument(
        "--repeat", type=int, default=9, help="in-process requests timed per scenario (median)"
    )
    parser.add_argument("--phase", choices=PHASES, help=argparse.SUPPRESS)
    parser.add_argument("--paths", help=argparse.SUPPRESS)
    parser.add_argument("--signed", help=argparse.SUPPRESS)
    parser.add_argument("--token", help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.phase:
        import django

        django.setup()
        PHASES[args.phase](args)
        return

    if not args.skip_http and not shutil.which("wrk"):
        raise SystemExit("wrk is missing: apt-get install wrk (or --skip-http)")
    env = environment(
        types.SimpleNamespace(database_url=args.database_url, redis_url=args.redis_url)
    )
    started = time.monotonic()
    ensure_database(args.database_url)
    manage(env, "migrate", "--noinput", "-v", "0")
    manage(env, "collectstatic", "--noinput", "-v", "0")

    # 1. The data set.
    print(f"data set ({args.database_url.rsplit('/', 1)[1]}):")
    built = run_phase(
        env,
        "load",
        args.database_url,
        *("--proposals", str(args.proposals), "--supports", str(args.supports)),
        *("--comments", str(args.comments), "--citizens", str(args.citizens)),
        *("--days", str(args.days)),
    )
    print(f"data set ready in {time.monotonic() - started:.0f} s")

    chosen = [s for s in scenarios() if not args.only or s.name in args.only]
    paths = {s.name: s.path for s in PROPOSAL_BASELINES + chosen}
    signed = [s.name for s in chosen if s.env]

    # 2. Queries per request, and of the query layer alone.
    measured = run_phase(
        env,
        "queries",
        args.database_url,
        *("--paths", json.dumps(paths), "--signed", json.dumps(signed)),
        *("--token", built["token"], "--repeat", str(args.repeat)),
        *(["--explain"] if args.explain else []),
    )
    chosen = [with_credentials(s, {"token": built["token"]}) for s in chosen]

    # 3. HTTP.
    results: dict[str, Result] = {}
    skipped: list[str] = []
    if not args.skip_http:
        http_args = types.SimpleNamespace(**vars(args))
        server = start_gunicorn(env, http_args)
        try:
            runnable = []
            for scenario in chosen:
                tokens = [v for k, v in scenario.env if k == "WRK_AUTHORIZATION"]
                headers = {"Authorization": tokens[0]} if tokens else {}
                url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                code = status_of(url, headers)
                if code >= 300:
                    skipped.append(f"{scenario.name} ({paths[scenario.name]} answered {code})")
                else:
                    runnable.append(scenario)
            results = {s.name: Result(s) for s in PROPOSAL_BASELINES + runnable}
            for round_number in range(1, args.rounds + 1):
                for scenario in [*PROPOSAL_BASELINES, *runnable]:
                    url = f"http://127.0.0.1:{args.port}{paths[scenario.name]}"
                    run = run_wrk(scenario, url, http_args, server.pid)
                    results[scenario.name].runs.append(run)
                    waited = drain(args.port)
                    print(
                        f"  round {round_number} {scenario.name:<20} {run.rps:9.1f} req/s "
                        f"p95 {run.p95_ms:7.1f} ms errors {run.errors} "
                        f"(backlog drained in {waited:.1f} s)",
                        flush=True,
                    )
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)

    report(args, built, measured, results, skipped, paths)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


def report(args, built, measured, results, skipped, paths) -> None:
    print("\n" + "=" * 100)
    tables = built["tables"]
    print(
        f"data set: {tables['proposals_proposal']['rows']:,} proposals over {built['days']} days "
        f"({built['first'][:10]} – {built['last'][:10]}), {built['citizens']:,} citizens; "
        f"{tables['proposals_support']['rows']:,} supports, "
        f"{tables['proposals_comment']['rows']:,} comments, "
        f"{tables['proposals_follow']['rows']:,} follows, "
        f"{tables['proposals_proposalversion']['rows']:,} versions, "
        f"{tables['proposals_answer']['rows']:,} answers, "
        f"{tables['proposals_result']['rows']:,} results with "
        f"{tables['proposals_milestone']['rows']:,} milestones"
    )
    statuses = ", ".join(
        f"{status} {count:,}"
        for status, count in sorted(built["statuses"].items(), key=lambda item: -item[1])
    )
    print(f"  statuses: {statuses}")
    scopes = ", ".join(
        f"{scope} {count:,}"
        for scope, count in sorted(built["scopes"].items(), key=lambda item: -item[1])
    )
    shape = built["supports_shape"]
    print(
        f"  scopes: {scopes}; supports per published proposal: max {shape['max']:,}, "
        f"median {shape['median']}, p99 {shape['p99']:,}, {shape['over_10000']} over 10,000, "
        f"{shape['past_threshold']:,} past the threshold ({THRESHOLD}), {shape['none']:,} none; "
        f"most comments {shape['max_comments']:,}"
    )
    print(
        f"  checks: supports_count ≠ rows {built['supports_count_mismatches']}, comments_count ≠ "
        f"rows {built['comments_count_mismatches']}, replies not one level "
        f"{built['comment_thread_errors']}, sample of 300 with HTML/summary/search vector not "
        f"as the services make them {built['sample_derivation_errors']}"
    )
    print(
        f"  ?q={SEARCH_PHRASE} matches {built['search_matches']:,}; ?category={FILTER_CATEGORY} "
        f"{built['category_rows']:,}; the caller (bench-citizen-{CALLER_NUMBER}) supports "
        f"{built['caller_supports']} and wrote {built['caller_proposals'][1]} "
        f"({built['caller_proposals'][0]} published)"
    )
    sizes = ", ".join(f"{table} {tables[table]['mb']:,} MB" for table in TABLES)
    print(f"  sizes: {sizes}")
    timings = ", ".join(f"{label} {seconds} s" for label, seconds in built["timings"])
    print(
        f"  built {'(earlier) ' if built['reused'] else ''}on {built['built_at']} in "
        f"{built['build_s']} s: {timings}"
    )

    counts, direct = measured["counts"], measured["direct"]
    print(
        "\nqueries per request, in-process (test client), with their time and Redis commands; "
        f"ms: the whole request, median of {args.repeat}; sql ms: its queries' sum"
    )
    print(
        f"  {'scenario':<20} {'queries':>7} {'redis':>5} {'status':>6} {'bytes':>9} {'ms':>6} "
        f"{'sql ms':>6}  path"
    )
    for name, path in paths.items():
        c = counts[name]
        sql_ms = sum(query["ms"] for query in c["sql"])
        print(
            f"  {name:<20} {c['queries']:7} {c['redis']:5} {c['status']:6} {c['bytes']:9,} "
            f"{c['ms']:6.1f} {sql_ms:6.1f}  {path}"
        )
        if c["status"] < 300:
            for query in c["sql"]:
                if query["ms"] >= 2 or args.explain:
                    print(f"      {query['ms']:7.1f} ms  {query['sql'][:150]}")
            for plan in c["plans"]:
                print("\n".join("          " + line for line in plan))

    print(
        "\nthe list's query layer alone (queries.listing + filters.ProposalFilter): DRF's count "
        "and the page of 20"
    )
    print(f"  {'scenario':<20} {'queries':>7} {'count':>8} {'rows':>5} {'ms':>6}  each query ms")
    for name, d in direct.items():
        times = ", ".join(f"{query['ms']:.1f}" for query in d["sql"])
        print(
            f"  {name:<20} {d['queries']:7} {d['count']:8,} {d['rows']:5} {d['ms']:6.1f}  {times}"
        )
        if args.explain:
            for query in d["sql"]:
                print(f"      {query['ms']:7.1f} ms  {query['sql'][:300]}")
            for plan in d["plans"]:
                print("\n".join("          " + line for line in plan))

    if results:
        print(
            f"\nHTTP: {args.rounds} rounds × {args.duration} s, wrk -t{args.threads} "
            f"-c{args.connections}, gunicorn {args.workers} sync workers, medians; peak MB is "
            "the largest worker's RSS"
        )
        print(
            f"  {'scenario':<20} {'req/s':>9} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} "
            f"{'errors':>6} {'peak MB':>8} {'queries':>7} {'ratio':>14} {'goal':>7}"
        )
        for name, result in results.items():
            scenario = result.scenario
            ratio, goal = "", ""
            if scenario.baseline:
                value = result.median("rps") / results[scenario.baseline].median("rps")
                ratio = f"{value:.2f}x {scenario.baseline.removeprefix('baseline_')}"
                if scenario.goal:
                    goal = ("ok " if value >= scenario.goal else "LOW ") + f"{scenario.goal}"
            print(
                f"  {name:<20} {result.median('rps'):9.1f} {result.median('p50_ms'):8.1f} "
                f"{result.median('p95_ms'):8.1f} {result.median('p99_ms'):8.1f} "
                f"{sum(run.errors for run in result.runs):6d} "
                f"{max(run.peak_rss_mb for run in result.runs):8.1f} "
                f"{counts[name]['queries']:7} {ratio:>14} {goal:>7}"
            )
    for line in skipped:
        print(f"  skipped: {line}")


if __name__ == "__main__":
    main()
