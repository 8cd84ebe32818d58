"""The partners admin through the real admin site: each role's scoped lists, what stays
read-only, writes through the services (and their refusals as form errors), the booking and
invitation actions, the changelists' query counts, and the import and export of resources and
shifts with the portal's rules."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile

from partners import services
from partners.models import (
    Agreement,
    Booking,
    Invitation,
    Pledge,
    Resource,
    TrainingSession,
    VolunteerShift,
)
from tests.factories import StationFactory
from tests.partners.conftest import ALL_WEEK, at
from tests.partners.fixtures_domain import *  # noqa: F403  (proposal, pledge, agreement, shift, training)
from tests.partners.fixtures_imports import (  # noqa: F401  (fixtures)
    RESOURCE_HEADERS,
    SHIFT_HEADERS,
    TZ,
    csv_file,
    partner_viewer_fixture,
    read_csv,
    resource_row,
    shift_row,
    xlsx_file,
)
from tests.query_budget import assert_constant_queries
from tests.stations.test_admin import MISSING, admin_url, assert_refused, changelist_rows, form_data

START = dt.datetime(2030, 3, 4, 9, tzinfo=TZ)


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def world(
    partner,
    other_partner,
    department,
    other_department,
    partner_admin,
    partner_staff,
    other_partner_admin,
    department_staff,
    other_department_staff,
    station,
    monday,
    make_resource,
    resource,
    book,
    pledge,
    agreement,
    shift,
    training,
):
    """Mall and the bank each with a resource, a booking asked of them, a pledge, an agreement,
    a shift, a training session and an invitation; hukou sits at the mall's station, traffic at
    the bank's."""
    bank_station = StationFactory(
        slug="bank-station", name_zh="银行网点", host=other_partner, departments=[other_department]
    )
    atrium = resource  # the one ``book`` asks for
    make_resource(name_zh="三楼会议室", visibility="stakeholders", quantity="20", unit="people")
    make_resource(name_zh="旧仓库", is_active=False)
    kiosk = make_resource(
        owner=other_partner,
        actor=other_partner_admin,
        name_zh="银行自助终端",
        station=bank_station,
        windows=ALL_WEEK,
    )
    book()
    services.booking_request(
        actor=other_department_staff,
        resource=kiosk,
        requester=other_department,
        starts_at=at(monday, 14),
        ends_at=at(monday, 15),
        purpose="反诈宣传",
    )
    pledge()
    pledge(actor=other_partner_admin, partner=other_partner, quantity="500", note="银行赞助")
    # Drafts: an agreement takes effect on a department admin's word.
    agreement(status=Agreement.Status.DRAFT)
    agreement(
        actor=other_partner_admin,
        partner=other_partner,
        departments=[other_department],
        title_zh="银行合作协议",
        status=Agreement.Status.DRAFT,
    )
    shift(START)
    shift(
        START,
        owner=other_partner,
        actor=other_partner_admin,
        station=bank_station,
        volunteer="银行志愿者",
    )
    training(START)
    training(START, actor=department_staff, organiser=department, topic_zh="户政业务培训")
    services.invitation_send(
        actor=partner_admin, organisation=partner, email="new.mall@example.com", role="staff"
    )
    services.invitation_send(
        actor=other_partner_admin,
        organisation=other_partner,
        email="new.bank@example.com",
        role="staff",
    )
    return {"atrium": atrium, "kiosk": kiosk, "bank_station": bank_station}


# What each role lists ------------------------------------------------------------------------
def _label(row) -> str:
    if isinstance(row, Resource):
        return row.name_zh
    if isinstance(row, Booking):
        return row.resource.name_zh
    if isinstance(row, Pledge):
        return row.note
    if isinstance(row, Agreement):
        return row.title_zh
    if isinstance(row, VolunteerShift):
        return row.volunteer
    if isinstance(row, TrainingSession):
        return row.topic_zh
    return row.email


EVERYTHING = {
    Resource: {"中庭活动区", "三楼会议室", "旧仓库", "银行自助终端"},
    Booking: {"中庭活动区", "银行自助终端"},
    Pledge: {"用于购置设备", "银行赞助"},
    Agreement: {"警务服务站合作备忘录", "银行合作协议"},
    VolunteerShift: {"王志愿", "银行志愿者"},
    TrainingSession: {"窗口服务礼仪", "户政业务培训"},
    Invitation: {"new.mall@example.com", "new.bank@example.com"},
}
SCOPES = {
    "partner_admin": {
        Resource: {"中庭活动区", "三楼会议室", "旧仓库"},
        Booking: {"中庭活动区"},
        Pledge: {"用于购置设备"},
        Agreement: {"警务服务站合作备忘录"},
        VolunteerShift: {"王志愿"},
        TrainingSession: {"窗口服务礼仪"},
        Invitation: {"new.mall@example.com"},
    },
    "partner_staff": {
        Resource: {"中庭活动区", "三楼会议室", "旧仓库"},
        Booking: {"中庭活动区"},
        Pledge: {"用于购置设备"},
        Agreement: {"警务服务站合作备忘录"},
        VolunteerShift: {"王志愿"},
        TrainingSession: {"窗口服务礼仪"},
        Invitation: 403,
    },
    "other_partner_admin": {
        Resource: {"银行自助终端"},
        Booking: {"银行自助终端"},
        Pledge: {"银行赞助"},
        Agreement: {"银行合作协议"},
        VolunteerShift: {"银行志愿者"},
        TrainingSession: set(),
        Invitation: {"new.bank@example.com"},
    },
    # Hukou made the atrium booking, answers the proposal both pledges are to, is party to
    # mall's agreement, sits at the mall station and organised a session; it reads the
    # resources shared with stakeholders (not the mall's inactive one).
    "department_staff": {
        Resource: {"中庭活动区", "三楼会议室", "银行自助终端"},
        Booking: {"中庭活动区"},
        Pledge: {"用于购置设备", "银行赞助"},
        Agreement: {"警务服务站合作备忘录"},
        VolunteerShift: {"王志愿"},
        TrainingSession: {"户政业务培训"},
        Invitation: 403,
    },
    "other_department_staff": {
        Resource: {"中庭活动区", "三楼会议室", "银行自助终端"},
        Booking: {"银行自助终端"},
        Pledge: set(),
        Agreement: {"银行合作协议"},
        VolunteerShift: {"银行志愿者"},
        TrainingSession: set(),
        Invitation: 403,
    },
    "superuser": EVERYTHING,
}


@pytest.mark.parametrize("model", list(EVERYTHING), ids=lambda model: model.__name__)
@pytest.mark.parametrize("role", list(SCOPES))
def test_each_changelist_lists_only_what_the_role_may_see(request, mfa_client, world, role, model):
    client = mfa_client(request.getfixturevalue(role))
    expected = SCOPES[role][model]
    response = client.get(admin_url(model, "changelist"))
    if expected == 403:
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert {_label(row) for row in changelist_rows(response)} == expected
    page = response.content.decode()
    for hidden in EVERYTHING[model] - expected:
        assert hidden not in page


def test_citizens_never_enter_the_partners_admin(client, totp, citizen, world):
    totp(citizen)
    client.force_login(citizen)
    for view in ("changelist", "import", "export"):
        response = client.get(admin_url(Resource, view), follow=True)
        assert response.status_code == 403
        assert "中庭活动区" not in response.content.decode()


def test_another_partners_resource_is_missing_for_a_partner(mfa_client, partner_admin, world):
    kiosk = world["kiosk"]
    client = mfa_client(partner_admin)
    assert_refused(client.get(admin_url(Resource, "change", kiosk.pk)), MISSING, "银行自助终端")
    response = client.post(admin_url(Resource, "change", kiosk.pk), {"name_zh": "改名"})
    assert_refused(response, MISSING, "银行自助终端")
    kiosk.refresh_from_db()
    assert kiosk.name_zh == "银行自助终端"


def test_department_staff_read_a_shared_resource_but_cannot_change_it(
    mfa_client, department_staff, world
):
    atrium = world["atrium"]
    client = mfa_client(department_staff)
    response = client.get(admin_url(Resource, "change", atrium.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert (
        client.post(admin_url(Resource, "change", atrium.pk), {"name_zh": "改"}).status_code == 403
    )
    assert client.get(admin_url(Resource, "add")).status_code == 403
    atrium.refresh_from_db()
    assert atrium.name_zh == "中庭活动区"


@pytest.mark.parametrize("model", [Booking, Pledge, Invitation], ids=lambda m: m.__name__)
def test_bookings_pledges_and_invitations_are_never_edited_as_rows(
    mfa_client, partner_admin, world, model
):
    row = model.objects.filter(
        **{
            Booking: {"resource__partner__slug": "mall"},
            Pledge: {"partner__slug": "mall"},
            Invitation: {"organisation__slug": "mall"},
        }[model]
    ).get()
    client = mfa_client(partner_admin)
    response = client.get(admin_url(model, "change", row.pk))
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in response.content.decode()
    assert client.post(admin_url(model, "change", row.pk), {}).status_code == 403
    assert client.get(admin_url(model, "add")).status_code == 403
    response = client.post(admin_url(model, "delete", row.pk), {"post": "yes"})
    assert response.status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


# Writes through the services ----------------------------------------------------------------
def test_partner_admin_adds_a_resource_through_the_service(
    mfa_client, partner_admin, partner, other_partner, station
):
    client = mfa_client(partner_admin)
    url = admin_url(Resource, "add")
    response = client.get(url)
    assert list(response.context["adminform"].form.fields["partner"].queryset) == [partner]
    data = form_data(response, "resource")
    data.update(
        {
            "partner": [str(partner.pk)],
            "kind": ["funding"],
            "name_zh": ["活动经费"],
            "quantity": ["5000"],
            "unit": ["yuan"],
            "station": [str(station.pk)],
            "bookable": ["on"],
        }
    )
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    resource = Resource.objects.get(name_zh="活动经费")
    assert (resource.partner, resource.created_by) == (partner, partner_admin)
    assert resource.bookable is False  # the service's rule: funding is never booked

    data.update({"partner": [str(other_partner.pk)], "name_zh": ["银行经费"]})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "partner" in response.context["adminform"].form.errors
    assert not Resource.objects.filter(name_zh="银行经费").exists()


def test_partner_staff_change_a_resource_and_the_services_refusal_is_a_form_error(
    mfa_client, partner_staff, world
):
    atrium = world["atrium"]
    client = mfa_client(partner_staff)
    url = admin_url(Resource, "change", atrium.pk)
    data = form_data(client.get(url), "resource")
    assert "partner" not in data
    data["quantity"] = ["150"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    atrium.refresh_from_db()
    assert atrium.quantity == Decimal(150)

    data["quantity"] = ["0"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "quantity" in response.context["adminform"].form.errors
    atrium.refresh_from_db()
    assert atrium.quantity == Decimal(150)


def test_marking_a_future_shift_done_in_the_admin_is_a_form_error(mfa_client, partner_staff, world):
    future = VolunteerShift.objects.get(volunteer="王志愿")
    client = mfa_client(partner_staff)
    url = admin_url(VolunteerShift, "change", future.pk)
    data = form_data(client.get(url), "volunteershift")
    data["status"] = ["done"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.errors["status"] == [
        "班次开始之后才能登记到岗或缺勤。"
    ]
    future.refresh_from_db()
    assert future.status == "scheduled"


def test_an_agreement_is_drafted_by_an_admin_of_one_of_its_sides(
    mfa_client, department_admin, partner, department, other_department
):
    client = mfa_client(department_admin)
    url = admin_url(Agreement, "add")
    data = form_data(client.get(url), "agreement")
    data |= {
        "partner": [str(partner.pk)],
        "departments": [str(other_department.pk)],
        "title_zh": ["停车场共享协议"],
        "scope_zh": ["共享停车位"],
        "starts_on": ["2030-01-01"],
        "ends_on": ["2030-12-31"],
        "status": ["draft"],
    }
    response = client.post(url, data)
    # Hukou's admin is neither side of an agreement between mall and traffic.
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not Agreement.objects.exists()

    data["departments"] = [str(department.pk), str(other_department.pk)]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    agreement = Agreement.objects.get()
    assert set(agreement.departments.all()) == {department, other_department}
    assert agreement.created_by == department_admin


def test_the_services_refusal_to_let_a_partner_activate_an_agreement_is_a_form_error(
    mfa_client, partner_admin, department_admin, agreement
):
    draft = agreement(status=Agreement.Status.DRAFT)
    client = mfa_client(partner_admin)
    url = admin_url(Agreement, "change", draft.pk)
    data = form_data(client.get(url), "agreement")
    data["status"] = ["active"]
    response = client.post(url, data)
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors() == [
        "只有合作部门的管理员才能使协议生效。"
    ]
    draft.refresh_from_db()
    assert draft.status == Agreement.Status.DRAFT

    client = mfa_client(department_admin)
    data = form_data(client.get(url), "agreement")
    data["status"] = ["active"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    draft.refresh_from_db()
    assert draft.status == Agreement.Status.ACTIVE


# Actions ------------------------------------------------------------------------------------
def _act(client, model, action, rows, **extra):
    data = {"action": action, "_selected_action": [row.pk for row in rows], **extra}
    return client.post(admin_url(model, "changelist"), data)


def test_partner_staff_approve_a_booking_with_the_action(mfa_client, partner_staff, world):
    booking = Booking.objects.get(resource=world["atrium"])
    response = _act(mfa_client(partner_staff), Booking, "approve_selected", [booking])
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.decided_by) == ("approved", partner_staff)


def test_declining_asks_for_the_reason_first(mfa_client, partner_staff, world):
    booking = Booking.objects.get(resource=world["atrium"])
    client = mfa_client(partner_staff)
    response = _act(client, Booking, "decline_selected", [booking])
    assert response.status_code == 200
    assert "拒绝原因" in response.content.decode()
    booking.refresh_from_db()
    assert booking.status == "requested"

    response = _act(client, Booking, "decline_selected", [booking], confirm="yes", reason="")
    assert response.status_code == 200
    assert response.context["form"].errors["reason"]

    response = _act(
        client, Booking, "decline_selected", [booking], confirm="yes", reason="当天商场闭店"
    )
    assert response.status_code == 302
    booking.refresh_from_db()
    assert (booking.status, booking.decline_reason) == ("declined", "当天商场闭店")


def test_the_action_refuses_bookings_the_user_may_not_decide(
    mfa_client, partner_staff, other_department_staff, world
):
    kiosk_booking = Booking.objects.get(resource=world["kiosk"])
    # The bank's booking is not in mall's list: the action cannot reach it.
    response = _act(mfa_client(partner_staff), Booking, "approve_selected", [kiosk_booking])
    kiosk_booking.refresh_from_db()
    assert kiosk_booking.status == "requested"
    assert response.status_code in {200, 302}


@pytest.mark.parametrize("role", ["department_staff", "superuser"])
def test_requesters_and_superusers_are_not_offered_the_decisions(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get(admin_url(Booking, "changelist"))
    page = response.content.decode()
    assert "approve_selected" not in page
    assert "decline_selected" not in page
    booking = Booking.objects.get(resource=world["atrium"])
    _act(client, Booking, "approve_selected", [booking])
    booking.refresh_from_db()
    assert booking.status == "requested"


def test_partner_admin_revokes_an_invitation(mfa_client, partner_admin, world):
    invitation = Invitation.objects.get(email="new.mall@example.com")
    response = _act(mfa_client(partner_admin), Invitation, "revoke_selected", [invitation])
    assert response.status_code == 302
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


# Query counts -------------------------------------------------------------------------------
def _counter():
    count = [0]

    def next_number():
        count[0] += 1
        return count[0]

    return next_number


@pytest.mark.parametrize("role", ["partner_admin", "department_staff", "superuser"])
def test_resource_changelist_runs_constant_queries(request, mfa_client, make_resource, role):
    client = mfa_client(request.getfixturevalue(role))
    number = _counter()
    assert_constant_queries(
        lambda: client.get(admin_url(Resource, "changelist")),
        lambda count: [make_resource(name_zh=f"会议室{number()}") for _row in range(count)],
        small=2,
        large=12,
        check=lambda response, rows: len(changelist_rows(response)) == rows,
    )


@pytest.mark.parametrize("role", ["partner_staff", "department_staff"])
def test_booking_changelist_runs_constant_queries(request, mfa_client, book, monday, role):
    client = mfa_client(request.getfixturevalue(role))
    assert_constant_queries(
        lambda: client.get(admin_url(Booking, "changelist")),
        lambda count: [book(at(monday, 10 + row % 8)) for row in range(count)],
        small=2,
        large=12,
    )


def test_pledge_changelist_runs_constant_queries(mfa_client, department_staff, pledge):
    client = mfa_client(department_staff)
    assert_constant_queries(
        lambda: client.get(admin_url(Pledge, "changelist")),
        lambda count: [pledge() for _row in range(count)],
        small=2,
        large=12,
    )


def test_agreement_changelist_runs_constant_queries(mfa_client, partner_admin, agreement):
    client = mfa_client(partner_admin)
    number = _counter()
    assert_constant_queries(
        lambda: client.get(admin_url(Agreement, "changelist")),
        lambda count: [
            agreement(title_zh=f"协议{number()}", status=Agreement.Status.DRAFT)
            for _row in range(count)
        ],
        small=2,
        large=12,
    )


@pytest.mark.parametrize("role", ["partner_staff", "department_staff"])
def test_shift_changelist_runs_constant_queries(request, mfa_client, shift, role):
    client = mfa_client(request.getfixturevalue(role))
    number = _counter()
    assert_constant_queries(
        lambda: client.get(admin_url(VolunteerShift, "changelist")),
        lambda count: [shift(START + dt.timedelta(days=number())) for _row in range(count)],
        small=2,
        large=12,
    )


def test_training_changelist_runs_constant_queries(mfa_client, partner_staff, training):
    client = mfa_client(partner_staff)
    number = _counter()
    assert_constant_queries(
        lambda: client.get(admin_url(TrainingSession, "changelist")),
        lambda count: [training(START + dt.timedelta(days=number())) for _row in range(count)],
        small=2,
        large=12,
    )


def test_invitation_changelist_runs_constant_queries(mfa_client, partner_admin, partner):
    client = mfa_client(partner_admin)
    number = _counter()
    assert_constant_queries(
        lambda: client.get(admin_url(Invitation, "changelist")),
        lambda count: [
            services.invitation_send(
                actor=partner_admin,
                organisation=partner,
                email=f"person{number()}@example.com",
                role="staff",
            )
            for _row in range(count)
        ],
        small=2,
        large=12,
    )


# Import and export --------------------------------------------------------------------------
def _import(client, model, upload, partner, fmt: str | None = None):
    fmt = fmt or ("1" if upload.name.endswith(".xlsx") else "0")
    return client.post(
        admin_url(model, "import"),
        {"partner": partner.pk, "import_file": upload, "format": fmt, "resource": "0"},
    )


def _confirm(client, model, checked, **changes):
    form = checked.context["confirm_form"]
    data = {name: form.initial.get(name, "") for name in form.fields}
    data.update(changes)
    return client.post(admin_url(model, "process_import"), data)


def test_partner_admin_imports_resources_in_two_steps(mfa_client, partner_admin, partner, station):
    client = mfa_client(partner_admin)
    page = client.get(admin_url(Resource, "import"))
    assert page.status_code == 200
    assert list(page.context["form"].fields["partner"].queryset) == [partner]

    upload = csv_file([resource_row(), resource_row(name_zh="中庭大屏")])
    checked = _import(client, Resource, upload, partner)
    assert checked.status_code == 200
    assert checked.context["confirm_form"] is not None
    assert not Resource.objects.exists()  # the check writes nothing

    response = _confirm(client, Resource, checked)
    assert response.status_code == 302
    assert response.url == admin_url(Resource, "changelist")
    assert set(Resource.objects.filter(partner=partner).values_list("name_zh", flat=True)) == {
        "自助终端",
        "中庭大屏",
    }
    assert Resource.objects.get(name_zh="自助终端").created_by == partner_admin
    assert LogEntry.objects.filter(user=partner_admin).count() == 2
    assert "导入完成：新增 2 条" in _messages(response)[-1]


def test_a_bad_row_in_the_admin_import_is_listed_and_nothing_can_be_confirmed(
    mfa_client, partner_staff, partner, station
):
    client = mfa_client(partner_staff)
    upload = csv_file([resource_row(), resource_row(name_zh="中庭大屏", unit="桶")])
    response = _import(client, Resource, upload, partner)
    assert response.status_code == 200
    assert "confirm_form" not in response.context
    [problem] = response.context["problems"]
    assert (problem.line, problem.column) == (3, "unit")
    page = response.content.decode()
    assert "文件未导入，没有写入任何数据" in page
    assert "Traceback" not in page
    assert not Resource.objects.exists()


def test_the_confirmed_import_is_all_or_nothing_when_the_data_changed_since_the_check(
    mfa_client, partner_admin, partner, station
):
    client = mfa_client(partner_admin)
    spare = StationFactory(slug="spare-station", name_zh="备用站点", host=partner)
    rows = [resource_row(), resource_row(name_zh="备用柜台", station=spare.slug)]
    checked = _import(client, Resource, csv_file(rows), partner)
    assert checked.context["confirm_form"] is not None
    spare.is_active = False
    spare.save(update_fields=["is_active"])

    response = _confirm(client, Resource, checked)
    assert response.status_code == 302
    assert response.url == admin_url(Resource, "import")
    [message] = _messages(response)
    assert "没有写入任何数据" in message
    assert "第 3 行 station：该站点已停用。" in message
    assert not Resource.objects.exists()


def test_a_partner_cannot_import_into_another_partner_even_by_tampering(
    mfa_client, partner_admin, partner, other_partner, station
):
    client = mfa_client(partner_admin)
    response = _import(client, Resource, csv_file([resource_row()]), other_partner)
    assert response.status_code == 200
    assert "partner" in response.context["form"].errors
    checked = _import(client, Resource, csv_file([resource_row()]), partner)
    response = _confirm(client, Resource, checked, partner=other_partner.pk)
    assert response.status_code == 200
    assert "partner" in response.context["confirm_form"].errors
    assert not Resource.objects.exists()


def test_superuser_imports_shifts_from_xlsx_for_the_partner_they_choose(
    mfa_client, superuser, partner, other_partner, station
):
    client = mfa_client(superuser)
    choices = client.get(admin_url(VolunteerShift, "import")).context["form"].fields["partner"]
    assert set(choices.queryset) == {partner, other_partner}
    start = START.replace(tzinfo=None)
    upload = xlsx_file(
        [shift_row(starts_at=start, ends_at=start + dt.timedelta(hours=2))],
        headers=SHIFT_HEADERS,
    )
    checked = _import(client, VolunteerShift, upload, other_partner)
    assert checked.context["confirm_form"] is not None, checked.context.get("problems")
    assert _confirm(client, VolunteerShift, checked).status_code == 302
    shift = VolunteerShift.objects.get()
    assert (shift.partner, shift.starts_at) == (other_partner, START)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"name_zh\nA\n", "只能导入 CSV 或 XLSX 文件。"),
        ("big.csv", b"name_zh\n" + b"A" * (2 * 1024 * 1024), "文件太大：最大 2 MB。"),
    ],
)
def test_the_admin_refuses_other_files_with_a_message(
    mfa_client, partner_admin, partner, name, content, message
):
    client = mfa_client(partner_admin)
    response = _import(client, Resource, SimpleUploadedFile(name, content), partner, fmt="0")
    assert response.status_code == 200
    assert message in response.context["form"].errors["import_file"]
    assert not Resource.objects.exists()


def test_an_xlsx_chosen_as_csv_is_refused_with_a_message(mfa_client, partner_admin, partner):
    client = mfa_client(partner_admin)
    upload = xlsx_file([resource_row()])
    response = _import(client, Resource, upload, partner, fmt="0")
    assert response.status_code == 200
    assert response.context["form"].errors["format"] == ["所选格式与文件的扩展名不一致。"]
    assert not Resource.objects.exists()


@pytest.mark.parametrize(
    ("role", "model"),
    [
        ("department_staff", Resource),
        ("department_staff", VolunteerShift),
        ("partner_viewer", Resource),
    ],
)
def test_only_partners_acting_members_are_offered_the_import(
    request, mfa_client, partner, role, model
):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(model, "import")).status_code == 403
    response = _import(client, model, csv_file([resource_row()]), partner)
    assert response.status_code == 403
    assert not model.objects.exists()
    assert (
        admin_url(model, "import")
        not in client.get(admin_url(model, "changelist")).content.decode()
    )


def _export(client, model, fmt="0"):
    columns = RESOURCE_HEADERS if model is Resource else SHIFT_HEADERS
    prefix = "resourcetransfer" if model is Resource else "shifttransfer"
    data = {"format": fmt, "resource": "0", **{f"{prefix}_{name}": "on" for name in columns}}
    return client.post(admin_url(model, "export"), data)


def test_admin_export_holds_the_users_rows_only_with_formulas_neutralised(
    mfa_client, partner_staff, world, make_resource
):
    make_resource(name_zh="=1+1", description_zh="@cmd")
    response = _export(mfa_client(partner_staff), Resource)
    assert response.status_code == 200
    rows = read_csv(response.content)
    assert {row["name_zh"] for row in rows} == {"中庭活动区", "三楼会议室", "旧仓库", "'=1+1"}
    assert {row["description_zh"] for row in rows if row["name_zh"] == "'=1+1"} == {"'@cmd"}


def test_department_staff_export_the_shifts_at_their_stations(mfa_client, department_staff, world):
    response = _export(mfa_client(department_staff), VolunteerShift)
    assert response.status_code == 200
    [row] = read_csv(response.content)
    assert (row["volunteer"], row["starts_at"]) == ("王志愿", "2030-03-04 09:00")
