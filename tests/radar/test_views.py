"""The radar's staff pages: who may read them, the filter form and its errors, each section with
its figures and its empty state, the theme page's items (only those the reader may open), and
a constant number of queries however many stored rows lie behind a page.

The stored results are written directly (as ``compute`` writes them), so each figure on the
page is known in advance; the browser journey runs the computation itself.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re

import pytest
from django.urls import reverse

from governance.radar import registry
from governance.radar.models import HeatCell, ReasonCount, Run, Theme, ThemeItem, UnmetDemand
from governance.radar.registry import Item, ReasonSource, TextSource
from governance.stakeholders.models import Organisation
from tests.conftest import _member
from tests.factories import OrganisationFactory, ServiceFactory, StationFactory
from tests.query_budget import assert_constant_queries

MONTH = dt.date(2026, 3, 1)  # four Saturdays
LAST = dt.date(2026, 2, 1)
EMPTY = dt.date(2025, 7, 1)  # never computed
OVERVIEW = reverse("radar:overview")
REASON_SOURCE = "test.bad_rating"
TEXT_SOURCE = "test.notes"
SATURDAY = 5


def theme_url(theme) -> str:
    return reverse("radar:theme", args=[theme.pk])


# The world ---------------------------------------------------------------------------------
@pytest.fixture
def station(department, partner):
    return StationFactory(
        slug="mall", name_zh="万象城警务站", host=partner, departments=[department]
    )


@pytest.fixture
def other_station(partner):
    return StationFactory(slug="zz-airport", name_zh="机场警务站", host=partner)


@pytest.fixture
def exit_entry(department, station):
    return ServiceFactory(
        department=department, service_code="EE-PASS", name_zh="出入境证件办理", stations=[station]
    )


@pytest.fixture
def hukou(department, station):
    return ServiceFactory(
        department=department, service_code="HK-REG", name_zh="户籍业务", stations=[station]
    )


@pytest.fixture
def elsewhere(other_department):
    """A catalogue service no station here offers."""
    return ServiceFactory(department=other_department, service_code="TR-LIC", name_zh="驾驶证换证")


def _reason_url(reason, month, station_id=None, service_id=None, department_id=None):
    return f"/feedback/inbox/?reason={reason}&month={month:%Y-%m}&station={station_id or ''}"


@pytest.fixture
def reason_source(monkeypatch):
    source = ReasonSource(
        code=REASON_SOURCE,
        label="差评（测试）",
        reasons={"waiting_time": "等候时间长", "attitude": "态度不好"},
        count=lambda start, end: [],
        items_url=_reason_url,
    )
    monkeypatch.setitem(registry._reason_sources, REASON_SOURCE, source)
    return source


@pytest.fixture
def text_source(monkeypatch):
    """Notes whose odd ids only superusers may read."""

    def visible(actor, ids):
        return [
            Item(
                source=TEXT_SOURCE,
                object_id=pk,
                title=f"便签{pk}：希望周末办证",
                url=f"/notes/{pk}/",
                created_at=dt.datetime(2026, 3, pk % 28 + 1, 12, tzinfo=dt.UTC),
            )
            for pk in ids
            if pk % 2 == 0 or actor.is_superuser
        ]

    source = TextSource(
        code=TEXT_SOURCE,
        label="便签",
        model="radar.Run",
        fields=("error",),
        created="started_at",
        visible=visible,
    )
    monkeypatch.setitem(registry._text_sources, TEXT_SOURCE, source)
    return source


def heat(station, service, weekday, hour, *, month=MONTH, visits=10, queue=1.0, days=4):
    """A stored cell whose mean queue is ``queue`` (Little's law: minutes waited in the hour /
    (60 × days)); its visits' waits all fell within the hour (ticket to call)."""
    wait = queue * 60 * days
    return HeatCell.objects.create(
        month=month,
        station=station,
        service=service,
        weekday=weekday,
        hour=hour,
        visits=visits,
        called=visits,
        wait_minutes=wait,
        queue_minutes=wait,
        max_wait_minutes=wait / visits * 2 if visits else 0.0,
        days=days,
    )


def computed_on(month: dt.date) -> dt.datetime:
    """When the fixture's months were computed: the 28th, 03:00 UTC (11:00 in Shanghai)."""
    return dt.datetime(month.year, month.month, 28, 3, tzinfo=dt.UTC)


@pytest.fixture
def stored(station, exit_entry, hukou, elsewhere, department, reason_source, text_source):
    """March computed: a Saturday-afternoon exit-entry peak, reasons, themes, unmet demand.
    February computed too (the comparison and last month's reasons)."""
    for month in (LAST, MONTH):
        Run.objects.create(
            month=month,
            status=Run.Status.DONE,
            finished_at=computed_on(month),
            done_at=computed_on(month),
            through=month.replace(day=28),  # computed on the 28th: the days up to it
        )
    # 8.5 people waiting on average, 40 visits, 51 minutes each: 8.5 × 60 × 4 = 2040 minutes.
    heat(station, exit_entry, SATURDAY, 14, visits=40, queue=8.5)
    heat(station, hukou, SATURDAY, 14, visits=10, queue=0.5)
    heat(station, hukou, 0, 10, visits=12, queue=1.0, days=5)
    heat(station, exit_entry, SATURDAY, 14, month=LAST, visits=20, queue=3.0)
    heat(station, hukou, 0, 10, month=LAST, visits=12, queue=1.0)
    for month, count in ((LAST, 3), (MONTH, 5)):
        ReasonCount.objects.create(
            month=month,
            source=REASON_SOURCE,
            reason="waiting_time",
            station=station,
            service=exit_entry,
            department=department,
            count=count,
        )
    ReasonCount.objects.create(
        month=MONTH, source=REASON_SOURCE, reason="attitude", station=station, count=2
    )
    rising = Theme.objects.create(
        month=MONTH,
        station=station,
        term="周末办证",
        rank=1,
        count=6,
        baseline=1.0,
        growth=6.0,
        sources={TEXT_SOURCE: 4},
    )
    ThemeItem.objects.bulk_create(
        ThemeItem(theme=rising, source=TEXT_SOURCE, object_id=pk) for pk in (2, 4, 6, 7)
    )
    Theme.objects.create(
        month=MONTH, station=station, term="停车", rank=2, count=3, baseline=0, growth=3.0
    )
    Theme.objects.create(
        month=MONTH, station=None, term="预约", rank=1, count=9, baseline=2.0, growth=4.5
    )
    UnmetDemand.objects.create(
        month=MONTH,
        station=station,
        term="驾驶证换证",
        service=elsewhere,
        rank=1,
        mentions=4,
        searches=3,
        total=7,
        sources={TEXT_SOURCE: 4},
    )
    UnmetDemand.objects.create(
        month=MONTH, station=station, term="宠物证", rank=2, mentions=0, searches=2, total=2
    )
    return rising


@pytest.fixture
def community_member(db):
    community = OrganisationFactory(
        slug="neighbours", kind=Organisation.Kind.COMMUNITY, name_zh="邻里互助会"
    )
    return _member(community, "admin", "community@example.com")


def text(response) -> str:
    """The page's visible words, tags dropped and whitespace collapsed."""
    body = response.content.decode()
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", body, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", body))


# Who may read ------------------------------------------------------------------------------
READERS = (
    "superuser",
    "department_admin",
    "department_staff",
    "department_viewer",
    "other_department_staff",
    "partner_admin",
    "partner_staff",
)
REFUSED = ("citizen", "community_member")


@pytest.mark.parametrize("role", READERS)
def test_members_of_departments_and_partners_read_both_pages(client, request, stored, role):
    client.force_login(request.getfixturevalue(role))
    assert client.get(OVERVIEW).status_code == 200
    assert client.get(theme_url(stored)).status_code == 200


@pytest.mark.parametrize("role", REFUSED)
def test_citizens_and_community_members_are_refused_with_a_reason(client, request, stored, role):
    client.force_login(request.getfixturevalue(role))
    for url in (OVERVIEW, theme_url(stored)):
        response = client.get(url)
        assert response.status_code == 403
        assert "需求雷达只对部门和企业伙伴的成员开放" in text(response)
        assert "周末办证" not in text(response)


def test_anonymous_visitors_are_sent_to_sign_in(client, stored):
    for url in (OVERVIEW + "?month=2026-03", theme_url(stored)):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login") + "?next=")
        assert "radar" in response["Location"]


def test_pages_answer_get_and_head_only(client, department_admin, stored):
    client.force_login(department_admin)
    assert client.head(OVERVIEW).status_code == 200
    assert client.post(OVERVIEW).status_code == 405
    assert client.post(theme_url(stored)).status_code == 405


# The filter form ---------------------------------------------------------------------------
def test_defaults_are_the_first_station_and_the_latest_computed_month(
    client, department_admin, stored, other_station
):
    Run.objects.create(month=dt.date(2026, 4, 1), status=Run.Status.FAILED)
    client.force_login(department_admin)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    form = response.context["form"]
    # Stations are offered by their Chinese name (code-point order: 万 before 机).
    first = min([stored.station, other_station], key=lambda s: (s.name_zh, s.pk))
    assert response.context["station"] == first
    assert response.context["month"] == MONTH  # April failed: March is the latest done
    assert form["month"].value() == "2026-03"
    assert f'value="{first.slug}" selected' in response.content.decode()


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ("station=nowhere", "station", "选择一个有效的选项"),
        ("month=2026-13", "month", "请按“年-月”填写月份"),
        ("month=march", "month", "请按“年-月”填写月份"),
        ("month=1999-12", "month", "请按“年-月”填写月份"),
        ("month=9999-01", "month", "请按“年-月”填写月份"),
        ("month=2026-3-1", "month", "请按“年-月”填写月份"),
        ("month=" + "9" * 5000, "month", "请按“年-月”填写月份"),
        ("compare=2026-00", "compare", "请按“年-月”填写月份"),
        ("month=2026-03&compare=2026-03", "compare", "对比月份须与所看月份不同"),
        ("department=nobody", "department", "选择一个有效的选项"),
        ("service=NO-SUCH", "service", "选择一个有效的选项"),
        ("station=%00", "station", "选择一个有效的选项"),
    ],
)
def test_bad_filter_values_are_form_errors_with_400(
    client, department_admin, stored, query, field, message
):
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?{query}")
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    page = text(response)
    assert message in " ".join(errors[field])
    assert "筛选条件有误" in page
    assert "周末办证" not in page  # no section is drawn from a query that names nothing


def test_a_month_never_computed_says_so_in_every_section(client, department_admin, stored):
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?month={EMPTY:%Y-%m}")
    assert response.status_code == 200
    page = text(response)
    assert "2025-07 还没有计算结果，下面各部分都没有数据。" in page
    assert "查看最近计算的月份（2026-03）" in page
    assert "万象城警务站 2025-07 还没有计算结果，没有排队数据。" in page
    assert "2025-07 还没有计算结果，没有不满意原因的统计。" in page
    assert "2025-07 还没有计算结果，没有诉求主题。" in page
    assert "2025-07 还没有计算结果，没有未满足需求的记录。" in page
    assert "<table" not in response.content.decode()
    assert "计算于" not in page


def test_the_scope_line_says_when_the_month_was_computed_and_up_to_which_day(
    client, department_admin, stored
):
    client.force_login(department_admin)
    page = text(client.get(f"{OVERVIEW}?station=mall&month=2026-03"))
    assert "万象城警务站 · 2026-03 （计算于 2026-03-28 11:00，数据截至 2026-03-28）" in page
    assert "正在重新计算" not in page
    assert "上次计算失败" not in page


@pytest.mark.parametrize(
    ("status", "note"),
    [
        (Run.Status.FAILED, "（上次计算失败，显示的是更早的结果）"),
        (Run.Status.RUNNING, "（正在重新计算，显示的是上次的结果）"),
    ],
)
def test_a_month_being_or_failing_to_be_recomputed_still_shows_its_last_results(
    client, department_admin, stored, status, note
):
    Run.objects.filter(month=MONTH).update(status=status, error="boom")
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?station=mall&month=2026-03")
    page = text(response)
    assert response.context["month"] == MONTH
    assert note in page
    assert "（计算于 2026-03-28 11:00，数据截至 2026-03-28）" in page
    assert "还没有计算结果" not in page
    assert "星期六 14:00–15:00：平均排队 9.0 人" in page
    assert "周末办证" in page
    # Still the latest computed month: the default.
    assert client.get(OVERVIEW).context["month"] == MONTH


def test_a_computed_month_with_nothing_in_it_says_what_is_missing(client, department_admin, stored):
    Run.objects.create(
        month=dt.date(2025, 12, 1),
        status=Run.Status.DONE,
        done_at=dt.datetime(2026, 1, 2, 1, tzinfo=dt.UTC),
        through=dt.date(2025, 12, 31),
    )
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?month=2025-12")
    assert response.status_code == 200
    page = text(response)
    assert "还没有计算结果" not in page
    assert "（计算于 2026-01-02 09:00，数据截至 2025-12-31）" in page
    assert "万象城警务站 2025-12 没有办件记录，无法画出排队热力图。" in page
    assert "2025-12 没有差评或投诉给出不满意的原因。" in page
    assert "2025-12 没有诉求主题：没有足够多的文字反复提到同一件事。" in page
    assert "2025-12 没有人要求没有提供的服务。" in page


def test_with_nothing_computed_at_all_the_page_still_renders_its_empty_states(
    client, department_admin, station
):
    client.force_login(department_admin)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    assert response.context["latest"] is None
    assert "还没有计算结果" in text(response)


def test_with_no_station_at_all_the_heatmap_asks_for_one(client, department_admin):
    client.force_login(department_admin)
    response = client.get(OVERVIEW)
    assert response.status_code == 200
    assert "排队热力图按站点显示，请在上面选择一个站点。" in text(response)


# The heatmap -------------------------------------------------------------------------------
def test_the_peak_is_named_in_words_with_the_services_driving_it(client, department_admin, stored):
    client.force_login(department_admin)
    page = text(client.get(f"{OVERVIEW}?station=mall&month=2026-03"))
    assert (
        "星期六 14:00–15:00：平均排队 9.0 人，平均等候 43 分钟，50 人次办件，"
        "主要是 出入境证件办理（占等候的 94%）、户籍业务（占等候的 6%）。" in page
    )
    # The second peak: Monday morning, hukou alone.
    assert "星期一 10:00–11:00：平均排队 1.0 人" in page
    # The services behind the waiting, most waiting first.
    drivers = page.split("造成等候的服务事项", 1)[1]
    assert drivers.index("出入境证件办理") < drivers.index("户籍业务")


def test_heatmap_cells_carry_their_figures_as_text_and_their_shade(
    client, department_admin, stored
):
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?month=2026-03").content.decode()
    peak = re.search(r'<td class="heat heat-(\d)" data-weekday="5" data-hour="14">(.*?)</td>', body)
    assert peak is not None
    assert peak[1] == "5"
    assert "9.0" in peak[2]
    assert "人排队" in peak[2]
    assert "分钟等候" in peak[2]
    quiet = re.search(r'<td class="heat heat-(\d)" data-weekday="0" data-hour="10">', body)
    assert quiet is not None
    assert quiet[1] == "1"
    empty = re.search(r'<td class="heat heat-0" data-weekday="2" data-hour="12">(.*?)</td>', body)
    assert empty is not None
    assert "没有办件" in empty[1]
    # Hours shown: the first to the last with data, 10:00 to 14:00.
    assert '<th scope="col">10:00</th>' in body
    assert '<th scope="col">14:00</th>' in body
    assert '<th scope="col">09:00</th>' not in body
    assert '<th scope="col">15:00</th>' not in body
    # The scrolling table is reachable by keyboard and named.
    assert 'role="region" aria-labelledby="heat-caption" tabindex="0"' in body


def test_an_hour_with_waiting_but_no_new_ticket_is_shown_and_shaded(
    client, department_admin, stored, exit_entry, station
):
    # Saturday 15:00: nobody took a ticket, but 14:xx tickets waited on: 0.5 people on average
    # (120 minutes over four Saturdays).
    heat(station, exit_entry, SATURDAY, 15, visits=0, queue=0.5)
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?station=mall&month=2026-03").content.decode()
    assert '<th scope="col">15:00</th>' in body
    after = re.search(r'<td class="heat heat-(\d)" data-weekday="5" data-hour="15">', body)
    assert after is not None
    assert after[1] == "1"  # 0.5 of the top 9.0: the lightest shade, not "no queue"
    assert "星期六 15:00–16:00：平均排队 0.5 人" in text_of(body)


def test_an_hour_with_waiting_only_shows_its_queue_in_the_cell(
    client, department_admin, stored, exit_entry, station
):
    heat(station, exit_entry, SATURDAY, 15, visits=0, queue=0.5)
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?station=mall&month=2026-03").content.decode()
    after = re.search(r'data-weekday="5" data-hour="15">(.*?)</td>', body)
    assert after is not None
    assert "0.5" in after[1]
    assert "人排队" in after[1]


def test_compare_month_shows_the_change_cell_by_cell(client, department_admin, stored):
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?month=2026-03&compare=2026-02")
    body = response.content.decode()
    page = text(response)
    assert "2026-03 与 2026-02 对比" in page
    assert "2026-02 的最高峰是 星期六 14:00–15:00，平均排队 3.0 人。" in page
    saturday = re.search(
        r'<td class="delta delta-(\w+)" data-weekday="5" data-hour="14">(.*?)<', body
    )
    assert saturday is not None
    assert saturday[1] == "up"
    assert saturday[2] == "+6.0"
    monday = re.search(
        r'<td class="delta delta-(\w+)" data-weekday="0" data-hour="10">(.*?)<', body
    )
    assert monday is not None
    assert monday[1] == "same"
    assert monday[2] == "0"


def test_compare_month_without_data_says_so(client, department_admin, stored):
    client.force_login(department_admin)
    page = text(client.get(f"{OVERVIEW}?month=2026-03&compare=2025-07"))
    assert "2025-07 没有排队数据，无法对比" in page


def test_compare_month_may_be_later_and_shows_a_fall(client, department_admin, stored):
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?month=2026-02&compare=2026-03").content.decode()
    saturday = re.search(
        r'<td class="delta delta-(\w+)" data-weekday="5" data-hour="14">(.*?)<', body
    )
    assert saturday is not None
    assert saturday[1] == "down"
    assert saturday[2] == "−6.0"


def test_all_stations_leave_out_the_heatmap_and_show_everyones_themes(
    client, department_admin, stored
):
    client.force_login(department_admin)
    response = client.get(f"{OVERVIEW}?station=*&month=2026-03")
    assert response.status_code == 200
    page = text(response)
    assert "排队热力图按站点显示，请在上面选择一个站点。" in page
    assert "预约" in page  # the all-stations theme
    assert "周末办证" not in page  # the mall's own theme
    assert "全部站点 · 2026-03" in page


# Reasons -----------------------------------------------------------------------------------
def test_reasons_show_counts_change_trend_and_a_link_to_their_items(
    client, department_admin, stored, station
):
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?month=2026-03").content.decode()
    row = re.search(r'<tr data-reason="test.bad_rating:waiting_time">(.*?)</tr>', body, flags=re.S)
    assert row is not None
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row[1], flags=re.S)
    assert cells[0] == "等候时间长"
    assert cells[1] == "差评（测试）"
    assert cells[2:4] == ["5", "3"]
    assert "+2" in cells[4]
    # Six months of trend, oldest first, as bars named with their figures.
    assert (
        'aria-label="2025-10 0、2025-11 0、2025-12 0、2026-01 0、2026-02 3、2026-03 5"' in cells[5]
    )
    assert cells[5].count("<rect") == 6
    assert (
        f'href="/feedback/inbox/?reason=waiting_time&amp;month=2026-03&amp;station={station.pk}"'
        in cells[6]
    )
    attitude = re.search(r'<tr data-reason="test.bad_rating:attitude">(.*?)</tr>', body, flags=re.S)
    assert attitude is not None
    assert "+2" in attitude[1]


def test_reasons_narrow_to_a_department_and_a_service(
    client, department_admin, stored, other_department
):
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?month=2026-03&service=EE-PASS").content.decode()
    assert 'data-reason="test.bad_rating:waiting_time"' in body
    assert 'data-reason="test.bad_rating:attitude"' not in body
    assert "只看：出入境证件办理" in text_of(body)
    page = text(client.get(f"{OVERVIEW}?month=2026-03&department={other_department.slug}"))
    assert "2026-03 没有差评或投诉给出不满意的原因。" in page


def text_of(body: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", body))


# Themes and unmet demand -------------------------------------------------------------------
def test_themes_rank_with_growth_and_link_to_their_page(client, department_admin, stored):
    client.force_login(department_admin)
    body = client.get(f"{OVERVIEW}?month=2026-03").content.decode()
    row = re.search(rf'<tr data-theme="{stored.pk}">(.*?)</tr>', body, flags=re.S)
    assert row is not None
    assert f'<a href="{theme_url(stored)}">周末办证</a>' in row[1]
    words = text_of(row[1])
    assert "6.0 倍" in words
    assert "便签 4" in words
    parking = Theme.objects.get(term="停车")
    parking_row = re.search(rf'<tr data-theme="{parking.pk}">(.*?)</tr>', body, flags=re.S)
    assert parking_row is not None
    assert "新出现" in parking_row[1]
    assert body.index("周末办证") < body.index("停车")


def test_unmet_demand_names_the_catalogue_service_or_its_absence(client, department_admin, stored):
    client.force_login(department_admin)
    page = text(client.get(f"{OVERVIEW}?month=2026-03"))
    section = page.split("未满足的需求", 1)[1]
    assert "驾驶证换证 目录中有“驾驶证换证”，本站未办理 4 3 7 便签 4" in section
    assert "宠物证 目录中没有 0 2 2 —" in section


# The theme page ----------------------------------------------------------------------------
def test_theme_page_lists_what_the_reader_may_open_and_counts_the_rest(
    client, department_admin, stored
):
    client.force_login(department_admin)
    response = client.get(theme_url(stored))
    assert response.status_code == 200
    body = response.content.decode()
    page = text(response)
    assert "诉求主题：周末办证" in page
    for pk in (2, 4, 6):
        assert f'<a href="/notes/{pk}/">便签{pk}：希望周末办证</a>' in body
    assert "/notes/7/" not in body
    assert "便签7" not in body
    assert "另有 1 条文字您无权查看，或计算后已被删除、隐藏，这里不显示。" in page
    assert "本月共有 6 条文字提到这个主题，雷达保存了其中 4 条。" in page
    back = reverse("radar:overview") + "?station=mall&amp;month=2026-03#themes"
    assert f'href="{back}"' in body


def test_superuser_sees_every_item_and_no_hidden_count(client, superuser, stored):
    client.force_login(superuser)
    response = client.get(theme_url(stored))
    assert "/notes/7/" in response.content.decode()
    assert "无权查看" not in text(response)


@pytest.mark.parametrize("pk", ["999999", "0", "99999999999999999999"])
def test_unknown_theme_is_404(client, department_admin, stored, pk):
    client.force_login(department_admin)
    assert client.get(f"/radar/themes/{pk}/").status_code == 404


# Constant queries --------------------------------------------------------------------------
def test_overview_runs_constant_queries_whatever_the_stored_rows(
    client, department_admin, stored, station, other_department, partner, text_source
):
    client.force_login(department_admin)
    counter = itertools.count()

    def more(n):
        for _ in range(n):
            i = next(counter)
            service = ServiceFactory(department=other_department, stations=[station])
            heat(station, service, i % 7, 8 + i % 12, visits=3, queue=0.2)
            heat(station, service, i % 7, 8 + i % 12, month=LAST, visits=2, queue=0.1)
            ReasonCount.objects.create(
                month=MONTH, source=REASON_SOURCE, reason=f"r{i}", station=station, count=1
            )
            theme = Theme.objects.create(
                month=MONTH,
                station=station,
                term=f"主题{i}",
                rank=10 + i,
                count=3,
                baseline=1.0,
                growth=3.0,
                sources={TEXT_SOURCE: 1},
            )
            ThemeItem.objects.create(theme=theme, source=TEXT_SOURCE, object_id=i)
            UnmetDemand.objects.create(
                month=MONTH,
                station=station,
                term=f"诉求{i}",
                service=service,
                rank=10 + i,
                mentions=1,
                searches=0,
                total=1,
            )
            StationFactory(host=partner)

    def shown(response, n):
        # The two services of the fixture, and every one added (n rows in all beyond them).
        assert len(response.context["heat"].services) == 2 + n
        assert len(response.context["themes"]) == 2 + n
        assert len(response.context["unmet"]) == 2 + n

    assert_constant_queries(
        lambda: client.get(f"{OVERVIEW}?station=mall&month=2026-03&compare=2026-02"),
        more,
        small=2,
        large=12,
        check=shown,
        max_queries=25,
    )


def test_theme_page_runs_constant_queries_whatever_its_items(
    client, department_admin, stored, text_source
):
    client.force_login(department_admin)
    counter = itertools.count(100)

    def more(n):
        ThemeItem.objects.bulk_create(
            ThemeItem(theme=stored, source=TEXT_SOURCE, object_id=next(counter)) for _ in range(n)
        )

    assert_constant_queries(
        lambda: client.get(theme_url(stored)), more, small=3, large=30, max_queries=12
    )
