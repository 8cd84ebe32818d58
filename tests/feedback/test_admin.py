"""The feedback admin through the real admin site: lists scoped to the user's organisations,
the rater's contact details only for the acting staff, nothing changed behind the services'
back, and each organisation's deadlines kept by superusers."""

from __future__ import annotations

import pytest
from django.urls import reverse

from feedback import services
from feedback.models import Appeal, Feedback, FeedbackPolicy, Kind
from tests.factories import UserFactory
from tests.feedback.fixtures import CONTACT_PHONE

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:feedback_{model}_{view}", args=args)


def listed(response) -> list:
    assert response.status_code == 200
    return list(response.context["cl"].result_list)


@pytest.fixture
def rows(rate_visit, other_service, station, department_staff, department_admin):
    """A hukou visit rating with the rater's phone (appealed and dismissed), a traffic online
    rating, and the mall's station rated online."""
    hukou = rate_visit(1, contact_name="王先生", contact_phone=CONTACT_PHONE)
    traffic = services.feedback_submit(
        actor=None, kind=Kind.ONLINE_RATING, level=2, service=other_service
    )
    mall = services.feedback_submit(actor=None, kind=Kind.ONLINE_RATING, level=4, station=station)
    appeal = services.appeal_file(actor=department_staff, feedback=hukou, reason="等候时间属实")
    services.appeal_decide(actor=department_admin, appeal=appeal, upheld=False, note="不成立")
    return {"hukou": hukou, "traffic": traffic, "mall": mall, "appeal": appeal}


# Feedback --------------------------------------------------------------------------------------


def test_staff_see_only_their_organisations_feedback(mfa_client, department_staff, rows):
    client = mfa_client(department_staff)
    assert listed(client.get(url("feedback", "changelist"))) == [rows["hukou"]]
    assert client.get(url("feedback", "change", rows["hukou"].pk)).status_code == 200
    assert client.get(url("feedback", "change", rows["traffic"].pk)).status_code == 302


def test_partner_sees_the_ratings_of_its_station(mfa_client, partner_admin, rows):
    client = mfa_client(partner_admin)
    assert listed(client.get(url("feedback", "changelist"))) == [rows["mall"]]
    assert client.get(url("feedback", "change", rows["hukou"].pk)).status_code == 302


def test_superuser_sees_all_feedback(mfa_client, superuser, rows):
    response = mfa_client(superuser).get(url("feedback", "changelist"))
    assert set(listed(response)) == set(Feedback.objects.all())


def test_staff_without_an_organisation_are_refused(mfa_client, rows):
    loner = UserFactory(email="loner@example.com", is_staff=True)
    client = mfa_client(loner)
    assert client.get(url("feedback", "changelist")).status_code == 403
    assert client.get(url("appeal", "changelist")).status_code == 403
    assert client.get(url("feedbackpolicy", "changelist")).status_code == 403


def test_contact_details_only_for_the_acting_staff(
    mfa_client, department_staff, department_viewer, superuser, rows
):
    page = url("feedback", "change", rows["hukou"].pk)
    assert CONTACT_PHONE in mfa_client(department_staff).get(page).content.decode()
    assert CONTACT_PHONE in mfa_client(superuser).get(page).content.decode()
    viewer_page = mfa_client(department_viewer).get(page)
    assert viewer_page.status_code == 200
    assert CONTACT_PHONE not in viewer_page.content.decode()
    assert "王先生" not in viewer_page.content.decode()


def test_nobody_adds_changes_or_deletes_feedback_in_the_admin(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    rating = rows["hukou"]
    assert client.get(url("feedback", "add")).status_code == 403
    client.post(url("feedback", "change", rating.pk), {"level": 5, "excluded": "on"})
    rating.refresh_from_db()
    assert (rating.level, rating.excluded) == (1, False)
    assert client.post(url("feedback", "delete", rating.pk), {"post": "yes"}).status_code == 403
    assert Feedback.objects.filter(pk=rating.pk).exists()


def test_search_by_id_and_filters(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    pk = rows["traffic"].pk
    assert listed(client.get(url("feedback", "changelist"), {"q": str(pk)})) == [rows["traffic"]]
    assert listed(client.get(url("feedback", "changelist"), {"q": "not-a-number"})) == []
    assert listed(client.get(url("feedback", "changelist"), {"level": 4})) == [rows["mall"]]
    response = client.get(url("feedback", "changelist"), {"kind": Kind.VISIT_RATING})
    assert listed(response) == [rows["hukou"]]


def test_the_list_runs_a_constant_number_of_queries(
    mfa_client, superuser, rows, other_service, django_assert_max_num_queries
):
    client = mfa_client(superuser)
    client.get(url("feedback", "changelist"))
    for level in (1, 2, 3, 4, 5) * 6:
        services.feedback_submit(
            actor=None, kind=Kind.ONLINE_RATING, level=level, service=other_service
        )
    with django_assert_max_num_queries(14):
        assert len(listed(client.get(url("feedback", "changelist")))) == 33


# Appeals ---------------------------------------------------------------------------------------


def test_appeals_are_scoped_and_read_only(
    mfa_client, department_viewer, other_department_staff, superuser, rows
):
    appeal = rows["appeal"]
    viewer = mfa_client(department_viewer)
    assert listed(viewer.get(url("appeal", "changelist"))) == [appeal]
    assert viewer.get(url("appeal", "change", appeal.pk)).status_code == 200
    other = mfa_client(other_department_staff)
    assert listed(other.get(url("appeal", "changelist"))) == []
    assert other.get(url("appeal", "change", appeal.pk)).status_code == 302
    root = mfa_client(superuser)
    assert root.get(url("appeal", "add")).status_code == 403
    root.post(url("appeal", "change", appeal.pk), {"status": Appeal.Status.UPHELD})
    appeal.refresh_from_db()
    assert appeal.status == Appeal.Status.DISMISSED


# Deadlines -------------------------------------------------------------------------------------


@pytest.fixture
def policies(department, other_department, superuser):
    return {
        org.slug: services.policy_set(
            actor=superuser, organisation=org, return_visit_days=1, rectify_days=days
        )
        for org, days in ((department, 15), (other_department, 10))
    }


def test_members_read_their_own_deadlines_only(mfa_client, department_admin, policies):
    client = mfa_client(department_admin)
    assert listed(client.get(url("feedbackpolicy", "changelist"))) == [policies["hukou"]]
    page = client.get(url("feedbackpolicy", "change", policies["hukou"].pk))
    assert page.status_code == 200
    assert not page.context["has_change_permission"]
    client.post(
        url("feedbackpolicy", "change", policies["hukou"].pk),
        {"return_visit_days": 2, "rectify_days": 3},
    )
    policies["hukou"].refresh_from_db()
    assert policies["hukou"].rectify_days == 15
    assert client.get(url("feedbackpolicy", "change", policies["traffic"].pk)).status_code == 302
    assert client.get(url("feedbackpolicy", "add")).status_code == 403


def test_superusers_set_deadlines_through_the_service(mfa_client, superuser, partner, policies):
    client = mfa_client(superuser)
    response = client.post(
        url("feedbackpolicy", "add"),
        {"organisation": partner.pk, "return_visit_days": 2, "rectify_days": 10},
    )
    assert response.status_code == 302
    assert FeedbackPolicy.objects.get(organisation=partner).rectify_days == 10
    response = client.post(
        url("feedbackpolicy", "change", policies["traffic"].pk),
        {"return_visit_days": 12, "rectify_days": 10},
    )
    assert response.status_code == 200
    assert "回访时限不能长于整改时限" in response.content.decode()
    policies["traffic"].refresh_from_db()
    assert policies["traffic"].return_visit_days == 1
