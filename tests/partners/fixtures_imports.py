"""Helpers for the import/export tests: spreadsheets built in memory and read back.

- :func:`csv_file` / :func:`xlsx_file`: an upload with a header row and data rows;
- :func:`read_csv` / :func:`read_xlsx`: an export's rows as dicts (the CSV's BOM dropped);
- :data:`RESOURCE_HEADERS`, :func:`resource_row`: a full resource row, overridable by column;
- :data:`SHIFT_HEADERS`, :func:`shift_row`: the same for volunteer shifts;
- :func:`portal_import`, :func:`import_url`, :func:`export_url`: the portal's pages;
- fixtures ``partner_viewer`` (a read-only seat in mall), ``bank_kiosk`` (the bank's resource
  named like mall's rows) and ``make_shift`` (a mall shift through the service); a test module
  imports their ``*_fixture`` functions to use them.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partners import services
from partners.models import VolunteerShift
from tests.factories import MembershipFactory, UserFactory

TZ = ZoneInfo("Asia/Shanghai")

RESOURCE_HEADERS = (
    "kind",
    "name_zh",
    "name_en",
    "description_zh",
    "description_en",
    "station",
    "place_zh",
    "place_en",
    "quantity",
    "unit",
    "visibility",
    "bookable",
    "max_booking_minutes",
    "is_active",
)
SHIFT_HEADERS = ("station", "volunteer", "role", "starts_at", "ends_at", "status")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def resource_row(**values) -> dict:
    row = {
        "kind": "equipment",
        "name_zh": "自助终端",
        "name_en": "Self-service kiosk",
        "description_zh": "可办理身份证自助拍照",
        "description_en": "",
        "station": "mall-station",
        "place_zh": "一层东门",
        "place_en": "East gate",
        "quantity": "2",
        "unit": "items",
        "visibility": "public",
        "bookable": "1",
        "max_booking_minutes": "240",
        "is_active": "1",
    }
    row.update(values)
    return row


def shift_row(**values) -> dict:
    row = {
        "station": "mall-station",
        "volunteer": "张三",
        "role": "引导员",
        "starts_at": "2030-03-02 09:00",
        "ends_at": "2030-03-02 13:00",
        "status": "scheduled",
    }
    row.update(values)
    return row


def _table(rows, headers) -> list[list]:
    headers = list(headers or (rows[0].keys() if rows else ()))
    return [headers, *([row.get(name, "") for name in headers] for row in rows)]


def csv_file(rows, headers=None, *, name="data.csv", encoding="utf-8-sig") -> SimpleUploadedFile:
    buffer = io.StringIO()
    csv.writer(buffer).writerows(_table(rows, headers))
    return SimpleUploadedFile(name, buffer.getvalue().encode(encoding), content_type="text/csv")


def xlsx_file(rows, headers=None, *, name="data.xlsx") -> SimpleUploadedFile:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for line in _table(rows, headers):
        sheet.append(line)
    buffer = io.BytesIO()
    book.save(buffer)
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=XLSX_TYPE)


def read_csv(content: bytes) -> list[dict]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff"), "the CSV export starts with a BOM for Excel"
    return list(csv.DictReader(io.StringIO(text[1:])))


def read_xlsx(content: bytes) -> list[dict]:
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def xlsx_cells(content: bytes) -> list:
    """Every cell of the export's first sheet (to see whether any is a formula)."""
    from openpyxl import load_workbook

    sheet = load_workbook(io.BytesIO(content)).active
    return [cell for row in sheet.iter_rows() for cell in row]


def import_url(kind: str, partner=None) -> str:
    url = reverse("partners:import", args=[kind])
    return f"{url}?partner={partner.slug}" if partner is not None else url


def export_url(kind: str, partner=None, fmt: str = "csv") -> str:
    url = reverse("partners:export", args=[kind])
    query = f"format={fmt}" + (f"&partner={partner.slug}" if partner is not None else "")
    return f"{url}?{query}"


def portal_import(client, kind: str, upload, *, partner=None, mode: str = "import"):
    return client.post(import_url(kind, partner), {"file": upload, "mode": mode})


def problems_of(response) -> list[tuple]:
    """The (line, column, message) of each problem the page lists."""
    return [
        (problem.line, problem.column, problem.message)
        for problem in (response.context or {}).get("problems") or ()
    ]


# Fixtures (import them into the test module) -----------------------------------------------
@pytest.fixture(name="partner_viewer")
def partner_viewer_fixture(partner):
    """A read-only seat in mall: sees the portal, acts for nobody."""
    membership = MembershipFactory(
        organisation=partner,
        role="viewer",
        user=UserFactory(email="partner.viewer@example.com", is_staff=True),
    )
    return membership.user


@pytest.fixture(name="bank_kiosk")
def bank_kiosk_fixture(other_partner, other_partner_admin, station):
    """The bank's own "自助终端", named like the rows the mall imports."""
    return services.resource_create(
        actor=other_partner_admin,
        partner=other_partner,
        data={
            "kind": "equipment",
            "name_zh": "自助终端",
            "description_zh": "银行的自助终端",
            "station": station,
            "quantity": "7",
            "unit": "items",
        },
    )


@pytest.fixture(name="make_shift")
def make_shift_fixture(partner, partner_staff, station):
    """``make_shift(**data)``: a shift of mall through the service (2030-03-02 09:00–13:00)."""

    def make(*, owner=None, actor=None, **data) -> VolunteerShift:
        values = {
            "station": station,
            "volunteer": "张三",
            "role": "引导员",
            "starts_at": dt.datetime(2030, 3, 2, 9, tzinfo=TZ),
            "ends_at": dt.datetime(2030, 3, 2, 13, tzinfo=TZ),
        }
        values.update(data)
        return services.shift_create(
            actor=actor or partner_staff, partner=owner or partner, data=values
        )

    return make
