"""Red-light alerts: a KPI that turns red for its period tells its acting owners, once."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail

from governance.kpis import alerts, tasks
from governance.kpis.models import (
    Alert,
    Indicator,
    Measurement,
    Period,
    ReportedFigure,
    Target,
    Visibility,
)
from governance.notifications import registry
from governance.notifications import services as notifications
from governance.notifications.channels import render_line
from governance.notifications.models import Delivery, Mode, Notification
from governance.stakeholders.models import Membership
from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    StationFactory,
    UserFactory,
)

pytestmark = pytest.mark.django_db

MARCH = dt.date(2026, 3, 1)
APRIL = dt.date(2026, 4, 1)
TODAY = dt.date(2026, 3, 10)


@pytest.fixture(autouse=True)
def alert_type(monkeypatch):
    """``kpis.turned_red``, registered for the test when the app has not registered it."""
    try:
        return registry.get("kpis.turned_red")
    except registry.UnknownEventType:
        monkeypatch.setattr(registry, "_by_code", dict(registry._by_code))
        monkeypatch.setattr(registry, "_by_class", dict(registry._by_class))
        alerts.register_event_types()
        return registry.get("kpis.turned_red")


class Owners:
    def __init__(self):
        self.hukou = DepartmentFactory(slug="hukou", name_zh="户政科", name_en="Hukou Office")
        self.mall = PartnerFactory(slug="mall", name_zh="万象城", name_en="The Mixc")
        self.admin = self.member(self.hukou, Membership.Role.ADMIN)
        self.staff = self.member(self.hukou, Membership.Role.STAFF, language="en")
        self.partner_staff = self.member(self.mall, Membership.Role.STAFF)
        self.viewer = self.member(self.hukou, Membership.Role.VIEWER)
        self.inactive = self.member(self.hukou, Membership.Role.STAFF, is_active=False)
        self.outsider = self.member(DepartmentFactory(slug="traffic"), Membership.Role.ADMIN)

    @staticmethod
    def member(organisation, role, **user):
        person = UserFactory(**user)
        MembershipFactory(user=person, organisation=organisation, role=role)
        return person

    @property
    def acting(self) -> set[int]:
        return {self.admin.pk, self.staff.pk, self.partner_staff.pk}


@pytest.fixture
def owners():
    return Owners()


def indicator(owners: Owners, metric: str, **values) -> Indicator:
    made = Indicator.objects.create(
        code=values.pop("code", metric.replace(".", "-")),
        kind=values.pop("kind", Indicator.Kind.METRIC),
        metric=metric,
        name_zh=values.pop("name_zh", "办结达标率"),
        name_en=values.pop("name_en", "Completed within target"),
        **values,
    )
    made.owners.set([owners.hukou, owners.mall])
    return made


def target(kpi: Indicator, *, green: float, amber: float, start=MARCH, **values) -> Target:
    made = Target(
        indicator=kpi,
        period=values.pop("period", Period.MONTH),
        period_start=start,
        green=green,
        amber=amber,
        **values,
    )
    made.full_clean()
    made.save()
    return made


def measured(metric: str, day: dt.date, value: float, weight: float = 10, **values) -> None:
    Measurement.objects.create(metric=metric, day=day, value=value, weight=weight, **values)


def told() -> list[tuple[int, str]]:
    return sorted(
        Notification.objects.filter(event_type="kpis.turned_red").values_list(
            "recipient_id", "payload__period_start"
        )
    )


def test_red_target_tells_the_acting_owners_once(owners):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)

    assert alerts.kpis_check_alerts(today=TODAY) == {"checked": 1, "red": 1, "alerted": 1}

    notifications_ = Notification.objects.filter(event_type="kpis.turned_red")
    assert {n.recipient_id for n in notifications_} == owners.acting
    assert {n.mode for n in notifications_} == {Mode.IMMEDIATE}
    assert Delivery.objects.count() == 3
    payload = notifications_[0].payload
    assert payload["code"] == kpi.code
    assert payload["value"] == 70
    assert payload["amber"] == 80
    assert payload["period_start"] == "2026-03-01"
    assert notifications_[0].url == f"/kpis/{kpi.code}/"
    assert Alert.objects.get().target.indicator == kpi


def test_a_second_check_tells_no_one_again(owners):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)
    alerts.kpis_check_alerts(today=TODAY)

    measured("stations.within_target", dt.date(2026, 3, 9), 60)
    assert alerts.kpis_check_alerts(today=TODAY + dt.timedelta(days=1))["alerted"] == 0
    assert len(told()) == 3
    assert Alert.objects.count() == 1


def test_the_alert_claim_is_unique_per_target(owners):
    kpi = indicator(owners, "stations.within_target")
    goal = target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)
    alerts.kpis_check_alerts(today=TODAY)

    # A concurrent check that measured before the first one committed inserts nothing.
    assert alerts._alert(goal, 70, None) is False
    assert len(told()) == 3


@pytest.mark.parametrize("value", [95, 90, 85, 80])
def test_green_and_amber_tell_no_one(owners, value):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), value)

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 0
    assert told() == []
    assert not Alert.objects.exists()


def test_nothing_measured_tells_no_one(owners):
    target(indicator(owners, "stations.within_target"), green=90, amber=80)

    assert alerts.kpis_check_alerts(today=TODAY)["red"] == 0


@pytest.mark.parametrize(("minutes", "alerted"), [(25, 1), (20, 0), (15, 0), (5, 0)])
def test_lower_is_better_turns_red_above_amber(owners, minutes, alerted):
    kpi = indicator(owners, "stations.wait_median", name_zh="等候时间中位数")
    target(kpi, green=10, amber=20)
    measured("stations.wait_median", dt.date(2026, 3, 3), minutes, weight=4, histogram={minutes: 4})

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == alerted
    assert len(told()) == 3 * alerted


def test_a_count_still_growing_is_judged_when_its_period_ends(owners):
    kpi = indicator(owners, "stations.visits", name_zh="办件量")
    target(kpi, green=1000, amber=500)
    measured("stations.visits", dt.date(2026, 3, 3), 100)

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 0
    assert alerts.kpis_check_alerts(today=APRIL)["alerted"] == 1
    assert len(told()) == 3


def test_a_lower_is_better_count_alerts_as_soon_as_it_passes_amber(owners):
    kpi = indicator(owners, "stations.after_hours", name_zh="非工作时间办件")
    target(kpi, green=10, amber=20)
    measured("stations.after_hours", dt.date(2026, 3, 3), 25)

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 1


def test_a_new_period_alerts_again(owners):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    target(kpi, green=90, amber=80, start=APRIL)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)
    measured("stations.within_target", dt.date(2026, 4, 2), 60)

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 1
    assert alerts.kpis_check_alerts(today=dt.date(2026, 4, 5))["alerted"] == 1
    assert alerts.kpis_check_alerts(today=dt.date(2026, 4, 6))["alerted"] == 0
    periods = [period for _user, period in told()]
    assert sorted(set(periods)) == ["2026-03-01", "2026-04-01"]
    assert len(periods) == 6


def test_periods_long_over_or_to_come_are_not_checked(owners):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80, start=dt.date(2026, 1, 1))
    target(kpi, green=90, amber=80, start=APRIL)
    measured("stations.within_target", dt.date(2026, 1, 2), 70)
    measured("stations.within_target", dt.date(2026, 4, 2), 70)

    assert alerts.kpis_check_alerts(today=TODAY) == {"checked": 0, "red": 0, "alerted": 0}


def test_targets_are_judged_in_their_own_scope(owners):
    station = StationFactory(slug="mall-station")
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    target(kpi, green=90, amber=80, station=station)
    measured("stations.within_target", dt.date(2026, 3, 2), 95)
    measured("stations.within_target", dt.date(2026, 3, 2), 50, station=station)

    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 1
    (payload,) = {
        (n.payload["scope_zh"], n.payload["scope_en"]) for n in Notification.objects.all()
    }
    assert payload == (station.name_zh, station.name_en)


def test_inactive_indicators_are_not_checked(owners):
    kpi = indicator(owners, "stations.within_target", is_active=False)
    target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)

    assert alerts.kpis_check_alerts(today=TODAY)["checked"] == 0


def test_reported_figures_count_once_approved(owners):
    kpi = indicator(
        owners,
        "",
        code="mall-footfall",
        kind=Indicator.Kind.REPORTED,
        name_zh="商场客流",
        unit="人次",
        visibility=Visibility.OWNERS,
    )
    target(kpi, green=10000, amber=8000)
    figure = ReportedFigure.objects.create(
        indicator=kpi,
        period=Period.MONTH,
        period_start=MARCH,
        value=5000,
        reported_by=owners.mall,
    )
    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 0

    figure.status = ReportedFigure.Status.APPROVED
    figure.reviewed_at = figure.created_at
    figure.save(update_fields=["status", "reviewed_at"])
    assert alerts.kpis_check_alerts(today=TODAY)["alerted"] == 1
    notification = Notification.objects.first()
    assert notification.payload["unit"] == "人次"
    # The KPI's page: its owners see it whatever the visibility.
    assert notification.url == "/kpis/mall-footfall/"


def test_the_email_reads_in_each_recipients_language(owners, settings):
    settings.SITE_URL = "http://127.0.0.1:8000"
    kpi = indicator(owners, "stations.wait_median", name_zh="等候时间中位数", name_en="Median wait")
    target(kpi, green=10, amber=20)
    measured("stations.wait_median", dt.date(2026, 3, 3), 25, weight=4, histogram={25: 4})
    alerts.kpis_check_alerts(today=TODAY)

    outcome = notifications.deliveries_send(Delivery.objects.values_list("pk", flat=True))
    assert outcome["sent"] == 3, outcome
    by_recipient = {message.to[0]: message for message in mail.outbox}
    chinese = by_recipient[owners.admin.email]
    english = by_recipient[owners.staff.email]
    assert "等候时间中位数" in chinese.subject
    assert "Median wait" in english.subject
    assert "Median wait" not in chinese.body
    for message in (chinese, english):
        assert "25" in message.body
        assert "2026-03-01" in message.body
        ((html, _type),) = message.alternatives
        assert "2026-03-31" in html
    assert "分钟" in chinese.body
    assert "全平台" in chinese.body
    assert f"/kpis/{kpi.code}/" in chinese.body


def test_the_inbox_line_names_the_kpi(owners):
    kpi = indicator(owners, "stations.within_target")
    target(kpi, green=90, amber=80)
    measured("stations.within_target", dt.date(2026, 3, 2), 70)
    alerts.kpis_check_alerts(today=TODAY)

    notification = Notification.objects.first()
    assert "办结达标率" in render_line(notification, "zh-hans")
    assert "Completed within target" in render_line(notification, "en")


def test_the_task_checks_today(owners):
    assert tasks.check_alerts() == {"checked": 0, "red": 0, "alerted": 0}
