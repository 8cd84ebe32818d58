"""Who may do what with proposals.

- Anyone reads a published proposal; a draft is its author's alone.
- Its author edits it as a draft and for 30 minutes after publishing (before any answer),
  then may only withdraw it (while it is open or under evaluation).
- People support and comment, signed in; organisations never support (a support is a
  person's). Supports are taken while the proposal is open or under evaluation, comments
  until it is withdrawn.
- The responsible department's acting staff (admins and staff, not viewers) answer it
  officially and run its implementation: milestones and the cases they open for it. Nobody
  else answers, not even a superuser: an answer is the department's word.
- Moderators hide comments with a reason: the responsible organisation's acting staff, the
  platform's triage desk and superusers. The triage desk and superusers also hand a proposal
  to another responsible organisation.
- In the admin, the people (any role) of the answering organisation and of the organisation
  that made a proposal read its records, the triage desk all of them, superusers everything;
  nobody changes them there. Categories are the platform's: superusers keep them.
"""

from __future__ import annotations

import rules

from governance.cases.routing import triage_slug
from governance.cases.rules import signed_in
from governance.core import clock
from governance.proposals.models import (
    OPEN_FOR_COMMENTS,
    OPEN_FOR_SUPPORT,
    Answer,
    Comment,
    Proposal,
    Status,
)
from governance.stakeholders.models import Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_member_of,
    is_superuser,
    memberships_of,
    seat_in,
)


def _proposal(obj) -> Proposal | None:
    """The proposal ``obj`` belongs to: itself, or the one its ``proposal``, ``comment`` or
    ``result`` leads to (a version, an answer, a vote, a milestone…); None for anything else."""
    for _step in range(3):
        if obj is None or isinstance(obj, Proposal):
            return obj
        if isinstance(obj, Comment):
            return obj.proposal
        for attribute in ("proposal", "comment", "result"):
            if hasattr(type(obj), attribute):
                obj = getattr(obj, attribute)
                break
        else:
            return None
    return obj if isinstance(obj, Proposal) else None


def triage_id() -> int | None:
    return (
        Organisation.objects.filter(slug=triage_slug(), is_active=True)
        .values_list("pk", flat=True)
        .first()
    )


@rules.predicate
def is_signed_in(user) -> bool:
    return signed_in(user)


@rules.predicate
def is_author(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and signed_in(user) and proposal.author_id == user.pk


@rules.predicate
def is_public(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and proposal.status != Status.DRAFT


@rules.predicate
def acts_for_responsible(user, obj=None) -> bool:
    """An admin's or staff member's seat in the responsible organisation (with no proposal:
    such a seat anywhere)."""
    if not signed_in(user):
        return False
    proposal = _proposal(obj)
    if proposal is None:
        return any(seat.role in ACTING_ROLES for seat in memberships_of(user).values())
    seat = seat_in(user, proposal.responsible_id)
    return seat is not None and seat.role in ACTING_ROLES


@rules.predicate
def acts_for_triage(user, obj=None) -> bool:
    if not signed_in(user):
        return False
    seat = seat_in(user, triage_id())
    return seat is not None and seat.role in ACTING_ROLES


@rules.predicate
def asks_about_any(user, obj=None) -> bool:
    """No object: "may the user do this to some proposal?", as the admin asks before it lists
    what its queryset scopes."""
    return obj is None


@rules.predicate
def has_a_seat(user) -> bool:
    return bool(memberships_of(user))


@rules.predicate
def in_proposal_organisation(user, obj=None) -> bool:
    """A seat (any role) in the organisation that answers the proposal or in the one that made
    it; with no object, a seat anywhere. A draft answer is its department's alone."""
    if obj is None:
        return has_a_seat(user)
    if isinstance(obj, Answer) and obj.published_at is None:
        return seat_in(user, obj.organisation_id) is not None
    proposal = _proposal(obj)
    if proposal is None:
        return False
    return any(
        seat_in(user, organisation_id) is not None
        for organisation_id in (proposal.responsible_id, proposal.on_behalf_of_id)
        if organisation_id is not None
    )


@rules.predicate
def is_editable(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and proposal.editable_now(clock.now())


@rules.predicate
def is_withdrawable(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and proposal.status in (Status.PUBLISHED, Status.EVALUATING)


@rules.predicate
def takes_supports(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and proposal.status in OPEN_FOR_SUPPORT


@rules.predicate
def takes_comments(user, obj=None) -> bool:
    proposal = _proposal(obj)
    return proposal is not None and proposal.status in OPEN_FOR_COMMENTS


MODERATORS = is_superuser | acts_for_responsible | acts_for_triage

rules.add_perm(
    # A draft is its author's alone: no superuser clause (the admin lists drafts to nobody).
    "proposals.view_proposal",
    is_public | is_author | (asks_about_any & (has_a_seat | is_superuser)),
)
rules.add_perm("proposals.edit_proposal", is_author & is_editable)
rules.add_perm("proposals.withdraw_proposal", is_author & is_withdrawable)
rules.add_perm("proposals.support_proposal", is_signed_in & takes_supports)
rules.add_perm("proposals.comment_proposal", is_signed_in & is_public & takes_comments)
rules.add_perm("proposals.follow_proposal", is_signed_in & is_public)
rules.add_perm("proposals.answer_proposal", acts_for_responsible)
rules.add_perm("proposals.manage_result", acts_for_responsible)
rules.add_perm("proposals.moderate_proposal", MODERATORS)
rules.add_perm("proposals.route_proposal", is_superuser | acts_for_triage)

# The admin: the people of the organisations a proposal concerns read its records (and the
# triage desk all of them); every change goes through the services (and the pages).
ADMIN_READERS = (asks_about_any | is_public) & (
    is_superuser | in_proposal_organisation | acts_for_triage
)
rules.add_perm("proposals", is_superuser | is_member_of)
for _model in ("proposal",):
    rules.add_perm(f"proposals.add_{_model}", rules.always_deny)
    rules.add_perm(f"proposals.change_{_model}", rules.always_deny)
    rules.add_perm(f"proposals.delete_{_model}", rules.always_deny)
for _model in (
    "proposalversion",
    "attachment",
    "support",
    "follow",
    "comment",
    "commentvote",
    "commentflag",
    "answer",
    "result",
    "milestone",
    "resultcase",
):
    rules.add_perm(f"proposals.view_{_model}", ADMIN_READERS)
    rules.add_perm(f"proposals.add_{_model}", rules.always_deny)
    rules.add_perm(f"proposals.change_{_model}", rules.always_deny)
    rules.add_perm(f"proposals.delete_{_model}", rules.always_deny)
rules.add_perm("proposals.view_category", is_superuser | has_a_seat)
rules.add_perm("proposals.add_category", is_superuser)
rules.add_perm("proposals.change_category", is_superuser)
rules.add_perm("proposals.delete_category", is_superuser)
