"""Agreements through ``partners.services``: drafted and kept by the admins of either side, PDF
documents only, and the expiry reminders of ``agreements_remind``: 60 and 14 days before the
end, each once, to the admins of both sides; an agreement first seen inside 14 days gets the
nearer one only, and a new end date arms both again."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from governance.notifications.models import Notification
from partners import services
from partners.models import Agreement, AgreementDocument
from tests.conftest import _member
from tests.partners.conftest import fresh, notified, pdf, png, refused
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db


def today() -> dt.date:
    return timezone.localdate()


def expiring(agreement_fixture, days: int, **data) -> Agreement:
    return agreement_fixture(ends_on=today() + dt.timedelta(days=days), **data)


# Drafting and keeping ----------------------------------------------------------------------
@pytest.mark.parametrize("role", ["partner_admin", "department_admin", "superuser"])
def test_an_admin_of_either_side_records_a_draft(request, partner, department, role):
    user = request.getfixturevalue(role)
    made = services.agreement_create(
        actor=user,
        partner=partner,
        departments=[department],
        data={
            "title_zh": "停车位共享协议",
            "scope_zh": "商场为执勤车辆提供两个车位。",
            "starts_on": today(),
            "ends_on": today() + dt.timedelta(days=30),
        },
    )
    assert made.status == Agreement.Status.DRAFT
    assert list(made.departments.all()) == [department]
    assert made.created_by == user


@pytest.mark.parametrize(
    "role",
    [
        "partner_staff",
        "department_staff",
        "other_partner_admin",
        "other_department_staff",
        "citizen",
    ],
)
def test_staff_and_outsiders_do_not_record_an_agreement(request, agreement, role):
    with pytest.raises(PermissionDenied):
        agreement(actor=request.getfixturevalue(role), status="draft")
    assert not Agreement.objects.exists()


@pytest.mark.parametrize("role", ["department_admin", "superuser"])
def test_a_departments_admin_makes_it_take_effect(request, agreement, role):
    made = agreement(activator=request.getfixturevalue(role))
    assert Agreement.objects.get(pk=made.pk).status == Agreement.Status.ACTIVE


def test_the_partner_alone_does_not_make_it_take_effect(agreement, partner_admin, partner):
    with pytest.raises(PermissionDenied):
        agreement(activator=partner_admin)
    draft = Agreement.objects.get()
    assert draft.status == Agreement.Status.DRAFT
    with pytest.raises(PermissionDenied):
        services.agreement_create(
            actor=partner_admin,
            partner=partner,
            departments=list(draft.departments.all()),
            data={
                "title_zh": "直接生效",
                "scope_zh": "试图跳过部门确认。",
                "starts_on": today(),
                "ends_on": today() + dt.timedelta(days=30),
            },
            status=Agreement.Status.ACTIVE,
        )
    assert Agreement.objects.count() == 1


def test_a_department_admin_records_it_in_effect_at_once(partner, department, department_admin):
    made = services.agreement_create(
        actor=department_admin,
        partner=partner,
        departments=[department],
        data={
            "title_zh": "志愿服务协议",
            "scope_zh": "商场组织志愿者在站点值守。",
            "starts_on": today(),
            "ends_on": today() + dt.timedelta(days=90),
        },
        status=Agreement.Status.ACTIVE,
    )
    assert made.status == Agreement.Status.ACTIVE


@pytest.mark.parametrize(
    ("first", "then"),
    [("active", "draft"), ("terminated", "active"), ("terminated", "draft")],
)
def test_an_agreement_only_moves_forward(agreement, department_admin, first, then):
    made = agreement(status=first)
    with pytest.raises(ValidationError) as caught:
        services.agreement_update(actor=department_admin, agreement=made, data={}, status=then)
    assert caught.value.code == "not_draft"
    assert "not_draft" in services.CONFLICTS
    assert Agreement.objects.get(pk=made.pk).status == first


def test_the_parties_must_be_a_partner_and_active_departments(
    agreement, partner, other_partner, department
):
    with pytest.raises(ValidationError) as caught:
        agreement(departments=[])
    refused(caught.value, "departments", "required")
    with pytest.raises(ValidationError) as caught:
        agreement(departments=[other_partner])
    refused(caught.value, "departments", "not_department")
    with pytest.raises(ValidationError) as caught:
        agreement(partner=department, actor=fresh(_member(department, "admin", "a@example.com")))
    refused(caught.value, "partner", "not_partner")
    department.is_active = False
    department.save()
    with pytest.raises(ValidationError) as caught:
        agreement(departments=[department])
    refused(caught.value, "departments", "not_department")


def test_an_agreement_ending_before_it_starts_is_refused(agreement, department_admin):
    with pytest.raises(ValidationError) as caught:
        agreement(starts_on=today(), ends_on=today() - dt.timedelta(days=1))
    refused(caught.value, "ends_on", "invalid")
    assert not Agreement.objects.exists()
    made = agreement()
    with pytest.raises(ValidationError) as caught:
        services.agreement_update(
            actor=department_admin,
            agreement=made,
            data={"ends_on": made.starts_on - dt.timedelta(days=1)},
        )
    refused(caught.value, "ends_on", "invalid")


def test_a_title_and_a_scope_are_required(agreement):
    with pytest.raises(ValidationError) as caught:
        agreement(title_zh="")
    assert "title_zh" in caught.value.error_dict
    with pytest.raises(ValidationError) as caught:
        agreement(scope_zh="")
    assert "scope_zh" in caught.value.error_dict


def test_an_unknown_field_is_refused_by_name(agreement):
    with pytest.raises(ValidationError) as caught:
        agreement(reminded_60_at=timezone.now())
    refused(caught.value, "reminded_60_at", "unknown")


@pytest.mark.parametrize("role", ["partner_admin", "department_admin"])
def test_an_admin_of_either_side_updates_and_ends_it(request, agreement, role):
    made = agreement()
    updated = services.agreement_update(
        actor=request.getfixturevalue(role),
        agreement=made,
        data={"title_zh": "警务服务站合作备忘录（修订）"},
        status=Agreement.Status.TERMINATED,
    )
    updated.refresh_from_db()
    assert updated.title_zh == "警务服务站合作备忘录（修订）"
    assert updated.status == "terminated"


def test_the_departments_change_only_while_it_is_a_draft(
    agreement, partner_admin, department, other_department
):
    draft = agreement(status="draft")
    services.agreement_update(
        actor=partner_admin, agreement=draft, data={}, departments=[department, other_department]
    )
    assert set(draft.departments.all()) == {department, other_department}
    active = agreement()
    with pytest.raises(ValidationError) as caught:
        services.agreement_update(
            actor=partner_admin, agreement=active, data={}, departments=[other_department]
        )
    assert caught.value.code == "not_draft"
    assert list(active.departments.all()) == [department]


@pytest.mark.parametrize("role", ["partner_staff", "department_staff", "other_partner_admin"])
def test_staff_and_outsiders_do_not_update_it(request, agreement, role):
    made = agreement()
    with pytest.raises(PermissionDenied):
        services.agreement_update(
            actor=request.getfixturevalue(role), agreement=made, data={"title_zh": "改"}
        )


def test_a_department_admin_who_is_no_longer_a_party_cannot_update_it(
    agreement, department_admin, other_department
):
    made = agreement(status="draft")
    services.agreement_update(
        actor=department_admin, agreement=made, data={}, departments=[other_department]
    )
    with pytest.raises(PermissionDenied):
        services.agreement_update(
            actor=fresh(department_admin),
            agreement=Agreement.objects.get(pk=made.pk),
            data={"title_zh": "改"},
        )


def test_an_unknown_status_is_refused(agreement, partner_admin):
    with pytest.raises(ValidationError) as caught:
        services.agreement_update(
            actor=partner_admin, agreement=agreement(), data={}, status="signed"
        )
    refused(caught.value, "status", "invalid_choice")


# Documents -----------------------------------------------------------------------------------
def test_a_pdf_is_attached(agreement, department_admin, settings):
    made = agreement()
    document = services.agreement_attach(
        actor=department_admin, agreement=made, upload=pdf(), title="签署版"
    )
    assert (document.title, document.uploaded_by) == ("签署版", department_admin)
    assert document.size == len(pdf().read())
    assert document.file.name.startswith("partners/agreements/")
    with document.file.open("rb") as stored:
        assert stored.read().startswith(b"%PDF-")


@pytest.mark.parametrize(
    "upload",
    [
        lambda: png("scan.pdf"),
        lambda: SimpleUploadedFile("notes.pdf", b"just text, named .pdf", "application/pdf"),
        lambda: SimpleUploadedFile("x.html", b"<html>%PDF-</html>", "text/html"),
    ],
)
def test_anything_but_a_pdf_is_refused(agreement, partner_admin, upload):
    made = agreement()
    with pytest.raises(ValidationError) as caught:
        services.agreement_attach(
            actor=partner_admin, agreement=made, upload=upload(), title="扫描件"
        )
    refused(caught.value, "file", "unsupported_type")
    assert not AgreementDocument.objects.exists()


def test_an_empty_or_oversized_file_is_refused_naming_the_file(agreement, partner_admin):
    made = agreement()
    with pytest.raises(ValidationError) as caught:
        services.agreement_attach(
            actor=partner_admin,
            agreement=made,
            upload=SimpleUploadedFile("empty.pdf", b"", "application/pdf"),
            title="空文件",
        )
    refused(caught.value, "file", "empty")
    big = SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (10 * 1024 * 1024), "application/pdf")
    with pytest.raises(ValidationError) as caught:
        services.agreement_attach(actor=partner_admin, agreement=made, upload=big, title="大文件")
    refused(caught.value, "file", "too_large")
    assert not AgreementDocument.objects.exists()


def test_a_document_needs_a_title(agreement, partner_admin):
    with pytest.raises(ValidationError) as caught:
        services.agreement_attach(
            actor=partner_admin, agreement=agreement(), upload=pdf(), title=""
        )
    refused(caught.value, "title", "required")


def test_staff_do_not_attach_documents(agreement, partner_staff):
    with pytest.raises(PermissionDenied):
        services.agreement_attach(
            actor=partner_staff, agreement=agreement(), upload=pdf(), title="签署版"
        )


# Expiry reminders ----------------------------------------------------------------------------
def reminded(agreement: Agreement) -> set[int]:
    return {
        days
        for days in services.REMINDER_DAYS
        if Notification.objects.filter(
            event_type="partners.agreement_expiring",
            payload__agreement_id=agreement.pk,
            payload__days_left__lte=days,
        ).exists()
    }


def test_sixty_days_ahead_the_first_reminder_goes_out_once(agreement):
    made = expiring(agreement, 50)
    assert services.agreements_remind() == {"reminded_60": 1, "reminded_14": 0}
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 0}
    made.refresh_from_db()
    assert made.reminded_60_at is not None
    assert made.reminded_14_at is None
    days_left = Notification.objects.filter(event_type="partners.agreement_expiring").values_list(
        "payload__days_left", flat=True
    )
    assert set(days_left) == {50}


def test_fourteen_days_ahead_the_second_reminder_goes_out_once(agreement):
    made = expiring(agreement, 50)
    services.agreements_remind()
    later = today() + dt.timedelta(days=40)  # ten days left
    assert services.agreements_remind(today=later) == {"reminded_60": 0, "reminded_14": 1}
    assert services.agreements_remind(today=later) == {"reminded_60": 0, "reminded_14": 0}
    assert services.agreements_remind(today=later + dt.timedelta(days=5)) == {
        "reminded_60": 0,
        "reminded_14": 0,
    }
    made.refresh_from_db()
    assert made.reminded_14_at is not None
    told = Notification.objects.filter(
        event_type="partners.agreement_expiring", payload__agreement_id=made.pk
    )
    assert sorted(set(told.values_list("payload__days_left", flat=True))) == [10, 50]


def test_an_agreement_first_seen_inside_fourteen_days_gets_only_the_nearer_reminder(agreement):
    made = expiring(agreement, 10)
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 1}
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 0}
    made.refresh_from_db()
    assert made.reminded_14_at is not None
    assert made.reminded_60_at is not None  # never owed any more
    assert set(
        Notification.objects.filter(event_type="partners.agreement_expiring").values_list(
            "payload__days_left", flat=True
        )
    ) == {10}


def test_the_boundaries_sixty_and_fourteen_days_are_inside_their_windows(agreement):
    sixty, fourteen, far = expiring(agreement, 60), expiring(agreement, 14), expiring(agreement, 61)
    assert services.agreements_remind() == {"reminded_60": 1, "reminded_14": 1}
    sixty.refresh_from_db()
    fourteen.refresh_from_db()
    far.refresh_from_db()
    assert (sixty.reminded_60_at is not None, sixty.reminded_14_at) == (True, None)
    assert fourteen.reminded_14_at is not None
    assert (far.reminded_60_at, far.reminded_14_at) == (None, None)


def test_an_agreement_ending_today_is_reminded_and_an_ended_one_is_not(agreement):
    ends_today = expiring(agreement, 0)
    ended = expiring(agreement, -1, starts_on=today() - dt.timedelta(days=100))
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 1}
    ended.refresh_from_db()
    assert ended.reminded_14_at is None
    assert Notification.objects.filter(payload__agreement_id=ends_today.pk).exists()


@pytest.mark.parametrize("status", ["draft", "terminated"])
def test_only_active_agreements_are_reminded(agreement, status):
    expiring(agreement, 10, status=status)
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 0}
    assert not Notification.objects.filter(event_type="partners.agreement_expiring").exists()


def test_a_renewed_end_date_arms_both_reminders_again(agreement, partner_admin):
    made = expiring(agreement, 10)
    services.agreements_remind()
    services.agreement_update(
        actor=partner_admin, agreement=made, data={"ends_on": today() + dt.timedelta(days=45)}
    )
    made.refresh_from_db()
    assert (made.reminded_60_at, made.reminded_14_at) == (None, None)
    assert services.agreements_remind() == {"reminded_60": 1, "reminded_14": 0}
    later = today() + dt.timedelta(days=35)
    assert services.agreements_remind(today=later) == {"reminded_60": 0, "reminded_14": 1}


def test_an_update_that_keeps_the_end_date_keeps_the_reminders_sent(agreement, partner_admin):
    made = expiring(agreement, 10)
    services.agreements_remind()
    services.agreement_update(actor=partner_admin, agreement=made, data={"title_zh": "新标题"})
    assert services.agreements_remind() == {"reminded_60": 0, "reminded_14": 0}


def test_the_reminder_goes_to_the_admins_of_both_sides(
    agreement,
    department,
    other_department,
    partner_admin,
    partner_staff,
    department_admin,
    department_staff,
    department_viewer,
    other_partner_admin,
):
    traffic_admin = _member(other_department, "admin", "traffic.admin@example.com")
    made = expiring(agreement, 30, departments=[department, other_department])
    services.agreements_remind()
    assert notified("agreement_expiring", agreement_id=made.pk) == {
        partner_admin.pk,
        department_admin.pk,
        traffic_admin.pk,
    }


def test_the_sweep_takes_at_most_its_limit_and_the_rest_next_time(agreement):
    for _ in range(3):
        expiring(agreement, 30)
    assert services.agreements_remind(limit=2) == {"reminded_60": 2, "reminded_14": 0}
    assert services.agreements_remind(limit=2) == {"reminded_60": 1, "reminded_14": 0}
    assert reminded(Agreement.objects.first()) == {60}
