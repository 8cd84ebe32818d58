"""The people pages: volunteer shifts (kept by the partner, read by the departments at the
station), training sessions and their attendance, the partner's members and invitations, and
the invitation link end to end through allauth's real sign-in and sign-up."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from allauth.account.models import EmailAddress
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from governance.celery import app as celery_app
from governance.stakeholders.models import Membership, User
from partners import services
from partners.models import Attendance, Invitation, TrainingSession, VolunteerShift
from tests.factories import PASSWORD, MembershipFactory, StationFactory, UserFactory
from tests.partners.conftest import TZ, at, future_monday
from tests.partners.fixtures_portal import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_portal import ROLES, sign_in
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

SHIFTS = "/partners/shifts/"
TRAININGS = "/partners/trainings/"
MEMBERS = "/partners/portal/members/"


def rows_of(response, name: str) -> list[int]:
    return [int(pk) for pk in re.findall(rf'data-{name}="(\d+)"', response.content.decode())]


def local(value: str) -> dt.datetime:
    """A ``datetime-local`` value read as Asia/Shanghai."""
    return dt.datetime.fromisoformat(value).replace(tzinfo=TZ)


def test_url_names_match_the_contract():
    assert reverse("partners:shifts") == SHIFTS
    assert reverse("partners:shift_new") == "/partners/shifts/new/"
    assert reverse("partners:shift_edit", args=[4]) == "/partners/shifts/4/edit/"
    assert reverse("partners:trainings") == TRAININGS
    assert reverse("partners:training", args=[4]) == "/partners/trainings/4/"
    assert reverse("partners:training_new") == "/partners/trainings/new/"
    assert reverse("partners:members") == MEMBERS
    assert reverse("partners:invitation", args=["abc"]) == "/partners/invitations/abc/"


# Volunteer shifts ---------------------------------------------------------------------------
SHIFT_READERS = {
    "partner_staff",
    "partner_admin",
    "department_viewer",
    "department_staff",
    "department_admin",
    "superuser",
}
SHIFT_KEEPERS = {"partner_staff", "partner_admin", "superuser"}


@pytest.mark.parametrize("role", ROLES)
def test_shifts_are_kept_by_the_partner_and_read_by_the_departments_at_the_station(
    request, client, role, make_shift
):
    shift = make_shift(at(future_monday(), 10))
    sign_in(client, request, role)
    response = client.get(SHIFTS)
    if role == "anonymous":
        assert response.status_code == 302
        return
    if role == "citizen":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert (shift.pk in rows_of(response, "shift")) is (role in SHIFT_READERS)
    edit = reverse("partners:shift_edit", args=[shift.pk])
    assert (edit in response.content.decode()) is (role in SHIFT_KEEPERS)


def test_shifts_filter_by_dates_station_and_status(
    client, make_shift, partner_staff, department, partner
):
    monday = future_monday()
    early = make_shift(at(monday, 10))
    later = make_shift(at(monday + dt.timedelta(days=3), 14), volunteer="李志愿")
    elsewhere = StationFactory(slug="second-station", host=partner, departments=[department])
    away = make_shift(at(monday, 9), station=elsewhere, volunteer="赵志愿")
    services.shift_update(actor=partner_staff, shift=later, data={"status": "cancelled"})
    client.force_login(partner_staff)
    day = monday.isoformat()
    assert set(rows_of(client.get(f"{SHIFTS}?date_from={day}&date_to={day}"), "shift")) == {
        early.pk,
        away.pk,
    }
    next_day = (monday + dt.timedelta(days=1)).isoformat()
    assert rows_of(client.get(f"{SHIFTS}?date_from={next_day}"), "shift") == [later.pk]
    assert rows_of(client.get(f"{SHIFTS}?station=second-station"), "shift") == [away.pk]
    assert rows_of(client.get(f"{SHIFTS}?status=cancelled"), "shift") == [later.pk]
    # Newest first.
    assert rows_of(client.get(SHIFTS), "shift") == [later.pk, early.pk, away.pk]


def test_a_backwards_date_range_is_a_400(client, partner_staff):
    client.force_login(partner_staff)
    response = client.get(f"{SHIFTS}?date_from=2030-05-02&date_to=2030-05-01")
    assert response.status_code == 400
    assert "结束日期不能早于开始日期。" in response.content.decode()


def test_shift_list_runs_a_constant_number_of_queries(
    client, make_shift, department_staff, django_assert_max_num_queries
):
    start = at(future_monday(), 8)

    def make_rows(count):
        first = VolunteerShift.objects.count()
        for number in range(first, first + count):
            make_shift(start + dt.timedelta(hours=number), volunteer=f"志愿者{number}")

    client.force_login(department_staff)
    budget = assert_constant_queries(
        lambda: client.get(SHIFTS),
        make_rows,
        check=lambda response, rows: len(rows_of(response, "shift")) == min(rows, 30),
    )
    with django_assert_max_num_queries(budget):
        client.get(SHIFTS)


def shift_form(**overrides) -> dict:
    day = future_monday()
    data = {
        "station": "mall-station",
        "volunteer": "周志愿",
        "role": "自助终端协助",
        "starts_at": f"{day}T09:30",
        "ends_at": f"{day}T13:30",
        "status": "scheduled",
    }
    data.update(overrides)
    return data


def test_partner_staff_schedule_a_shift_in_local_time(client, partner_staff, station):
    client.force_login(partner_staff)
    assert client.get(reverse("partners:shift_new")).status_code == 200
    response = client.post(reverse("partners:shift_new"), shift_form())
    shift = VolunteerShift.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"{SHIFTS}?partner=mall"
    assert shift.starts_at == local(f"{future_monday()}T09:30")
    assert (shift.volunteer, shift.role, shift.station, shift.partner.slug) == (
        "周志愿",
        "自助终端协助",
        station,
        "mall",
    )


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"ends_at": f"{future_monday()}T08:00"}, "ends_at", "结束时间必须晚于开始时间。"),
        ({"ends_at": f"{future_monday()}T23:30"}, "ends_at", "一个班次不能超过 12 小时。"),
        ({"station": "nowhere"}, "station", "选择一个有效的选项"),
        ({"volunteer": ""}, "volunteer", "该字段是必填项。"),
    ],
)
def test_bad_shifts_come_back_on_the_form_with_400(
    client, partner_staff, station, overrides, field, message
):
    client.force_login(partner_staff)
    response = client.post(reverse("partners:shift_new"), shift_form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert message in " ".join(errors.get(field, [])), errors
    assert not VolunteerShift.objects.exists()


def test_the_same_volunteer_twice_at_one_time_is_a_form_error(client, partner_staff, make_shift):
    make_shift(local(f"{future_monday()}T09:30"), volunteer="周志愿")
    client.force_login(partner_staff)
    response = client.post(reverse("partners:shift_new"), shift_form())
    assert response.status_code == 400
    assert response.context["form"].non_field_errors()
    assert VolunteerShift.objects.count() == 1


def test_a_started_shift_is_marked_done_and_counts_its_hours(client, partner_staff, make_shift):
    started = timezone.now().replace(second=0, microsecond=0) - dt.timedelta(hours=5)
    shift = make_shift(started)
    url = reverse("partners:shift_edit", args=[shift.pk])
    client.force_login(partner_staff)
    form = client.get(url).context["form"]
    # Shown as the local time the widget edits.
    assert form["starts_at"].value() == timezone.localtime(started).replace(tzinfo=None)
    local_start = timezone.localtime(started).strftime("%Y-%m-%dT%H:%M")
    local_end = timezone.localtime(shift.ends_at).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, shift_form(starts_at=local_start, ends_at=local_end, status="done"))
    assert response.status_code == 302
    shift.refresh_from_db()
    assert shift.status == "done"
    assert str(shift.hours) == "4.00"


def test_a_shift_is_marked_done_only_once_it_has_started(client, partner_staff, make_shift):
    shift = make_shift(local(f"{future_monday()}T09:30"))
    client.force_login(partner_staff)
    assert "status" not in client.get(reverse("partners:shift_new")).context["form"].fields
    response = client.post(
        reverse("partners:shift_edit", args=[shift.pk]), shift_form(status="done")
    )
    assert response.status_code == 400
    assert "班次开始之后才能登记到岗或缺勤。" in response.context["form"].errors["status"][0]
    shift.refresh_from_db()
    assert shift.status == "scheduled"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("citizen", 404),
        ("department_viewer", 403),
        ("department_staff", 403),
        ("other_department_staff", 404),
        ("other_partner_admin", 404),
        ("partner_staff", 200),
        ("superuser", 200),
    ],
)
def test_only_the_partners_acting_members_edit_a_shift(request, client, role, status, make_shift):
    shift = make_shift(at(future_monday(), 10))
    sign_in(client, request, role)
    url = reverse("partners:shift_edit", args=[shift.pk])
    assert client.get(url).status_code == status
    if status != 200:
        client.post(url, shift_form(volunteer="改名"))
        shift.refresh_from_db()
        assert shift.volunteer == "王志愿"


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("department_staff", 403),
        ("department_admin", 403),
        ("partner_staff", 200),
        ("other_partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_only_partners_acting_members_schedule(request, client, role, status, other_partner):
    sign_in(client, request, role)
    assert client.get(reverse("partners:shift_new")).status_code == status


def test_a_member_of_two_partners_chooses_which_one_schedules(
    client, partner_staff, other_partner, station
):
    MembershipFactory(user=partner_staff, organisation=other_partner, role="staff")
    client.force_login(partner_staff)
    form = client.get(reverse("partners:shift_new") + "?partner=bank").context["form"]
    assert form["partner"].value() == "bank"
    response = client.post(reverse("partners:shift_new"), shift_form(partner="bank"))
    assert response.status_code == 302
    assert VolunteerShift.objects.get().partner == other_partner


# Training -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_everyone_with_a_seat_reads_the_sessions(request, client, role, make_training):
    session = make_training(at(future_monday(), 14))
    sign_in(client, request, role)
    response = client.get(TRAININGS)
    if role == "anonymous":
        assert response.status_code == 302
        return
    if role == "citizen":
        assert response.status_code == 403
        return
    assert rows_of(response, "training") == [session.pk]
    page = client.get(reverse("partners:training", args=[session.pk]))
    assert page.status_code == 200
    assert "窗口服务礼仪" in page.content.decode()


@pytest.mark.parametrize(
    ("role", "sees"),
    [
        ("department_viewer", False),
        ("department_staff", False),
        ("other_partner_admin", False),
        ("partner_staff", True),
        ("partner_admin", True),
        ("superuser", True),
    ],
)
def test_only_the_organiser_reads_the_attendance_list(
    request, client, role, sees, make_training, partner, partner_staff
):
    session = make_training(timezone.now() - dt.timedelta(days=1))
    services.attendance_record(
        actor=partner_staff,
        session=session,
        attendees=[{"name": "钱学员", "organisation": partner, "attended": True}],
    )
    sign_in(client, request, role)
    html = client.get(reverse("partners:training", args=[session.pk])).content.decode()
    assert ("钱学员" in html) is sees
    assert ('id="attendance"' in html) is sees


def test_sessions_filter_upcoming_and_past(client, make_training, partner_staff):
    past = make_training(timezone.now() - dt.timedelta(days=3), topic_zh="消防演练")
    upcoming = make_training(timezone.now() + dt.timedelta(days=3))
    later = make_training(timezone.now() + dt.timedelta(days=9), topic_zh="反诈宣传")
    client.force_login(partner_staff)
    assert rows_of(client.get(f"{TRAININGS}?when=upcoming"), "training") == [
        upcoming.pk,
        later.pk,
    ]
    assert rows_of(client.get(f"{TRAININGS}?when=past"), "training") == [past.pk]
    assert rows_of(client.get(TRAININGS), "training") == [later.pk, upcoming.pk, past.pk]
    assert client.get(f"{TRAININGS}?when=someday").status_code == 400


def test_training_list_runs_a_constant_number_of_queries(
    client, make_training, department_viewer, django_assert_max_num_queries
):
    def make_rows(count):
        for number in range(count):
            make_training(timezone.now() + dt.timedelta(days=number + 1), topic_zh=f"主题{number}")

    client.force_login(department_viewer)
    budget = assert_constant_queries(lambda: client.get(TRAININGS), make_rows)
    with django_assert_max_num_queries(budget):
        client.get(TRAININGS)


def training_form(**overrides) -> dict:
    data = {
        "organiser": "mall",
        "topic_zh": "志愿者上岗培训",
        "topic_en": "",
        "trainer": "刘警官",
        "station": "mall-station",
        "location": "服务站后台",
        "starts_at": f"{future_monday()}T15:00",
        "hours": "1.5",
        "description": "引导、秩序和应急处置。",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("department_viewer", 403),
        ("department_staff", 200),
        ("partner_staff", 200),
        ("superuser", 200),
    ],
)
def test_acting_members_of_any_organisation_register_training(request, client, role, status):
    sign_in(client, request, role)
    assert client.get(reverse("partners:training_new")).status_code == status


def test_partner_staff_register_a_session_for_their_partner_only(
    client, partner_staff, station, department
):
    client.force_login(partner_staff)
    form = client.get(reverse("partners:training_new")).context["form"]
    assert [org.slug for org in form.fields["organiser"].queryset] == ["mall"]
    refused = client.post(reverse("partners:training_new"), training_form(organiser="hukou"))
    assert refused.status_code == 400
    assert "organiser" in refused.context["form"].errors
    response = client.post(reverse("partners:training_new"), training_form())
    session = TrainingSession.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("partners:training", args=[session.pk])
    assert session.starts_at == local(f"{future_monday()}T15:00")
    assert str(session.hours) == "1.5"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [({"hours": "0.2"}, "hours"), ({"hours": "41"}, "hours"), ({"starts_at": "明天"}, "starts_at")],
)
def test_bad_sessions_come_back_on_the_form(client, partner_staff, station, overrides, field):
    client.force_login(partner_staff)
    response = client.post(reverse("partners:training_new"), training_form(**overrides))
    assert response.status_code == 400
    assert field in response.context["form"].errors


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("department_staff", 403),
        ("department_viewer", 403),
        ("other_partner_admin", 403),
        ("partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_only_the_organisers_acting_members_edit_a_session(
    request, client, role, status, make_training
):
    session = make_training(at(future_monday(), 14))
    sign_in(client, request, role)
    for name in ("training_edit", "training_attendance"):
        assert client.get(reverse(f"partners:{name}", args=[session.pk])).status_code == status


def test_organiser_edits_a_session(client, make_training, partner_admin):
    session = make_training(at(future_monday(), 14))
    client.force_login(partner_admin)
    url = reverse("partners:training_edit", args=[session.pk])
    assert client.get(url).context["form"]["topic_zh"].value() == "窗口服务礼仪"
    response = client.post(url, training_form(topic_zh="窗口服务礼仪（第二期）", hours="3"))
    assert response.status_code == 302
    session.refresh_from_db()
    assert (session.topic_zh, str(session.hours)) == ("窗口服务礼仪（第二期）", "3.0")


def attendance_data(rows, *, initial: int = 0) -> dict:
    data = {
        "attendees-TOTAL_FORMS": str(len(rows)),
        "attendees-INITIAL_FORMS": str(initial),
        "attendees-MIN_NUM_FORMS": "0",
        "attendees-MAX_NUM_FORMS": "500",
    }
    for index, row in enumerate(rows):
        for key, value in row.items():
            if value is True:
                value = "on"
            if value is not False:
                data[f"attendees-{index}-{key}"] = value
    return data


def test_organiser_records_attendance_after_the_session(
    client, make_training, partner_staff, department
):
    session = make_training(timezone.now() - dt.timedelta(hours=3))
    url = reverse("partners:training_attendance", args=[session.pk])
    client.force_login(partner_staff)
    response = client.get(url)
    assert response.status_code == 200
    assert len(response.context["formset"].forms) == 3  # three blank rows to start
    response = client.post(
        url,
        attendance_data(
            [
                {"name": "钱学员", "organisation": "mall", "attended": True},
                {"name": "孙学员", "organisation": "hukou", "attended": False},
                {"name": "", "organisation": ""},
            ]
        ),
    )
    assert response.status_code == 302
    rows = {row.name: (row.organisation.slug, row.attended) for row in session.attendances.all()}
    assert rows == {"钱学员": ("mall", True), "孙学员": ("hukou", False)}
    assert "出勤名单已保存（2 人）。" in client.get(response["Location"]).content.decode()

    # The list comes back to be edited; a row marked for deletion leaves it.
    formset = client.get(url).context["formset"]
    assert [form["name"].value() for form in formset.forms[:2]] == ["孙学员", "钱学员"]
    response = client.post(
        url,
        attendance_data(
            [
                {"name": "孙学员", "organisation": "hukou", "attended": True},
                {"name": "钱学员", "organisation": "mall", "attended": True, "DELETE": True},
            ],
            initial=2,
        ),
    )
    assert response.status_code == 302
    assert list(session.attendances.values_list("name", "attended")) == [("孙学员", True)]


def test_attendance_errors_land_on_their_row(client, make_training, partner_staff):
    session = make_training(at(future_monday(), 14))
    url = reverse("partners:training_attendance", args=[session.pk])
    client.force_login(partner_staff)
    # Attended before the session began: refused on that row, nothing written.
    response = client.post(
        url,
        attendance_data(
            [
                {"name": "钱学员", "organisation": "mall"},
                {"name": "孙学员", "organisation": "mall", "attended": True},
            ]
        ),
    )
    assert response.status_code == 400
    forms = response.context["formset"].forms
    assert forms[0].errors == {}
    assert "培训开始之后才能登记出席。" in " ".join(forms[1].errors["attended"])
    # The same name twice, and a row without its organisation.
    response = client.post(
        url,
        attendance_data(
            [
                {"name": "钱学员", "organisation": "mall"},
                {"name": "钱学员", "organisation": "mall"},
                {"name": "周学员", "organisation": ""},
            ]
        ),
    )
    assert response.status_code == 400
    forms = response.context["formset"].forms
    assert "请选择所属单位。" in " ".join(forms[2].errors["organisation"])
    response = client.post(
        url,
        attendance_data(
            [{"name": "钱学员", "organisation": "mall"}, {"name": "钱学员", "organisation": "mall"}]
        ),
    )
    assert response.status_code == 400
    assert "重复" in " ".join(response.context["formset"].forms[1].errors["name"])
    assert not Attendance.objects.exists()


def test_attendance_editor_runs_a_constant_number_of_queries(
    client, make_training, partner_staff, partner
):
    session = make_training(timezone.now() - dt.timedelta(hours=3))
    url = reverse("partners:training_attendance", args=[session.pk])
    client.force_login(partner_staff)

    def make_rows(count):
        current = list(session.attendances.values("name", "organisation_id", "attended"))
        entries = [
            {"name": row["name"], "organisation": partner, "attended": row["attended"]}
            for row in current
        ]
        start = len(entries)
        entries += [
            {"name": f"学员{number}", "organisation": partner, "attended": True}
            for number in range(start, start + count)
        ]
        services.attendance_record(actor=partner_staff, session=session, attendees=entries)

    assert_constant_queries(lambda: client.get(url), make_rows, small=3, large=30)


# Members ------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status", "manages"),
    [
        ("anonymous", 302, False),
        ("citizen", 404, False),
        ("department_staff", 404, False),
        ("department_admin", 404, False),
        ("partner_staff", 200, False),
        ("partner_admin", 200, True),
        ("superuser", 200, True),
    ],
)
def test_members_page_is_for_the_partners_seats_and_its_admins_manage(
    request, client, role, status, manages, partner_admin, partner_staff
):
    sign_in(client, request, role)
    response = client.get(MEMBERS)
    assert response.status_code == status
    if status != 200:
        return
    html = response.content.decode()
    assert partner_admin.email in html
    assert partner_staff.email in html
    assert (reverse("partners:member_invite") in html) is manages
    assert bool(re.search(r'action="/partners/portal/members/\d+/role/"', html)) is manages


def test_a_viewer_of_the_partner_reads_the_list(client, partner, partner_admin):
    viewer = UserFactory(email="mall.viewer@example.com")
    MembershipFactory(user=viewer, organisation=partner, role="viewer")
    client.force_login(viewer)
    response = client.get(MEMBERS)
    assert response.status_code == 200
    assert partner_admin.email in response.content.decode()
    assert not response.context["can_manage"]


def test_members_of_a_partner_one_has_no_seat_in_are_a_404(
    client, partner, other_partner_admin, partner_admin
):
    client.force_login(other_partner_admin)
    own = client.get(MEMBERS)
    assert own.status_code == 200
    assert own.context["partner"].slug == "bank"
    assert client.get(f"{MEMBERS}?partner=mall").status_code == 404
    assert client.get(f"{MEMBERS}?partner=nowhere").status_code == 404


def test_members_list_runs_a_constant_number_of_queries(
    client, partner, partner_admin, django_assert_max_num_queries
):
    def make_rows(count):
        for _number in range(count):
            MembershipFactory(organisation=partner, role="staff")
            services.invitation_send(
                actor=partner_admin,
                organisation=partner,
                email=f"invitee{Invitation.objects.count()}@example.com",
                role="staff",
            )

    client.force_login(partner_admin)
    budget = assert_constant_queries(lambda: client.get(MEMBERS), make_rows, small=3, large=20)
    with django_assert_max_num_queries(budget):
        client.get(MEMBERS)


@pytest.fixture
def eager_tasks():
    """The invitation e-mail is a Celery task enqueued on commit: run it inline."""
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = False


def test_admin_invites_by_email_and_the_email_goes_out_on_commit(
    client, partner, partner_admin, eager_tasks, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://gongzhi.example.cn"
    partner_admin.display_name = "万象城管理员"
    partner_admin.save(update_fields=["display_name"])
    client.force_login(partner_admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("partners:member_invite"),
            {"partner": "mall", "invite-email": "New.Staff@Example.com", "invite-role": "staff"},
        )
    assert response.status_code == 302
    assert response["Location"] == f"{MEMBERS}?partner=mall"
    invitation = Invitation.objects.get()
    assert (invitation.email, invitation.role) == ("new.staff@example.com", "staff")

    (message,) = mail.outbox
    assert message.to == ["new.staff@example.com"]
    assert message.subject == "邀请您加入万象城"
    link = re.search(r"https://gongzhi\.example\.cn/partners/invitations/(\S+)/", message.body)
    assert link, message.body
    assert services.invitation_for_token(link[1]) == invitation
    assert "万象城管理员 邀请您以“工作人员”的身份加入 万象城。" in message.body
    expiry = timezone.localtime(invitation.expires_at).strftime("%Y-%m-%d %H:%M")
    assert f"链接在 {expiry}（北京时间）前有效" in message.body
    assert "&amp;" not in message.body
    assert "&#" not in message.body

    page = client.get(f"{MEMBERS}?partner=mall")
    assert rows_of(page, "invitation") == [invitation.pk]
    assert "邀请已发送到 new.staff@example.com。" in page.content.decode()


def test_the_invitation_email_escapes_nothing_in_plain_text(
    client, partner, partner_admin, eager_tasks, django_capture_on_commit_callbacks
):
    partner.name_zh = "A&B <商场>"
    partner.save(update_fields=["name_zh"])
    with django_capture_on_commit_callbacks(execute=True):
        services.invitation_send(
            actor=partner_admin, organisation=partner, email="x@example.com", role="admin"
        )
    (message,) = mail.outbox
    assert message.subject == "邀请您加入A&B <商场>"
    assert "“管理员”的身份加入 A&B <商场>" in message.body


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"invite-email": "partner.staff@example.com"}, "email", "此人已经是本单位成员。"),
        ({"invite-email": "not-an-email"}, "email", "请输入合法的邮件地址"),
        ({"invite-role": "owner"}, "role", "选择一个有效的选项"),
    ],
)
def test_bad_invitations_come_back_on_the_form(
    client, partner_admin, partner_staff, data, field, message
):
    client.force_login(partner_admin)
    values = {"partner": "mall", "invite-email": "someone@example.com", "invite-role": "staff"}
    response = client.post(reverse("partners:member_invite"), {**values, **data})
    assert response.status_code == 400
    assert message in " ".join(response.context["invite_form"].errors[field])
    assert not Invitation.objects.exists()


def test_staff_may_not_invite_and_outsiders_get_404(
    client, partner_staff, other_partner_admin, partner
):
    data = {"partner": "mall", "invite-email": "someone@example.com", "invite-role": "admin"}
    client.force_login(partner_staff)
    assert client.post(reverse("partners:member_invite"), data).status_code == 403
    client.force_login(other_partner_admin)
    assert client.post(reverse("partners:member_invite"), data).status_code == 404
    assert not Invitation.objects.exists()


def seat(user, partner) -> Membership:
    return Membership.objects.get(user=user, organisation=partner)


def test_admin_changes_a_role_and_removes_a_member(client, partner, partner_admin, partner_staff):
    staff_seat = seat(partner_staff, partner)
    client.force_login(partner_admin)
    response = client.post(reverse("partners:member_role", args=[staff_seat.pk]), {"role": "admin"})
    assert response.status_code == 302
    assert response["Location"] == f"{MEMBERS}?partner=mall"
    staff_seat.refresh_from_db()
    assert staff_seat.role == "admin"
    response = client.post(reverse("partners:member_remove", args=[staff_seat.pk]))
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=staff_seat.pk).exists()


def test_the_last_admin_can_be_neither_demoted_nor_removed(client, partner, partner_admin):
    own = seat(partner_admin, partner)
    client.force_login(partner_admin)
    response = client.post(reverse("partners:member_role", args=[own.pk]), {"role": "staff"})
    assert response.status_code == 400
    assert "每个单位至少要保留一名管理员。" in response.content.decode()
    response = client.post(reverse("partners:member_remove", args=[own.pk]))
    assert response.status_code == 400
    assert "每个单位至少要保留一名管理员。" in response.content.decode()
    own.refresh_from_db()
    assert own.role == "admin"


def test_staff_cannot_change_roles_and_other_partners_cannot_see_the_seat(
    client, partner, partner_admin, partner_staff, other_partner_admin
):
    admin_seat = seat(partner_admin, partner)
    client.force_login(partner_staff)
    assert (
        client.post(
            reverse("partners:member_role", args=[admin_seat.pk]), {"role": "viewer"}
        ).status_code
        == 403
    )
    assert client.post(reverse("partners:member_remove", args=[admin_seat.pk])).status_code == 403
    client.force_login(other_partner_admin)
    assert (
        client.post(
            reverse("partners:member_role", args=[admin_seat.pk]), {"role": "viewer"}
        ).status_code
        == 404
    )
    assert client.post(reverse("partners:member_remove", args=[admin_seat.pk])).status_code == 404
    admin_seat.refresh_from_db()
    assert admin_seat.role == "admin"


def test_a_department_seat_is_not_managed_here(client, department_admin, superuser):
    department_seat = Membership.objects.get(user=department_admin)
    client.force_login(superuser)
    url = reverse("partners:member_remove", args=[department_seat.pk])
    assert client.post(url).status_code == 404


def test_admin_revokes_an_open_invitation(client, partner, partner_admin, other_partner_admin):
    invitation, token = services.invitation_send(
        actor=partner_admin, organisation=partner, email="late@example.com", role="staff"
    )
    url = reverse("partners:invitation_revoke", args=[invitation.pk])
    client.force_login(other_partner_admin)
    assert client.post(url, {"partner": "mall"}).status_code == 404
    assert client.post(url, {"partner": "bank"}).status_code == 404
    client.force_login(partner_admin)
    response = client.post(url, {"partner": "mall"})
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None
    assert rows_of(client.get(MEMBERS), "invitation") == []
    assert services.invitation_for_token(token) is None


# The invitation link ------------------------------------------------------------------------
@pytest.fixture
def invite(partner, partner_admin):
    """``invite(email, role="staff")`` → the invitation and the token of its link."""

    def send(email: str = "newcomer@example.com", role: str = "staff"):
        return services.invitation_send(
            actor=partner_admin, organisation=partner, email=email, role=role
        )

    return send


def link(token: str) -> str:
    return reverse("partners:invitation", args=[token])


def test_an_anonymous_visitor_reads_the_invitation_and_is_offered_sign_in_and_sign_up(
    client, invite
):
    _invitation, token = invite()
    response = client.get(link(token))
    assert response.status_code == 200
    html = response.content.decode()
    assert "万象城" in html
    assert "newcomer@example.com" in html
    assert "工作人员" in html
    here = link(token).replace("/", "%2F")
    assert f'href="/accounts/login/?next={here}"' in html
    assert f'href="/accounts/signup/?email=newcomer%40example.com&amp;next={here}"' in html
    # The link proved the mailbox: allauth will not ask to confirm this address again.
    assert client.session["account_verified_email"] == "newcomer@example.com"
    assert client.post(link(token)).status_code == 302


@pytest.mark.parametrize("state", ["unknown", "short", "expired", "revoked", "accepted"])
def test_a_dead_link_is_a_404_with_a_clear_message(client, invite, partner_staff, state):
    invitation, token = invite()
    if state == "unknown":
        token = "x" * 43
    elif state == "short":
        token = "abc"
    elif state == "expired":
        Invitation.objects.filter(pk=invitation.pk).update(
            expires_at=timezone.now() - dt.timedelta(minutes=1)
        )
    elif state == "revoked":
        Invitation.objects.filter(pk=invitation.pk).update(revoked_at=timezone.now())
    else:
        Invitation.objects.filter(pk=invitation.pk).update(accepted_at=timezone.now())
    for user in (None, partner_staff):
        if user is not None:
            client.force_login(user)
        response = client.get(link(token))
        assert response.status_code == 404
        assert "这个邀请链接无效、已过期、已被撤销或已经使用过。" in response.content.decode()


def test_signed_in_with_another_address_is_refused_and_told_which_to_use(client, invite, citizen):
    _invitation, token = invite()
    client.force_login(citizen)
    for response in (client.get(link(token)), client.post(link(token))):
        assert response.status_code == 403
        html = response.content.decode()
        assert "这份邀请发给 newcomer@example.com" in html
        assert "citizen@example.com" in html
    assert not Membership.objects.filter(user=citizen).exists()


def test_the_invited_account_accepts_and_lands_on_the_portal(client, invite, partner):
    invitation, token = invite(email="Newcomer@Example.com", role="admin")
    newcomer = UserFactory(email="newcomer@example.com")
    client.force_login(newcomer)
    page = client.get(link(token))
    assert page.status_code == 200
    assert 'type="submit"' in page.content.decode()
    response = client.post(link(token))
    assert response.status_code == 302
    assert response["Location"] == "/partners/portal/?partner=mall"
    assert seat(newcomer, partner).role == "admin"
    invitation.refresh_from_db()
    assert invitation.accepted_by == newcomer
    # The link is spent.
    assert client.get(link(token)).status_code == 404


def test_sign_up_from_the_invitation_needs_no_second_confirmation(client, invite, partner):
    """The whole flow with allauth's real sign-up: the invitation page, the sign-up form
    (the address filled in), back on the invitation signed in, accept, the portal."""
    _invitation, token = invite()
    page = client.get(link(token))
    signup_url = re.search(r'href="(/accounts/signup/[^"]+)"', page.content.decode())[1]
    signup_url = signup_url.replace("&amp;", "&")
    form = client.get(signup_url)
    assert form.status_code == 200
    assert 'value="newcomer@example.com"' in form.content.decode()
    response = client.post(
        signup_url,
        {
            "email": "newcomer@example.com",
            "password1": "Gongzhi-Invite-2030!",
            "password2": "Gongzhi-Invite-2030!",
            "display_name": "新同事",
        },
        follow=True,
    )
    assert response.redirect_chain[-1][0] == link(token)
    user = User.objects.get(email="newcomer@example.com")
    assert EmailAddress.objects.get(user=user).verified
    assert not [m for m in mail.outbox if "confirm-email" in m.body]
    assert response.context["user"] == user
    accepted = client.post(link(token), follow=True)
    assert accepted.redirect_chain[-1][0] == "/partners/portal/?partner=mall"
    assert seat(user, partner).role == "staff"


def test_an_existing_account_signs_in_and_comes_back_to_accept(client, invite, partner):
    _invitation, token = invite()
    user = UserFactory(email="newcomer@example.com")
    page = client.get(link(token)).content.decode()
    login_url = re.search(r'href="(/accounts/login/[^"]+)"', page)[1]
    response = client.post(
        login_url, {"login": "newcomer@example.com", "password": PASSWORD}, follow=True
    )
    assert response.redirect_chain[-1][0] == link(token)
    client.post(link(token))
    assert seat(user, partner).role == "staff"


def test_sign_up_elsewhere_confirms_the_address_first_then_accepts(client, invite, partner):
    """Someone who signs up without the link in hand (another browser) confirms their address
    as allauth requires, then opens the link and accepts."""
    _invitation, token = invite()
    response = client.post(
        reverse("account_signup"),
        {
            "email": "newcomer@example.com",
            "password1": "Gongzhi-Invite-2030!",
            "password2": "Gongzhi-Invite-2030!",
        },
    )
    assert response.status_code == 302
    assert "/accounts/confirm-email/" in response["Location"]
    user = User.objects.get(email="newcomer@example.com")
    assert not EmailAddress.objects.get(user=user).verified
    (confirmation,) = [m for m in mail.outbox if "confirm-email" in m.body]
    key_url = re.search(r"https?://[^/\s]+(/accounts/confirm-email/\S+/)", confirmation.body)[1]
    assert client.post(key_url).status_code == 302
    assert EmailAddress.objects.get(user=user).verified
    client.force_login(user)
    client.post(link(token))
    assert seat(user, partner).role == "staff"
