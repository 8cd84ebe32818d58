"""The case pages for every role: who gets the page, the contact details, the internal notes,
the forms and the attachments; the anonymised reporter; 404 and 405 rather than 500.

The objects are those of the cases rows of docs/permissions.md (``tests/cases/test_rules.py``
checks the rules against that table); here the pages are checked against the rules.
"""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.urls import reverse

from governance.cases import services
from governance.cases.models import Case, Status
from governance.stakeholders.models import User
from tests.cases.conftest import drive
from tests.cases.test_attachments import PDF, image_bytes, upload
from tests.permission_table import ROLES

pytestmark = pytest.mark.django_db

PHONES = {
    "public case": "13911110001",
    "private case": "13911110002",
    "shared case": "13911110003",
    "triage case": "13911110004",
    "resolved case": "13911110005",
}
CASE_LABELS = tuple(PHONES)
REPORTER_NAME = "甄士隐"
REPORTER_EMAIL = "citizen@example.com"


def note_of(label: str) -> str:
    return f"内部备注：{label}"


def reply_of(label: str) -> str:
    return f"公开答复：{label}"


def case_url(case: Case, *parts: str) -> str:
    url = reverse("cases:detail", kwargs={"reference": case.reference})
    return url + "".join(f"{part}/" for part in parts)


def act_url(case: Case, action: str) -> str:
    return reverse("cases:act", kwargs={"reference": case.reference, "action": action})


def fresh(user):
    """The user read again, so the seats the rules cache on a user object are current."""
    if user is None or not user.is_authenticated:
        return AnonymousUser()
    return User.objects.get(pk=user.pk)


def sign_in(client, request, role: str):
    """Sign ``client`` in as the fixture user of ``role`` (or nobody); returns the user."""
    if role == "anonymous":
        return AnonymousUser()
    user = request.getfixturevalue(role)
    client.force_login(user)
    return user


def may(user, permission: str, obj) -> bool:
    return fresh(user).has_perm(permission, obj)


@pytest.fixture
def reporter(citizen):
    citizen.display_name = REPORTER_NAME
    citizen.save(update_fields=["display_name"])
    return citizen


@pytest.fixture
def world(open_case, reporter, partner, lost_item, department_staff, triage_org, superuser):
    """The cases of the permissions table, each with its own phone, an internal note and a
    public reply, so a page shows which of them it let through."""
    shared = open_case(is_public=False, contact_phone=PHONES["shared case"])
    services.case_add_cohandler(
        actor=department_staff, case=shared, organisation=partner, task="调取监控"
    )
    cases = {
        "public case": open_case(contact_phone=PHONES["public case"]),
        "private case": open_case(
            actor=None, is_public=False, contact_phone=PHONES["private case"]
        ),
        "shared case": shared,
        "triage case": open_case(
            actor=None,
            service=None,
            category=lost_item,
            is_public=False,
            contact_phone=PHONES["triage case"],
        ),
        "resolved case": drive(
            open_case(contact_phone=PHONES["resolved case"]),
            Status.RESOLVED,
            actor=department_staff,
        ),
    }
    for label, case in cases.items():
        services.case_note(actor=superuser, case=case, body=note_of(label))
        services.case_reply(actor=superuser, case=case, body=reply_of(label))
    return {label: Case.objects.get(pk=case.pk) for label, case in cases.items()}


# Who gets which page ---------------------------------------------------------------------------
@pytest.mark.parametrize("role", ROLES)
def test_case_page_shows_each_role_what_the_rules_allow(request, client, role, world):
    user = sign_in(client, request, role)
    for label, case in world.items():
        response = client.get(case_url(case))
        if not may(user, "cases.view_case", case):
            assert response.status_code == 404, (role, label)
            continue
        assert response.status_code == 200, (role, label)
        html = response.content.decode()
        facts = {
            "contact": PHONES[label] in html,
            "internal note": note_of(label) in html,
            "reply form": 'id="reply"' in html,
            "note form": 'id="note"' in html,
            "transition form": 'id="transition"' in html,
            "attachment form": 'id="attachment"' in html,
            "follow form": act_url(case, "follow") in html or act_url(case, "unfollow") in html,
            "contact record form": 'id="contact"' in html,
        }
        expected = {
            "contact": may(user, "cases.view_case_contact", case),
            "internal note": may(user, "cases.view_case_internal", case),
            "reply form": may(user, "cases.reply_case", case),
            "note form": may(user, "cases.note_case", case),
            "transition form": may(user, "cases.handle_case", case),
            "attachment form": case.is_open and may(user, "cases.attach_case", case),
            "follow form": may(user, "cases.follow_case", case),
            # A call to the reporter is recorded by those who see the contact, not the reporter.
            "contact record form": may(user, "cases.view_case_contact", case)
            and case.reporter_id != getattr(user, "pk", None),
        }
        assert facts == expected, (role, label)
        # The public reply is for everyone who may see the case.
        assert reply_of(label) in html


def test_table_facts_hold_on_the_pages(client, world, department_viewer, partner_staff, reporter):
    """A few rows of the table spelled out, so the test above cannot pass by being empty."""
    shared = world["shared case"]
    client.force_login(department_viewer)
    html = client.get(case_url(shared)).content.decode()
    assert note_of("shared case") in html
    assert PHONES["shared case"] not in html  # viewers are no acting staff

    client.force_login(partner_staff)
    html = client.get(case_url(shared)).content.decode()
    assert PHONES["shared case"] in html  # the co-handling organisation's staff
    assert note_of("shared case") in html
    assert client.get(case_url(world["private case"])).status_code == 404

    client.force_login(reporter)
    html = client.get(case_url(shared)).content.decode()
    assert PHONES["shared case"] in html  # the reporter sees their own contact
    assert note_of("shared case") not in html


def test_triager_sees_the_waiting_case_and_routes_it_without_the_contact(client, world, triager):
    client.force_login(triager)
    triage = world["triage case"]
    html = client.get(case_url(triage)).content.decode()
    assert note_of("triage case") in html
    assert PHONES["triage case"] not in html
    assert 'id="route"' in html
    assert 'id="assign"' not in html  # nobody to assign before a responsible organisation
    assert client.get(case_url(world["private case"])).status_code == 404


def test_public_page_anonymises_the_reporter_and_the_staff(client, world, reporter, superuser):
    case = world["public case"]
    for user in (None, reporter):
        client.logout()
        if user is not None:
            client.force_login(user)
        html = client.get(case_url(case)).content.decode()
        if user is None:
            assert REPORTER_NAME not in html
            assert REPORTER_EMAIL not in html
            assert "市民" in html
        assert str(superuser) not in html  # staff are "the handling organisation" to the public
        assert "办理单位" in html
    # Another citizen reads the reporter as "citizen" too.
    other = User.objects.create_user(email="other@example.com", password="x")
    client.force_login(other)
    html = client.get(case_url(case)).content.decode()
    assert REPORTER_NAME not in html
    assert REPORTER_EMAIL not in html


def test_anonymous_report_reads_anonymous_citizen(client, open_case):
    case = open_case(actor=None, contact_phone="13911110009", contact_name="贾雨村")
    html = client.get(case_url(case)).content.decode()
    assert "匿名市民" in html
    assert "贾雨村" not in html
    assert "13911110009" not in html


# Attachments ----------------------------------------------------------------------------------
@pytest.fixture
def with_files(open_case, reporter, department_staff):
    """A public case with the reporter's private photo and the handler's public PDF."""
    case = open_case(uploads=[upload("me.jpg", image_bytes(exif=True))])
    services.case_attach(
        actor=department_staff, case=case, upload=upload("notice.pdf", PDF), is_public=True
    )
    private, public = case.attachments.order_by("pk")
    return case, private, public


def attachment_url(case, attachment) -> str:
    return reverse("cases:attachment", kwargs={"reference": case.reference, "pk": attachment.pk})


@pytest.mark.parametrize("role", ROLES)
def test_attachments_are_served_to_whom_the_rules_allow(request, client, role, with_files):
    case, private, public = with_files
    user = sign_in(client, request, role)
    internal = may(user, "cases.view_case_internal", case)

    response = client.get(attachment_url(case, public))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == (
        f'attachment; filename="{case.reference}-{public.pk}.pdf"'
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF-")

    response = client.get(attachment_url(case, private))
    # The reporter's own photo is theirs to see; otherwise only the organisations on the case.
    uploader = role != "anonymous" and private.uploaded_by_id == user.pk
    if not (internal or uploader):
        assert response.status_code == 404, role
        return
    assert response.status_code == 200, role
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == (
        f'inline; filename="{case.reference}-{private.pk}.jpg"'
    )
    assert response["Cache-Control"].startswith("private")
    assert b"".join(response.streaming_content).startswith(b"\xff\xd8")


def test_private_attachments_are_not_listed_to_outsiders(client, with_files, department_staff):
    case, private, public = with_files
    html = client.get(case_url(case)).content.decode()
    assert attachment_url(case, public) in html
    assert attachment_url(case, private) not in html
    client.force_login(department_staff)
    html = client.get(case_url(case)).content.decode()
    assert attachment_url(case, private) in html
    assert "仅办理单位可见" in html


def test_attachment_of_another_case_or_unknown_is_404(client, with_files, open_case, superuser):
    case, _private, public = with_files
    other = open_case()
    client.force_login(superuser)
    assert client.get(attachment_url(other, public)).status_code == 404
    assert client.get(f"{case_url(case)}attachments/999999/").status_code == 404


def test_attachment_whose_file_is_gone_is_404(client, with_files, superuser):
    from django.core.files.storage import default_storage

    case, _private, public = with_files
    default_storage.delete(public.file.name)
    client.force_login(superuser)
    assert client.get(attachment_url(case, public)).status_code == 404


# 404 and 405, never 500 ------------------------------------------------------------------------
def test_unknown_references_and_actions_are_404(client, world, superuser):
    case = world["public case"]
    client.force_login(superuser)
    assert client.get("/cases/CH-1999-000001/").status_code == 404
    assert client.get("/cases/CH-1999-000001/submitted/").status_code == 404
    assert client.post("/cases/CH-1999-000001/reply/", {"reply-body": "x"}).status_code == 404
    assert client.post(act_url(case, "explode")).status_code == 404
    assert client.post(case_url(case, "cohandlers", "999999", "assign")).status_code == 404
    cohandler = world["shared case"].cohandlers.get()
    shared = world["shared case"]
    url = case_url(shared, "cohandlers", str(cohandler.pk), "explode")
    assert client.post(url).status_code == 404
    # A task of another case is not found through this one.
    assert client.post(case_url(case, "cohandlers", str(cohandler.pk), "done")).status_code == 404


def test_get_on_an_action_is_405(client, world, superuser):
    case = world["public case"]
    client.force_login(superuser)
    for action in ("transition", "reply", "note", "follow", "close", "explode"):
        assert client.get(act_url(case, action)).status_code in (405, 404), action
    assert client.get(act_url(case, "reply")).status_code == 405
    cohandler = world["shared case"].cohandlers.get()
    url = case_url(world["shared case"], "cohandlers", str(cohandler.pk), "done")
    assert client.get(url).status_code == 405
    assert client.post(case_url(case)).status_code == 405
    assert client.delete(case_url(case)).status_code == 405


@pytest.mark.parametrize("path", ["/cases/mine/", "/cases/queue/"])
def test_personal_pages_send_anonymous_visitors_to_sign_in(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_actions_send_anonymous_visitors_to_sign_in(client, world):
    case = world["public case"]
    for action in ("transition", "reopen", "close", "reply", "note", "assign", "route"):
        response = client.post(act_url(case, action), {})
        assert response.status_code == 302, action
        assert response["Location"].startswith("/accounts/login/"), action
    cohandler = world["shared case"].cohandlers.get()
    url = case_url(world["shared case"], "cohandlers", str(cohandler.pk), "assign")
    assert client.post(url).status_code == 302


# Submitted, mine, public list ------------------------------------------------------------------
def test_submitted_page_shows_the_reference_and_links_only_a_visible_case(client, world):
    public, private = world["public case"], world["private case"]
    html = client.get(case_url(public, "submitted")).content.decode()
    assert public.reference in html
    assert f'href="{case_url(public)}"' in html
    html = client.get(case_url(private, "submitted")).content.decode()
    assert private.reference in html
    assert f'href="{case_url(private)}"' not in html
    assert PHONES["private case"] not in html
    assert note_of("private case") not in html


def test_mine_lists_only_my_cases(client, world, reporter, open_case, department_staff):
    someone_elses = open_case(actor=department_staff)
    client.force_login(reporter)
    html = client.get("/cases/mine/").content.decode()
    for label in ("public case", "shared case", "resolved case"):
        assert world[label].reference in html
    assert world["private case"].reference not in html
    assert someone_elses.reference not in html
    client.force_login(department_staff)
    assert world["public case"].reference not in client.get("/cases/mine/").content.decode()


def test_public_list_shows_public_cases_only_and_filters_by_status(client, world):
    html = client.get("/cases/").content.decode()
    assert world["public case"].reference in html
    assert world["resolved case"].reference in html
    for label in ("private case", "shared case", "triage case"):
        assert world[label].reference not in html
    assert REPORTER_NAME not in html
    assert PHONES["public case"] not in html
    open_html = client.get("/cases/?status=open").content.decode()
    assert world["public case"].reference in open_html
    assert world["resolved case"].reference not in open_html
    closed_html = client.get("/cases/?status=closed").content.decode()
    assert world["resolved case"].reference in closed_html
    assert world["public case"].reference not in closed_html
    assert client.get("/cases/?station=nowhere&page=abc").status_code == 200


def test_public_list_filters_by_station(client, open_case, station):
    here = open_case()
    elsewhere = open_case(station=None, address="人民南路一段")
    html = client.get(f"/cases/?station={station.slug}").content.decode()
    assert here.reference in html
    assert elsewhere.reference not in html
