"""A report's own photos, co-handling tasks run by their organisation, and the work queue
after a seat is lost."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.utils import timezone

from governance.cases import queries, services
from governance.cases.models import Attachment, Case, CaseSequence, CoHandler, TimelineEntry
from governance.stakeholders.models import Membership, User
from tests.cases.test_attachments import image_bytes, upload
from tests.conftest import _member

pytestmark = pytest.mark.django_db


# The report's photos ---------------------------------------------------------------------------
def test_anonymous_report_keeps_its_photos_private_and_clean(open_case):
    case = open_case(
        actor=None,
        contact_phone="13800000000",
        uploads=[upload("a.jpg", image_bytes(exif=True)), upload("b.png", image_bytes("PNG"))],
    )
    stored = list(case.attachments.order_by("pk"))
    assert [a.content_type for a in stored] == ["image/jpeg", "image/png"]
    assert all(not a.is_public and a.uploaded_by is None for a in stored)
    assert [a.original_name for a in stored] == ["a.jpg", "b.png"]
    kinds = list(case.timeline.order_by("pk").values_list("kind", flat=True))
    assert kinds.count(TimelineEntry.Kind.ATTACHMENT) == 2
    for attachment in stored:
        assert default_storage.exists(attachment.file.name)


def test_one_bad_file_refuses_the_whole_report_and_draws_no_number(open_case):
    with pytest.raises(ValidationError) as caught:
        open_case(
            actor=None,
            contact_phone="13800000000",
            uploads=[upload("a.jpg", image_bytes()), upload("evil.jpg", b"MZ\x90 not an image")],
        )
    assert caught.value.code == "unsupported_type"
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()
    assert not CaseSequence.objects.filter(last__gt=0).exists()


def test_a_report_carries_at_most_five_files(open_case):
    files = [upload(f"{n}.png", image_bytes("PNG")) for n in range(6)]
    with pytest.raises(ValidationError) as caught:
        open_case(uploads=files)
    assert "attachments" in caught.value.message_dict
    assert not Case.objects.exists()


# Co-handling tasks -----------------------------------------------------------------------------
@pytest.fixture
def shared(open_case, department_staff, partner):
    case = open_case()
    cohandler = services.case_add_cohandler(
        actor=department_staff, case=case, organisation=partner, task="调取商场监控"
    )
    return case, cohandler


def test_the_cohandling_organisation_assigns_and_completes_its_task(shared, partner_admin):
    case, cohandler = shared
    partner_staff = _member(cohandler.organisation, "staff", "mall.worker@example.com")
    due = timezone.now() + dt.timedelta(days=2)
    services.cohandler_assign(
        actor=partner_admin, cohandler=cohandler, assignee=partner_staff, due_at=due
    )
    cohandler.refresh_from_db()
    assert cohandler.assignee == partner_staff
    assert cohandler.due_at == due
    services.cohandler_complete(actor=partner_staff, cohandler=cohandler, note="监控已调取")
    cohandler.refresh_from_db()
    assert cohandler.state == CoHandler.State.DONE
    assert cohandler.done_at is not None
    entries = case.timeline.filter(kind=TimelineEntry.Kind.COHANDLER_TASK).order_by("pk")
    assert [e.is_public for e in entries] == [False, False]
    assert entries.last().body == "监控已调取"
    with pytest.raises(ValidationError):
        services.cohandler_complete(actor=partner_staff, cohandler=cohandler, note="again")


def test_the_responsible_organisation_may_close_the_task_too(shared, department_staff):
    _case, cohandler = shared
    services.cohandler_complete(actor=department_staff, cohandler=cohandler, note="已电话确认")
    assert CoHandler.objects.get(pk=cohandler.pk).state == CoHandler.State.DONE


@pytest.mark.parametrize(
    "who", ["citizen", "other_department_staff", "other_partner_admin", "department_viewer"]
)
def test_others_may_not_touch_the_task(shared, request, who):
    _case, cohandler = shared
    actor = request.getfixturevalue(who)
    with pytest.raises(PermissionDenied):
        services.cohandler_complete(actor=actor, cohandler=cohandler, note="x")
    with pytest.raises(PermissionDenied):
        services.cohandler_assign(actor=actor, cohandler=cohandler, assignee=None)
    assert CoHandler.objects.get(pk=cohandler.pk).state == CoHandler.State.OPEN


def test_task_assignee_must_sit_in_the_cohandling_organisation(
    shared, partner_admin, department_staff
):
    _case, cohandler = shared
    with pytest.raises(ValidationError) as caught:
        services.cohandler_assign(
            actor=partner_admin, cohandler=cohandler, assignee=department_staff
        )
    assert "assignee" in caught.value.message_dict


def test_completion_needs_a_note(shared, partner_admin):
    _case, cohandler = shared
    with pytest.raises(ValidationError):
        services.cohandler_complete(actor=partner_admin, cohandler=cohandler, note="  ")


# Work queue ------------------------------------------------------------------------------------
def test_a_lost_seat_empties_the_assignees_queue(open_case, department_admin, department_staff):
    case = open_case()
    services.case_assign(actor=department_admin, case=case, assignee=department_staff)
    assert list(queries.work_queue(department_staff)) == [case]
    Membership.objects.filter(user=department_staff).delete()
    # A new request loads the user afresh (the seats are cached on the user object).
    assert list(queries.work_queue(User.objects.get(pk=department_staff.pk))) == []


# Bulk assignment -------------------------------------------------------------------------------
def test_a_batch_is_assigned_whole_or_not_at_all(
    open_case, other_service, department_admin, department_staff
):
    mine = [open_case(), open_case()]
    assert services.cases_assign(actor=department_admin, cases=mine, assignee=department_staff) == 2
    assert {c.assignee_id for c in Case.objects.filter(pk__in=[c.pk for c in mine])} == {
        department_staff.pk
    }
    fresh, foreign = open_case(), open_case(service=other_service)
    with pytest.raises(services.BatchRefused) as caught:
        services.cases_assign(
            actor=department_admin, cases=[fresh, foreign], assignee=department_staff
        )
    assert caught.value.reference == foreign.reference
    assert Case.objects.get(pk=fresh.pk).assignee_id is None
