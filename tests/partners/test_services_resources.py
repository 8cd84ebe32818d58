"""A partner's catalogue through ``partners.services``: who adds and changes resources, what
a resource must say, funding that is never booked by the hour, and photos (images only, checked
from their content, at most ``MAX_PHOTOS``)."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile

from partners import services
from partners.models import Resource, ResourcePhoto
from tests.conftest import _member
from tests.factories import StationFactory
from tests.partners.conftest import pdf, png, refused

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("role", ["partner_admin", "partner_staff", "superuser"])
def test_the_partners_acting_members_add_resources(request, make_resource, partner, role):
    user = request.getfixturevalue(role)
    resource = make_resource(actor=user)
    assert (resource.partner, resource.created_by, resource.is_active) == (partner, user, True)
    assert resource.opening_rules.count() == 7


@pytest.mark.parametrize(
    "role", ["department_admin", "department_staff", "other_partner_admin", "citizen"]
)
def test_nobody_else_adds_to_the_partners_catalogue(request, make_resource, role):
    with pytest.raises(PermissionDenied):
        make_resource(actor=request.getfixturevalue(role))
    assert not Resource.objects.exists()


def test_a_partner_viewer_adds_nothing(make_resource, partner):
    with pytest.raises(PermissionDenied):
        make_resource(actor=_member(partner, "viewer", "mall.viewer@example.com"))


def test_only_a_partner_has_a_catalogue(make_resource, department, superuser):
    with pytest.raises(ValidationError) as caught:
        make_resource(actor=superuser, owner=department)
    refused(caught.value, "partner", "not_partner")


def test_funding_is_never_bookable(make_resource, partner_admin):
    fund = make_resource(kind="funding", name_zh="便民服务基金", unit="yuan", bookable=True)
    assert fund.bookable is False
    updated = services.resource_update(actor=partner_admin, resource=fund, data={"bookable": True})
    assert updated.bookable is False


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name_zh": ""}, "name_zh"),
        ({"kind": "castle"}, "kind"),
        ({"quantity": "0"}, "quantity"),
        ({"unit": "tonnes"}, "unit"),
        ({"visibility": "secret"}, "visibility"),
        ({"max_booking_minutes": 5}, "max_booking_minutes"),
        ({"max_booking_minutes": 7 * 24 * 60 + 1}, "max_booking_minutes"),
        ({"owner_notes": "x"}, "owner_notes"),
    ],
)
def test_a_bad_resource_is_refused_naming_the_field(make_resource, data, field):
    with pytest.raises(ValidationError) as caught:
        make_resource(**data)
    assert field in caught.value.error_dict
    assert not Resource.objects.exists()


def test_a_resource_at_a_closed_station_is_refused(make_resource, partner):
    closed = StationFactory(slug="closed-station", host=partner, is_active=False)
    with pytest.raises(ValidationError) as caught:
        make_resource(station=closed)
    refused(caught.value, "station", "inactive")


def test_the_owner_updates_and_others_cannot(resource, partner_staff, other_partner_admin):
    updated = services.resource_update(
        actor=partner_staff, resource=resource, data={"name_en": "Atrium (north)"}
    )
    assert Resource.objects.get(pk=resource.pk).name_en == "Atrium (north)" == updated.name_en
    with pytest.raises(PermissionDenied):
        services.resource_update(
            actor=other_partner_admin, resource=resource, data={"name_en": "Mine"}
        )


# Photos ------------------------------------------------------------------------------------
def test_a_photo_is_stored_reencoded(resource, partner_staff):
    photo = services.photo_add(
        actor=partner_staff, resource=resource, upload=png(), caption="中庭全景"
    )
    assert (photo.content_type, photo.caption, photo.position) == ("image/png", "中庭全景", 0)
    assert photo.file.name.startswith("partners/resources/")


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (pdf, "unsupported_type"),
        (lambda: SimpleUploadedFile("x.png", b"not an image", "image/png"), "unsupported_type"),
        (lambda: SimpleUploadedFile("x.png", b"", "image/png"), "empty"),
    ],
)
def test_anything_but_an_image_is_refused_naming_the_photo(resource, partner_staff, upload, code):
    with pytest.raises(ValidationError) as caught:
        services.photo_add(actor=partner_staff, resource=resource, upload=upload())
    refused(caught.value, "photo", code)
    assert not ResourcePhoto.objects.exists()


def test_at_most_eight_photos(resource, partner_staff):
    for _ in range(services.MAX_PHOTOS):
        services.photo_add(actor=partner_staff, resource=resource, upload=png())
    with pytest.raises(ValidationError) as caught:
        services.photo_add(actor=partner_staff, resource=resource, upload=png())
    refused(caught.value, "photo", "too_many")


def test_only_the_owner_adds_or_removes_photos(resource, partner_staff, department_staff):
    with pytest.raises(PermissionDenied):
        services.photo_add(actor=department_staff, resource=resource, upload=png())
    photo = services.photo_add(actor=partner_staff, resource=resource, upload=png())
    with pytest.raises(PermissionDenied):
        services.photo_remove(actor=department_staff, photo=photo)
    services.photo_remove(actor=partner_staff, photo=photo)
    assert not ResourcePhoto.objects.exists()
