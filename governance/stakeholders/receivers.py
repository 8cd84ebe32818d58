"""Audit of sign-ins, failed sign-ins, sign-outs, password and MFA changes.

These are records of what happened, not business side effects, so they hang on the signals
Django and allauth send for exactly this purpose.
"""

from __future__ import annotations

import logging

from allauth.account import signals as account_signals
from allauth.mfa import signals as mfa_signals
from django.contrib.auth import signals as auth_signals
from django.dispatch import receiver

from governance.notifications.services import publish
from governance.stakeholders.events import TwoFactorChanged
from governance.stakeholders.models import AuditEvent
from governance.stakeholders.services import audit_record

logger = logging.getLogger(__name__)


@receiver(auth_signals.user_logged_in, dispatch_uid="audit_login")
def _on_login(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.LOGIN, actor=user, request=request)


@receiver(auth_signals.user_logged_out, dispatch_uid="audit_logout")
def _on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditEvent.Action.LOGOUT, actor=user, request=request)


@receiver(auth_signals.user_login_failed, dispatch_uid="audit_login_failed")
def _on_login_failed(sender, credentials, request=None, **kwargs):
    identifier = str(credentials.get("email") or credentials.get("username") or "")
    audit_record(
        action=AuditEvent.Action.LOGIN_FAILED,
        request=request,
        identifier=identifier,
    )


@receiver(account_signals.password_changed, dispatch_uid="audit_password_changed")
@receiver(account_signals.password_set, dispatch_uid="audit_password_set")
def _on_password_changed(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.PASSWORD_CHANGED, actor=user, request=request)


@receiver(account_signals.password_reset, dispatch_uid="audit_password_reset")
def _on_password_reset(sender, request, user, **kwargs):
    audit_record(action=AuditEvent.Action.PASSWORD_RESET, actor=user, request=request)


def _tell_owner(user, change: str, authenticator) -> None:
    """A security notice to the account's owner: if it was not them, they should know now."""
    if getattr(authenticator, "type", "") != "totp":
        return
    # allauth sends this after the authenticator is saved and committed: failing here would
    # answer the person with an error for a change that did happen. Log loudly instead.
    try:
        publish(TwoFactorChanged(user_id=user.pk, change=change, authenticator_type="totp"))
    except Exception:
        logger.exception("could not publish the security notice for user %s", user.pk)


def _mfa_detail(authenticator) -> dict:
    return {"type": getattr(authenticator, "type", "")}


@receiver(mfa_signals.authenticator_added, dispatch_uid="audit_mfa_added")
def _on_mfa_added(sender, request, user, authenticator, **kwargs):
    audit_record(
        action=AuditEvent.Action.MFA_ADDED,
        actor=user,
        request=request,
        detail=_mfa_detail(authenticator),
    )
    _tell_owner(user, "added", authenticator)


@receiver(mfa_signals.authenticator_removed, dispatch_uid="audit_mfa_removed")
def _on_mfa_removed(sender, request, user, authenticator, **kwargs):
    audit_record(
        action=AuditEvent.Action.MFA_REMOVED,
        actor=user,
        request=request,
        detail=_mfa_detail(authenticator),
    )
    _tell_owner(user, "removed", authenticator)


@receiver(mfa_signals.authenticator_reset, dispatch_uid="audit_mfa_reset")
def _on_mfa_reset(sender, request, user, authenticator, **kwargs):
    audit_record(
        action=AuditEvent.Action.MFA_RESET,
        actor=user,
        request=request,
        detail=_mfa_detail(authenticator),
    )


@receiver(mfa_signals.authentication_failed, dispatch_uid="audit_mfa_failed")
def _on_mfa_failed(sender, request, user, authenticator, **kwargs):
    audit_record(
        action=AuditEvent.Action.MFA_FAILED,
        actor=user,
        request=request,
        detail=_mfa_detail(authenticator),
    )
