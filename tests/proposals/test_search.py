"""Full-text search that finds Chinese: documents and queries cut into CJK bigrams and
lowercased words, every term required, one GIN index; and a query string that is only ever
data (quotes, operators and prefixes in ``q`` are dropped with the punctuation)."""

from __future__ import annotations

import pytest
from django.test import RequestFactory

from governance.proposals import queries, search
from governance.proposals.filters import ProposalFilter
from governance.proposals.models import Proposal

pytestmark = pytest.mark.django_db


# Terms -------------------------------------------------------------------------------------------
def test_han_runs_become_overlapping_bigrams():
    assert search.terms("周末延长开放时间") == [
        "周末",
        "末延",
        "延长",
        "长开",
        "开放",
        "放时",
        "时间",
    ]
    assert search.terms("馆") == ["馆"]


def test_words_are_lowercased_and_split_from_han():
    assert search.terms("Self-Service KIOSK自助机 2024年") == [
        "self",
        "service",
        "kiosk",
        "自助",
        "助机",
        "2024",
        "年",
    ]


@pytest.mark.parametrize("text", ["", "   ", "!!!", "&|!:*()'\"\\", "，。！？、", None])
def test_text_without_words_has_no_terms_and_no_query(text):
    assert search.terms(text) == []
    assert search.query(text) is None


def test_a_query_keeps_at_most_32_distinct_terms():
    words = " ".join(f"w{i}" for i in range(40))
    assert search.query(words + " w1 w1") is not None
    assert len(dict.fromkeys(search.terms(words))) == 40
    raw = search.query(words).source_expressions[-1].value
    assert raw.count("&") == search.MAX_QUERY_TERMS - 1


# Against the database ----------------------------------------------------------------------------
@pytest.fixture
def library(propose, require_postgres):
    return {
        "hours": propose(title="周末延长开放时间", body="希望周末也能办理身份证。"),
        "kiosk": propose(
            title="Self-service Kiosk for exit-entry photos",
            body="出入境证件照片自助拍照机，免去排队。It's quick & easy!",
        ),
        "parking": propose(title="来访停车券", body="到警务站办事的市民可领取停车券。"),
    }


def found(text: str) -> set[str]:
    query = search.query(text)
    assert query is not None
    pks = set(Proposal.objects.filter(search=query).values_list("pk", flat=True))
    return pks


def names(library, pks) -> set[str]:
    return {name for name, proposal in library.items() if proposal.pk in pks}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("开放", {"hours"}),
        ("开放时间", {"hours"}),
        ("延长 开放", {"hours"}),
        ("周末", {"hours"}),
        ("时间开放", set()),  # 间开 is not in the text: every term must match
        ("自助拍照", {"kiosk"}),
        ("停车", {"parking"}),
        ("kiosk", {"kiosk"}),
        ("KIOSK", {"kiosk"}),
        ("Exit-Entry", {"kiosk"}),
        ("quick easy", {"kiosk"}),
        ("kiosk 停车", set()),
        ("警务站", {"parking"}),
    ],
)
def test_chinese_substrings_and_english_words_are_found(library, text, expected):
    assert names(library, found(text)) == expected


@pytest.mark.parametrize(
    "text",
    [
        "kiosk'",
        "'kiosk'",
        "kiosk''",
        "kiosk & photos",
        "kiosk | parking",
        "!kiosk",
        "kiosk:*",
        "kio:*",
        "kiosk\\",
        "kiosk<->photos",
        "kiosk'); DROP TABLE proposals_proposal; --",
        "(kiosk",
        "kiosk\x00",
    ],
)
def test_operators_and_quotes_in_the_query_are_only_data(library, text):
    query = search.query(text.replace("\x00", ""))
    pks = set(Proposal.objects.filter(search=query).values_list("pk", flat=True))
    assert pks <= {library["kiosk"].pk}
    assert Proposal.objects.count() == 3


def test_a_prefix_operator_does_not_widen_the_search(library):
    # "kio:*" would match kiosk as a tsquery prefix; here it is the word "kio".
    assert found("kio:*") == set()


def test_drafts_are_not_indexed(propose, require_postgres):
    draft = propose(publish=False, title="独一无二的草稿标题")
    assert found("独一无二") == set()
    assert Proposal.objects.get(pk=draft.pk).search is None


# Through the list's filter -----------------------------------------------------------------------
def listed(q, user=None) -> set[int]:
    from django.contrib.auth.models import AnonymousUser

    request = RequestFactory().get("/proposals/", {"q": q})
    request.user = user or AnonymousUser()
    result = ProposalFilter(request.GET, queryset=queries.listing(request.user), request=request)
    return set(result.qs.values_list("pk", flat=True))


def test_the_list_filter_searches(library):
    assert listed("开放时间") == {library["hours"].pk}
    assert listed("") == {p.pk for p in library.values()}


@pytest.mark.parametrize("q", ["!!!", "&", "'", ":*", "，。", "   "])
def test_a_query_of_punctuation_only_filters_nothing(library, q):
    assert listed(q) == {p.pk for p in library.values()}


def test_a_hostile_query_through_the_filter_is_harmless(library):
    assert listed("kiosk' OR '1'='1") == set()
    assert listed("'); DELETE FROM proposals_proposal; --") == set()
    assert Proposal.objects.count() == 3


def test_without_postgresql_the_words_are_looked_for_in_the_text(monkeypatch, propose):
    """SQLite (the embedded default) has no full-text search: ``matching`` falls back to
    ``icontains`` on each word, and publishing indexes nothing."""
    monkeypatch.setattr(search, "enabled", lambda using="default": False)
    found = propose(title="周末延长开放时间", body="希望周末也能办理身份证")
    propose(title="增加停车位", body="访客停车难")
    hits = search.matching(Proposal.objects.all(), "周末 身份证")
    assert list(hits) == [found]
    assert Proposal.objects.get(pk=found.pk).search is None
    assert search.matching(Proposal.objects.all(), "").count() == 2
