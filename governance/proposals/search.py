"""Full-text search that finds Chinese text too, on PostgreSQL's ``simple`` configuration.

PostgreSQL's parsers do not segment Chinese: ``to_tsvector('simple', '周末延长开放时间')`` is
one token, so a search for 开放 would miss it. The document is therefore indexed as terms:
every run of Han characters as its overlapping bigrams (周末 末延 延长 长开 开放 放时 时间, the
CJK analysers' approach), other words lowercased as they are. A query is cut the same way and
every term must match, so 开放时间 finds the proposal through 开放 & 放时 & 时间. One GIN index
(``proposals_search_idx``) serves it.
"""

from __future__ import annotations

import re

from django.contrib.postgres.search import SearchQuery, SearchVector
from django.db import connections
from django.db.models import Q, QuerySet, Value

CONFIG = "simple"
# Han ideographs (with extension A and compatibility ideographs), kana and hangul; then words.
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u3040-\u30ff\uac00-\ud7af"
_TOKENS = re.compile(rf"[{_CJK}]+|[^\W{_CJK}_]+", re.UNICODE)
_HAN = re.compile(rf"[{_CJK}]")
MAX_QUERY_TERMS = 32


def terms(text: str) -> list[str]:
    out: list[str] = []
    for token in _TOKENS.findall(text or ""):
        if not _HAN.match(token):
            out.append(token.lower())
        elif len(token) == 1:
            out.append(token)
        else:
            out.extend(token[i : i + 2] for i in range(len(token) - 1))
    return out


def document(*texts: str) -> str:
    return " ".join(term for text in texts for term in terms(text))


def enabled(using: str = "default") -> bool:
    """Full-text search needs PostgreSQL; the embedded SQLite default has none."""
    return connections[using].vendor == "postgresql"


def matching(queryset: QuerySet, text: str) -> QuerySet:
    """Proposals whose title or body holds every term of ``text`` (all of them when it has
    none). On SQLite, the embedded default, a plain ``icontains`` on the words instead."""
    if not terms(text):
        return queryset  # punctuation only: nothing to look for, on either database
    words = (text or "").split()
    if not enabled(queryset.db):
        condition = Q()
        for word in words[:MAX_QUERY_TERMS]:
            condition &= Q(title__icontains=word) | Q(body__icontains=word)
        return queryset.filter(condition)
    found = query(text)
    return queryset if found is None else queryset.filter(search=found)


def vector(*texts: str) -> SearchVector:
    """The search vector of ``texts``, for ``Proposal.search``."""
    return SearchVector(Value(document(*texts)), config=CONFIG)


def query(text: str) -> SearchQuery | None:
    """Every term of ``text`` (at most 32), or None when it has none."""
    words = list(dict.fromkeys(terms(text)))[:MAX_QUERY_TERMS]
    if not words:
        return None
    return SearchQuery(" & ".join(_quote(word) for word in words), config=CONFIG, search_type="raw")


def _quote(word: str) -> str:
    # A raw tsquery term, quoted: nothing in it is an operator.
    return "'" + word.replace("\\", "\\\\").replace("'", "''") + "'"
