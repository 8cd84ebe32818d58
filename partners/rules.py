"""Who may see and do what with the resources partners contribute.

- **Resources.** A public resource is seen by everyone, a stakeholders-only one by people with a
  seat in any organisation; an inactive one only by its partner. The partner's acting members
  (admins and staff) manage its resources, opening rules, closures and photos.
- **Bookings.** The acting members of any other organisation (a department, another partner, a
  community organisation) request a resource they can see. A booking is seen by both sides;
  the partner's acting members approve or decline it; either side's acting members cancel it.
- **Pledges.** A partner's acting members pledge and withdraw; the acting members of the
  organisation responsible for the proposal or case accept or decline it and confirm its
  delivery. A pledge is read where its proposal or case is read, and by both sides.
- **Agreements.** Read by the members of the partner and of its departments; drafted and kept
  by the admins of either side.
- **Volunteers.** A partner's acting members keep its shifts; the members of the departments
  at the shift's station read them.
- **Training.** The organiser's acting members keep a session and its attendance; anyone with a
  seat reads the sessions, only the organiser the attendance list.
- **Members.** A partner's admins invite people, change their roles and remove them.
- Superusers may do everything, except act as one side of a booking or a pledge: that is the
  organisations' word.
"""

from __future__ import annotations

import rules

from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_member_of,
    is_superuser,
    memberships_of,
    organisation_ids,
    seat_in,
)
from partners.models import (
    Agreement,
    AgreementDocument,
    Attendance,
    AvailabilityException,
    Booking,
    Invitation,
    OpeningRule,
    Pledge,
    Resource,
    ResourcePhoto,
    TrainingSession,
    Visibility,
    VolunteerShift,
)


def acting_ids(user, *, kind: str | None = None) -> set[int]:
    return organisation_ids(user, kind=kind, roles=ACTING_ROLES)


def acts_for(user, organisation_id: int | None) -> bool:
    seat = seat_in(user, organisation_id)
    return seat is not None and seat.role in ACTING_ROLES


def _resource(obj) -> Resource | None:
    if isinstance(obj, Resource):
        return obj
    if isinstance(obj, OpeningRule | AvailabilityException | ResourcePhoto | Booking):
        return obj.resource
    return None


def _partner_id(obj) -> int | None:
    resource = _resource(obj)
    if resource is not None:
        return resource.partner_id
    if isinstance(obj, Pledge | Agreement | VolunteerShift):
        return obj.partner_id
    if isinstance(obj, AgreementDocument):
        return obj.agreement.partner_id
    if isinstance(obj, Invitation):
        return obj.organisation_id
    if isinstance(obj, Organisation):
        return obj.pk if obj.kind == Organisation.Kind.PARTNER else None
    return None


# Resources ----------------------------------------------------------------------------------
@rules.predicate
def is_partner_actor(user, obj=None) -> bool:
    """Acts (admin or staff) for the partner that owns ``obj``; with none, for any partner."""
    if obj is None:
        return bool(acting_ids(user, kind=Organisation.Kind.PARTNER))
    return acts_for(user, _partner_id(obj))


@rules.predicate
def is_partner_admin(user, obj=None) -> bool:
    if obj is None:
        return bool(
            organisation_ids(user, kind=Organisation.Kind.PARTNER, roles={Membership.Role.ADMIN})
        )
    seat = seat_in(user, _partner_id(obj))
    return seat is not None and seat.role == Membership.Role.ADMIN


@rules.predicate
def is_partner_seat(user, obj=None) -> bool:
    """Has a seat (any role) in the partner that owns ``obj``; with none, in any partner."""
    if obj is None:
        return bool(organisation_ids(user, kind=Organisation.Kind.PARTNER))
    return seat_in(user, _partner_id(obj)) is not None


@rules.predicate
def resource_is_visible(user, obj=None) -> bool:
    resource = _resource(obj)
    if resource is None:
        return obj is None
    if not resource.is_active:
        return False
    if resource.visibility == Visibility.PUBLIC:
        return True
    return bool(memberships_of(user))


@rules.predicate
def may_request_booking(user, resource=None) -> bool:
    """Acts for an organisation other than the resource's partner, and the resource takes
    bookings and is visible to them."""
    others = acting_ids(user)
    if resource is None:
        return bool(others)
    if not isinstance(resource, Resource) or not (resource.is_active and resource.bookable):
        return False
    return bool(others - {resource.partner_id}) and resource_is_visible(user, resource)


# Bookings -----------------------------------------------------------------------------------
@rules.predicate
def is_booking_requester(user, booking=None) -> bool:
    if booking is None:
        return bool(memberships_of(user))
    return isinstance(booking, Booking) and seat_in(user, booking.requester_id) is not None


@rules.predicate
def acts_for_requester(user, booking=None) -> bool:
    return isinstance(booking, Booking) and acts_for(user, booking.requester_id)


# Pledges ------------------------------------------------------------------------------------
def _target_responsible_id(pledge: Pledge) -> int | None:
    target = pledge.target
    return getattr(target, "responsible_id", None) if target is not None else None


def target_is_public(pledge: Pledge) -> bool:
    if pledge.proposal_id:
        return pledge.proposal.is_public
    return bool(pledge.case_id and pledge.case.is_public)


@rules.predicate
def acts_for_target(user, pledge=None) -> bool:
    if pledge is None:
        return bool(acting_ids(user))
    return isinstance(pledge, Pledge) and acts_for(user, _target_responsible_id(pledge))


@rules.predicate
def sits_with_target(user, pledge=None) -> bool:
    if pledge is None:
        return bool(memberships_of(user))
    return isinstance(pledge, Pledge) and seat_in(user, _target_responsible_id(pledge)) is not None


@rules.predicate
def pledge_is_public(user, pledge=None) -> bool:
    return (
        isinstance(pledge, Pledge)
        and pledge.status not in (Pledge.Status.WITHDRAWN, Pledge.Status.DECLINED)
        and target_is_public(pledge)
    )


# Agreements ---------------------------------------------------------------------------------
def _agreement(obj) -> Agreement | None:
    if isinstance(obj, Agreement):
        return obj
    if isinstance(obj, AgreementDocument):
        return obj.agreement
    return None


def agreement_department_ids(agreement: Agreement) -> set[int]:
    cached = getattr(agreement, "_department_ids", None)
    if cached is None:
        if agreement.pk is None:
            return set()
        cached = {department.pk for department in agreement.departments.all()}
        agreement._department_ids = cached
    return cached


@rules.predicate
def is_agreement_party(user, obj=None) -> bool:
    agreement = _agreement(obj)
    if agreement is None:
        return obj is None and bool(memberships_of(user))
    seats = memberships_of(user)
    return agreement.partner_id in seats or bool(agreement_department_ids(agreement) & seats.keys())


@rules.predicate
def is_agreement_admin(user, obj=None) -> bool:
    admin_of = organisation_ids(user, roles={Membership.Role.ADMIN})
    agreement = _agreement(obj)
    if agreement is None:
        return obj is None and bool(admin_of)
    return agreement.partner_id in admin_of or bool(agreement_department_ids(agreement) & admin_of)


# Volunteers ---------------------------------------------------------------------------------
@rules.predicate
def sits_at_shift_station(user, shift=None) -> bool:
    departments = organisation_ids(user, kind=Organisation.Kind.DEPARTMENT)
    if shift is None:
        return bool(departments)
    if not isinstance(shift, VolunteerShift) or not departments:
        return False
    # ``.all()`` reads the prefetch of ``queries.shifts_visible_to`` when there is one.
    station_departments = {department.pk for department in shift.station.departments.all()}
    return bool(station_departments & departments)


# Training -----------------------------------------------------------------------------------
def _organiser_id(obj) -> int | None:
    """The organiser of a session, or of the session an attendance row belongs to."""
    if isinstance(obj, Attendance):
        obj = obj.session
    return obj.organiser_id if isinstance(obj, TrainingSession) else None


@rules.predicate
def acts_for_organiser(user, session=None) -> bool:
    if session is None:
        return bool(acting_ids(user))
    return acts_for(user, _organiser_id(session))


@rules.predicate
def sits_with_organiser(user, session=None) -> bool:
    if session is None:
        return bool(memberships_of(user))
    return seat_in(user, _organiser_id(session)) is not None


@rules.predicate
def has_a_seat(user) -> bool:
    """Sits in any organisation, whatever the object asked about (``is_member_of`` would ask
    for a seat in the object itself, which a training session is not)."""
    return bool(memberships_of(user))


# Members ------------------------------------------------------------------------------------
@rules.predicate
def is_that_partners_admin(user, organisation=None) -> bool:
    """An admin of ``organisation`` (a partner, or the partner of an invitation)."""
    return is_partner_admin(user, organisation)


# The permissions ----------------------------------------------------------------------------
rules.add_perm("partners", is_superuser | is_member_of)
rules.add_perm("partners.view_portal", is_superuser | is_partner_seat)

rules.add_perm("partners.view_resource", is_superuser | is_partner_seat | resource_is_visible)
rules.add_perm("partners.add_resource", is_superuser | is_partner_actor)
rules.add_perm("partners.manage_resource", is_superuser | is_partner_actor)
rules.add_perm("partners.book_resource", may_request_booking)

rules.add_perm("partners.view_booking", is_superuser | is_booking_requester | is_partner_seat)
rules.add_perm("partners.decide_booking", is_partner_actor)
rules.add_perm("partners.cancel_booking", acts_for_requester | is_partner_actor)

rules.add_perm("partners.add_pledge", is_partner_actor)
rules.add_perm(
    "partners.view_pledge", is_superuser | is_partner_seat | sits_with_target | pledge_is_public
)
rules.add_perm("partners.decide_pledge", acts_for_target)
rules.add_perm("partners.withdraw_pledge", is_partner_actor)

rules.add_perm("partners.view_agreement", is_superuser | is_agreement_party)
rules.add_perm("partners.manage_agreement", is_superuser | is_agreement_admin)

rules.add_perm("partners.view_shift", is_superuser | is_partner_seat | sits_at_shift_station)
rules.add_perm("partners.manage_shift", is_superuser | is_partner_actor)

rules.add_perm("partners.view_training", is_superuser | has_a_seat)
rules.add_perm("partners.view_attendance", is_superuser | sits_with_organiser)
rules.add_perm("partners.manage_training", is_superuser | acts_for_organiser)

rules.add_perm("partners.manage_members", is_superuser | is_that_partners_admin)

# The Django admin's model permissions, from the same predicates.
_ADMIN = {
    "resource": ("view_resource", "add_resource", "manage_resource"),
    "openingrule": ("view_resource", "manage_resource", "manage_resource"),
    "availabilityexception": ("view_resource", "manage_resource", "manage_resource"),
    "resourcephoto": ("view_resource", "manage_resource", "manage_resource"),
    "booking": ("view_booking", None, None),
    # ``partners.add_pledge`` is also the business permission (may pledge for this partner):
    # it stays the rule above, and the Pledge admin refuses "add" itself.
    "pledge": ("view_pledge", "add_pledge", None),
    "agreement": ("view_agreement", "manage_agreement", "manage_agreement"),
    "agreementdocument": ("view_agreement", "manage_agreement", "manage_agreement"),
    "volunteershift": ("view_shift", "manage_shift", "manage_shift"),
    "trainingsession": ("view_training", "manage_training", "manage_training"),
    "attendance": ("view_attendance", "manage_training", "manage_training"),
    "invitation": ("manage_members", None, None),
}
for _model, (_view, _add, _change) in _ADMIN.items():
    rules.set_perm(f"partners.view_{_model}", rules.permissions.permissions[f"partners.{_view}"])
    # Bookings, pledges and invitations change only through their actions (approve, accept…),
    # never by editing a row.
    _add_rule = rules.permissions.permissions[f"partners.{_add}"] if _add else rules.always_deny
    _change_rule = (
        rules.permissions.permissions[f"partners.{_change}"] if _change else rules.always_deny
    )
    rules.set_perm(f"partners.add_{_model}", _add_rule)
    rules.set_perm(f"partners.change_{_model}", _change_rule)
    rules.set_perm(f"partners.delete_{_model}", _change_rule)
