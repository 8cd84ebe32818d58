from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from governance.kpis.models import Indicator, Light, Period, ReportedFigure, Target, period_end

pytestmark = pytest.mark.django_db


def indicator(code: str, **values) -> Indicator:
    values.setdefault("kind", Indicator.Kind.METRIC)
    values.setdefault("metric", code if values["kind"] == Indicator.Kind.METRIC else "")
    return Indicator.objects.create(code=code.replace(".", "-"), name_zh=code, **values)


def target(indicator: Indicator, *, green: float, amber: float, **values) -> Target:
    values.setdefault("period", Period.MONTH)
    values.setdefault("period_start", dt.date(2026, 1, 1))
    return Target(indicator=indicator, green=green, amber=amber, **values)


def test_target_refuses_green_below_amber_when_higher_is_better():
    visits = indicator("stations.visits")
    with pytest.raises(ValidationError) as error:
        target(visits, green=80, amber=90).full_clean()
    assert "越高越好" in str(error.value.message_dict["green"])
    target(visits, green=90, amber=80).full_clean()


def test_target_refuses_green_above_amber_when_lower_is_better():
    wait = indicator("stations.wait_median")
    with pytest.raises(ValidationError) as error:
        target(wait, green=20, amber=10).full_clean()
    assert "越低越好" in str(error.value.message_dict["green"])
    with pytest.raises(ValidationError):
        target(wait, green=10, amber=10).full_clean()
    target(wait, green=10, amber=20).full_clean()


def test_reported_indicator_direction_decides_the_threshold_order():
    complaints = indicator(
        "mall-complaints", kind=Indicator.Kind.REPORTED, unit="件", higher_is_better=False
    )
    with pytest.raises(ValidationError, match="越低越好"):
        target(complaints, green=5, amber=3).full_clean()


def test_target_period_must_start_on_its_first_day():
    visits = indicator("stations.visits")
    with pytest.raises(ValidationError) as error:
        target(
            visits, green=2, amber=1, period=Period.QUARTER, period_start=dt.date(2026, 2, 1)
        ).full_clean()
    assert "period_start" in error.value.message_dict


def test_target_lights():
    wait = target(indicator("stations.wait_median"), green=10, amber=20)
    assert [wait.light(v) for v in (5, 10, 15, 20, 25)] == [
        Light.GREEN, Light.GREEN, Light.AMBER, Light.AMBER, Light.RED,
    ]  # fmt: skip
    share = target(indicator("stations.self_service"), green=40, amber=30)
    assert [share.light(v) for v in (50, 35, 10, None)] == [
        Light.GREEN, Light.AMBER, Light.RED, None,
    ]  # fmt: skip


def test_indicator_needs_a_registered_metric():
    with pytest.raises(ValidationError) as error:
        Indicator(
            code="x", kind=Indicator.Kind.METRIC, metric="stations.nothing", name_zh="x"
        ).full_clean(exclude=["owners"])
    assert "metric" in error.value.message_dict


def test_period_end():
    assert period_end(Period.MONTH, dt.date(2026, 2, 1)) == dt.date(2026, 2, 28)
    assert period_end(Period.QUARTER, dt.date(2026, 10, 1)) == dt.date(2026, 12, 31)
    assert period_end(Period.YEAR, dt.date(2026, 1, 1)) == dt.date(2026, 12, 31)


def test_only_approved_figures_of_started_periods_are_shown(partner):
    footfall = indicator("mall-footfall", kind=Indicator.Kind.REPORTED, unit="人次")
    common = {"indicator": footfall, "period": Period.MONTH, "reported_by": partner}
    pending = ReportedFigure.objects.create(period_start=dt.date(2026, 1, 1), value=1, **common)
    approved = ReportedFigure.objects.create(
        period_start=dt.date(2026, 2, 1),
        value=2,
        status=ReportedFigure.Status.APPROVED,
        reviewed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        **common,
    )
    future = ReportedFigure.objects.create(
        period_start=dt.date(2026, 4, 1),
        value=3,
        status=ReportedFigure.Status.APPROVED,
        reviewed_at=dt.datetime(2026, 3, 1, tzinfo=dt.UTC),
        **common,
    )
    shown = set(ReportedFigure.objects.shown(dt.date(2026, 3, 15)))
    assert shown == {approved}
    assert pending not in shown
    assert future not in shown


def test_reported_figure_refuses_a_computed_indicator(partner):
    figure = ReportedFigure(
        indicator=indicator("stations.visits"),
        period=Period.MONTH,
        period_start=dt.date(2026, 1, 1),
        value=1,
        reported_by=partner,
    )
    with pytest.raises(ValidationError) as error:
        figure.full_clean()
    assert "indicator" in error.value.message_dict
