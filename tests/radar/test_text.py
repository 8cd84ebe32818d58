"""From free text to terms: the domain dictionary keeps service names whole, stop words go,
English is tokenised with plurals folded, neighbouring words pair up, and bad input (emoji,
HTML and scripts, 100,000 characters, nothing, full-width characters) is handled, bounded."""

from __future__ import annotations

import datetime as dt

import pytest

from governance.radar import compute
from governance.radar.models import MAX_TERM
from governance.radar.text import (
    GENERIC_WORDS,
    MAX_CHARS,
    STOP_WORDS,
    Segmenter,
    clean,
    normalise_query,
)


@pytest.fixture(scope="module")
def segmenter():
    return Segmenter(extra_words=["住房公积金提取", "  ", "长" * (MAX_TERM + 1)])


def words(segmenter, text) -> list[str]:
    return [word for word in segmenter.words_of(text) if word is not None]


# The domain dictionary -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("想迁户籍到成都", "户籍"),
        ("身份证丢了怎么补办", "身份证"),
        ("出入境窗口排队", "出入境"),
        ("驾驶证期满换证", "驾驶证"),
        ("港澳通行证签注", "港澳通行证"),
        ("往来港澳通行证到期了", "往来港澳通行证"),
        ("临时身份证当天能拿到吗", "临时身份证"),
        ("无犯罪记录证明怎么开", "无犯罪记录证明"),
    ],
)
def test_service_names_stay_whole(segmenter, text, word):
    assert word in words(segmenter, text)


def test_catalogue_names_given_to_the_segmenter_stay_whole(segmenter):
    assert words(segmenter, "这里能办住房公积金提取吗") == ["住房公积金提取"]
    # Blank and over-long words are not added to the dictionary.
    assert "" not in segmenter.words
    assert all(len(word) <= MAX_TERM for word in segmenter.words)


# Stop words ----------------------------------------------------------------------------------
def test_stop_words_single_characters_and_digits_are_dropped(segmenter):
    found = words(segmenter, "我们希望服务站的工作人员可以在2026年周末开放，谢谢！")

    assert found == ["服务站", "周末", "开放"]
    assert {"我们", "希望", "工作人员", "可以", "谢谢"} <= STOP_WORDS


@pytest.mark.parametrize("word", ["只能", "一直", "不了", "事情"])
def test_words_said_in_passing_are_stop_words(segmenter, word):
    assert word in STOP_WORDS
    assert word not in segmenter.terms(f"排队{word}取号")


@pytest.mark.parametrize("word", ["办理", "提前", "下周", "下午", "时间"])
def test_generic_words_are_no_theme_alone_but_pair_with_a_neighbour(segmenter, word):
    assert word in GENERIC_WORDS
    assert word not in segmenter.terms(f"希望{word}")


def test_a_generic_word_pairs_with_a_content_word_not_with_another_generic_one(segmenter):
    assert segmenter.terms("开放时间太短") == {"开放", "开放时间", "太短", "时间太短"}
    assert segmenter.terms("只能提前下周再来办理") == set()


def test_english_stop_words_go_but_words_that_name_a_need_stay(segmenter):
    found = words(segmenter, "Please, could the office be open on Sundays? The system is down.")

    assert found == ["office", "open", "sunday", "system"]


# English -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("word", "folded"),
    [
        ("Weekends", "weekend"),
        ("queues", "queue"),
        ("passports", "passport"),
        ("cities", "city"),
        ("taxes", "tax"),
        ("addresses", "address"),
        ("searches", "search"),
        ("status", "status"),
        ("bus", "bus"),
        ("glass", "glass"),
    ],
)
def test_english_plurals_are_folded(segmenter, word, folded):
    assert words(segmenter, f"{word} matter") == [folded, "matter"]


def test_english_is_lower_cased_and_split_on_letters(segmenter):
    assert words(segmenter, "Can't find PARKING-lot info") == ["parking", "lot", "info"]


# Pairs ---------------------------------------------------------------------------------------
def test_neighbouring_words_pair_up_in_chinese_and_english(segmenter):
    assert segmenter.terms("周末办证") == {"周末", "办证", "周末办证"}
    assert segmenter.terms("Weekend opening, please") == {"weekend", "opening", "weekend opening"}


def test_punctuation_or_a_stop_word_between_two_words_makes_no_pair(segmenter):
    assert segmenter.terms("周末，办证") == {"周末", "办证"}
    assert segmenter.terms("周末 办证") == {"周末", "办证", "周末办证"}  # a space is no break
    assert segmenter.terms("weekend. Opening") == {"weekend", "opening"}
    assert "weekend opening" not in segmenter.terms("weekend and opening")


def test_chinese_and_english_neighbours_pair_with_a_space(segmenter):
    assert "app 预约" in segmenter.terms("APP预约")


def test_a_term_counts_once_per_text(segmenter):
    terms = segmenter.terms("周末办证。周末办证！周末办证？")

    assert terms == {"周末", "办证", "周末办证"}


# Bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("text", [None, "", "   ", "😀😂👍🏻🇨🇳", "？！。…", "12345 678"])
def test_nothing_to_read_gives_no_term(segmenter, text):
    assert segmenter.terms(text) == set()


def test_html_tags_entities_and_scripts_are_stripped(segmenter):
    text = (
        "<p>希望<b>周末</b>办证</p>"
        "<script type='text/javascript'>alert('hacked');</script>"
        "<STYLE>p { color: red }</STYLE>"
        "<a href='https://example.com/parking'>&lt;停车&gt;</a>"
    )

    assert clean(text).split() == ["希望", "周末", "办证", "<停车>"]
    assert segmenter.terms(text) == {"周末", "办证", "周末办证", "停车"}


def test_links_are_stripped_so_their_letters_make_no_theme(segmenter):
    assert clean("周末办证 https://example.com/zhoumo?q=周末 见 www.gov.cn/banzheng 谢谢") == (
        "周末办证   见   谢谢"
    )
    terms = segmenter.terms("See HTTPS://example.com/weekend-opening for weekend opening")
    assert terms == {"weekend", "opening", "weekend opening"}


def test_an_unclosed_script_hides_the_rest_of_the_text(segmenter):
    assert segmenter.terms("周末办证<script>document.write('周末办证')") == {
        "周末",
        "办证",
        "周末办证",
    }
    assert "document" not in segmenter.terms("周末办证<script>document.write('x')")


def test_only_the_first_max_chars_characters_are_read(segmenter):
    filler = "，" * MAX_CHARS
    text = "周末办证" + filler + "停车收费" + "啊" * 100_000

    assert len(text) > 100_000
    assert len(clean(text)) == MAX_CHARS
    assert segmenter.terms(text) == {"周末", "办证", "周末办证"}  # 停车收费 lies beyond


def test_a_huge_paste_of_markup_is_read_no_further_than_twice_max_chars(segmenter):
    text = "<b>" * 50_000 + "周末办证"

    assert len(clean(text)) <= MAX_CHARS
    assert "周末" not in clean(text)
    assert segmenter.terms(text) == set()


def test_full_width_letters_digits_and_punctuation_are_normalised(segmenter):
    assert clean("ＷＥＥＫＥＮＤ　ＯＰＥＮＩＮＧ　１２３") == "weekend opening 123"
    assert segmenter.terms("ＷＥＥＫＥＮＤ　ＯＰＥＮＩＮＧ") == {
        "weekend",
        "opening",
        "weekend opening",
    }
    assert segmenter.terms("周末，办证") == segmenter.terms("周末,办证")


def test_a_long_run_of_one_word_gives_bounded_terms(segmenter):
    terms = segmenter.terms("a" * 1_000 + " 周末办证")

    assert terms == {"周末", "办证", "周末办证"}  # the 1,000-letter word is no term


# Searches ------------------------------------------------------------------------------------
def test_a_search_is_kept_trimmed_lower_cased_collapsed_and_bounded():
    assert normalise_query("  外国人   签证 ") == "外国人 签证"
    assert normalise_query("ＰＡＳＳＰＯＲＴ Renewal") == "passport renewal"
    assert normalise_query("<i>护照</i>") == "护照"
    assert len(normalise_query("证" * 500)) == MAX_TERM


# Ranking: a word inside a pair ---------------------------------------------------------------
def test_a_word_is_left_to_its_pair_whichever_ranks_higher():
    counts = {
        "周末": 10,
        "办证": 14,
        "周末办证": 10,
        "queue": 5,
        "long queue": 4,
        "line": 5,
        "online": 5,
    }
    base = {(None, "周末办证"): 2.0, (None, "long queue"): 3.0}

    ranked = compute.rank_themes(dt.date(2026, 10, 1), None, counts, base)

    # 周末 (no history) scores higher than 周末办证, yet the pair carries it; 办证 stands in
    # four more texts than the pair, so it stays; "queue" goes to "long queue". Only whole
    # English words are parts: "line" is no part of "online".
    assert [theme.term for theme in ranked] == ["办证", "line", "online", "周末办证", "long queue"]
    assert [theme.rank for theme in ranked] == [1, 2, 3, 4, 5]
