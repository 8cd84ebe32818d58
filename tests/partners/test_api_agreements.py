"""The partners API's agreements: who reads which, recording and changing them, attaching
PDFs and downloading them through a view that checks permission; every role, the refusals
too; bad input that writes nothing; filters and query counts."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from partners import services
from partners.models import Agreement, AgreementDocument
from tests.partners.fixtures_api import *  # noqa: F403  (fixtures, found by pytest here)
from tests.partners.fixtures_api import ROLES, client_for, pdf, url
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

AGREEMENTS = url("agreements")
PARTIES = {
    "department_viewer",
    "department_staff",
    "department_admin",
    "partner_admin",
    "partner_staff",
    "partner_viewer",
    "superuser",
}


def days(count: int) -> dt.date:
    return timezone.localdate() + dt.timedelta(days=count)


def ids(response) -> list[int]:
    assert response.status_code == 200, response.content[:500]
    return [row["id"] for row in response.json()["results"]]


def agreement_input(**overrides) -> dict:
    values = {
        "partner": "mall",
        "departments": ["hukou"],
        "title_zh": "警务服务站共建协议",
        "scope_zh": "商场提供场地和志愿者，户政派驻窗口。",
        "starts_on": days(-30).isoformat(),
        "ends_on": days(335).isoformat(),
    }
    values.update(overrides)
    return values


@pytest.fixture
def agree(partner, department, department_admin):
    """An agreement through ``services.agreement_create``, in force unless told otherwise:
    recorded by hukou's admin (an agreement takes effect on a department's word)."""

    def make(*, actor=None, owner=None, departments=None, ends_in=335, status="active", **data):
        values = {
            "title_zh": "警务服务站共建协议",
            "scope_zh": "商场提供场地和志愿者，户政派驻窗口。",
            "starts_on": days(-30),
            "ends_on": days(ends_in),
        }
        values.update(data)
        return services.agreement_create(
            actor=actor or department_admin,
            partner=owner or partner,
            departments=departments or [department],
            data=values,
            status=status,
        )

    return make


# Who reads which ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_an_agreement_is_read_by_the_members_of_its_sides_only(roles, role, agree):
    agreement = agree()
    client = client_for(roles[role])

    sees = role in PARTIES
    assert (agreement.pk in ids(client.get(AGREEMENTS))) is sees
    assert client.get(url("agreements", agreement)).status_code == (200 if sees else 404)


def test_an_agreement_row_has_its_sides_period_status_and_documents(
    agree, partner_admin, department_admin
):
    agreement = agree(title_en="Co-operation memorandum")
    document = services.agreement_attach(
        actor=partner_admin, agreement=agreement, upload=pdf(), title="签字版"
    )

    row = client_for(department_admin).get(AGREEMENTS).json()["results"][0]

    assert row["url"] == f"http://testserver{url('agreements', agreement)}"
    assert row["page_url"] == f"/partners/agreements/{agreement.pk}/"
    assert row["partner"]["slug"] == "mall"
    assert [department["slug"] for department in row["departments"]] == ["hukou"]
    assert (row["title"], row["title_en"]) == ("警务服务站共建协议", "Co-operation memorandum")
    assert row["scope"].startswith("商场提供场地")
    assert (row["starts_on"], row["ends_on"]) == (days(-30).isoformat(), days(335).isoformat())
    assert (row["status"], row["status_label"]) == ("active", "已生效")
    assert row["expired"] is False
    [listed] = row["documents"]
    assert listed["id"] == document.pk
    assert listed["title"] == "签字版"
    assert listed["size"] == document.size
    assert "/media/" not in listed["url"]
    assert listed["url"].endswith(f"{url('agreements', agreement)}documents/{document.pk}/")
    assert "permissions" not in row


@pytest.mark.parametrize(
    ("role", "manage"),
    [
        ("department_viewer", False),
        ("department_staff", False),
        ("department_admin", True),
        ("partner_staff", False),
        ("partner_admin", True),
        ("superuser", True),
    ],
)
def test_the_detail_says_who_may_change_it(roles, role, manage, agree):
    agreement = agree()
    body = client_for(roles[role]).get(url("agreements", agreement)).json()
    assert body["permissions"] == {"manage": manage}


def test_an_active_agreement_past_its_end_is_flagged_expired(agree, partner_admin):
    old = agree(title_zh="旧协议", starts_on=days(-400), ends_in=-10)
    draft = agree(title_zh="草稿", starts_on=days(-400), ends_in=-10, status="draft")

    rows = {row["id"]: row for row in client_for(partner_admin).get(AGREEMENTS).json()["results"]}

    assert rows[old.pk]["expired"] is True
    assert rows[draft.pk]["expired"] is False  # never in force


def test_the_list_filters_by_status_partner_department_and_end(
    agree, other_department, other_partner, other_partner_admin, superuser, department
):
    soon = agree(ends_in=20)
    later = agree(ends_in=300, departments=[department, other_department], status="draft")
    banks = agree(owner=other_partner, ends_in=100)
    client = client_for(superuser)

    assert ids(client.get(AGREEMENTS)) == [soon.pk, banks.pk, later.pk]  # soonest end first
    assert ids(client.get(AGREEMENTS, {"status": "draft"})) == [later.pk]
    assert ids(client.get(AGREEMENTS, {"partner": "bank"})) == [banks.pk]
    assert ids(client.get(AGREEMENTS, {"department": "traffic"})) == [later.pk]
    assert ids(client.get(AGREEMENTS, {"ends_before": days(60).isoformat()})) == [soon.pk]


@pytest.mark.parametrize(
    "query",
    [{"status": "signed"}, {"partner": "hukou"}, {"department": "mall"}, {"ends_before": "x"}],
)
def test_a_bad_filter_is_a_400_naming_it(partner_admin, query):
    response = client_for(partner_admin).get(AGREEMENTS, query)
    assert response.status_code == 400
    assert set(response.json()) == set(query)


def test_the_list_runs_a_constant_number_of_queries(
    agree, partner_admin, department, other_department, department_staff
):
    def add(count):
        for number in range(count):
            agreement = agree(
                ends_in=30 + number,
                departments=[department, other_department] if number % 2 else [department],
            )
            services.agreement_attach(
                actor=partner_admin, agreement=agreement, upload=pdf(), title=f"附件{number}"
            )

    for user in (partner_admin, department_staff):
        Agreement.objects.all().delete()
        assert_constant_queries(
            lambda user=user: client_for(user).get(AGREEMENTS, {"page_size": 100}),
            add,
            check=lambda response, rows: response.json()["count"] == rows,
        )


# Recording and changing -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 403),
        ("department_viewer", 403),
        ("department_staff", 403),
        ("partner_staff", 403),
        ("partner_viewer", 403),
        ("other_department_staff", 403),
        ("other_partner_admin", 403),  # an admin, but of neither side
        ("department_admin", 201),
        ("partner_admin", 201),
        ("superuser", 201),
    ],
)
def test_the_admins_of_either_side_record_a_draft_agreement(roles, role, expected, department):
    response = client_for(roles[role]).post(AGREEMENTS, agreement_input(), format="json")

    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        body = response.json()
        assert body["partner"]["slug"] == "mall"
        assert body["departments"][0]["slug"] == "hukou"
        assert body["status"] == "draft"
        assert body["documents"] == []
        assert body["permissions"] == {"manage": True}
    else:
        assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("partner_admin", 403),  # the partner alone does not put it in force
        ("department_admin", 201),
        ("superuser", 201),
    ],
)
def test_an_agreement_takes_effect_on_a_departments_word(roles, role, expected, department):
    response = client_for(roles[role]).post(
        AGREEMENTS, agreement_input(status="active"), format="json"
    )
    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        assert response.json()["status"] == "active"
    else:
        assert not Agreement.objects.exists()


def test_a_draft_is_put_in_force_by_a_department_admin_and_then_only_ends(
    agree, partner_admin, department_admin
):
    draft = agree(status="draft", actor=partner_admin)
    response = client_for(partner_admin).patch(
        url("agreements", draft), {"status": "active"}, format="json"
    )
    assert response.status_code == 403

    client = client_for(department_admin)
    response = client.patch(url("agreements", draft), {"status": "active"}, format="json")
    assert response.status_code == 200
    assert response.json()["status"] == "active"

    response = client.patch(url("agreements", draft), {"status": "draft"}, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_draft"
    response = client_for(partner_admin).patch(
        url("agreements", draft), {"status": "terminated"}, format="json"
    )
    assert response.status_code == 200
    assert response.json()["status"] == "terminated"
    draft.refresh_from_db()
    assert draft.status == "terminated"


def test_the_departments_change_only_while_it_is_a_draft(
    agree, partner_admin, department_admin, other_department
):
    draft = agree(status="draft", actor=partner_admin)
    in_force = agree()
    client = client_for(department_admin)
    two = {"departments": ["hukou", "traffic"]}

    response = client.patch(url("agreements", draft), two, format="json")
    assert response.status_code == 200
    assert {row["slug"] for row in response.json()["departments"]} == {"hukou", "traffic"}

    response = client.patch(url("agreements", in_force), two, format="json")
    assert response.status_code == 409
    assert response.json()["code"] == "not_draft"
    assert [department.slug for department in in_force.departments.all()] == ["hukou"]


def test_the_admin_of_one_partner_may_leave_the_partner_out(partner_admin, department_admin):
    values = agreement_input()
    del values["partner"]
    response = client_for(partner_admin).post(AGREEMENTS, values, format="json")
    assert response.status_code == 201
    assert response.json()["partner"]["slug"] == "mall"
    assert response.json()["status"] == "draft"

    response = client_for(department_admin).post(AGREEMENTS, values, format="json")
    assert response.status_code == 400
    assert "partner" in response.json()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"departments": []}, "departments"),
        ({"departments": ["mall"]}, "departments"),
        ({"departments": "hukou"}, "departments"),
        ({"title_zh": ""}, "title_zh"),
        ({"scope_zh": "x" * 5001}, "scope_zh"),
        ({"starts_on": "someday"}, "starts_on"),
        ({"ends_on": "2101-01-01"}, "ends_on"),
        ({"status": "signed"}, "status"),
        ({"partner": "hukou"}, "partner"),
    ],
)
def test_a_bad_agreement_is_a_400_naming_the_field_and_writes_nothing(
    partner_admin, department, change, field
):
    response = client_for(partner_admin).post(AGREEMENTS, agreement_input(**change), format="json")
    assert response.status_code == 400, response.content[:300]
    assert field in response.json()
    assert not Agreement.objects.exists()


def test_an_agreement_ending_before_it_starts_is_refused(partner_admin, department):
    response = client_for(partner_admin).post(
        AGREEMENTS,
        agreement_input(starts_on=days(10).isoformat(), ends_on=days(5).isoformat()),
        format="json",
    )
    assert response.status_code == 400
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("other_department_staff", 404),
        ("other_partner_admin", 404),
        ("department_viewer", 403),
        ("department_staff", 403),
        ("partner_staff", 403),
        ("partner_viewer", 403),
        ("department_admin", 200),
        ("partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_the_admins_of_either_side_change_an_agreement(roles, role, expected, agree):
    agreement = agree(ends_in=20)
    services.agreements_remind(today=timezone.localdate())
    agreement.refresh_from_db()
    assert agreement.reminded_60_at is not None

    response = client_for(roles[role]).patch(
        url("agreements", agreement),
        {"ends_on": days(700).isoformat(), "title_en": "Renewed memorandum"},
        format="json",
    )

    assert response.status_code == expected, response.content[:300]
    agreement.refresh_from_db()
    if expected == 200:
        assert response.json()["ends_on"] == days(700).isoformat()
        assert response.json()["title_en"] == "Renewed memorandum"
        assert agreement.reminded_60_at is None  # a renewed agreement is reminded again
    else:
        assert agreement.ends_on == days(20)


def test_a_bad_change_is_a_400_and_changes_nothing(agree, partner_admin):
    agreement = agree()
    client = client_for(partner_admin)
    for change, field in (
        ({"status": "signed"}, "status"),
        ({"departments": []}, "departments"),
        ({"title_zh": "  "}, "title_zh"),
    ):
        response = client.patch(url("agreements", agreement), change, format="json")
        assert response.status_code == 400
        assert field in response.json()
    response = client.patch(
        url("agreements", agreement), {"ends_on": days(-60).isoformat()}, format="json"
    )
    assert response.status_code == 400
    agreement.refresh_from_db()
    assert (agreement.status, agreement.ends_on) == ("active", days(335))


# Documents -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("anonymous", 401),
        ("citizen", 404),
        ("other_partner_admin", 404),
        ("department_staff", 403),
        ("partner_staff", 403),
        ("department_admin", 201),
        ("partner_admin", 201),
    ],
)
def test_the_admins_of_either_side_attach_a_pdf(roles, role, expected, agree):
    agreement = agree()
    response = client_for(roles[role]).post(
        url("agreements", agreement, "documents"),
        {"title": "签字版", "file": pdf()},
        format="multipart",
    )
    assert response.status_code == expected, response.content[:300]
    if expected == 201:
        assert response.json()["title"] == "签字版"
        assert AgreementDocument.objects.get().uploaded_by == roles[role]
    else:
        assert not AgreementDocument.objects.exists()


@pytest.mark.parametrize(
    ("upload", "field", "code"),
    [
        (SimpleUploadedFile("x.pdf", b"not a pdf at all", "application/pdf"), "file", 400),
        (SimpleUploadedFile("x.pdf", b"", "application/pdf"), "file", 400),
        (None, "file", 400),
        (
            SimpleUploadedFile("x.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf"),
            "detail",
            413,
        ),
    ],
)
def test_a_document_must_be_a_pdf_of_at_most_10_mb(agree, partner_admin, upload, field, code):
    agreement = agree()
    body = {"title": "附件"}
    if upload is not None:
        body["file"] = upload
    response = client_for(partner_admin).post(
        url("agreements", agreement, "documents"), body, format="multipart"
    )
    assert response.status_code == code, response.content[:300]
    assert field in response.json()
    assert not AgreementDocument.objects.exists()


@pytest.mark.parametrize("role", ROLES)
def test_a_document_is_downloaded_by_who_reads_the_agreement(roles, role, agree, partner_admin):
    agreement = agree()
    document = services.agreement_attach(
        actor=partner_admin,
        agreement=agreement,
        upload=pdf(content=b"%PDF-1.4 secret terms"),
        title="签字版",
    )
    response = client_for(roles[role]).get(
        f"{url('agreements', agreement)}documents/{document.pk}/"
    )

    if role in PARTIES:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        assert response["Content-Disposition"].startswith("attachment;")
        assert response["Cache-Control"] == "private, no-store"
        assert b"".join(response.streaming_content) == b"%PDF-1.4 secret terms"
    else:
        assert response.status_code == 404


def test_a_document_is_read_through_its_own_agreement_only(agree, partner_admin):
    first, second = agree(), agree(title_zh="第二份协议")
    document = services.agreement_attach(
        actor=partner_admin, agreement=first, upload=pdf(), title="签字版"
    )
    client = client_for(partner_admin)
    assert client.get(f"{url('agreements', second)}documents/{document.pk}/").status_code == 404
    assert client.get(f"{url('agreements', first)}documents/987654/").status_code == 404
