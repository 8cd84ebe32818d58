"""Events the stakeholders app publishes (see governance.notifications)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MembershipGranted:
    """Someone was given a seat (or a new role) in an organisation."""

    membership_id: int
    user_id: int
    organisation_id: int
    organisation_name_zh: str
    organisation_name_en: str
    role: str


@dataclass(frozen=True)
class TwoFactorChanged:
    """A second factor was added to or removed from an account: a security notice."""

    user_id: int
    change: str  # "added" | "removed"
    authenticator_type: str
