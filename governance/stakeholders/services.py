"""Writes with business meaning for people, organisations and memberships."""

from __future__ import annotations

from django.conf import settings as django_settings
from django.db import transaction
from django.http import HttpRequest

from governance.notifications.services import publish
from governance.stakeholders.events import MembershipGranted
from governance.stakeholders.models import AuditEvent, Membership, Organisation, User
from governance.stakeholders.rules import forget_memberships


def client_ip(request: HttpRequest | None) -> str | None:
    """The client's address as the nearest trusted proxy saw it.

    With ``TRUSTED_PROXY_COUNT`` proxies in front, each appends the address it received from to
    X-Forwarded-For, so the entry that many places from the right is the client's; anything to
    its left was written by the client and proves nothing.
    """
    if request is None:
        return None
    proxies = django_settings.TRUSTED_PROXY_COUNT
    if proxies:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= proxies:
            return forwarded[-proxies]
    return request.META.get("REMOTE_ADDR") or None


def audit_record(
    *,
    action: str,
    actor: User | None = None,
    request: HttpRequest | None = None,
    identifier: str = "",
    detail: dict | None = None,
) -> AuditEvent:
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    event = AuditEvent(
        action=action,
        actor=actor,
        identifier=(identifier or (actor.email if actor else ""))[:254],
        ip_address=client_ip(request),
        user_agent=(request.META.get("HTTP_USER_AGENT", "") if request else "")[:300],
        path=(request.get_full_path() if request else "")[:300],
        detail=detail or {},
    )
    event.full_clean()
    event.save()
    return event


@transaction.atomic
def user_update_profile(
    *, actor: User, user: User, display_name: str, phone: str, language: str
) -> User:
    if actor.pk != user.pk and not actor.is_superuser:
        raise PermissionError("Only the user or a superuser may change this profile.")
    user.display_name = display_name
    user.phone = phone
    user.language = language
    user.full_clean(exclude=["password"])
    user.save(update_fields=["display_name", "phone", "language"])
    return user


@transaction.atomic
def user_set_language(*, actor: User, language: str) -> None:
    if actor.language == language:
        return
    actor.language = language
    # Only the field that changes is checked: an old row with, say, a phone number that today's
    # validator refuses must not stop someone from switching language.
    actor.clean_fields(exclude=[f.name for f in User._meta.fields if f.name != "language"])
    actor.save(update_fields=["language"])


def _sync_staff_flag(user: User, *, granted: bool) -> None:
    """Anyone with a seat in an organisation (viewers too, who read there) works in the admin.

    A grant only ever turns ``is_staff`` on; a revocation turns it off once the last seat is
    gone, unless the account is a superuser.
    """
    forget_memberships(user)
    if granted:
        is_staff = True
    else:
        has_seat = user.memberships.filter(organisation__is_active=True).exists()
        is_staff = has_seat or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])


@transaction.atomic
def membership_grant(
    *, actor: User | None, user: User, organisation: Organisation, role: str
) -> Membership:
    """Give ``user`` a seat in ``organisation`` (or change the role of the seat they have)."""
    membership = Membership.objects.filter(user=user, organisation=organisation).first()
    changed = True
    if membership is None:
        membership = Membership(user=user, organisation=organisation, role=role)
        membership.full_clean()
        membership.save()
    elif membership.role != role:
        membership.role = role
        membership.full_clean()
        membership.save(update_fields=["role", "updated_at"])
    else:
        changed = False
    _sync_staff_flag(user, granted=True)
    if changed:
        audit_record(
            action=AuditEvent.Action.MEMBERSHIP_GRANTED,
            actor=actor,
            identifier=user.email,
            detail={"organisation": organisation.slug, "role": role},
        )
        publish(
            MembershipGranted(
                membership_id=membership.pk,
                user_id=user.pk,
                organisation_id=organisation.pk,
                organisation_name_zh=organisation.name_zh,
                organisation_name_en=organisation.name_en,
                role=role,
            ),
            actor=actor,
        )
    return membership


@transaction.atomic
def membership_revoke(*, actor: User | None, membership: Membership) -> None:
    user = membership.user
    audit_record(
        action=AuditEvent.Action.MEMBERSHIP_REVOKED,
        actor=actor,
        identifier=user.email,
        detail={"organisation": membership.organisation.slug, "role": membership.role},
    )
    membership.delete()
    _sync_staff_flag(user, granted=False)
