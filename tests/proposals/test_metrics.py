"""The proposals KPI metrics: registered with the KPI registry, computed from proposals, answers
and results made through the services, a constant number of queries each, exact per day and per
station, service, department and partner (Asia/Shanghai midnights included), combined over a
period as the registry says, and kept fresh by the days the services mark dirty."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from zoneinfo import ZoneInfo

import pytest

from governance.cases import services as case_services
from governance.cases.models import Status as CaseStatus
from governance.core.clock import replaying
from governance.kpis import registry
from governance.kpis.models import DirtyDay
from governance.kpis.registry import Combine, Dimension, Scope
from governance.kpis.services import kpis_backfill, kpis_rollup, measure
from governance.proposals import metrics
from governance.proposals import services as proposal_services
from governance.proposals.models import Answer, Category, Milestone, Status
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory

pytestmark = pytest.mark.django_db

TZ = ZoneInfo("Asia/Shanghai")
# The present of most tests: 10 November 2026 at noon.
FIRST, LAST = dt.date(2026, 8, 1), dt.date(2026, 11, 10)


def at(month, day, hour=10, minute=0, second=0, year=2026) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=TZ)


NOW = at(11, 10, 12)


def d(month, day) -> dt.date:
    return dt.date(2026, month, day)


@contextmanager
def when(moment: dt.datetime):
    """The services' clock (and the metrics' present) reads ``moment``."""
    with replaying(lambda: moment):
        yield


def compute(code: str, now: dt.datetime = NOW, start=FIRST, end=LAST):
    with when(now):
        return list(registry.get(code).compute(start, end))


def values(rows, day: dt.date) -> dict[Scope, float]:
    return {row.scope: round(row.value, 4) for row in rows if row.day == day}


def weights(rows, day: dt.date) -> dict[Scope, float]:
    return {row.scope: row.weight for row in rows if row.day == day}


def days(rows) -> set[dt.date]:
    return {row.day for row in rows}


def marked(code: str = "proposals.received") -> set[dt.date]:
    return set(DirtyDay.objects.filter(metric=code).values_list("day", flat=True))


# A small world ---------------------------------------------------------------------------------


@pytest.fixture
def places(department, other_department, partner):
    """The mall station (household administration inside, the mall as host), a household
    service offered there, a traffic service offered nowhere in particular, and the triage
    desk that receives proposals no department owns."""
    station = StationFactory(slug="mall-station", host=partner, departments=[department])
    return {
        "station": station,
        "a": ServiceFactory(department=department, service_code="HK-ID", stations=[station]),
        "b": ServiceFactory(department=other_department, service_code="TR-FINE"),
        "triage": DepartmentFactory(slug="triage", name_zh="综合受理窗口", name_en="Triage"),
        "category": Category.objects.create(slug="hours", name_zh="开放时间", name_en="Hours"),
    }


@pytest.fixture
def propose(places, citizen):
    def make(moment, *, author=None, service=None, station=None, behalf=None, publish=True):
        scope = "service" if service else "station" if station else "platform"
        with when(moment):
            return proposal_services.proposal_create(
                actor=author or citizen,
                title="周末延长服务站开放时间",
                body="上班族只有周末有空，希望周日晚上也能办理。",
                category=places["category"],
                scope=scope,
                station=station,
                service=service,
                on_behalf_of=behalf,
                publish_now=publish,
            )

    return make


def answer(actor, proposal, state, moment, **plan) -> Answer:
    with when(moment):
        return proposal_services.proposal_answer(
            actor=actor, proposal=proposal, state=state, text="经研究，答复如下。", **plan
        )


def complete(actor, proposal, moment, *, due_on) -> Milestone:
    """One milestone, added when the plan starts and done at ``moment``: the proposal is
    implemented then."""
    with when(moment - dt.timedelta(days=5)):
        milestone = proposal_services.milestone_add(
            actor=actor, proposal=proposal, title="设备安装调试", due_on=due_on
        )
    with when(moment):
        return proposal_services.milestone_set_state(
            actor=actor, milestone=milestone, state=Milestone.State.DONE
        )


@pytest.fixture
def world(
    places,
    propose,
    citizen,
    department,
    other_department,
    partner,
    partner_admin,
    partner_staff,
    department_staff,
    other_department_staff,
    superuser,
):
    """Proposals of August to October 2026 (times in Asia/Shanghai), seen on 10 November:

    - p7, platform-wide (the triage desk), published 1 Aug, withdrawn unanswered on 5 Sep,
      after its window closed on 31 Aug: a miss.
    - p1, service A at the station (household), published 1 Sep 10:00, under evaluation on
      10 Sep (9 days), accepted on 20 Sep to end by 31 Oct, done at 23:50 on 31 Oct: on time.
    - p2, service B (traffic), published 1 Sep 23:59:30, rejected on 5 Oct (33 days): a miss on
      1 Oct, the day its window closed.
    - p3, the mall's own proposal for the station, published at midnight starting 2 Sep, routed
      to the mall, withdrawn on 5 Sep before any answer: received, then left out.
    - p4, the station, published 2 Sep 09:00, routed to the mall, rejected by the mall on
      10 Oct (38 days): a miss on 2 Oct.
    - p13, the station, published 4 Sep, routed to the mall, accepted on 6 Sep (2 days) to end
      by 25 Sep, done at noon that day: on time.
    - p5, service A (no station), published 3 Sep, accepted on 8 Sep to end by 30 Sep, done
      ten minutes after midnight on 1 Oct: late, a miss on 30 Sep.
    - p10, service A, published 15 Sep, rejected on 20 Sep (5 days).
    - p9, service A at the station, published 20 Sep, under evaluation at 09:00 on 1 Oct
      (10 days 23 hours): in time.
    - p12, service B, published 10 Oct, accepted on 12 Oct to end by 15 Nov, not done yet.
    - p8, service B, published 25 Oct: its window is still open.
    - p6, a draft: nowhere.
    """
    station, a, b = places["station"], places["a"], places["b"]
    p = {}
    p[7] = propose(at(8, 1))
    p[1] = propose(at(9, 1), service=a, station=station)
    p[2] = propose(at(9, 1, 23, 59, 30), service=b)
    p[3] = propose(at(9, 2, 0, 0), station=station, author=partner_admin, behalf=partner)
    p[4] = propose(at(9, 2, 9), station=station)
    p[5] = propose(at(9, 3), service=a)
    p[13] = propose(at(9, 4, 14), station=station)
    p[6] = propose(at(9, 3), service=a, publish=False)
    p[10] = propose(at(9, 15), service=a)
    p[9] = propose(at(9, 20), service=a, station=station)
    p[12] = propose(at(10, 10), service=b)
    p[8] = propose(at(10, 25), service=b)
    for number, moment in ((3, at(9, 2, 9)), (4, at(9, 2, 10)), (13, at(9, 4, 15))):
        with when(moment):
            proposal_services.proposal_route(
                actor=superuser, proposal=p[number], responsible=partner
            )
    with when(at(9, 5)):
        proposal_services.proposal_withdraw(actor=partner_admin, proposal=p[3])
    with when(at(9, 5, 11)):
        proposal_services.proposal_withdraw(actor=p[7].author, proposal=p[7])

    answer(partner_staff, p[13], "accepted", at(9, 6, 14), starts_on=d(9, 7), ends_on=d(9, 25))
    answer(department_staff, p[5], "accepted", at(9, 8, 15), starts_on=d(9, 9), ends_on=d(9, 30))
    answer(department_staff, p[1], "evaluating", at(9, 10))
    answer(department_staff, p[1], "accepted", at(9, 20, 11), starts_on=d(9, 21), ends_on=d(10, 31))
    answer(department_staff, p[10], "rejected", at(9, 20, 16))
    answer(department_staff, p[9], "evaluating", at(10, 1, 9))
    answer(other_department_staff, p[2], "rejected", at(10, 5))
    answer(partner_staff, p[4], "rejected", at(10, 10))
    answer(
        other_department_staff,
        p[12],
        "accepted",
        at(10, 12),
        starts_on=d(10, 13),
        ends_on=d(11, 15),
    )
    complete(partner_staff, p[13], at(9, 25, 12), due_on=d(9, 25))
    complete(department_staff, p[5], at(10, 1, 0, 10), due_on=d(9, 30))
    complete(department_staff, p[1], at(10, 31, 23, 50), due_on=d(10, 31))
    for proposal in p.values():
        proposal.refresh_from_db()
    assert p[1].status == p[5].status == p[13].status == Status.IMPLEMENTED
    assert p[3].status == Status.WITHDRAWN
    assert p[3].responsible_id == p[4].responsible_id == p[13].responsible_id == partner.pk
    assert p[7].responsible_id == places["triage"].pk
    return {
        "p": p,
        "platform": Scope(),
        "station": Scope(station_id=station.pk),
        "a": Scope(service_id=a.pk),
        "b": Scope(service_id=b.pk),
        "hukou": Scope(department_id=department.pk),
        "traffic": Scope(department_id=other_department.pk),
        "mall": Scope(partner_id=partner.pk),
        "triage": Scope(department_id=places["triage"].pk),
    }


# The registry ----------------------------------------------------------------------------------


def test_the_five_metrics_are_registered_by_the_proposals_app():
    assert metrics.CODES == [
        "proposals.received",
        "proposals.answered_in_time",
        "proposals.acceptance_rate",
        "proposals.implemented_on_time",
        "proposals.answer_days_median",
    ]
    combines = {code: registry.get(code).combine for code in metrics.CODES}
    assert combines == {
        "proposals.received": Combine.SUM,
        "proposals.answered_in_time": Combine.WEIGHTED_MEAN,
        "proposals.acceptance_rate": Combine.WEIGHTED_MEAN,
        "proposals.implemented_on_time": Combine.WEIGHTED_MEAN,
        "proposals.answer_days_median": Combine.DISTRIBUTION,
    }
    for code in metrics.CODES:
        metric = registry.get(code)
        assert metric.dimensions == set(Dimension)
        assert str(metric.label)
        assert str(metric.description)
        assert str(metric.unit)
        assert metric.higher_is_better is (code != "proposals.answer_days_median")
    median = registry.get("proposals.answer_days_median")
    assert (median.quantile, median.cap, str(median.unit)) == (0.5, 180, "天")


@pytest.mark.parametrize("code", metrics.CODES)
def test_each_metric_runs_a_constant_number_of_queries(world, code, django_assert_num_queries):
    # The share answered in time reads its hits and its misses: two queries.
    with django_assert_num_queries(2 if code == "proposals.answered_in_time" else 1):
        compute(code)


# Received --------------------------------------------------------------------------------------


def test_received_counts_publications_by_day_and_scope(world):
    rows = compute("proposals.received")
    assert days(rows) == {
        d(8, 1),
        d(9, 1),
        d(9, 2),
        d(9, 3),
        d(9, 4),
        d(9, 15),
        d(9, 20),
        d(10, 10),
        d(10, 25),
    }
    assert values(rows, d(8, 1)) == {world["platform"]: 1, world["triage"]: 1}
    # 23:59:30 is still the 1st; the draft of the 3rd counts nowhere.
    assert values(rows, d(9, 1)) == {
        world["platform"]: 2,
        world["station"]: 1,
        world["a"]: 1,
        world["hukou"]: 1,
        world["b"]: 1,
        world["traffic"]: 1,
    }
    # Midnight starts the 2nd; the mall's own proposal, withdrawn since, counts for the mall,
    # which answers it since the triage desk routed it.
    assert values(rows, d(9, 2)) == {world["platform"]: 2, world["station"]: 2, world["mall"]: 2}
    assert values(rows, d(9, 3)) == {world["platform"]: 1, world["a"]: 1, world["hukou"]: 1}
    assert values(rows, d(9, 4)) == {world["platform"]: 1, world["station"]: 1, world["mall"]: 1}


# Answered in time ------------------------------------------------------------------------------


def test_answered_in_time_counts_hits_on_the_answer_day_and_misses_when_the_window_closes(world):
    rows = compute("proposals.answered_in_time")
    # p3 (withdrawn before any answer) and p8 (window open) are nowhere.
    assert days(rows) == {
        d(8, 31),
        d(9, 6),
        d(9, 8),
        d(9, 10),
        d(9, 20),
        d(10, 1),
        d(10, 2),
        d(10, 12),
    }
    # Withdrawn after its window closed unanswered: still a miss.
    assert values(rows, d(8, 31)) == {world["platform"]: 0, world["triage"]: 0}
    assert values(rows, d(9, 6)) == {
        world["platform"]: 100,
        world["station"]: 100,
        world["mall"]: 100,
    }
    assert values(rows, d(9, 8)) == {world["platform"]: 100, world["a"]: 100, world["hukou"]: 100}
    # p1's first answer ("under evaluation") is its answer; the acceptance later is not.
    assert values(rows, d(9, 10)) == {
        world["platform"]: 100,
        world["station"]: 100,
        world["a"]: 100,
        world["hukou"]: 100,
    }
    assert values(rows, d(9, 20)) == {world["platform"]: 100, world["a"]: 100, world["hukou"]: 100}
    # p2's window closed at 23:59:30 on 1 Oct (its late answer of 5 Oct changes nothing); p9
    # was answered in time that morning.
    assert values(rows, d(10, 1)) == {
        world["platform"]: 50,
        world["station"]: 100,
        world["a"]: 100,
        world["hukou"]: 100,
        world["b"]: 0,
        world["traffic"]: 0,
    }
    assert weights(rows, d(10, 1))[world["platform"]] == 2
    # p4's window closed on 2 Oct; the mall's late rejection of the 10th changes nothing.
    assert values(rows, d(10, 2)) == {world["platform"]: 0, world["station"]: 0, world["mall"]: 0}
    assert values(rows, d(10, 12)) == {
        world["platform"]: 100,
        world["b"]: 100,
        world["traffic"]: 100,
    }


def test_a_window_is_a_miss_only_once_it_has_closed(world):
    # p4's window closes at 09:00 on 2 Oct.
    before = compute("proposals.answered_in_time", now=at(10, 2, 8, 59))
    assert d(10, 2) not in days(before)
    after = compute("proposals.answered_in_time", now=at(10, 2, 9, 1))
    assert values(after, d(10, 2))[world["platform"]] == 0


def test_the_answer_window_follows_the_setting(world, settings):
    settings.PROPOSALS_ANSWER_DAYS = 10
    rows = compute("proposals.answered_in_time")
    # p9 (10 days 23 hours) is now late: a miss when its window closed at 10:00 on 30 Sep.
    assert values(rows, d(9, 30)) == {
        world["platform"]: 0,
        world["station"]: 0,
        world["a"]: 0,
        world["hukou"]: 0,
    }
    assert d(10, 1) not in days(rows)
    # p2's window closed at 23:59:30 on 11 Sep, p4's on the 12th, p7's on 11 Aug.
    assert values(rows, d(9, 11)) == {world["platform"]: 0, world["b"]: 0, world["traffic"]: 0}
    assert values(rows, d(9, 12)) == {world["platform"]: 0, world["station"]: 0, world["mall"]: 0}
    assert values(rows, d(8, 11)) == {world["platform"]: 0, world["triage"]: 0}
    # p1 (9 days) stays in time.
    assert values(rows, d(9, 10))[world["platform"]] == 100


# Acceptance ------------------------------------------------------------------------------------


def test_acceptance_rate_by_the_day_of_the_verdict(world):
    rows = compute("proposals.acceptance_rate")
    # Evaluations are not verdicts.
    assert days(rows) == {d(9, 6), d(9, 8), d(9, 20), d(10, 5), d(10, 10), d(10, 12)}
    assert values(rows, d(9, 6)) == {
        world["platform"]: 100,
        world["station"]: 100,
        world["mall"]: 100,
    }
    assert values(rows, d(9, 8)) == {world["platform"]: 100, world["a"]: 100, world["hukou"]: 100}
    # p1 accepted, p10 rejected; only p1 names the station.
    assert values(rows, d(9, 20)) == {
        world["platform"]: 50,
        world["station"]: 100,
        world["a"]: 50,
        world["hukou"]: 50,
    }
    assert weights(rows, d(9, 20))[world["platform"]] == 2
    assert values(rows, d(10, 5)) == {world["platform"]: 0, world["b"]: 0, world["traffic"]: 0}
    assert values(rows, d(10, 10)) == {world["platform"]: 0, world["station"]: 0, world["mall"]: 0}
    assert values(rows, d(10, 12)) == {
        world["platform"]: 100,
        world["b"]: 100,
        world["traffic"]: 100,
    }


# Implemented on time ---------------------------------------------------------------------------


def test_implemented_on_time_on_the_completion_day_or_the_planned_end(world):
    rows = compute("proposals.implemented_on_time")
    # p12 ends on 15 Nov: not yet due.
    assert days(rows) == {d(9, 25), d(9, 30), d(10, 31)}
    # p13 was done at noon on its planned end day.
    assert values(rows, d(9, 25)) == {
        world["platform"]: 100,
        world["station"]: 100,
        world["mall"]: 100,
    }
    # p5 was done ten minutes into 1 Oct: late, a miss on its planned end day.
    assert values(rows, d(9, 30)) == {world["platform"]: 0, world["a"]: 0, world["hukou"]: 0}
    # p1 was done at 23:50 on its planned end day: in time.
    assert values(rows, d(10, 31)) == {
        world["platform"]: 100,
        world["station"]: 100,
        world["a"]: 100,
        world["hukou"]: 100,
    }


def test_an_unfinished_result_is_a_miss_once_its_planned_end_day_is_over(world, other_department):
    on_the_day = compute("proposals.implemented_on_time", now=at(11, 15, 23, 59), end=d(11, 20))
    assert d(11, 15) not in days(on_the_day)
    next_day = compute("proposals.implemented_on_time", now=at(11, 16, 0, 1), end=d(11, 20))
    assert values(next_day, d(11, 15)) == {
        Scope(): 0,
        world["b"]: 0,
        Scope(department_id=other_department.pk): 0,
    }


# Days to answer --------------------------------------------------------------------------------


def test_answer_days_median_by_the_day_of_the_first_answer(world):
    rows = compute("proposals.answer_days_median")
    assert days(rows) == {
        d(9, 6),
        d(9, 8),
        d(9, 10),
        d(9, 20),
        d(10, 1),
        d(10, 5),
        d(10, 10),
        d(10, 12),
    }
    assert values(rows, d(9, 6)) == {world["platform"]: 2, world["station"]: 2, world["mall"]: 2}
    assert values(rows, d(9, 8)) == {world["platform"]: 5, world["a"]: 5, world["hukou"]: 5}
    assert values(rows, d(9, 10)) == {
        world["platform"]: 9,
        world["station"]: 9,
        world["a"]: 9,
        world["hukou"]: 9,
    }
    # p10 in 5 days 6 hours; p1's acceptance that day is not a first answer.
    assert values(rows, d(9, 20)) == {world["platform"]: 5, world["a"]: 5, world["hukou"]: 5}
    assert values(rows, d(10, 1))[world["platform"]] == 10
    assert values(rows, d(10, 5)) == {world["platform"]: 33, world["b"]: 33, world["traffic"]: 33}
    # p4: from 09:00 on 2 Sep to 10:00 on 10 Oct.
    assert values(rows, d(10, 10)) == {
        world["platform"]: 38,
        world["station"]: 38,
        world["mall"]: 38,
    }
    histogram = next(row.histogram for row in rows if row.day == d(10, 5) and row.scope == Scope())
    assert histogram == {"33": 1}


def test_answer_days_are_capped_at_180(places, propose, department_staff):
    proposal = propose(at(1, 5), service=places["a"])
    answer(department_staff, proposal, "rejected", at(9, 1))
    rows = compute("proposals.answer_days_median", start=d(9, 1), end=d(9, 1))
    assert values(rows, d(9, 1))[Scope()] == 180


# Over a period ---------------------------------------------------------------------------------


def test_a_period_combines_the_days_as_each_metric_says(world):
    with when(NOW):
        kpis_backfill(start=FIRST, end=LAST, metric_codes=metrics.CODES)
    september, autumn = (d(9, 1), d(9, 30)), (FIRST, LAST)
    assert measure("proposals.received", None, *autumn) == 11
    assert measure("proposals.received", world["mall"], *autumn) == 3
    # Hits p1, p5, p9, p10, p12, p13; misses p7, p2, p4.
    assert measure("proposals.answered_in_time", None, *autumn) == pytest.approx(200 / 3)
    assert measure("proposals.answered_in_time", world["hukou"], *autumn) == 100
    assert measure("proposals.answered_in_time", world["station"], *autumn) == 75
    assert measure("proposals.answered_in_time", world["mall"], *autumn) == 50
    # Accepted p13, p5, p1, p12; rejected p10, p2, p4.
    assert measure("proposals.acceptance_rate", None, *autumn) == pytest.approx(400 / 7)
    assert measure("proposals.acceptance_rate", world["a"], *september) == pytest.approx(200 / 3)
    assert measure("proposals.acceptance_rate", world["mall"], *autumn) == 50
    # p13 and p1 on time, p5 late.
    assert measure("proposals.implemented_on_time", None, *autumn) == pytest.approx(200 / 3)
    assert measure("proposals.implemented_on_time", world["mall"], *autumn) == 100
    # Days to the first answer: 2, 2, 5, 5, 9, 10, 33, 38 (the merged histogram, not a median
    # of daily medians); at the station 2, 9, 10, 38.
    assert measure("proposals.answer_days_median", None, *autumn) == 5
    assert measure("proposals.answer_days_median", world["station"], *autumn) == 9
    assert measure("proposals.answer_days_median", world["traffic"], *autumn) == 2


# The services keep the rollup fresh -------------------------------------------------------------


def rollup():
    with when(NOW):
        kpis_rollup(limit=1000)


def test_publishing_marks_its_day_and_the_rollup_counts_it(places, propose):
    DirtyDay.objects.all().delete()
    proposal = propose(at(9, 1, 23, 59), service=places["a"])
    for code in metrics.CODES:
        assert marked(code) == {d(9, 1)}, code
    rollup()
    assert measure("proposals.received", None, d(9, 1), d(9, 1)) == 1
    assert measure("proposals.received", Scope(service_id=places["a"].pk), d(9, 2), d(9, 2)) is None

    # A draft published later counts on the day it is published, not the day it was written.
    draft = propose(at(9, 2, 8), service=places["a"], publish=False)
    assert not DirtyDay.objects.exists()
    with when(at(9, 3, 0, 0)):
        proposal_services.proposal_publish(actor=draft.author, proposal=draft)
    assert marked() == {d(9, 3)}
    rollup()
    assert measure("proposals.received", None, d(9, 1), d(9, 3)) == 2
    assert proposal.pk != draft.pk


def test_answering_marks_the_publication_and_answer_days(places, propose, department_staff):
    proposal = propose(at(9, 1), service=places["a"])
    rollup()
    answer(department_staff, proposal, "evaluating", at(9, 5, 23, 30))
    for code in metrics.CODES:
        assert marked(code) == {d(9, 1), d(9, 5)}, code
    rollup()
    assert measure("proposals.answered_in_time", None, d(9, 5), d(9, 5)) == 100
    assert measure("proposals.answer_days_median", None, d(9, 5), d(9, 5)) == 4
    assert measure("proposals.acceptance_rate", None, d(9, 1), d(9, 30)) is None

    answer(department_staff, proposal, "rejected", at(9, 9))
    assert marked() == {d(9, 1), d(9, 9)}
    rollup()
    assert measure("proposals.acceptance_rate", None, d(9, 9), d(9, 9)) == 0
    # The first answer still decides the timeliness and the days to answer.
    assert measure("proposals.answered_in_time", None, d(9, 1), d(9, 30)) == 100
    assert measure("proposals.answer_days_median", None, d(9, 1), d(9, 30)) == 4


def test_completing_the_plan_marks_the_planned_end_and_completion_days(
    places, propose, department_staff, department
):
    proposal = propose(at(9, 1), service=places["a"], station=places["station"])
    answer(department_staff, proposal, "accepted", at(9, 3), starts_on=d(9, 4), ends_on=d(9, 30))
    rollup()
    with when(at(9, 4)):
        milestone = proposal_services.milestone_add(
            actor=department_staff, proposal=proposal, title="采购设备", due_on=d(9, 20)
        )
        case = proposal_services.result_open_case(
            actor=department_staff,
            proposal=proposal,
            title="安装叫号短信提醒模块",
            description="在取号系统中接入短信提醒。",
        )
    rollup()
    with when(at(9, 20, 18)):
        proposal_services.milestone_set_state(
            actor=department_staff, milestone=milestone, state=Milestone.State.DONE
        )
    # Half done: nothing to count yet.
    assert not DirtyDay.objects.filter(metric__in=metrics.CODES).exists()
    for status, moment in ((CaseStatus.ACKNOWLEDGED, at(9, 25)), (CaseStatus.RESOLVED, at(9, 28))):
        with when(moment):
            case = case_services.case_transition(
                actor=department_staff, case=case, to=status, at=moment
            )
    proposal.refresh_from_db()
    assert proposal.status == Status.IMPLEMENTED
    assert marked("proposals.implemented_on_time") == {d(9, 28), d(9, 30)}
    rollup()
    scope = Scope(department_id=department.pk)
    assert measure("proposals.implemented_on_time", scope, d(9, 1), d(9, 30)) == 100
    assert measure("proposals.implemented_on_time", None, d(9, 28), d(9, 28)) == 100


def test_withdrawing_keeps_the_proposal_received_and_out_of_the_answer_figures(
    places, propose, citizen
):
    proposal = propose(at(9, 1), service=places["a"])
    rollup()
    with when(at(9, 10)):
        proposal_services.proposal_withdraw(actor=citizen, proposal=proposal)
    assert marked() == {d(9, 1)}
    rollup()
    assert measure("proposals.received", None, d(9, 1), d(9, 1)) == 1
    rows = compute("proposals.answered_in_time", start=d(9, 1), end=d(10, 31))
    assert rows == []


def test_routing_moves_the_publication_day_to_the_new_organisation(
    places, propose, superuser, partner
):
    proposal = propose(at(9, 1), station=places["station"])
    rollup()
    triage = Scope(department_id=places["triage"].pk)
    assert measure("proposals.received", triage, d(9, 1), d(9, 1)) == 1
    with when(at(9, 2)):
        proposal_services.proposal_route(actor=superuser, proposal=proposal, responsible=partner)
    assert marked() == {d(9, 1)}
    rollup()
    assert measure("proposals.received", triage, d(9, 1), d(9, 1)) is None
    assert measure("proposals.received", Scope(partner_id=partner.pk), d(9, 1), d(9, 1)) == 1


def test_days_counted_lists_every_day_a_proposal_counts_on(world):
    p = world["p"]
    with when(NOW):
        assert metrics.days_counted(p[1]) == {d(9, 1), d(9, 10), d(9, 20), d(10, 31)}
        # p2's window closed unanswered on 1 Oct; p3 was withdrawn before its window closed.
        assert metrics.days_counted(p[2]) == {d(9, 1), d(10, 1), d(10, 5)}
        assert metrics.days_counted(p[3]) == {d(9, 2)}
        assert metrics.days_counted(p[7]) == {d(8, 1), d(8, 31)}
        # p4 was answered only after its window closed.
        assert metrics.days_counted(p[4]) == {d(9, 2), d(10, 2), d(10, 10)}
        assert metrics.days_counted(p[5]) == {d(9, 3), d(9, 8), d(9, 30), d(10, 1)}
        # The window of p8 is still open; a draft counts nowhere.
        assert metrics.days_counted(p[8]) == {d(10, 25)}
        assert metrics.days_counted(p[6]) == set()
