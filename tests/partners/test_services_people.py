"""The people side through ``partners.services``: volunteer shifts (times checked, done or
missed only once started), training sessions and their attendance (recorded only once
started), invitations by e-mail (only the token's hash kept, the link sent by a task, accepted
only by the invited address and only while open), and members (a partner never loses its last
admin)."""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError

from governance.stakeholders.models import Membership
from governance.stakeholders.services import membership_grant
from partners import services, tasks
from partners.models import Attendance, Invitation, VolunteerShift
from tests.conftest import _member
from tests.factories import UserFactory
from tests.partners.conftest import at, fresh, frozen_at, refused
from tests.partners.fixtures_domain import *  # noqa: F403

pytestmark = pytest.mark.django_db


# Volunteer shifts ------------------------------------------------------------------------------
def test_a_shift_is_scheduled_with_its_hours(shift, monday, partner):
    made = shift(at(monday, 10))
    assert (made.partner, made.status, made.hours) == (partner, "scheduled", Decimal("4.00"))


def test_a_shift_ending_before_it_starts_or_longer_than_twelve_hours_is_refused(shift, monday):
    with pytest.raises(ValidationError) as caught:
        shift(at(monday, 10), ends_at=at(monday, 9))
    refused(caught.value, "ends_at", "ends_before_start")
    with pytest.raises(ValidationError) as caught:
        shift(at(monday, 8), ends_at=at(monday, 20, 1))
    refused(caught.value, "ends_at", "too_long")
    assert shift(at(monday, 8), ends_at=at(monday, 20)).hours == Decimal("12.00")


def test_a_shift_needs_a_station_a_volunteer_and_a_role(shift, monday):
    for field in ("station", "volunteer", "role"):
        with pytest.raises(ValidationError) as caught:
            shift(at(monday, 10), **{field: None if field == "station" else ""})
        assert field in caught.value.error_dict
    assert not VolunteerShift.objects.exists()


def test_the_same_volunteer_is_not_scheduled_twice_at_one_start(shift, monday):
    shift(at(monday, 10))
    with pytest.raises(ValidationError):
        shift(at(monday, 10))
    assert VolunteerShift.objects.count() == 1
    assert shift(at(monday, 10), volunteer="李志愿").volunteer == "李志愿"


@pytest.mark.parametrize(
    "role", ["department_staff", "other_partner_admin", "citizen", "department_admin"]
)
def test_only_the_partners_acting_members_schedule(request, shift, monday, role):
    with pytest.raises(PermissionDenied):
        shift(at(monday, 10), actor=request.getfixturevalue(role))


def test_a_shift_is_marked_done_only_once_it_has_started(shift, monday, partner_staff):
    made = shift(at(monday, 10))
    for status in ("done", "missed"):
        with pytest.raises(ValidationError) as caught:
            services.shift_update(actor=partner_staff, shift=made, data={"status": status})
        refused(caught.value, "status", "not_started")
    assert VolunteerShift.objects.get(pk=made.pk).status == "scheduled"
    with frozen_at(at(monday, 10)):
        done = services.shift_update(actor=partner_staff, shift=made, data={"status": "done"})
    assert done.status == "done"


def test_a_future_shift_may_be_cancelled(shift, monday, partner_admin):
    made = shift(at(monday, 10))
    cancelled = services.shift_update(actor=partner_admin, shift=made, data={"status": "cancelled"})
    assert cancelled.status == "cancelled"


def test_moving_a_shift_checks_its_times_again(shift, monday, partner_staff):
    made = shift(at(monday, 10))
    with pytest.raises(ValidationError) as caught:
        services.shift_update(actor=partner_staff, shift=made, data={"ends_at": at(monday, 9, 59)})
    refused(caught.value, "ends_at", "ends_before_start")
    moved = services.shift_update(
        actor=partner_staff,
        shift=made,
        data={"starts_at": at(monday, 14), "ends_at": at(monday, 18)},
    )
    assert (moved.starts_at, moved.hours) == (at(monday, 14), Decimal("4.00"))


def test_an_unknown_status_is_refused(shift, monday, partner_staff):
    with pytest.raises(ValidationError) as caught:
        services.shift_update(
            actor=partner_staff, shift=shift(at(monday, 10)), data={"status": "x"}
        )
    assert "status" in caught.value.error_dict


# Training ----------------------------------------------------------------------------------------
def test_a_partner_organises_a_training_session(training, monday, partner, partner_staff):
    session = training(at(monday, 14))
    assert (session.organiser, session.created_by, session.hours) == (
        partner,
        partner_staff,
        Decimal("2"),
    )


def test_a_department_organises_its_own_sessions(training, monday, department, department_staff):
    session = training(at(monday, 9), actor=department_staff, organiser=department)
    assert session.organiser == department


@pytest.mark.parametrize("role", ["department_staff", "department_viewer", "citizen"])
def test_a_session_is_organised_only_for_an_organisation_one_acts_for(
    request, training, monday, role
):
    with pytest.raises(PermissionDenied):
        training(at(monday, 9), actor=request.getfixturevalue(role))


@pytest.mark.parametrize("hours", ["0.4", "40.5", "0"])
def test_hours_outside_half_an_hour_to_forty_are_refused(training, monday, hours):
    with pytest.raises(ValidationError) as caught:
        training(at(monday, 9), hours=hours)
    assert "hours" in caught.value.error_dict


def test_the_organiser_updates_a_session(training, monday, partner_admin, department_staff):
    session = training(at(monday, 9))
    updated = services.training_update(
        actor=partner_admin, session=session, data={"trainer": "刘老师"}
    )
    assert updated.trainer == "刘老师"
    with pytest.raises(PermissionDenied):
        services.training_update(actor=department_staff, session=session, data={"trainer": "x"})


def test_attendance_is_recorded_only_once_the_session_has_started(
    training, monday, partner, department, partner_staff, partner_admin
):
    session = training(at(monday, 9))
    listed = services.attendance_record(
        actor=partner_staff,
        session=session,
        attendees=[
            {"name": "王志愿", "organisation": partner},
            {"name": "赵警官", "organisation": department},
        ],
    )
    assert [(a.name, a.attended) for a in listed] == [("王志愿", False), ("赵警官", False)]
    with pytest.raises(ValidationError) as caught:
        services.attendance_record(
            actor=partner_staff,
            session=session,
            attendees=[{"name": "王志愿", "organisation": partner, "attended": True}],
        )
    refused(caught.value, "attendees.0.attended", "not_started")
    assert Attendance.objects.filter(session=session).count() == 2
    with frozen_at(at(monday, 9, 30)):
        services.attendance_record(
            actor=partner_staff,
            session=session,
            attendees=[
                {
                    "name": "王志愿",
                    "organisation": partner,
                    "attended": True,
                    "user": partner_admin,
                },
                {"name": "赵警官", "organisation": department, "attended": False},
            ],
        )
    assert sorted(
        Attendance.objects.filter(session=session).values_list("name", "attended", "user")
    ) == [("王志愿", True, partner_admin.pk), ("赵警官", False, None)]


def test_the_attendance_list_replaces_the_one_before(training, monday, partner, partner_staff):
    session = training(at(monday, 9))
    services.attendance_record(
        actor=partner_staff, session=session, attendees=[{"name": "甲", "organisation": partner}]
    )
    services.attendance_record(
        actor=partner_staff, session=session, attendees=[{"name": "乙", "organisation": partner}]
    )
    assert list(session.attendances.values_list("name", flat=True)) == ["乙"]


def test_a_bad_attendance_list_is_refused_naming_the_entry(
    training, monday, partner, partner_staff
):
    session = training(at(monday, 9))
    with pytest.raises(ValidationError) as caught:
        services.attendance_record(
            actor=partner_staff,
            session=session,
            attendees=[
                {"name": "甲", "organisation": partner},
                {"name": "甲", "organisation": partner},
            ],
        )
    refused(caught.value, "attendees.1.name", "unique")
    with pytest.raises(ValidationError) as caught:
        services.attendance_record(actor=partner_staff, session=session, attendees=[{"name": "甲"}])
    refused(caught.value, "attendees.0.organisation", "required")
    with pytest.raises(ValidationError) as caught:
        services.attendance_record(
            actor=partner_staff, session=session, attendees=[{"name": " ", "organisation": partner}]
        )
    refused(caught.value, "attendees.0.name", "required")
    assert not Attendance.objects.exists()


def test_only_the_organiser_records_attendance(training, monday, partner, department_staff):
    session = training(at(monday, 9))
    with pytest.raises(PermissionDenied):
        services.attendance_record(
            actor=department_staff,
            session=session,
            attendees=[{"name": "甲", "organisation": partner}],
        )


# Invitations -------------------------------------------------------------------------------------
@pytest.fixture
def invite(partner, partner_admin, monkeypatch, django_capture_on_commit_callbacks):
    """``invite(email, role="staff")``: mall's admin invites someone; returns the invitation and
    its token, and keeps what the commit handed to the task in ``invite.sent``."""
    sent: list[tuple] = []
    monkeypatch.setattr(tasks.send_invitation, "delay", lambda *args: sent.append(args))

    def run(email: str, role: str = "staff", *, actor=None):
        with django_capture_on_commit_callbacks(execute=True):
            return services.invitation_send(
                actor=actor or partner_admin, organisation=partner, email=email, role=role
            )

    run.sent = sent
    return run


def test_an_invitation_keeps_only_the_tokens_hash(invite):
    invitation, token = invite("New.Staff@Example.com")
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    assert len(token) >= 32
    row = Invitation.objects.filter(pk=invitation.pk).values().get()
    assert token not in {str(value) for value in row.values()}
    assert invitation.email == "new.staff@example.com"
    assert invitation.expires_at - invitation.created_at == dt.timedelta(
        days=services.INVITATION_DAYS
    )


def test_the_invitation_email_is_sent_by_a_task_after_commit_with_the_link(invite, settings):
    settings.SITE_URL = "https://gongzhi.example.cn"
    invitation, token = invite("new.staff@example.com")
    assert invite.sent == [(invitation.pk, token)]
    assert mail.outbox == []  # not from the request: the worker sends it
    assert tasks.send_invitation.apply(args=invite.sent[0]).get() is True
    [message] = mail.outbox
    assert message.to == ["new.staff@example.com"]
    assert "万象城" in message.subject
    assert "https://gongzhi.example.cn/partners/" in message.body
    assert token in message.body


def test_nothing_is_sent_when_the_invitation_rolls_back(
    partner, partner_admin, monkeypatch, django_capture_on_commit_callbacks
):
    from django.db import transaction

    sent = []
    monkeypatch.setattr(tasks.send_invitation, "delay", lambda *args: sent.append(args))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                services.invitation_send(
                    actor=partner_admin, organisation=partner, email="x@example.com", role="staff"
                )
                raise RuntimeError("the page failed after the invitation")
        except RuntimeError:
            pass
    assert (callbacks, sent) == ([], [])
    assert not Invitation.objects.exists()


def test_a_new_invitation_to_the_same_address_replaces_the_open_one(invite):
    first, first_token = invite("new.staff@example.com")
    second, second_token = invite("NEW.staff@example.com", "admin")
    first.refresh_from_db()
    assert first.revoked_at is not None
    assert services.invitation_for_token(first_token) is None
    assert services.invitation_for_token(second_token) == second


def test_an_existing_member_is_not_invited(invite, partner_staff):
    with pytest.raises(ValidationError) as caught:
        invite(partner_staff.email.upper())
    refused(caught.value, "email", "already_member")


@pytest.mark.parametrize(
    ("email", "role", "field", "code"),
    [
        ("", "staff", "email", "required"),
        ("someone@example.com", "owner", "role", "invalid_choice"),
        ("not an address", "staff", "email", "invalid"),
    ],
)
def test_a_bad_invitation_is_refused_naming_the_field(invite, email, role, field, code):
    with pytest.raises(ValidationError) as caught:
        invite(email, role)
    refused(caught.value, field, code)
    assert not Invitation.objects.exists()


@pytest.mark.parametrize("role", ["partner_staff", "other_partner_admin", "department_admin"])
def test_only_the_partners_admins_invite(request, invite, role):
    with pytest.raises(PermissionDenied):
        invite("someone@example.com", actor=request.getfixturevalue(role))


def test_the_invited_address_accepts_and_takes_the_seat(invite, partner):
    invitation, token = invite("new.staff@example.com")
    newcomer = UserFactory(email="New.Staff@example.com")
    membership = services.invitation_accept(actor=newcomer, token=token)
    assert (membership.user, membership.organisation, membership.role) == (
        newcomer,
        partner,
        "staff",
    )
    invitation.refresh_from_db()
    assert (invitation.accepted_by, invitation.accepted_at is not None) == (newcomer, True)


def test_an_invitation_is_used_once(invite):
    _invitation, token = invite("new.staff@example.com")
    services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    with pytest.raises(ValidationError) as caught:
        services.invitation_accept(actor=UserFactory(email="new.staff@example.com2"), token=token)
    refused(caught.value, "token", "invalid_token")


def test_someone_else_cannot_accept_a_forwarded_link(invite, partner):
    _invitation, token = invite("new.staff@example.com")
    with pytest.raises(PermissionDenied):
        services.invitation_accept(actor=UserFactory(email="friend@example.com"), token=token)
    assert not Membership.objects.filter(organisation=partner, user__email="friend@example.com")
    assert services.invitation_for_token(token) is not None


def test_an_expired_invitation_is_refused(invite):
    invitation, token = invite("new.staff@example.com")
    with (
        frozen_at(invitation.expires_at + dt.timedelta(seconds=1)),
        pytest.raises(ValidationError) as caught,
    ):
        services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    refused(caught.value, "token", "invalid_token")


def test_a_revoked_invitation_is_refused(invite, partner_admin):
    invitation, token = invite("new.staff@example.com")
    services.invitation_revoke(actor=partner_admin, invitation=invitation)
    with pytest.raises(ValidationError) as caught:
        services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    refused(caught.value, "token", "invalid_token")


@pytest.mark.parametrize("token", ["", "short", "x" * 200, None, "y" * 43])
def test_a_made_up_token_is_refused(invite, token):
    invite("new.staff@example.com")
    with pytest.raises(ValidationError) as caught:
        services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    refused(caught.value, "token", "invalid_token")


def test_an_invitation_to_a_deactivated_partner_is_refused(invite, partner):
    _invitation, token = invite("new.staff@example.com")
    partner.is_active = False
    partner.save()
    with pytest.raises(ValidationError) as caught:
        services.invitation_accept(actor=UserFactory(email="new.staff@example.com"), token=token)
    refused(caught.value, "token", "invalid_token")


def test_only_the_partners_admins_revoke(invite, partner_staff):
    invitation, _token = invite("new.staff@example.com")
    with pytest.raises(PermissionDenied):
        services.invitation_revoke(actor=partner_staff, invitation=invitation)


def test_a_seat_taken_meanwhile_keeps_its_role(invite, partner, partner_admin):
    _invitation, token = invite("new.staff@example.com", "staff")
    newcomer = UserFactory(email="new.staff@example.com")
    membership_grant(actor=partner_admin, user=newcomer, organisation=partner, role="admin")
    assert services.invitation_accept(actor=newcomer, token=token).role == "admin"


def test_the_task_sends_nothing_for_a_revoked_or_accepted_invitation(invite, partner_admin):
    invitation, token = invite("new.staff@example.com")
    services.invitation_revoke(actor=partner_admin, invitation=invitation)
    assert tasks.send_invitation.apply(args=(invitation.pk, token)).get() is False
    assert mail.outbox == []


# Members -----------------------------------------------------------------------------------------
def seat(user, organisation) -> Membership:
    return Membership.objects.get(user=user, organisation=organisation)


def test_an_admin_changes_a_members_role(partner, partner_admin, partner_staff):
    changed = services.member_set_role(
        actor=partner_admin, membership=seat(partner_staff, partner), role="admin"
    )
    assert changed.role == "admin"
    assert seat(partner_staff, partner).role == "admin"


def test_the_last_admin_cannot_be_demoted_or_removed(partner, partner_admin, partner_staff):
    with pytest.raises(ValidationError) as caught:
        services.member_set_role(
            actor=partner_admin, membership=seat(partner_admin, partner), role="staff"
        )
    refused(caught.value, "role", "last_admin")
    with pytest.raises(ValidationError) as caught:
        services.member_remove(actor=partner_admin, membership=seat(partner_admin, partner))
    refused(caught.value, "role", "last_admin")
    assert seat(partner_admin, partner).role == "admin"


def test_with_a_second_admin_an_admin_may_step_down(partner, partner_admin):
    deputy = _member(partner, "admin", "deputy@example.com")
    services.member_set_role(
        actor=partner_admin, membership=seat(partner_admin, partner), role="viewer"
    )
    assert seat(partner_admin, partner).role == "viewer"
    with pytest.raises(ValidationError) as caught:
        services.member_remove(actor=deputy, membership=seat(deputy, partner))
    refused(caught.value, "role", "last_admin")


def test_an_admin_removes_a_member(partner, partner_admin, partner_staff):
    services.member_remove(actor=partner_admin, membership=seat(partner_staff, partner))
    assert not Membership.objects.filter(user=partner_staff, organisation=partner).exists()
    assert fresh(partner_staff).is_staff is False


@pytest.mark.parametrize("role", ["partner_staff", "other_partner_admin", "department_admin"])
def test_only_the_partners_admins_manage_members(request, partner, partner_staff, role):
    user = request.getfixturevalue(role)
    with pytest.raises(PermissionDenied):
        services.member_set_role(actor=user, membership=seat(partner_staff, partner), role="admin")
    with pytest.raises(PermissionDenied):
        services.member_remove(actor=user, membership=seat(partner_staff, partner))
    assert seat(partner_staff, partner).role == "staff"


def test_an_unknown_role_is_refused(partner, partner_admin, partner_staff):
    with pytest.raises(ValidationError) as caught:
        services.member_set_role(
            actor=partner_admin, membership=seat(partner_staff, partner), role="owner"
        )
    refused(caught.value, "role", "invalid_choice")
