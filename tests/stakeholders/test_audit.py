"""The audit log: who, what, when, from where; append-only."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from django.urls import reverse

from governance.stakeholders.models import AuditEvent
from governance.stakeholders.services import audit_record
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def actions():
    return list(AuditEvent.objects.order_by("at", "pk").values_list("action", flat=True))


def test_sign_in_and_sign_out_are_recorded_with_address_and_browser(client, citizen):
    client.post(
        reverse("account_login"),
        {"login": citizen.email, "password": PASSWORD},
        REMOTE_ADDR="203.0.113.9",
        HTTP_USER_AGENT="Mozilla/5.0 (iPhone)",
    )
    client.post(reverse("account_logout"))

    assert actions() == ["login", "logout"]
    login = AuditEvent.objects.get(action="login")
    assert login.actor == citizen
    assert login.identifier == citizen.email
    assert login.ip_address == "203.0.113.9"
    assert login.user_agent == "Mozilla/5.0 (iPhone)"
    assert login.path.startswith(reverse("account_login"))


def test_failed_sign_in_is_recorded_with_the_identifier_tried(client, citizen):
    client.post(reverse("account_login"), {"login": citizen.email, "password": "nope"})
    client.post(reverse("account_login"), {"login": "ghost@example.com", "password": "nope"})

    failed = AuditEvent.objects.filter(action="login_failed").order_by("pk")
    assert [event.identifier for event in failed] == [citizen.email, "ghost@example.com"]
    assert all(event.actor is None for event in failed)


def test_totp_enrolment_and_removal_are_recorded(
    client, department_staff, django_capture_on_commit_callbacks
):
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    client.post(reverse("account_login"), {"login": department_staff.email, "password": PASSWORD})
    client.post(reverse("account_reauthenticate"), {"password": PASSWORD})
    secret = client.get(reverse("mfa_activate_totp")).context["form"].secret
    code = format_hotp_value(hotp_value(secret, int(time.time()) // 30))
    # allauth announces a new authenticator once its transaction has committed.
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("mfa_activate_totp"), {"code": code})
    client.post(reverse("mfa_deactivate_totp"), {})

    recorded = AuditEvent.objects.filter(action__startswith="mfa_", actor=department_staff)
    assert set(recorded.values_list("action", "detail__type")) >= {
        ("mfa_added", "totp"),
        ("mfa_removed", "totp"),
    }


def test_refused_permission_is_recorded(client, citizen):
    client.force_login(citizen)

    response = client.get("/admin/login/?next=/admin/")

    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == citizen
    assert event.path == "/admin/login/?next=/admin/"


def test_audit_rows_cannot_be_changed_or_deleted_through_the_model(citizen):
    event = audit_record(action=AuditEvent.Action.LOGIN, actor=citizen)

    event.identifier = "someone-else@example.com"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_database_refuses_updates_and_deletes_of_audit_rows(citizen, require_postgres):
    event = audit_record(action=AuditEvent.Action.LOGIN, actor=citizen)

    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(identifier="forged@example.com")
    with pytest.raises(DatabaseError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM stakeholders_auditevent")

    assert AuditEvent.objects.get(pk=event.pk).identifier == citizen.email


def test_deleting_a_user_keeps_their_audit_rows(citizen):
    audit_record(action=AuditEvent.Action.LOGIN, actor=citizen)

    citizen.delete()

    event = AuditEvent.objects.get()
    assert event.actor is None
    assert event.identifier == "citizen@example.com"


def test_audit_log_is_read_only_in_the_admin_even_for_superusers(mfa_client, superuser):
    client = mfa_client(superuser)
    event = audit_record(action=AuditEvent.Action.LOGIN, actor=superuser)

    assert client.get(reverse("admin:stakeholders_auditevent_changelist")).status_code == 200
    assert client.get(reverse("admin:stakeholders_auditevent_add")).status_code == 403
    assert (
        client.post(
            reverse("admin:stakeholders_auditevent_delete", args=[event.pk]), {"post": "yes"}
        )
    ).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_api_permission_denied_is_audited_with_the_path(rf, citizen):
    from rest_framework import exceptions

    from governance.core.api import exception_handler

    request = rf.get("/api/v1/notifications/1/")
    request.user = citizen
    response = exception_handler(exceptions.PermissionDenied("no"), {"request": request})

    assert response.status_code == 403
    event = AuditEvent.objects.get(action="permission_denied")
    assert event.actor == citizen
    assert event.path == "/api/v1/notifications/1/"
    assert event.detail["api"] is True
