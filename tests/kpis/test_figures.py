"""Targets and reported figures: who may set and report them, who approves, and who is told."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from governance.kpis import queries, services
from governance.kpis.models import Indicator, Period, ReportedFigure, Target
from governance.kpis.registry import Scope
from governance.notifications.channels import render_line, render_notification
from governance.notifications.models import Notification
from governance.stakeholders.models import Membership
from tests.factories import MembershipFactory, StationFactory, UserFactory
from tests.kpis.factories import indicator

pytestmark = pytest.mark.django_db

JAN = dt.date(2026, 1, 1)
FEB = dt.date(2026, 2, 1)
MARCH = dt.date(2026, 3, 1)
TODAY = dt.date(2026, 2, 10)


@pytest.fixture
def visits(department, partner):
    """A computed KPI (higher is better) owned by hukou and the mall."""
    return indicator("visits", owners=[department, partner])


@pytest.fixture
def wait(department, partner):
    """A computed KPI where lower is better."""
    return indicator("wait-median", metric="stations.wait_median", owners=[department, partner])


@pytest.fixture
def footfall(department, partner):
    """A reported KPI the mall and hukou own together."""
    return indicator(
        "footfall", kind=Indicator.Kind.REPORTED, unit="人次", owners=[department, partner]
    )


@pytest.fixture
def hukou_count(department):
    """A reported KPI hukou owns alone."""
    return indicator("hukou-count", kind=Indicator.Kind.REPORTED, unit="件", owners=[department])


def told(code: str) -> set[int]:
    return set(Notification.objects.filter(event_type=code).values_list("recipient_id", flat=True))


def set_target(actor, organisation, kpi, *, green=100.0, amber=80.0, **values):
    return services.target_set(
        actor=actor,
        organisation=organisation,
        indicator=kpi,
        period=values.pop("period", Period.MONTH),
        period_start=values.pop("period_start", FEB),
        scope=values.pop("scope", Scope()),
        green=green,
        amber=amber,
    )


def submit(actor, organisation, kpi, *, value=1200.0, period_start=JAN, today=TODAY, **values):
    return services.reported_figure_submit(
        actor=actor,
        organisation=organisation,
        indicator=kpi,
        period=values.pop("period", Period.MONTH),
        period_start=period_start,
        scope=values.pop("scope", Scope()),
        value=value,
        today=today,
    )


def review(actor, organisation, figure, *, approve=True, note=""):
    return services.reported_figure_review(
        actor=actor, organisation=organisation, figure=figure, approve=approve, note=note
    )


# target_set -------------------------------------------------------------------------------------


def test_an_owners_admin_sets_a_target(visits, department, department_admin):
    target = set_target(department_admin, department, visits, green=120, amber=90)

    stored = Target.objects.get()
    assert stored.pk == target.pk
    assert (stored.green, stored.amber, stored.period_start) == (120, 90, FEB)
    assert stored.set_by == department_admin
    assert stored.scope == Scope()


def test_the_partner_owners_admin_sets_a_target_too(visits, partner, partner_admin):
    set_target(partner_admin, partner, visits)

    assert Target.objects.get().set_by == partner_admin


@pytest.mark.parametrize("role", ["department_staff", "department_viewer"])
def test_staff_and_viewers_of_an_owner_may_not_set_targets(request, visits, department, role):
    with pytest.raises(PermissionDenied):
        set_target(request.getfixturevalue(role), department, visits)

    assert not Target.objects.exists()


def test_an_admin_of_a_non_owner_may_not_set_targets(visits, other_partner, other_partner_admin):
    with pytest.raises(PermissionDenied, match="共有方"):
        set_target(other_partner_admin, other_partner, visits)

    assert not Target.objects.exists()


def test_an_admin_may_not_act_for_a_co_owner_they_do_not_sit_in(visits, partner, department_admin):
    with pytest.raises(PermissionDenied):
        set_target(department_admin, partner, visits)

    assert not Target.objects.exists()


def test_a_superuser_may_act_for_any_owner(visits, partner, superuser):
    set_target(superuser, partner, visits)

    assert Target.objects.get().set_by == superuser


def test_thresholds_in_the_wrong_order_name_the_higher_is_better_rule(
    visits, department, department_admin
):
    with pytest.raises(ValidationError) as raised:
        set_target(department_admin, department, visits, green=80, amber=100)

    assert "绿灯阈值必须高于黄灯阈值" in str(raised.value.message_dict["green"])
    assert not Target.objects.exists()
    assert not told("kpis.target_set")


def test_thresholds_in_the_wrong_order_name_the_lower_is_better_rule(
    wait, department, department_admin
):
    with pytest.raises(ValidationError) as raised:
        set_target(department_admin, department, wait, green=30, amber=20)

    assert "绿灯阈值必须低于黄灯阈值" in str(raised.value.message_dict["green"])
    set_target(department_admin, department, wait, green=20, amber=30)
    assert Target.objects.get().green == 20


def test_equal_thresholds_are_refused(visits, department, department_admin):
    with pytest.raises(ValidationError):
        set_target(department_admin, department, visits, green=90, amber=90)


def test_setting_again_replaces_the_target_and_says_what_it_was(
    visits, department, partner, department_admin, partner_admin, partner_staff
):
    first = set_target(department_admin, department, visits, green=100, amber=80)
    second = set_target(partner_admin, partner, visits, green=130, amber=110)

    assert second.pk == first.pk
    stored = Target.objects.get()
    assert (stored.green, stored.amber, stored.set_by) == (130, 110, partner_admin)
    # The second change is news to hukou's acting members.
    change = Notification.objects.get(event_type="kpis.target_set", recipient=department_admin)
    assert change.payload["previous_green"] == 100
    assert change.payload["previous_amber"] == 80
    assert change.payload["green"] == 130


def test_a_failed_replacement_keeps_the_old_thresholds(visits, department, department_admin):
    set_target(department_admin, department, visits, green=100, amber=80)

    with pytest.raises(ValidationError):
        set_target(department_admin, department, visits, green=70, amber=90)

    stored = Target.objects.get()
    assert (stored.green, stored.amber) == (100, 80)


def test_targets_of_other_periods_and_scopes_are_kept_apart(visits, department, department_admin):
    station = StationFactory()
    set_target(department_admin, department, visits)
    set_target(department_admin, department, visits, period_start=MARCH)
    set_target(department_admin, department, visits, period=Period.QUARTER, period_start=JAN)
    set_target(department_admin, department, visits, scope=Scope(station_id=station.pk))

    assert Target.objects.count() == 4
    assert Target.objects.filter(station=station).get().period_start == FEB


def test_a_scope_the_metric_is_not_cut_by_is_refused(visits, department, partner, department_admin):
    # Visits are counted by station, service and department, never by partner.
    with pytest.raises(ValidationError) as raised:
        set_target(department_admin, department, visits, scope=Scope(partner_id=partner.pk))

    assert "scope" in raised.value.message_dict
    assert not Target.objects.exists()


def test_a_reported_kpi_takes_any_scope(footfall, department, partner, department_admin):
    set_target(department_admin, department, footfall, scope=Scope(partner_id=partner.pk))

    assert Target.objects.get().partner == partner


def test_a_period_start_off_the_periods_first_day_is_refused(visits, department, department_admin):
    with pytest.raises(ValidationError) as raised:
        set_target(
            department_admin,
            department,
            visits,
            period=Period.QUARTER,
            period_start=FEB,
        )

    assert "period_start" in raised.value.message_dict
    assert not Target.objects.exists()


def test_the_other_owners_acting_members_are_told_and_the_setter_is_not(
    visits,
    department,
    department_admin,
    department_staff,
    department_viewer,
    partner_admin,
    partner_staff,
    other_partner_admin,
):
    set_target(department_admin, department, visits)

    assert told("kpis.target_set") == {partner_admin.pk, partner_staff.pk}
    notification = Notification.objects.filter(event_type="kpis.target_set").first()
    assert notification.payload["code"] == "visits"
    assert notification.payload["organisation_zh"] == department.name_zh
    assert notification.url == "/kpis/visits/"


def test_a_setter_who_also_sits_in_the_other_owner_is_not_told(
    visits, department, partner, department_admin, partner_staff
):
    MembershipFactory(user=department_admin, organisation=partner, role=Membership.Role.STAFF)

    set_target(department_admin, department, visits)

    assert told("kpis.target_set") == {partner_staff.pk}


def test_nothing_is_written_when_telling_the_owners_fails(
    monkeypatch, visits, department, department_admin, partner_admin
):
    def broken(event, *, actor=None):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "publish", broken)

    with pytest.raises(RuntimeError):
        set_target(department_admin, department, visits)

    assert not Target.objects.exists()


# reported_figure_submit --------------------------------------------------------------------------


def test_an_owners_staff_reports_a_figure_that_waits_for_approval(footfall, partner, partner_staff):
    figure = submit(partner_staff, partner, footfall, value=15300)

    stored = ReportedFigure.objects.get()
    assert stored.pk == figure.pk
    assert stored.status == ReportedFigure.Status.PENDING
    assert (stored.value, stored.reported_by, stored.entered_by) == (15300, partner, partner_staff)
    assert not ReportedFigure.objects.shown(TODAY).exists()


def test_a_viewer_may_not_report(footfall, department, department_viewer):
    with pytest.raises(PermissionDenied):
        submit(department_viewer, department, footfall)

    assert not ReportedFigure.objects.exists()


def test_a_non_owner_may_not_report(footfall, other_partner, other_partner_admin):
    with pytest.raises(PermissionDenied):
        submit(other_partner_admin, other_partner, footfall)

    assert not ReportedFigure.objects.exists()


def test_a_period_that_has_not_started_is_refused(footfall, partner, partner_staff):
    with pytest.raises(ValidationError) as raised:
        submit(partner_staff, partner, footfall, period_start=MARCH)

    assert "尚未开始" in str(raised.value.message_dict["period_start"])
    assert not ReportedFigure.objects.exists()
    assert not told("kpis.figure_submitted")


def test_the_current_period_may_be_reported(footfall, partner, partner_staff):
    submit(partner_staff, partner, footfall, period_start=FEB)

    assert ReportedFigure.objects.get().period_start == FEB


def test_a_computed_kpi_takes_no_figures(visits, department, department_admin):
    with pytest.raises(ValidationError, match="系统计算"):
        submit(department_admin, department, visits)

    assert not ReportedFigure.objects.exists()


@pytest.mark.parametrize("value", [float("nan"), float("inf"), float("-inf")])
def test_a_non_finite_value_is_refused(footfall, partner, partner_staff, value):
    with pytest.raises(ValidationError) as raised:
        submit(partner_staff, partner, footfall, value=value)

    assert "value" in raised.value.message_dict
    assert not ReportedFigure.objects.exists()


def test_a_pending_figure_may_be_corrected_by_its_reporter(
    footfall, partner, partner_admin, partner_staff
):
    first = submit(partner_staff, partner, footfall, value=1000)
    second = submit(partner_admin, partner, footfall, value=1100)

    assert second.pk == first.pk
    stored = ReportedFigure.objects.get()
    assert (stored.value, stored.entered_by, stored.status) == (
        1100,
        partner_admin,
        ReportedFigure.Status.PENDING,
    )


def test_another_owners_pending_figure_blocks_a_second_report(
    footfall, department, partner, department_staff, partner_staff
):
    submit(partner_staff, partner, footfall, value=1000)

    with pytest.raises(ValidationError) as raised:
        submit(department_staff, department, footfall, value=2000)

    assert partner.name_zh in " ".join(raised.value.messages)
    stored = ReportedFigure.objects.get()
    assert (stored.value, stored.reported_by) == (1000, partner)


def test_an_approved_figure_cannot_be_changed(
    footfall, department, partner, department_admin, partner_staff
):
    figure = submit(partner_staff, partner, footfall, value=1000)
    review(department_admin, department, figure)

    with pytest.raises(ValidationError, match="已审核通过"):
        submit(partner_staff, partner, footfall, value=999)

    stored = ReportedFigure.objects.get()
    assert (stored.value, stored.status) == (1000, ReportedFigure.Status.APPROVED)


def test_a_rejected_figure_is_corrected_and_waits_again(
    footfall, department, partner, department_admin, partner_staff
):
    figure = submit(partner_staff, partner, footfall, value=1000)
    review(department_admin, department, figure, approve=False, note="与闸机计数不符")
    assert ReportedFigure.objects.get().status == ReportedFigure.Status.REJECTED

    corrected = submit(partner_staff, partner, footfall, value=1250)

    assert corrected.pk == figure.pk
    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.PENDING
    assert stored.value == 1250
    assert (stored.reviewed_by, stored.reviewed_at, stored.review_note) == (None, None, "")


def test_the_co_owners_admins_are_asked_to_approve(
    footfall,
    partner,
    partner_admin,
    partner_staff,
    department_admin,
    department_staff,
    department_viewer,
):
    submit(partner_staff, partner, footfall, value=1000)

    assert told("kpis.figure_submitted") == {department_admin.pk}
    notification = Notification.objects.get(event_type="kpis.figure_submitted")
    assert notification.payload["value"] == 1000
    assert notification.payload["reporter_zh"] == partner.name_zh
    assert notification.url == "/kpis/mine/"


def test_a_single_owners_other_admins_are_asked_to_approve(
    hukou_count, department, department_admin, department_staff
):
    second_admin = UserFactory()
    MembershipFactory(user=second_admin, organisation=department, role=Membership.Role.ADMIN)

    submit(department_admin, department, hukou_count)

    # Never the person who entered it.
    assert told("kpis.figure_submitted") == {second_admin.pk}


# reported_figure_review --------------------------------------------------------------------------


@pytest.fixture
def mall_figure(footfall, partner, partner_staff):
    return submit(partner_staff, partner, footfall, value=15300)


def test_the_co_owners_admin_approves_and_the_figure_is_shown(
    mall_figure, footfall, department, department_admin
):
    reviewed = review(department_admin, department, mall_figure, note=" 核对无误 ")

    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.APPROVED
    assert stored.reviewed_by == department_admin
    assert stored.reviewed_at is not None
    assert stored.review_note == "核对无误"
    assert reviewed.status == ReportedFigure.Status.APPROVED
    assert list(ReportedFigure.objects.shown(TODAY)) == [stored]
    values = queries.indicator_values(footfall, kind=Period.MONTH, first=JAN, last=FEB, today=TODAY)
    assert [(row.start, row.value) for row in values] == [(JAN, 15300), (FEB, None)]


def test_a_pending_figure_is_not_in_the_values(mall_figure, footfall):
    values = queries.indicator_values(footfall, kind=Period.MONTH, first=JAN, last=JAN, today=TODAY)

    assert values[0].value is None


def test_the_reporting_owners_admin_may_not_approve_when_there_is_another_owner(
    mall_figure, partner, partner_admin
):
    with pytest.raises(PermissionDenied, match="另一共有方"):
        review(partner_admin, partner, mall_figure)

    assert ReportedFigure.objects.get().status == ReportedFigure.Status.PENDING
    assert not told("kpis.figure_reviewed")


def test_a_co_owners_staff_may_not_approve(mall_figure, department, department_staff):
    with pytest.raises(PermissionDenied):
        review(department_staff, department, mall_figure)

    assert ReportedFigure.objects.get().status == ReportedFigure.Status.PENDING


def test_a_non_owners_admin_may_not_approve(mall_figure, other_partner, other_partner_admin):
    with pytest.raises(PermissionDenied):
        review(other_partner_admin, other_partner, mall_figure)

    assert ReportedFigure.objects.get().status == ReportedFigure.Status.PENDING


def test_an_admin_of_both_owners_approves_for_the_other_one_only(
    mall_figure, department, partner, partner_admin
):
    MembershipFactory(user=partner_admin, organisation=department, role=Membership.Role.ADMIN)

    with pytest.raises(PermissionDenied):
        review(partner_admin, partner, mall_figure)
    review(partner_admin, department, mall_figure)

    assert ReportedFigure.objects.get().status == ReportedFigure.Status.APPROVED


def test_a_single_owners_other_admin_approves_but_not_the_enterer(
    hukou_count, department, department_admin, department_staff
):
    second_admin = UserFactory()
    MembershipFactory(user=second_admin, organisation=department, role=Membership.Role.ADMIN)
    figure = submit(department_admin, department, hukou_count)

    with pytest.raises(PermissionDenied):
        review(department_admin, department, figure)
    assert ReportedFigure.objects.get().status == ReportedFigure.Status.PENDING

    review(second_admin, department, figure)
    assert ReportedFigure.objects.get().status == ReportedFigure.Status.APPROVED


def test_a_single_owners_admin_approves_what_its_staff_entered(
    hukou_count, department, department_admin, department_staff
):
    figure = submit(department_staff, department, hukou_count)

    review(department_admin, department, figure)

    assert ReportedFigure.objects.get().status == ReportedFigure.Status.APPROVED


def test_sending_back_needs_a_note(mall_figure, department, department_admin):
    for note in ("", "   "):
        with pytest.raises(ValidationError) as raised:
            review(department_admin, department, mall_figure, approve=False, note=note)
        assert "note" in raised.value.message_dict

    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.PENDING
    assert stored.reviewed_at is None
    assert not told("kpis.figure_reviewed")


def test_sending_back_keeps_the_figure_hidden(mall_figure, footfall, department, department_admin):
    review(department_admin, department, mall_figure, approve=False, note="请附闸机报表")

    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.REJECTED
    assert stored.review_note == "请附闸机报表"
    assert not ReportedFigure.objects.shown(TODAY).exists()


def test_a_figure_is_reviewed_once(mall_figure, department, department_admin):
    review(department_admin, department, mall_figure)

    with pytest.raises(ValidationError, match="已经审核过"):
        review(department_admin, department, mall_figure, approve=False, note="改主意了")

    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.APPROVED
    assert stored.review_note == ""
    assert Notification.objects.filter(event_type="kpis.figure_reviewed").count() == 1


def test_a_stale_copy_of_the_figure_cannot_be_reviewed_twice(
    mall_figure, department, department_admin
):
    stale = ReportedFigure.objects.get(pk=mall_figure.pk)
    review(department_admin, department, mall_figure)

    with pytest.raises(ValidationError):
        review(department_admin, department, stale)


@pytest.mark.parametrize("approve", [True, False])
def test_the_enterer_is_told_of_the_review(
    mall_figure, department, department_admin, partner_admin, partner_staff, approve
):
    review(department_admin, department, mall_figure, approve=approve, note="说明")

    assert told("kpis.figure_reviewed") == {partner_staff.pk}
    payload = Notification.objects.get(event_type="kpis.figure_reviewed").payload
    assert payload["approved"] is approve
    assert payload["note"] == "说明"
    assert payload["reviewer_zh"] == department.name_zh


def test_nothing_is_written_when_telling_the_enterer_fails(
    monkeypatch, mall_figure, department, department_admin
):
    def broken(event, *, actor=None):
        raise RuntimeError("outbox unavailable")

    monkeypatch.setattr(services, "publish", broken)

    with pytest.raises(RuntimeError):
        review(department_admin, department, mall_figure)

    stored = ReportedFigure.objects.get()
    assert stored.status == ReportedFigure.Status.PENDING
    assert stored.reviewed_by is None


# What the people told read ------------------------------------------------------------------------


def test_each_notification_renders_its_line_and_email_in_chinese(
    footfall, department, partner, department_admin, partner_admin, partner_staff
):
    set_target(partner_admin, partner, footfall, green=20000, amber=15000)
    figure = submit(partner_staff, partner, footfall, value=15300)
    review(department_admin, department, figure, approve=False, note="请附闸机报表")
    expected = {
        "kpis.target_set": "共有指标的目标有变：指标 footfall",
        "kpis.figure_submitted": "有填报数据待审核：指标 footfall",
        "kpis.figure_reviewed": "填报数据被退回：指标 footfall",
    }

    for code, title in expected.items():
        notification = Notification.objects.filter(event_type=code).first()
        assert notification is not None, code
        assert title in render_line(notification, "zh-hans")
        message = render_notification(notification, notification.recipient)
        assert title in message.subject
