"""What the wings build on: the reporter-contact record (回访), the status-change signal,
deadlines the platform fixes itself, and the transitions a given person may make."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from governance.cases import services
from governance.cases.models import Case, Source, Status, TimelineEntry
from governance.cases.signals import case_status_changed
from tests.cases.conftest import drive

pytestmark = pytest.mark.django_db


# Contact with the reporter ----------------------------------------------------------------------
def test_handlers_record_a_return_visit_as_an_internal_entry(open_case, department_staff):
    case = open_case(actor=None, contact_phone="13800138000")
    entry = services.case_record_contact(
        actor=department_staff, case=case, channel="phone", body="已电话回访，市民表示理解"
    )
    assert entry.kind == TimelineEntry.Kind.CONTACT
    assert entry.is_public is False
    assert entry.data == {"channel": "phone"}


@pytest.mark.parametrize(
    "who", ["citizen", "department_viewer", "other_department_staff", "partner_admin"]
)
def test_only_those_who_see_the_contact_record_it(open_case, request, who):
    case = open_case()
    with pytest.raises(PermissionDenied):
        services.case_record_contact(
            actor=request.getfixturevalue(who), case=case, channel="phone", body="x"
        )
    assert not case.timeline.filter(kind=TimelineEntry.Kind.CONTACT).exists()


def test_contact_channel_and_time_are_checked(open_case, department_staff):
    case = open_case()
    with pytest.raises(ValidationError) as caught:
        services.case_record_contact(actor=department_staff, case=case, channel="fax", body="x")
    assert "phone" in str(caught.value)
    with pytest.raises(ValidationError):
        services.case_record_contact(
            actor=department_staff,
            case=case,
            channel="sms",
            body="x",
            at=timezone.now() + dt.timedelta(days=1),
        )
    with pytest.raises(ValidationError):
        services.case_record_contact(actor=department_staff, case=case, channel="sms", body=" ")


# The status signal --------------------------------------------------------------------------------
def test_every_transition_is_signalled_inside_its_transaction(open_case, department_staff):
    heard = []

    def listen(sender, case, old, new, actor, at, **kwargs):
        heard.append((case.reference, old, new, actor))

    case_status_changed.connect(listen)
    try:
        case = open_case()
        drive(case, Status.RESOLVED, actor=department_staff)
    finally:
        case_status_changed.disconnect(listen)
    assert [(old, new) for _ref, old, new, _actor in heard] == [
        (Status.NEW, Status.ACKNOWLEDGED),
        (Status.ACKNOWLEDGED, Status.IN_PROGRESS),
        (Status.IN_PROGRESS, Status.RESOLVED),
    ]
    assert {actor for *_rest, actor in heard} == {department_staff}


def test_a_receiver_that_fails_rolls_the_transition_back(open_case, department_staff):
    def refuse(**kwargs):
        raise ValidationError("no")

    case = open_case()
    case_status_changed.connect(refuse)
    try:
        with pytest.raises(ValidationError):
            services.case_transition(actor=department_staff, case=case, to=Status.ACKNOWLEDGED)
    finally:
        case_status_changed.disconnect(refuse)
    assert Case.objects.get(pk=case.pk).status == Status.NEW


# Deadlines the platform sets --------------------------------------------------------------------
def test_the_platform_may_fix_the_deadlines_of_a_case_it_opens(open_case):
    due = timezone.now() + dt.timedelta(days=21)
    ack = timezone.now() + dt.timedelta(days=1)
    case = open_case(
        actor=None,
        source=Source.FEEDBACK,
        system=True,
        acknowledge_due_at=ack,
        resolve_due_at=due,
    )
    assert (case.acknowledge_due_at, case.resolve_due_at) == (ack, due)


def test_nobody_else_may(open_case, citizen):
    with pytest.raises(PermissionDenied):
        open_case(actor=citizen, resolve_due_at=timezone.now() + dt.timedelta(days=1))
    assert not Case.objects.exists()


# Transitions for a person -----------------------------------------------------------------------
def test_transitions_for_each_person(open_case, citizen, department_staff, department_viewer):
    case = open_case()
    assert services.transitions_for(department_staff, case) == [
        Status.ACKNOWLEDGED,
        Status.REJECTED,
        Status.DUPLICATE,
    ]
    assert services.transitions_for(citizen, case) == []
    assert services.transitions_for(department_viewer, case) == []
    assert services.transitions_for(None, case) == []
    resolved = drive(case, Status.RESOLVED, actor=department_staff)
    assert services.transitions_for(citizen, resolved) == [Status.CLOSED, Status.REOPENED]


def test_a_triage_case_offers_only_what_needs_no_responsible(open_case, triager, lost_item):
    case = open_case(actor=None, service=None, category=lost_item)
    assert services.transitions_for(triager, case) == [Status.REJECTED, Status.DUPLICATE]
