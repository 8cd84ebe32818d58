"""Open311 apps and attributes in the admin: superusers issue, rotate and revoke keys (shown
once, stored as a digest); the app's organisation looks; a service's staff keep its attributes."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from governance.cases.models import Open311Client, ServiceAttribute
from governance.cases.open311 import keys
from tests.cases.open311.conftest import BASE, KEY

pytestmark = pytest.mark.django_db


def url(model: str, view: str, *args) -> str:
    return reverse(f"admin:cases_{model}_{view}", args=args)


def shown_key(response) -> str:
    match = re.search(r'<code id="open311-key">([^<]+)</code>', response.content.decode())
    assert match, response.content.decode()[:500]
    return match.group(1)


def test_a_superuser_issues_a_key_that_is_shown_once_and_stored_as_a_digest(
    mfa_client, superuser, department, client
):
    admin = mfa_client(superuser)

    response = admin.post(
        url("open311client", "add"),
        {"organisation": department.pk, "name": "市民通", "contact_email": "dev@example.cn"},
    )

    assert response.status_code == 200
    assert "no-store" in response["Cache-Control"]
    key = shown_key(response)
    app = Open311Client.objects.get()
    assert app.key_hash == keys.hash_key(key)
    assert key not in str(vars(app))
    assert app.key_prefix == key[:10]
    change_page = admin.get(url("open311client", "change", app.pk)).content.decode()
    assert key not in change_page
    assert app.key_prefix in change_page


def test_an_issued_key_opens_the_door_and_a_revoked_one_closes_it(
    mfa_client, superuser, department, report, app_client
):
    admin = mfa_client(superuser)
    assert report().status_code == 200

    admin.post(
        url("open311client", "changelist"),
        {"action": "revoke_keys", "_selected_action": [app_client.pk]},
    )

    app_client.refresh_from_db()
    assert app_client.is_active is False
    assert app_client.revoked_at is not None
    assert report().status_code == 403


def test_switching_an_app_off_in_its_form_revokes_and_on_restores(
    mfa_client, superuser, app_client, report
):
    admin = mfa_client(superuser)
    form = {"name": app_client.name, "contact_email": ""}

    admin.post(url("open311client", "change", app_client.pk), form)
    app_client.refresh_from_db()
    assert (app_client.is_active, app_client.revoked_at is not None) == (False, True)
    assert report().status_code == 403

    admin.post(url("open311client", "change", app_client.pk), {**form, "is_active": "on"})
    app_client.refresh_from_db()
    assert (app_client.is_active, app_client.revoked_at) == (True, None)
    assert app_client.key_hash == keys.hash_key(KEY)


def test_rotating_a_key_shows_the_new_one_and_retires_the_old(
    mfa_client, superuser, app_client, report
):
    admin = mfa_client(superuser)

    response = admin.post(
        url("open311client", "changelist"),
        {"action": "rotate_key", "_selected_action": [app_client.pk]},
    )

    new_key = shown_key(response)
    assert new_key != KEY
    assert report().status_code == 403
    assert report(api_key=new_key).status_code == 200


def test_members_of_the_apps_organisation_see_it_but_cannot_change_it(
    mfa_client, department_viewer, app_client
):
    admin = mfa_client(department_viewer)

    listing = admin.get(url("open311client", "changelist"))
    page = admin.get(url("open311client", "change", app_client.pk))
    admin.post(url("open311client", "change", app_client.pk), {"name": "改名"})

    assert list(listing.context["cl"].result_list) == [app_client]
    assert page.status_code == 200
    app_client.refresh_from_db()
    assert app_client.name == "市民通"
    assert admin.get(url("open311client", "add")).status_code == 403


def test_other_organisations_do_not_see_the_app(mfa_client, other_department_staff, app_client):
    admin = mfa_client(other_department_staff)

    listing = admin.get(url("open311client", "changelist"))

    assert list(listing.context["cl"].result_list) == []
    assert admin.get(url("open311client", "change", app_client.pk)).status_code == 302


def test_the_services_staff_keep_its_attributes(
    mfa_client, department_staff, service, attributes, client
):
    admin = mfa_client(department_staff)

    response = admin.post(
        url("serviceattribute", "add"),
        {
            "service": service.pk,
            "code": "floor",
            "description_zh": "在几楼？",
            "datatype": "singlevaluelist",
            "variable": "on",
            "values": '[{"key": "b1", "name_zh": "负一楼", "name_en": "B1"}]',
            "order": 4,
            "is_active": "on",
        },
    )

    assert response.status_code == 302, response.context["adminform"].form.errors
    codes = [
        item["code"] for item in client.get(f"{BASE}/services/HK-ID.json").json()["attributes"]
    ]
    assert codes == ["problem", "kiosk", "notice", "floor"]


def test_attribute_options_are_checked(mfa_client, department_staff, service):
    admin = mfa_client(department_staff)

    response = admin.post(
        url("serviceattribute", "add"),
        {
            "service": service.pk,
            "code": "floor",
            "description_zh": "在几楼？",
            "datatype": "singlevaluelist",
            "variable": "on",
            "values": '[{"key": "b 1"}]',
            "order": 1,
        },
    )

    assert response.status_code == 200
    assert "values" in response.context["adminform"].form.errors
    assert not ServiceAttribute.objects.exists()


def test_other_departments_neither_see_nor_add_attributes(
    mfa_client, other_department_staff, service, attributes
):
    admin = mfa_client(other_department_staff)

    listing = admin.get(url("serviceattribute", "changelist"))
    refused = admin.post(
        url("serviceattribute", "add"),
        {"service": service.pk, "code": "x", "description_zh": "x", "datatype": "string"},
    )

    assert list(listing.context["cl"].result_list) == []
    assert refused.status_code == 200
    assert "service" in refused.context["adminform"].form.errors
    assert ServiceAttribute.objects.count() == len(attributes)


def test_only_superusers_read_what_apps_sent(mfa_client, superuser, department_staff, report):
    report(device_id="device-42")

    assert mfa_client(department_staff).get(url("open311request", "changelist")).status_code == 403
    page = mfa_client(superuser).get(url("open311request", "changelist"))
    assert page.status_code == 200
