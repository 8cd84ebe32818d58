"""The reason tags a rater may tick, by level: praise for the good levels, complaints for the
others (基本满意 may carry either). Codes are stable: they are stored on the rating and sent by
the API; the labels follow the active language."""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import pgettext_lazy


@dataclass(frozen=True)
class Reason:
    code: str
    label: str | Promise
    levels: frozenset[int]


GOOD = frozenset({3, 4, 5})
BAD = frozenset({1, 2, 3})

REASONS: tuple[Reason, ...] = (
    Reason("fast", pgettext_lazy("rating reason", "办理快捷"), GOOD),
    Reason("friendly", pgettext_lazy("rating reason", "态度热情"), GOOD),
    Reason("clear_guidance", pgettext_lazy("rating reason", "指引清楚"), GOOD),
    Reason("one_visit", pgettext_lazy("rating reason", "一次办成"), GOOD),
    Reason("convenient", pgettext_lazy("rating reason", "环境便利"), GOOD),
    Reason("waiting_time", pgettext_lazy("rating reason", "等候时间长"), BAD),
    Reason("attitude", pgettext_lazy("rating reason", "服务态度差"), BAD),
    Reason("guidance_unclear", pgettext_lazy("rating reason", "指引不清楚"), BAD),
    Reason("documents", pgettext_lazy("rating reason", "材料要求繁琐"), BAD),
    Reason("system_down", pgettext_lazy("rating reason", "系统故障"), BAD),
    Reason("not_done", pgettext_lazy("rating reason", "事情没办成"), BAD),
    Reason("facilities", pgettext_lazy("rating reason", "设施不便"), BAD),
)

BY_CODE = {reason.code: reason for reason in REASONS}


def for_level(level: int) -> list[Reason]:
    return [reason for reason in REASONS if level in reason.levels]


def unknown(codes, level: int) -> list[str]:
    """The codes in ``codes`` that are not reasons for ``level``."""
    allowed = {reason.code for reason in for_level(level)}
    return [code for code in codes if code not in allowed]
