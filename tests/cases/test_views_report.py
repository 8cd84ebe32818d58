"""The report form: anonymous and signed in, with photos; what it refuses, with nothing
written and no reference drawn."""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import default_storage
from PIL import Image

from governance.cases import attachments
from governance.cases.models import Attachment, Case, CaseSequence, Follower
from tests.cases.test_attachments import PDF, image_bytes, upload
from tests.cases.test_views_pages import case_url

pytestmark = pytest.mark.django_db

URL = "/cases/report/"


@pytest.fixture
def form(station, service, rules_, facility):
    def make(**overrides):
        data = {
            "station": station.slug,
            "address": "",
            "service": service.service_code,
            "category": "",
            "title": "自助机拍照模糊",
            "description": "在商场站点的自助机拍身份证照片，照片很模糊。",
            "contact_name": "林黛玉",
            "contact_phone": "13700001111",
            "contact_email": "",
            "is_public": "on",
        }
        data.update(overrides)
        return {key: value for key, value in data.items() if value is not None}

    return make


def nothing_written():
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    assert not CaseSequence.objects.filter(last__gt=0).exists()


def test_form_is_offered_to_anyone_with_the_station_and_service_chosen(client, station, service):
    response = client.get(f"{URL}?station={station.slug}&service={service.service_code}")
    assert response.status_code == 200
    html = response.content.decode()
    assert f'<option value="{station.slug}" selected>' in html
    assert f'<option value="{service.service_code}" selected>' in html
    assert 'type="file"' in html
    assert "multiple" in html
    # Unknown preselections are ignored, not a 500.
    assert client.get(f"{URL}?station=nowhere&service=NOPE").status_code == 200


def test_anonymous_report_with_photos(client, form):
    photos = [upload("a.jpg", image_bytes(exif=True)), upload("b.png", image_bytes("PNG"))]
    response = client.post(URL, form(photos=photos))
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == case_url(case, "submitted")
    assert case.reporter is None
    assert case.contact_phone == "13700001111"
    assert case.responsible.slug == "hukou"
    stored = list(case.attachments.order_by("pk"))
    assert [a.content_type for a in stored] == ["image/jpeg", "image/png"]
    assert all(not a.is_public for a in stored)
    with default_storage.open(stored[0].file.name) as handle:
        image = Image.open(io.BytesIO(handle.read()))
    assert not image.getexif()
    assert "exif" not in image.info

    receipt = client.get(response["Location"])
    assert receipt.status_code == 200
    assert case.reference in receipt.content.decode()
    # The anonymous reporter reads the public case, without their own contact or photos.
    html = client.get(case_url(case)).content.decode()
    assert "13700001111" not in html
    assert "a.jpg" not in html


def test_signed_in_report_is_mine_and_followed(client, form, citizen):
    client.force_login(citizen)
    response = client.post(
        URL, form(contact_name="", contact_phone="", photos=[upload("s.pdf", PDF)])
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.reporter == citizen
    assert Follower.objects.filter(case=case, user=citizen).exists()
    assert case.attachments.get().content_type == "application/pdf"
    assert case.reference in client.get("/cases/mine/").content.decode()
    receipt = client.get(response["Location"]).content.decode()
    assert f'href="{case_url(case)}"' in receipt


def test_a_private_report_by_category_at_an_address(client, form, facility):
    response = client.post(
        URL,
        form(
            station="", address="B1 层停车场电梯口", service="", category="facility", is_public=None
        ),
    )
    assert response.status_code == 302
    case = Case.objects.get()
    assert not case.is_public
    assert case.category == facility
    assert case.responsible.slug == "mall"
    # The anonymous reporter of a private case may not open it: the receipt says so.
    assert f'href="{case_url(case)}"' not in client.get(response["Location"]).content.decode()
    assert client.get(case_url(case)).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"service": "", "category": ""}, "category", "请选择涉及的服务事项或问题类别。"),
        ({"station": "", "address": "  "}, "address", "请选择站点，或填写地点说明。"),
        ({"description": "长" * 4001}, "description", "4000"),
        ({"title": ""}, "title", None),
        ({"contact_phone": "call me"}, "contact_phone", "请输入有效的电话号码"),
        ({"service": "NOPE"}, "service", None),
    ],
)
def test_refused_reports_write_nothing(client, form, overrides, field, message):
    response = client.post(URL, form(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors
    if message:
        assert message in " ".join(errors[field])
    nothing_written()


def test_description_of_4000_characters_is_taken(client, form):
    assert client.post(URL, form(description="长" * 4000)).status_code == 302


def test_more_than_five_photos_are_refused(client, form):
    photos = [upload(f"{n}.png", image_bytes("PNG")) for n in range(6)]
    response = client.post(URL, form(photos=photos))
    assert response.status_code == 400
    assert "最多上传 5 个文件" in " ".join(response.context["form"].errors["photos"])
    nothing_written()


def test_a_disguised_file_refuses_the_whole_report(client, form):
    photos = [upload("a.jpg", image_bytes()), upload("evil.jpg", b"MZ\x90\x00 not an image")]
    response = client.post(URL, form(photos=photos))
    assert response.status_code == 400
    assert "只能上传 JPEG、PNG、WebP 图片或 PDF 文件。" in response.content.decode()
    assert "photos" in response.context["form"].errors
    nothing_written()


def test_a_file_over_ten_megabytes_is_413_and_writes_nothing(client, form):
    big = PDF + b"0" * (attachments.MAX_BYTES + 1 - len(PDF))
    assert len(big) == attachments.MAX_BYTES + 1
    response = client.post(URL, form(photos=[upload("big.pdf", big, "application/pdf")]))
    assert response.status_code == 413
    assert "10 MB" in " ".join(response.context["form"].errors["photos"])
    nothing_written()


def test_html_is_stored_as_typed_and_shown_escaped(client, form):
    title = "<b>坏</b><script>alert(1)</script>"
    description = '<img src=x onerror="alert(2)">\n第二行 & more'
    response = client.post(URL, form(title=title, description=description))
    assert response.status_code == 302
    case = Case.objects.get()
    assert case.title == title
    assert case.description == description
    html = client.get(case_url(case)).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html
    assert "&lt;img src=x onerror=&quot;alert(2)&quot;&gt;" in html
    listing = client.get("/cases/").content.decode()
    assert "<script>alert(1)</script>" not in listing
    assert "&lt;script&gt;" in listing


def test_only_get_and_post(client):
    assert client.put(URL).status_code == 405
