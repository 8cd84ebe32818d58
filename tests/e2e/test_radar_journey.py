"""The needs radar end to end (issue 10, item 8), on a phone: the exit-entry department's admin
signs in and opens the radar; the station's heatmap names its peak, Saturday afternoon at
exit-entry; among the themes people raise, "周末办证" (getting documents at the weekend) is
rising; the admin follows it to the theme's page and from there to a proposal asking for
weekend hours.

The journey builds its own month: visits with a Saturday-afternoon queue at exit-entry and a
quiet weekday at the household counter, five proposals about weekend hours last month and one
in the months before, all through the proposals' services; then ``compute`` runs as the
periodic task would, and the pages read only what it stored.
"""

from __future__ import annotations

import calendar
import datetime as dt

import pytest

from governance.core import clock
from governance.notifications.services import muted
from governance.proposals import services as proposals
from governance.proposals.models import Category, Proposal, Scope
from governance.radar.compute import TZ, add_months, compute, current_month
from governance.radar.models import Run, Theme
from tests.e2e.test_notification_journeys import sign_in
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    ServiceFactory,
    StationFactory,
    UserFactory,
    VisitFactory,
)

pytestmark = pytest.mark.e2e

SATURDAY = 5
TUESDAY = 1
WEEKEND_HOURS = "建议周末开放出入境办证窗口"
# (title, body): what people wrote last month; every one asks to get documents at the weekend.
THIS_MONTH = (
    (WEEKEND_HOURS, "上班族只有周末有空，希望周末办证窗口周六周日都开放到晚上。"),
    ("周末办证排队太久", "周六下午来办护照，周末办证的人太多，等了一个小时。"),
    ("能否增加周末办证窗口", "周末办证只有一个窗口，建议周末增开窗口。"),
    ("周末办证预约难", "想预约周末办证，总是约不到，希望多放号。"),
    ("学生暑假后周末办证", "学生平时上课，只能周末办证，希望周末也能办港澳通行证。"),
)
EARLIER = (
    ("周末办证咨询", "请问周末办证几点开门？"),
    ("周末办证时间", "周末办证是不是只到中午？"),
)


def saturdays(month: dt.date) -> list[int]:
    days = calendar.monthrange(month.year, month.month)[1]
    return [day for day in range(1, days + 1) if month.replace(day=day).weekday() == SATURDAY]


def weekdays(month: dt.date, weekday: int) -> list[int]:
    days = calendar.monthrange(month.year, month.month)[1]
    return [day for day in range(1, days + 1) if month.replace(day=day).weekday() == weekday]


def at(month: dt.date, day: int, hour: int, minute: int) -> dt.datetime:
    return dt.datetime(month.year, month.month, day, hour, minute, tzinfo=TZ)


def queue_visits(station, service, month, days, hour, *, people: int, wait: int) -> None:
    """``people`` visits arriving through ``hour`` on each of ``days``, each called after
    ``wait`` minutes."""
    for day in days:
        for number in range(people):
            arrived = at(month, day, hour, number * 60 // people)
            called = arrived + dt.timedelta(minutes=wait)
            VisitFactory(
                station=station,
                service=service,
                arrived_at=arrived,
                called_at=called,
                finished_at=called + dt.timedelta(minutes=10),
            )


def publish(author, category, service, station, month, texts) -> list[Proposal]:
    """Publish ``texts`` on the 10th, 11th … of ``month``, as their authors did then."""
    published = []
    for offset, (title, body) in enumerate(texts):
        when = at(month, 10 + offset, 11, 0)
        with clock.replaying(lambda when=when: when), muted():
            published.append(
                proposals.proposal_create(
                    actor=author,
                    title=title,
                    body=body,
                    category=category,
                    scope=Scope.SERVICE,
                    station=station,
                    service=service,
                    publish_now=True,
                )
            )
    return published


@pytest.fixture
def radar_world(transactional_db):
    month = add_months(current_month(), -1)  # last month: every Saturday of it has passed
    exit_entry = DepartmentFactory(slug="exit-entry", name_zh="出入境管理大队")
    hukou = DepartmentFactory(slug="hukou", name_zh="户政管理大队")
    DepartmentFactory(slug="triage", name_zh="综合受理窗口")
    mall = PartnerFactory(slug="mall", name_zh="成都万象城")
    station = StationFactory(
        slug="chenghua-mixc",
        name_zh="成华区万象城智慧警务服务站",
        host=mall,
        departments=[exit_entry, hukou],
    )
    passports = ServiceFactory(
        department=exit_entry,
        service_code="EE-PASSPORT",
        name_zh="出入境证件办理",
        stations=[station],
    )
    registration = ServiceFactory(
        department=hukou, service_code="HK-REG", name_zh="户籍业务", stations=[station]
    )
    admin = UserFactory(email="exit.admin@example.com", display_name="赵科长")
    MembershipFactory(user=admin, organisation=exit_entry, role="admin")
    citizen = UserFactory(email="xiaoli@example.com", display_name="小李")
    category = Category.objects.create(
        slug="opening-hours", name_zh="开放时间", name_en="Opening hours"
    )

    # Saturday afternoons: twelve people an hour at exit-entry, each waiting 45 minutes; a few
    # at the household counter too. Saturday mornings and Tuesdays are calm.
    queue_visits(station, passports, month, saturdays(month), 14, people=12, wait=45)
    queue_visits(station, registration, month, saturdays(month), 14, people=2, wait=10)
    queue_visits(station, passports, month, saturdays(month), 10, people=3, wait=5)
    queue_visits(station, registration, month, weekdays(month, TUESDAY), 10, people=4, wait=6)
    # The month before, Saturday afternoons were quieter: four people an hour, 15 minutes each.
    before = add_months(month, -1)
    queue_visits(station, passports, before, saturdays(before), 14, people=4, wait=15)

    texts = publish(citizen, category, passports, station, month, THIS_MONTH)
    publish(citizen, category, passports, station, add_months(month, -2), EARLIER)

    runs = compute(month)
    assert runs[-1].month == month
    assert runs[-1].status == Run.Status.DONE
    return {"month": month, "admin": admin, "weekend_hours": texts[0], "station": station}


def test_department_admin_follows_the_saturday_queue_and_the_rising_theme_to_a_proposal(
    journey, radar_world
):
    page = journey.page
    month = radar_world["month"]

    # 1. Signed in, the admin opens the radar from the navigation.
    sign_in(journey, radar_world["admin"].email)
    with page.expect_navigation():
        page.get_by_role("navigation", name="主导航").get_by_role("link", name="需求雷达").click()
    assert page.url.endswith("/radar/")
    # The defaults: the only station, the latest month computed.
    assert page.get_by_label("站点", exact=True).input_value() == "chenghua-mixc"
    assert page.get_by_label("月份", exact=True).input_value() == f"{month:%Y-%m}"
    journey.look("radar-overview")

    # 2. The heatmap's first peak: Saturday 14:00–15:00, driven by exit-entry. Each Saturday,
    # the exit-entry tickets of 14:00, 14:05 … 14:55 wait 45 minutes, of which 45, 45, 45, 45,
    # 40, 35 … 5 fall before 15:00 (360 minutes), and the two household tickets 10 each: 380
    # minutes of waiting in the hour, 6.3 people on average. The waits of the hour's tickets:
    # (12 × 45 + 2 × 10) / 14 = 40 minutes on average.
    peaks = page.locator(".radar-peak")
    peak = peaks.first.inner_text()
    assert peak.startswith("星期六 14:00–15:00：平均排队 6.3 人，平均等候 40 分钟")
    assert "主要是 出入境证件办理（占等候的 95%）、户籍业务（占等候的 5%）" in peak
    saturday = page.locator('td.heat[data-weekday="5"][data-hour="14"]')
    assert "heat-5" in saturday.get_attribute("class")
    assert saturday.locator(".heat-queue").inner_text().startswith("6.3")
    # The exit-entry waits run on into 15:00: the other 180 minutes, 3.0 people on average,
    # in an hour when nobody took a ticket. Its shade: ⌈5 × 3.0 / 6.33⌉ = 3.
    after = peaks.nth(1).inner_text()
    assert after.startswith("星期六 15:00–16:00：平均排队 3.0 人")
    assert "出入境证件办理（占等候的 100%）" in after
    assert page.locator('table:has(#heat-caption) th:text-is("15:00")').count() == 1
    spill = page.locator('td.heat[data-weekday="5"][data-hour="15"]')
    assert "heat-3" in spill.get_attribute("class")
    drivers = page.locator("table.radar-services tbody tr").first.inner_text()
    assert "出入境证件办理" in drivers

    # 3. The rising theme: more texts this month than in the three before.
    theme = Theme.objects.get(month=month, station=radar_world["station"], term="周末办证")
    assert theme.count == len(THIS_MONTH)
    row = page.locator(f'tr[data-theme="{theme.pk}"]')
    assert row.is_visible()
    # Five texts now against two in the three months before (0.7 a month): five-fold.
    assert "5.0 倍" in row.inner_text()
    with page.expect_navigation():
        row.get_by_role("link", name="周末办证").click()
    assert page.url.endswith(f"/radar/themes/{theme.pk}/")
    assert page.get_by_role("heading", name="诉求主题：周末办证").is_visible()
    items = page.locator(".radar-item")
    assert items.count() == len(THIS_MONTH)
    journey.look("radar-theme")

    # 4. From the theme to the proposal asking for weekend hours.
    proposal = radar_world["weekend_hours"]
    with page.expect_navigation():
        page.get_by_role("link", name=WEEKEND_HOURS).click()
    assert page.url.endswith(f"/proposals/{proposal.pk}/")
    assert page.get_by_role("heading", level=1).inner_text() == WEEKEND_HOURS
    journey.look("weekend-hours-proposal")

    # 5. Back on the radar, the month compared with the one before: the Saturday queue grew
    # by 5.3 people (6.3 against 1.0: four 15-minute waits an hour, all within it).
    before = add_months(month, -1)
    journey.goto(f"/radar/?month={month:%Y-%m}&compare={before:%Y-%m}")
    assert page.get_by_role("heading", name=f"{month:%Y-%m} 与 {before:%Y-%m} 对比").is_visible()
    grew = page.locator('td.delta[data-weekday="5"][data-hour="14"]')
    assert grew.inner_text() == "+5.3"
    assert "delta-up" in grew.get_attribute("class")
    journey.look("radar-compare")

    # 6. A month never computed says so; a station that does not exist is a form error.
    never = add_months(month, -12)
    journey.goto(f"/radar/?month={never:%Y-%m}")
    assert page.get_by_text(f"{never:%Y-%m} 还没有计算结果，下面各部分都没有数据。").is_visible()
    journey.look("radar-never-computed")
    response = journey.goto("/radar/?station=nowhere")
    assert response.status == 400
    assert page.get_by_role("alert").first.inner_text().startswith("选择一个有效的选项")
    journey.look("radar-bad-station")
