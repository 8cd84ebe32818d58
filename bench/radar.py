#!/usr/bin/env python
"""The needs radar at scale (issue 10, item 5): ``compute_month`` over 1,000,000 texts of one
month, timed, with its peak memory.

    .venv/bin/python bench/radar.py                     # build, measure, drop the database
    .venv/bin/python bench/radar.py --texts 100000      # a smaller month
    .venv/bin/python bench/radar.py --keep              # keep the database, reuse it next time

What it does, on PostgreSQL with the production settings of bench/run.py:

1. Creates ``gongzhi_bench_radar`` and migrates it (or, with ``--keep``, reuses it while a
   marker row matches ``--texts``, ``--month`` and the generator), then loads ``--texts`` cases
   opened in ``--month``, through COPY with the secondary indexes dropped and rebuilt (the
   cases are the core's own text source, so the radar reads them exactly as it reads real
   ones). The texts are 20–300 characters, 85 % Chinese and 15 % English, drawn from a
   vocabulary of the catalogue's words and of how people complain and ask, with a long tail of
   rare words (names of places and people) and five planted themes that rise this month:
   ``周末办证``, ``自助机故障``, ``停车收费``, ``港澳通行证`` and ``weekend opening``.
   Each text names one of four stations, or none (10 %).
2. Writes the three months before as stored term counts (``TermCount``), as the nightly task
   would have left them: a ``--history-sample`` of texts from the same vocabulary without the
   rising themes (save a trickle of two of them) is cut into terms with the radar's own
   segmenter and counted per scope, scaled to the month's size, and kept as ``compute`` keeps
   them (the top ``MAX_STORED_TERMS`` per scope, and the month's cut-off on its ``Run``).
3. In a fresh Python process (so its memory is the computation's alone): ``compute_month``
   for the month, timed, with ``ru_maxrss`` before and after, and the term counter's figures
   (the most terms tracked at once, terms pruned, the floor the pruning reached).
4. Prints texts, seconds, texts per second, peak RSS, the tracked-term figures, and the top five
   themes of all stations, which must be the planted ones.

Loading is timed and printed on its own; it is not part of the figure. See bench/README.md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import subprocess
import sys
import time
import types
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.run import environment, manage  # noqa: E402  (after the path is set)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/gongzhi_bench_radar"
DEFAULT_REDIS = "redis://127.0.0.1:6379/6"
MARKER = "bench_radar_dataset"
GENERATOR = 2  # bumped when the texts drawn change: a data set of another generator is rebuilt
STATIONS = 4
NO_STATION = 0.10
ENGLISH = 0.15
SEED = 20261127

# Theme → (share of this month's texts, share of each earlier month's texts).
PLANTED = {
    "周末办证": (0.030, 0.0),
    "自助机故障": (0.024, 0.0),
    "停车收费": (0.020, 0.00005),
    "港澳通行证": (0.016, 0.0),
    "weekend opening": (0.012, 0.00005),
}
# Around a planted theme: stop words before, punctuation after, so it is nobody's neighbour.
ZH_FRAMES = ("希望{}。", "能不能{}？", "请问{}？", "建议{}！", "我们需要{}。", "{}，")
EN_FRAMES = (
    "we would like {}, please.",
    "is there {}? ",
    "{}! ",
)

ZH_WORDS = (
    "周末", "办证", "自助机", "故障", "停车", "收费", "户籍", "户口", "身份证", "居住证",
    "驾驶证", "行驶证", "机动车", "车牌", "违章", "年检", "换证", "补证", "社保", "医保",
    "公积金", "营业执照", "不动产", "排队", "叫号", "取号", "窗口", "预约", "节假日", "午休",
    "充电", "护照", "签注", "落户", "迁移", "证明", "材料", "表格", "复印件", "照片", "指纹",
    "手机", "网上", "系统", "网站", "电话", "短信", "二维码", "小程序", "大厅", "座位", "空调",
    "电梯", "厕所", "饮水机", "引导", "指示牌", "地图", "楼层", "入口", "出口", "商场", "地铁",
    "公交", "老人", "孩子", "学生", "外地人", "残疾人", "轮椅", "母婴室", "志愿者", "民警",
    "办事员", "领导", "态度", "效率", "速度", "流程", "手续", "规定", "政策", "解释", "咨询",
    "办理", "提交", "审核", "打印", "复印", "缴费", "付款", "退款", "等待", "等候", "耽误",
    "跑腿", "来回", "方便", "麻烦", "热情", "耐心", "专业", "缓慢", "拥挤", "整洁", "安静",
    "吵闹", "明亮", "及时", "准确", "清楚", "模糊", "复杂", "简单", "快捷", "顺利", "满意",
    "不满", "投诉", "表扬", "反映", "改进", "提高", "增加", "减少", "延长", "开放", "关闭",
    "调整", "安排", "通知", "提醒", "公示", "上午", "下午", "晚上", "中午", "早上", "工作日",
    "月底", "月初", "假期", "春节", "国庆",
)  # fmt: skip
EN_WORDS = (
    "queue", "ticket", "counter", "window", "appointment", "passport", "visa", "permit",
    "licence", "driver", "vehicle", "plate", "fine", "inspection", "renewal", "replacement",
    "residence", "registration", "household", "certificate", "document", "form", "copy",
    "photo", "fingerprint", "phone", "website", "system", "message", "code", "app", "hall",
    "seat", "lift", "toilet", "water", "sign", "map", "floor", "entrance", "exit", "mall",
    "metro", "bus", "elderly", "child", "student", "visitor", "wheelchair", "volunteer",
    "officer", "clerk", "staff", "attitude", "speed", "process", "procedure", "rule", "policy",
    "answer", "question", "help", "submit", "review", "print", "pay", "refund", "wait",
    "delay", "trip", "convenient", "slow", "crowded", "clean", "quiet", "noisy", "bright",
    "timely", "clear", "confusing", "simple", "quick", "smooth", "satisfied", "complaint",
    "praise", "improve", "increase", "reduce", "extend", "open", "closed", "weekend",
    "opening", "adjust", "arrange", "notice", "reminder", "morning", "afternoon", "evening",
    "noon", "weekday", "holiday", "festival",
)  # fmt: skip
ZH_FILLERS = ("的", "了", "很", "也", "我", "在", "太", "都", "还", "就")
ZH_PUNCT = ("，", "。", "！", "？", "；", "、")
# Rare words: two or three characters drawn from these, like the names of places and people.
RARE_CHARS = (
    "张王李赵刘陈杨黄周吴徐孙胡朱高林何郭马罗梁宋郑谢韩唐冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾"
    "丁魏薛叶阎余潘杜戴夏钟汪田任姜范方石姚谭廖邹熊金陆郝孔白崔康毛邱秦江史顾侯邵孟龙万段雷钱汤"
    "锦江青羊武侯成华金牛龙泉温江郫都新都双流天府高新东西南北桥路街巷村园苑城湾岛港山河湖海"
)


def log(text: str) -> None:
    print(f"  {text}", flush=True)


# The texts --------------------------------------------------------------------------------------
class Texts:
    """Texts of 20–300 characters, deterministic for a seed."""

    def __init__(self, seed: int):
        self.rng = random.Random(seed)  # noqa: S311 (a data set, not a secret)

    def length(self) -> int:
        return int(min(300, max(20, self.rng.lognormvariate(4.4, 0.6))))

    def rare(self) -> str:
        return "".join(self.rng.choices(RARE_CHARS, k=self.rng.choice((2, 3))))

    def chinese(self, target: int) -> str:
        rng = self.rng
        parts: list[str] = []
        size = 0
        while size < target:
            for word in rng.choices(ZH_WORDS, k=rng.randint(2, 6)):
                if rng.random() < 0.3:
                    parts.append(rng.choice(ZH_FILLERS))
                    size += 1
                parts.append(word)
                size += len(word)
            if rng.random() < 0.25:
                parts.append(self.rare())
                size += len(parts[-1])
            parts.append(rng.choice(ZH_PUNCT))
            size += 1
        return "".join(parts)[:target]

    def english(self, target: int) -> str:
        rng = self.rng
        words: list[str] = []
        size = 0
        while size < target:
            batch = rng.choices(EN_WORDS, k=rng.randint(3, 8))
            batch[-1] += rng.choice((".", ",", "!", "?"))
            words += batch
            size += sum(len(word) + 1 for word in batch)
        return " ".join(words)[:target]

    def text(self, *, history: bool) -> tuple[str, str]:
        """(title, description) of one case."""
        rng = self.rng
        english = rng.random() < ENGLISH
        themes = [
            theme
            for theme, (now, before) in PLANTED.items()
            if rng.random() < (before if history else now)
        ]
        framed = [rng.choice(EN_FRAMES if t.isascii() else ZH_FRAMES).format(t) for t in themes]
        target = max(20, self.length() - sum(map(len, framed)))
        body = self.english(target) if english else self.chinese(target)
        for phrase in framed:
            # Inside the text, at a boundary of its own language.
            cut = rng.randint(0, len(body))
            cut = body.rfind(" " if english else "，", 0, cut) + 1
            body = body[:cut] + phrase + body[cut:]
        split = body.find(". " if english else "。")
        title = body[: split + 1] if 0 < split < 60 else body[:30]
        return title, body[len(title) :]


# The data set -----------------------------------------------------------------------------------
def marker(cursor) -> dict | None:
    cursor.execute(f"CREATE TABLE IF NOT EXISTS {MARKER} (key text PRIMARY KEY, value jsonb)")
    cursor.execute(f"SELECT value FROM {MARKER} WHERE key = 'built'")  # noqa: S608
    row = cursor.fetchone()
    return None if row is None else json.loads(row[0]) if isinstance(row[0], str) else row[0]


def catalogue() -> tuple[list[int], list[int]]:
    """Four stations of the bench catalogue and its services (the segmenter's words)."""
    from bench.dataset import _catalogue
    from governance.stations.models import Service, Station

    _catalogue(STATIONS, 40)
    stations = Station.objects.filter(slug__startswith="bench-").order_by("slug")
    services = Service.objects.filter(service_code__startswith="BENCH-").order_by("pk")
    return (
        list(stations.values_list("pk", flat=True)[:STATIONS]),
        list(services.values_list("pk", flat=True)),
    )


def secondary_indexes(cursor, table: str) -> list[tuple[str, str]]:
    cursor.execute(
        """
        SELECT i.indexname, i.indexdef FROM pg_indexes i
        WHERE i.tablename = %s AND i.indexname NOT IN (
            SELECT conname FROM pg_constraint WHERE contype IN ('p', 'u'))
        """,
        [table],
    )
    return cursor.fetchall()


COLUMNS = (
    "reference", "title", "description", "source", "service_id", "station_id", "address",
    "contact_name", "contact_phone", "contact_email", "priority", "status", "status_changed_at",
    "routing", "routed_by_name", "is_public", "rejection_reason", "due_estimated", "reopen_count",
    "created_at", "updated_at",
)  # fmt: skip


def load_texts(args, month: dt.date, stations: list[int], services: list[int]) -> dict:
    """``--texts`` cases opened in ``month``, through COPY; returns the timings."""
    from django.db import connection

    from governance.radar.compute import month_bounds

    start, end = month_bounds(month)
    span = (end - start).total_seconds()
    texts = Texts(SEED)
    rng = random.Random(SEED + 1)  # noqa: S311
    timings = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM cases_case")
        if cursor.fetchone()[0]:
            cursor.execute("TRUNCATE cases_case CASCADE")
        dropped = secondary_indexes(cursor, "cases_case")
        for name, _definition in dropped:
            cursor.execute(f'DROP INDEX "{name}"')
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("SET synchronous_commit = off")
        began = time.perf_counter()
        raw = connection.connection  # psycopg 3
        with (
            raw.cursor() as copy_cursor,
            copy_cursor.copy(f"COPY cases_case ({', '.join(COLUMNS)}) FROM STDIN") as copy,
        ):
            for number in range(args.texts):
                title, description = texts.text(history=False)
                at = start + dt.timedelta(seconds=rng.random() * span)
                station = None if rng.random() < NO_STATION else rng.choice(stations)
                # A case names a service and a place (its station, else an address).
                copy.write_row(
                    (
                        f"BR-{number:08d}", title, description, "citizen", rng.choice(services),
                        station, "" if station else "成都市成华区", "", "", "", "normal", "new",
                        at, "triage", "", True, "", False, 0, at, at,
                    )
                )  # fmt: skip
                if number and number % 200_000 == 0:
                    log(f"{number:,} texts drawn and copied")
        raw.commit()
        timings["copy_s"] = round(time.perf_counter() - began, 1)
        cursor.execute("SET session_replication_role = origin")
        began = time.perf_counter()
        cursor.execute("SET maintenance_work_mem = '512MB'")
        for _name, definition in dropped:
            cursor.execute(definition)
        cursor.execute("ANALYZE cases_case")
        timings["index_s"] = round(time.perf_counter() - began, 1)
    return timings


def write_history(args, month: dt.date, stations: list[int]) -> dict:
    """The three months before as ``TermCount`` rows, from a sample scaled to ``--texts``."""
    from django.db import transaction
    from django.utils import timezone

    from governance.radar import compute
    from governance.radar.models import Run, TermCount

    began = time.perf_counter()
    segmenter = compute.segmenter_for_catalogue()
    texts = Texts(SEED + 2)
    rng = random.Random(SEED + 3)  # noqa: S311
    scopes: dict = {}
    for _ in range(args.history_sample):
        title, description = texts.text(history=True)
        station = None if rng.random() < NO_STATION else rng.choice(stations)
        terms = segmenter.terms(f"{title}\n{description}")
        for scope in (compute.ALL, station) if station is not None else (compute.ALL,):
            scopes.setdefault(scope, Counter()).update(terms)
    scale = args.texts / args.history_sample
    rows = []
    runs = []
    for back in range(1, compute.HISTORY_MONTHS + 1):
        earlier = compute.add_months(month, -back)
        # Each month a little different: ±5 % of the scaled count; kept as compute_month keeps
        # a month (the most frequent terms per scope, and the cut-off below which none was).
        scaled = {
            scope: {
                term: round(count * scale * rng.uniform(0.95, 1.05))
                for term, count in counts.items()
            }
            for scope, counts in scopes.items()
        }
        month_rows, cutoff = compute.stored_term_counts(earlier, scaled)
        rows += month_rows
        runs.append(
            Run(
                month=earlier,
                status=Run.Status.DONE,
                done_at=timezone.now(),
                finished_at=timezone.now(),
                through=compute.last_day(earlier),
                texts=args.texts,
                term_cutoff=cutoff,
            )
        )
    with transaction.atomic():
        TermCount.objects.all().delete()
        Run.objects.filter(month__in=[run.month for run in runs]).delete()
        TermCount.objects.bulk_create(rows, batch_size=5000)
        Run.objects.bulk_create(runs)
    return {"history_rows": len(rows), "history_s": round(time.perf_counter() - began, 1)}


def build(args, month: dt.date) -> dict:
    from django.db import connection, transaction

    wanted = {
        "texts": args.texts,
        "month": month.isoformat(),
        "history_sample": args.history_sample,
        "generator": GENERATOR,
    }
    with connection.cursor() as cursor:
        built = marker(cursor)
    if built and {key: built.get(key) for key in wanted} == wanted:
        log(f"reusing the texts loaded on {built['built_at'][:19]}")
        # The history is written again: it follows compute's rules for what a month keeps.
        stations, _services = catalogue()
        history = write_history(args, month, stations)
        log(f"history: {history['history_rows']:,} term counts in {history['history_s']} s")
        return {**built, **history, "reused": True}
    log(f"building: {args.texts:,} texts in {month:%Y-%m}, history from {args.history_sample:,}")
    stations, services = catalogue()
    timings = load_texts(args, month, stations, services)
    log(f"texts: COPY {timings['copy_s']} s, indexes {timings['index_s']} s")
    timings |= write_history(args, month, stations)
    log(f"history: {timings['history_rows']:,} term counts in {timings['history_s']} s")
    built = {
        **wanted,
        **timings,
        "stations": len(stations),
        "built_at": dt.datetime.now(dt.UTC).isoformat(),
    }
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {MARKER} (key, value) VALUES ('built', %s) "  # noqa: S608
            "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            [json.dumps(built)],
        )
    return {**built, "reused": False}


# The measurement (a child process) ---------------------------------------------------------------
def measure(month: dt.date) -> dict:
    """``compute_month(month)`` in this process, which has done nothing else."""
    import resource

    import django

    django.setup()
    from governance.radar import compute
    from governance.radar.models import Theme

    def rss_mb() -> float:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    counted: dict = {}
    count_texts = compute.count_texts

    def count_and_keep(*args, **kwargs):
        counter, texts = count_texts(*args, **kwargs)
        counted.update(
            tracked=len(counter.counts),
            kept_items=sum(len(items) for items in counter.items.values()),
            pruned=counter.pruned,
            floor=counter.floor,
        )
        return counter, texts

    compute.count_texts = count_and_keep  # read, not changed: the figures of the counter
    before = rss_mb()
    began = time.perf_counter()
    run = compute.compute_month(month)
    seconds = time.perf_counter() - began
    top = list(
        Theme.objects.filter(month=run.month, station=None)
        .order_by("rank")
        .values_list("term", "count", "baseline", "growth")[:10]
    )
    return {
        "status": run.status,
        "texts": run.texts,
        "seconds": round(seconds, 1),
        "run_seconds": run.seconds,
        "rss_before_mb": round(before, 1),
        "rss_peak_mb": round(rss_mb(), 1),
        "bucket_texts": compute.BUCKET_TEXTS,
        "tracked_peak": run.tracked_peak,
        "term_cutoff": run.term_cutoff,
        "items_per_theme": compute.ITEMS_PER_THEME,
        "top": top,
        **counted,
    }


def measure_in_child(env: dict, month: dt.date) -> dict:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", month.isoformat()],
        cwd=ROOT,
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if out.returncode:
        sys.exit(f"the measuring process failed:\n{out.stderr[-4000:]}")
    line = next(line for line in out.stdout.splitlines() if line.startswith("MEASURED "))
    return json.loads(line.split(" ", 1)[1])


def drop_database(url: str) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def create_database(url: str, *, fresh: bool) -> None:
    import psycopg

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as conn:
        if fresh:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')


def report(args, built: dict, measured: dict) -> None:
    planted = set(PLANTED)
    top5 = [term for term, *_rest in measured["top"][:5]]
    print("\n" + "=" * 88)
    print(
        f"machine: {os.cpu_count()} cores, load average "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())}"
    )
    print(
        f"data set: {built['texts']:,} texts in {built['month'][:7]} over {built['stations']} "
        f"stations; loaded {'(earlier) ' if built['reused'] else ''}in "
        f"{built['copy_s'] + built['index_s']:.0f} s (COPY {built['copy_s']} s, indexes "
        f"{built['index_s']} s), history {built['history_rows']:,} term counts in "
        f"{built['history_s']} s — not part of the figure"
    )
    print(f"compute_month: status {measured['status']}")
    print(f"  texts            {measured['texts']:,}")
    print(f"  seconds          {measured['seconds']} (the run records {measured['run_seconds']})")
    print(f"  texts per second {measured['texts'] / measured['seconds']:,.0f}")
    print(
        f"  peak RSS         {measured['rss_peak_mb']:.0f} MB "
        f"({measured['rss_before_mb']:.0f} MB before: Django, jieba's dictionary)"
    )
    print(
        f"  tracked terms    bucket {measured['bucket_texts']:,} texts; peak "
        f"{measured['tracked_peak']:,}, {measured.get('tracked', 0):,} at the end, "
        f"{measured.get('pruned', 0):,} pruned, floor {measured.get('floor', 0)}, history cut-off "
        f"{measured['term_cutoff']:,}; "
        f"{measured.get('kept_items', 0):,} texts kept (≤ {measured['items_per_theme']} per term)"
    )
    print("  top themes, all stations (term, texts, baseline, growth):")
    for rank, (term, count, baseline, growth) in enumerate(measured["top"], start=1):
        flag = "planted" if term in planted else ""
        print(f"    {rank:2}. {term:<16} {count:9,} {baseline:10,.1f} {growth:10,.1f}  {flag}")
    verdict = "yes" if set(top5) == planted else f"NO: {sorted(planted - set(top5))} missing"
    print(f"  the top five are the planted themes: {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawTextHelpFormatter
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS)
    parser.add_argument("--texts", type=int, default=1_000_000, help="texts in the month")
    parser.add_argument("--month", help="YYYY-MM (default: last month)")
    parser.add_argument(
        "--history-sample", type=int, default=20_000, help="texts the history is scaled from"
    )
    parser.add_argument("--keep", action="store_true", help="keep the database for next time")
    parser.add_argument("--measure", help=argparse.SUPPRESS)  # the child process
    args = parser.parse_args()

    if args.measure:
        print("MEASURED", json.dumps(measure(dt.date.fromisoformat(args.measure))), flush=True)
        return
    if args.month:
        month = dt.date.fromisoformat(f"{args.month}-01")
    else:
        month = (dt.datetime.now(dt.UTC).date().replace(day=1) - dt.timedelta(days=1)).replace(
            day=1
        )
    started = time.monotonic()
    env = environment(
        types.SimpleNamespace(database_url=args.database_url, redis_url=args.redis_url)
    )
    create_database(args.database_url, fresh=not args.keep)
    try:
        manage(env, "migrate", "--noinput", "-v", "0")
        os.environ.update(env)
        import django

        django.setup()
        print(f"data set ({args.database_url.rsplit('/', 1)[1]}):")
        built = build(args, month)
        from django.db import connection

        connection.close()
        print(f"data set ready in {time.monotonic() - started:.0f} s; measuring in a child process")
        measured = measure_in_child(env, month)
        report(args, built, measured)
    finally:
        if not args.keep:
            from django.db import connections

            connections.close_all()
            drop_database(args.database_url)
    print(f"\nwhole run: {time.monotonic() - started:.0f} s")


if __name__ == "__main__":
    main()
