"""Who may read and act on feedback.

- The organisation a piece of feedback concerns (谁办理、谁负责) reads it in its inbox (any
  seat); its acting staff (admins and staff) see the contact details, reply in public and
  appeal a rating; its admins moderate (hide abusive text) and set its deadlines.
- An appeal is decided by someone in another role than the one who filed it, never by the same
  person: an organisation admin decides a staff member's appeal; an admin's appeal goes to the
  platform (superusers).
- The author of feedback reads their own; public pages show ratings without text or author.
"""

from __future__ import annotations

import rules

from feedback.models import Appeal, Feedback
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_member_of,
    is_superuser,
    memberships_of,
    organisation_ids,
    seat_in,
)

SUPERUSER = "superuser"


def staff_role(user, organisation_id: int | None) -> str:
    """The role ``user`` acts in for ``organisation_id``: their seat's, or ``superuser``."""
    seat = seat_in(user, organisation_id)
    if seat is not None:
        return seat.role
    return SUPERUSER if getattr(user, "is_superuser", False) else ""


def _org_id(obj) -> int | None:
    if isinstance(obj, Feedback):
        return obj.organisation_id
    if isinstance(obj, Appeal):
        return obj.feedback.organisation_id
    if isinstance(obj, Organisation):
        return obj.pk
    return None


@rules.predicate
def sits_in_feedback_organisation(user, obj=None) -> bool:
    if obj is None:
        return bool(memberships_of(user))
    org_id = _org_id(obj)
    return org_id is not None and seat_in(user, org_id) is not None


@rules.predicate
def acts_for_feedback_organisation(user, obj=None) -> bool:
    if obj is None:
        return bool(organisation_ids(user, roles=ACTING_ROLES))
    seat = seat_in(user, _org_id(obj))
    return seat is not None and seat.role in ACTING_ROLES


@rules.predicate
def admin_of_feedback_organisation(user, obj=None) -> bool:
    if obj is None:
        return bool(organisation_ids(user, roles={Membership.Role.ADMIN}))
    seat = seat_in(user, _org_id(obj))
    return seat is not None and seat.role == Membership.Role.ADMIN


@rules.predicate
def is_author(user, feedback=None) -> bool:
    return (
        isinstance(feedback, Feedback)
        and feedback.user_id is not None
        and getattr(user, "is_authenticated", False)
        and feedback.user_id == user.pk
    )


@rules.predicate
def may_decide(user, appeal=None) -> bool:
    """Another person, in another role: an organisation admin decides a staff member's appeal;
    an admin's appeal (or a superuser's) is the platform's to decide."""
    if not isinstance(appeal, Appeal) or not getattr(user, "is_authenticated", False):
        return False
    if appeal.filed_by_id == user.pk:
        return False
    if is_superuser(user):
        return True
    return appeal.filed_role == Membership.Role.STAFF and admin_of_feedback_organisation(
        user, appeal
    )


rules.add_perm("feedback", is_superuser | is_member_of)
rules.add_perm("feedback.view_feedback", is_superuser | is_author | sits_in_feedback_organisation)
rules.add_perm("feedback.view_feedback_contact", is_superuser | acts_for_feedback_organisation)
rules.add_perm("feedback.reply_feedback", is_superuser | acts_for_feedback_organisation)
rules.add_perm("feedback.appeal_feedback", acts_for_feedback_organisation)
rules.add_perm("feedback.moderate_feedback", is_superuser | admin_of_feedback_organisation)
rules.add_perm("feedback.decide_appeal", may_decide)
rules.add_perm("feedback.view_appeal", is_superuser | sits_in_feedback_organisation)
rules.add_perm("feedback.set_policy", is_superuser | admin_of_feedback_organisation)
# The admin shows feedback and appeals; every change goes through the services.
for _model in ("feedback", "appeal"):
    rules.add_perm(f"feedback.add_{_model}", rules.always_deny)
    rules.add_perm(f"feedback.change_{_model}", rules.always_deny)
    rules.add_perm(f"feedback.delete_{_model}", rules.always_deny)
rules.add_perm("feedback.view_feedbackpolicy", is_superuser | is_member_of)
rules.add_perm("feedback.add_feedbackpolicy", is_superuser)
rules.add_perm("feedback.change_feedbackpolicy", is_superuser)
rules.add_perm("feedback.delete_feedbackpolicy", is_superuser)
