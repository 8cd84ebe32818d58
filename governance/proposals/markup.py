"""Markdown to safe HTML, for proposal bodies and official answers.

CommonMark through markdown-it-py with raw HTML turned off (a ``<script>`` in the source is
text), then the Ammonia sanitiser (``nh3``) over the output with a short allow-list: whatever
the parser lets through, no script, handler or style reaches a page. Links get
``rel="noopener noreferrer nofollow"`` and only http(s) and mailto URLs survive.
"""

from __future__ import annotations

import re
from html import unescape

import nh3
from markdown_it import MarkdownIt

# markdown-it writes ~~strikethrough~~ as <s>.
TAGS = {
    "p", "br", "strong", "em", "s", "del", "code", "pre", "blockquote", "ul", "ol", "li",
    "h3", "h4", "h5", "h6", "a", "hr", "table", "thead", "tbody", "tr", "th", "td",
}  # fmt: skip
ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
URL_SCHEMES = {"http", "https", "mailto"}

_markdown = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False})
_markdown.enable("table").enable("strikethrough")
# The block elements of TAGS: plain() reads a space where one starts or ends.
_BLOCKS = re.compile(
    r"</?(?:p|br|hr|pre|blockquote|ul|ol|li|h[1-6]|table|thead|tbody|tr|th|td)\b[^>]*>",
    re.IGNORECASE,
)
_SPACE = re.compile(r"\s+")
_HEADING = re.compile(r"<(/?)h([1-6])>")


def render(source: str) -> str:
    """Sanitised HTML of the Markdown ``source``. Headings go two levels down (# is h3, ## is
    h4…, at most h6): the page has its h1 and h2, and the author's outline keeps its shape."""
    html = _markdown.render(source or "")
    html = _HEADING.sub(lambda m: f"<{m[1]}h{min(int(m[2]) + 2, 6)}>", html)
    return nh3.clean(
        html,
        tags=TAGS,
        attributes=ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        link_rel="noopener noreferrer nofollow",
    )


def plain(html: str, limit: int) -> str:
    """The text of sanitised ``html``, whitespace collapsed, cut to ``limit`` characters.

    Block boundaries become spaces; inline markup goes without one (Chinese has no spaces
    between words: 希望<strong>周末</strong> reads 希望周末). The result is text, not HTML:
    entities are decoded (``A &amp; B`` is ``A & B``), and whoever shows it escapes it."""
    text = nh3.clean(_BLOCKS.sub(" ", html or ""), tags=set())
    text = _SPACE.sub(" ", unescape(text)).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
