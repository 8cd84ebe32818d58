"""Attachments: the type comes from the content, images lose their EXIF, limits hold."""

from __future__ import annotations

import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

from governance.cases import attachments, services
from governance.cases.models import Attachment

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


def image_bytes(fmt: str = "JPEG", *, exif: bool = False, size=(64, 48), mode="RGB") -> bytes:
    image = Image.new(mode, size, "red" if mode == "RGB" else None)
    out = io.BytesIO()
    options = {}
    if exif:
        data = Image.Exif()
        data[0x010F] = "PhoneMaker"  # Make
        data[0x0112] = 6  # Orientation: rotate 90° clockwise to view
        data[0x8825] = {1: "N", 2: (30.0, 40.0, 0.0)}  # GPSInfo
        options["exif"] = data.tobytes()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def upload(name: str, content: bytes, content_type: str = "image/jpeg") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def test_jpeg_is_reencoded_without_exif_and_turned_upright(open_case, citizen):
    case = open_case()
    raw = image_bytes(exif=True)
    assert Image.open(io.BytesIO(raw)).getexif()
    attachment = services.case_attach(actor=citizen, case=case, upload=upload("IMG_1.jpg", raw))
    with default_storage.open(attachment.file.name) as stored:
        image = Image.open(io.BytesIO(stored.read()))
    assert image.format == "JPEG"
    assert not image.getexif()
    assert "exif" not in image.info
    # The orientation was applied to the pixels before the tag was dropped.
    assert image.size == (48, 64)
    assert attachment.content_type == "image/jpeg"
    assert attachment.original_name == "IMG_1.jpg"
    assert attachment.file.name.startswith(f"cases/{case.reference}/")
    entry = case.timeline.get(kind="attachment")
    assert entry.data["attachment_id"] == attachment.pk


@pytest.mark.parametrize(("fmt", "mime"), [("PNG", "image/png"), ("WEBP", "image/webp")])
def test_png_and_webp_are_accepted(open_case, citizen, fmt, mime):
    attachment = services.case_attach(
        actor=citizen, case=open_case(), upload=upload("photo", image_bytes(fmt))
    )
    assert attachment.content_type == mime


def test_pdf_is_recognised_by_its_magic(open_case, department_staff):
    attachment = services.case_attach(
        actor=department_staff, case=open_case(), upload=upload("scan.jpg", PDF, "image/jpeg")
    )
    assert attachment.content_type == "application/pdf"
    assert attachment.file.name.endswith(".pdf")


def test_a_disguised_file_is_refused_whatever_its_name(open_case, citizen):
    case = open_case()
    for name, content, claimed in [
        ("photo.jpg", b"MZ\x90\x00 this is an executable", "image/jpeg"),
        ("report.pdf", b"<html><script>alert(1)</script></html>", "application/pdf"),
        ("anim.png", image_bytes("GIF"), "image/png"),
    ]:
        with pytest.raises(ValidationError, match="JPEG、PNG、WebP"):
            services.case_attach(actor=citizen, case=case, upload=upload(name, content, claimed))
    assert not Attachment.objects.exists()


def test_a_truncated_image_is_refused(open_case, citizen):
    broken = image_bytes("PNG", size=(300, 300))[:200]
    with pytest.raises(ValidationError):
        services.case_attach(actor=citizen, case=open_case(), upload=upload("x.png", broken))


def test_files_over_ten_megabytes_are_refused(open_case, citizen):
    big = PDF + b"0" * attachments.MAX_BYTES
    with pytest.raises(ValidationError, match="10 MB"):
        services.case_attach(actor=citizen, case=open_case(), upload=upload("big.pdf", big))


def test_at_most_five_attachments_per_case(open_case, citizen):
    case = open_case()
    for number in range(5):
        services.case_attach(actor=citizen, case=case, upload=upload(f"{number}.pdf", PDF))
    with pytest.raises(ValidationError, match="最多 5 个"):
        services.case_attach(actor=citizen, case=case, upload=upload("6.pdf", PDF))
    assert case.attachments.count() == 5


def test_only_reporter_and_handlers_attach(open_case, other_department_staff):
    with pytest.raises(PermissionDenied):
        services.case_attach(
            actor=other_department_staff, case=open_case(), upload=upload("a.pdf", PDF)
        )


def test_decompression_bombs_are_refused(open_case, citizen, monkeypatch):
    monkeypatch.setattr(attachments, "MAX_PIXELS", 1000)
    with pytest.raises(ValidationError, match="像素"):
        services.case_attach(
            actor=citizen, case=open_case(), upload=upload("big.png", image_bytes("PNG"))
        )
