"""The partners API's people side: volunteer shifts and training sessions with their
attendance; who reads and who keeps them, for every role; bad input that writes nothing;
filters and query counts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from partners import services
from partners.models import Attendance, TrainingSession, VolunteerShift
from tests.factories import StationFactory
from tests.partners.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.partners.fixtures_api import ROLES, client_for, slot, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

SHIFTS = url("shifts")
TRAININGS = url("trainings")
MALL = {"partner_admin", "partner_staff", "partner_viewer"}
HUKOU = {"department_viewer", "department_staff", "department_admin"}
SEATED = {role for role in ROLES if role not in ("anonymous", "citizen")}


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


@pytest.fixture
def schedule(partner, partner_staff, station):
    """A shift through ``services.shift_create``: a mall volunteer at the station."""

    def make(*, when=None, volunteer="王小明", owner=None, actor=None, **data) -> VolunteerShift:
        starts_at, ends_at = when or slot(days=3, hour=10, hours=4)
        values = {
            "station": station,
            "volunteer": volunteer,
            "role": "引导员",
            "starts_at": starts_at,
            "ends_at": ends_at,
        }
        values.update(data)
        return services.shift_create(
            actor=actor or partner_staff, partner=owner or partner, data=values
        )

    return make


@pytest.fixture
def train(department, department_staff):
    """A session through ``services.training_create``: hukou trains its staff."""

    def make(*, organiser=None, actor=None, when=None, **data) -> TrainingSession:
        values = {
            "topic_zh": "户籍业务政策培训",
            "trainer": "李老师",
            "starts_at": when or slot(days=5, hour=14)[0],
            "hours": Decimal("2"),
        }
        values.update(data)
        return services.training_create(
            actor=actor or department_staff, organiser=organiser or department, data=values
        )

    return make


# Shifts ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_a_shift_is_read_by_its_partner_and_the_departments_at_its_station(
    roles, role, schedule, other_partner, other_partner_admin
):
    shift = schedule()
    elsewhere = schedule(
        owner=other_partner,
        actor=other_partner_admin,
        station=StationFactory(slug="bank-branch"),
        volunteer="赵敏",
    )
    client = client_for(roles[role])

    sees = role in MALL | HUKOU | {"superuser"}
    listed = ids(client.get(SHIFTS))
    assert (shift.pk in listed) is sees
    assert client.get(url("shifts", shift)).status_code == (200 if sees else 404)
    sees_bank = role in {"other_partner_admin", "superuser"}
    assert (elsewhere.pk in listed) is sees_bank
    assert client.get(url("shifts", elsewhere)).status_code == (200 if sees_bank else 404)


def test_a_shift_row_has_the_volunteer_role_station_and_hours(schedule, partner_admin):
    shift = schedule()
    body = client_for(partner_admin).get(url("shifts", shift)).json()
    assert body["url"] == f"http://testserver{url('shifts', shift)}"
    assert body["partner"]["slug"] == "mall"
    assert body["station"]["slug"] == "mall-station"
    assert (body["volunteer"], body["role"]) == ("王小明", "引导员")
    assert (body["status"], body["status_label"]) == ("scheduled", "已排班")
    assert body["hours"] == "4.00"
    assert body["permissions"] == {"manage": True}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 403),
        ("department_staff", 403),
        ("department_admin", 403),
        ("partner_viewer", 403),
        ("superuser", 400),  # sits in no partner: it must name one
        ("partner_staff", 201),
        ("partner_admin", 201),
        ("other_partner_admin", 201),
    ],
)
def test_partners_acting_members_schedule_volunteers(roles, role, expected, station):
    starts_at, ends_at = slot(days=2, hour=9, hours=3)
    response = client_for(roles[role]).post(
        SHIFTS,
        {
            "station": "mall-station",
            "volunteer": "陈静",
            "role": "秩序维护",
            "starts_at": iso(starts_at),
            "ends_at": iso(ends_at),
        },
        format="json",
    )
    assert response.status_code == expected, response.content[:300]
    if expected == 400:
        assert "partner" in response.json()
    if expected == 201:
        body = response.json()
        assert body["partner"]["slug"] == ("bank" if role == "other_partner_admin" else "mall")
        assert body["hours"] == "3.00"
    else:
        assert not VolunteerShift.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"ends_at": "before"}, "ends_at"),
        ({"ends_at": "too_long"}, "ends_at"),
        ({"station": "nowhere"}, "station"),
        ({"volunteer": ""}, "volunteer"),
        ({"status": "maybe"}, "status"),
        ({"partner": "hukou"}, "partner"),
    ],
)
def test_a_bad_shift_is_a_400_naming_the_field_and_writes_nothing(
    partner_staff, station, change, field
):
    starts_at, ends_at = slot(days=2, hour=9, hours=3)
    values = {
        "station": "mall-station",
        "volunteer": "陈静",
        "role": "秩序维护",
        "starts_at": iso(starts_at),
        "ends_at": iso(ends_at),
    }
    values.update(change)
    if change.get("ends_at") == "before":
        values["ends_at"] = iso(starts_at - dt.timedelta(hours=1))
    elif change.get("ends_at") == "too_long":
        values["ends_at"] = iso(starts_at + dt.timedelta(hours=13))
    response = client_for(partner_staff).post(SHIFTS, values, format="json")

    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert not VolunteerShift.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("other_partner_admin", 404),
        ("other_department_staff", 404),
        ("department_staff", 403),  # reads it (at its station), keeps nothing
        ("partner_viewer", 403),
        ("partner_staff", 200),
        ("partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_the_partners_acting_members_change_a_shift(roles, role, expected, schedule):
    shift = schedule()
    response = client_for(roles[role]).patch(
        url("shifts", shift), {"role": "咨询引导", "status": "cancelled"}, format="json"
    )
    assert response.status_code == expected, response.content[:300]
    shift.refresh_from_db()
    assert (shift.role, shift.status) == (
        ("咨询引导", "cancelled") if expected == 200 else ("引导员", "scheduled")
    )


def test_a_shift_is_marked_done_only_once_it_has_started(schedule, partner_staff):
    shift = schedule()
    response = client_for(partner_staff).patch(
        url("shifts", shift), {"status": "done"}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.json()
    shift.refresh_from_db()
    assert shift.status == "scheduled"


def test_the_shift_list_filters_and_runs_constant_queries(
    schedule, partner_admin, department_staff, station
):
    first = schedule(when=slot(days=1, hour=9, hours=2))
    second = schedule(when=slot(days=4, hour=9, hours=2), volunteer="李四")
    services.shift_update(actor=partner_admin, shift=second, data={"status": "cancelled"})
    client = client_for(partner_admin)
    today = timezone.localdate()

    assert ids(client.get(SHIFTS)) == [first.pk, second.pk]  # earliest first
    assert ids(client.get(SHIFTS, {"status": "cancelled"})) == [second.pk]
    assert ids(client.get(SHIFTS, {"station": "mall-station", "partner": "mall"})) == [
        first.pk,
        second.pk,
    ]
    window = {"date_from": (today + dt.timedelta(days=2)).isoformat()}
    assert ids(client.get(SHIFTS, window)) == [second.pk]
    assert client.get(SHIFTS, {"status": "asleep"}).status_code == 400

    made = {"count": 0}

    def add(count):
        for _ in range(count):
            made["count"] += 1
            elsewhere = {"station": StationFactory()} if made["count"] % 2 else {}
            schedule(volunteer=f"志愿者{made['count']}", **elsewhere)

    for user in (partner_admin, department_staff):
        VolunteerShift.objects.all().delete()
        assert_constant_queries(
            lambda user=user: client_for(user).get(SHIFTS, {"page_size": 100}),
            add,
        )


# Training -------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_sessions_are_read_by_anyone_with_a_seat(roles, role, train):
    session = train()
    client = client_for(roles[role])
    assert (session.pk in ids(client.get(TRAININGS))) is (role in SEATED)
    assert client.get(url("trainings", session)).status_code == (200 if role in SEATED else 404)


def test_a_session_row_has_its_organiser_topic_trainer_and_hours(train, partner_staff):
    session = train(topic_en="Household registration policy", location="三楼会议室")
    body = client_for(partner_staff).get(url("trainings", session)).json()
    assert body["url"] == f"http://testserver{url('trainings', session)}"
    assert body["page_url"] == f"/partners/trainings/{session.pk}/"
    assert body["organiser"]["slug"] == "hukou"
    assert (body["topic"], body["topic_en"]) == (
        "户籍业务政策培训",
        "Household registration policy",
    )
    assert (body["trainer"], body["location"], body["hours"]) == ("李老师", "三楼会议室", "2.0")
    assert body["permissions"] == {"manage": False, "view_attendance": False}


@pytest.mark.parametrize(
    ("role", "expected", "organiser"),
    [
        ("anonymous", 401, None),
        ("citizen", 403, None),
        ("department_viewer", 403, None),
        ("partner_viewer", 403, None),
        ("superuser", 400, None),  # sits nowhere: it must name the organiser
        ("department_staff", 201, "hukou"),
        ("partner_staff", 201, "mall"),
        ("other_partner_admin", 201, "bank"),
    ],
)
def test_acting_members_record_sessions_for_their_organisation(roles, role, expected, organiser):
    response = client_for(roles[role]).post(
        TRAININGS,
        {
            "topic_zh": "志愿服务礼仪",
            "trainer": "周老师",
            "starts_at": iso(slot(days=6, hour=9)[0]),
            "hours": 1.5,
        },
        format="json",
    )
    assert response.status_code == expected, response.content[:300]
    if expected == 400:
        assert "organiser" in response.json()
    if expected == 201:
        assert response.json()["organiser"]["slug"] == organiser
        assert response.json()["hours"] == "1.5"
        assert response.json()["permissions"] == {"manage": True, "view_attendance": True}
    else:
        assert not TrainingSession.objects.exists()


def test_nobody_records_a_session_for_an_organisation_they_do_not_act_for(
    department_staff, partner
):
    response = client_for(department_staff).post(
        TRAININGS,
        {
            "organiser": "mall",
            "topic_zh": "志愿服务礼仪",
            "trainer": "周老师",
            "starts_at": iso(slot(days=6)[0]),
            "hours": 2,
        },
        format="json",
    )
    assert response.status_code == 403
    assert not TrainingSession.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"hours": 0}, "hours"),
        ({"hours": 41}, "hours"),
        ({"hours": "1.25"}, "hours"),
        ({"hours": True}, "hours"),
        ({"topic_zh": ""}, "topic_zh"),
        ({"trainer": "x" * 121}, "trainer"),
        ({"starts_at": "soon"}, "starts_at"),
        ({"station": "nowhere"}, "station"),
        ({"organiser": "nobody"}, "organiser"),
    ],
)
def test_a_bad_session_is_a_400_naming_the_field(department_staff, change, field):
    values = {
        "topic_zh": "志愿服务礼仪",
        "trainer": "周老师",
        "starts_at": iso(slot(days=6)[0]),
        "hours": 2,
    }
    values.update(change)
    response = client_for(department_staff).post(TRAININGS, values, format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert not TrainingSession.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("department_viewer", 403),
        ("partner_admin", 403),  # reads every session, keeps only its own organisation's
        ("other_department_staff", 403),
        ("department_staff", 200),
        ("department_admin", 200),
        ("superuser", 200),
    ],
)
def test_the_organisers_acting_members_change_a_session(roles, role, expected, train):
    session = train()
    response = client_for(roles[role]).patch(
        url("trainings", session), {"trainer": "王老师", "hours": "3.5"}, format="json"
    )
    assert response.status_code == expected, response.content[:300]
    session.refresh_from_db()
    assert session.trainer == ("王老师" if expected == 200 else "李老师")


@pytest.mark.parametrize(
    ("role", "read", "write"),
    [
        ("anonymous", 404, 401),
        ("citizen", 404, 404),
        ("partner_admin", 403, 403),
        ("other_department_staff", 403, 403),
        ("department_viewer", 200, 403),
        ("department_staff", 200, 200),
        ("department_admin", 200, 200),
        ("superuser", 200, 200),
    ],
)
def test_the_organiser_keeps_the_attendance_list(
    roles, role, read, write, train, department, partner
):
    session = train()
    services.attendance_record(
        actor=roles["department_staff"],
        session=session,
        attendees=[{"name": "张三", "organisation": department}],
    )
    client = client_for(roles[role])

    response = client.get(url("trainings", session, "attendance"))
    assert response.status_code == read
    if read == 200:
        assert response.json() == {
            "attendees": [
                {
                    "name": "张三",
                    "organisation": {
                        "slug": "hukou",
                        "kind": "department",
                        "name": "户政管理",
                        "name_zh": "户政管理",
                        "name_en": "Household Administration",
                    },
                    "attended": False,
                }
            ]
        }

    response = client.put(
        url("trainings", session, "attendance"),
        {
            "attendees": [
                {"name": "张三", "organisation": "hukou"},
                {"name": "李四", "organisation": "mall"},
            ]
        },
        format="json",
    )
    assert response.status_code == write, response.content[:300]
    names = set(Attendance.objects.filter(session=session).values_list("name", flat=True))
    assert names == ({"张三", "李四"} if write == 200 else {"张三"})


def test_attendance_is_recorded_once_the_session_has_started_and_names_are_unique(
    train, department_staff
):
    session = train()
    client = client_for(department_staff)
    attendance = url("trainings", session, "attendance")

    response = client.put(
        attendance,
        {"attendees": [{"name": "张三", "organisation": "hukou", "attended": True}]},
        format="json",
    )
    assert response.status_code == 400
    assert "attendees.0.attended" in response.json()

    response = client.put(
        attendance,
        {"attendees": [{"name": "张三", "organisation": "hukou"}] * 2},
        format="json",
    )
    assert response.status_code == 400
    assert "attendees.1.name" in response.json()

    response = client.put(
        attendance, {"attendees": [{"name": "张三", "organisation": "nobody"}]}, format="json"
    )
    assert response.status_code == 400
    assert "attendees" in response.json()
    assert not Attendance.objects.exists()


def test_attendance_of_a_session_that_has_started_is_recorded(department, department_staff):
    from governance.core import clock

    start = timezone.now() - dt.timedelta(days=1)
    with clock.replaying(lambda: start - dt.timedelta(days=7)):
        session = services.training_create(
            actor=department_staff,
            organiser=department,
            data={"topic_zh": "急救培训", "trainer": "红十字会", "starts_at": start, "hours": 3},
        )
    response = client_for(department_staff).put(
        url("trainings", session, "attendance"),
        {"attendees": [{"name": "张三", "organisation": "hukou", "attended": True}]},
        format="json",
    )
    assert response.status_code == 200
    assert response.json()["attendees"][0]["attended"] is True


def test_the_session_list_filters_and_runs_constant_queries(
    train, department_staff, partner, partner_staff, station
):
    mall_session = train(organiser=partner, actor=partner_staff, station=station)
    hukou_session = train(when=slot(days=9, hour=9)[0])
    client = client_for(department_staff)
    today = timezone.localdate()

    assert ids(client.get(TRAININGS)) == [hukou_session.pk, mall_session.pk]  # latest first
    assert ids(client.get(TRAININGS, {"organiser": "mall"})) == [mall_session.pk]
    assert ids(client.get(TRAININGS, {"station": "mall-station"})) == [mall_session.pk]
    assert ids(
        client.get(TRAININGS, {"date_from": (today + dt.timedelta(days=7)).isoformat()})
    ) == [hukou_session.pk]
    assert ids(client.get(TRAININGS, {"date_to": (today + dt.timedelta(days=7)).isoformat()})) == [
        mall_session.pk
    ]
    assert client.get(TRAININGS, {"organiser": "nobody"}).status_code == 400

    def add(count):
        for number in range(count):
            train(station=StationFactory() if number % 2 else None)

    TrainingSession.objects.all().delete()
    assert_constant_queries(
        lambda: client_for(department_staff).get(TRAININGS, {"page_size": 100}), add
    )
