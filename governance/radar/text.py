"""Free text to terms: what a text is about, in words a department would use.

- Bounded first: HTML tags and entities go (and what ``<script>`` and ``<style>`` hold), only
  the first ``MAX_CHARS`` characters are read (a 100,000-character paste costs what a long
  paragraph does), and Unicode is NFKC-normalised (full-width letters and digits become plain
  ones).
- Chinese is segmented by jieba-rs (``rjieba``, the Rust port of jieba, about twenty times
  faster than the Python original) with a domain dictionary on top (户籍, 身份证, 出入境,
  驾驶证 … and the catalogue's service names), so a service name stays one word.
- English is lower-cased and split on letters (``can't`` → ``can``), with light plural folding.
- Stop words (the ISO stop-word lists for Chinese and English, plus words every text about a
  public service uses, such as 服务 or 希望) are dropped, as are digits, single Chinese
  characters and single letters. The ISO English list also holds words that name what people
  ask a public service for (``open``, ``system``, ``website``…): those are kept.
- A text's terms are its remaining words and each pair of neighbouring words (``周末`` +
  ``办证`` → ``周末办证``; ``weekend`` + ``opening`` → ``weekend opening``), each counted once
  per text: a theme's count is the number of texts that raise it. Generic words (办理, 时间,
  下午…) are no theme on their own but still pair with a neighbour (``开放时间``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from collections.abc import Iterable

import rjieba
import stopwordsiso

from governance.radar.models import MAX_TERM

MAX_CHARS = 2_000

# Words of the service catalogue and of how people ask for it. Each stays one word when
# segmenting, whatever jieba's own dictionary would make of it.
DOMAIN_WORDS = (
    "户籍",
    "户口",
    "户口本",
    "户口迁移",
    "落户",
    "新生儿落户",
    "身份证",
    "临时身份证",
    "居住证",
    "出入境",
    "护照",
    "港澳通行证",
    "台湾通行证",
    "往来港澳通行证",
    "签注",
    "驾驶证",
    "驾照",
    "行驶证",
    "机动车",
    "车牌",
    "违章",
    "交通违法",
    "罚款",
    "年检",
    "换证",
    "补证",
    "办证",
    "续签",
    "无犯罪记录证明",
    "社保",
    "医保",
    "公积金",
    "营业执照",
    "不动产",
    "排队",
    "叫号",
    "取号",
    "窗口",
    "自助机",
    "预约",
    "周末",
    "节假日",
    "午休",
    "延时服务",
    "停车",
    "充电",
)

# Words nearly every text about a public service contains: they say nothing about what it asks.
DOMAIN_STOP_WORDS = frozenset(
    {
        "服务",
        "希望",
        "建议",
        "请问",
        "谢谢",
        "感谢",
        "问题",
        "可以",
        "能够",
        "需要",
        "一下",
        "非常",
        "比较",
        "觉得",
        "现在",
        "时候",
        "今天",
        "已经",
        "还是",
        "没有",
        "不能",
        "能不能",
        "是否",
        "一个",
        "这个",
        "那个",
        "大家",
        "我们",
        "你们",
        "他们",
        "工作人员",
        # Said in passing by every kind of request; they pair with nothing worth a theme.
        "只能",
        "一直",
        "不了",
        "事情",
        "东西",
        "地方",
        "情况",
        "怎么",
        "为什么",
        "还要",
        "真的",
        "感觉",
        "知道",
        "告诉",
        "结果",
        "多次",
        "每次",
        "一次",
        "两次",
        "再次",
        "最近",
        "以前",
        "之前",
        "之后",
        "以后",
        "明天",
        "昨天",
        "不到",
        "有点",
        "支持",
        "please",
        "thanks",
        "thank",
        "service",
        "services",
        "hope",
        "would",
        "could",
        "should",
        "like",
        "just",
        "really",
        "also",
    }
)

# Words of the ISO English list that name what people ask a public service for: kept.
ENGLISH_CONTENT_WORDS = frozenset(
    {
        "open",
        "opened",
        "opening",
        "opens",
        "early",
        "long",
        "longer",
        "line",
        "number",
        "numbers",
        "system",
        "information",
        "website",
        "web",
        "webpage",
        "homepage",
        "id",
        "page",
        "pages",
        "online",
        "computer",
        "click",
        "copy",
        "fill",
        "fix",
        "free",
        "full",
        "date",
        "name",
        "home",
        "room",
        "rooms",
        "site",
        "front",
        "side",
        "test",
        "text",
        "problem",
        "problems",
        "help",
        "work",
        "working",
        "move",
        "order",
        "fire",
        "bill",
        "buy",
        "call",
        "old",
        "older",
        "young",
        "small",
        "large",
        "big",
        "high",
        "low",
        "stop",
        "place",
        "area",
        "areas",
        "length",
        "value",
        "section",
        "member",
        "members",
        "group",
        "world",
        "research",
        "state",
    }
)

# Not a theme on their own (nearly every request says when, or that something is to be done),
# yet they make one with a neighbour: 开放时间, 周末办理, 周六下午.
GENERIC_WORDS = frozenset(
    {
        "办理",
        "办事",
        "办成",
        "时间",
        "提前",
        "上午",
        "中午",
        "下午",
        "晚上",
        "当天",
        "上周",
        "下周",
        "本周",
        "这周",
        "上个月",
        "下个月",
        "业务",
        "拿到",
        "服务站",
        "成都",
        "time",
        "day",
        "days",
        "people",
        "get",
    }
)

STOP_WORDS = (
    frozenset(stopwordsiso.stopwords(["zh", "en"])) - ENGLISH_CONTENT_WORDS
) | DOMAIN_STOP_WORDS

# What a script or a style sheet holds is code, not prose: it goes with its tags.
CODE = re.compile(r"<(script|style)\b.*?(?:</\1\s*>|$)", re.IGNORECASE | re.DOTALL)
TAG = re.compile(r"<[^>]{0,500}>")
# Links say where, not what: their letters would make themes of "https" and "www".
URL = re.compile(r"(?:https?://|www\.)\S{0,500}", re.IGNORECASE)
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
LATIN_WORD = re.compile(r"[a-z]+")
# Runs of Chinese characters, runs of Latin letters; anything else separates them.
CHUNK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]+|[a-z]+")


def clean(text: str | None) -> str:
    """The first ``MAX_CHARS`` characters of ``text`` as plain, NFKC-normalised, lower-case
    prose: no tags, no entities, no control characters."""
    if not text:
        return ""
    text = text[: MAX_CHARS * 2]  # tags and entities shrink; never read more than this
    text = CODE.sub(" ", text)
    text = TAG.sub(" ", text)
    text = html.unescape(text)
    text = URL.sub(" ", text)
    text = unicodedata.normalize("NFKC", text)
    return text[:MAX_CHARS].lower()


def _singular(word: str) -> str:
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 4 and word.endswith(("sses", "xes", "ches", "shes")):
        return word[:-2]  # passes, taxes, searches
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


class Segmenter:
    """Text → terms. One per process and dictionary: building jieba's prefix dictionary takes
    about a second, cutting a sentence a few microseconds."""

    def __init__(self, extra_words: Iterable[str] = ()):
        self._jieba = rjieba.Jieba()
        self.words: set[str] = set()
        for word in (*DOMAIN_WORDS, *extra_words):
            word = unicodedata.normalize("NFKC", word).strip().lower()
            if word and len(word) <= MAX_TERM:
                self.words.add(word)
                if HAN.search(word):
                    self._jieba.add_word(word, None, None)
                    # Make the word win over the dictionary's own split.
                    self._jieba.suggest_freq(word)

    def words_of(self, text: str | None) -> list[str]:
        """The content words of ``text`` in order (stop words, digits and single characters
        dropped). ``None`` separates words that were not neighbours (a stop word or a
        punctuation mark stood between them)."""
        out: list[str | None] = []
        text = clean(text)
        end = 0
        for chunk in CHUNK.finditer(text):
            if text[end : chunk.start()].strip():
                out.append(None)  # punctuation or a digit between: not neighbours
            end = chunk.end()
            piece = chunk.group()
            tokens = self._jieba.cut(piece, False) if HAN.match(piece) else [_singular(piece)]
            for token in tokens:
                out.append(None if len(token) < 2 or token in STOP_WORDS else token)
        return out

    def terms(self, text: str | None) -> set[str]:
        """The words of ``text`` and each pair of neighbouring words, once each."""
        terms: set[str] = set()
        previous: str | None = None
        for word in self.words_of(text):
            if word is None:
                previous = None
                continue
            if len(word) <= MAX_TERM and word not in GENERIC_WORDS:
                terms.add(word)
            if previous is not None and not (previous in GENERIC_WORDS and word in GENERIC_WORDS):
                pair = _join(previous, word)
                if len(pair) <= MAX_TERM:
                    terms.add(pair)
            previous = word
        return terms


def _join(first: str, second: str) -> str:
    if HAN.match(first[-1]) and HAN.match(second[0]):
        return first + second
    return f"{first} {second}"


def normalise_query(query: str) -> str:
    """A search as the radar keeps it: plain, lower-case, spaces collapsed, bounded."""
    return " ".join(clean(query).split())[:MAX_TERM]
