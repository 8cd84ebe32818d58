"""The published figures of the feedback wing: registered with the KPI registry, computed from
ratings, visits and rectification cases made through the services, one query each, exact per
day and per station, service, department and partner; upheld appeals left out, hidden text
counted; and rolled up over a range."""

from __future__ import annotations

import datetime as dt

import pytest

from feedback import metrics, services, tokens
from feedback.models import Feedback, Kind
from governance.cases import services as case_services
from governance.cases.models import Status
from governance.kpis import registry
from governance.kpis.registry import Combine, Dimension, Scope
from governance.kpis.services import kpis_backfill, measure
from tests.cases.factories import RoutingRuleFactory
from tests.feedback.fixtures import at

pytestmark = pytest.mark.django_db

D1, D2, D3, D5, D6 = (dt.date(2026, 11, day) for day in (2, 3, 4, 5, 6))


def values(rows, day: dt.date) -> dict[Scope, float]:
    return {row.scope: round(row.value, 4) for row in rows if row.day == day}


def weights(rows, day: dt.date) -> dict[Scope, float]:
    return {row.scope: row.weight for row in rows if row.day == day}


@pytest.fixture
def world(
    station,
    service,
    other_service,
    routing,
    make_visit,
    department,
    other_department,
    partner,
    department_staff,
    department_admin,
    other_department_staff,
    superuser,
):
    """Monday 2 November 2026 at the mall station.

    Household administration (service A = ``service``): visits 1, 2, 3, 4, 7 and 8, rated 5
    (text hidden), 4, 1 (bad: rectified on time, called back in time, re-rated 5), none, 1
    (bad, then excluded by an upheld appeal, although its case went as well as visit 3's) and
    5 (visit 8 arrives at 23:40 and is rated ten past midnight: a rating of the 3rd).
    Traffic (service B = ``other_service``): visits 5 and 6, rated 3 and 2 (bad: rectified
    late, called back late, re-rated 2). Online: the station rated 2 (the mall answers for it)
    on the 2nd; service B rated 4 on the 3rd.
    """
    RoutingRuleFactory(name_zh="交管业务", service=other_service, responsible=other_department)
    services.policy_set(
        actor=superuser, organisation=other_department, return_visit_days=1, rectify_days=1
    )

    def visit(svc, hour=9, minute=0, day=2):
        arrived = at(2026, 11, day, hour, minute)
        return make_visit(
            service=svc,
            arrived_at=arrived,
            called_at=arrived + dt.timedelta(minutes=5),
            finished_at=arrived + dt.timedelta(minutes=15),
        )

    def rate(visit, level, moment, **kwargs):
        return services.visit_rate(
            token=tokens.visit_token(visit), level=level, now=moment, **kwargs
        )

    v = {n: visit(service, hour=8 + n) for n in (1, 2, 3, 4, 7)}
    v[5], v[6] = visit(other_service, hour=13), visit(other_service, hour=14)
    v[8] = visit(service, hour=23, minute=40)

    ratings = {
        1: rate(v[1], 5, at(2026, 11, 2, 9, 30), comment="很好"),
        2: rate(v[2], 4, at(2026, 11, 2, 23, 59)),
        3: rate(v[3], 1, at(2026, 11, 2, 11, 30), contact_phone="13800138000"),
        5: rate(v[5], 3, at(2026, 11, 2, 13, 30)),
        6: rate(v[6], 2, at(2026, 11, 2, 14, 30)),
        7: rate(v[7], 1, at(2026, 11, 2, 15, 30)),
        8: rate(v[8], 5, at(2026, 11, 3, 0, 10)),
    }
    online_station = services.feedback_submit(
        actor=None, kind=Kind.ONLINE_RATING, level=2, station=station, now=at(2026, 11, 2, 16)
    )
    online_service = services.feedback_submit(
        actor=None, kind=Kind.ONLINE_RATING, level=4, service=other_service, now=at(2026, 11, 3)
    )
    services.feedback_hide(actor=department_admin, feedback=ratings[1], reason="辱骂")

    def loop(rating, handler, *, called, resolved, rerated_level):
        case = services.rectification_open(
            feedback_id=rating.pk, now=rating.created_at + dt.timedelta(minutes=2)
        )
        case = case_services.case_transition(
            actor=handler,
            case=case,
            to=Status.ACKNOWLEDGED,
            at=rating.created_at + dt.timedelta(minutes=30),
        )
        case_services.case_record_contact(
            actor=handler, case=case, channel="phone", body="已回访", at=called
        )
        case_services.case_transition(actor=handler, case=case, to=Status.RESOLVED, at=resolved)
        rating.refresh_from_db()
        services.rectification_rerate(feedback=rating, level=rerated_level, now=at(2026, 11, 6, 10))
        return case

    cases = {
        3: loop(
            ratings[3],
            department_staff,
            called=at(2026, 11, 2, 15),
            resolved=at(2026, 11, 5, 10),
            rerated_level=5,
        ),
        6: loop(
            ratings[6],
            other_department_staff,
            called=at(2026, 11, 4, 10),
            resolved=at(2026, 11, 5, 11),
            rerated_level=2,
        ),
        7: loop(
            ratings[7],
            department_staff,
            called=at(2026, 11, 2, 16),
            resolved=at(2026, 11, 5, 12),
            rerated_level=5,
        ),
    }
    appeal = services.appeal_file(actor=department_staff, feedback=ratings[7], reason="恶意评价")
    services.appeal_decide(actor=department_admin, appeal=appeal, upheld=True, note="属实")
    return {
        "visits": v,
        "ratings": ratings,
        "online": (online_station, online_service),
        "cases": cases,
        "station": Scope(station_id=station.pk),
        "a": Scope(service_id=service.pk),
        "b": Scope(service_id=other_service.pk),
        "hukou": Scope(department_id=department.pk),
        "traffic": Scope(department_id=other_department.pk),
        "mall": Scope(partner_id=partner.pk),
    }


def compute(code: str, start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 8)):
    return list(registry.get(code).compute(start, end))


# The registry ----------------------------------------------------------------------------------


def test_the_seven_figures_are_registered_as_weighted_means():
    assert set(metrics.METRIC_CODES) == {
        "feedback.good_rate",
        "feedback.bad_rate",
        "feedback.rating_rate",
        "feedback.rectified_on_time",
        "feedback.return_visit_rate",
        "feedback.rectification_satisfaction",
        "feedback.average_level",
    }
    for code in metrics.METRIC_CODES:
        metric = registry.get(code)
        assert metric.combine == Combine.WEIGHTED_MEAN
        assert metric.higher_is_better is (code != "feedback.bad_rate")
        assert {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT} <= metric.dimensions
        assert str(metric.label)
        assert str(metric.description)
        assert str(metric.unit)
    assert str(registry.get("feedback.average_level").unit) == "分"
    assert Dimension.PARTNER in registry.get("feedback.good_rate").dimensions
    assert Dimension.PARTNER not in registry.get("feedback.rating_rate").dimensions


@pytest.mark.parametrize("code", metrics.METRIC_CODES)
def test_each_figure_is_one_query(world, code, django_assert_num_queries):
    with django_assert_num_queries(1):
        compute(code)


# Ratings ---------------------------------------------------------------------------------------


def test_good_rate_per_day_and_scope(world):
    rows = compute("feedback.good_rate")
    # The 2nd: 5 (hidden text, counted), 4, 1, 3, 2 and the station's online 2; the excluded 1
    # is left out.
    assert values(rows, D1) == {
        Scope(): round(200 / 6, 4),
        world["station"]: round(200 / 6, 4),
        world["a"]: round(200 / 3, 4),
        world["hukou"]: round(200 / 3, 4),
        world["b"]: 0.0,
        world["traffic"]: 0.0,
        world["mall"]: 0.0,
    }
    assert weights(rows, D1)[Scope()] == 6
    # Ten past midnight is the next day: visit 8's 5 and the online 4 of service B.
    assert values(rows, D2) == {
        Scope(): 100.0,
        world["station"]: 100.0,
        world["a"]: 100.0,
        world["hukou"]: 100.0,
        world["b"]: 100.0,
        world["traffic"]: 100.0,
    }


def test_bad_rate_and_average_level(world):
    bad = values(compute("feedback.bad_rate"), D1)
    assert bad[Scope()] == 50.0
    assert bad[world["a"]] == round(100 / 3, 4)
    assert bad[world["b"]] == 50.0
    assert bad[world["mall"]] == 100.0
    average = values(compute("feedback.average_level"), D1)
    assert average[Scope()] == round(17 / 6, 4)
    assert average[world["hukou"]] == round(10 / 3, 4)
    assert average[world["traffic"]] == 2.5
    assert average[world["mall"]] == 2.0
    assert values(compute("feedback.average_level"), D2)[Scope()] == 4.5


def test_an_upheld_appeal_leaves_the_rating_out_and_hidden_text_stays_in(world):
    assert Feedback.objects.get(pk=world["ratings"][1].pk).is_hidden
    assert Feedback.objects.get(pk=world["ratings"][7].pk).excluded
    # Service A: the hidden 5, a 4 and a 1 count; the excluded 1 does not.
    assert values(compute("feedback.average_level"), D1)[world["a"]] == round(10 / 3, 4)
    # Had the appeal been dismissed, the 1 would pull service A down to 11 / 4.
    Feedback.objects.filter(pk=world["ratings"][7].pk).update(excluded=False)
    assert values(compute("feedback.average_level"), D1)[world["a"]] == 2.75


def test_rating_rate_by_the_day_of_the_visit(world):
    rows = compute("feedback.rating_rate")
    # Eight visits on the 2nd; 4 unrated and 7's rating excluded; 8 rated after midnight.
    assert values(rows, D1) == {
        Scope(): 75.0,
        world["station"]: 75.0,
        world["a"]: round(400 / 6, 4),
        world["hukou"]: round(400 / 6, 4),
        world["b"]: 100.0,
        world["traffic"]: 100.0,
    }
    assert weights(rows, D1)[Scope()] == 8
    assert values(rows, D2) == {}


# The bad-rating loop ---------------------------------------------------------------------------


def test_rectified_on_time_by_the_day_of_the_first_resolution(world):
    rows = compute("feedback.rectified_on_time")
    # Visit 3's case on time, visit 6's late (traffic allows one working day); visit 7's was
    # on time too but its rating was excluded.
    assert values(rows, D5) == {
        Scope(): 50.0,
        world["station"]: 50.0,
        world["a"]: 100.0,
        world["hukou"]: 100.0,
        world["b"]: 0.0,
        world["traffic"]: 0.0,
    }
    assert {row.day for row in rows} == {D5}


def test_return_visit_rate_by_the_day_the_call_was_due(world):
    rows = compute("feedback.return_visit_rate")
    # All three calls were due by the close of Tuesday the 3rd; traffic called on the 4th.
    assert values(rows, D2) == {
        Scope(): 50.0,
        world["station"]: 50.0,
        world["a"]: 100.0,
        world["hukou"]: 100.0,
        world["b"]: 0.0,
        world["traffic"]: 0.0,
    }
    assert {row.day for row in rows} == {D2}


def test_return_visits_not_yet_due_do_not_count(service, routing, make_visit):
    rating = services.visit_rate(token=tokens.visit_token(make_visit()), level=1)
    services.rectification_open(feedback_id=rating.pk)
    rating.refresh_from_db()
    due = registry.local_day(rating.return_visit_due_at)
    assert compute("feedback.return_visit_rate", due - dt.timedelta(days=7), due) == []


def test_rectification_satisfaction_by_the_day_of_the_rerating(world):
    rows = compute("feedback.rectification_satisfaction")
    assert values(rows, D6) == {
        Scope(): 50.0,
        world["station"]: 50.0,
        world["a"]: 100.0,
        world["hukou"]: 100.0,
        world["b"]: 0.0,
        world["traffic"]: 0.0,
    }


# Rolled up -------------------------------------------------------------------------------------


def test_figures_roll_up_over_a_range(world):
    kpis_backfill(start=dt.date(2026, 11, 1), end=dt.date(2026, 11, 8))
    first, last = D1, D2
    # Good: 2 of 6 on the 2nd and 2 of 2 on the 3rd.
    assert measure("feedback.good_rate", None, first, last) == pytest.approx(50.0)
    assert measure("feedback.average_level", None, first, last) == pytest.approx(26 / 8)
    assert measure("feedback.bad_rate", world["hukou"], first, last) == pytest.approx(25.0)
    assert measure("feedback.rating_rate", world["a"], first, last) == pytest.approx(400 / 6)
    assert measure("feedback.rectified_on_time", None, D1, D6) == pytest.approx(50.0)
    assert measure("feedback.return_visit_rate", world["traffic"], D1, D6) == 0.0
    assert measure("feedback.rectification_satisfaction", world["a"], D1, D6) == 100.0
    assert measure("feedback.good_rate", world["mall"], D3, D6) is None
