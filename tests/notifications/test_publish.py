"""``publish``: one notification per recipient in the caller's transaction, the mode each person
gets (their audience's default, the type's own defaults, their preference), delivery enqueued
on commit, and nothing at all when the caller's transaction rolls back or publishing fails."""

from __future__ import annotations

import datetime as dt
import decimal

import pytest
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from governance.notifications import registry, services
from governance.notifications.models import Delivery, Mode, Notification, Preference
from governance.stakeholders.models import Organisation
from governance.stakeholders.services import membership_grant
from tests.factories import PASSWORD, PartnerFactory, UserFactory
from tests.notifications.conftest import (
    AccountLocked,
    Broken,
    CaseAssigned,
    RuleChanged,
    ThingHappened,
    Unregistered,
)
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db


def modes(notifications) -> dict[int, str]:
    return {n.recipient_id: n.mode for n in notifications}


class Boom(Exception):
    pass


# Rows and modes ----------------------------------------------------------------------------------
def test_one_notification_per_recipient_with_the_payload_and_url(
    event_types, citizen, department_staff, partner_staff
):
    users = (citizen.pk, department_staff.pk, partner_staff.pk)
    notifications = services.publish(ThingHappened(user_ids=users, title="门禁维修"))
    assert len(notifications) == 3
    rows = Notification.objects.filter(event_type="tests.thing_happened")
    assert sorted(rows.values_list("recipient_id", flat=True)) == sorted(users)
    for row in rows:
        assert row.payload == {
            "user_ids": list(users),
            "title": "门禁维修",
            "when": None,
            "extra": None,
        }
        assert row.url == "/things/1/"
        assert row.read_at is None


def test_each_audience_gets_its_default_mode(event_types, citizen, department_staff, partner_staff):
    notifications = services.publish(
        ThingHappened(user_ids=(citizen.pk, department_staff.pk, partner_staff.pk))
    )
    assert modes(notifications) == {
        citizen.pk: Mode.IMMEDIATE,
        department_staff.pk: Mode.DAILY,
        partner_staff.pk: Mode.WEEKLY,
    }


def test_only_immediate_notifications_get_an_email_delivery(
    event_types, citizen, department_staff, partner_staff
):
    services.publish(ThingHappened(user_ids=(citizen.pk, department_staff.pk, partner_staff.pk)))
    deliveries = Delivery.objects.select_related("notification")
    assert [(d.notification.recipient_id, d.channel, d.state) for d in deliveries] == [
        (citizen.pk, "email", Delivery.State.PENDING)
    ]


def test_department_staff_get_assignments_at_once(
    event_types, citizen, department_staff, partner_staff
):
    notifications = services.publish(
        CaseAssigned(user_ids=(citizen.pk, department_staff.pk, partner_staff.pk))
    )
    assert modes(notifications) == {
        citizen.pk: Mode.IMMEDIATE,
        department_staff.pk: Mode.IMMEDIATE,
        partner_staff.pk: Mode.WEEKLY,
    }


def test_a_department_seat_outweighs_a_partner_seat(event_types, department, partner):
    both = UserFactory()
    membership_grant(actor=None, user=both, organisation=partner, role="staff")
    membership_grant(actor=None, user=both, organisation=department, role="staff")
    (notification,) = services.publish(ThingHappened(user_ids=(both.pk,)))
    assert notification.mode == Mode.DAILY


def test_a_seat_in_an_inactive_organisation_does_not_count(event_types, partner_staff, partner):
    Organisation.objects.filter(pk=partner.pk).update(is_active=False)
    (notification,) = services.publish(ThingHappened(user_ids=(partner_staff.pk,)))
    assert notification.mode == Mode.IMMEDIATE  # a citizen again


def test_a_preference_overrides_the_default(event_types, citizen, department_staff):
    event_type = event_types["tests.thing_happened"]
    services.preference_set(actor=citizen, event_type=event_type, mode=Mode.WEEKLY)
    services.preference_set(actor=department_staff, event_type=event_type, mode=Mode.IMMEDIATE)
    notifications = services.publish(ThingHappened(user_ids=(citizen.pk, department_staff.pk)))
    assert modes(notifications) == {citizen.pk: Mode.WEEKLY, department_staff.pk: Mode.IMMEDIATE}


def test_a_preference_for_another_type_changes_nothing(event_types, citizen):
    services.preference_set(
        actor=citizen, event_type=event_types["tests.case_assigned"], mode=Mode.OFF
    )
    (notification,) = services.publish(ThingHappened(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.IMMEDIATE


def test_off_keeps_the_inbox_item_but_sends_no_mail(event_types, citizen):
    services.preference_set(
        actor=citizen, event_type=event_types["tests.thing_happened"], mode=Mode.OFF
    )
    (notification,) = services.publish(ThingHappened(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.OFF
    assert Notification.objects.filter(recipient=citizen).count() == 1
    assert not Delivery.objects.exists()


def test_a_stored_off_the_audience_may_no_longer_choose_falls_back_to_the_default(
    event_types, citizen, department
):
    # Chosen as a citizen; since then the person took a department seat, where "off" is not
    # offered for this type.
    services.preference_set(
        actor=citizen, event_type=event_types["tests.rule_changed"], mode=Mode.OFF
    )
    membership_grant(actor=None, user=citizen, organisation=department, role="staff")
    (notification,) = services.publish(RuleChanged(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.DAILY


def test_off_is_refused_where_the_type_does_not_allow_it(event_types, department_staff):
    with pytest.raises(services.ModeNotAllowed) as refused:
        services.preference_set(
            actor=department_staff, event_type=event_types["tests.rule_changed"], mode=Mode.OFF
        )
    assert refused.value.allowed == [Mode.IMMEDIATE, Mode.DAILY, Mode.WEEKLY]
    assert not Preference.objects.exists()


def test_an_unknown_mode_is_refused(event_types, citizen):
    with pytest.raises(services.ModeNotAllowed, match="hourly"):
        services.preference_set(
            actor=citizen, event_type=event_types["tests.thing_happened"], mode="hourly"
        )


def test_a_security_notice_is_sent_at_once_to_every_audience(
    event_types, citizen, department_staff, partner_staff
):
    notifications = services.publish(
        AccountLocked(user_ids=(citizen.pk, department_staff.pk, partner_staff.pk))
    )
    assert set(modes(notifications).values()) == {Mode.IMMEDIATE}
    assert Delivery.objects.count() == 3


def test_a_security_notice_cannot_be_turned_off(event_types, citizen):
    for mode in (Mode.OFF, Mode.DAILY, Mode.WEEKLY):
        with pytest.raises(services.ModeNotAllowed):
            services.preference_set(
                actor=citizen, event_type=event_types["tests.account_locked"], mode=mode
            )
    # Even a row written behind the service's back is ignored.
    Preference.objects.create(user=citizen, event_type="tests.account_locked", mode=Mode.OFF)
    (notification,) = services.publish(AccountLocked(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.IMMEDIATE
    assert Delivery.objects.filter(notification=notification).exists()


# Who is told -------------------------------------------------------------------------------------
def test_the_actor_is_not_told_about_their_own_action(event_types, citizen, department_staff):
    notifications = services.publish(
        ThingHappened(user_ids=(citizen.pk, department_staff.pk)), actor=department_staff
    )
    assert [n.recipient_id for n in notifications] == [citizen.pk]


def test_a_type_that_does_not_skip_the_actor_tells_them_too(event_types, citizen):
    notifications = services.publish(AccountLocked(user_ids=(citizen.pk,)), actor=citizen)
    assert [n.recipient_id for n in notifications] == [citizen.pk]


def test_nobody_left_after_skipping_the_actor_writes_nothing(event_types, citizen):
    assert services.publish(ThingHappened(user_ids=(citizen.pk,)), actor=citizen) == []
    assert not Notification.objects.exists()


def test_inactive_users_are_skipped(event_types, citizen):
    gone = UserFactory(is_active=False)
    notifications = services.publish(ThingHappened(user_ids=(citizen.pk, gone.pk)))
    assert [n.recipient_id for n in notifications] == [citizen.pk]
    assert not Notification.objects.filter(recipient=gone).exists()


def test_a_recipient_named_twice_is_told_once(event_types, citizen):
    services.publish(ThingHappened(user_ids=(citizen.pk, citizen.pk)))
    assert Notification.objects.filter(recipient=citizen).count() == 1


def test_recipients_may_be_users_or_ids(event_types, citizen, department_staff):
    notifications = services.publish(CaseAssigned(user_ids=(citizen.pk, department_staff.pk)))
    assert {n.recipient_id for n in notifications} == {citizen.pk, department_staff.pk}


def test_membership_grant_tells_the_new_member(citizen, partner, partner_admin):
    membership_grant(actor=partner_admin, user=citizen, organisation=partner, role="staff")
    (notification,) = Notification.objects.filter(recipient=citizen)
    assert notification.event_type == "stakeholders.membership_granted"
    assert notification.payload["organisation_name_zh"] == "万象城"
    assert notification.payload["role"] == "staff"
    # Being given a seat is news one wants at once, even as a partner member.
    assert notification.mode == Mode.IMMEDIATE
    assert not Notification.objects.filter(recipient=partner_admin).exists()


def test_granting_the_same_seat_again_tells_nobody(citizen, partner):
    membership_grant(actor=None, user=citizen, organisation=partner, role="staff")
    membership_grant(actor=None, user=citizen, organisation=partner, role="staff")
    assert Notification.objects.filter(recipient=citizen).count() == 1


def test_adding_and_removing_totp_send_security_notices_to_the_owner(
    client, citizen, enqueued, django_capture_on_commit_callbacks
):
    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(timezone.now().timestamp()) // 30))
    # allauth announces a new authenticator once its transaction has committed.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": code})
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_deactivate_totp"), {})

    notices = Notification.objects.filter(recipient=citizen).order_by("pk")
    assert [(n.event_type, n.payload["change"], n.mode) for n in notices] == [
        ("stakeholders.two_factor_changed", "added", Mode.IMMEDIATE),
        ("stakeholders.two_factor_changed", "removed", Mode.IMMEDIATE),
    ]
    assert sorted(enqueued.delivery_ids) == sorted(
        Delivery.objects.filter(notification__recipient=citizen).values_list("pk", flat=True)
    )
    assert len(enqueued.delivery_ids) == 2


# Payload -----------------------------------------------------------------------------------------
def test_the_payload_is_stored_as_json(event_types, citizen):
    when = dt.datetime(2025, 3, 1, 9, 30, tzinfo=dt.UTC)
    services.publish(
        ThingHappened(user_ids=(citizen.pk,), when=when, extra=decimal.Decimal("1.50"))
    )
    notification = Notification.objects.get(recipient=citizen)
    assert notification.payload["when"] == "2025-03-01T09:30:00Z"
    assert notification.payload["extra"] == "1.50"


def in_a_transaction(*events):
    """The caller's change (a new organisation) and its events, in one transaction."""
    with transaction.atomic():
        PartnerFactory(slug="rolled-back")
        for event in events:
            services.publish(event)


def test_a_payload_that_is_not_json_fails_inside_the_callers_transaction(event_types, citizen):
    with pytest.raises(TypeError, match="not JSON serializable"):
        in_a_transaction(ThingHappened(user_ids=(citizen.pk,), extra=object()))
    assert not Organisation.objects.filter(slug="rolled-back").exists()
    assert not Notification.objects.exists()


# Transactions ------------------------------------------------------------------------------------
def test_delivery_is_enqueued_only_when_the_transaction_commits(
    event_types, citizen, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        services.publish(ThingHappened(user_ids=(citizen.pk,)))
        assert enqueued.deliveries == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert enqueued.delivery_ids == list(Delivery.objects.values_list("pk", flat=True))


def test_only_immediate_deliveries_are_enqueued(
    event_types, citizen, department_staff, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        services.publish(ThingHappened(user_ids=(citizen.pk, department_staff.pk)))
    (delivery,) = Delivery.objects.all()
    assert delivery.notification.recipient_id == citizen.pk
    assert enqueued.delivery_ids == [delivery.pk]


def test_digest_only_recipients_enqueue_nothing(
    event_types, department_staff, enqueued, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.publish(ThingHappened(user_ids=(department_staff.pk,)))
    assert callbacks == []
    assert enqueued.deliveries == []


def test_a_rolled_back_transaction_notifies_nobody(
    event_types, citizen, enqueued, django_capture_on_commit_callbacks
):
    def publish_then_fail():
        with transaction.atomic():
            services.publish(ThingHappened(user_ids=(citizen.pk,)))
            assert Notification.objects.count() == 1
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        publish_then_fail()
    assert callbacks == []
    assert enqueued.deliveries == []
    assert not Notification.objects.exists()
    assert not Delivery.objects.exists()


def test_a_rolled_back_membership_grant_notifies_nobody(
    citizen, partner, enqueued, django_capture_on_commit_callbacks
):
    def grant_then_fail():
        with transaction.atomic():
            membership_grant(actor=None, user=citizen, organisation=partner, role="staff")
            raise Boom

    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(Boom):
        grant_then_fail()
    assert callbacks == []
    assert enqueued.deliveries == []
    assert not citizen.memberships.exists()
    assert not Notification.objects.exists()


def test_an_unknown_event_type_fails_loudly_and_rolls_the_caller_back(event_types, citizen):
    with pytest.raises(registry.UnknownEventType, match="Unregistered"):
        in_a_transaction(Unregistered(user_id=citizen.pk))
    assert not Organisation.objects.filter(slug="rolled-back").exists()
    assert not Notification.objects.exists()


def test_a_failing_recipient_function_fails_loudly_naming_the_type(
    event_types, citizen, enqueued, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(registry.RecipientsFailed, match=r"tests\.broken") as failed,
    ):
        in_a_transaction(ThingHappened(user_ids=(citizen.pk,)), Broken(user_id=citizen.pk))
    assert isinstance(failed.value.__cause__, RuntimeError)
    assert "the directory is down" in str(failed.value)
    assert callbacks == []
    assert enqueued.deliveries == []
    assert not Organisation.objects.filter(slug="rolled-back").exists()
    assert not Notification.objects.exists()


# Cost --------------------------------------------------------------------------------------------
def test_publishing_runs_the_same_queries_for_few_or_many_recipients(event_types, department):
    users: list[int] = []

    def make_rows(n):
        for _ in range(n):
            users.append(UserFactory().pk)
        # A mix of audiences and preferences, so every branch is read.
        staff = UserFactory()
        membership_grant(actor=None, user=staff, organisation=department, role="staff")
        users.append(staff.pk)
        chooser = UserFactory()
        services.preference_set(
            actor=chooser, event_type=event_types["tests.thing_happened"], mode=Mode.WEEKLY
        )
        users.append(chooser.pk)

    class Published:
        status_code = 200

    def publish():
        services.publish(ThingHappened(user_ids=tuple(users)))
        return Published()

    assert_constant_queries(publish, make_rows, max_queries=8)
