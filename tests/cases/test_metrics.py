"""The case metrics: registered with the KPI registry, and equal to the same figures computed in
plain Python over the raw cases, in a constant number of queries."""

from __future__ import annotations

import datetime as dt
import math
from collections import defaultdict

import pytest
from django.utils import timezone

from governance.cases import services
from governance.cases.metrics import METRIC_CODES, RESOLUTION_CAP_HOURS
from governance.cases.models import Case, Status
from governance.kpis import registry
from governance.kpis.models import DirtyDay
from governance.kpis.registry import Combine, Scope, local_day
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


def open_spells(case: Case) -> list[tuple]:
    """The case's open stretches read from its timeline's status entries: from opening or a
    reopening to the resolution, rejection or duplicate mark that ended it."""
    spells, opened = [], case.created_at
    for entry in case.timeline.filter(kind="status").order_by("created_at", "pk"):
        if entry.data["to"] in ("resolved", "rejected", "duplicate"):
            spells.append((opened, entry.created_at))
            opened = None
        elif entry.data["to"] == "reopened":
            opened = entry.created_at
    if opened is not None:
        spells.append((opened, None))
    return spells


def expected(code: str) -> dict:
    groups = defaultdict(list)
    cases = list(Case.objects.select_related("responsible"))
    if code == "cases.backlog":
        spells = {case.pk: open_spells(case) for case in cases}
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
                        and any(
                            opened < end and (ended is None or ended >= end)
                            for opened, ended in spells[case.pk]
                        )
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


def backlog_on(day: dt.date, scope: Scope | None = None) -> float:
    rows = registry.get("cases.backlog").compute(day, day)
    return next(row.value for row in rows if row.scope == (scope or Scope()))


def test_reopening_adds_to_the_backlog_from_then_on_and_leaves_the_past(
    open_case, department_staff
):
    case = open_case(opened_at=at(2026, 11, 23, 9))
    for status, moment in (
        (Status.ACKNOWLEDGED, at(2026, 11, 23, 10)),
        (Status.RESOLVED, at(2026, 11, 24, 9)),
    ):
        case = services.case_transition(actor=department_staff, case=case, to=status, at=moment)
    before = [backlog_on(dt.date(2026, 11, day)) for day in (23, 24, 25, 26)]
    assert before == [1, 0, 0, 0]
    services.case_transition(
        actor=department_staff, case=case, to=Status.REOPENED, at=at(2026, 11, 26, 9)
    )
    after = [backlog_on(dt.date(2026, 11, day)) for day in (23, 24, 25, 26)]
    assert after == [1, 0, 0, 1]


def test_scope_whose_cases_are_all_done_still_counts_its_quiet_days(
    open_case, department_staff, department
):
    case = open_case(opened_at=at(2026, 11, 2, 9))
    services.case_transition(
        actor=department_staff,
        case=case,
        to=Status.REJECTED,
        reason="重复提交",
        at=at(2026, 11, 3, 9),
    )
    assert backlog_on(dt.date(2026, 11, 20), Scope(department_id=department.pk)) == 0


def marked(code: str) -> set[dt.date]:
    return set(DirtyDay.objects.filter(metric=code).values_list("day", flat=True))


def test_every_write_marks_the_days_it_changes(
    open_case, department_staff, triager, lost_item, other_department
):
    today = local_day(timezone.now())
    opened = today - dt.timedelta(days=5)
    moment = dt.datetime.combine(opened, dt.time(9), tzinfo=TZ)
    case = open_case(opened_at=moment)
    assert marked("cases.backlog") == {opened + dt.timedelta(days=n) for n in range(6)}

    DirtyDay.objects.all().delete()
    ack = moment + dt.timedelta(days=1)
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.ACKNOWLEDGED, at=ack
    )
    assert marked("cases.acknowledged_on_time") == {local_day(ack)}
    resolved = moment + dt.timedelta(days=3)
    case = services.case_transition(
        actor=department_staff, case=case, to=Status.RESOLVED, at=resolved
    )
    for code in ("cases.resolved_on_time", "cases.resolution_median", "cases.reopen_rate"):
        assert marked(code) == {local_day(resolved)}
    assert marked("cases.backlog") == {local_day(resolved) + dt.timedelta(days=n) for n in range(3)}

    DirtyDay.objects.all().delete()
    queued = open_case(service=None, category=lost_item, opened_at=moment)
    DirtyDay.objects.all().delete()
    services.case_route(actor=triager, case=queued, responsible=other_department)
    assert marked("cases.backlog") == {opened + dt.timedelta(days=n) for n in range(6)}
