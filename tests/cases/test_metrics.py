"""The case metrics: registered with the KPI registry, and equal to the same figures computed in
plain Python over the raw cases, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import pytest

from governance.cases import services
from governance.cases.metrics import METRIC_CODES, RESOLUTION_CAP_HOURS
from governance.cases.models import Case, Status
from governance.kpis import registry
from governance.kpis.registry import Combine, Scope
from tests.cases.conftest import TZ, at

pytestmark = pytest.mark.django_db
FIRST, LAST = dt.date(2026, 11, 23), dt.date(2026, 12, 2)


@pytest.fixture
def history(open_case, department_staff, partner_staff, facility, lost_item, triager):
    def move(case, *steps):
        for status, moment in steps:
            case = services.case_transition(
                actor=partner_staff if case.responsible.kind == "partner" else department_staff,
                case=case,
                to=status,
                at=moment,
                reason="无法核实" if status == Status.REJECTED else "",
            )
        return case

    on_time = open_case(opened_at=at(2026, 11, 23, 9))
    move(
        on_time, (Status.ACKNOWLEDGED, at(2026, 11, 23, 10)), (Status.RESOLVED, at(2026, 11, 24, 9))
    )
    late = open_case(opened_at=at(2026, 11, 23, 9))
    move(late, (Status.ACKNOWLEDGED, at(2026, 11, 25, 9)), (Status.RESOLVED, at(2026, 12, 1, 9)))
    lift = open_case(service=None, category=facility, opened_at=at(2026, 11, 24, 10))
    move(
        lift,
        (Status.ACKNOWLEDGED, at(2026, 11, 24, 11)),
        (Status.RESOLVED, at(2026, 11, 24, 15)),
        (Status.REOPENED, at(2026, 11, 25, 9)),
    )
    wallet = open_case(service=None, category=lost_item, opened_at=at(2026, 11, 23, 12))
    services.case_transition(
        actor=triager, case=wallet, to=Status.REJECTED, reason="无法核实", at=at(2026, 11, 26, 9)
    )
    open_case(opened_at=at(2026, 11, 30, 9))  # still new
    slow = open_case(opened_at=at(2026, 10, 1, 9))  # resolved after the histogram cap
    move(slow, (Status.ACKNOWLEDGED, at(2026, 10, 8, 9)), (Status.RESOLVED, at(2026, 11, 27, 9)))


def scopes(case: Case) -> list[Scope]:
    result = [Scope()]
    if case.station_id:
        result.append(Scope(station_id=case.station_id))
    if case.service_id:
        result.append(Scope(service_id=case.service_id))
    if case.responsible_id:
        kind = case.responsible.kind
        if kind == "department":
            result.append(Scope(department_id=case.responsible_id))
        elif kind == "partner":
            result.append(Scope(partner_id=case.responsible_id))
    return result


def local(moment):
    return moment.astimezone(TZ).date() if moment else None


def expected(code: str) -> dict:
    groups = defaultdict(list)
    cases = list(Case.objects.select_related("responsible"))
    if code == "cases.backlog":
        known = {scope for case in cases for scope in scopes(case)} | {Scope()}
        result = {}
        for offset in range((LAST - FIRST).days + 1):
            day = FIRST + dt.timedelta(days=offset)
            end = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=TZ)
            for scope in known:
                result[day, scope] = float(
                    sum(
                        1
                        for case in cases
                        if scope in scopes(case)
                        and case.created_at < end
                        and (case.left_backlog_at is None or case.left_backlog_at >= end)
                    )
                )
        return result
    moment = "acknowledged_at" if code == "cases.acknowledged_on_time" else "first_resolved_at"
    for case in cases:
        day = local(getattr(case, moment))
        if day and FIRST <= day <= LAST:
            for scope in scopes(case):
                groups[day, scope].append(case)
    result = {}
    for key, members in groups.items():
        if code == "cases.acknowledged_on_time":
            result[key] = 100 * sum(c.acknowledged_on_time for c in members) / len(members)
        elif code == "cases.resolved_on_time":
            result[key] = 100 * sum(c.resolved_on_time for c in members) / len(members)
        elif code == "cases.reopen_rate":
            result[key] = 100 * sum(c.reopen_count > 0 for c in members) / len(members)
        elif code == "cases.resolution_median":
            hours = sorted(
                min(
                    RESOLUTION_CAP_HOURS,
                    math.floor((c.first_resolved_at - c.created_at).total_seconds() / 3600),
                )
                for c in members
            )
            result[key] = float(hours[max(1, math.ceil(0.5 * len(hours))) - 1])
    return result


def test_case_metrics_are_registered_by_the_cases_app():
    assert set(METRIC_CODES) <= {metric.code for metric in registry.all_metrics()}
    assert set(METRIC_CODES) == {
        "cases.acknowledged_on_time",
        "cases.resolved_on_time",
        "cases.resolution_median",
        "cases.backlog",
        "cases.reopen_rate",
    }
    assert registry.get("cases.resolution_median").combine == Combine.DISTRIBUTION


@pytest.mark.parametrize("code", METRIC_CODES)
def test_registry_computation_equals_plain_python_over_raw_rows(history, code):
    computed = {(row.day, row.scope): row.value for row in registry.get(code).compute(FIRST, LAST)}
    wanted = expected(code)
    assert wanted, code
    assert computed.keys() == wanted.keys()
    for key, value in wanted.items():
        assert computed[key] == pytest.approx(value), key


@pytest.mark.parametrize("code", METRIC_CODES)
def test_compute_runs_a_constant_number_of_queries(history, code, django_assert_max_num_queries):
    with django_assert_max_num_queries(2 if code == "cases.backlog" else 1):
        registry.get(code).compute(FIRST, LAST)


def test_figures_read_as_people_expect(history):
    platform = Scope()

    def value(code, day):
        rows = registry.get(code).compute(day, day)
        return next(row.value for row in rows if row.scope == platform)

    # Only the on-time case was acknowledged on 23 November, the late one on the 25th.
    assert value("cases.acknowledged_on_time", dt.date(2026, 11, 23)) == 100
    assert value("cases.acknowledged_on_time", dt.date(2026, 11, 25)) == 0
    assert value("cases.resolved_on_time", dt.date(2026, 12, 1)) == 0
    assert value("cases.reopen_rate", dt.date(2026, 11, 24)) == 50  # the lift, not the ID photo
    assert value("cases.resolution_median", dt.date(2026, 11, 27)) == RESOLUTION_CAP_HOURS
    # End of 30 Nov: the late one, the reopened lift and the new one are open.
    assert value("cases.backlog", dt.date(2026, 11, 30)) == 3
