"""Markdown to safe HTML, for proposal bodies and official answers.

CommonMark through markdown-it-py with raw HTML turned off (a ``<script>`` in the source is
text), then the Ammonia sanitiser (``nh3``) over the output with a short allow-list: whatever
the parser lets through, no script, handler or style reaches a page. Links get
``rel="noopener noreferrer nofollow"`` and only http(s) and mailto URLs survive.
"""

from __future__ import annotations

import re

import nh3
from markdown_it import MarkdownIt

TAGS = {
    "p", "br", "strong", "em", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table").enable("strikethrough")
_TAGS = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"\s+")


def render(source: str) -> str:
    """Sanitised HTML of the Markdown ``source`` (headings start at h3: the page has h1, h2)."""
    html = _markdown.render(source or "")
    html = re.sub(r"<(/?)h[12]>", r"<\1h3>", html)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def plain(html: str, limit: int) -> str:
    """The text of sanitised ``html``, whitespace collapsed, cut to ``limit`` characters."""
    text = nh3.clean(_TAGS.sub(" ", html), tags=set())
    text = _SPACE.sub(" ", text).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
