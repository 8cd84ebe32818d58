"""The portal's spreadsheet pages: resources and volunteer shifts imported from CSV and XLSX
(all or nothing, with every problem listed by line and column) and exported in the same
columns, with formulas neutralised; each role's access."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from governance.stations.models import Station
from partners import services, transfer
from partners.models import Resource, VolunteerShift
from tests.factories import MembershipFactory, StationFactory
from tests.partners.fixtures_imports import (  # noqa: F401  (fixtures)
    RESOURCE_HEADERS,
    SHIFT_HEADERS,
    TZ,
    bank_kiosk_fixture,
    csv_file,
    export_url,
    import_url,
    make_shift_fixture,
    partner_viewer_fixture,
    portal_import,
    problems_of,
    read_csv,
    read_xlsx,
    resource_row,
    shift_row,
    xlsx_cells,
    xlsx_file,
)
from tests.query_budget import assert_constant_queries


@pytest.fixture
def staff_client(client, partner_staff, station):
    client.force_login(partner_staff)
    return client


def _mall(partner):
    return Resource.objects.filter(partner=partner).order_by("name_zh")


def _messages(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# Importing resources -------------------------------------------------------------------------
def test_partner_staff_imports_resources_from_a_csv_file(
    staff_client, partner, partner_staff, station
):
    upload = csv_file(
        [resource_row(), resource_row(name_zh="中庭大屏", kind="equipment", quantity="1.5")]
    )
    response = portal_import(staff_client, "resources", upload)

    assert response.status_code == 302
    assert response.url == import_url("resources", partner)
    assert _messages(response) == ["导入完成：新增 2 条，更新 0 条，0 条没有变化。"]
    assert set(_mall(partner).values_list("name_zh", flat=True)) == {"自助终端", "中庭大屏"}
    kiosk = Resource.objects.get(partner=partner, name_zh="自助终端")
    assert kiosk.station == station
    assert kiosk.quantity == Decimal("2")
    assert (kiosk.kind, kiosk.unit, kiosk.visibility) == ("equipment", "items", "public")
    assert (kiosk.bookable, kiosk.max_booking_minutes, kiosk.is_active) == (True, 240, True)
    assert kiosk.created_by == partner_staff
    assert Resource.objects.get(name_zh="中庭大屏").quantity == Decimal("1.5")


def test_partner_admin_imports_resources_from_an_xlsx_file_with_native_cells(
    client, partner_admin, partner, station
):
    client.force_login(partner_admin)
    rows = [
        resource_row(quantity=3, bookable=True, max_booking_minutes=120.0, is_active=False),
        # Labels as well as codes; the Chinese yes/no.
        resource_row(name_zh="停车位", kind="停车位", unit="个车位", quantity=12.5, bookable="否"),
    ]
    response = portal_import(client, "resources", xlsx_file(rows))

    assert response.status_code == 302, problems_of(response)
    kiosk = Resource.objects.get(partner=partner, name_zh="自助终端")
    assert (kiosk.quantity, kiosk.bookable, kiosk.max_booking_minutes) == (Decimal(3), True, 120)
    assert kiosk.is_active is False
    parking = Resource.objects.get(partner=partner, name_zh="停车位")
    assert (parking.kind, parking.unit, parking.quantity) == ("parking", "spaces", Decimal("12.5"))
    assert parking.bookable is False


def test_reimporting_updates_the_resources_instead_of_adding_them(staff_client, partner):
    rows = [resource_row(), resource_row(name_zh="中庭大屏")]
    portal_import(staff_client, "resources", csv_file(rows))
    before = {resource.name_zh: resource.pk for resource in _mall(partner)}

    rows[0]["quantity"] = "4"
    rows[0]["description_zh"] = "新增两台"
    response = portal_import(staff_client, "resources", csv_file(rows))

    assert response.status_code == 302
    assert _messages(response)[-1] == "导入完成：新增 0 条，更新 1 条，1 条没有变化。"
    assert {resource.name_zh: resource.pk for resource in _mall(partner)} == before
    kiosk = Resource.objects.get(pk=before["自助终端"])
    assert (kiosk.quantity, kiosk.description_zh) == (Decimal(4), "新增两台")


def test_a_file_with_some_columns_changes_only_those(staff_client, partner):
    portal_import(staff_client, "resources", csv_file([resource_row()]))
    response = portal_import(
        staff_client,
        "resources",
        csv_file([{"name_zh": "自助终端", "quantity": "6"}], headers=("name_zh", "quantity")),
    )
    assert response.status_code == 302
    kiosk = _mall(partner).get()
    assert kiosk.quantity == Decimal(6)
    assert (kiosk.description_zh, kiosk.place_en) == ("可办理身份证自助拍照", "East gate")


def test_a_funding_resource_is_never_bookable_whatever_the_file_says(staff_client, partner):
    row = resource_row(name_zh="活动经费", kind="funding", unit="yuan", bookable="1")
    response = portal_import(staff_client, "resources", csv_file([row]))
    assert response.status_code == 302
    assert _mall(partner).get().bookable is False


# All or nothing ------------------------------------------------------------------------------
def test_one_bad_row_imports_nothing_and_every_problem_is_listed_by_line_and_column(
    staff_client, partner
):
    portal_import(staff_client, "resources", csv_file([resource_row()]))
    rows = [
        resource_row(quantity="9"),  # line 2: an update, valid
        resource_row(name_zh="中庭大屏"),  # line 3: new, valid
        resource_row(name_zh="停车位", quantity="很多", station="nowhere"),  # line 4
        resource_row(name_zh="会议室", visibility="secret"),  # line 5
    ]
    response = portal_import(staff_client, "resources", csv_file(rows))

    assert response.status_code == 400
    assert problems_of(response) == [
        (4, "quantity", "请填写数字。"),
        (4, "station", "没有标识为“nowhere”的站点。"),
        (5, "visibility", "“secret”不是有效的选项；可填：public, stakeholders。"),
    ]
    page = response.content.decode()
    assert "文件未导入，没有写入任何数据" in page
    assert "nowhere" in page
    assert list(_mall(partner).values_list("name_zh", "quantity")) == [("自助终端", Decimal(2))]


def test_a_row_the_service_refuses_is_listed_and_nothing_is_written(staff_client, partner):
    closed = StationFactory(slug="old-station", name_zh="旧站点", host=partner, is_active=False)
    rows = [
        resource_row(),
        resource_row(name_zh="旧站点柜台", station=closed.slug),
        resource_row(name_zh="空的", quantity="0"),
        resource_row(name_zh="", kind=""),
    ]
    response = portal_import(staff_client, "resources", csv_file(rows))

    assert response.status_code == 400
    found = problems_of(response)
    assert (3, "station", "该站点已停用。") in found
    assert [(line, column) for line, column, _message in found if line != 3] == [
        (4, "quantity"),
        (5, "kind"),
        (5, "name_zh"),
    ]
    assert not _mall(partner).exists()


def test_checking_a_file_writes_nothing_and_says_what_an_import_would_do(staff_client, partner):
    portal_import(staff_client, "resources", csv_file([resource_row()]))
    rows = [resource_row(quantity="3"), resource_row(name_zh="中庭大屏")]
    response = portal_import(staff_client, "resources", csv_file(rows), mode="check")

    assert response.status_code == 200
    assert response.context["checked"] == {"new": 1, "update": 1, "skip": 0}
    assert "检查通过" in response.content.decode()
    assert list(_mall(partner).values_list("name_zh", "quantity")) == [("自助终端", Decimal(2))]


def test_checking_a_bad_file_lists_the_same_problems_as_importing_it(staff_client, partner):
    upload = csv_file([resource_row(quantity="-1")])
    checked = portal_import(staff_client, "resources", upload, mode="check")
    imported = portal_import(staff_client, "resources", csv_file([resource_row(quantity="-1")]))
    assert checked.status_code == imported.status_code == 400
    assert problems_of(checked) == problems_of(imported)
    assert [line_column[:2] for line_column in problems_of(checked)] == [(2, "quantity")]
    assert not _mall(partner).exists()


def test_the_same_name_twice_in_a_file_is_an_error_on_the_second_row(staff_client, partner):
    rows = [resource_row(), resource_row(name_zh="中庭大屏"), resource_row(quantity="5")]
    response = portal_import(staff_client, "resources", csv_file(rows))
    assert response.status_code == 400
    assert problems_of(response) == [(4, "name_zh", "与第 2 行重复。")]
    assert not _mall(partner).exists()


def test_a_name_the_partner_uses_twice_cannot_be_updated_from_a_file(
    staff_client, partner, partner_staff, station
):
    for _copy in range(2):
        services.resource_create(
            actor=partner_staff,
            partner=partner,
            data={"kind": "equipment", "name_zh": "自助终端", "quantity": "1", "unit": "items"},
        )
    response = portal_import(staff_client, "resources", csv_file([resource_row(quantity="9")]))
    assert response.status_code == 400
    [(line, column, message)] = problems_of(response)
    assert (line, column) == (2, "name_zh")
    assert "2 条记录" in message
    assert set(_mall(partner).values_list("quantity", flat=True)) == {Decimal(1)}


# Another partner's data ----------------------------------------------------------------------
def test_a_row_named_like_another_partners_resource_never_touches_it(
    staff_client, partner, bank_kiosk
):
    response = portal_import(
        staff_client, "resources", csv_file([resource_row(quantity="1", description_zh="改")])
    )
    assert response.status_code == 302
    bank_kiosk.refresh_from_db()
    assert (bank_kiosk.quantity, bank_kiosk.description_zh) == (Decimal(7), "银行的自助终端")
    mine = _mall(partner).get()
    assert mine.pk != bank_kiosk.pk
    assert (mine.name_zh, mine.quantity) == ("自助终端", Decimal(1))


@pytest.mark.parametrize(
    ("column", "value"), [("partner", "bank"), ("id", "1"), ("created_by", "1")]
)
def test_a_file_naming_the_partner_or_ids_is_refused_whole(
    staff_client, partner, bank_kiosk, column, value
):
    row = resource_row(quantity="1", **{column: value})
    response = portal_import(
        staff_client, "resources", csv_file([row], headers=(*RESOURCE_HEADERS, column))
    )
    assert response.status_code == 400
    [(line, where, message)] = problems_of(response)
    assert (line, where) == (None, "")
    assert f"无法识别的列：{column}" in message
    assert not _mall(partner).exists()
    bank_kiosk.refresh_from_db()
    assert bank_kiosk.quantity == Decimal(7)


def test_the_other_partners_admin_cannot_import_into_mall(
    client, other_partner_admin, partner, other_partner, station
):
    client.force_login(other_partner_admin)
    assert client.get(import_url("resources", partner)).status_code == 404
    response = portal_import(client, "resources", csv_file([resource_row()]), partner=partner)
    assert response.status_code == 404
    assert not Resource.objects.exists()
    # Without a partner named, the page acts for the bank.
    response = portal_import(client, "resources", csv_file([resource_row()]))
    assert response.status_code == 302
    assert Resource.objects.get().partner == other_partner


# Files ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("resources.txt", b"kind,name_zh\n", "只能导入 CSV 或 XLSX 文件。"),
        ("resources.pdf", b"%PDF-1.4\n", "只能导入 CSV 或 XLSX 文件。"),
        ("resources", b"kind,name_zh\n", "只能导入 CSV 或 XLSX 文件。"),
        ("resources.csv", b"", "提交的是空文件。"),
        ("resources.xlsx", b"PK\x03\x04 not really a workbook", "无法读取这个 XLSX 文件。"),
        ("resources.csv", b"\xff\xfe\xff\xff", "无法识别文件的文字编码"),
        ("resources.csv", b"name_zh,quantity\nA,1,extra\n", "第 2 行比标题行多出了内容"),
    ],
)
def test_a_file_that_is_not_a_readable_csv_or_xlsx_is_refused(
    staff_client, partner, name, content, message
):
    upload = SimpleUploadedFile(name, content, content_type="application/octet-stream")
    response = portal_import(staff_client, "resources", upload)
    assert response.status_code == 400
    errors = response.context["form"].errors["file"]
    assert any(message in error for error in errors), errors
    assert not _mall(partner).exists()


@pytest.mark.parametrize(
    ("headers", "rows", "message"),
    [
        (("quantity",), [{"quantity": "1"}], "缺少必需的列：name_zh。"),
        (("nmae_zh", "quantity"), [{"nmae_zh": "A"}], "无法识别的列：nmae_zh"),
        (("name_zh", "name_zh"), [{"name_zh": "A"}], "列重复：name_zh。"),
        (RESOURCE_HEADERS, [], "文件里没有数据行。"),
    ],
)
def test_a_file_with_the_wrong_columns_is_refused(staff_client, partner, headers, rows, message):
    response = portal_import(staff_client, "resources", csv_file(rows, headers=headers))
    assert response.status_code == 400
    [(line, column, said)] = problems_of(response)
    assert (line, column) == (None, "")
    assert message in said
    assert not _mall(partner).exists()


def test_a_file_over_two_megabytes_is_refused_with_413(staff_client, partner):
    line = ",".join(resource_row(description_zh="长" * 300).values()) + "\n"
    body = ",".join(RESOURCE_HEADERS) + "\n" + line * (transfer.MAX_BYTES // len(line) + 1)
    upload = SimpleUploadedFile("big.csv", body.encode(), content_type="text/csv")
    assert upload.size > transfer.MAX_BYTES
    response = portal_import(staff_client, "resources", upload)
    assert response.status_code == 413
    assert "文件太大：最大 2 MB。" in response.context["form"].errors["file"]
    assert not _mall(partner).exists()


def test_a_file_with_more_rows_than_the_limit_is_refused(staff_client, partner):
    rows = [{"name_zh": f"资源{number}"} for number in range(transfer.MAX_ROWS + 1)]
    response = portal_import(staff_client, "resources", csv_file(rows, headers=("name_zh",)))
    assert response.status_code == 400
    assert f"每次最多 {transfer.MAX_ROWS} 行" in response.context["form"].errors["file"][0]
    assert not _mall(partner).exists()


def test_an_xlsx_sheet_longer_than_the_limit_is_refused_without_reading_it_all(
    staff_client, partner, monkeypatch
):
    monkeypatch.setattr(transfer, "MAX_ROWS", 3)
    rows = [resource_row(name_zh=f"资源{number}") for number in range(4)]
    response = portal_import(staff_client, "resources", xlsx_file(rows))
    assert response.status_code == 400
    assert "每次最多 3 行" in response.context["form"].errors["file"][0]
    assert not _mall(partner).exists()


def test_a_csv_saved_by_excel_in_gb18030_imports(staff_client, partner):
    upload = csv_file([resource_row()], encoding="gb18030")
    response = portal_import(staff_client, "resources", upload)
    assert response.status_code == 302
    assert _mall(partner).get().name_zh == "自助终端"


def test_blank_rows_and_padding_cells_are_ignored(staff_client, partner):
    headers = ",".join(RESOURCE_HEADERS)
    row = ",".join(resource_row().values())
    body = f"{headers},,\n{row},,\n,,,,\n\n".encode()
    response = portal_import(staff_client, "resources", SimpleUploadedFile("r.csv", body))
    assert response.status_code == 302, problems_of(response)
    assert _mall(partner).count() == 1


# Volunteer shifts ----------------------------------------------------------------------------
def test_shifts_import_in_beijing_time_and_reimport_updates_them(staff_client, partner, station):
    rows = [shift_row(), shift_row(volunteer="李四", starts_at="2030/03/02 14:00", ends_at="")]
    rows[1]["ends_at"] = "2030-03-02 18:30"
    response = portal_import(staff_client, "shifts", csv_file(rows))
    assert response.status_code == 302, problems_of(response)
    zhang = VolunteerShift.objects.get(partner=partner, volunteer="张三")
    assert zhang.starts_at == dt.datetime(2030, 3, 2, 9, tzinfo=TZ)
    assert zhang.ends_at == dt.datetime(2030, 3, 2, 13, tzinfo=TZ)
    assert (zhang.station, zhang.role, zhang.status) == (station, "引导员", "scheduled")
    li = VolunteerShift.objects.get(partner=partner, volunteer="李四")
    assert li.hours == Decimal("4.50")

    rows[0]["status"] = "cancelled"
    response = portal_import(staff_client, "shifts", csv_file(rows))
    assert _messages(response)[-1] == "导入完成：新增 0 条，更新 1 条，1 条没有变化。"
    assert VolunteerShift.objects.filter(partner=partner).count() == 2
    zhang.refresh_from_db()
    assert zhang.status == "cancelled"


def test_shifts_import_from_xlsx_date_cells(staff_client, partner):
    start = dt.datetime(2030, 3, 2, 9, tzinfo=TZ).replace(tzinfo=None)  # a cell has no zone
    row = shift_row(starts_at=start, ends_at=start + dt.timedelta(hours=3))
    response = portal_import(staff_client, "shifts", xlsx_file([row]))
    assert response.status_code == 302, problems_of(response)
    shift = VolunteerShift.objects.get(partner=partner)
    assert (shift.starts_at, shift.hours) == (dt.datetime(2030, 3, 2, 9, tzinfo=TZ), Decimal(3))


def test_shift_rows_are_held_to_the_services_time_rules(staff_client, partner):
    rows = [
        shift_row(),
        shift_row(volunteer="李四", ends_at="2030-03-02 08:00"),
        shift_row(volunteer="王五", ends_at="2030-03-02 22:00"),
        shift_row(volunteer="赵六", starts_at="明天上午"),
        shift_row(volunteer="钱七", station=""),
    ]
    response = portal_import(staff_client, "shifts", csv_file(rows))
    assert response.status_code == 400
    assert problems_of(response) == [
        (3, "ends_at", "结束时间必须晚于开始时间。"),
        (4, "ends_at", "一个班次不能超过 12 小时。"),
        (5, "starts_at", "请按“YYYY-MM-DD HH:MM”（北京时间）填写日期和时间。"),
        (6, "station", "请填写站点的标识。"),
    ]
    assert not VolunteerShift.objects.exists()


def test_a_future_shift_cannot_be_marked_done_by_reimport(staff_client, partner, make_shift):
    shift = make_shift()
    response = portal_import(staff_client, "shifts", csv_file([shift_row(status="done")]))
    assert response.status_code == 400
    assert problems_of(response) == [(2, "status", "班次开始之后才能登记到岗或缺勤。")]
    shift.refresh_from_db()
    assert shift.status == "scheduled"


# Export --------------------------------------------------------------------------------------
def test_export_lists_only_the_partners_resources_in_the_import_columns(
    staff_client, partner, bank_kiosk, make_resource
):
    make_resource(name_zh="中庭活动区", quantity="200.50", bookable=False)
    response = staff_client.get(export_url("resources", partner))

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith('attachment; filename="mall-resources-')
    [row] = read_csv(response.content)
    assert tuple(row) == RESOURCE_HEADERS
    assert row == {
        "kind": "space",
        "name_zh": "中庭活动区",
        "name_en": "Atrium",
        "description_zh": "",
        "description_en": "",
        "station": "mall-station",
        "place_zh": "一层中庭",
        "place_en": "",
        "quantity": "200.5",
        "unit": "sqm",
        "visibility": "public",
        "bookable": "0",
        "max_booking_minutes": "480",
        "is_active": "1",
    }


def test_xlsx_export_keeps_numbers_and_times_as_cells(staff_client, partner, make_shift):
    make_shift()
    response = staff_client.get(export_url("shifts", partner, "xlsx"))
    assert response.status_code == 200
    assert response["Content-Type"] == transfer.XLSX.CONTENT_TYPE
    [row] = read_xlsx(response.content)
    assert tuple(row) == SHIFT_HEADERS
    # Beijing time, as the forms show it (a cell has no zone).
    assert row["starts_at"] == dt.datetime(2030, 3, 2, 9, tzinfo=TZ).replace(tzinfo=None)
    assert row["volunteer"] == "张三"


FORMULAS = {
    "name_zh": '=HYPERLINK("http://evil.example","点我")',
    "name_en": "-1+1",
    "description_zh": "+86 28 8888 8888",
    "place_zh": "@SUM(A1:A9)",
}


def test_exports_neutralise_cells_a_spreadsheet_would_run_as_formulas(
    staff_client, partner, make_resource
):
    make_resource(**FORMULAS)
    [row] = read_csv(staff_client.get(export_url("resources", partner)).content)
    for column, value in FORMULAS.items():
        assert row[column] == "'" + value

    content = staff_client.get(export_url("resources", partner, "xlsx")).content
    assert not [cell.coordinate for cell in xlsx_cells(content) if cell.data_type == "f"]
    [row] = read_xlsx(content)
    for column, value in FORMULAS.items():
        assert row[column] == "'" + value


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_an_export_imports_back_unchanged(staff_client, partner, make_resource, fmt):
    make_resource(**FORMULAS)
    make_resource(name_zh="三楼会议室", visibility="stakeholders", quantity="20", unit="people")
    before = list(_mall(partner).values())
    response = staff_client.get(export_url("resources", partner, fmt))
    upload = SimpleUploadedFile(f"export.{fmt}", response.content)

    response = portal_import(staff_client, "resources", upload)
    assert response.status_code == 302, problems_of(response)
    assert _messages(response)[-1] == "导入完成：新增 0 条，更新 0 条，2 条没有变化。"
    assert list(_mall(partner).values()) == before


def test_shift_export_writes_beijing_time(staff_client, partner, make_shift):
    make_shift(starts_at=dt.datetime(2030, 3, 2, 1, 30, tzinfo=dt.UTC))
    [row] = read_csv(staff_client.get(export_url("shifts", partner)).content)
    assert (row["starts_at"], row["ends_at"]) == ("2030-03-02 09:30", "2030-03-02 13:00")


@pytest.mark.parametrize("kind", ["resources", "shifts"])
@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_runs_constant_queries(staff_client, partner, partner_staff, station, kind, fmt):
    made = [0]

    def make_rows(count):
        for _row in range(count):
            made[0] += 1
            if kind == "resources":
                data = {"kind": "space", "name_zh": f"会议室{made[0]}", "quantity": "1"}
                data |= {"unit": "people", "station": station}
                services.resource_create(actor=partner_staff, partner=partner, data=data)
            else:
                start = dt.datetime(2030, 3, 2, 9, tzinfo=TZ) + dt.timedelta(days=made[0])
                data = {"station": station, "volunteer": "张三", "role": "引导员"}
                data |= {"starts_at": start, "ends_at": start + dt.timedelta(hours=2)}
                services.shift_create(actor=partner_staff, partner=partner, data=data)

    def rows_in(response, count):
        rows = read_csv(response.content) if fmt == "csv" else read_xlsx(response.content)
        assert len(rows) == count

    assert_constant_queries(
        lambda: staff_client.get(export_url(kind, partner, fmt)),
        make_rows,
        check=rows_in,
        max_queries=8,
    )


@pytest.mark.parametrize("fmt", ["json", "xls", ""])
def test_an_unknown_export_format_is_a_400(staff_client, partner, fmt):
    response = staff_client.get(export_url("resources", partner, fmt))
    assert response.status_code == 400
    assert "csv 或 xlsx" in response.content.decode()


# Who may use the pages -----------------------------------------------------------------------
ROLES = [
    ("partner_admin", 200),
    ("partner_staff", 200),
    ("partner_viewer", 403),
    ("citizen", 403),
    ("department_staff", 403),
    ("department_admin", 403),
    # Superusers keep partners' data in the admin; the portal acts only for a seat.
    ("superuser", 403),
]


@pytest.mark.parametrize("kind", ["resources", "shifts"])
@pytest.mark.parametrize(("role", "status"), ROLES)
def test_each_role_opens_the_import_and_export_pages_or_is_refused(
    request, client, partner, station, kind, role, status
):
    client.force_login(request.getfixturevalue(role))
    assert client.get(import_url(kind)).status_code == status
    assert client.get(import_url(kind, partner)).status_code == (
        404
        if role
        in {
            "citizen",
            "department_staff",
            "department_admin",
            "superuser",
        }
        else status
    )
    response = client.get(export_url(kind))
    assert response.status_code == status
    if status != 200:
        assert "attachment" not in response.get("Content-Disposition", "")


@pytest.mark.parametrize(("role", "status"), [r for r in ROLES if r[1] != 200])
def test_refused_roles_import_nothing(request, client, partner, station, role, status):
    client.force_login(request.getfixturevalue(role))
    response = portal_import(client, "resources", csv_file([resource_row()]))
    assert response.status_code == status
    assert not Resource.objects.exists()


@pytest.mark.parametrize("kind", ["resources", "shifts"])
def test_anonymous_visitors_are_sent_to_sign_in(client, partner, kind):
    for url in (import_url(kind, partner), export_url(kind, partner)):
        response = client.get(url)
        assert response.status_code == 302
        assert response.url.startswith(reverse("account_login"))
    response = portal_import(client, kind, csv_file([resource_row()]), partner=partner)
    assert response.status_code == 302
    assert not Resource.objects.exists()


def test_an_unknown_kind_is_a_404(staff_client):
    assert staff_client.get("/partners/portal/import/bookings/").status_code == 404
    assert staff_client.get("/partners/portal/export/pledges/?format=csv").status_code == 404


def test_someone_in_two_partners_chooses_which_with_the_partner_parameter(
    client, partner_staff, partner, other_partner, bank_kiosk, station
):
    MembershipFactory(organisation=other_partner, user=partner_staff, role="staff")
    client.force_login(partner_staff)

    page = client.get(import_url("resources"))
    assert page.context["partner"] == partner  # the first by name
    assert f"?partner={other_partner.slug}" in page.content.decode()

    response = portal_import(
        client, "resources", csv_file([resource_row(quantity="8")]), partner=other_partner
    )
    assert response.status_code == 302
    assert response.url == import_url("resources", other_partner)
    bank_kiosk.refresh_from_db()
    assert (bank_kiosk.quantity, bank_kiosk.description_zh) == (Decimal(8), "可办理身份证自助拍照")
    assert not _mall(partner).exists()
    [row] = read_csv(client.get(export_url("resources", other_partner)).content)
    assert (row["name_zh"], row["quantity"]) == ("自助终端", "8")


def test_stations_are_found_by_slug(staff_client, partner):
    other = StationFactory(slug="bank-station", name_zh="银行网点", host=partner)
    response = portal_import(
        staff_client, "resources", csv_file([resource_row(station="bank-station")])
    )
    assert response.status_code == 302
    assert _mall(partner).get().station == other
    assert Station.objects.filter(slug="bank-station").exists()
