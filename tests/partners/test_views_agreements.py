"""The agreement pages: the list (each side's own, expired and soon-ending ones flagged,
constant queries), one agreement with its PDFs served only to the parties, drafting and
editing by either side's admins, and uploading (PDF only, 10 MB at most)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from partners import services
from partners.models import Agreement, AgreementDocument
from tests.partners.conftest import pdf, png
from tests.partners.fixtures_portal import *  # noqa: F403  (the fixtures)
from tests.partners.fixtures_portal import ROLES, next_year, sign_in, today
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

LIST = "/partners/agreements/"
NEW = "/partners/agreements/new/"
PARTIES = {
    "partner_staff",
    "partner_admin",
    "department_viewer",
    "department_staff",
    "department_admin",
    "superuser",
}
ADMINS = {"partner_admin", "department_admin", "superuser"}


def rows_of(response) -> list[int]:
    return [int(pk) for pk in re.findall(r'data-agreement="(\d+)"', response.content.decode())]


def row_html(response, agreement: Agreement) -> str:
    html = response.content.decode()
    start = html.index(f'data-agreement="{agreement.pk}"')
    return html[start : html.index("</tr>", start)]


def detail_url(agreement: Agreement) -> str:
    return reverse("partners:agreement", args=[agreement.pk])


def form_data(**overrides) -> dict:
    data = {
        "partner": "mall",
        "departments": ["hukou"],
        "title_zh": "志愿服务合作协议",
        "title_en": "",
        "scope_zh": "商场每周安排志愿者在服务站引导群众。",
        "scope_en": "",
        "starts_on": today().isoformat(),
        "ends_on": next_year().isoformat(),
        "status": "active",
    }
    data.update(overrides)
    return data


def test_url_names_match_the_contract():
    assert reverse("partners:agreements") == LIST
    assert reverse("partners:agreement_new") == NEW
    assert reverse("partners:agreement", args=[3]) == "/partners/agreements/3/"
    assert reverse("partners:agreement_edit", args=[3]) == "/partners/agreements/3/edit/"


# The list -----------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_list_shows_an_agreement_to_the_members_of_both_sides_only(
    request, client, role, make_agreement
):
    agreement = make_agreement()
    sign_in(client, request, role)
    response = client.get(LIST)
    if role == "anonymous":
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("account_login"))
        return
    if role == "citizen":
        assert response.status_code == 403
        return
    assert response.status_code == 200
    assert (agreement.pk in rows_of(response)) is (role in PARTIES)


def test_list_flags_expired_and_soon_ending_active_agreements(
    client, make_agreement, partner_admin
):
    expired = make_agreement(
        title_zh="已过期的协议",
        starts_on=today() - dt.timedelta(days=400),
        ends_on=today() - dt.timedelta(days=1),
    )
    soon = make_agreement(title_zh="快到期的协议", ends_on=today() + dt.timedelta(days=45))
    last_day = make_agreement(title_zh="今天到期的协议", ends_on=today())
    later = make_agreement(title_zh="长期协议", ends_on=today() + dt.timedelta(days=61))
    old_draft = make_agreement(
        title_zh="未生效的草案",
        status="draft",
        starts_on=today() - dt.timedelta(days=400),
        ends_on=today() - dt.timedelta(days=1),
    )
    client.force_login(partner_admin)
    response = client.get(LIST)
    assert "已过期" in row_html(response, expired)
    assert "60 天内到期" not in row_html(response, expired)
    assert "60 天内到期" in row_html(response, soon)
    assert "60 天内到期" in row_html(response, last_day)
    for quiet in (later, old_draft):
        assert "已过期" not in row_html(response, quiet)
        assert "60 天内到期" not in row_html(response, quiet)
    # The soonest end first: what needs renewing is on top.
    assert rows_of(response) == [expired.pk, old_draft.pk, last_day.pk, soon.pk, later.pk]


def test_list_filters_by_status(client, make_agreement, partner_admin):
    active = make_agreement()
    draft = make_agreement(status="draft", title_zh="草案")
    client.force_login(partner_admin)
    assert rows_of(client.get(f"{LIST}?status=draft")) == [draft.pk]
    assert rows_of(client.get(f"{LIST}?status=active")) == [active.pk]
    assert client.get(f"{LIST}?status=lost").status_code == 400


def test_list_runs_a_constant_number_of_queries(
    client,
    make_agreement,
    other_department,
    partner_admin,
    django_assert_max_num_queries,
    department,
):
    def make_rows(count):
        for number in range(count):
            agreement = make_agreement(
                title_zh=f"协议{number}", departments=[department, other_department]
            )
            services.agreement_attach(
                actor=partner_admin, agreement=agreement, upload=pdf(), title="签字版"
            )

    client.force_login(partner_admin)
    budget = assert_constant_queries(
        lambda: client.get(LIST),
        make_rows,
        small=3,
        large=25,
        check=lambda response, rows: "交通管理" in response.content.decode(),
    )
    with django_assert_max_num_queries(budget):
        assert len(rows_of(client.get(LIST))) == 25


# One agreement ------------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_detail_is_for_the_parties_and_only_admins_may_change_it(
    request, client, role, make_agreement
):
    agreement = make_agreement()
    sign_in(client, request, role)
    response = client.get(detail_url(agreement))
    if role == "anonymous":
        assert response.status_code == 302
        return
    assert response.status_code == (200 if role in PARTIES else 404)
    if role in PARTIES:
        html = response.content.decode()
        assert "商场提供场地" in html
        assert "户政管理" in html
        manage = reverse("partners:agreement_edit", args=[agreement.pk]) in html
        upload = reverse("partners:agreement_attach", args=[agreement.pk]) in html
        assert manage is upload is (role in ADMINS)


def test_documents_are_served_to_the_parties_only_never_from_a_public_url(
    client, make_agreement, partner_admin, department_viewer, other_partner_admin, settings
):
    agreement = make_agreement()
    document = services.agreement_attach(
        actor=partner_admin, agreement=agreement, upload=pdf(), title="签字版"
    )
    url = reverse("partners:agreement_document", args=[agreement.pk, document.pk])
    client.force_login(department_viewer)
    html = client.get(detail_url(agreement)).content.decode()
    assert f'href="{url}"' in html
    assert settings.MEDIA_URL not in html
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "no-store" in response["Cache-Control"]
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    client.force_login(other_partner_admin)
    assert client.get(url).status_code == 404
    client.logout()
    assert client.get(url).status_code == 302


def test_a_document_of_another_agreement_is_a_404(client, make_agreement, partner_admin):
    first, second = make_agreement(), make_agreement(title_zh="另一份")
    document = services.agreement_attach(
        actor=partner_admin, agreement=second, upload=pdf(), title="附件"
    )
    client.force_login(partner_admin)
    url = reverse("partners:agreement_document", args=[first.pk, document.pk])
    assert client.get(url).status_code == 404


# Drafting -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("anonymous", 302),
        ("citizen", 403),
        ("department_viewer", 403),
        ("department_staff", 403),
        ("partner_staff", 403),
        ("department_admin", 200),
        ("partner_admin", 200),
        ("other_partner_admin", 200),
        ("superuser", 200),
    ],
)
def test_only_admins_of_either_side_may_draft(request, client, role, status, other_partner):
    sign_in(client, request, role)
    response = client.get(NEW)
    assert response.status_code == status


def test_a_partner_admin_drafts_with_their_own_partner_and_a_department_admin_with_any(
    client, partner_admin, department_admin, other_partner
):
    client.force_login(partner_admin)
    choices = list(client.get(NEW).context["form"].fields["partner"].queryset)
    assert [partner.slug for partner in choices] == ["mall"]
    client.force_login(department_admin)
    choices = list(client.get(NEW).context["form"].fields["partner"].queryset)
    assert {partner.slug for partner in choices} == {"mall", "bank"}


def test_partner_admin_records_an_agreement(client, partner_admin, department, other_department):
    client.force_login(partner_admin)
    response = client.post(NEW, form_data(departments=["hukou", "traffic"], status="draft"))
    agreement = Agreement.objects.get()
    assert response.status_code == 302
    assert response["Location"] == detail_url(agreement)
    assert agreement.partner.slug == "mall"
    assert set(agreement.departments.values_list("slug", flat=True)) == {"hukou", "traffic"}
    assert (agreement.status, agreement.created_by) == ("draft", partner_admin)


def test_a_partner_admin_cannot_put_an_agreement_into_effect_alone(
    client, partner_admin, department
):
    client.force_login(partner_admin)
    response = client.post(NEW, form_data(status="active"))
    assert response.status_code == 403
    assert "只有合作部门的管理员才能使协议生效。" in response.content.decode()
    assert response.context["form"]["title_zh"].value() == "志愿服务合作协议"
    assert not Agreement.objects.exists()


def test_a_department_admin_records_an_agreement_in_effect(client, department_admin, partner):
    client.force_login(department_admin)
    response = client.post(NEW, form_data(status="active"))
    assert response.status_code == 302
    agreement = Agreement.objects.get()
    assert (agreement.status, agreement.created_by) == ("active", department_admin)


def test_a_department_admin_who_leaves_their_department_out_is_refused_on_the_form(
    client, department_admin, department, other_department, partner
):
    client.force_login(department_admin)
    response = client.post(NEW, form_data(departments=["traffic"]))
    assert response.status_code == 403
    assert "只有协议双方的管理员才能登记协议。" in response.content.decode()
    assert response.context["form"]["title_zh"].value() == "志愿服务合作协议"
    assert not Agreement.objects.exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"departments": []}, "departments"),
        ({"departments": ["mall"]}, "departments"),  # a partner is no department
        ({"partner": "bank"}, "partner"),  # not the admin's partner
        ({"title_zh": ""}, "title_zh"),
        ({"ends_on": "2000-01-01", "starts_on": "2001-01-01"}, "ends_on"),
        ({"status": "signed"}, "status"),
    ],
)
def test_bad_input_comes_back_on_the_form_with_400(
    client, partner_admin, department, other_partner, overrides, field
):
    client.force_login(partner_admin)
    response = client.post(NEW, form_data(**overrides))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert field in errors, errors
    assert not Agreement.objects.exists()


def test_admin_edits_an_agreement_and_its_departments(
    client, make_agreement, department_admin, other_department
):
    agreement = make_agreement(status="draft")
    url = reverse("partners:agreement_edit", args=[agreement.pk])
    client.force_login(department_admin)
    form = client.get(url).context["form"]
    assert form["title_zh"].value() == "警务服务站合作备忘录"
    assert "partner" not in form.fields
    new_end = today() + dt.timedelta(days=730)
    response = client.post(
        url,
        form_data(
            title_zh="警务服务站合作备忘录（续签）",
            departments=["hukou", "traffic"],
            ends_on=new_end.isoformat(),
            status="active",
        ),
    )
    assert response.status_code == 302
    agreement.refresh_from_db()
    assert agreement.title_zh == "警务服务站合作备忘录（续签）"
    assert agreement.ends_on == new_end
    assert agreement.status == "active"
    assert agreement.departments.count() == 2


def test_the_departments_of_an_agreement_in_effect_stay_as_signed(
    client, make_agreement, department_admin, other_department
):
    agreement = make_agreement()
    client.force_login(department_admin)
    response = client.post(
        reverse("partners:agreement_edit", args=[agreement.pk]),
        form_data(title_zh="改了部门", departments=["hukou", "traffic"]),
    )
    assert response.status_code == 409
    assert "协议生效后不能更改合作部门。" in response.content.decode()
    agreement.refresh_from_db()
    assert agreement.title_zh == "警务服务站合作备忘录"
    assert agreement.departments.count() == 1


@pytest.mark.parametrize(
    ("role", "status"),
    [
        ("partner_staff", 403),
        ("department_viewer", 403),
        ("department_staff", 403),
        ("other_partner_admin", 404),
        ("other_department_staff", 404),
        ("citizen", 404),
    ],
)
def test_editing_is_refused_to_non_admins_and_hidden_from_outsiders(
    request, client, role, status, make_agreement
):
    agreement = make_agreement()
    sign_in(client, request, role)
    url = reverse("partners:agreement_edit", args=[agreement.pk])
    assert client.get(url).status_code == status
    assert client.post(url, form_data(title_zh="改掉")).status_code == status
    agreement.refresh_from_db()
    assert agreement.title_zh == "警务服务站合作备忘录"


# Uploading ----------------------------------------------------------------------------------
def attach_url(agreement: Agreement) -> str:
    return reverse("partners:agreement_attach", args=[agreement.pk])


def test_admin_uploads_a_pdf_and_it_is_listed(client, make_agreement, partner_admin):
    agreement = make_agreement()
    client.force_login(partner_admin)
    response = client.post(
        attach_url(agreement), {"document-title": "签字盖章版", "document-file": pdf()}
    )
    assert response.status_code == 302
    document = AgreementDocument.objects.get()
    assert (document.agreement, document.title, document.uploaded_by) == (
        agreement,
        "签字盖章版",
        partner_admin,
    )
    assert "签字盖章版" in client.get(detail_url(agreement)).content.decode()


def test_a_file_that_is_no_pdf_is_a_form_error(client, make_agreement, partner_admin):
    agreement = make_agreement()
    client.force_login(partner_admin)
    fake = SimpleUploadedFile("agreement.pdf", b"<html>not a pdf</html>", "application/pdf")
    for upload in (png(), fake):
        response = client.post(
            attach_url(agreement), {"document-title": "扫描件", "document-file": upload}
        )
        assert response.status_code == 400
        assert "协议文件只能是 PDF。" in response.content.decode()
        assert "file" in response.context["document_form"].errors
    assert not AgreementDocument.objects.exists()


def test_a_pdf_over_ten_megabytes_is_a_413(client, make_agreement, partner_admin):
    agreement = make_agreement()
    client.force_login(partner_admin)
    big = SimpleUploadedFile(
        "big.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024), "application/pdf"
    )
    response = client.post(
        attach_url(agreement), {"document-title": "大文件", "document-file": big}
    )
    assert response.status_code == 413
    assert "附件不能超过 10 MB。" in response.content.decode()
    assert not AgreementDocument.objects.exists()


def test_an_upload_needs_a_title_and_a_file(client, make_agreement, partner_admin):
    agreement = make_agreement()
    client.force_login(partner_admin)
    response = client.post(attach_url(agreement), {"document-title": ""})
    assert response.status_code == 400
    errors = response.context["document_form"].errors
    assert set(errors) == {"title", "file"}


@pytest.mark.parametrize(
    ("role", "status"),
    [("partner_staff", 403), ("department_viewer", 403), ("other_partner_admin", 404)],
)
def test_uploading_is_for_admins_of_the_parties(request, client, role, status, make_agreement):
    agreement = make_agreement()
    sign_in(client, request, role)
    response = client.post(attach_url(agreement), {"document-title": "x", "document-file": pdf()})
    assert response.status_code == status
    assert not AgreementDocument.objects.exists()
