"""The case pages run as many SQL queries with fifty rows as with five (``query_budget``)."""

from __future__ import annotations

import itertools

import pytest

from governance.cases import services
from governance.cases.models import Priority, Status
from tests.cases.conftest import drive
from tests.cases.test_views_pages import case_url
from tests.factories import PartnerFactory, StationFactory
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db


@pytest.fixture
def many(open_case, department, department_admin, department_staff, partner, facility):
    """``make(n)`` opens ``n`` cases of the citizen's, with varied relations: some assigned,
    some shared with the mall, some by category (the mall's), some at another station."""
    counter = itertools.count()
    other_station = StationFactory(slug="east-station", departments=[department])

    def make(n: int, **kwargs):
        for _ in range(n):
            number = next(counter)
            if number % 4 == 3:
                open_case(service=None, category=facility, **kwargs)
                continue
            case = open_case(
                station=other_station if number % 3 == 0 else None,
                address="" if number % 3 == 0 else "北门",
                priority=Priority.HIGH if number % 2 else Priority.NORMAL,
                **kwargs,
            )
            if number % 2:
                services.case_assign(actor=department_admin, case=case, assignee=department_staff)
            if number % 4 == 1:
                services.case_add_cohandler(
                    actor=department_admin, case=case, organisation=partner, task="协助"
                )

    return make


def test_queue_runs_constant_queries(client, many, department_staff):
    client.force_login(department_staff)
    assert_constant_queries(
        lambda: client.get("/cases/queue/"),
        many,
        check=lambda response, rows: len(response.context["page"].object_list) > 0,
    )


def test_queue_of_a_superuser_runs_constant_queries(client, many, superuser):
    client.force_login(superuser)
    assert_constant_queries(lambda: client.get("/cases/queue/?tab=overdue&priority=high"), many)


def test_mine_runs_constant_queries(client, many, citizen):
    client.force_login(citizen)
    assert_constant_queries(
        lambda: client.get("/cases/mine/"),
        many,
        check=lambda response, rows: len(response.context["page"].object_list) == min(rows, 20),
    )


def test_public_list_runs_constant_queries(client, many):
    assert_constant_queries(
        lambda: client.get("/cases/"),
        many,
        check=lambda response, rows: len(response.context["page"].object_list) == min(rows, 20),
    )


@pytest.fixture
def long_timeline(
    open_case, department_admin, department_staff, partner, partner_staff, citizen, superuser
):
    """A shared case and ``grow(n)`` adding ``n`` rounds of replies, notes, assignments, a
    co-handling task's assignment, due-date changes and the reporter's own entries."""
    import datetime as dt

    from django.utils import timezone

    case = open_case()
    cohandler = services.case_add_cohandler(
        actor=department_admin, case=case, organisation=partner, task="调取监控"
    )
    case = drive(case, Status.IN_PROGRESS, actor=department_staff)
    assignees = itertools.cycle([department_staff, department_admin])

    def grow(n: int):
        for number in range(n):
            services.case_reply(actor=department_staff, case=case, body=f"答复 {number}")
            services.case_note(actor=partner_staff, case=case, body=f"备注 {number}")
            services.case_assign(actor=department_admin, case=case, assignee=next(assignees))
            services.cohandler_assign(actor=partner_staff, cohandler=cohandler, assignee=None)
            services.case_set_due(
                actor=department_staff,
                case=case,
                due_at=timezone.now() + dt.timedelta(days=10 + number),
                reason=f"理由 {number}",
            )
            services.case_record_contact(
                actor=department_staff, case=case, channel="phone", body=f"回访 {number}"
            )

    return case, grow


@pytest.mark.parametrize("role", ["department_staff", "partner_staff", "citizen", "anonymous"])
def test_case_page_with_a_long_timeline_runs_constant_queries(request, client, long_timeline, role):
    case, grow = long_timeline
    if role != "anonymous":
        client.force_login(request.getfixturevalue(role))
    count = assert_constant_queries(
        lambda: client.get(case_url(case)),
        grow,
        small=2,
        large=20,
        check=lambda response, rows: len(response.context["lines"]) > rows,
    )
    print(f"{role}: {count} queries")


def test_case_page_with_many_cohandlers_runs_constant_queries(
    client, open_case, department_admin, department_staff
):
    case = open_case()
    counter = itertools.count()

    def share(n: int):
        for _ in range(n):
            organisation = PartnerFactory(slug=f"partner-{next(counter)}")
            services.case_add_cohandler(
                actor=department_admin, case=case, organisation=organisation, task="协助"
            )

    client.force_login(department_staff)
    assert_constant_queries(lambda: client.get(case_url(case)), share, small=2, large=6)
