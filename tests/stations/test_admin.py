"""The stations admin through the real admin site: scoped lists, refused pages, refused and
allowed writes, form choices, and the visit list's filters and query count."""

from __future__ import annotations

import datetime as dt
from html.parser import HTMLParser

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from governance.stakeholders.models import Membership
from governance.stations.models import Service, Station, Visit
from tests.factories import MembershipFactory, ServiceFactory, StationFactory, VisitFactory


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every role is a user with a password; the production hasher costs most of the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# A browser's view of an admin form --------------------------------------------------------------
class _FormFields(HTMLParser):
    """Collects what a browser would submit from the form with the given id."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.inside = False
        self.data: dict[str, list[str]] = {}
        self._select: str | None = None
        self._select_multiple = False
        self._select_first: str | None = None
        self._select_chosen = False
        self._textarea: str | None = None

    def _add(self, name: str, value: str) -> None:
        if "__prefix__" not in name:
            self.data.setdefault(name, []).append(value)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form" and attrs.get("id") == self.form_id:
            self.inside = True
            return
        if not self.inside:
            return
        name = attrs.get("name")
        if tag == "input" and name:
            kind = attrs.get("type", "text")
            if kind in {"submit", "button", "image", "file", "reset"}:
                return
            if kind in {"checkbox", "radio"}:
                if "checked" in attrs:
                    self._add(name, attrs.get("value") or "on")
                return
            self._add(name, attrs.get("value") or "")
        elif tag == "select" and name:
            self._select, self._select_multiple = name, "multiple" in attrs
            self._select_first, self._select_chosen = None, False
        elif tag == "option" and self._select:
            value = attrs.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in attrs:
                self._select_chosen = True
                self._add(self._select, value)
        elif tag == "textarea" and name:
            self._textarea = name
            self._add(name, "")

    def handle_data(self, data):
        if self._textarea:
            values = self.data.get(self._textarea)
            if values is not None:
                values[-1] += data

    def handle_endtag(self, tag):
        if tag == "form" and self.inside:
            self.inside = False
        elif tag == "select" and self._select:
            # A single select with nothing selected submits its first option.
            if not self._select_multiple and not self._select_chosen:
                self._add(self._select, self._select_first or "")
            self._select = None
        elif tag == "textarea":
            if self._textarea and self._textarea in self.data:
                # Browsers drop the newline right after <textarea>.
                value = self.data[self._textarea][-1]
                self.data[self._textarea][-1] = value.removeprefix("\n")
            self._textarea = None


def form_data(response, model_name: str) -> dict[str, list[str]]:
    """What the admin's change/add form in ``response`` would submit, untouched."""
    assert response.status_code == 200, response.status_code
    parser = _FormFields(f"{model_name}_form")
    parser.feed(response.content.decode())
    assert parser.data, "form not found"
    return parser.data


def admin_url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


def changelist_rows(response) -> list:
    return list(response.context["cl"].result_list)


MISSING = "missing"


def assert_refused_as_missing(response, client=None) -> None:
    """Django's admin answers an object outside the user's queryset like a deleted one: a
    redirect to the index with a warning naming only the id."""
    assert response.status_code == 302
    assert response.url == reverse("admin:index")
    messages = [str(message) for message in get_messages(response.wsgi_request)]
    assert any("doesn’t exist" in message or "不存在" in message for message in messages)


def assert_refused(response, how, *secrets: str) -> None:
    """``how`` is MISSING or 403. Which one depends on the view and on whether the user holds the
    permission for *some* object of the kind: Django checks that before it looks the row up
    (403), or looks the row up first and, outside the queryset, answers as if it were missing.
    Either way no field of the object reaches the page."""
    if how == MISSING:
        assert_refused_as_missing(response)
    else:
        assert response.status_code == how
    for secret in secrets:
        assert secret not in response.content.decode()


# Data ------------------------------------------------------------------------------------------
@pytest.fixture
def world(department, other_department, partner, other_partner):
    station = StationFactory(
        slug="mall-station", name_zh="万象城警务站", host=partner, departments=[department]
    )
    other_station = StationFactory(
        slug="bank-station", name_zh="银行网点", host=other_partner, departments=[other_department]
    )
    service = ServiceFactory(
        department=department, service_code="HK-ID", name_zh="身份证换领", stations=[station]
    )
    other_service = ServiceFactory(
        department=other_department,
        service_code="TR-LICENCE",
        name_zh="驾驶证换证",
        stations=[other_station],
    )
    return {
        "station": station,
        "other_station": other_station,
        "service": service,
        "other_service": other_service,
        "visit": VisitFactory(station=station, service=service, ticket="H001"),
        "other_visit": VisitFactory(station=other_station, service=other_service, ticket="T001"),
    }


# Services --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"HK-ID", "TR-LICENCE"}),
        ("department_admin", {"HK-ID"}),
        ("department_staff", {"HK-ID"}),
        ("department_viewer", {"HK-ID"}),
        ("other_department_staff", {"TR-LICENCE"}),
    ],
)
def test_service_changelist_lists_only_the_users_departments(
    request, mfa_client, world, role, expected
):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get(admin_url(Service, "changelist"))
    assert response.status_code == 200
    assert {service.service_code for service in changelist_rows(response)} == expected
    for code in {"HK-ID", "TR-LICENCE"} - expected:
        assert code not in response.content.decode()


@pytest.mark.parametrize("role", ["partner_admin", "partner_staff", "other_partner_admin"])
def test_partners_cannot_open_the_service_catalogue(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(Service, "changelist")).status_code == 403
    # Without the permission on any service the admin refuses before it looks the row up.
    response = client.get(admin_url(Service, "change", world["service"].pk))
    assert_refused(response, 403, "HK-ID", "身份证换领")


def test_search_finds_only_the_users_services(mfa_client, department_staff, world):
    client = mfa_client(department_staff)
    response = client.get(admin_url(Service, "changelist"), {"q": "换"})
    assert response.status_code == 200
    assert [service.service_code for service in changelist_rows(response)] == ["HK-ID"]


@pytest.mark.parametrize("role", ["department_admin", "department_staff", "department_viewer"])
def test_other_departments_service_page_is_refused(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    other = world["other_service"]
    # Delete is checked before the lookup: 403 for those who delete no service at all.
    may_delete_some = role == "department_admin"
    expected = {
        "change": MISSING,
        "delete": MISSING if may_delete_some else 403,
        "history": MISSING,
    }
    for view, how in expected.items():
        response = client.get(admin_url(Service, view, other.pk))
        assert_refused(response, how, "TR-LICENCE", "驾驶证换证")
    response = client.get(admin_url(Service, "change", other.pk), follow=True)
    assert response.status_code == 200
    assert "TR-LICENCE" not in response.content.decode()
    assert "驾驶证换证" not in response.content.decode()


@pytest.mark.parametrize("role", ["department_admin", "department_staff"])
def test_department_staff_change_their_service(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    service = world["service"]
    url = admin_url(Service, "change", service.pk)
    data = form_data(client.get(url), "service")
    data["name_zh"] = ["居民身份证换领"]
    data["target_minutes"] = ["25"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    service.refresh_from_db()
    assert (service.name_zh, service.target_minutes) == ("居民身份证换领", 25)


def test_saving_a_service_keeps_it_at_stations_the_editor_cannot_see(
    mfa_client, department_staff, world
):
    service = world["service"]
    service.stations.add(world["other_station"])
    client = mfa_client(department_staff)
    url = admin_url(Service, "change", service.pk)
    response = client.get(url)
    assert "银行网点" not in response.content.decode()
    data = form_data(response, "service")
    assert data["stations"] == [str(world["station"].pk)]
    data["target_minutes"] = ["20"]
    assert client.post(url, data).status_code == 302
    assert set(service.stations.all()) == {world["station"], world["other_station"]}

    data["stations"] = []  # removing the station the editor does see still works
    assert client.post(url, data).status_code == 302
    assert set(service.stations.all()) == {world["other_station"]}


def test_viewer_sees_the_service_but_cannot_change_it(mfa_client, department_viewer, world):
    client = mfa_client(department_viewer)
    service = world["service"]
    url = admin_url(Service, "change", service.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert "身份证换领" in response.content.decode()
    assert not response.context["has_change_permission"]
    assert 'name="name_zh"' not in response.content.decode()
    response = client.post(url, {"name_zh": "改名", "service_code": "HK-ID", "target_minutes": 5})
    assert response.status_code == 403
    service.refresh_from_db()
    assert service.name_zh == "身份证换领"


def test_staff_cannot_post_changes_to_another_departments_service(
    mfa_client, department_staff, world
):
    client = mfa_client(department_staff)
    other = world["other_service"]
    response = client.post(
        admin_url(Service, "change", other.pk),
        {
            "department": other.department_id,
            "service_code": "TR-LICENCE",
            "channel": "counter",
            "name_zh": "被改了",
            "target_minutes": 5,
        },
    )
    assert_refused_as_missing(response, client)
    other.refresh_from_db()
    assert other.name_zh == "驾驶证换证"


def test_only_department_admins_delete_services(
    mfa_client, department_staff, department_admin, department
):
    spare = ServiceFactory(department=department, service_code="HK-SPARE")
    url = admin_url(Service, "delete", spare.pk)

    client = mfa_client(department_staff)
    assert client.get(url).status_code == 403
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert Service.objects.filter(pk=spare.pk).exists()

    client = mfa_client(department_admin)
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not Service.objects.filter(pk=spare.pk).exists()


def test_department_admin_cannot_delete_another_departments_service(
    mfa_client, department_admin, other_department
):
    spare = ServiceFactory(department=other_department, service_code="TR-SPARE")
    client = mfa_client(department_admin)
    response = client.post(admin_url(Service, "delete", spare.pk), {"post": "yes"})
    assert_refused_as_missing(response, client)
    assert Service.objects.filter(pk=spare.pk).exists()


def test_department_choices_on_the_service_form_are_the_users_departments(
    mfa_client, department_staff, department, other_department, world
):
    # A viewer seat elsewhere does not let the user file services there.
    third = MembershipFactory(
        user=department_staff,
        organisation__kind="department",
        organisation__slug="exit-entry",
        role=Membership.Role.VIEWER,
    ).organisation
    client = mfa_client(department_staff)
    for url in (admin_url(Service, "add"), admin_url(Service, "change", world["service"].pk)):
        form = client.get(url).context["adminform"].form
        assert list(form.fields["department"].queryset) == [department]
        assert third not in form.fields["department"].queryset
        assert other_department not in form.fields["department"].queryset


def test_staff_add_a_service_to_their_department_only(
    mfa_client, department_staff, department, other_department, world
):
    client = mfa_client(department_staff)
    url = admin_url(Service, "add")
    data = form_data(client.get(url), "service")
    data.update(
        {
            "department": [str(department.pk)],
            "service_code": ["HK-NEW"],
            "channel": ["counter"],
            "name_zh": ["户口迁移"],
            "target_minutes": ["30"],
        }
    )
    assert client.post(url, data).status_code == 302
    assert Service.objects.get(service_code="HK-NEW").department == department

    data.update({"department": [str(other_department.pk)], "service_code": ["TR-NEW"]})
    response = client.post(url, data)
    assert response.status_code == 200
    assert "department" in response.context["adminform"].form.errors
    assert not Service.objects.filter(service_code="TR-NEW").exists()


def test_viewer_cannot_add_services(mfa_client, department_viewer, department, world):
    client = mfa_client(department_viewer)
    url = admin_url(Service, "add")
    assert client.get(url).status_code == 403
    response = client.post(
        url,
        {
            "department": department.pk,
            "service_code": "HK-VIEWER",
            "channel": "counter",
            "name_zh": "不该有",
            "target_minutes": 5,
        },
    )
    assert response.status_code == 403
    assert not Service.objects.filter(service_code="HK-VIEWER").exists()


# Visits ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"H001", "T001"}),
        ("department_admin", {"H001"}),
        ("department_staff", {"H001"}),
        ("department_viewer", {"H001"}),
        ("other_department_staff", {"T001"}),
    ],
)
def test_visit_changelist_lists_only_the_users_departments(
    request, mfa_client, world, role, expected
):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get(admin_url(Visit, "changelist"))
    assert response.status_code == 200
    assert {visit.ticket for visit in changelist_rows(response)} == expected


@pytest.mark.parametrize("role", ["partner_admin", "partner_staff"])
def test_partners_cannot_open_visits(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(Visit, "changelist")).status_code == 403
    response = client.get(admin_url(Visit, "change", world["visit"].pk))
    assert_refused(response, 403, "H001", "HK-ID")


@pytest.mark.parametrize(
    ("role", "change", "delete"),
    [
        ("department_admin", MISSING, MISSING),
        ("department_staff", MISSING, 403),
        ("department_viewer", 403, 403),
    ],
)
def test_other_departments_visit_is_refused(request, mfa_client, world, role, change, delete):
    client = mfa_client(request.getfixturevalue(role))
    other = world["other_visit"]
    for view in ("change", "history"):
        response = client.get(admin_url(Visit, view, other.pk))
        assert_refused(response, MISSING, "T001", "TR-LICENCE")
    # A POST needs the change permission on some visit before the lookup.
    response = client.post(admin_url(Visit, "change", other.pk), {"ticket": "STOLEN"})
    assert_refused(response, change, "T001", "TR-LICENCE")
    response = client.post(admin_url(Visit, "delete", other.pk), {"post": "yes"})
    assert_refused(response, delete, "T001", "TR-LICENCE")
    other.refresh_from_db()
    assert other.ticket == "T001"


@pytest.mark.parametrize(
    "params",
    [
        {"q": "H00"},
        {"q": "HK-ID"},
        {"q": "身份证"},
        {"outcome__exact": "completed"},
        {"outcome__exact": "abandoned"},
        {"channel__exact": "counter"},
        {"arrived_at__year": "2025"},
        {"arrived_at__year": "2025", "arrived_at__month": "3"},
        {"arrived_at__year": "2025", "arrived_at__month": "3", "arrived_at__day": "14"},
        {"station__id__exact": "STATION"},
        {"station__id__exact": "OTHER_STATION"},
    ],
)
@pytest.mark.parametrize("role", ["superuser", "department_staff", "department_viewer"])
def test_visit_search_filters_and_dates_answer_within_scope(
    request, mfa_client, world, role, params
):
    arrived = dt.datetime(2025, 3, 14, 10, 0, tzinfo=timezone.get_current_timezone())
    VisitFactory(
        station=world["station"], service=world["service"], ticket="H002", arrived_at=arrived
    )
    VisitFactory(
        station=world["other_station"],
        service=world["other_service"],
        ticket="T002",
        arrived_at=arrived,
        outcome=Visit.Outcome.ABANDONED,
        called_at=None,
        finished_at=None,
    )
    params = {
        key: {
            "STATION": str(world["station"].pk),
            "OTHER_STATION": str(world["other_station"].pk),
        }.get(value, value)
        for key, value in params.items()
    }
    user = request.getfixturevalue(role)
    client = mfa_client(user)
    response = client.get(admin_url(Visit, "changelist"), params)
    assert response.status_code == 200
    tickets = {visit.ticket for visit in changelist_rows(response)}
    if not user.is_superuser:
        assert not {"T001", "T002"} & tickets
        assert "T00" not in response.content.decode()


def test_visit_filters_return_the_expected_rows(mfa_client, superuser, department_staff, world):
    arrived = dt.datetime(2025, 3, 14, 10, 0, tzinfo=timezone.get_current_timezone())
    VisitFactory(
        station=world["station"], service=world["service"], ticket="H002", arrived_at=arrived
    )
    client = mfa_client(department_staff)
    url = admin_url(Visit, "changelist")

    def tickets(**params):
        response = client.get(url, params)
        assert response.status_code == 200
        return {visit.ticket for visit in changelist_rows(response)}

    assert tickets(q="H002") == {"H002"}
    assert tickets(arrived_at__year="2025") == {"H002"}
    assert tickets(arrived_at__year="2025", arrived_at__month="3", arrived_at__day="14") == {"H002"}
    assert tickets(outcome__exact="completed") == {"H001", "H002"}
    assert tickets(outcome__exact="waiting") == set()
    assert tickets(station__id__exact=str(world["other_station"].pk)) == set()


def test_visit_station_filter_offers_only_the_users_stations(
    mfa_client, department_staff, superuser, world
):
    def offered(user):
        response = mfa_client(user).get(admin_url(Visit, "changelist"))
        station_filter = next(
            spec for spec in response.context["cl"].filter_specs if spec.field_path == "station"
        )
        return {name for _, name in station_filter.lookup_choices}

    assert offered(department_staff) == {"万象城警务站"}
    assert offered(superuser) >= {"万象城警务站", "银行网点"}


@pytest.mark.parametrize("role", ["superuser", "department_staff"])
def test_visit_changelist_runs_the_same_queries_for_5_and_30_visits(
    request, mfa_client, department, role
):
    station = StationFactory(slug="counted", departments=[department])
    services = [ServiceFactory(department=department, stations=[station]) for _ in range(3)]
    client = mfa_client(request.getfixturevalue(role))
    url = admin_url(Visit, "changelist")

    def make(count):
        for number in range(count):
            VisitFactory(station=station, service=services[number % 3])

    def count_queries():
        with CaptureQueriesContext(connection) as context:
            response = client.get(url)
        assert response.status_code == 200
        return len(context.captured_queries), len(changelist_rows(response))

    make(5)
    few, rows = count_queries()
    assert rows == 5
    make(25)
    many, rows = count_queries()
    assert rows == 30
    assert many == few


def test_staff_add_a_visit_only_under_their_departments_services(
    mfa_client, department_staff, world
):
    client = mfa_client(department_staff)
    url = admin_url(Visit, "add")
    form = client.get(url).context["adminform"].form
    assert list(form.fields["service"].queryset) == [world["service"]]
    assert list(form.fields["station"].queryset) == [world["station"]]

    data = {
        "station": world["station"].pk,
        "service": world["other_service"].pk,
        "ticket": "X001",
        "channel": "counter",
        "arrived_at_0": "2025-03-14",
        "arrived_at_1": "10:00:00",
        "outcome": "waiting",
    }
    response = client.post(url, data)
    assert response.status_code == 200
    assert "service" in response.context["adminform"].form.errors
    assert not Visit.objects.filter(ticket="X001").exists()

    data["service"] = world["service"].pk
    assert client.post(url, data).status_code == 302
    assert Visit.objects.get(ticket="X001").service == world["service"]


def test_handler_choices_are_the_departments_people(
    mfa_client, department_staff, department_admin, citizen, other_department_staff, world
):
    client = mfa_client(department_staff)
    visit = world["visit"]
    url = admin_url(Visit, "change", visit.pk)
    response = client.get(url)
    handlers = set(response.context["adminform"].form.fields["handled_by"].queryset)
    assert handlers == {department_staff, department_admin}
    # The raw-id lookup into the user list (superusers only) is not offered.
    assert reverse("admin:stakeholders_user_changelist") not in response.content.decode()

    data = form_data(response, "visit")
    data["handled_by"] = [str(citizen.pk)]
    response = client.post(url, data)
    assert response.status_code == 200
    assert "handled_by" in response.context["adminform"].form.errors
    visit.refresh_from_db()
    assert visit.handled_by is None

    data["handled_by"] = [str(department_admin.pk)]
    assert client.post(url, data).status_code == 302
    visit.refresh_from_db()
    assert visit.handled_by == department_admin


def test_editing_a_visit_keeps_a_former_colleague_as_handler(mfa_client, department_staff, world):
    from tests.factories import UserFactory

    former = UserFactory(email="former@example.com")
    visit = world["visit"]
    visit.handled_by = former
    visit.save(update_fields=["handled_by"])
    client = mfa_client(department_staff)
    url = admin_url(Visit, "change", visit.pk)
    data = form_data(client.get(url), "visit")
    assert data["handled_by"] == [str(former.pk)]
    data["counter"] = ["3"]
    assert client.post(url, data).status_code == 302
    visit.refresh_from_db()
    assert (visit.counter, visit.handled_by) == ("3", former)


def test_viewer_cannot_change_or_delete_visits(mfa_client, department_viewer, world):
    client = mfa_client(department_viewer)
    visit = world["visit"]
    assert client.get(admin_url(Visit, "change", visit.pk)).status_code == 200
    response = client.post(admin_url(Visit, "change", visit.pk), {"ticket": "CHANGED"})
    assert response.status_code == 403
    assert client.post(admin_url(Visit, "delete", visit.pk), {"post": "yes"}).status_code == 403
    visit.refresh_from_db()
    assert visit.ticket == "H001"


# Stations --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"mall-station", "bank-station"}),
        ("department_admin", {"mall-station"}),
        ("department_viewer", {"mall-station"}),
        ("other_department_staff", {"bank-station"}),
        ("partner_admin", {"mall-station"}),
        ("partner_staff", {"mall-station"}),
        ("other_partner_admin", {"bank-station"}),
    ],
)
def test_station_changelist_lists_only_where_the_user_works(
    request, mfa_client, world, role, expected
):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get(admin_url(Station, "changelist"))
    assert response.status_code == 200
    assert {station.slug for station in changelist_rows(response)} == expected


def test_host_admin_changes_the_stations_details_but_not_host_departments_or_slug(
    mfa_client, partner_admin, other_partner, other_department, department, world
):
    station = world["station"]
    client = mfa_client(partner_admin)
    url = admin_url(Station, "change", station.pk)
    data = form_data(client.get(url), "station")
    assert not {"host", "slug", "departments"} & set(data)
    data["name_zh"] = ["万象城一站式警务服务站"]
    data["phone"] = ["028-84000000"]
    # A crafted form tries to move the station; read-only fields are not in the form.
    data["host"] = [str(other_partner.pk)]
    data["slug"] = ["stolen"]
    data["departments"] = [str(other_department.pk)]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    station.refresh_from_db()
    assert station.name_zh == "万象城一站式警务服务站"
    assert station.phone == "028-84000000"
    assert (station.host, station.slug) == (world["station"].host, "mall-station")
    assert list(station.departments.all()) == [department]


def test_host_admin_changes_the_opening_hours(mfa_client, partner_admin, world):
    station = world["station"]
    client = mfa_client(partner_admin)
    url = admin_url(Station, "change", station.pk)
    data = form_data(client.get(url), "station")
    monday = station.opening_hours.get(weekday=0)
    index = next(
        key.split("-")[1]
        for key, value in data.items()
        if key.endswith("-id") and value == [str(monday.pk)]
    )
    total_key = next(key for key in data if key.endswith("-TOTAL_FORMS"))
    prefix = total_key.removesuffix("-TOTAL_FORMS")
    data[f"{prefix}-{index}-closes"] = ["21:00"]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"]
    monday.refresh_from_db()
    assert monday.closes == dt.time(21)


@pytest.mark.parametrize("role", ["partner_staff", "department_admin", "department_viewer"])
def test_those_who_only_work_at_the_station_cannot_change_it(request, mfa_client, world, role):
    station = world["station"]
    client = mfa_client(request.getfixturevalue(role))
    url = admin_url(Station, "change", station.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    response = client.post(url, {"name_zh": "改名", "address_zh": "别处"})
    assert response.status_code == 403
    station.refresh_from_db()
    assert station.name_zh == "万象城警务站"


@pytest.mark.parametrize(
    ("role", "post"),
    [("other_partner_admin", MISSING), ("other_department_staff", 403)],
)
def test_station_elsewhere_is_refused(request, mfa_client, world, role, post):
    station = world["station"]
    client = mfa_client(request.getfixturevalue(role))
    url = admin_url(Station, "change", station.pk)
    assert_refused(client.get(url), MISSING, "万象城警务站")
    assert_refused(
        client.post(url, {"name_zh": "改名", "address_zh": "别处"}), post, "万象城警务站"
    )
    station.refresh_from_db()
    assert station.name_zh == "万象城警务站"


@pytest.mark.parametrize("role", ["partner_admin", "department_admin"])
def test_only_superusers_add_or_delete_stations(request, mfa_client, world, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(Station, "add")).status_code == 403
    response = client.post(admin_url(Station, "delete", world["station"].pk), {"post": "yes"})
    assert response.status_code == 403
    assert Station.objects.filter(pk=world["station"].pk).exists()


def test_superuser_moves_a_station_to_another_host(mfa_client, superuser, other_partner, world):
    station = world["station"]
    client = mfa_client(superuser)
    url = admin_url(Station, "change", station.pk)
    data = form_data(client.get(url), "station")
    data["host"] = [str(other_partner.pk)]
    assert client.post(url, data).status_code == 302
    station.refresh_from_db()
    assert station.host == other_partner
