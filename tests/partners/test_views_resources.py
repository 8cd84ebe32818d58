"""The resource pages for every role: the catalogue (what each role sees, filters, pages,
thumbnails), a resource's page (details, hours in words, the week calendar and who sees whose
bookings), its photos, the booking form (who may ask, what is refused and why, the overlap
that names the booking in the way), and resource management (fields, weekly hours, closures,
photos; another partner's resource is a 404). Constant query counts on the lists and on the
calendar whatever the history."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from partners import services
from partners.models import AvailabilityException, Booking, OpeningRule, Resource, ResourcePhoto
from tests.partners.fixtures_views import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_views import (
    BOOKERS,
    MALL,
    ROLES,
    SEATED,
    at,
    fresh,
    png,
    sign_in,
    when,
)
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

CATALOGUE = "/partners/resources/"


def html_of(response) -> str:
    return response.content.decode()


def rows_of(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-resource="(\d+)"', html_of(response))]


def page_url(resource: Resource, **query) -> str:
    url = reverse("partners:resource", args=[resource.pk])
    if query:
        url += "?" + "&".join(f"{key}={value}" for key, value in query.items())
    return url


def book_url(resource: Resource) -> str:
    return reverse("partners:book", args=[resource.pk])


def cell(html: str, day: dt.date) -> str:
    start = html.index(f'data-day="{day:%Y-%m-%d}"')
    following = html.find('data-day="', start + 10)
    return html[start : following if following != -1 else len(html)]


# The catalogue ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_catalogue_shows_each_role_the_resources_it_may_see(
    request, client, role, atrium, room, retired, bank_hall
):
    sign_in(client, request, role)
    response = client.get(CATALOGUE)
    assert response.status_code == 200
    rows = set(rows_of(response))
    assert atrium.pk in rows  # public: everyone
    # Stakeholders-only: anyone with a seat (and superusers).
    assert (room.pk in rows) is (role in SEATED or role == "superuser")
    assert (bank_hall.pk in rows) is (role in SEATED or role == "superuser")
    # Inactive: only its partner's members, and superusers.
    assert (retired.pk in rows) is (role in MALL or role == "superuser")


def test_catalogue_card_shows_name_kind_partner_station_place_capacity_and_tags(
    client, partner_admin, atrium, retired, room
):
    html = html_of(client.get(CATALOGUE))
    card = html[html.index(f'data-resource="{atrium.pk}"') :]
    card = card[: card.index("</li>")]
    assert "中庭活动区" in card
    assert "场地/房间" in card
    assert "万象城" in card  # the partner
    assert "万象城警务站" in card  # the station
    assert "一层中庭" in card
    assert "200 平方米" in card
    assert "可预约" in card
    assert "管理" not in card  # anonymous readers manage nothing
    client.force_login(partner_admin)
    html = html_of(client.get(CATALOGUE))
    retired_card = html[html.index(f'data-resource="{retired.pk}"') :]
    retired_card = retired_card[: retired_card.index("</li>")]
    assert "已停用" in retired_card
    assert reverse("partners:resource_edit", args=[retired.pk]) in retired_card
    room_card = html[html.index(f'data-resource="{room.pk}"') :]
    assert "仅共治成员" in room_card[: room_card.index("</li>")]


def test_catalogue_filters_by_kind_station_partner_and_name(
    client, department_staff, atrium, room, bank_hall, make_resource, mall_station
):
    screen = make_resource(kind="equipment", name_zh="LED 大屏", name_en="LED wall", unit="items")
    client.force_login(department_staff)
    assert set(rows_of(client.get(f"{CATALOGUE}?kind=equipment"))) == {screen.pk}
    assert set(rows_of(client.get(f"{CATALOGUE}?station={mall_station.slug}"))) == {
        atrium.pk,
        room.pk,
        screen.pk,
    }
    assert set(rows_of(client.get(f"{CATALOGUE}?partner=bank"))) == {bank_hall.pk}
    assert set(rows_of(client.get(f"{CATALOGUE}?q=会议"))) == {room.pk}
    assert set(rows_of(client.get(f"{CATALOGUE}?q=led"))) == {screen.pk}  # English, any case
    assert set(rows_of(client.get(f"{CATALOGUE}?partner=mall&kind=space"))) == {
        atrium.pk,
        room.pk,
    }
    empty = client.get(f"{CATALOGUE}?q=没有这种资源")
    assert empty.status_code == 200
    assert "没有符合条件的资源" in html_of(empty)


@pytest.mark.parametrize(
    "query", ["kind=castle", "station=nowhere", "partner=nobody", "q=" + "长" * 61]
)
def test_catalogue_refuses_a_bad_filter_with_400_and_says_why(client, atrium, query):
    response = client.get(f"{CATALOGUE}?{query}")
    assert response.status_code == 400
    assert 'class="field-error"' in html_of(response)
    assert rows_of(response) == []


def test_catalogue_filter_cannot_reveal_what_the_reader_may_not_see(client, room, bank_hall):
    assert rows_of(client.get(f"{CATALOGUE}?partner=bank")) == []
    assert rows_of(client.get(f"{CATALOGUE}?q=会议室")) == []


def test_catalogue_pages_and_tolerates_a_bad_page_number(client, make_resource):
    for number in range(30):
        make_resource(name_zh=f"资源{number:02d}", windows=())
    first = client.get(CATALOGUE)
    second = client.get(f"{CATALOGUE}?page=2")
    assert len(rows_of(first)) == 24
    assert len(rows_of(second)) == 6
    assert not set(rows_of(first)) & set(rows_of(second))
    assert "第 1 / 2 页" in html_of(first)
    assert client.get(f"{CATALOGUE}?page=abc").status_code == 200
    assert client.get(f"{CATALOGUE}?page=99").status_code == 200


def test_catalogue_shows_the_first_photo_as_thumbnail(client, atrium, partner_admin):
    first = services.photo_add(actor=partner_admin, resource=atrium, upload=png(), caption="中庭")
    services.photo_add(actor=partner_admin, resource=atrium, upload=png("b.png"), caption="侧面")
    html = html_of(client.get(CATALOGUE))
    card = html[html.index(f'data-resource="{atrium.pk}"') :]
    card = card[: card.index("</li>")]
    src = reverse("partners:resource_photo", args=[atrium.pk, first.pk])
    assert f'src="{src}"' in card
    assert 'alt="中庭"' in card
    assert 'loading="lazy"' in card


def test_catalogue_runs_constant_queries(client, department_staff, make_resource, partner_admin):
    client.force_login(department_staff)

    def add(count):
        for _ in range(count):
            resource = make_resource(name_zh=f"资源{Resource.objects.count()}", windows=())
            services.photo_add(actor=partner_admin, resource=resource, upload=png())

    assert_constant_queries(
        lambda: client.get(f"{CATALOGUE}?partner=mall"),
        add,
        small=3,
        large=20,
        check=lambda response, rows: len(rows_of(response)) == rows,
        max_queries=14,
    )


# One resource -------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_resource_page_is_shown_to_whoever_may_see_it_and_404_otherwise(
    request, client, role, atrium, room, retired, bank_hall
):
    sign_in(client, request, role)
    assert client.get(page_url(atrium)).status_code == 200
    sees_stakeholders = role in SEATED or role == "superuser"
    assert client.get(page_url(room)).status_code == (200 if sees_stakeholders else 404)
    assert client.get(page_url(bank_hall)).status_code == (200 if sees_stakeholders else 404)
    sees_retired = role in MALL or role == "superuser"
    assert client.get(page_url(retired)).status_code == (200 if sees_retired else 404)


def test_unknown_resource_is_404(client):
    assert client.get("/partners/resources/999999/").status_code == 404


def test_resource_page_shows_bilingual_details_place_capacity_and_hours_in_words(
    client, make_resource
):
    resource = make_resource(
        windows=[
            *[(day, dt.time(9), dt.time(12)) for day in range(5)],
            *[(day, dt.time(13), dt.time(18)) for day in range(5)],
            (5, dt.time(10), dt.time(0)),
        ]
    )
    html = html_of(client.get(page_url(resource)))
    assert "中庭活动区" in html
    assert 'lang="en">Atrium<' in html  # the other language's name
    assert "商场一层中庭，可容纳约 200 人。" in html
    assert "The ground-floor atrium, for about 200 people." in html
    assert "一层中庭" in html
    assert "Ground floor atrium" in html
    assert "200 平方米" in html
    assert "480 分钟" in html  # the longest booking
    assert "星期一至星期五</th><td>09:00–12:00、13:00–18:00" in html
    assert "星期六</th><td>10:00–24:00" in html
    assert "星期日</th><td>不开放" in html


def test_resource_page_in_english_shows_the_english_texts(client, atrium):
    response = client.get(page_url(atrium), HTTP_ACCEPT_LANGUAGE="en")
    html = html_of(response)
    assert "<h1>Atrium</h1>" in html
    assert 'lang="zh-Hans">中庭活动区<' in html


def test_resource_page_without_opening_rules_says_so(client, make_resource):
    resource = make_resource(windows=())
    assert "提供方还没有设置开放时间" in html_of(client.get(page_url(resource)))


def test_week_calendar_shows_windows_closures_with_reasons_and_bookings(
    client, atrium, partner_admin, request_booking, monday, department_staff
):
    services.exception_add(
        actor=partner_admin,
        resource=atrium,
        kind="closed",
        starts_at=at(monday + dt.timedelta(days=2), 14),
        ends_at=at(monday + dt.timedelta(days=2), 16),
        reason="中庭地面维修",
    )
    approved = request_booking(start=at(monday, 10))
    services.booking_approve(actor=partner_admin, booking=approved)
    pending = request_booking(start=at(monday, 15), purpose="反诈宣传")

    client.force_login(department_staff)
    html = html_of(client.get(page_url(atrium, week=monday.isoformat())))
    first = cell(html, monday)
    assert "10:00–22:00" in first
    assert f'data-booking="{approved.pk}"' in first
    assert f'data-booking="{pending.pk}"' in first
    assert "户政管理" in first  # their own bookings, with who
    assert "已批准" in first
    assert "待审批" in first
    assert "反诈宣传" in first
    wednesday = cell(html, monday + dt.timedelta(days=2))
    # The closure cuts the window and says why.
    assert "10:00–14:00" in wednesday
    assert "16:00–22:00" in wednesday
    assert "14:00–16:00" in wednesday
    assert "中庭地面维修" in wednesday
    assert f"{monday:%Y-%m-%d} 至 {monday + dt.timedelta(days=6):%Y-%m-%d}" in html


@pytest.mark.parametrize("role", ROLES)
def test_week_calendar_shows_others_bookings_only_as_taken_time(
    request, client, role, atrium, partner_admin, request_booking, monday
):
    approved = request_booking(start=at(monday, 10))
    services.booking_approve(actor=partner_admin, booking=approved)
    request_booking(start=at(monday, 15))
    sign_in(client, request, role)
    html = html_of(client.get(page_url(atrium, week=monday.isoformat())))
    first = cell(html, monday)
    assert "10:00–12:00" in first
    assert "15:00–17:00" in first
    # Hukou (the requester) and mall (the owner) see who; everyone else sees taken time.
    sees_who = role in {"department_viewer", "department_staff", "superuser"} | MALL
    assert (f'data-booking="{approved.pk}"' in first) is sees_who
    assert ("交通安全宣传活动" in first) is sees_who
    assert ("户政管理" in first) is sees_who
    assert ("已被预约" in first) is not sees_who
    assert ("已有申请（待审批）" in first) is not sees_who


def test_week_calendar_moves_by_week_and_takes_any_day_of_the_week(client, atrium, monday):
    wednesday = monday + dt.timedelta(days=2)
    html = html_of(client.get(page_url(atrium, week=wednesday.isoformat())))
    assert f'data-day="{monday:%Y-%m-%d}"' in html  # the week of that Wednesday
    assert f"?week={monday - dt.timedelta(days=7):%Y-%m-%d}" in html
    assert f"?week={monday + dt.timedelta(days=7):%Y-%m-%d}" in html
    assert "本周" in html  # a link back to this week
    today = timezone.localdate()
    this_week = html_of(client.get(page_url(atrium)))
    assert 'aria-current="date"' in this_week
    assert f'data-day="{today - dt.timedelta(days=today.weekday()):%Y-%m-%d}"' in this_week


@pytest.mark.parametrize("week", ["abc", "2031-02-30", "0001-01-01", "9999-12-31", "1999-12-31"])
def test_week_calendar_refuses_a_bad_week_with_400(client, atrium, week):
    response = client.get(page_url(atrium, week=week))
    assert response.status_code == 400
    assert "YYYY-MM-DD" in html_of(response)


def test_resource_page_runs_constant_queries_whatever_the_past_bookings(
    client, atrium, department, department_staff, partner_admin, monday
):
    """Past bookings (made when they were ahead) never cost the page a query."""
    made = {"count": 0}

    def add_past(count):
        for _ in range(count):
            number = made["count"]
            made["count"] += 1
            day = timezone.localdate() - dt.timedelta(days=400 - number)
            with when(at(day - dt.timedelta(days=1), 9)):
                booking = services.booking_request(
                    actor=fresh(department_staff),
                    resource=atrium,
                    requester=department,
                    starts_at=at(day, 10),
                    ends_at=at(day, 11),
                    purpose="过去的活动",
                )
                services.booking_approve(actor=fresh(partner_admin), booking=booking)

    client.force_login(department_staff)
    count = assert_constant_queries(
        lambda: client.get(page_url(atrium, week=monday.isoformat())),
        add_past,
        small=3,
        large=30,
        max_queries=14,
    )
    assert Booking.objects.filter(resource=atrium).count() == 30
    assert count <= 14


def test_resource_page_offers_booking_to_those_who_may_book(
    request, client, atrium, department_staff, partner_admin, superuser, citizen
):
    link = f'href="{book_url(atrium)}"'
    client.force_login(department_staff)
    assert link in html_of(client.get(page_url(atrium)))
    for user in (partner_admin, superuser, citizen):
        client.force_login(user)
        assert link not in html_of(client.get(page_url(atrium)))
    client.logout()
    html = html_of(client.get(page_url(atrium)))
    assert f"/accounts/login/?next={book_url(atrium)}" in html


def test_resource_page_offers_management_to_the_partners_acting_staff(
    client, atrium, partner_staff, other_partner_admin, department_staff
):
    edit = reverse("partners:resource_edit", args=[atrium.pk])
    client.force_login(partner_staff)
    assert edit in html_of(client.get(page_url(atrium)))
    for user in (other_partner_admin, department_staff):
        client.force_login(user)
        assert edit not in html_of(client.get(page_url(atrium)))


def test_photos_are_served_to_those_who_may_see_the_resource(
    client, atrium, room, partner_admin, department_staff
):
    public = services.photo_add(actor=partner_admin, resource=atrium, upload=png())
    private = services.photo_add(actor=partner_admin, resource=room, upload=png())
    response = client.get(reverse("partners:resource_photo", args=[atrium.pk, public.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "max-age=3600"
    assert b"".join(response.streaming_content).startswith(b"\x89PNG")
    # A stakeholders-only resource's photo: 404 to the public, private to members.
    url = reverse("partners:resource_photo", args=[room.pk, private.pk])
    assert client.get(url).status_code == 404
    client.force_login(department_staff)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    # A photo through another resource's URL is not found.
    assert (
        client.get(reverse("partners:resource_photo", args=[atrium.pk, private.pk])).status_code
        == 404
    )


# Booking ------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_booking_form_is_for_other_organisations_acting_staff(request, client, role, atrium):
    sign_in(client, request, role)
    response = client.get(book_url(atrium))
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/")
    elif role in BOOKERS:
        assert response.status_code == 200
        assert 'name="requester"' in html_of(response)
    else:
        assert response.status_code == 403
    if role in MALL:
        assert "提供方不需要预约自己的资源" in html_of(response)


def test_booking_form_is_404_for_a_resource_the_user_may_not_see(client, citizen, room):
    client.force_login(citizen)
    assert client.get(book_url(room)).status_code == 404


def test_booking_form_refuses_a_resource_that_takes_no_bookings(
    client, make_resource, department_staff
):
    funding = make_resource(kind="funding", name_zh="活动经费", unit="yuan", windows=())
    client.force_login(department_staff)
    response = client.get(book_url(funding))
    assert response.status_code == 403
    assert "不接受预约" in html_of(response)


def test_booking_form_offers_only_the_organisations_the_user_acts_for(
    client, atrium, department_staff, other_department, department
):
    client.force_login(department_staff)
    html = html_of(client.get(book_url(atrium)))
    assert f'value="{department.slug}" selected' in html  # the only one, chosen already
    assert f'value="{other_department.slug}"' not in html
    assert f'value="{atrium.partner.slug}"' not in html


def test_booking_form_takes_the_day_from_the_calendar(client, atrium, department_staff, monday):
    client.force_login(department_staff)
    html = html_of(client.get(f"{book_url(atrium)}?date={monday.isoformat()}"))
    assert f'value="{monday.isoformat()}"' in html
    assert client.get(f"{book_url(atrium)}?date=nonsense").status_code == 200


def _form(department, day, start="10:00", end="12:00", **extra):
    return {
        "requester": department.slug,
        "date": day.isoformat(),
        "start_time": start,
        "end_time": end,
        "purpose": "交通安全宣传活动",
        **extra,
    }


def test_booking_request_is_made_and_shown(client, atrium, department, department_staff, monday):
    client.force_login(department_staff)
    response = client.post(book_url(atrium), _form(department, monday))
    booking = Booking.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:booking", args=[booking.pk])
    assert booking.status == Booking.Status.REQUESTED
    assert booking.requester == department
    assert booking.requested_by == department_staff
    assert booking.starts_at == at(monday, 10)
    assert booking.ends_at == at(monday, 12)
    page = client.get(response["Location"])
    assert "预约申请已提交" in html_of(page)


def test_booking_until_midnight_and_across_days(
    client, make_resource, department, department_staff, monday
):
    late = make_resource(
        name_zh="夜间广场",
        windows=[(day, dt.time(18), dt.time(0)) for day in range(7)]
        + [(day, dt.time(0), dt.time(2)) for day in range(7)],
    )
    client.force_login(department_staff)
    response = client.post(book_url(late), _form(department, monday, "20:00", "00:00"))
    assert response.status_code == 302
    booking = Booking.objects.get()
    assert booking.ends_at == at(monday + dt.timedelta(days=1), 0)
    tuesday = monday + dt.timedelta(days=1)
    response = client.post(
        book_url(late),
        _form(department, tuesday, "23:00", "01:00", end_date=(tuesday + dt.timedelta(days=1))),
    )
    assert response.status_code == 302
    assert Booking.objects.latest("pk").ends_at == at(tuesday + dt.timedelta(days=1), 1)


@pytest.mark.parametrize(
    ("start", "end", "field", "message"),
    [
        ("12:00", "10:00", "end_time", "结束时间必须晚于开始时间"),
        ("08:00", "11:00", "start_time", "该时段不在资源的开放时间内"),
        ("10:00", "19:00", "end_time", "该资源单次最多可预约 480 分钟"),
    ],
)
def test_booking_refusals_show_on_the_form_with_400(
    client, atrium, department, department_staff, monday, start, end, field, message
):
    client.force_login(department_staff)
    response = client.post(book_url(atrium), _form(department, monday, start, end))
    assert response.status_code == 400
    html = html_of(response)
    assert message in html
    assert f'id="id_{field}_error"' in html  # on its field
    assert Booking.objects.count() == 0


def test_booking_in_the_past_is_refused(client, atrium, department, department_staff):
    client.force_login(department_staff)
    yesterday = timezone.localdate() - dt.timedelta(days=1)
    response = client.post(book_url(atrium), _form(department, yesterday))
    assert response.status_code == 400
    assert "不能预约已经过去的时间" in html_of(response)


def test_booking_during_a_closure_names_its_reason(
    client, atrium, department, department_staff, partner_admin, monday
):
    services.exception_add(
        actor=partner_admin,
        resource=atrium,
        kind="closed",
        starts_at=at(monday, 0),
        ends_at=at(monday + dt.timedelta(days=1), 0),
        reason="商场周年庆布展",
    )
    client.force_login(department_staff)
    response = client.post(book_url(atrium), _form(department, monday))
    assert response.status_code == 400
    assert "该时段资源暂停开放：商场周年庆布展" in html_of(response)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"purpose": ""}, "purpose"),
        ({"purpose": "长" * 501}, "purpose"),
        ({"date": "2031-02-30"}, "date"),
        ({"date": "9999-12-31", "end_time": "00:00"}, "date"),  # no day after it
        ({"date": "0001-01-01"}, "date"),
        ({"start_time": "25:00"}, "start_time"),
        ({"requester": "traffic"}, "requester"),  # an organisation they do not act for
        ({"requester": "mall"}, "requester"),  # the owner
    ],
)
def test_booking_form_errors(
    client, atrium, department, department_staff, other_department, monday, change, field
):
    client.force_login(department_staff)
    response = client.post(book_url(atrium), {**_form(department, monday), **change})
    assert response.status_code == 400
    assert f'id="id_{field}_error"' in html_of(response)
    assert Booking.objects.count() == 0


def test_booking_over_an_approved_booking_is_refused_with_409_and_the_time_taken(
    client, atrium, request_booking, partner_admin, other_department, other_department_staff, monday
):
    taken = request_booking(start=at(monday, 10))
    services.booking_approve(actor=partner_admin, booking=taken)
    client.force_login(other_department_staff)
    response = client.post(book_url(atrium), _form(other_department, monday, "11:00", "13:00"))
    assert response.status_code == 409
    html = html_of(response)
    # Another organisation's booking: the time it holds, not who holds it (as the calendar).
    start = f"{monday:%Y-%m-%d} 10:00"
    assert f"该时段已被占用（{start}–" in html
    assert f"#{taken.pk}" not in html
    assert "户政管理" not in html
    assert Booking.objects.count() == 1


def test_booking_post_by_someone_who_may_not_book_is_403(client, atrium, partner_admin, monday):
    client.force_login(partner_admin)
    response = client.post(book_url(atrium), _form(atrium.partner, monday))
    assert response.status_code == 403
    assert Booking.objects.count() == 0


def test_booking_post_anonymous_is_sent_to_sign_in(client, atrium, department, monday):
    response = client.post(book_url(atrium), _form(department, monday))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")
    assert Booking.objects.count() == 0


# Managing a resource ------------------------------------------------------------------------
def edit_url(resource, section="edit"):
    return reverse(f"partners:resource_{section}", args=[resource.pk])


RESOURCE_FORM = {
    "kind": "equipment",
    "name_zh": "自助拍照机",
    "name_en": "Photo booth",
    "description_zh": "证件照自助拍摄。",
    "description_en": "",
    "station": "",
    "place_zh": "二层东侧",
    "place_en": "",
    "quantity": "2",
    "unit": "items",
    "visibility": "public",
    "bookable": "on",
    "max_booking_minutes": "240",
    "is_active": "on",
}


@pytest.mark.parametrize("role", ROLES)
def test_new_resource_page_is_for_partner_acting_staff(request, client, role, partner):
    sign_in(client, request, role)
    response = client.get(reverse("partners:resource_new"))
    if role == "anonymous":
        assert response.status_code == 302
    elif role in MALL | {"other_partner_admin", "superuser"}:
        assert response.status_code == 200
    else:
        assert response.status_code == 403


def test_partner_adds_a_resource_then_sets_its_hours(client, partner, partner_staff, mall_station):
    client.force_login(partner_staff)
    response = client.post(
        reverse("partners:resource_new"), {**RESOURCE_FORM, "station": mall_station.pk}
    )
    resource = Resource.objects.get()
    assert response.status_code == 302
    assert response["Location"] == edit_url(resource, "hours")
    assert resource.partner == partner
    assert resource.name_zh == "自助拍照机"
    assert resource.station == mall_station
    assert resource.created_by == partner_staff


def test_new_resource_form_errors_write_nothing(client, partner_staff):
    client.force_login(partner_staff)
    response = client.post(
        reverse("partners:resource_new"),
        {**RESOURCE_FORM, "name_zh": "", "quantity": "0", "max_booking_minutes": "5"},
    )
    assert response.status_code == 400
    html = html_of(response)
    for name in ("name_zh", "quantity", "max_booking_minutes"):
        assert f'id="id_{name}_error"' in html
    assert not Resource.objects.exists()


def test_new_resource_for_a_partner_chosen_among_the_users_own(
    client, partner_admin, other_partner, other_partner_admin
):
    client.force_login(partner_admin)
    assert client.get(reverse("partners:resource_new") + "?partner=bank").status_code == 404
    assert (
        client.post(reverse("partners:resource_new") + "?partner=bank", RESOURCE_FORM).status_code
        == 404
    )
    assert not Resource.objects.exists()
    client.force_login(other_partner_admin)
    client.post(reverse("partners:resource_new") + "?partner=bank", RESOURCE_FORM)
    assert Resource.objects.get().partner == other_partner


@pytest.mark.parametrize("section", ["edit", "hours", "closures", "photos"])
@pytest.mark.parametrize("role", ROLES)
def test_management_pages_are_the_partners_and_404_to_everyone_else(
    request, client, role, atrium, section
):
    sign_in(client, request, role)
    response = client.get(edit_url(atrium, section))
    if role == "anonymous":
        assert response.status_code == 302
    elif role in MALL or role == "superuser":
        assert response.status_code == 200
    else:
        assert response.status_code == 404


def test_other_partners_member_cannot_change_the_resource(
    client, atrium, other_partner_admin, partner_admin
):
    photo = services.photo_add(actor=partner_admin, resource=atrium, upload=png())
    client.force_login(other_partner_admin)
    assert client.post(edit_url(atrium), {**RESOURCE_FORM}).status_code == 404
    assert client.post(edit_url(atrium, "hours"), {}).status_code == 404
    remove = reverse("partners:resource_photo_remove", args=[atrium.pk, photo.pk])
    assert client.post(remove).status_code == 404
    atrium.refresh_from_db()
    assert atrium.name_zh == "中庭活动区"
    assert OpeningRule.objects.filter(resource=atrium).count() == 7
    assert ResourcePhoto.objects.filter(pk=photo.pk).exists()


def test_partner_edits_a_resource_and_can_retire_it(client, atrium, partner_staff):
    client.force_login(partner_staff)
    form = {**RESOURCE_FORM, "kind": "space", "unit": "sqm", "name_zh": "中庭（东）"}
    form.pop("is_active")
    response = client.post(edit_url(atrium), form)
    assert response.status_code == 302
    atrium.refresh_from_db()
    assert atrium.name_zh == "中庭（东）"
    assert atrium.is_active is False
    assert "资源已保存" in html_of(client.get(response["Location"]))


def test_edit_form_shows_the_resource_and_its_errors(client, atrium, partner_staff):
    client.force_login(partner_staff)
    html = html_of(client.get(edit_url(atrium)))
    assert 'value="中庭活动区"' in html
    response = client.post(edit_url(atrium), {**RESOURCE_FORM, "unit": "furlongs"})
    assert response.status_code == 400
    assert 'id="id_unit_error"' in html_of(response)


def _hours(**windows):
    """``{"d0_0_opens": "09:00", …}`` from ``d0_0=("09:00", "12:00")``."""
    data = {}
    for key, (opens, closes) in windows.items():
        data[f"{key}_opens"], data[f"{key}_closes"] = opens, closes
    return data


def test_hours_editor_replaces_the_weekly_windows(client, atrium, partner_staff):
    client.force_login(partner_staff)
    html = html_of(client.get(edit_url(atrium, "hours")))
    assert 'name="d0_0_opens"' in html
    assert 'value="10:00"' in html
    response = client.post(
        edit_url(atrium, "hours"),
        _hours(d0_0=("09:00", "12:00"), d0_1=("13:00", "18:00"), d5_0=("10:00", "00:00")),
    )
    assert response.status_code == 302
    rules_now = [
        (rule.weekday, rule.opens, rule.closes)
        for rule in OpeningRule.objects.filter(resource=atrium).order_by("weekday", "opens")
    ]
    assert rules_now == [
        (0, dt.time(9), dt.time(12)),
        (0, dt.time(13), dt.time(18)),
        (5, dt.time(10), dt.time(0)),
    ]
    html = html_of(client.get(response["Location"]))
    assert "星期一</th><td>09:00–12:00、13:00–18:00" in html
    # The form offers one more window than a day has.
    assert 'name="d0_2_opens"' in html


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_hours(d0_0=("09:00", "12:00"), d0_1=("11:00", "13:00")), "星期一 的开放时段相互重叠"),
        (_hours(d2_0=("18:00", "09:00")), "结束时间必须晚于开始时间"),
        ({"d1_0_opens": "09:00"}, "请填写结束时间"),
        ({"d1_0_closes": "09:00"}, "请填写开始时间"),
        ({"d1_0_opens": "9 点"}, "输入一个有效的时间"),
    ],
)
def test_hours_editor_errors_keep_the_old_hours(client, atrium, partner_staff, data, message):
    client.force_login(partner_staff)
    response = client.post(edit_url(atrium, "hours"), data)
    assert response.status_code == 400
    assert message in html_of(response)
    assert OpeningRule.objects.filter(resource=atrium).count() == 7


def test_closures_are_added_listed_and_removed(
    client, atrium, partner_staff, request_booking, monday
):
    booking = request_booking(start=at(monday, 10))
    services.booking_approve(actor=partner_staff, booking=booking)
    client.force_login(partner_staff)
    response = client.post(
        edit_url(atrium, "closures"),
        {
            "kind": "closed",
            "start_date": monday.isoformat(),
            "start_time": "00:00",
            "end_date": (monday + dt.timedelta(days=1)).isoformat(),
            "end_time": "00:00",
            "reason": "地面维修",
        },
    )
    assert response.status_code == 302
    closure = AvailabilityException.objects.get()
    assert closure.starts_at == at(monday, 0)
    assert closure.ends_at == at(monday + dt.timedelta(days=1), 0)
    page = html_of(client.get(response["Location"]))
    # The approved booking it covers stays, and the page says so and lists it.
    assert "1 个已批准的预约，它们不会自动取消" in page
    assert f'data-booking="{booking.pk}"' in page
    assert f'data-exception="{closure.pk}"' in page
    assert "地面维修" in page
    remove = reverse("partners:resource_closure_remove", args=[atrium.pk, closure.pk])
    assert client.post(remove).status_code == 302
    assert not AvailabilityException.objects.exists()
    assert client.post(remove).status_code == 404


def test_closure_form_errors(client, atrium, partner_staff, monday):
    client.force_login(partner_staff)
    response = client.post(
        edit_url(atrium, "closures"),
        {
            "kind": "closed",
            "start_date": monday.isoformat(),
            "start_time": "12:00",
            "end_date": monday.isoformat(),
            "end_time": "10:00",
        },
    )
    assert response.status_code == 400
    html = html_of(response)
    assert "结束时间必须晚于开始时间" in html
    assert 'id="id_end_date_error"' in html
    response = client.post(edit_url(atrium, "closures"), {"kind": "holiday"})
    assert response.status_code == 400
    response = client.post(
        edit_url(atrium, "closures"),
        {
            "kind": "closed",
            "start_date": "9999-12-31",
            "start_time": "00:00",
            "end_date": "9999-12-31",
            "end_time": "23:00",
        },
    )
    assert response.status_code == 400
    assert 'id="id_start_date_error"' in html_of(response)
    assert not AvailabilityException.objects.exists()


def test_closure_of_another_resource_cannot_be_removed_through_this_one(
    client, atrium, room, partner_admin, partner_staff, monday
):
    closure = services.exception_add(
        actor=partner_admin,
        resource=room,
        kind="closed",
        starts_at=at(monday, 9),
        ends_at=at(monday, 12),
    )
    client.force_login(partner_staff)
    url = reverse("partners:resource_closure_remove", args=[atrium.pk, closure.pk])
    assert client.post(url).status_code == 404
    assert AvailabilityException.objects.filter(pk=closure.pk).exists()


def test_photos_are_uploaded_and_removed(client, atrium, partner_staff):
    client.force_login(partner_staff)
    response = client.post(edit_url(atrium, "photos"), {"photo": png(), "caption": "中庭全景"})
    assert response.status_code == 302
    photo = ResourcePhoto.objects.get()
    assert photo.caption == "中庭全景"
    html = html_of(client.get(response["Location"]))
    assert f'data-photo="{photo.pk}"' in html
    remove = reverse("partners:resource_photo_remove", args=[atrium.pk, photo.pk])
    assert client.get(remove).status_code == 405
    assert client.post(remove).status_code == 302
    assert not ResourcePhoto.objects.exists()


def test_a_file_that_is_no_image_is_refused_on_the_form(client, atrium, partner_staff):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client.force_login(partner_staff)
    fake = SimpleUploadedFile("photo.png", b"not an image at all", content_type="image/png")
    response = client.post(edit_url(atrium, "photos"), {"photo": fake})
    assert response.status_code == 400
    assert 'id="id_photo_error"' in html_of(response)
    assert not ResourcePhoto.objects.exists()
    assert client.post(edit_url(atrium, "photos"), {}).status_code == 400
