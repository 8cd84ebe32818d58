"""Checking and storing a case's attachments: photos (JPEG, PNG, WebP) and PDFs.

- The type comes from the content, never from the name or the browser's content type: an image
  is what Pillow opens and verifies as JPEG, PNG or WebP; a PDF starts with ``%PDF-``.
- At most ``MAX_BYTES`` (10 MB) each, read no further than one byte past the limit.
- Images are decoded and encoded again: the orientation from EXIF is applied to the pixels and
  then every metadata block (EXIF with its GPS position and camera serial, XMP, comments) is
  left behind. What is stored is pixels Pillow wrote, not bytes a stranger sent.
- Stored through Django's storage API (``default_storage``) under a random name; the original
  name is kept on the row only to show it.

A file written before its transaction rolls back stays behind in the storage as an orphan
(storage writes are not transactional); it is never referenced by a row.
"""

from __future__ import annotations

import io
import uuid
import warnings
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils.translation import gettext_lazy as _
from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 10 * 1024 * 1024
MAX_PER_CASE = 5
# Larger images are refused before decoding: a small file can unpack into gigabytes of pixels.
MAX_PIXELS = 40_000_000
IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {
    "image/jpeg": "jpg",
    "image/png": "png",
    "image/webp": "webp",
    "application/pdf": "pdf",
}


@dataclass(frozen=True)
class Checked:
    content: bytes
    content_type: str


def read_limited(upload) -> bytes:
    """The upload's bytes, refusing anything over ``MAX_BYTES`` without reading all of it."""
    size = getattr(upload, "size", None)
    if size is not None and size > MAX_BYTES:
        raise ValidationError(_("附件不能超过 10 MB。"), code="too_large")
    if hasattr(upload, "seek"):
        upload.seek(0)
    data = upload.read(MAX_BYTES + 1)
    if len(data) > MAX_BYTES:
        raise ValidationError(_("附件不能超过 10 MB。"), code="too_large")
    if not data:
        raise ValidationError(_("附件是空文件。"), code="empty")
    return data


def _reencode(data: bytes) -> Checked | None:
    """The image re-encoded without metadata, or ``None`` when the bytes are no image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                image_format = probe.format
                width, height = probe.size
                probe.verify()
            if image_format not in IMAGE_FORMATS:
                return None
            if width * height > MAX_PIXELS:
                raise ValidationError(
                    _("图片像素过多（最多 4000 万像素）。"), code="too_many_pixels"
                )
            # verify() leaves the image unusable: open it again to decode the pixels.
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
                if upright is None:  # pragma: no cover  (Pillow < 9.4 transposed in place)
                    upright = image
                return _encode(upright, image_format)
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        return None
    except (OSError, SyntaxError, ValueError) as exc:
        # Pillow recognised the format but the data is broken (truncated, corrupt chunks).
        raise ValidationError(_("图片已损坏，无法读取。"), code="corrupt") from exc


def _encode(image: Image.Image, image_format: str) -> Checked:
    # Palette images become true colour (keeping transparency), so the copy below needs no
    # palette or transparency entry from the original's info dict.
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    allowed = {"JPEG": ("RGB", "L", "CMYK")}.get(image_format, ("RGB", "RGBA", "L", "LA"))
    if image.mode not in allowed:
        image = image.convert("RGBA" if "A" in image.mode and "RGBA" in allowed else "RGB")
    # A fresh image holding the pixels alone has an empty info dict: no EXIF, XMP, ICC profile
    # or comment can ride along into the saved file.
    clean = Image.new(image.mode, image.size)
    clean.paste(image)
    out = io.BytesIO()
    options = {"JPEG": {"quality": 88, "optimize": True}, "PNG": {"optimize": True}}
    clean.save(out, format=image_format, **options.get(image_format, {"quality": 88}))
    return Checked(content=out.getvalue(), content_type=IMAGE_FORMATS[image_format])


def check(upload) -> Checked:
    """The upload's content, checked and cleaned, with the type its content proves."""
    data = read_limited(upload)
    if data.startswith(b"%PDF-"):
        return Checked(content=data, content_type="application/pdf")
    image = _reencode(data)
    if image is None:
        raise ValidationError(
            _("只能上传 JPEG、PNG、WebP 图片或 PDF 文件。"), code="unsupported_type"
        )
    if len(image.content) > MAX_BYTES:
        raise ValidationError(_("附件不能超过 10 MB。"), code="too_large")
    return image


def store(*, reference: str, checked: Checked, folder: str = "cases") -> str:
    """Save the checked content under a random name in ``folder/reference/``; returns the
    storage name."""
    name = f"{folder}/{reference}/{uuid.uuid4().hex}.{EXTENSIONS[checked.content_type]}"
    return default_storage.save(name, ContentFile(checked.content))
