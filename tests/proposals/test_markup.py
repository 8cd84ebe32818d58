"""Markdown rendered safely: raw HTML and scripts come out as text, links keep only http(s) and
mailto, headings go two levels down, and the plain-text summary is text (not HTML) without
spaces invented inside Chinese sentences."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest

from governance.proposals import services
from governance.proposals.markup import TAGS, plain, render

pytestmark = pytest.mark.django_db


class _Elements(HTMLParser):
    def __init__(self):
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.found.append((tag, dict(attrs)))


def elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """The real elements of ``html`` with their attributes (escaped text is not one)."""
    parser = _Elements()
    parser.feed(html)
    return parser.found


def assert_safe(html: str) -> None:
    for tag, attrs in elements(html):
        assert tag in TAGS, tag
        assert set(attrs) <= {"href", "title", "rel", "align"}, attrs
        href = (attrs.get("href") or "").strip().lower()
        if tag == "a" and href:
            # Relative and protocol-relative links are web links too.
            assert href.startswith(("http://", "https://", "mailto:", "/")), href


@pytest.mark.parametrize(
    "source",
    [
        "<script>alert('x')</script>",
        "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
        '<img src="x" onerror="alert(1)">',
        '<a href="javascript:alert(1)">点我</a>',
        "<iframe src='https://evil.example'></iframe>",
        '<div style="background:url(javascript:alert(1))">x</div>',
        "<svg onload=alert(1)>",
        "```html\n<script>alert(1)</script>\n```",
        "<!-- <script>alert(1)</script> -->",
        "[x](<javascript:alert(1)>)",
        '<p class="x" onclick="alert(1)">a</p>',
    ],
)
def test_raw_html_and_scripts_are_inert_text(source):
    html = render(source)
    assert_safe(html)
    assert {tag for tag, _attrs in elements(html)} <= {"p", "pre", "code", "a"}
    # What the author typed is shown as text.
    assert "&lt;" in html or "javascript" not in html


@pytest.mark.parametrize(
    "source",
    [
        "[点我](javascript:alert(1))",
        "[点我](JavaScript:alert(1))",
        "[点我](  javascript:alert(1))",
        "[点我](java\tscript:alert(1))",
        "[点我](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
        "[点我](vbscript:msgbox(1))",
        "<javascript:alert(1)>",
        "[点我][ref]\n\n[ref]: javascript:alert(1)",
    ],
)
def test_dangerous_links_are_dropped(source):
    html = render(source)
    assert_safe(html)
    assert not [attrs for tag, attrs in elements(html) if tag == "a" and attrs.get("href")]


def test_web_and_mail_links_survive_with_a_safe_rel():
    html = render("[窗口](https://example.gov.cn/hours) 或 [邮件](mailto:desk@example.gov.cn)")
    assert 'href="https://example.gov.cn/hours"' in html
    assert 'href="mailto:desk@example.gov.cn"' in html
    assert html.count('rel="noopener noreferrer nofollow"') == 2


def test_headings_go_two_levels_down_keeping_their_shape():
    html = render("# 一\n\n## 二\n\n### 三\n\n#### 四\n\n###### 六")
    assert "<h1>" not in html
    assert "<h2>" not in html
    assert "<h3>一</h3>" in html
    assert "<h4>二</h4>" in html
    assert "<h5>三</h5>" in html
    assert "<h6>四</h6>" in html
    assert "<h6>六</h6>" in html


def test_ordinary_markdown_renders():
    html = render(
        "**粗体** *斜体* ~~删除~~ `代码`\n\n- 一\n- 二\n\n> 引用\n\n| a | b |\n|---|---|\n| 1 | 2 |"
    )
    assert_safe(html)
    for tag in ("strong", "em", "s", "code", "ul", "li", "blockquote", "table", "td"):
        assert f"<{tag}>" in html, tag


def test_images_and_unknown_attributes_are_dropped():
    html = render('![照片](https://example.com/a.png "标题")')
    assert_safe(html)
    assert "img" not in {tag for tag, _attrs in elements(html)}


def test_the_summary_is_text_not_html():
    html = render("希望**周末**也能办理 & <b>加快</b> 进度")
    text = plain(html, 240)
    assert text == "希望周末也能办理 & <b>加快</b> 进度"


def test_the_summary_separates_blocks_not_inline_words():
    text = plain(render("# 标题\n\n第一段*强调*文字。\n\n- 一项\n- 两项"), 240)
    assert text == "标题 第一段强调文字。 一项 两项"


def test_the_summary_is_cut_with_an_ellipsis():
    text = plain(render("长" * 300), 240)
    assert len(text) == 240
    assert text.endswith("…")
    assert plain(render("短"), 240) == "短"


def test_a_proposal_body_is_stored_as_written_and_shown_sanitised(propose):
    body = "正文<script>alert(1)</script>[链接](javascript:alert(2))\n\n# 大标题"
    proposal = propose(body=body)
    assert proposal.body == body
    assert_safe(proposal.body_html)
    assert "&lt;script&gt;" in proposal.body_html
    assert "<h3>大标题</h3>" in proposal.body_html
    assert "<script>alert(1)</script>" in proposal.summary  # text, escaped where shown
    from django.template import Context, Template

    shown = Template("{{ p.summary }}").render(Context({"p": proposal}))
    assert "<script>" not in shown


def test_an_official_answer_is_sanitised_too(proposal, department_staff):
    answer = services.proposal_answer(
        actor=department_staff,
        proposal=proposal,
        state="rejected",
        text="## 理由\n\n<script>alert(1)</script>[详情](javascript:alert(1))",
    )
    assert "<h4>理由</h4>" in answer.text_html
    assert_safe(answer.text_html)
    assert {tag for tag, _attrs in elements(answer.text_html)} == {"h4", "p"}
