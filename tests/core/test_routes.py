"""The wings reach the site through ``governance.core.routes``: their URLs, API, navigation and
page links appear without governance importing them."""

from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import get_resolver, resolve, reverse
from rest_framework.response import Response
from rest_framework.test import APIClient

from feedback.api import visit_rate_front
from feedback.models import Feedback
from feedback.tokens import visit_token
from governance.core import routes
from tests.factories import ServiceFactory, StationFactory, VisitFactory

pytestmark = pytest.mark.django_db


def test_the_feedback_wing_is_reachable_through_the_registry():
    assert reverse("feedback:new") == "/feedback/new/"
    assert ("feedback.urls", "") in routes.url_modules()


def test_an_api_front_is_resolved_first_and_hands_the_rest_to_the_routers_view():
    path = reverse("api:feedback-visit-rate")
    first = get_resolver().url_patterns[0]

    assert path == "/api/v1/feedback/visit-ratings/"
    assert routes.api_fronts() == [("feedback/visit-ratings/", visit_rate_front)]
    assert first.resolve(path.lstrip("/")) is not None  # the front, before every page's URL
    assert resolve(path).func is first.callback
    assert resolve(path).func.csrf_exempt


def test_a_front_answers_what_it_takes_and_the_router_the_rest():
    from governance.urls import _fronted

    taken = HttpResponse("front", status=201)
    seen = []

    def handler(request):
        seen.append(request.method)
        return taken if request.method == "POST" else None

    view = _fronted("feedback/visit-ratings/", handler)
    factory = RequestFactory()

    assert view(factory.post("/api/v1/feedback/visit-ratings/")) is taken
    # The router's view of the path answers the GET (DRF: an anonymous caller of an action
    # that is not public is asked to sign in).
    behind = view(factory.get("/api/v1/feedback/visit-ratings/"))
    assert isinstance(behind, Response)
    assert behind.status_code == 401
    assert seen == ["POST", "GET"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        # DRF asks an anonymous caller to sign in for what is not the public POST.
        ("options", "/api/v1/feedback/visit-ratings/", 401),
        ("head", "/api/v1/feedback/visit-ratings/", 401),
        ("post", "/api/v1/feedback/visit-ratings/?format=api", 400),  # the token is missing
    ],
)
def test_what_the_front_does_not_take_reaches_the_router(method, path, status):
    response = getattr(APIClient(), method)(path, {}, format="json")

    assert response.status_code == status
    assert isinstance(response, Response)


@pytest.mark.parametrize(
    "path", ["/api/v1/feedback/visit-ratings.json", "/api/v1/stations.json", "/api/v1/cases.json"]
)
def test_the_api_has_no_format_suffixed_paths(client, path):
    """They reached actions that take no ``format`` argument (a 500); now they are not paths."""
    assert client.post(path, {}, content_type="application/json").status_code == 404


def test_a_signed_in_rating_through_the_front_still_needs_its_csrf_token(citizen):
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    body = {"token": visit_token(VisitFactory()), "level": 5}

    response = client.post("/api/v1/feedback/visit-ratings/", body, content_type="application/json")

    assert response.status_code == 403
    assert not Feedback.objects.exists()


def test_a_front_for_a_path_the_router_lacks_is_refused():
    from governance.urls import _fronted

    with pytest.raises(ImproperlyConfigured, match="feedback/nowhere/"):
        _fronted("feedback/nowhere/", lambda request: None)


def test_navigation_follows_the_audience(client, citizen, department_staff):
    public = client.get("/").content.decode()
    assert reverse("feedback:new") in public
    assert reverse("feedback:inbox") not in public
    client.force_login(citizen)
    page = client.get("/").content.decode()
    assert reverse("feedback:mine") in page
    assert reverse("feedback:inbox") not in page
    client.force_login(department_staff)
    assert reverse("feedback:inbox") in client.get("/").content.decode()


def test_service_and_station_pages_offer_the_wings_links(client):
    service = ServiceFactory(service_code="HK-01")
    station = StationFactory(slug="mall")
    service_page = client.get(reverse("stations:service", args=[service.service_code]))
    assert "/feedback/new/?kind=online_rating&amp;service=HK-01" in service_page.content.decode()
    assert "/cases/report/?service=HK-01" in service_page.content.decode()
    station_page = client.get(reverse("stations:station", args=[station.slug]))
    assert "/cases/report/?station=mall" in station_page.content.decode()


def test_a_nav_link_needs_a_known_audience():
    with pytest.raises(ValueError, match="audience"):
        routes.register_nav("x", "x", audience="robots")


def test_the_partner_portal_link_is_for_partner_members_only(
    client, citizen, department_staff, partner_staff
):
    portal = reverse("partners:portal")
    assert portal not in client.get("/").content.decode()
    for outsider in (citizen, department_staff):
        client.force_login(outsider)
        assert portal not in client.get("/").content.decode()
    client.force_login(partner_staff)
    assert portal in client.get("/").content.decode()
    assert reverse("partners:resources") in client.get("/").content.decode()


def test_co_governors_see_the_radar_and_community_members_do_not(
    client, citizen, department_viewer, partner_staff
):
    from tests.factories import MembershipFactory, OrganisationFactory, UserFactory

    radar = reverse("radar:overview")
    resident = UserFactory(email="resident@example.com")
    committee = OrganisationFactory(kind="community", slug="committee")
    MembershipFactory(user=resident, organisation=committee, role="admin")
    for user, shown in (
        (citizen, False),
        (resident, False),
        (department_viewer, True),
        (partner_staff, True),
    ):
        client.force_login(user)
        assert (radar in client.get("/").content.decode()) is shown, user
