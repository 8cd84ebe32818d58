"""A shared KPI end to end: the department sets a monthly target, the mall reports its footfall,
the department approves it, and the public dashboard shows the card amber; on the KPI's page
the chart draws the same numbers as the table beside it."""

from __future__ import annotations

import pytest

from governance.kpis import queries
from governance.kpis.models import Indicator, Period, ReportedFigure, Target, Visibility
from tests.e2e.test_account_journeys import field
from tests.e2e.test_notification_journeys import sign_in
from tests.factories import DepartmentFactory, MembershipFactory, PartnerFactory, UserFactory

pytestmark = pytest.mark.e2e


def sign_out(journey):
    with journey.page.expect_navigation():
        journey.page.get_by_role("button", name="退出").click()


def test_target_figure_approval_and_the_public_card(journey):
    hukou = DepartmentFactory(slug="hukou", name_zh="户政大队", name_en="Household Brigade")
    mall = PartnerFactory(slug="mall", name_zh="成都万象城", name_en="The Mixc Chengdu")
    department_admin = UserFactory(email="hukou.admin@example.com", display_name="王科长")
    MembershipFactory(user=department_admin, organisation=hukou, role="admin")
    mall_staff = UserFactory(email="mall.staff@example.com", display_name="李店长")
    MembershipFactory(user=mall_staff, organisation=mall, role="staff")
    footfall = Indicator.objects.create(
        code="mall-footfall",
        kind=Indicator.Kind.REPORTED,
        name_zh="商场月客流量",
        name_en="Monthly footfall at the mall",
        description_zh="万象城当月进场客流人次。",
        unit="人次",
        higher_is_better=True,
        visibility=Visibility.PUBLIC,
    )
    footfall.owners.set([hukou, mall])
    month = queries.last_complete(Period.MONTH, queries.local_today())
    page = journey.page

    # 1. The department admin sets last month's target from the department's KPI page.
    sign_in(journey, department_admin.email, next_path="/kpis/mine/")
    assert page.url.endswith("/kpis/org/hukou/")
    journey.look("department-kpis")
    with page.expect_navigation():
        page.get_by_role("link", name="设定目标").click()
    field(page, "周期").select_option("month")
    field(page, "周期内任一天").fill(month.isoformat())
    # Wrong order first: the form names the rule.
    field(page, "绿灯阈值").fill("1200000")
    field(page, "黄灯阈值").fill("1300000")
    with page.expect_navigation():
        page.get_by_role("button", name="保存目标").click()
    assert page.get_by_text("该指标越高越好：绿灯阈值必须高于黄灯阈值。").is_visible()
    journey.look("target-refused")
    field(page, "绿灯阈值").fill("1400000")
    field(page, "黄灯阈值").fill("1250000")
    with page.expect_navigation():
        page.get_by_role("button", name="保存目标").click()
    assert page.url.endswith("/kpis/mall-footfall/")
    assert page.get_by_text("目标已保存").is_visible()
    target = Target.objects.get(indicator=footfall)
    assert (target.period_start, target.green, target.amber) == (month, 1_400_000, 1_250_000)
    assert target.set_by == department_admin
    sign_out(journey)

    # 2. The mall's staff reports the footfall; it is not public yet.
    sign_in(journey, mall_staff.email, next_path="/kpis/mine/")
    assert page.url.endswith("/kpis/org/mall/")
    with page.expect_navigation():
        page.get_by_role("link", name="填报数据").click()
    field(page, "周期内任一天").fill(month.isoformat())
    field(page, "数值").fill("1310000")
    journey.look("report-figure")
    with page.expect_navigation():
        page.get_by_role("button", name="提交审核").click()
    assert page.get_by_text("数据已提交，待另一共有方审核后公布。").is_visible()
    figure = ReportedFigure.objects.get(indicator=footfall)
    assert figure.status == ReportedFigure.Status.PENDING
    sign_out(journey)
    journey.goto("/kpis/")
    card = page.locator('[data-kpi="mall-footfall"]')
    assert card.locator(".kpi-actual").inner_text() == "—"

    # 3. The department approves it.
    sign_in(journey, department_admin.email, next_path="/kpis/org/hukou/")
    waiting = page.locator(f'[data-figure="{figure.pk}"]')
    assert "1,310,000" in waiting.inner_text()
    journey.look("figure-waiting")
    waiting.get_by_label("通过").check()
    with page.expect_navigation():
        waiting.get_by_role("button", name="提交审核").click()
    assert page.get_by_text("已通过，数据已公布。").is_visible()
    figure.refresh_from_db()
    assert figure.status == ReportedFigure.Status.APPROVED
    assert figure.reviewed_by == department_admin
    sign_out(journey)

    # 4. The public dashboard, on a phone: the card is amber, with its words as well as colour.
    journey.goto("/kpis/")
    card = page.locator('[data-kpi="mall-footfall"]')
    assert card.locator(".light-badge").get_attribute("data-light") == "amber"
    assert card.locator(".light-badge").inner_text() == "黄灯"
    assert "1,310,000" in card.locator(".kpi-actual").inner_text()
    journey.look("public-dashboard")

    # 5. The KPI's page: the chart draws exactly the numbers in the table.
    with page.expect_navigation():
        card.get_by_role("link", name="商场月客流量").click()
    page.wait_for_function(
        "() => window.Chart && Chart.getChart(document.querySelector('.kpi-chart'))"
    )
    drawn = page.evaluate(
        """() => {
            const chart = Chart.getChart(document.querySelector('.kpi-chart'));
            return chart.data.datasets.map(set => set.data);
        }"""
    )
    rows = page.locator("table.kpi-values tbody tr")
    periods = [rows.nth(index).get_attribute("data-period") for index in range(rows.count())]
    assert len(drawn[0]) == len(periods) == 12
    position = periods.index(month.isoformat())
    assert drawn[0][position] == 1_310_000
    assert drawn[1][position] == 1_400_000
    assert drawn[2][position] == 1_250_000
    row = rows.nth(position)
    assert "1,310,000" in row.locator("td").nth(0).inner_text()
    assert "1,400,000" in row.locator("td").nth(1).inner_text()
    assert "1,250,000" in row.locator("td").nth(2).inner_text()
    assert row.locator(".light-badge").inner_text() == "黄灯"
    # Every other period: no value drawn, none in the table.
    for index, value in enumerate(drawn[0]):
        if index != position:
            assert value is None
            assert rows.nth(index).locator("td").nth(0).inner_text() == "—"
    journey.look("kpi-page")
