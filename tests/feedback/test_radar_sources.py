"""What the feedback wing feeds the needs radar: its text source and its two reason sources
(bad ratings, complaints), counted per reason and cell on a known set of rows; the items each
reader may open; the inbox's reason filter the radar links to (page and API); the query
budgets; and a month of the radar computed over feedback texts."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from feedback import radar
from feedback.models import Feedback, Kind
from governance.radar import registry
from governance.radar.compute import compute_month, month_bounds
from governance.radar.models import ReasonCount, Run, Theme, ThemeItem
from tests.feedback.conftest import client_for
from tests.feedback.fixtures import at, fresh
from tests.query_budget import capture_queries

pytestmark = pytest.mark.django_db

NOVEMBER = dt.date(2026, 11, 1)
INBOX_API = "/api/v1/feedback/inbox/"


def row(kind=Kind.ONLINE_RATING, *, created_at, **values) -> Feedback:
    """A row written directly, at a known moment (the services stamp the present)."""
    values.setdefault("channel", "web")
    return Feedback.objects.create(kind=kind, created_at=created_at, **values)


def listed(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-feedback="(\d+)"', response.content.decode())}


def field_errors(response) -> str:
    return " ".join(
        re.findall(r'<p class="field-error" role="alert">(.*?)</p>', response.content.decode())
    )


def counted(code: str, month: dt.date = NOVEMBER) -> dict:
    start, end = month_bounds(month)
    rows = list(registry.reason_source(code).count(start, end))
    cells = {}
    for line in rows:
        key = (line.reason, line.station_id, line.service_id, line.department_id)
        assert key not in cells, f"two rows for one reason and cell: {key}"
        cells[key] = line.count
    return cells


@pytest.fixture
def known(station, service, other_service, department, other_department, partner, citizen):
    """Bad ratings and complaints of November 2026 (Asia/Shanghai) and around it, with the
    cell and reasons each one counts under."""
    st, sv, dept = station.pk, service.pk, department.pk
    hukou = {"station": station, "service": service, "organisation": department}
    traffic = {"service": other_service, "organisation": other_department}
    mall = {"station": station, "organisation": partner}
    nov = at(2026, 11, 12, 15)
    rows = {
        "two_reasons": row(
            level=1,
            reasons=["waiting_time", "attitude"],
            created_at=nov,
            text="等了两个小时",
            **hukou,
        ),
        "service_only": row(
            level=2,
            reasons=["waiting_time"],
            created_at=nov,
            service=service,
            organisation=department,
        ),
        "station_no_reason": row(level=2, created_at=nov, **mall),
        "hidden": row(level=1, reasons=["waiting_time"], is_hidden=True, created_at=nov, **hukou),
        "repeated_code": row(
            level=2, reasons=["waiting_time", "waiting_time"], created_at=nov, **hukou
        ),
        "excluded": row(level=1, reasons=["waiting_time"], excluded=True, created_at=nov, **hukou),
        "fairly": row(level=3, reasons=["waiting_time"], created_at=nov, **hukou),
        "good": row(level=5, reasons=["fast"], created_at=nov, **hukou),
        "october_eve": row(
            level=1, reasons=["documents"], created_at=at(2026, 10, 31, 23, 59), **traffic
        ),
        "november_dawn": row(
            level=2, reasons=["documents"], created_at=at(2026, 11, 1, 0, 0), **traffic
        ),
        "november_last": row(
            level=2, reasons=["documents"], created_at=at(2026, 11, 30, 23, 59), **traffic
        ),
        "december": row(level=1, reasons=["attitude"], created_at=at(2026, 12, 1, 0, 0), **hukou),
        "complaint": row(
            Kind.COMPLAINT,
            text="排队太久",
            created_at=nov,
            service=service,
            organisation=department,
            user=citizen,
        ),
        "complaint_at_station": row(Kind.COMPLAINT, text="指示牌太小", created_at=nov, **mall),
        "complaint_hidden": row(
            Kind.COMPLAINT, text="辱骂", is_hidden=True, created_at=nov, **mall
        ),
        "suggestion": row(Kind.SUGGESTION, text="多设座椅", created_at=nov, **hukou),
    }
    expected_bad = {
        ("waiting_time", st, sv, dept): 3,  # two_reasons, hidden, repeated_code (once)
        ("attitude", st, sv, dept): 1,
        ("waiting_time", None, sv, dept): 1,
        ("unspecified", st, None, None): 1,  # the mall hosts the station: not a department
        ("documents", None, other_service.pk, other_department.pk): 2,  # dawn and last minute
    }
    expected_complaints = {
        ("unspecified", None, sv, dept): 1,
        ("unspecified", st, None, None): 2,  # the hidden one counts: hiding takes text only
    }
    return {"rows": rows, "bad": expected_bad, "complaints": expected_complaints}


# Registrations -----------------------------------------------------------------------------
def test_the_wing_registers_its_text_source_and_two_reason_sources():
    text = registry.text_source("feedback")
    assert text.model_class() is Feedback
    assert tuple(text.fields) == ("text",)
    assert (text.created, text.station) == ("created_at", "station_id")
    assert text.visible is radar.visible

    for code, label in (("feedback.bad_rating", "差评"), ("feedback.complaint", "投诉")):
        source = registry.reason_source(code)
        assert str(source.label) == label
        assert source.label_of("unspecified") == "未说明原因"
        assert source.label_of("waiting_time") == "等候时间长"
        assert "fast" not in source.reasons  # praise is no reason to be unhappy
        assert source.items_url is not None


# Counting ----------------------------------------------------------------------------------
def test_bad_ratings_count_per_reason_and_cell(known):
    assert counted("feedback.bad_rating") == known["bad"]


def test_complaints_count_per_cell_under_unspecified(known):
    assert counted("feedback.complaint") == known["complaints"]


def test_month_bounds_are_those_of_shanghai(known, station, service, department):
    traffic = known["rows"]["october_eve"]
    assert counted("feedback.bad_rating", dt.date(2026, 10, 1)) == {
        ("documents", None, traffic.service_id, traffic.organisation_id): 1
    }
    assert counted("feedback.bad_rating", dt.date(2026, 12, 1)) == {
        ("attitude", station.pk, service.pk, department.pk): 1
    }


def test_an_empty_month_counts_nothing(known):
    assert counted("feedback.bad_rating", dt.date(2025, 1, 1)) == {}


def test_a_code_outside_the_catalogue_counts_as_unspecified(service, department):
    row(
        level=1,
        reasons=["not_a_reason" * 10],
        created_at=at(2026, 11, 3),
        service=service,
        organisation=department,
    )
    assert counted("feedback.bad_rating") == {("unspecified", None, service.pk, department.pk): 1}


def _rating_rows(service, department, station, n, month_day=5):
    Feedback.objects.bulk_create(
        Feedback(
            kind=Kind.ONLINE_RATING,
            level=1 + i % 2,
            reasons=[["waiting_time"], ["attitude", "documents"], []][i % 3],
            station=station if i % 4 else None,
            service=service,
            organisation=department,
            channel="web",
            created_at=at(2026, 11, month_day, 10, i % 60),
        )
        for i in range(n)
    )


@pytest.mark.parametrize("code", ["feedback.bad_rating", "feedback.complaint"])
def test_counting_is_one_query_however_many_rows(code, service, department, station):
    start, end = month_bounds(NOVEMBER)
    source = registry.reason_source(code)
    _rating_rows(service, department, station, 5)
    _few, small = capture_queries(lambda: list(source.count(start, end)))
    _rating_rows(service, department, station, 200)
    Feedback.objects.bulk_create(
        Feedback(
            kind=Kind.COMPLAINT,
            text=f"投诉{i}",
            service=service,
            organisation=department,
            channel="web",
            created_at=at(2026, 11, 9),
        )
        for i in range(50)
    )
    rows, large = capture_queries(lambda: list(source.count(start, end)))
    assert len(small) == len(large) == 1
    assert sum(line.count for line in rows) > 0


# Items -------------------------------------------------------------------------------------
@pytest.fixture
def texts(service, other_service, department, other_department, partner, station, citizen):
    nov = at(2026, 11, 12)
    return {
        "citizens_complaint": row(
            Kind.COMPLAINT,
            text="居住证申请交了三周还没有消息，打窗口电话也没人接。" * 3,
            created_at=nov,
            service=service,
            organisation=department,
            user=citizen,
        ),
        "hukou_rating": row(
            level=2, text="等太久", created_at=nov, service=service, organisation=department
        ),
        "traffic_rating": row(
            level=1,
            text="罚款机器坏了",
            created_at=nov,
            service=other_service,
            organisation=other_department,
        ),
        "mall_suggestion": row(
            Kind.SUGGESTION, text="多设座椅", created_at=nov, station=station, organisation=partner
        ),
        "hidden": row(
            Kind.COMPLAINT, text="辱骂", is_hidden=True, created_at=nov, organisation=department
        ),
    }


VISIBLE = {
    "superuser": {"citizens_complaint", "hukou_rating", "traffic_rating", "mall_suggestion"},
    "department_admin": {"citizens_complaint", "hukou_rating"},
    "department_staff": {"citizens_complaint", "hukou_rating"},
    "department_viewer": {"citizens_complaint", "hukou_rating"},
    "other_department_staff": {"traffic_rating"},
    "partner_admin": {"mall_suggestion"},
    "partner_staff": {"mall_suggestion"},
    "other_partner_admin": set(),
    "citizen": {"citizens_complaint"},
    "anonymous": set(),
}


@pytest.mark.parametrize("role", sorted(VISIBLE))
def test_items_are_those_the_reader_may_open(request, texts, role):
    from django.contrib.auth.models import AnonymousUser

    actor = AnonymousUser() if role == "anonymous" else fresh(request.getfixturevalue(role))
    ids = [feedback.pk for feedback in texts.values()]

    items = registry.text_source("feedback").visible(actor, ids)

    assert {item.object_id for item in items} == {texts[name].pk for name in VISIBLE[role]}
    for item in items:
        assert item.source == "feedback"
        assert item.url == reverse("feedback:detail", args=[item.object_id])
        assert item.created_at is not None


def test_an_item_names_its_kind_and_an_excerpt_and_opens_for_its_reader(
    client, texts, department_staff
):
    complaint = texts["citizens_complaint"]
    (item,) = radar.visible(fresh(department_staff), [complaint.pk])

    assert item.title.startswith("投诉 · 居住证申请")
    assert len(item.title) < 60
    assert item.title.endswith(("…", "..."))  # cut, as the active language marks it
    client.force_login(department_staff)
    assert client.get(item.url).status_code == 200


def test_items_of_no_ids_cost_no_query(department_staff):
    reader = fresh(department_staff)
    result, queries = capture_queries(lambda: radar.visible(reader, []))
    assert result == []
    assert queries == []


def test_items_run_constant_queries(service, department, department_staff):
    def make(n):
        return [
            row(
                Kind.SUGGESTION,
                text=f"建议{i}",
                created_at=at(2026, 11, 2),
                service=service,
                organisation=department,
            ).pk
            for i in range(n)
        ]

    few, many = make(3), make(40)
    first, second = fresh(department_staff), fresh(department_staff)
    small_items, small = capture_queries(lambda: radar.visible(first, few))
    large_items, large = capture_queries(lambda: radar.visible(second, many))
    assert (len(small_items), len(large_items)) == (3, 40)
    assert len(small) == len(large) <= 2


# The links to the items: the inbox's reason filter -----------------------------------------
def _url(code, reason, **cell) -> str:
    return registry.reason_source(code).items_url(
        reason,
        NOVEMBER,
        cell.get("station_id"),
        cell.get("service_id"),
        cell.get("department_id"),
    )


def test_a_count_links_to_exactly_its_items(client, known, department_staff, station, service):
    rows = known["rows"]
    url = _url(
        "feedback.bad_rating",
        "waiting_time",
        station_id=station.pk,
        service_id=service.pk,
        department_id=service.department_id,
    )
    client.force_login(department_staff)

    response = client.get(url)

    assert response.status_code == 200
    assert listed(response) == {
        rows[name].pk for name in ("two_reasons", "hidden", "repeated_code")
    }
    page = response.content.decode()
    # The ids were read as the fields' values: the form shows the station, service and unit.
    assert 'value="mall-station" selected' in page
    assert 'value="HK-ID" selected' in page
    assert 'value="hukou" selected' in page
    assert "station=mall-station" in page  # the CSV link carries the filters by name


def test_a_link_with_no_cell_lists_the_month_everywhere(client, known, superuser):
    rows = known["rows"]
    client.force_login(superuser)

    documents = listed(client.get(_url("feedback.bad_rating", "documents")))
    no_reason = listed(
        client.get(
            _url(
                "feedback.complaint",
                "unspecified",
                station_id=rows["complaint_at_station"].station_id,
            )
        )
    )

    # The minute before November (Shanghai) is October's; the first and last are November's.
    assert documents == {rows["november_dawn"].pk, rows["november_last"].pk}
    assert no_reason == {rows["complaint_at_station"].pk, rows["complaint_hidden"].pk}


def test_another_department_follows_the_link_to_an_empty_inbox(
    client, known, other_department_staff, service
):
    client.force_login(other_department_staff)
    response = client.get(_url("feedback.bad_rating", "waiting_time", service_id=service.pk))
    assert response.status_code == 200
    assert listed(response) == set()


def test_a_citizen_may_not_follow_the_link(client, known, citizen):
    client.force_login(citizen)
    assert client.get(_url("feedback.complaint", "unspecified")).status_code == 403


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("reason=gossip&start=2026-11-01&end=2026-11-30", "不是可选的原因"),
        ("reason=waiting_time", "起止日期"),
        ("reason=waiting_time&start=2025-01-01&end=2026-11-30", "366"),
        ("reason=waiting_time&start=2026-11-01&end=2026-11-30&station_id=999999", "不存在"),
        ("reason=waiting_time&start=2026-11-01&end=2026-11-30&service_id=x1", "不存在"),
        ("level=worst", "有效"),
    ],
)
def test_a_bad_reason_filter_is_400_with_a_form_error(
    client, known, department_staff, query, message
):
    client.force_login(department_staff)
    response = client.get(reverse("feedback:inbox") + "?" + query)
    assert response.status_code == 400
    assert message in field_errors(response)


def test_the_inbox_filters_by_reason_level_and_organisation(client, known, superuser):
    rows = known["rows"]
    client.force_login(superuser)

    def seen(query):
        response = client.get(
            reverse("feedback:inbox") + "?start=2026-11-01&end=2026-11-30&" + query
        )
        assert response.status_code == 200
        return {name for name, feedback in rows.items() if feedback.pk in listed(response)}

    assert seen("reason=waiting_time&level=bad") == {
        "two_reasons",
        "service_only",
        "hidden",
        "repeated_code",
        "excluded",
    }
    assert seen("reason=waiting_time&level=bad&excluded=no") == {
        "two_reasons",
        "service_only",
        "hidden",
        "repeated_code",
    }
    assert seen("reason=waiting_time&level=3") == {"fairly"}
    assert seen("reason=fast") == {"good"}
    assert seen("reason=unspecified&organisation=mall") == {
        "station_no_reason",
        "complaint_at_station",
        "complaint_hidden",
    }
    assert seen("reason=documents&organisation=traffic") == {"november_dawn", "november_last"}


def test_the_api_filters_by_reason(known, department_staff):
    rows = known["rows"]
    client = client_for(department_staff)
    month = {"created_after": "2026-11-01", "created_before": "2026-12-01"}

    response = client.get(INBOX_API, {"reason": "attitude", "level": [1, 2], **month})
    unspecified = client.get(INBOX_API, {"reason": "unspecified", "kind": "complaint", **month})

    assert response.status_code == 200
    assert {r["id"] for r in response.json()["results"]} == {rows["two_reasons"].pk}
    assert {r["id"] for r in unspecified.json()["results"]} == {rows["complaint"].pk}


@pytest.mark.parametrize(
    "params",
    [
        {"reason": "gossip", "created_after": "2026-11-01", "created_before": "2026-12-01"},
        {"reason": "waiting_time"},
        {"reason": "waiting_time", "created_after": "2024-01-01", "created_before": "2026-12-01"},
    ],
)
def test_the_api_refuses_a_bad_reason_filter_with_400(known, department_staff, params):
    response = client_for(department_staff).get(INBOX_API, params)
    assert response.status_code == 400
    assert "reason" in response.json()


# A month of the radar over feedback texts --------------------------------------------------
def test_a_radar_month_finds_the_feedback_theme_and_its_reasons(
    known, station, service, department, department_staff
):
    for day in range(3, 8):
        row(
            Kind.SUGGESTION,
            text="希望周末办证，工作日实在请不了假。",
            created_at=at(2026, 11, day, 14),
            station=station,
            service=service,
            organisation=department,
        )

    run = compute_month(NOVEMBER)

    assert run.status == Run.Status.DONE
    themes = Theme.objects.filter(month=NOVEMBER, station__isnull=True)
    theme = next(theme for theme in themes if "周末" in theme.term)
    assert theme.count == 5
    assert theme.sources == {"feedback": 5}
    ids = set(ThemeItem.objects.filter(theme=theme).values_list("object_id", flat=True))
    assert len(ids) == 5
    items = registry.text_source("feedback").visible(fresh(department_staff), ids)
    assert {item.object_id for item in items} == ids

    stored = {
        (r.source, r.reason, r.station_id, r.service_id, r.department_id): r.count
        for r in ReasonCount.objects.filter(month=NOVEMBER)
    }
    expected = {("feedback.bad_rating", *key): n for key, n in known["bad"].items()}
    expected |= {("feedback.complaint", *key): n for key, n in known["complaints"].items()}
    assert {key: n for key, n in stored.items() if key[0].startswith("feedback.")} == expected
    assert run.reasons >= sum(expected.values())


def test_hidden_and_excluded_texts_feed_no_theme(station, service, department):
    for day in range(3, 8):
        row(
            Kind.COMPLAINT,
            text="周末办证太难",
            is_hidden=True,
            created_at=at(2026, 11, day),
            organisation=department,
        )
        row(
            level=1,
            text="周末办证太难",
            excluded=True,
            created_at=at(2026, 11, day),
            service=service,
            organisation=department,
        )

    compute_month(NOVEMBER)

    assert not Theme.objects.filter(month=NOVEMBER, term__contains="周末").exists()


def test_a_case_opened_from_a_bad_rating_is_counted_once_as_feedback(
    station, service, department, citizen
):
    from feedback.services import rectification_open
    from governance.cases.models import Source
    from governance.cases.services import case_open

    for day in range(3, 8):
        rating = row(
            level=1,
            reasons=["waiting_time"],
            text="周末办证太难了，只能请假。",
            created_at=at(2026, 11, day, 14),
            station=station,
            service=service,
            organisation=department,
        )
        case = rectification_open(feedback_id=rating.pk, now=at(2026, 11, day, 15))
        # The rectification case repeats the rating's words.
        assert case.source == Source.FEEDBACK
        assert "周末办证太难了" in case.description
    # A case someone opened themselves is a text of its own.
    own = case_open(
        actor=citizen,
        title="周末办证",
        description="希望周末也能办证。",
        service=service,
        station=station,
        opened_at=at(2026, 11, 9, 10),
    )
    assert own.source != Source.FEEDBACK

    run = compute_month(NOVEMBER)

    # Five ratings and one case: six texts, not eleven.
    assert run.texts == 6
    theme = Theme.objects.get(month=NOVEMBER, station__isnull=True, term="周末办证")
    assert (theme.count, theme.sources) == (6, {"feedback": 5, "cases": 1})
    assert set(
        ThemeItem.objects.filter(theme=theme, source="cases").values_list("object_id", flat=True)
    ) == {own.pk}


def test_an_id_in_other_digits_is_a_form_error_not_a_500(client, department_staff):
    client.force_login(department_staff)
    for value in ("²", "١٢", "1e3"):
        response = client.get("/feedback/inbox/", {"station_id": value})
        assert response.status_code == 400, value


def test_the_unspecified_link_lists_a_row_whose_only_code_is_unknown(
    client, service, department, superuser
):
    unknown = row(
        level=1,
        reasons=["not_a_reason"],
        created_at=at(2026, 11, 3),
        service=service,
        organisation=department,
    )
    named = row(
        level=1,
        reasons=["waiting_time", "not_a_reason"],
        created_at=at(2026, 11, 3),
        service=service,
        organisation=department,
    )
    client.force_login(superuser)
    unspecified = listed(client.get(_url("feedback.bad_rating", "unspecified")))
    waiting = listed(client.get(_url("feedback.bad_rating", "waiting_time")))
    assert unknown.pk in unspecified
    assert named.pk not in unspecified
    assert named.pk in waiting
    assert unknown.pk not in waiting
