"""The partners KPI metrics: registered with the KPI registry, computed from bookings, pledges,
shifts and attendance made through the services, exact per day and per partner, station and
department (Asia/Shanghai midnights included), a constant number of queries each at two data
sizes, combined over a period as the registry says, and stored by the KPI rollup."""

from __future__ import annotations

import datetime as dt
from contextlib import contextmanager
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from governance.cases import services as case_services
from governance.core.clock import replaying
from governance.kpis import registry
from governance.kpis.models import DirtyDay, Measurement
from governance.kpis.registry import Combine, Dimension, Scope
from governance.kpis.services import kpis_backfill, kpis_mark_dirty, kpis_rollup, measure
from governance.notifications.services import muted
from partners import metrics, services
from partners.models import Resource
from tests.partners.conftest import at

pytestmark = pytest.mark.django_db

MIDNIGHT = dt.time(0)


def d(month: int, day: int) -> dt.date:
    return dt.date(2026, month, day)


def on(month: int, day: int, hour: int = 10, minute: int = 0) -> dt.datetime:
    return at(d(month, day), hour, minute)


# The present of these tests: Tuesday 10 November 2026 at noon.
NOW = on(11, 10, 12)
FIRST, LAST = d(10, 20), d(11, 20)


@contextmanager
def when(moment: dt.datetime):
    """The services' clock (and the metrics' present) reads ``moment``; nobody is told."""
    with replaying(lambda: moment), muted():
        yield


def compute(code: str, start: dt.date = FIRST, end: dt.date = LAST, now: dt.datetime = NOW):
    with when(now):
        return list(registry.get(code).compute(start, end))


def values(rows, day: dt.date) -> dict[Scope, float]:
    return {row.scope: round(row.value, 4) for row in rows if row.day == day}


def days(rows) -> set[dt.date]:
    return {row.day for row in rows}


# A small world ---------------------------------------------------------------------------------


def request(actor, resource, requester, start, end, *, asked, purpose="社区宣传活动"):
    with when(asked):
        return services.booking_request(
            actor=actor,
            resource=resource,
            requester=requester,
            starts_at=start,
            ends_at=end,
            purpose=purpose,
        )


def approve(actor, booking, moment):
    with when(moment):
        return services.booking_approve(actor=actor, booking=booking)


def decline(actor, booking, moment):
    with when(moment):
        return services.booking_decline(actor=actor, booking=booking, reason="该时段已安排商场活动")


def cancel(actor, booking, moment):
    with when(moment):
        return services.booking_cancel(actor=actor, booking=booking, reason="活动改期")


def shift(actor, partner, station, start, hours, *, volunteer, status="done"):
    """A shift planned a week ahead, marked ``status`` once it has ended."""
    with when(start - dt.timedelta(days=7)):
        row = services.shift_create(
            actor=actor,
            partner=partner,
            data={
                "station": station,
                "volunteer": volunteer,
                "role": "取号引导",
                "starts_at": start,
                "ends_at": start + dt.timedelta(hours=hours),
            },
        )
    if status != "scheduled":
        with when(start + dt.timedelta(hours=hours, minutes=5)):
            row = services.shift_update(actor=actor, shift=row, data={"status": status})
    return row


def training(actor, organiser, start, hours, attendees):
    with when(start - dt.timedelta(days=3)):
        session = services.training_create(
            actor=actor,
            organiser=organiser,
            data={
                "topic_zh": "窗口服务规范",
                "trainer": "李老师",
                "starts_at": start,
                "hours": Decimal(hours),
            },
        )
    with when(start + dt.timedelta(hours=4)):
        services.attendance_record(actor=actor, session=session, attendees=attendees)
    return session


def pledge(actor, partner, case, decider, *, offered, delivered=None, resource=None):
    with when(offered):
        row = services.pledge_offer(
            actor=actor,
            partner=partner,
            case=case,
            resource=resource,
            quantity="5000",
            starts_on=offered.date(),
            ends_on=offered.date() + dt.timedelta(days=60),
        )
    with when(offered + dt.timedelta(hours=3)):
        row = services.pledge_accept(actor=decider, pledge=row)
    if delivered is not None:
        with when(delivered):
            row = services.pledge_deliver(actor=decider, pledge=row)
    return row


@pytest.fixture
def world(
    station,
    service,
    make_resource,
    partner,
    other_partner,
    department,
    other_department,
    partner_admin,
    partner_staff,
    department_admin,
    department_staff,
    department_viewer,
    other_department_staff,
    other_partner_admin,
):
    """Mall's atrium at the station (every day 10:00–22:00), its visitor parking (no station,
    round the clock) and the bank's meeting room (no station, weekdays 09:00–17:00); eight
    bookings, a closure and an extra opening; four pledges to two cases; four shifts; two
    training sessions."""
    with when(on(10, 1, 9)):
        atrium = make_resource(max_booking_minutes=12 * 60)
        parking = make_resource(
            kind="parking",
            name_zh="访客停车位",
            station=None,
            quantity="20",
            unit="spaces",
            max_booking_minutes=24 * 60,
            windows=[(day, MIDNIGHT, MIDNIGHT) for day in range(7)],
        )
        bank_room = make_resource(
            owner=other_partner,
            actor=other_partner_admin,
            name_zh="银行会议室",
            station=None,
            quantity="12",
            unit="people",
            windows=[(day, dt.time(9), dt.time(17)) for day in range(5)],
        )
        # Never open: it counts in no utilisation.
        screen = make_resource(
            kind="equipment", name_zh="LED屏", quantity="1", unit="items", windows=()
        )
    with when(on(10, 20)):
        services.exception_add(
            actor=partner_staff,
            resource=atrium,
            kind="closed",
            starts_at=on(11, 1, 20),
            ends_at=on(11, 1, 22),
            reason="中庭灯光检修",
        )
        services.exception_add(
            actor=partner_staff, resource=atrium, kind="open", starts_at=on(11, 1, 22),
            ends_at=on(11, 1, 23), reason="延时开放",
        )  # fmt: skip
        services.exception_add(
            actor=partner_staff, resource=atrium, kind="closed", starts_at=on(11, 11, 0),
            ends_at=on(11, 12, 0), reason="中庭翻新",
        )  # fmt: skip

    hukou, traffic = department, other_department
    b1 = request(department_staff, atrium, hukou, on(11, 1, 10), on(11, 1, 16), asked=on(10, 28, 9))
    approve(partner_staff, b1, on(10, 28, 15, 30))
    b2 = request(
        other_department_staff, parking, traffic, on(11, 2, 20), on(11, 3, 4), asked=on(10, 29)
    )
    approve(partner_staff, b2, on(10, 30, 11))
    b3 = request(
        other_partner_admin, atrium, other_partner, on(11, 3), on(11, 3, 12), asked=on(10, 30, 9)
    )
    approve(partner_staff, b3, on(10, 30, 9, 30))
    cancel(other_partner_admin, b3, on(11, 2))
    b4 = request(department_staff, atrium, hukou, on(11, 10), on(11, 10, 14), asked=on(11, 3))
    approve(partner_admin, b4, on(11, 4))
    b5 = request(
        other_department_staff, atrium, traffic, on(11, 12), on(11, 12, 12), asked=on(11, 5)
    )
    decline(partner_staff, b5, on(11, 5, 12))
    b6 = request(department_staff, atrium, hukou, on(11, 15), on(11, 15, 20), asked=on(11, 6))
    approve(partner_staff, b6, on(11, 6, 13))
    b7 = request(
        department_staff, bank_room, hukou, on(11, 2, 9), on(11, 2, 11), asked=on(10, 29, 14)
    )
    approve(other_partner_admin, b7, on(10, 29, 16))
    # Still waiting, and one called off before anyone decided: neither is a decision.
    request(other_department_staff, atrium, traffic, on(11, 14), on(11, 14, 12), asked=on(11, 7))
    b9 = request(department_staff, atrium, hukou, on(11, 16), on(11, 16, 12), asked=on(11, 7))
    cancel(department_staff, b9, on(11, 8))

    with when(on(10, 20, 9)):
        hukou_case = case_services.case_open(
            actor=None,
            title="候区叫号广播声音太小",
            description="坐在后排听不到叫号。",
            service=service,
            station=station,
            system=True,
            responsible=hukou,
        )
        mall_case = case_services.case_open(
            actor=None,
            title="服务站指引牌被广告挡住",
            description="负一楼入口的指引牌看不到。",
            service=service,
            address="万象城负一楼入口",
            system=True,
            responsible=partner,
        )
    pledge(partner_staff, partner, hukou_case, department_staff, offered=on(10, 21),
           delivered=on(11, 2, 10))  # fmt: skip
    pledge(partner_staff, partner, hukou_case, department_staff, offered=on(10, 23),
           delivered=on(11, 2, 23, 59), resource=parking)  # fmt: skip
    pledge(other_partner_admin, other_partner, mall_case, partner_staff, offered=on(10, 25),
           delivered=on(11, 4))  # fmt: skip
    # Accepted, not delivered yet.
    pledge(partner_staff, partner, hukou_case, department_staff, offered=on(10, 26))

    shift(partner_staff, partner, station, on(11, 1, 10), 4, volunteer="王芳")
    shift(partner_staff, partner, station, on(11, 1, 14), 4.5, volunteer="李娜")
    shift(partner_staff, partner, station, on(11, 2, 10), 4, volunteer="王芳", status="missed")
    # Past midnight: the day it started.
    shift(other_partner_admin, other_partner, station, on(11, 2, 21), 4, volunteer="赵敏")
    shift(partner_staff, partner, station, on(11, 12, 10), 4, volunteer="王芳", status="scheduled")

    def seat(user, organisation, attended=True, name=None):
        return {
            "name": name or user.email,
            "user": user,
            "organisation": organisation,
            "attended": attended,
        }

    training(
        department_staff,
        hukou,
        on(11, 3, 9),
        "3.0",
        [
            seat(department_staff, hukou),
            seat(department_admin, hukou, attended=False),
            # A viewer is no acting member; nor is traffic's clerk a member of hukou.
            seat(department_viewer, hukou),
            seat(other_department_staff, hukou),
            seat(partner_staff, partner),
            # A volunteer without an account: trained, but not in any headcount.
            {"name": "志愿者王芳", "organisation": partner, "attended": True},
        ],
    )
    training(
        partner_staff,
        partner,
        on(11, 5, 14),
        "2.5",
        [
            seat(partner_admin, partner),
            seat(partner_staff, partner),
            seat(other_partner_admin, other_partner),
        ],
    )
    return {
        "service": service,
        "atrium": atrium,
        "parking": parking,
        "bank_room": bank_room,
        "screen": screen,
        "platform": Scope(),
        "mall": Scope(partner_id=partner.pk),
        "bank": Scope(partner_id=other_partner.pk),
        "station": Scope(station_id=station.pk),
        "hukou": Scope(department_id=hukou.pk),
        "traffic": Scope(department_id=traffic.pk),
        "users": {"mall": partner_staff, "bank": other_partner_admin, "hukou": department_staff},
        "organisations": {
            "mall": partner,
            "bank": other_partner,
            "hukou": hukou,
            "traffic": traffic,
        },
    }


def more(world: dict, count: int) -> None:
    """``count`` more rows of every kind, on days the world leaves free."""
    mall = world["organisations"]["mall"]
    hukou = world["organisations"]["hukou"]
    mall_staff, hukou_staff = world["users"]["mall"], world["users"]["hukou"]
    station = world["atrium"].station
    with when(on(10, 20, 9)):
        case = case_services.case_open(
            actor=None, title="等候区座位不够", description="周末没有座位。",
            system=True, responsible=hukou, station=station, service=world["service"],
        )  # fmt: skip
    for index in range(count):
        day = d(10, 21) + dt.timedelta(days=index)
        asked = at(day - dt.timedelta(days=2), 9)
        booking = request(hukou_staff, world["parking"], hukou, at(day, 8), at(day, 9), asked=asked)
        approve(mall_staff, booking, asked + dt.timedelta(hours=index + 1))
        shift(mall_staff, mall, station, at(day, 10), 2, volunteer=f"志愿者{index}")
        pledge(mall_staff, mall, case, hukou_staff, offered=at(d(10, 20), 10 + index),
               delivered=at(day, 15))  # fmt: skip
        training(
            mall_staff,
            mall,
            at(day, 18),
            "1.5",
            [{"name": "mall", "user": mall_staff, "organisation": mall, "attended": True}],
        )


# The registry ----------------------------------------------------------------------------------


def test_the_seven_metrics_are_registered_by_the_partners_app():
    assert metrics.CODES == (
        "partners.resource_hours",
        "partners.booking_approval_rate",
        "partners.booking_response_hours",
        "partners.utilisation",
        "partners.pledges_delivered",
        "partners.volunteer_hours",
        "partners.training_hours_per_member",
    )
    combines = {code: registry.get(code).combine for code in metrics.CODES}
    assert combines == {
        "partners.resource_hours": Combine.SUM,
        "partners.booking_approval_rate": Combine.WEIGHTED_MEAN,
        "partners.booking_response_hours": Combine.DISTRIBUTION,
        "partners.utilisation": Combine.WEIGHTED_MEAN,
        "partners.pledges_delivered": Combine.SUM,
        "partners.volunteer_hours": Combine.SUM,
        "partners.training_hours_per_member": Combine.SUM,
    }
    dimensions = {code: registry.get(code).dimensions for code in metrics.CODES}
    owner_side = {Dimension.PARTNER, Dimension.STATION, Dimension.DEPARTMENT}
    assert dimensions == {
        "partners.resource_hours": owner_side,
        "partners.booking_approval_rate": owner_side,
        "partners.booking_response_hours": owner_side,
        "partners.utilisation": {Dimension.PARTNER, Dimension.STATION},
        "partners.pledges_delivered": owner_side,
        "partners.volunteer_hours": {Dimension.PARTNER, Dimension.STATION},
        "partners.training_hours_per_member": {Dimension.PARTNER, Dimension.DEPARTMENT},
    }
    for code in metrics.CODES:
        metric = registry.get(code)
        assert str(metric.label)
        assert str(metric.description)
        assert str(metric.unit)
        assert metric.higher_is_better is (code != "partners.booking_response_hours")
    response = registry.get("partners.booking_response_hours")
    assert (response.quantile, response.cap, str(response.unit)) == (0.5, 168, "小时")
    # Every code is in exactly one group the services mark.
    groups = (
        set(metrics.BOOKING_USE_CODES)
        | set(metrics.BOOKING_DECISION_CODES)
        | set(metrics.OPENING_CODES)
        | set(metrics.PLEDGE_CODES)
        | set(metrics.SHIFT_CODES)
        | set(metrics.TRAINING_CODES)
    )
    assert groups == set(metrics.CODES)


# Query counts ----------------------------------------------------------------------------------

# Utilisation reads the opening rules, the exceptions and the bookings; training hours read
# the attendance, the organisations' headcounts and the platform's.
QUERIES = dict.fromkeys(metrics.CODES, 1) | {
    "partners.utilisation": 3,
    "partners.training_hours_per_member": 3,
}


def test_each_metric_runs_a_constant_number_of_queries_at_two_sizes(world):
    def counted(code):
        with CaptureQueriesContext(connection) as context:
            rows = compute(code)
        return len(context.captured_queries), {(row.day, row.scope, row.value) for row in rows}

    small = {code: counted(code) for code in metrics.CODES}
    more(world, 6)
    large = {code: counted(code) for code in metrics.CODES}

    for code in metrics.CODES:
        assert small[code][0] == large[code][0] == QUERIES[code], code
        # The larger world was read: the figures changed.
        assert large[code][1] != small[code][1], code


def test_utilisation_by_resource_runs_three_queries_whatever_the_resources(
    world, django_assert_num_queries
):
    ids = [world[name].pk for name in ("atrium", "parking", "bank_room", "screen")]
    with django_assert_num_queries(3):
        metrics.utilisation_by_resource(ids, d(11, 1), d(11, 30))
    more(world, 6)
    with django_assert_num_queries(3):
        metrics.utilisation_by_resource(ids, d(10, 1), d(11, 30))


# Resource hours --------------------------------------------------------------------------------


def test_resource_hours_count_approved_bookings_on_the_days_they_took_place(world):
    rows = compute("partners.resource_hours")
    w = world
    assert values(rows, d(11, 1)) == {
        w["platform"]: 6,
        w["mall"]: 6,
        w["station"]: 6,
        w["hukou"]: 6,
    }
    # The parking booking runs 20:00–04:00: four hours on each day. The bank's room is the
    # bank's contribution to hukou.
    assert values(rows, d(11, 2)) == {
        w["platform"]: 6,
        w["mall"]: 4,
        w["bank"]: 2,
        w["traffic"]: 4,
        w["hukou"]: 2,
    }
    assert values(rows, d(11, 3)) == {w["platform"]: 4, w["mall"]: 4, w["traffic"]: 4}
    # Under way at noon: 10:00–12:00 of 10:00–14:00 so far. The cancelled booking of the 3rd
    # and the approved one ahead on the 15th count nothing.
    assert values(rows, d(11, 10)) == {
        w["platform"]: 2,
        w["mall"]: 2,
        w["station"]: 2,
        w["hukou"]: 2,
    }
    assert days(rows) == {d(11, 1), d(11, 2), d(11, 3), d(11, 10)}


def test_resource_hours_grow_as_the_booking_takes_place(world):
    evening = on(11, 10, 18)
    rows = compute("partners.resource_hours", d(11, 10), d(11, 10), now=evening)
    assert values(rows, d(11, 10))[world["platform"]] == 4
    assert compute("partners.resource_hours", d(11, 15), d(11, 15)) == []
    later = compute("partners.resource_hours", d(11, 15), d(11, 15), now=on(11, 16))
    assert values(later, d(11, 15))[world["platform"]] == 10


# Decisions -------------------------------------------------------------------------------------


def test_approval_rate_by_the_day_of_the_decision(world):
    rows = compute("partners.booking_approval_rate")
    w = world
    assert days(rows) == {d(10, 28), d(10, 29), d(10, 30), d(11, 4), d(11, 5), d(11, 6)}
    # Approved and approved-then-cancelled: both approvals.
    assert values(rows, d(10, 30)) == {
        w["platform"]: 100,
        w["mall"]: 100,
        w["station"]: 100,
        w["traffic"]: 100,
    }
    assert {row.scope: row.weight for row in rows if row.day == d(10, 30)}[w["platform"]] == 2
    assert values(rows, d(11, 5)) == {
        w["platform"]: 0,
        w["mall"]: 0,
        w["station"]: 0,
        w["traffic"]: 0,
    }
    assert values(rows, d(10, 29)) == {w["platform"]: 100, w["bank"]: 100, w["hukou"]: 100}


def test_response_hours_are_whole_hours_from_request_to_decision(world):
    rows = compute("partners.booking_response_hours")
    histograms = {
        (row.day, row.scope): row.histogram for row in rows if row.scope == world["platform"]
    }
    assert histograms == {
        (d(10, 28), world["platform"]): {"6": 1},  # 6 h 30 min
        (d(10, 29), world["platform"]): {"2": 1},
        (d(10, 30), world["platform"]): {"0": 1, "25": 1},
        (d(11, 4), world["platform"]): {"24": 1},
        (d(11, 5), world["platform"]): {"2": 1},
        (d(11, 6), world["platform"]): {"3": 1},
    }
    assert values(rows, d(10, 30))[world["platform"]] == 0


def test_response_hours_are_capped_at_a_week(world, department_staff, partner_staff):
    late = request(
        department_staff,
        world["atrium"],
        world["organisations"]["hukou"],
        on(11, 20),
        on(11, 20, 12),
        asked=on(11, 1),
    )
    approve(partner_staff, late, on(11, 19))
    rows = compute("partners.booking_response_hours", d(11, 19), d(11, 19))
    assert values(rows, d(11, 19))[world["platform"]] == 168


# Utilisation -----------------------------------------------------------------------------------


def test_utilisation_is_booked_open_hours_over_open_hours(world):
    rows = compute("partners.utilisation")
    w = world
    # The atrium opens 10:00–20:00 and 22:00–23:00 that Sunday (a closure, an extra hour):
    # 6 of 11 hours booked. The parking is open 24 hours, unbooked; the bank's room is shut.
    assert values(rows, d(11, 1)) == {
        w["platform"]: round(100 * 6 / 35, 4),
        w["mall"]: round(100 * 6 / 35, 4),
        w["station"]: round(100 * 6 / 11, 4),
    }
    weights = {row.scope: row.weight for row in rows if row.day == d(11, 1)}
    assert weights == {w["platform"]: 35, w["mall"]: 35, w["station"]: 11}
    # Monday: four parking hours before midnight, two hours of the bank's eight.
    assert values(rows, d(11, 2)) == {
        w["platform"]: round(100 * 6 / 44, 4),
        w["mall"]: round(100 * 4 / 36, 4),
        w["bank"]: 25,
        w["station"]: 0,
    }
    # Closed all day: the atrium is not open, so not under-used either.
    assert {
        row.weight for row in rows if row.day == d(11, 11) and row.scope == w["station"]
    } == set()
    # Days ahead count what is booked for them.
    assert values(rows, d(11, 15))[w["station"]] == round(100 * 10 / 12, 4)


def test_utilisation_by_resource_adds_the_days_up_per_resource(world):
    ids = [world[name].pk for name in ("atrium", "parking", "bank_room", "screen")]
    found = metrics.utilisation_by_resource(ids, d(11, 1), d(11, 3))
    assert set(found) == {world["atrium"].pk, world["parking"].pk, world["bank_room"].pk}
    atrium = found[world["atrium"].pk]
    assert (atrium.booked_hours, atrium.open_hours) == (6, 35)
    assert atrium.percent == pytest.approx(100 * 6 / 35)
    assert found[world["parking"].pk].booked_hours == 8
    assert found[world["parking"].pk].open_hours == 72
    assert found[world["bank_room"].pk].percent == pytest.approx(100 * 2 / 16)
    assert metrics.utilisation_by_resource([], d(11, 1), d(11, 3)) == {}
    assert metrics.utilisation_by_resource(ids, d(11, 3), d(11, 1)) == {}


def test_an_inactive_resource_leaves_the_metric_but_not_its_own_page(world, partner_staff):
    services.resource_update(
        actor=partner_staff, resource=world["parking"], data={"is_active": False}
    )
    rows = compute("partners.utilisation", d(11, 2), d(11, 2))
    assert values(rows, d(11, 2))[world["mall"]] == 0  # the atrium alone, unbooked
    found = metrics.utilisation_by_resource([world["parking"].pk], d(11, 2), d(11, 2))
    assert found[world["parking"].pk].booked_hours == 4
    assert Resource.objects.get(pk=world["parking"].pk).is_active is False


# Pledges, volunteers, training -----------------------------------------------------------------


def test_pledges_delivered_by_the_day_of_delivery(world):
    rows = compute("partners.pledges_delivered")
    w = world
    assert values(rows, d(11, 2)) == {
        w["platform"]: 2,
        w["mall"]: 2,
        w["hukou"]: 2,
        w["station"]: 2,
    }
    # To the mall's own case: no department answers for it, and it names no station.
    assert values(rows, d(11, 4)) == {w["platform"]: 1, w["bank"]: 1}
    assert days(rows) == {d(11, 2), d(11, 4)}


def test_volunteer_hours_count_done_shifts_on_the_day_they_started(world):
    rows = compute("partners.volunteer_hours")
    w = world
    assert values(rows, d(11, 1)) == {w["platform"]: 8.5, w["mall"]: 8.5, w["station"]: 8.5}
    # Missed and scheduled shifts count nothing; the bank's evening shift ends on the 3rd.
    assert values(rows, d(11, 2)) == {w["platform"]: 4, w["bank"]: 4, w["station"]: 4}
    assert days(rows) == {d(11, 1), d(11, 2)}


def test_training_hours_are_per_acting_member(world):
    rows = compute("partners.training_hours_per_member")
    w = world
    # Hukou: 3 h by its staff member, over its two acting members (the viewer neither counts
    # nor is counted); the mall: 3 h over two. The platform: 6 h over the six people who act
    # for some organisation.
    assert values(rows, d(11, 3)) == {w["platform"]: 1, w["hukou"]: 1.5, w["mall"]: 1.5}
    assert values(rows, d(11, 5)) == {w["platform"]: 1.25, w["mall"]: 2.5, w["bank"]: 2.5}
    assert days(rows) == {d(11, 3), d(11, 5)}


# Over a period, and through the rollup ----------------------------------------------------------


def test_a_period_combines_the_days_as_each_metric_says(world):
    with when(NOW):
        kpis_backfill(start=FIRST, end=LAST, metric_codes=metrics.CODES)
    w = world
    period = (FIRST, LAST)
    assert measure("partners.resource_hours", None, *period) == 18
    assert measure("partners.resource_hours", w["mall"], *period) == 16
    assert measure("partners.resource_hours", w["hukou"], *period) == 10
    assert measure("partners.resource_hours", w["station"], *period) == 8
    # Six approvals of seven decisions; the mall five of six; traffic one of two.
    assert measure("partners.booking_approval_rate", None, *period) == pytest.approx(600 / 7)
    assert measure("partners.booking_approval_rate", w["mall"], *period) == pytest.approx(500 / 6)
    assert measure("partners.booking_approval_rate", w["traffic"], *period) == 50
    assert measure("partners.booking_approval_rate", w["station"], *period) == 80
    # 0, 2, 2, 3, 6, 24, 25 hours: the merged histogram's median, not a median of medians.
    assert measure("partners.booking_response_hours", None, *period) == 3
    assert measure("partners.booking_response_hours", w["traffic"], *period) == 2
    assert measure("partners.booking_response_hours", None, d(10, 30), d(10, 30)) == 0
    # All booked open hours over all open hours of the three days, not a mean of percentages.
    first_days = (d(11, 1), d(11, 3))
    assert measure("partners.utilisation", None, *first_days) == pytest.approx(100 * 16 / 123)
    assert measure("partners.utilisation", w["station"], *first_days) == pytest.approx(100 * 6 / 35)
    assert measure("partners.pledges_delivered", None, *period) == 3
    assert measure("partners.pledges_delivered", w["hukou"], *period) == 2
    assert measure("partners.volunteer_hours", None, *period) == 12.5
    assert measure("partners.volunteer_hours", w["station"], *period) == 12.5
    assert measure("partners.volunteer_hours", w["bank"], *period) == 4
    # Hours per head add up: the mall's two acting members trained 8 h between them.
    assert measure("partners.training_hours_per_member", w["mall"], *period) == 4
    assert measure("partners.training_hours_per_member", w["hukou"], *period) == 1.5
    assert measure("partners.training_hours_per_member", None, *period) == pytest.approx(13.5 / 6)


def test_the_rollup_stores_the_marked_days_as_computed(world):
    DirtyDay.objects.all().delete()
    Measurement.objects.all().delete()
    marked = [d(11, 1), d(11, 2), d(11, 3), d(11, 5), d(10, 30)]
    kpis_mark_dirty(metric_codes=metrics.CODES, days=marked)

    with when(NOW):
        result = kpis_rollup(limit=1000)

    assert result["marks"] == len(marked) * len(metrics.CODES)
    assert not DirtyDay.objects.exists()
    for code in metrics.CODES:
        stored = {
            (row.day, Scope(row.station_id, row.service_id, row.department_id, row.partner_id)): (
                round(row.value, 4)
            )
            for row in Measurement.objects.filter(metric=code)
        }
        expected = {
            (row.day, row.scope): round(row.value, 4) for row in compute(code) if row.day in marked
        }
        assert stored == expected, code
    assert measure("partners.volunteer_hours", world["mall"], d(11, 1), d(11, 1)) == 8.5
    # A day nobody marked was not computed.
    assert measure("partners.resource_hours", None, d(11, 10), d(11, 10)) is None


def test_days_touched_lists_the_local_days_of_a_time_range():
    assert metrics.days_touched(on(11, 2, 20), on(11, 3, 4)) == {d(11, 2), d(11, 3)}
    assert metrics.days_touched(on(11, 2, 10), on(11, 3, 0)) == {d(11, 2)}
    assert metrics.days_touched(on(11, 2, 23, 59), on(11, 2, 23, 59)) == {d(11, 2)}
    assert metrics.days_touched(on(11, 1, 0), on(11, 8, 0)) == {
        d(11, 1) + dt.timedelta(days=offset) for offset in range(7)
    }
