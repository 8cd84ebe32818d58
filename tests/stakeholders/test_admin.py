"""The admin's gates, and the stakeholders admin through the real admin site: organisations,
memberships (granted and revoked through the services), users and the audit log."""

from __future__ import annotations

import pytest
from django.urls import reverse

from governance.stakeholders import services
from governance.stakeholders.models import AuditEvent, Membership, Organisation, User
from tests.factories import MembershipFactory, UserFactory
from tests.stations.test_admin import (
    MISSING,
    admin_url,
    assert_refused,
    changelist_rows,
    form_data,
)


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Every role is a user with a password; the production hasher costs most of the run.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# Entering the admin ----------------------------------------------------------------------------
@pytest.mark.parametrize("path", ["/admin/", "/admin/stations/service/", "/admin/stakeholders/"])
def test_anonymous_visitor_is_sent_to_allauth_sign_in(client, path):
    response = client.get(path, follow=True)
    assert response.redirect_chain[-1] == (
        f"{reverse('account_login')}?next={path.replace('/', '%2F')}",
        302,
    )
    assert response.status_code == 200
    assert "admin" not in response.templates[0].name


@pytest.mark.parametrize("with_totp", [False, True])
def test_citizen_is_refused_the_admin(client, totp, citizen, with_totp):
    if with_totp:
        totp(citizen)
    client.force_login(citizen)
    response = client.get("/admin/", follow=True)
    assert response.status_code == 403
    assert AuditEvent.objects.filter(
        action=AuditEvent.Action.PERMISSION_DENIED, actor=citizen
    ).exists()
    assert client.get("/admin/stations/visit/", follow=True).status_code == 403


@pytest.mark.parametrize("role", ["superuser", "department_staff", "partner_admin"])
def test_staff_without_totp_are_sent_to_enrol(request, client, role):
    client.force_login(request.getfixturevalue(role))
    for path in ("/admin/", "/admin/stations/service/"):
        response = client.get(path, follow=True)
        assert (reverse("mfa_activate_totp"), 302) in response.redirect_chain
        assert not any(url.startswith("/admin/stations") for url, _ in response.redirect_chain[1:])


def test_deactivated_staff_are_signed_out_of_the_admin(client, totp, department_admin):
    totp(department_admin)
    client.force_login(department_admin)
    department_admin.is_active = False
    department_admin.save(update_fields=["is_active"])
    response = client.get("/admin/", follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("account_login"))


# What each role finds on the admin index --------------------------------------------------------
# Members of any organisation see their cases, and the categories, routing rules and SLA
# policies those cases follow, their organisation's Open311 apps and the services' Open311
# attributes; and the feedback their organisation received, its appeals and its deadlines.
CASES = {"Case", "Category", "RoutingRule", "SlaPolicy", "Open311Client", "ServiceAttribute"}
FEEDBACK = {"Feedback", "Appeal", "FeedbackPolicy"}
# And the proposals their organisation answers or made, what hangs on them, the categories.
PROPOSALS = {"Proposal", "Answer", "Result", "Comment", "Category"}
# A service's Open311 attributes are kept by its department.
PARTNER_CASES = CASES - {"ServiceAttribute"}
# What partners contribute, seen by every organisation (each list scoped to it); a partner's
# invitations by its admins only.
PARTNERS = {
    "Resource",
    "Booking",
    "Pledge",
    "Agreement",
    "VolunteerShift",
    "TrainingSession",
    "Invitation",
}
PARTNERS_READ = PARTNERS - {"Invitation"}
OURS = {
    "stakeholders": {"Organisation", "Membership", "User", "AuditEvent"},
    "stations": {"Station", "Service", "Visit"},
    "partners": PARTNERS,
}


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", OURS),
        (
            "department_admin",
            {
                "stakeholders": {"Organisation", "Membership"},
                "stations": {"Station", "Service", "Visit"},
                "cases": CASES,
                "feedback": FEEDBACK,
                "proposals": PROPOSALS,
                "partners": PARTNERS_READ,
            },
        ),
        (
            "department_staff",
            {
                "stakeholders": {"Organisation"},
                "stations": {"Station", "Service", "Visit"},
                "cases": CASES,
                "feedback": FEEDBACK,
                "proposals": PROPOSALS,
                "partners": PARTNERS_READ,
            },
        ),
        (
            "department_viewer",
            {
                "stakeholders": {"Organisation"},
                "stations": {"Station", "Service", "Visit"},
                "cases": CASES,
                "feedback": FEEDBACK,
                "proposals": PROPOSALS,
                "partners": PARTNERS_READ,
            },
        ),
        (
            "partner_admin",
            {
                "stakeholders": {"Organisation", "Membership"},
                "stations": {"Station"},
                "cases": PARTNER_CASES,
                "feedback": FEEDBACK,
                "proposals": PROPOSALS,
                "partners": PARTNERS,
            },
        ),
        (
            "partner_staff",
            {
                "stakeholders": {"Organisation"},
                "stations": {"Station"},
                "cases": PARTNER_CASES,
                "feedback": FEEDBACK,
                "proposals": PROPOSALS,
                "partners": PARTNERS_READ,
            },
        ),
    ],
)
def test_admin_index_lists_what_the_role_may_open(request, mfa_client, role, expected):
    response = mfa_client(request.getfixturevalue(role)).get("/admin/")
    assert response.status_code == 200
    listed = {
        app["app_label"]: {model["object_name"] for model in app["models"]}
        for app in response.context["app_list"]
    }
    if role == "superuser":
        for app_label, models in expected.items():
            assert listed[app_label] == models
    else:
        assert listed == expected


# Organisations ---------------------------------------------------------------------------------
@pytest.fixture
def organisations(department, other_department, partner, other_partner):
    return {
        "hukou": department,
        "traffic": other_department,
        "mall": partner,
        "bank": other_partner,
    }


@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"hukou", "traffic", "mall", "bank"}),
        ("department_admin", {"hukou"}),
        ("department_viewer", {"hukou"}),
        ("other_department_staff", {"traffic"}),
        ("partner_admin", {"mall"}),
        ("partner_staff", {"mall"}),
        ("other_partner_admin", {"bank"}),
    ],
)
def test_organisation_changelist_lists_only_the_users_organisations(
    request, mfa_client, organisations, role, expected
):
    response = mfa_client(request.getfixturevalue(role)).get(admin_url(Organisation, "changelist"))
    assert response.status_code == 200
    assert {organisation.slug for organisation in changelist_rows(response)} == expected


@pytest.mark.parametrize(
    ("role", "slug"), [("partner_admin", "mall"), ("department_admin", "hukou")]
)
def test_organisation_admin_changes_details_but_not_kind_slug_or_active(
    request, mfa_client, organisations, role, slug
):
    organisation = organisations[slug]
    client = mfa_client(request.getfixturevalue(role))
    url = admin_url(Organisation, "change", organisation.pk)
    data = form_data(client.get(url), "organisation")
    assert not {"kind", "slug", "is_active"} & set(data)
    data["contact_phone"] = ["028-84000000"]
    data["description_zh"] = ["一站式服务"]
    # A crafted form tries to change what the organisation is; those fields are not in the form.
    data.update({"kind": ["community"], "slug": ["renamed"], "is_active": []})
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    organisation.refresh_from_db()
    assert (organisation.contact_phone, organisation.description_zh) == (
        "028-84000000",
        "一站式服务",
    )
    assert (organisation.kind, organisation.slug, organisation.is_active) == (
        organisations[slug].kind,
        slug,
        True,
    )


@pytest.mark.parametrize("role", ["partner_staff", "department_viewer", "department_staff"])
def test_organisation_staff_see_it_but_neither_change_it_nor_see_its_members(
    request, mfa_client, organisations, partner_admin, department_admin, role
):
    user = request.getfixturevalue(role)
    organisation = user.memberships.get().organisation
    client = mfa_client(user)
    url = admin_url(Organisation, "change", organisation.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    page = response.content.decode()
    assert organisation.name_zh in page
    for admin in (partner_admin, department_admin):
        assert admin.email not in page
    assert response.context["inline_admin_formsets"] == []
    response = client.post(url, {"name_zh": "改名"})
    assert response.status_code == 403
    organisation.refresh_from_db()
    assert organisation.name_zh != "改名"


@pytest.mark.parametrize(("role", "post"), [("partner_admin", MISSING), ("partner_staff", 403)])
def test_another_organisation_is_refused(request, mfa_client, organisations, role, post):
    bank = organisations["bank"]
    client = mfa_client(request.getfixturevalue(role))
    url = admin_url(Organisation, "change", bank.pk)
    assert_refused(client.get(url), MISSING, "银行")
    assert_refused(client.post(url, {"name_zh": "改名", "name_en": "x"}), post, "银行")
    bank.refresh_from_db()
    assert bank.name_zh == "银行"


@pytest.mark.parametrize("role", ["partner_admin", "department_admin"])
def test_only_superusers_add_or_delete_organisations(request, mfa_client, organisations, role):
    user = request.getfixturevalue(role)
    organisation = user.memberships.get().organisation
    client = mfa_client(user)
    assert client.get(admin_url(Organisation, "add")).status_code == 403
    response = client.post(admin_url(Organisation, "delete", organisation.pk), {"post": "yes"})
    assert response.status_code == 403
    assert Organisation.objects.filter(pk=organisation.pk).exists()


def test_superuser_deactivates_an_organisation(mfa_client, superuser, organisations):
    bank = organisations["bank"]
    client = mfa_client(superuser)
    url = admin_url(Organisation, "change", bank.pk)
    data = form_data(client.get(url), "organisation")
    assert data["kind"] == ["partner"]
    data.pop("is_active", None)
    assert client.post(url, data).status_code == 302
    bank.refresh_from_db()
    assert not bank.is_active


# Memberships -----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("role", "expected"),
    [
        ("superuser", {"hukou", "mall"}),
        ("department_admin", {"hukou"}),
        ("partner_admin", {"mall"}),
    ],
)
def test_membership_changelist_lists_only_the_organisations_the_user_runs(
    request, mfa_client, department_staff, partner_staff, role, expected
):
    response = mfa_client(request.getfixturevalue(role)).get(admin_url(Membership, "changelist"))
    assert response.status_code == 200
    assert {m.organisation.slug for m in changelist_rows(response)} == expected


@pytest.mark.parametrize(
    "role", ["department_staff", "department_viewer", "partner_staff", "other_department_staff"]
)
def test_staff_and_viewers_cannot_open_memberships(request, mfa_client, partner_admin, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(Membership, "changelist")).status_code == 403
    assert client.get(admin_url(Membership, "add")).status_code == 403
    seat = partner_admin.memberships.get()
    assert_refused(client.get(admin_url(Membership, "change", seat.pk)), 403, partner_admin.email)


def test_partner_admin_adds_a_member_by_email_and_the_member_becomes_staff(
    mfa_client, partner_admin, partner, other_partner, citizen
):
    client = mfa_client(partner_admin)
    url = admin_url(Membership, "add")
    response = client.get(url)
    form = response.context["adminform"].form
    assert list(form.fields["organisation"].queryset) == [partner]
    # No user list to browse: the user is named by e-mail address.
    assert 'type="email"' in response.content.decode()
    assert citizen.email not in response.content.decode()

    response = client.post(
        url, {"user": "  Citizen@Example.com ", "organisation": partner.pk, "role": "staff"}
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    citizen.refresh_from_db()
    assert citizen.is_staff
    assert Membership.objects.get(user=citizen).organisation == partner


def test_partner_admin_cannot_add_members_elsewhere_or_unknown_people(
    mfa_client, partner_admin, other_partner, citizen
):
    client = mfa_client(partner_admin)
    url = admin_url(Membership, "add")
    response = client.post(
        url, {"user": citizen.email, "organisation": other_partner.pk, "role": "admin"}
    )
    assert response.status_code == 200
    assert "organisation" in response.context["adminform"].form.errors
    response = client.post(
        url, {"user": "nobody@example.com", "organisation": other_partner.pk, "role": "staff"}
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert (
        not Membership.objects.filter(organisation=other_partner)
        .exclude(user__email="other.partner@example.com")
        .exists()
    )
    citizen.refresh_from_db()
    assert not citizen.is_staff


def test_user_autocomplete_is_closed_to_organisation_admins(mfa_client, partner_admin, citizen):
    response = mfa_client(partner_admin).get(
        reverse("admin:autocomplete"),
        {
            "app_label": "stakeholders",
            "model_name": "membership",
            "field_name": "user",
            "term": "citizen",
        },
    )
    assert response.status_code == 403
    assert citizen.email not in response.content.decode()


def test_changing_a_seat_changes_its_role_only_and_keeps_is_staff_in_step(
    mfa_client, partner_admin, partner_staff, other_partner_admin
):
    seat = partner_staff.memberships.get()
    client = mfa_client(partner_admin)
    url = admin_url(Membership, "change", seat.pk)
    response = client.get(url)
    form = response.context["adminform"].form
    assert set(form.fields) == {"role"}
    response = client.post(
        url, {"role": "viewer", "user": other_partner_admin.email, "organisation": "1"}
    )
    assert response.status_code == 302
    seat.refresh_from_db()
    assert (seat.user, seat.role) == (partner_staff, Membership.Role.VIEWER)
    partner_staff.refresh_from_db()
    assert partner_staff.is_staff  # viewers read in the admin too (docs/permissions.md)


def test_deleting_a_seat_revokes_it_through_the_service(mfa_client, partner_admin, partner_staff):
    seat = partner_staff.memberships.get()
    client = mfa_client(partner_admin)
    response = client.post(admin_url(Membership, "delete", seat.pk), {"post": "yes"})
    assert response.status_code == 302
    assert not Membership.objects.filter(pk=seat.pk).exists()
    partner_staff.refresh_from_db()
    assert not partner_staff.is_staff


def test_bulk_delete_revokes_each_seat(mfa_client, partner_admin, partner_staff, partner):
    other = MembershipFactory(
        organisation=partner, user=UserFactory(email="extra@example.com", is_staff=True)
    )
    client = mfa_client(partner_admin)
    response = client.post(
        admin_url(Membership, "changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [partner_staff.memberships.get().pk, other.pk],
            "post": "yes",
        },
    )
    assert response.status_code == 302
    for user in (partner_staff, other.user):
        user.refresh_from_db()
        assert not user.is_staff
        assert not user.memberships.exists()


def test_another_organisations_seat_is_refused(mfa_client, partner_admin, other_partner_admin):
    seat = other_partner_admin.memberships.get()
    client = mfa_client(partner_admin)
    for view in ("change", "delete", "history"):
        assert_refused(client.get(admin_url(Membership, view, seat.pk)), MISSING, "other.partner")
    response = client.post(admin_url(Membership, "change", seat.pk), {"role": "viewer"})
    assert_refused(response, MISSING, "other.partner")
    response = client.post(admin_url(Membership, "delete", seat.pk), {"post": "yes"})
    assert_refused(response, MISSING, "other.partner")
    seat.refresh_from_db()
    assert seat.role == Membership.Role.ADMIN
    other_partner_admin.refresh_from_db()
    assert other_partner_admin.is_staff


def test_organisation_admin_manages_members_in_the_organisation_page(
    mfa_client, partner_admin, partner_staff, partner, citizen
):
    client = mfa_client(partner_admin)
    url = admin_url(Organisation, "change", partner.pk)
    response = client.get(url)
    assert partner_staff.email in response.content.decode()
    data = form_data(response, "organisation")
    prefix = next(key for key in data if key.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    total = int(data[f"{prefix}-TOTAL_FORMS"][0])
    rows = {
        data[f"{prefix}-{index}-user"][0]: index
        for index in range(total)
        if f"{prefix}-{index}-user" in data
    }
    assert set(rows) == {partner_admin.email, partner_staff.email}
    # Remove the staff member, and add the citizen as staff.
    data[f"{prefix}-{rows[partner_staff.email]}-DELETE"] = ["on"]
    data[f"{prefix}-{total}-user"] = [citizen.email]
    data[f"{prefix}-{total}-role"] = ["staff"]
    data[f"{prefix}-TOTAL_FORMS"] = [str(total + 1)]
    response = client.post(url, data)
    assert response.status_code == 302, response.context["inline_admin_formsets"][0].formset.errors

    citizen.refresh_from_db()
    partner_staff.refresh_from_db()
    assert citizen.is_staff
    assert citizen.memberships.get().organisation == partner
    assert not partner_staff.is_staff
    assert not partner_staff.memberships.exists()


def test_moving_a_seat_to_someone_else_in_the_organisation_page_revokes_the_old_holder(
    mfa_client, partner_admin, partner_staff, partner, citizen
):
    client = mfa_client(partner_admin)
    url = admin_url(Organisation, "change", partner.pk)
    data = form_data(client.get(url), "organisation")
    key = next(key for key, value in data.items() if value == [partner_staff.email])
    data[key] = [citizen.email]
    assert client.post(url, data).status_code == 302
    partner_staff.refresh_from_db()
    citizen.refresh_from_db()
    assert not partner_staff.is_staff
    assert not partner_staff.memberships.exists()
    assert citizen.is_staff
    assert citizen.memberships.get().organisation == partner


def test_superuser_grants_a_seat_from_the_user_page(mfa_client, superuser, citizen, partner):
    client = mfa_client(superuser)
    url = admin_url(User, "change", citizen.pk)
    data = form_data(client.get(url), "user")
    prefix = next(key for key in data if key.endswith("-TOTAL_FORMS")).removesuffix("-TOTAL_FORMS")
    total = int(data[f"{prefix}-TOTAL_FORMS"][0])
    data[f"{prefix}-{total}-organisation"] = [str(partner.pk)]
    data[f"{prefix}-{total}-role"] = ["admin"]
    data[f"{prefix}-TOTAL_FORMS"] = [str(total + 1)]
    data.pop("is_staff", None)  # the seat, not the checkbox, makes the account staff
    response = client.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    citizen.refresh_from_db()
    assert citizen.is_staff
    assert citizen.memberships.get().role == Membership.Role.ADMIN


# Users -----------------------------------------------------------------------------------------
def test_superuser_manages_users(mfa_client, superuser, citizen):
    client = mfa_client(superuser)
    response = client.get(admin_url(User, "changelist"), {"q": "citizen"})
    assert response.status_code == 200
    assert [user.email for user in changelist_rows(response)] == [citizen.email]
    assert client.get(admin_url(User, "change", citizen.pk)).status_code == 200


@pytest.mark.parametrize(
    "role", ["department_admin", "department_staff", "partner_admin", "other_partner_admin"]
)
def test_only_superusers_open_users(request, mfa_client, citizen, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(User, "changelist")).status_code == 403
    response = client.get(admin_url(User, "change", citizen.pk))
    assert_refused(response, 403, citizen.email)
    response = client.post(admin_url(User, "change", citizen.pk), {"email": citizen.email})
    assert response.status_code == 403
    assert client.get(admin_url(User, "add")).status_code == 403
    assert client.post(admin_url(User, "delete", citizen.pk), {"post": "yes"}).status_code == 403
    assert User.objects.filter(pk=citizen.pk).exists()


# Audit log -------------------------------------------------------------------------------------
@pytest.fixture
def audit_event(db):
    return services.audit_record(
        action=AuditEvent.Action.LOGIN_FAILED, identifier="intruder@example.com"
    )


def test_superuser_reads_the_audit_log(mfa_client, superuser, audit_event):
    client = mfa_client(superuser)
    url = admin_url(AuditEvent, "changelist")
    year = str(audit_event.at.year)
    for params in (
        {},
        {"q": "intruder"},
        {"action__exact": "login_failed"},
        {"at__year": year},
        {"at__year": year, "at__month": str(audit_event.at.month)},
    ):
        response = client.get(url, params)
        assert response.status_code == 200, params
        assert audit_event in changelist_rows(response), params
    # Nothing to act on in bulk: "delete selected" is not offered.
    assert "delete_selected" not in response.content.decode()


def test_audit_log_is_read_only_even_for_superusers(mfa_client, superuser, audit_event):
    client = mfa_client(superuser)
    url = admin_url(AuditEvent, "change", audit_event.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert not response.context["has_change_permission"]
    assert 'name="_save"' not in response.content.decode()
    assert client.post(url, {"identifier": "tampered"}).status_code == 403
    assert client.get(admin_url(AuditEvent, "add")).status_code == 403
    assert client.post(admin_url(AuditEvent, "add"), {"action": "login"}).status_code == 403
    response = client.post(admin_url(AuditEvent, "delete", audit_event.pk), {"post": "yes"})
    assert response.status_code == 403
    response = client.post(
        admin_url(AuditEvent, "changelist"),
        {"action": "delete_selected", "_selected_action": [audit_event.pk], "post": "yes"},
    )
    # Not an action this admin offers: the list is shown again, untouched.
    assert response.status_code == 200
    assert audit_event in changelist_rows(response)
    assert AuditEvent.objects.filter(pk=audit_event.pk, identifier="intruder@example.com").exists()


@pytest.mark.parametrize("role", ["department_admin", "partner_admin", "department_staff"])
def test_only_superusers_read_the_audit_log(request, mfa_client, audit_event, role):
    client = mfa_client(request.getfixturevalue(role))
    assert client.get(admin_url(AuditEvent, "changelist")).status_code == 403
    response = client.get(admin_url(AuditEvent, "change", audit_event.pk))
    assert_refused(response, 403, "intruder@example.com")
