"""The notifications admin: superusers only, read-only rows, filters by state, type and
recipient, and the resend action for failed deliveries (through the service, on commit)."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages
from django.utils import timezone

from governance.notifications.models import Delivery, Digest, Mode, Notification, Preference
from governance.notifications.models import Settings as NotificationSettings
from tests.factories import UserFactory
from tests.query_budget import assert_constant_queries
from tests.stations.test_admin import admin_url, changelist_rows

pytestmark = pytest.mark.django_db

MODELS = (Notification, Delivery, Digest, Preference, NotificationSettings)
STAFF_ROLES = (
    "department_admin",
    "department_staff",
    "department_viewer",
    "partner_admin",
    "partner_staff",
)


def tell(user, *, event_type="stakeholders.membership_granted", read=False) -> Notification:
    return Notification.objects.create(
        recipient=user,
        event_type=event_type,
        payload={"organisation_name_zh": "万象城", "organisation_name_en": "", "role": "staff"},
        mode=Mode.IMMEDIATE,
        read_at=timezone.now() if read else None,
    )


def delivery(user, state=Delivery.State.FAILED, **kwargs) -> Delivery:
    return Delivery.objects.create(
        notification=tell(user, **kwargs),
        channel="email",
        state=state,
        attempts=5 if state == Delivery.State.FAILED else 1,
        last_error="SMTPServerDisconnected: gone" if state == Delivery.State.FAILED else "",
    )


@pytest.fixture
def rows(citizen, department_staff):
    Digest.objects.create(
        recipient=department_staff, period="daily", period_start=timezone.localdate()
    )
    Preference.objects.create(
        user=citizen, event_type="stakeholders.membership_granted", mode="off"
    )
    NotificationSettings.objects.create(user=citizen, digests_enabled=False)
    return {
        "failed": delivery(citizen),
        "sent": delivery(citizen, state=Delivery.State.SENT),
        "pending": delivery(department_staff, state=Delivery.State.PENDING),
    }


# Who sees it -------------------------------------------------------------------------------------
def test_superusers_see_every_notifications_model(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    response = client.get("/admin/")
    listed = {
        app["app_label"]: {model["object_name"] for model in app["models"]}
        for app in response.context["app_list"]
    }
    assert listed["notifications"] == {m.__name__ for m in MODELS}
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 200, model


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_department_and_partner_staff_are_refused(request, mfa_client, rows, role):
    client = mfa_client(request.getfixturevalue(role))
    response = client.get("/admin/")
    assert "notifications" not in {app["app_label"] for app in response.context["app_list"]}
    assert client.get("/admin/notifications/").status_code in (403, 404)
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 403, model
    failed = rows["failed"]
    assert client.get(admin_url(Delivery, "change", failed.pk)).status_code == 403
    assert client.get(admin_url(Notification, "change", failed.notification_id)).status_code == 403


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_staff_cannot_resend(request, mfa_client, rows, enqueued, role):
    client = mfa_client(request.getfixturevalue(role))
    response = client.post(
        admin_url(Delivery, "changelist"),
        {"action": "resend", "_selected_action": [rows["failed"].pk]},
    )
    assert response.status_code == 403
    rows["failed"].refresh_from_db()
    assert rows["failed"].state == Delivery.State.FAILED


@pytest.mark.parametrize("role", STAFF_ROLES)
def test_group_permissions_do_not_open_it_to_staff(request, mfa_client, rows, role):
    from django.contrib.auth.models import Permission

    user = request.getfixturevalue(role)
    user.user_permissions.add(*Permission.objects.filter(content_type__app_label="notifications"))
    client = mfa_client(user)
    for model in MODELS:
        assert client.get(admin_url(model, "changelist")).status_code == 403, model


def test_citizens_are_refused_the_admin(mfa_client, citizen, rows):
    client = mfa_client(citizen)
    response = client.get(admin_url(Notification, "changelist"), follow=True)
    assert response.status_code == 403


# Read-only ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("model", MODELS)
def test_nobody_adds_or_deletes_rows_by_hand(mfa_client, superuser, rows, model):
    client = mfa_client(superuser)
    assert client.get(admin_url(model, "add")).status_code == 403
    row = model.objects.first()
    assert client.post(admin_url(model, "delete", row.pk), {"post": "yes"}).status_code == 403
    assert model.objects.filter(pk=row.pk).exists()


def test_a_delivery_page_is_read_only_for_superusers_too(mfa_client, superuser, rows):
    client = mfa_client(superuser)
    failed = rows["failed"]
    url = admin_url(Delivery, "change", failed.pk)
    response = client.get(url)
    assert response.status_code == 200
    assert "SMTPServerDisconnected" in response.content.decode()
    assert not response.context["has_change_permission"]
    assert client.post(url, {"state": "sent"}).status_code == 403
    failed.refresh_from_db()
    assert failed.state == Delivery.State.FAILED


def test_a_notification_page_shows_its_deliveries(mfa_client, superuser, rows):
    failed = rows["failed"]
    response = mfa_client(superuser).get(admin_url(Notification, "change", failed.notification_id))
    assert response.status_code == 200
    assert "SMTPServerDisconnected: gone" in response.content.decode()


# Filters -----------------------------------------------------------------------------------------
def test_deliveries_filter_by_state(mfa_client, superuser, rows):
    response = mfa_client(superuser).get(
        admin_url(Delivery, "changelist"), {"state__exact": "failed"}
    )
    assert changelist_rows(response) == [rows["failed"]]


def test_deliveries_filter_by_type(mfa_client, superuser, rows, citizen):
    other = delivery(citizen, event_type="stakeholders.two_factor_changed")
    response = mfa_client(superuser).get(
        admin_url(Delivery, "changelist"),
        {"notification__event_type": "stakeholders.two_factor_changed"},
    )
    assert changelist_rows(response) == [other]


def test_deliveries_filter_by_recipient(mfa_client, superuser, rows, department_staff):
    client = mfa_client(superuser)
    response = client.get(admin_url(Delivery, "changelist"), {"recipient": department_staff.pk})
    assert changelist_rows(response) == [rows["pending"]]
    # The recipient column links to that filter.
    listing = client.get(admin_url(Delivery, "changelist")).content.decode()
    assert f'href="?recipient={department_staff.pk}"' in listing


def test_notifications_filter_by_recipient_type_and_read(mfa_client, superuser, rows, citizen):
    client = mfa_client(superuser)
    read = tell(citizen, event_type="stakeholders.two_factor_changed", read=True)
    url = admin_url(Notification, "changelist")
    by_recipient = changelist_rows(client.get(url, {"recipient": citizen.pk}))
    assert {n.recipient_id for n in by_recipient} == {citizen.pk}
    assert len(by_recipient) == 3
    by_type = changelist_rows(client.get(url, {"event_type": "stakeholders.two_factor_changed"}))
    assert by_type == [read]
    unread = changelist_rows(client.get(url, {"read_at__isempty": "1"}))
    assert read not in unread
    assert len(unread) == 3


def test_digests_filter_by_state_and_recipient(mfa_client, superuser, rows, department_staff):
    client = mfa_client(superuser)
    url = admin_url(Digest, "changelist")
    assert len(changelist_rows(client.get(url, {"state__exact": "pending"}))) == 1
    assert changelist_rows(client.get(url, {"state__exact": "sent"})) == []
    assert len(changelist_rows(client.get(url, {"recipient": department_staff.pk}))) == 1


@pytest.mark.parametrize("value", ["abc", "-1", "999999", "1 OR 1=1", ""])
def test_a_bad_recipient_filter_does_not_break_the_list(mfa_client, superuser, rows, value):
    client = mfa_client(superuser)
    for model in (Notification, Delivery, Digest):
        response = client.get(admin_url(model, "changelist"), {"recipient": value})
        assert response.status_code in (200, 302), model


def test_the_delivery_list_runs_constant_queries(mfa_client, superuser):
    client = mfa_client(superuser)
    assert_constant_queries(
        lambda: client.get(admin_url(Delivery, "changelist")),
        lambda n: [delivery(UserFactory()) for _ in range(n)],
        check=lambda response, n: len(changelist_rows(response)) == n,
    )


def test_the_notification_list_runs_constant_queries(mfa_client, superuser):
    client = mfa_client(superuser)
    assert_constant_queries(
        lambda: client.get(admin_url(Notification, "changelist")),
        lambda n: [tell(UserFactory()) for _ in range(n)],
        check=lambda response, n: len(changelist_rows(response)) == n,
    )


# Resend ------------------------------------------------------------------------------------------
def test_resend_puts_a_failed_delivery_back_and_enqueues_it_on_commit(
    mfa_client, superuser, rows, enqueued, django_capture_on_commit_callbacks
):
    client = mfa_client(superuser)
    failed = rows["failed"]
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = client.post(
            admin_url(Delivery, "changelist"),
            {"action": "resend", "_selected_action": [failed.pk]},
        )
    assert response.status_code == 302
    failed.refresh_from_db()
    assert failed.state == Delivery.State.PENDING
    assert failed.attempts == 0
    assert failed.last_error == ""
    assert failed.next_attempt_at is None
    assert failed.enqueued_at is not None
    # Nothing reaches the broker until the admin's transaction commits.
    assert enqueued.deliveries == []
    for callback in callbacks:
        callback()
    assert enqueued.delivery_ids == [failed.pk]
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["已重新排队 1 条投递。"]


def test_resend_leaves_sent_and_pending_deliveries_alone(
    mfa_client, superuser, rows, enqueued, django_capture_on_commit_callbacks
):
    client = mfa_client(superuser)
    chosen = [rows["failed"].pk, rows["sent"].pk, rows["pending"].pk]
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            admin_url(Delivery, "changelist"), {"action": "resend", "_selected_action": chosen}
        )
    assert enqueued.delivery_ids == [rows["failed"].pk]
    rows["sent"].refresh_from_db()
    assert rows["sent"].state == Delivery.State.SENT
    assert rows["sent"].attempts == 1
    messages = [str(m) for m in get_messages(response.wsgi_request)]
    assert messages == ["已重新排队 1 条投递。", "2 条投递不是失败状态，未重新发送。"]


def test_resend_of_nothing_failed_enqueues_nothing(
    mfa_client, superuser, rows, enqueued, django_capture_on_commit_callbacks
):
    client = mfa_client(superuser)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            admin_url(Delivery, "changelist"),
            {"action": "resend", "_selected_action": [rows["sent"].pk]},
        )
    assert enqueued.deliveries == []
