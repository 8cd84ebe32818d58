"""The feedback pages for every role: the QR rating page and its bad links, online feedback,
the re-rating page, one's own feedback, the staff inbox and its CSV, the detail page and its
actions, the counter card; abuse resistance (rate limit, honeypot, idempotency, escaping) and
the query budgets of the lists and of a rating."""

from __future__ import annotations

import csv
import io
import re
import uuid
from types import SimpleNamespace

import pytest
from django.core import signing
from django.urls import reverse
from django.utils import timezone

from feedback import services, tokens
from feedback.models import Appeal, Feedback, Kind
from governance.cases.models import Case
from tests.cases.test_attachments import image_bytes, upload
from tests.feedback.fixtures import *  # noqa: F403  (the fixtures)
from tests.feedback.fixtures import CONTACT_EMAIL, CONTACT_PHONE, at, fresh, new_key, suggestion
from tests.permission_table import ROLES
from tests.query_budget import assert_constant_queries, capture_queries

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
LEVEL_LABELS = ("非常满意", "满意", "基本满意", "不满意", "非常不满意")


def sign_in(client, request, role: str):
    if role == "anonymous":
        return None
    user = request.getfixturevalue(role)
    client.force_login(user)
    return user


def rate_url(visit) -> str:
    return reverse("feedback:rate", args=[tokens.visit_token(visit)])


def listed(response) -> set[int]:
    return {int(pk) for pk in re.findall(r'data-feedback="(\d+)"', response.content.decode())}


def field_errors(response) -> str:
    return " ".join(
        re.findall(r'<p class="field-error" role="alert">(.*?)</p>', response.content.decode())
    )


def rating_post(level=5, **extra) -> dict:
    data = {"level": level, "idempotency_key": new_key()}
    data.update(extra)
    return data


def redirects_to_login(response) -> bool:
    return response.status_code == 302 and response["Location"].startswith(LOGIN)


# The QR rating page -------------------------------------------------------------------
def test_the_rating_page_offers_five_levels_and_sets_the_device_cookie(client, visit):
    response = client.get(rate_url(visit))

    assert response.status_code == 200
    page = response.content.decode()
    for label in LEVEL_LABELS:
        assert label in page
    assert visit.ticket in page
    assert 'id="reasons-by-level"' in page
    assert response.cookies["gz_device"].value
    assert response.cookies["gz_device"]["httponly"]


def test_a_rating_in_three_taps_then_a_second_scan_shows_it(client, visit, department):
    url = rate_url(visit)
    client.get(url)  # first tap: the scan

    response = client.post(url, rating_post(5, reasons=["fast", "friendly"]))  # level + send

    assert response.status_code == 302
    assert response["Location"] == url
    rating = Feedback.objects.get()
    assert (rating.kind, rating.channel, rating.level) == (Kind.VISIT_RATING, "qr", 5)
    assert rating.organisation == department
    assert rating.device == client.cookies["gz_device"].value
    again = client.get(url)
    assert again.status_code == 200
    assert "这次办事已经评价过了" in again.content.decode()
    assert "非常满意" in again.content.decode()


def test_a_reused_post_gets_the_already_rated_page_and_writes_nothing(client, visit):
    url = rate_url(visit)
    client.post(url, rating_post(4))

    response = client.post(url, rating_post(1, comment="改成差评"))

    assert response.status_code == 409
    assert "这次办事已经评价过了" in response.content.decode()
    assert list(Feedback.objects.values_list("level", "text")) == [(4, "")]


def test_a_double_tap_writes_one_rating(client, visit):
    url, data = rate_url(visit), rating_post(2)
    first = client.post(url, data)
    second = client.post(url, data)
    assert first.status_code == 302
    assert second.status_code == 409  # the "already rated" page
    assert Feedback.objects.count() == 1


@pytest.mark.parametrize("method", ["get", "post"])
def test_a_forged_link_gets_a_clear_400_page(client, visit, method):
    token = tokens.visit_token(visit)
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")

    response = getattr(client, method)(reverse("feedback:rate", args=[forged]), rating_post())

    assert response.status_code == 400
    assert "这个评价链接无效" in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_link_naming_another_visit_is_forged(client, visit, make_visit):
    other = make_visit()
    token = tokens.visit_token(visit)
    payload = signing.Signer(salt=tokens.VISIT_SALT).unsign_object(token)
    payload[0] = other.pk
    # The other visit's payload under this link's signature.
    forged_body = signing.Signer(salt="x").sign_object(payload, compress=True).rsplit(":", 1)[0]
    tampered = forged_body + ":" + token.rsplit(":", 1)[1]
    response = client.post(reverse("feedback:rate", args=[tampered]), rating_post())
    assert response.status_code == 400
    assert not Feedback.objects.exists()


@pytest.mark.parametrize("method", ["get", "post"])
def test_an_expired_link_gets_a_clear_410_page(client, make_visit, method):
    long_ago = timezone.now() - timezone.timedelta(days=8)
    visit = make_visit(arrived_at=long_ago, called_at=None, finished_at=None)

    response = getattr(client, method)(rate_url(visit), rating_post())

    assert response.status_code == 410
    assert "已经过期" in response.content.decode()
    assert "7" in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_link_to_a_visit_that_is_gone_is_404(client, make_visit):
    visit = make_visit()
    url = rate_url(visit)
    visit.delete()
    assert client.get(url).status_code == 404


def test_other_methods_are_refused(client, visit):
    assert client.put(rate_url(visit)).status_code == 405
    assert client.delete(reverse("feedback:new")).status_code == 405


@pytest.mark.parametrize("level", ["0", "6", "", "x"])
def test_a_level_outside_one_to_five_is_400_and_writes_nothing(client, visit, level):
    response = client.post(rate_url(visit), rating_post(level))
    assert response.status_code == 400
    assert field_errors(response)
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("data", "allowed"),
    [({"level": "9"}, "5=非常满意"), ({"level": "5", "reasons": ["bogus"]}, "fast")],
)
def test_the_400_for_a_bad_level_or_tag_names_the_allowed_values(client, visit, data, allowed):
    response = client.post(rate_url(visit), rating_post(**data))
    assert response.status_code == 400
    assert allowed in field_errors(response)


def test_a_tag_of_another_level_is_400_naming_the_allowed_tags(client, visit):
    response = client.post(rate_url(visit), rating_post(5, reasons=["attitude"]))

    assert response.status_code == 400
    errors = field_errors(response)
    assert "attitude" in errors
    assert "fast" in errors
    assert not Feedback.objects.exists()


def test_the_honeypot_looks_accepted_and_writes_nothing(client, visit):
    response = client.post(rate_url(visit), rating_post(1, website="http://spam.example"))
    assert response.status_code == 302
    assert not Feedback.objects.exists()


def test_a_comment_is_bounded(client, visit):
    response = client.post(rate_url(visit), rating_post(3, comment="字" * 1001))
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_bad_contact_details_are_form_errors(client, visit):
    response = client.post(
        rate_url(visit), rating_post(2, contact_phone="call me", contact_email="nope")
    )
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_a_signed_in_rater_finds_the_rating_in_mine(client, visit, citizen):
    client.force_login(citizen)
    client.post(rate_url(visit), rating_post(5))
    rating = Feedback.objects.get()
    assert rating.user == citizen
    assert listed(client.get(reverse("feedback:mine"))) == {rating.pk}


def test_a_bad_rating_from_the_page_opens_its_case_after_the_commit(
    client, visit, routing, department, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            rate_url(visit), rating_post(1, reasons=["waiting_time"], contact_phone=CONTACT_PHONE)
        )
    assert response.status_code == 302
    rating = Feedback.objects.select_related("case").get()
    assert rating.case.responsible == department
    assert rating.case.is_public is False
    assert rating.case.contact_phone == CONTACT_PHONE


def test_a_rating_post_runs_a_fixed_number_of_queries(client, make_visit):
    client.get(rate_url(make_visit()))  # the device cookie, and warm caches

    counts = []
    for level in (5, 1):
        url = rate_url(make_visit())
        response, queries = capture_queries(
            lambda url=url, level=level: client.post(url, rating_post(level))
        )
        assert response.status_code == 302
        counts.append(len(queries))
    print(f"visit rating POST: {counts[0]} queries")
    # the visit, "rated already?", then the insert in a savepoint (SAVEPOINT, INSERT, RELEASE)
    assert counts[0] == counts[1] == 5


# Abuse: rate limits -------------------------------------------------------------------------------
def test_the_eleventh_anonymous_rating_in_a_minute_from_one_address_is_429(
    client, make_visit, frozen_ratelimit
):
    visits = [make_visit() for _ in range(11)]
    for number, visit in enumerate(visits[:10]):
        # a fresh device each time: the address alone is limited
        client.cookies["gz_device"] = f"device-{number}"
        assert client.post(rate_url(visit), rating_post(5)).status_code == 302

    client.cookies["gz_device"] = "device-new"
    response = client.post(rate_url(visits[10]), rating_post(5))

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "提交太频繁" in response.content.decode()
    assert Feedback.objects.count() == 10
    assert not Feedback.objects.filter(visit=visits[10]).exists()


def test_the_eleventh_anonymous_post_from_one_device_is_429_whatever_the_address(
    client, station, frozen_ratelimit
):
    client.cookies["gz_device"] = "one-phone"
    for number in range(10):
        response = client.post(
            reverse("feedback:new"),
            {"kind": "suggestion", "text": f"建议{number}", "idempotency_key": new_key()},
            REMOTE_ADDR=f"10.0.0.{number + 1}",
        )
        assert response.status_code == 302

    response = client.post(
        reverse("feedback:new"),
        {"kind": "suggestion", "text": "第十一条", "idempotency_key": new_key()},
        REMOTE_ADDR="10.0.1.1",
    )

    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert Feedback.objects.count() == 10


def test_the_limit_is_per_minute(client, station, monkeypatch):
    import django_ratelimit.core

    clock = SimpleNamespace(now=float(int(timezone.now().timestamp()) // 60 * 60 + 1))
    monkeypatch.setattr(django_ratelimit.core, "time", SimpleNamespace(time=lambda: clock.now))

    def post():
        return client.post(
            reverse("feedback:new"),
            {"kind": "suggestion", "text": "x", "idempotency_key": new_key()},
        )

    for _ in range(10):
        post()
    assert post().status_code == 429
    clock.now += 60
    assert post().status_code == 302
    assert Feedback.objects.count() == 11


def test_signed_in_people_are_not_limited_here(client, station, citizen, frozen_ratelimit):
    client.force_login(citizen)
    for _ in range(12):
        response = client.post(
            reverse("feedback:new"),
            {"kind": "suggestion", "text": "x", "idempotency_key": new_key()},
        )
        assert response.status_code == 302
    assert Feedback.objects.count() == 12


# Online feedback -------------------------------------------------------------------
def test_the_feedback_page_offers_every_kind_but_visit_ratings(client):
    response = client.get(reverse("feedback:new") + "?kind=praise")
    assert response.status_code == 200
    page = response.content.decode()
    for label in ("在线评价", "建议", "投诉", "表扬"):
        assert label in page
    assert 'value="visit_rating"' not in page
    assert response.cookies["gz_device"].value


def test_an_anonymous_suggestion_thanks_without_showing_it(client, station, partner):
    response = client.post(
        reverse("feedback:new"),
        {
            "kind": "suggestion",
            "station": station.slug,
            "text": "希望增加母婴室指引",
            "contact_phone": CONTACT_PHONE,
            "idempotency_key": new_key(),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("feedback:thanks")
    feedback = Feedback.objects.get()
    assert (feedback.kind, feedback.organisation, feedback.user) == ("suggestion", partner, None)
    thanks = client.get(response["Location"])
    assert thanks.status_code == 200
    assert "母婴室" not in thanks.content.decode()
    assert CONTACT_PHONE not in thanks.content.decode()


def test_a_signed_in_online_rating_lands_on_its_page_and_opens_a_case(
    client, service, routing, citizen, run_tasks, django_capture_on_commit_callbacks
):
    client.force_login(citizen)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("feedback:new"),
            {
                "kind": "online_rating",
                "service": service.service_code,
                "level": "2",
                "reasons": ["documents"],
                "idempotency_key": new_key(),
            },
        )
    rating = Feedback.objects.get()
    assert response["Location"] == reverse("feedback:detail", args=[rating.pk])
    assert rating.case is not None
    page = client.get(response["Location"])
    assert page.status_code == 200
    assert rating.case.reference in page.content.decode()


def test_praise_with_a_photo(client, station):
    response = client.post(
        reverse("feedback:new"),
        {
            "kind": "praise",
            "station": station.slug,
            "text": "志愿者很热心",
            "photo": upload("thanks.png", image_bytes("PNG"), "image/png"),
            "idempotency_key": new_key(),
        },
    )
    assert response.status_code == 302
    praise = Feedback.objects.get()
    assert praise.photo_type == "image/png"
    assert praise.photo.name


def test_a_disguised_photo_is_a_form_error(client, station):
    response = client.post(
        reverse("feedback:new"),
        {
            "kind": "complaint",
            "text": "x",
            "photo": upload("x.jpg", b"#!/bin/sh\necho pwned\n"),
            "idempotency_key": new_key(),
        },
    )
    assert response.status_code == 400
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    "data",
    [
        {"kind": "praise", "text": ""},
        {"kind": "online_rating", "level": ""},
        {"kind": "online_rating", "level": "7", "station": "mall-station"},
        {"kind": "visit_rating", "level": "5", "station": "mall-station"},
        {"kind": "complaint", "text": "长" * 2001},
        {"kind": "suggestion", "text": "x", "service": "NO-SUCH"},
    ],
)
def test_bad_online_feedback_is_400_and_writes_nothing(client, station, data):
    response = client.post(reverse("feedback:new"), {**data, "idempotency_key": new_key()})
    assert response.status_code == 400
    assert not Feedback.objects.exists()


def test_an_online_rating_with_a_tag_of_another_level_names_the_allowed_tags(client, service):
    response = client.post(
        reverse("feedback:new"),
        {
            "kind": "online_rating",
            "service": service.service_code,
            "level": "1",
            "reasons": ["friendly"],
            "idempotency_key": new_key(),
        },
    )
    assert response.status_code == 400
    assert "waiting_time" in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_double_tap_on_the_feedback_form_writes_one_row(client, station):
    data = {"kind": "suggestion", "text": "加座位", "idempotency_key": new_key()}
    assert client.post(reverse("feedback:new"), data).status_code == 302
    assert client.post(reverse("feedback:new"), data).status_code == 302
    assert Feedback.objects.count() == 1


def test_the_feedback_honeypot(client):
    response = client.post(
        reverse("feedback:new"),
        {"kind": "suggestion", "text": "buy", "website": "x", "idempotency_key": new_key()},
    )
    assert response["Location"] == reverse("feedback:thanks")
    assert not Feedback.objects.exists()


def test_a_form_without_its_idempotency_key_is_refused(client):
    response = client.post(reverse("feedback:new"), {"kind": "suggestion", "text": "x"})
    assert response.status_code == 400
    assert not Feedback.objects.exists()


# The world of the role tests -------------------------------------------------------------------
@pytest.fixture
def world(rate_visit, routing, citizen, partner, station):
    """A citizen's bad rating of a hukou visit (with a phone number, and its case), and an
    anonymous suggestion about the mall's station (with a phone number)."""
    rating = rate_visit(1, actor=citizen, comment="等了很久", contact_phone="13900000001")
    services.rectification_open(feedback_id=rating.pk)
    rating.refresh_from_db()
    mall = suggestion(
        organisation=partner, station=station, text="停车指引不清", contact_phone="13900000002"
    )
    return SimpleNamespace(rating=rating, mall=mall)


DETAIL = {
    # role: (hukou rating, mall suggestion)
    "superuser": (200, 200),
    "department_admin": (200, 404),
    "department_staff": (200, 404),
    "department_viewer": (200, 404),
    "other_department_staff": (404, 404),
    "partner_admin": (404, 200),
    "partner_staff": (404, 200),
    "other_partner_admin": (404, 404),
    "citizen": (200, 404),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_opens_which_feedback(client, request, world, role):
    sign_in(client, request, role)
    for feedback, column in ((world.rating, 0), (world.mall, 1)):
        response = client.get(reverse("feedback:detail", args=[feedback.pk]))
        if role == "anonymous":
            assert redirects_to_login(response)
        else:
            assert response.status_code == DETAIL[role][column], (role, feedback)


CONTACT_SEERS = {"superuser", "department_admin", "department_staff"}
FORMS = {
    # role: the forms on the hukou rating's page
    "superuser": {"reply", "hide", "appeal"},
    "department_admin": {"reply", "hide", "appeal"},
    "department_staff": {"reply", "appeal"},
    "department_viewer": set(),
    "citizen": set(),
}


@pytest.mark.parametrize("role", sorted(FORMS))
def test_the_detail_page_shows_contacts_and_forms_by_role(client, request, world, role):
    sign_in(client, request, role)
    page = client.get(reverse("feedback:detail", args=[world.rating.pk])).content.decode()

    assert ("13900000001" in page) is (role in CONTACT_SEERS)
    shown = {form for form in ("reply", "hide", "appeal", "decide") if f'id="{form}"' in page}
    assert shown == FORMS[role]
    assert "等了很久" in page
    assert world.rating.case.reference in page


def test_the_author_sees_the_rerate_button_once_rectified(client, world, citizen, department_staff):
    from tests.feedback.test_services import resolve

    client.force_login(citizen)
    url = reverse("feedback:detail", args=[world.rating.pk])
    assert "评价整改结果" not in client.get(url).content.decode()
    resolve(world.rating.case, department_staff)
    page = client.get(url).content.decode()
    assert "评价整改结果" in page
    assert "/feedback/rerate/" in page


def test_text_is_rendered_escaped(client, rate_visit, department_staff):
    rating = rate_visit(2, comment='<script>alert("x")</script><img src=x onerror=alert(1)>')
    client.force_login(department_staff)
    for url in (reverse("feedback:detail", args=[rating.pk]), reverse("feedback:inbox")):
        page = client.get(url).content.decode()
        assert "<script>alert" not in page
        assert "<img src=x" not in page
        assert "&lt;script&gt;" in page or "&lt;img" in page


# Actions -------------------------------------------------------------------
def act(client, feedback, action, **data):
    return client.post(reverse("feedback:act", args=[feedback.pk, action]), data)


REPLY = {
    "superuser": 302,
    "department_admin": 302,
    "department_staff": 302,
    "department_viewer": 403,
    "other_department_staff": 404,
    "partner_admin": 404,
    "partner_staff": 404,
    "other_partner_admin": 404,
    "citizen": 403,
}


@pytest.mark.parametrize("role", ROLES)
def test_who_replies(client, request, world, role, delivered):
    sign_in(client, request, role)
    response = act(client, world.rating, "reply", body="已回访并致歉")
    world.rating.refresh_from_db()
    if role == "anonymous":
        assert redirects_to_login(response)
        assert world.rating.reply == ""
    else:
        assert response.status_code == REPLY[role]
        assert (world.rating.reply == "已回访并致歉") is (REPLY[role] == 302)


HIDE = {**REPLY, "department_staff": 403}


@pytest.mark.parametrize("role", ROLES)
def test_who_hides_text(client, request, world, role):
    sign_in(client, request, role)
    response = act(client, world.rating, "hide", reason="含个人信息")
    world.rating.refresh_from_db()
    if role == "anonymous":
        assert redirects_to_login(response)
        assert not world.rating.is_hidden
    else:
        assert response.status_code == HIDE[role]
        assert world.rating.is_hidden is (HIDE[role] == 302)
    assert world.rating.level == 1


@pytest.mark.parametrize("role", ROLES)
def test_who_appeals(client, request, world, role, delivered):
    sign_in(client, request, role)
    response = act(client, world.rating, "appeal", reason="评价人办错了窗口")
    if role == "anonymous":
        assert redirects_to_login(response)
    else:
        assert response.status_code == REPLY[role]
    assert Appeal.objects.exists() is (role != "anonymous" and REPLY[role] == 302)


def test_an_appeal_through_the_pages_is_decided_by_the_admin(
    client, world, department_staff, department_admin, delivered
):
    client.force_login(department_staff)
    assert act(client, world.rating, "appeal", reason="误评").status_code == 302
    detail = reverse("feedback:detail", args=[world.rating.pk])
    page = client.get(detail).content.decode()
    assert 'id="decide"' not in page
    assert 'id="appeal"' not in page  # one pending appeal at a time
    refused = act(client, world.rating, "decide", upheld="1", note="自己批")
    assert refused.status_code == 403

    client.force_login(department_admin)
    inbox = client.get(reverse("feedback:inbox") + "?appeals=pending")
    assert listed(inbox) == {world.rating.pk}
    assert 'id="decide"' in client.get(detail).content.decode()
    assert act(client, world.rating, "decide", upheld="1", note="属实").status_code == 302

    world.rating.refresh_from_db()
    assert world.rating.excluded is True
    assert Appeal.objects.get().status == Appeal.Status.UPHELD
    assert listed(client.get(reverse("feedback:inbox") + "?appeals=pending")) == set()
    assert world.rating.pk in listed(client.get(reverse("feedback:inbox")))  # kept


def test_a_second_appeal_while_one_is_pending_is_400(client, world, department_staff, delivered):
    client.force_login(department_staff)
    act(client, world.rating, "appeal", reason="误评")
    response = act(client, world.rating, "appeal", reason="再次")
    assert response.status_code == 400
    assert "已有一项申诉" in response.content.decode()
    assert Appeal.objects.count() == 1


def test_an_admins_appeal_is_decided_by_a_superuser_only(
    client, world, department_admin, superuser, delivered
):
    client.force_login(department_admin)
    act(client, world.rating, "appeal", reason="误评")
    assert act(client, world.rating, "decide", upheld="1", note="x").status_code == 403
    client.force_login(superuser)
    assert act(client, world.rating, "decide", upheld="0", note="不成立").status_code == 302
    assert Appeal.objects.get().status == Appeal.Status.DISMISSED


def test_deciding_without_a_pending_appeal_is_400(client, world, superuser):
    client.force_login(superuser)
    response = act(client, world.rating, "decide", upheld="1", note="x")
    assert response.status_code == 400
    assert "没有待审核的申诉" in response.content.decode()


def test_an_empty_reply_is_400(client, world, department_staff):
    client.force_login(department_staff)
    assert act(client, world.rating, "reply", body="   ").status_code == 400
    world.rating.refresh_from_db()
    assert world.rating.reply == ""


def test_an_unknown_action_is_404_and_get_is_405(client, world, department_staff):
    client.force_login(department_staff)
    assert act(client, world.rating, "delete").status_code == 404
    url = reverse("feedback:act", args=[world.rating.pk, "reply"])
    assert client.get(url).status_code == 405
    assert client.get(reverse("feedback:detail", args=[999999])).status_code == 404


# Inbox and CSV -------------------------------------------------------------------
INBOX = {
    # role: which of (hukou rating, mall suggestion) are listed
    "superuser": {"rating", "mall"},
    "department_admin": {"rating"},
    "department_staff": {"rating"},
    "department_viewer": {"rating"},
    "other_department_staff": set(),
    "partner_admin": {"mall"},
    "partner_staff": {"mall"},
    "other_partner_admin": set(),
}


@pytest.mark.parametrize("role", ROLES)
def test_who_reads_which_inbox(client, request, world, role):
    sign_in(client, request, role)
    for name in ("feedback:inbox", "feedback:inbox-csv"):
        response = client.get(reverse(name))
        if role == "anonymous":
            assert redirects_to_login(response)
        elif role == "citizen":
            assert response.status_code == 403
        else:
            assert response.status_code == 200
    if role in INBOX:
        expected = {getattr(world, name).pk for name in INBOX[role]}
        assert listed(client.get(reverse("feedback:inbox"))) == expected
        rows = csv_rows(client.get(reverse("feedback:inbox-csv")))
        assert {int(row["id"]) for row in rows} == expected


def csv_rows(response) -> list[dict]:
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


@pytest.fixture
def inbox_rows(make_visit, service, other_service, station, department, department_admin):
    """Rows of every kind for hukou, with known times, levels and states."""
    rows = {}
    rows["bad"] = services.visit_rate(
        token=tokens.visit_token(make_visit()), level=1, now=timezone.now()
    )
    Feedback.objects.filter(pk=rows["bad"].pk).update(created_at=at(2026, 9, 30, 10))
    rows["good"] = services.feedback_submit(
        actor=None, kind="online_rating", level=5, service=service
    )
    Feedback.objects.filter(pk=rows["good"].pk).update(created_at=at(2026, 10, 8, 10))
    rows["note"] = suggestion(
        organisation=department, text="建议", created_at=at(2026, 10, 9, 23, 59)
    )
    services.feedback_reply(actor=fresh(department_admin), feedback=rows["note"], body="谢谢")
    return {name: row.pk for name, row in rows.items()}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"bad", "good", "note"}),
        ("kind=visit_rating", {"bad"}),
        ("kind=suggestion", {"note"}),
        ("level=5", {"good"}),
        ("level=1", {"bad"}),
        ("station=mall-station", {"bad"}),
        ("service=HK-ID", {"bad", "good"}),
        ("answered=yes", {"note"}),
        ("answered=no", {"bad", "good"}),
        ("start=2026-10-01&end=2026-10-08", {"good"}),
        ("start=2026-10-09&end=2026-10-09", {"note"}),
        ("end=2026-09-30", {"bad"}),
        ("kind=online_rating&level=5&service=HK-ID&answered=no", {"good"}),
    ],
)
def test_inbox_filters(client, inbox_rows, department_staff, query, expected):
    client.force_login(department_staff)
    response = client.get(reverse("feedback:inbox") + "?" + query)
    assert response.status_code == 200
    assert listed(response) == {inbox_rows[name] for name in expected}
    rows = csv_rows(client.get(reverse("feedback:inbox-csv") + "?" + query))
    assert {int(row["id"]) for row in rows} == {inbox_rows[name] for name in expected}


@pytest.mark.parametrize(
    "query", ["level=9", "kind=gossip", "start=yesterday", "start=2026-10-09&end=2026-10-01"]
)
def test_a_bad_filter_is_400_with_the_form_errors(client, inbox_rows, department_staff, query):
    client.force_login(department_staff)
    response = client.get(reverse("feedback:inbox") + "?" + query)
    assert response.status_code == 400
    assert field_errors(response)


def test_the_csv_has_no_contacts_no_hidden_text_and_no_formulas(
    client, rate_visit, department_admin, department_staff
):
    formula = rate_visit(
        2,
        comment='=HYPERLINK("http://evil.example","点我")',
        contact_name="李先生",
        contact_phone=CONTACT_PHONE,
        contact_email=CONTACT_EMAIL,
    )
    hidden = rate_visit(1, comment="秘密的辱骂内容")
    services.feedback_hide(actor=fresh(department_admin), feedback=hidden, reason="辱骂")
    services.feedback_reply(actor=fresh(department_staff), feedback=formula, body="@SUM(A1:A9)")
    for text in ("+cmd", "-2+3", "\tx"):
        rate_visit(3, comment=text)

    client.force_login(department_staff)
    response = client.get(reverse("feedback:inbox-csv"))

    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    body = response.content.decode("utf-8")
    for private in ("李先生", CONTACT_PHONE, CONTACT_EMAIL, "秘密的辱骂内容"):
        assert private not in body
    rows = {int(row["id"]): row for row in csv_rows(response)}
    assert rows[formula.pk]["text"].startswith("'=HYPERLINK")
    assert rows[formula.pk]["reply"] == "'@SUM(A1:A9)"
    assert rows[hidden.pk]["text"] == ""
    assert rows[hidden.pk]["hidden"] == "1"
    for row in rows.values():
        for value in row.values():
            assert value[:1] not in ("=", "+", "-", "@", "\t") or value.lstrip("-").isdigit()


def test_the_inbox_runs_a_constant_number_of_queries(
    client, department_staff, department, service, station, rate_visit, routing
):
    case = services.rectification_open(feedback_id=rate_visit(1).pk)
    client.force_login(department_staff)

    def make_rows(n):
        Feedback.objects.bulk_create(
            Feedback(
                kind=Kind.ONLINE_RATING if i % 2 else Kind.SUGGESTION,
                level=2 if i % 2 else None,
                text=f"第{i}条",
                service=service,
                station=station,
                organisation=department,
                case=case,
                reply="已答复" if i % 3 else "",
                channel="web",
            )
            for i in range(n)
        )

    count = assert_constant_queries(
        lambda: client.get(reverse("feedback:inbox")),
        make_rows,
        check=lambda response, rows: len(listed(response)) >= rows,
    )
    print(f"/feedback/inbox/: {count} queries")
    assert count <= 12


def test_mine_runs_a_constant_number_of_queries(
    client, citizen, service, station, rate_visit, routing
):
    case = services.rectification_open(feedback_id=rate_visit(1, actor=citizen).pk)
    client.force_login(citizen)

    def make_rows(n):
        Feedback.objects.bulk_create(
            Feedback(
                kind=Kind.ONLINE_RATING,
                level=4,
                service=service,
                station=station,
                user=citizen,
                case=case,
                reply="谢谢" if i % 2 else "",
                channel="web",
            )
            for i in range(n)
        )

    count = assert_constant_queries(
        lambda: client.get(reverse("feedback:mine")),
        make_rows,
        large=19,
        check=lambda response, rows: len(listed(response)) >= rows,
    )
    print(f"/feedback/mine/: {count} queries")
    assert count <= 10


def test_mine_lists_only_ones_own(client, world, citizen, department_staff):
    client.force_login(department_staff)
    assert listed(client.get(reverse("feedback:mine"))) == set()
    client.force_login(citizen)
    assert listed(client.get(reverse("feedback:mine"))) == {world.rating.pk}
    client.logout()
    assert redirects_to_login(client.get(reverse("feedback:mine")))


# Re-rating -------------------------------------------------------------------
@pytest.fixture
def rectified(rate_visit, routing, department_staff):
    from tests.feedback.test_services import resolve

    rating = rate_visit(2, contact_email=CONTACT_EMAIL)
    resolve(services.rectification_open(feedback_id=rating.pk), department_staff)
    rating.refresh_from_db()
    return rating


def rerate_url(feedback) -> str:
    return reverse("feedback:rerate", args=[tokens.rerate_token(feedback.pk)])


def test_rerating_once_keeps_the_original(client, rectified):
    url = rerate_url(rectified)
    page = client.get(url)
    assert page.status_code == 200
    assert "不满意" in page.content.decode()

    response = client.post(url, {"level": "5", "comment": "很满意"})

    assert response.status_code == 302
    rectified.refresh_from_db()
    assert (rectified.level, rectified.rerating_level) == (2, 5)
    assert "你对整改的评价" in client.get(url).content.decode()
    again = client.post(url, {"level": "1"})
    assert again.status_code == 400
    assert "你对整改的评价" in again.content.decode()  # the verdict already given
    rectified.refresh_from_db()
    assert rectified.rerating_level == 5


def test_no_rerating_before_the_case_is_resolved(client, rate_visit):
    rating = rate_visit(1)
    url = rerate_url(rating)
    assert "整改还没有完成" in client.get(url).content.decode()
    response = client.post(url, {"level": "5"})
    assert response.status_code == 400
    rating.refresh_from_db()
    assert rating.rerated_at is None


@pytest.mark.parametrize("level", ["0", "6", ""])
def test_a_bad_rerating_level_is_400(client, rectified, level):
    assert client.post(rerate_url(rectified), {"level": level}).status_code == 400
    rectified.refresh_from_db()
    assert rectified.rerated_at is None


def test_a_forged_rerate_link_is_400_and_an_old_one_410(client, rectified, monkeypatch):
    forged = rerate_url(rectified)[:-3] + "xx/"
    response = client.post(forged, {"level": "5"})
    assert response.status_code == 400
    assert "链接无效" in response.content.decode()
    visit_token_as_rerate = reverse("feedback:rerate", args=[tokens.visit_token(rectified.visit)])
    assert client.get(visit_token_as_rerate).status_code == 400

    import django.core.signing

    real_time = django.core.signing.time.time
    monkeypatch.setattr(
        django.core.signing, "time", SimpleNamespace(time=lambda: real_time() - 31 * 86400)
    )
    old = rerate_url(rectified)
    monkeypatch.undo()
    response = client.post(old, {"level": "5"})
    assert response.status_code == 410
    assert "已经过期" in response.content.decode()
    rectified.refresh_from_db()
    assert rectified.rerated_at is None


def test_a_rerate_link_to_missing_feedback_is_404(client):
    assert (
        client.get(reverse("feedback:rerate", args=[tokens.rerate_token(424242)])).status_code
        == 404
    )


# The counter card -------------------------------------------------------------------
CARD_ALLOWED = {
    "superuser",
    "department_admin",
    "department_staff",
    "partner_admin",  # the station's host
    "partner_staff",
}


@pytest.mark.parametrize(
    "role",
    ROLES,
)
def test_who_prints_the_counter_card(client, request, visit, role):
    sign_in(client, request, role)
    response = client.get(reverse("feedback:counter-card", args=[visit.pk]))
    if role == "anonymous":
        assert redirects_to_login(response)
    elif role in CARD_ALLOWED:
        assert response.status_code == 200
        page = response.content.decode()
        assert "<svg" in page
        assert "http://testserver" + rate_url(visit) in page
    else:
        assert response.status_code == 403


def test_the_card_link_rates_the_visit(client, visit, department_staff):
    client.force_login(department_staff)
    page = client.get(reverse("feedback:counter-card", args=[visit.pk])).content.decode()
    url = re.search(r'class="card-url"><a href="([^"]+)"', page).group(1)
    client.logout()
    assert client.post(url, rating_post(5)).status_code == 302
    assert Feedback.objects.get().visit == visit


def test_the_card_of_a_missing_visit_is_404(client, department_staff):
    client.force_login(department_staff)
    assert client.get(reverse("feedback:counter-card", args=[987654])).status_code == 404


def test_the_qr_code_encodes_the_link():
    from feedback.views import qr_svg

    svg = qr_svg("https://gongzhi.example.cn/r/abc/")
    assert svg.startswith("<svg")
    assert "评价二维码" in svg


def test_rating_a_visit_needs_no_case_table_read(client, visit):
    """The rating page reads no case (the case is the task's business)."""
    response, queries = capture_queries(lambda: client.post(rate_url(visit), rating_post(1)))
    assert response.status_code == 302
    assert not any(Case._meta.db_table in sql for sql in queries)


def test_uuid_keys_are_stored(client, visit):
    key = uuid.uuid4()
    client.post(rate_url(visit), {"level": 5, "idempotency_key": str(key)})
    assert Feedback.objects.get().idempotency_key == key
