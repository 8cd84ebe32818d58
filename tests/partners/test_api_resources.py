"""The partners API's resources: the catalogue and its filters, a resource's detail, adding
and changing resources, the weekly opening rules, the week's availability and photos; every
role, the refusals too; bad input that writes nothing; query counts. Bookings are in
``test_api_bookings.py``, the schema in ``test_api_schema.py``."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partners import services
from partners.models import OpeningRule, Resource
from tests.factories import StationFactory
from tests.partners.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.partners.fixtures_api import ROLES, client_for, in_the_past, png, slot, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

RESOURCES = url("resources")
SEATED = {role for role in ROLES if role not in ("anonymous", "citizen")}
MALL = {"partner_admin", "partner_staff", "partner_viewer"}


def names(response) -> set[str]:
    assert response.status_code == 200, response.content[:500]
    return {row["name_zh"] for row in response.json()["results"]}


def resource_input(**overrides) -> dict:
    values = {
        "kind": "equipment",
        "name_zh": "自助拍照机",
        "name_en": "Photo kiosk",
        "station": "mall-station",
        "place_zh": "二层",
        "quantity": "2",
        "unit": "items",
        "visibility": "public",
        "max_booking_minutes": 120,
    }
    values.update(overrides)
    return values


# The catalogue ---------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_the_catalogue_shows_public_resources_to_all_stakeholder_ones_to_seats_and_inactive_ones_to_their_partner(  # noqa: E501
    roles, role, atrium, meeting_room, bank_screen, make_resource
):
    make_resource(name_zh="旧展台", is_active=False)

    shown = names(client_for(roles[role]).get(RESOURCES))

    assert {"中庭", "大堂屏幕"} <= shown
    assert ("会议室" in shown) == (role in SEATED)
    assert ("旧展台" in shown) == (role in MALL | {"superuser"})


@pytest.mark.parametrize("role", ROLES)
def test_a_resource_outside_the_callers_catalogue_is_a_404(
    roles, role, meeting_room, make_resource
):
    inactive = make_resource(name_zh="旧展台", is_active=False)
    client = client_for(roles[role])

    assert client.get(url("resources", meeting_room)).status_code == (
        200 if role in SEATED else 404
    )
    assert client.get(url("resources", inactive)).status_code == (
        200 if role in MALL | {"superuser"} else 404
    )


def test_an_unknown_or_enormous_id_is_a_404_not_a_500(atrium):
    client = client_for()
    assert client.get(url("resources", 987654321)).status_code == 404
    assert client.get(f"{RESOURCES}{'9' * 30}/").status_code == 404
    assert client.get(f"{RESOURCES}{'9' * 30}/availability/").status_code == 404


def test_a_resource_row_has_its_partner_station_place_and_capacity(atrium):
    row = client_for().get(RESOURCES).json()["results"][0]

    assert row["id"] == atrium.pk
    assert row["url"] == f"http://testserver{url('resources', atrium)}"
    assert row["page_url"] == f"/partners/resources/{atrium.pk}/"
    assert row["partner"]["slug"] == "mall"
    assert row["kind"] == "space"
    assert row["kind_label"] == "场地/房间"
    assert (row["name"], row["name_en"]) == ("中庭", "Atrium")
    assert row["station"]["slug"] == "mall-station"
    assert row["place"] == "一层"
    assert (row["quantity"], row["unit"], row["unit_label"]) == ("200.00", "sqm", "平方米")
    assert row["visibility"] == "public"
    assert row["bookable"] is True
    assert row["max_booking_minutes"] == 240
    assert "permissions" not in row  # the detail says what the caller may do


@pytest.mark.parametrize(
    ("role", "manage", "book"),
    [
        ("anonymous", False, False),
        ("citizen", False, False),
        ("department_viewer", False, False),
        ("department_staff", False, True),
        ("other_department_staff", False, True),
        ("partner_admin", True, False),
        ("partner_staff", True, False),
        ("partner_viewer", False, False),
        ("other_partner_admin", False, True),
        ("superuser", True, False),
    ],
)
def test_the_detail_has_the_opening_rules_and_says_what_the_caller_may_do(
    roles, role, manage, book, atrium
):
    body = client_for(roles[role]).get(url("resources", atrium)).json()

    assert body["permissions"] == {"manage": manage, "book": book}
    assert body["opening_rules"][0] == {"weekday": 0, "opens": "08:00", "closes": "22:00"}
    assert len(body["opening_rules"]) == 7
    assert body["photos"] == []
    assert body["availability_url"].endswith(url("resources", atrium, "availability"))


def test_the_catalogue_filters_by_kind_station_partner_visibility_activity_and_text(
    atrium, meeting_room, bank_screen, make_resource, partner_admin
):
    make_resource(
        name_zh="旧展台",
        name_en="Old stand",
        description_zh="已经撤走",
        is_active=False,
        kind="other",
    )
    client = client_for(partner_admin)

    assert names(client.get(RESOURCES, {"kind": "equipment"})) == {"大堂屏幕"}
    assert names(client.get(RESOURCES, {"station": "mall-station"})) == {"中庭", "会议室", "旧展台"}
    assert names(client.get(RESOURCES, {"partner": "bank"})) == {"大堂屏幕"}
    assert names(client.get(RESOURCES, {"visibility": "stakeholders"})) == {"会议室"}
    assert names(client.get(RESOURCES, {"active": "false"})) == {"旧展台"}
    assert "旧展台" not in names(client.get(RESOURCES, {"active": "true"}))
    assert names(client.get(RESOURCES, {"q": "lobby"})) == {"大堂屏幕"}
    assert names(client.get(RESOURCES, {"q": "撤走"})) == {"旧展台"}
    assert names(client.get(RESOURCES, {"q": "atrium 一层"})) == {"中庭"}
    assert names(client.get(RESOURCES, {"q": "atrium 撤走"})) == set()


@pytest.mark.parametrize(
    "query",
    [{"kind": "castle"}, {"partner": "nobody"}, {"station": "nowhere"}, {"active": "maybe"}],
)
def test_a_filter_naming_nothing_is_a_400_naming_it(atrium, query):
    response = client_for().get(RESOURCES, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_catalogue_runs_a_constant_number_of_queries(partner, partner_admin, station):
    def add(count):
        for number in range(count):
            services.resource_create(
                actor=partner_admin,
                partner=partner,
                data={
                    "kind": "equipment",
                    "name_zh": f"屏幕{number}",
                    "station": StationFactory(),
                    "quantity": Decimal("1"),
                    "unit": "items",
                    "visibility": "stakeholders" if number % 2 else "public",
                },
            )

    for user in (None, partner_admin):
        Resource.objects.all().delete()
        assert_constant_queries(
            lambda user=user: client_for(user).get(RESOURCES, {"page_size": 100}),
            add,
            check=lambda response, rows: response.json()["count"] >= rows // 2,
        )


# Adding and changing ----------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 403),
        ("department_staff", 403),
        ("department_admin", 403),
        ("partner_viewer", 403),
        ("partner_admin", 201),
        ("partner_staff", 201),
    ],
)
def test_partner_members_add_resources_to_their_partner_and_others_are_refused(
    roles, role, expected, station
):
    response = client_for(roles[role]).post(RESOURCES, resource_input(), format="json")

    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        body = response.json()
        assert body["partner"]["slug"] == "mall"
        assert body["name_zh"] == "自助拍照机"
        assert body["quantity"] == "2.00"
        assert body["opening_rules"] == []
        assert body["permissions"]["manage"] is True
        assert Resource.objects.get(pk=body["id"]).created_by == roles[role]
    else:
        assert not Resource.objects.exists()


def test_a_partner_must_be_named_by_who_sits_in_none_or_several(
    superuser, partner, partner_admin, other_partner, station
):
    from governance.stakeholders.rules import forget_memberships
    from tests.factories import MembershipFactory

    response = client_for(superuser).post(RESOURCES, resource_input(), format="json")
    assert response.status_code == 400
    assert "partner" in response.json()

    response = client_for(superuser).post(RESOURCES, resource_input(partner="mall"), format="json")
    assert response.status_code == 201
    assert response.json()["partner"]["slug"] == "mall"

    MembershipFactory(user=partner_admin, organisation=other_partner, role="staff")
    forget_memberships(partner_admin)
    response = client_for(partner_admin).post(RESOURCES, resource_input(), format="json")
    assert response.status_code == 400
    assert "partner" in response.json()
    response = client_for(partner_admin).post(
        RESOURCES, resource_input(partner="bank"), format="json"
    )
    assert response.status_code == 201
    assert response.json()["partner"]["slug"] == "bank"


def test_a_member_of_one_partner_cannot_add_a_resource_to_another(other_partner_admin, partner):
    response = client_for(other_partner_admin).post(
        RESOURCES, resource_input(partner="mall", station=None), format="json"
    )
    assert response.status_code == 403
    assert not Resource.objects.filter(partner=partner).exists()


def test_a_funding_resource_is_never_bookable(partner_admin):
    response = client_for(partner_admin).post(
        RESOURCES,
        resource_input(kind="funding", unit="yuan", quantity=50000, bookable=True, station=None),
        format="json",
    )
    assert response.status_code == 201
    assert response.json()["bookable"] is False


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"kind": "castle"}, "kind"),
        ({"name_zh": ""}, "name_zh"),
        ({"name_zh": "x" * 121}, "name_zh"),
        ({"quantity": "0"}, "quantity"),
        ({"quantity": "1.234"}, "quantity"),
        ({"quantity": True}, "quantity"),
        ({"unit": "bushels"}, "unit"),
        ({"visibility": "secret"}, "visibility"),
        ({"max_booking_minutes": 5}, "max_booking_minutes"),
        ({"max_booking_minutes": "60"}, "max_booking_minutes"),
        ({"station": "nowhere"}, "station"),
        ({"bookable": "yes"}, "bookable"),
        ({"partner": "hukou"}, "partner"),  # a department offers no resources
    ],
)
def test_bad_input_is_a_400_naming_the_field_and_adds_nothing(
    partner_admin, station, change, field
):
    response = client_for(partner_admin).post(RESOURCES, resource_input(**change), format="json")

    assert response.status_code == 400
    assert field in response.json()
    assert not Resource.objects.exists()


def test_an_inactive_station_is_refused_by_the_service_as_a_400(partner_admin, station):
    station.is_active = False
    station.save(update_fields=["is_active"])
    response = client_for(partner_admin).post(RESOURCES, resource_input(), format="json")
    assert response.status_code == 400
    assert "station" in response.json()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("department_staff", 404),
        ("department_admin", 404),
        ("other_department_staff", 404),
        ("other_partner_admin", 404),  # partner A on partner B's resource, public or not
        ("partner_viewer", 403),  # their own partner's, but not an acting role
        ("partner_admin", 200),
        ("partner_staff", 200),
        ("superuser", 200),
    ],
)
def test_only_the_partners_acting_members_change_a_resource(roles, role, expected, atrium):
    response = client_for(roles[role]).patch(
        url("resources", atrium), {"name_zh": "中庭（东）", "quantity": 180}, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    atrium.refresh_from_db()
    if expected == 200:
        assert response.json()["name_zh"] == "中庭（东）"
        assert atrium.name_zh == "中庭（东）"
        assert atrium.quantity == Decimal("180")
        assert atrium.name_en == "Atrium"  # only the fields sent change
    else:
        assert atrium.name_zh == "中庭"


def test_another_partners_private_resource_is_a_404_for_every_write(
    other_partner_admin, meeting_room
):
    client = client_for(other_partner_admin)
    assert (
        client.patch(url("resources", meeting_room), {"name_zh": "x"}, format="json").status_code
        == 404
    )
    rules = {"rules": [{"weekday": 0, "opens": "09:00", "closes": "10:00"}]}
    assert (
        client.put(
            url("resources", meeting_room, "opening-rules"), rules, format="json"
        ).status_code
        == 404
    )
    meeting_room.refresh_from_db()
    assert meeting_room.name_zh == "会议室"
    assert meeting_room.opening_rules.count() == 7


def test_a_change_can_retire_a_resource_and_move_it_to_no_station(partner_staff, atrium):
    response = client_for(partner_staff).patch(
        url("resources", atrium), {"is_active": False, "station": None}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["is_active"] is False
    assert response.json()["station"] is None
    assert atrium.pk not in [row["id"] for row in client_for().get(RESOURCES).json()["results"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name_zh": ""}, "name_zh"),
        ({"quantity": -1}, "quantity"),
        ({"max_booking_minutes": 999999}, "max_booking_minutes"),
        ({"visibility": None}, "visibility"),
    ],
)
def test_a_bad_change_is_a_400_and_changes_nothing(partner_admin, atrium, change, field):
    response = client_for(partner_admin).patch(url("resources", atrium), change, format="json")
    assert response.status_code == 400
    assert field in response.json()
    atrium.refresh_from_db()
    assert (atrium.name_zh, atrium.quantity, atrium.max_booking_minutes) == (
        "中庭",
        Decimal("200"),
        240,
    )


def test_editing_takes_json_only(partner_admin, atrium):
    response = client_for(partner_admin).patch(url("resources", atrium), {"name_zh": "x"})
    assert response.status_code == 415


# Opening rules ----------------------------------------------------------------------------------
def test_anyone_who_sees_a_resource_reads_its_opening_rules(atrium):
    response = client_for().get(url("resources", atrium, "opening-rules"))
    assert response.status_code == 200
    assert len(response.json()["rules"]) == 7


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("department_staff", 404),
        ("other_partner_admin", 404),
        ("partner_viewer", 403),
        ("partner_staff", 200),
        ("partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_the_partners_acting_members_replace_the_weekly_rules(roles, role, expected, atrium):
    rules = {
        "rules": [
            {"weekday": 5, "opens": "10:00", "closes": "00:00"},
            {"weekday": 5, "opens": "06:00", "closes": "09:00"},
            {"weekday": 6, "opens": "10:00", "closes": "18:00"},
        ]
    }
    response = client_for(roles[role]).put(
        url("resources", atrium, "opening-rules"), rules, format="json"
    )

    assert response.status_code == expected, response.content[:300]
    stored = list(OpeningRule.objects.filter(resource=atrium).values_list("weekday", "opens"))
    if expected == 200:
        assert response.json()["rules"] == [
            {"weekday": 5, "opens": "06:00", "closes": "09:00"},
            {"weekday": 5, "opens": "10:00", "closes": "00:00"},
            {"weekday": 6, "opens": "10:00", "closes": "18:00"},
        ]
        assert len(stored) == 3
    else:
        assert len(stored) == 7


@pytest.mark.parametrize(
    ("rule", "field"),
    [
        ({"weekday": 7, "opens": "10:00", "closes": "12:00"}, "rules"),
        ({"weekday": "1", "opens": "10:00", "closes": "12:00"}, "rules"),
        ({"weekday": 1, "opens": "25:00", "closes": "12:00"}, "rules"),
        ({"weekday": 1, "opens": "12:00", "closes": "10:00"}, "closes"),
    ],
)
def test_a_bad_rule_is_a_400_and_the_old_rules_stay(partner_admin, atrium, rule, field):
    response = client_for(partner_admin).put(
        url("resources", atrium, "opening-rules"), {"rules": [rule]}, format="json"
    )
    assert response.status_code == 400
    assert field in response.json()
    assert OpeningRule.objects.filter(resource=atrium).count() == 7


def test_overlapping_windows_of_one_day_are_refused(partner_admin, atrium):
    rules = [
        {"weekday": 2, "opens": "09:00", "closes": "12:00"},
        {"weekday": 2, "opens": "11:00", "closes": "14:00"},
    ]
    response = client_for(partner_admin).put(
        url("resources", atrium, "opening-rules"), {"rules": rules}, format="json"
    )
    assert response.status_code == 400
    assert "opens" in response.json()
    assert OpeningRule.objects.filter(resource=atrium).count() == 7


def test_an_empty_list_closes_the_resource_to_weekly_bookings(partner_admin, atrium):
    response = client_for(partner_admin).put(
        url("resources", atrium, "opening-rules"), {"rules": []}, format="json"
    )
    assert response.status_code == 200
    assert response.json() == {"rules": []}
    days = client_for().get(url("resources", atrium, "availability")).json()["days"]
    assert all(day["windows"] == [] for day in days)


# Availability -----------------------------------------------------------------------------------
def availability(client, resource, **query):
    response = client.get(url("resources", resource, "availability"), query)
    assert response.status_code == 200, response.content[:500]
    return response.json()


def test_the_week_has_seven_days_with_windows_closures_and_bookings(
    atrium, book, partner_admin, department_staff
):
    start, end = slot(days=14, hour=10)
    booking = book(when=(start, end), approve_by=partner_admin)
    day = timezone.localtime(start).date()
    closed_from = start.replace(hour=15)
    services.exception_add(
        actor=partner_admin,
        resource=atrium,
        kind="closed",
        starts_at=closed_from,
        ends_at=closed_from + dt.timedelta(hours=2),
        reason="地面保养",
    )

    body = availability(client_for(department_staff), atrium, week=day.isoformat())

    monday = day - dt.timedelta(days=day.weekday())
    assert body["week"] == monday.isoformat()
    assert body["previous_week"] == (monday - dt.timedelta(days=7)).isoformat()
    assert body["next_week"] == (monday + dt.timedelta(days=7)).isoformat()
    assert body["timezone"] == "Asia/Shanghai"
    assert body["resource"]["id"] == atrium.pk
    assert [row["date"] for row in body["days"]] == [
        (monday + dt.timedelta(days=offset)).isoformat() for offset in range(7)
    ]
    that_day = body["days"][day.weekday()]
    assert that_day["windows"] == [
        {"starts_at": f"{day}T08:00:00+08:00", "ends_at": f"{day}T15:00:00+08:00"},
        {"starts_at": f"{day}T17:00:00+08:00", "ends_at": f"{day}T22:00:00+08:00"},
    ]
    assert that_day["closures"] == [
        {
            "starts_at": f"{day}T15:00:00+08:00",
            "ends_at": f"{day}T17:00:00+08:00",
            "reason": "地面保养",
        }
    ]
    assert that_day["bookings"] == [
        {
            "starts_at": f"{day}T10:00:00+08:00",
            "ends_at": f"{day}T12:00:00+08:00",
            "id": booking.pk,
            "status": "approved",
            "hidden": False,
            "requester": {
                "slug": "hukou",
                "kind": "department",
                "name": "户政管理",
                "name_zh": "户政管理",
                "name_en": "Household Administration",
            },
            "purpose": "交通安全宣传",
        }
    ]


@pytest.mark.parametrize(
    ("role", "sees_who"),
    [
        ("anonymous", False),
        ("citizen", False),
        ("other_department_staff", False),
        ("other_partner_admin", False),
        ("department_viewer", True),  # their organisation's own request
        ("department_staff", True),
        ("partner_viewer", True),  # the resource's partner sees every booking of it
        ("partner_admin", True),
        ("superuser", True),
    ],
)
def test_other_organisations_bookings_are_taken_time_only(roles, role, sees_who, atrium, book):
    start, _end = slot(days=14)
    book(when=slot(days=14), purpose="户政宣传日")

    body = availability(client_for(roles[role]), atrium, week=start.date().isoformat())

    [shown] = [row for day in body["days"] for row in day["bookings"]]
    assert shown["status"] == "requested"
    assert shown["starts_at"].endswith("T10:00:00+08:00")
    assert shown["hidden"] is (not sees_who)
    if sees_who:
        assert shown["purpose"] == "户政宣传日"
        assert shown["requester"]["slug"] == "hukou"
        assert shown["id"] is not None
    else:
        assert (shown["id"], shown["requester"], shown["purpose"]) == (None, None, None)
        assert "户政" not in str(body["days"])


def test_the_week_defaults_to_this_week_and_any_day_names_its_week(atrium):
    today = timezone.localdate()
    body = availability(client_for(), atrium)
    assert body["week"] == (today - dt.timedelta(days=today.weekday())).isoformat()
    assert availability(client_for(), atrium, week="2030-01-03")["week"] == "2029-12-31"


@pytest.mark.parametrize("week", ["tomorrow", "2030-02-30", "1899-12-31", "9999-12-31", ""])
def test_a_bad_week_is_a_400_naming_it(atrium, week):
    response = client_for().get(url("resources", atrium, "availability"), {"week": week})
    assert response.status_code == 400
    assert "week" in response.json()


def test_a_resource_the_caller_cannot_see_has_no_availability(citizen, meeting_room):
    response = client_for(citizen).get(url("resources", meeting_room, "availability"))
    assert response.status_code == 404


def test_availability_runs_constant_queries_whatever_the_resources_past(
    atrium, department, department_staff, partner_admin
):
    """The benchmark's claim in miniature: bookings of past weeks are never read, so a
    resource with many has the same query count as one with a few."""
    past = {"day": 0}
    zone = timezone.get_current_timezone()
    first = dt.datetime.combine(
        timezone.localdate() - dt.timedelta(days=400), dt.time(9), tzinfo=zone
    )

    def add_past_bookings(count):
        for _ in range(count):
            start = first + dt.timedelta(days=past["day"])
            past["day"] += 1
            with in_the_past(start - dt.timedelta(days=1)):
                booking = services.booking_request(
                    actor=department_staff,
                    resource=atrium,
                    requester=department,
                    starts_at=start,
                    ends_at=start + dt.timedelta(hours=1),
                    purpose="往期活动",
                )
                services.booking_approve(actor=partner_admin, booking=booking)

    for user in (None, department_staff, partner_admin):
        assert_constant_queries(
            lambda user=user: client_for(user).get(url("resources", atrium, "availability")),
            add_past_bookings,
            small=3,
            large=30,
            max_queries=8,
        )


def test_availability_runs_constant_queries_whatever_the_weeks_bookings(
    atrium, book, department_staff, other_department, other_department_staff, partner_admin
):
    start, _end = slot(days=14, hour=8, hours=1)
    made = {"count": 0}

    def add_requests(count):
        for _ in range(count):
            hour = 8 + made["count"] % 13
            day = made["count"] // 13
            made["count"] += 1
            requester, actor = (
                (other_department, other_department_staff)
                if made["count"] % 2
                else (None, department_staff)
            )
            moment = start + dt.timedelta(days=day % 7, hours=hour - 8)
            book(when=(moment, moment + dt.timedelta(hours=1)), requester=requester, actor=actor)

    for user in (department_staff, partner_admin):
        assert_constant_queries(
            lambda user=user: client_for(user).get(
                url("resources", atrium, "availability"), {"week": start.date().isoformat()}
            ),
            add_requests,
            small=4,
            large=40,
            max_queries=8,
        )


# Photos -----------------------------------------------------------------------------------------
def test_a_photo_is_streamed_to_whoever_sees_its_resource_never_from_a_public_address(
    partner_admin, atrium, meeting_room, citizen
):
    photo = services.photo_add(
        actor=partner_admin,
        resource=meeting_room,
        upload=SimpleUploadedFile("room.png", png(), "image/png"),
        caption="会议室全景",
    )
    detail = client_for(partner_admin).get(url("resources", meeting_room)).json()
    [listed] = detail["photos"]
    assert listed["caption"] == "会议室全景"
    assert listed["content_type"] == "image/png"
    assert "/media/" not in listed["url"]
    assert listed["url"].endswith(f"{url('resources', meeting_room)}photos/{photo.pk}/")

    response = client_for(partner_admin).get(listed["url"])
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "private, no-store"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")

    # A citizen does not see a stakeholders-only resource, nor its photos.
    assert client_for(citizen).get(listed["url"]).status_code == 404
    # A photo is read through its own resource only.
    other = f"{url('resources', atrium)}photos/{photo.pk}/"
    assert client_for(partner_admin).get(other).status_code == 404
