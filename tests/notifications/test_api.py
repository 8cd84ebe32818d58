"""/api/v1/notifications/ and /api/v1/notifications/preferences/: one's own inbox only, marking
read, the unread count, preferences with clear refusals, every role, and no anonymous access."""

from __future__ import annotations

import pytest
from django.utils import timezone
from rest_framework.authtoken.models import Token

from governance.notifications.models import Mode, Notification, Preference
from tests.notifications.conftest import ThingHappened
from tests.permission_table import ROLES
from tests.query_budget import assert_constant_queries

pytestmark = pytest.mark.django_db

LIST = "/api/v1/notifications/"
UNREAD = "/api/v1/notifications/unread/"
READ_ALL = "/api/v1/notifications/read-all/"
PREFERENCES = "/api/v1/notifications/preferences/"
MEMBERSHIP = "stakeholders.membership_granted"
TWO_FACTOR = "stakeholders.two_factor_changed"
SIGNED_IN = tuple(role for role in ROLES if role != "anonymous")


def detail(pk) -> str:
    return f"{LIST}{pk}/"


def read(pk) -> str:
    return f"{LIST}{pk}/read/"


def tell(user, *, title="一件事", read_at=None) -> Notification:
    return Notification.objects.create(
        recipient=user,
        event_type="tests.thing_happened",
        payload={"user_ids": [user.pk], "title": title, "when": None, "extra": None},
        url="/things/1/",
        mode=Mode.IMMEDIATE,
        read_at=read_at,
    )


@pytest.fixture
def api(client):
    def as_user(user):
        client.force_login(user)
        return client

    return as_user


# Anonymous ---------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", LIST),
        ("get", detail(1)),
        ("post", read(1)),
        ("post", READ_ALL),
        ("get", UNREAD),
        ("get", PREFERENCES),
        ("post", PREFERENCES),
    ],
)
def test_every_endpoint_refuses_anonymous_visitors(client, citizen, method, path):
    notification = tell(citizen)
    path = path.replace("/1/", f"/{notification.pk}/")
    response = getattr(client, method)(path, {"event_type": MEMBERSHIP, "mode": "off"})
    assert response.status_code == 401
    assert response["WWW-Authenticate"] == "Token"
    notification.refresh_from_db()
    assert notification.read_at is None
    assert not Preference.objects.exists()


def test_a_bad_token_is_refused(client, citizen):
    tell(citizen)
    response = client.get(LIST, headers={"authorization": "Token not-a-real-token"})
    assert response.status_code == 401


def test_a_token_reads_ones_own_inbox(client, event_types, citizen):
    tell(citizen, title="令牌")
    token = Token.objects.create(user=citizen)
    response = client.get(LIST, headers={"authorization": f"Token {token.key}"})
    assert response.status_code == 200
    assert [row["text"] for row in response.json()["results"]] == ["Thing: 令牌"]


def test_a_token_marks_read_without_csrf(client, event_types, citizen):
    notification = tell(citizen)
    token = Token.objects.create(user=citizen)
    response = client.post(read(notification.pk), headers={"authorization": f"Token {token.key}"})
    assert response.status_code == 200
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_a_session_needs_csrf_to_write(event_types, citizen):
    from django.test import Client

    notification = tell(citizen)
    client = Client(enforce_csrf_checks=True)
    client.force_login(citizen)
    assert client.post(read(notification.pk)).status_code == 403
    assert client.post(PREFERENCES, {"event_type": MEMBERSHIP, "mode": "off"}).status_code == 403
    notification.refresh_from_db()
    assert notification.read_at is None
    assert not Preference.objects.exists()


# Inbox -------------------------------------------------------------------------------------------
@pytest.mark.parametrize("role", SIGNED_IN)
def test_every_role_lists_only_its_own_notifications(request, api, event_types, role):
    me = request.getfixturevalue(role)
    someone = request.getfixturevalue("other_partner_admin" if role == "citizen" else "citizen")
    mine = tell(me, title="我的")
    tell(someone, title="别人的")
    response = api(me).get(LIST)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    (row,) = body["results"]
    assert row == {
        "id": mine.pk,
        "event_type": "tests.thing_happened",
        "label": "一件事发生了",
        "text": "Thing: 我的",
        "url": "/things/1/",
        "created_at": row["created_at"],
        "read_at": None,
    }
    # The event's payload is the services' internal contract (and may one day carry personal
    # data of a case); the API shows what the inbox shows.
    assert "payload" not in row


@pytest.mark.parametrize("role", SIGNED_IN)
def test_someone_elses_notification_is_not_found(request, api, event_types, citizen, role):
    me = request.getfixturevalue(role)
    other = citizen if role != "citizen" else request.getfixturevalue("partner_admin")
    theirs = tell(other)
    client = api(me)
    assert client.get(detail(theirs.pk)).status_code == 404
    assert client.post(read(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_a_missing_or_malformed_id_is_not_found(api, citizen):
    client = api(citizen)
    assert client.get(detail(999999)).status_code == 404
    assert client.get(f"{LIST}abc/").status_code == 404
    assert client.post(f"{LIST}abc/read/").status_code == 404


def test_newest_first_and_paginated(api, event_types, citizen):
    for n in range(25):
        tell(citizen, title=f"事{n:02d}")
    client = api(citizen)
    first = client.get(LIST).json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["results"][0]["text"] == "Thing: 事24"
    second = client.get(LIST, {"page": 2}).json()
    assert second["results"][-1]["text"] == "Thing: 事00"
    assert client.get(LIST, {"page": "abc"}).status_code == 404
    assert client.get(LIST, {"page_size": "abc"}).status_code == 400


def test_the_text_follows_the_request_language(api, citizen, partner):
    from governance.stakeholders.services import membership_grant

    membership_grant(actor=None, user=citizen, organisation=partner, role="staff")
    client = api(citizen)
    (row,) = client.get(LIST, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["results"]
    assert row["text"] == "您已加入万象城"
    assert row["label"] == "获得组织席位"
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    (row,) = client.get(LIST, HTTP_ACCEPT_LANGUAGE="en").json()["results"]
    assert row["text"] == "You now have a seat in The Mixc"
    assert row["label"] == "Seat in an organisation"


def test_a_notification_of_an_unregistered_type_does_not_break_the_list(api, citizen):
    Notification.objects.create(
        recipient=citizen, event_type="gone.away", payload={}, mode=Mode.IMMEDIATE
    )
    response = api(citizen).get(LIST)
    assert response.status_code == 200
    (row,) = response.json()["results"]
    assert row["label"] == "gone.away"
    assert row["text"] == "gone.away"


def test_the_list_runs_constant_queries(api, event_types, citizen):
    client = api(citizen)
    assert_constant_queries(
        lambda: client.get(f"{LIST}?page_size=100"),
        lambda n: [tell(citizen, title=f"事{i}") for i in range(n)],
        check=lambda response, rows: len(response.json()["results"]) == rows,
        max_queries=6,
    )


def test_reading_one(api, event_types, citizen):
    notification = tell(citizen)
    response = api(citizen).post(read(notification.pk))
    assert response.status_code == 200
    assert response.json()["read_at"] is not None
    notification.refresh_from_db()
    assert notification.read_at is not None
    # Again: still read, same time.
    again = api(citizen).post(read(notification.pk)).json()
    assert again["read_at"] == response.json()["read_at"]


def test_reading_needs_a_post(api, event_types, citizen):
    notification = tell(citizen)
    assert api(citizen).get(read(notification.pk)).status_code == 405


def test_read_all_and_the_unread_count(api, event_types, citizen, department_staff):
    tell(citizen)
    tell(citizen)
    tell(citizen, read_at=timezone.now())
    theirs = tell(department_staff)
    client = api(citizen)
    assert client.get(UNREAD).json() == {"unread": 2}
    assert client.post(READ_ALL).json() == {"marked": 2}
    assert client.get(UNREAD).json() == {"unread": 0}
    assert client.post(READ_ALL).json() == {"marked": 0}
    theirs.refresh_from_db()
    assert theirs.read_at is None


def test_the_unread_count_counts_only_ones_own(api, event_types, citizen, department_staff):
    tell(department_staff)
    assert api(citizen).get(UNREAD).json() == {"unread": 0}


def test_the_inbox_cannot_be_written_to(api, event_types, citizen):
    notification = tell(citizen)
    client = api(citizen)
    assert client.post(LIST, {"event_type": "x"}).status_code == 405
    assert client.delete(detail(notification.pk)).status_code == 405
    assert client.patch(detail(notification.pk), {"read_at": None}).status_code == 405
    assert Notification.objects.filter(pk=notification.pk).exists()


# Preferences -------------------------------------------------------------------------------------
def _by_type(rows) -> dict[str, dict]:
    return {row["event_type"]: row for row in rows}


@pytest.mark.parametrize(
    ("role", "default"),
    [
        ("superuser", Mode.IMMEDIATE),
        ("citizen", Mode.IMMEDIATE),
        ("department_admin", Mode.DAILY),
        ("department_staff", Mode.DAILY),
        ("department_viewer", Mode.DAILY),
        ("other_department_staff", Mode.DAILY),
        ("partner_admin", Mode.WEEKLY),
        ("partner_staff", Mode.WEEKLY),
        ("other_partner_admin", Mode.WEEKLY),
    ],
)
def test_every_role_sees_its_defaults(request, api, event_types, role, default):
    assert set(SIGNED_IN) == {
        "superuser",
        "citizen",
        "department_admin",
        "department_staff",
        "department_viewer",
        "other_department_staff",
        "partner_admin",
        "partner_staff",
        "other_partner_admin",
    }
    response = api(request.getfixturevalue(role)).get(PREFERENCES)
    assert response.status_code == 200
    rows = _by_type(response.json())
    assert rows["tests.thing_happened"]["mode"] == default
    assert rows["tests.thing_happened"]["default"] == default
    assert rows[MEMBERSHIP]["mode"] == Mode.IMMEDIATE
    assert rows[TWO_FACTOR] == {
        "event_type": TWO_FACTOR,
        "label": "双重验证变更",
        "mode": "immediate",
        "default": "immediate",
        "allowed": ["immediate"],
        "security": True,
    }


def test_department_staff_get_assignments_at_once(api, event_types, department_staff):
    rows = _by_type(api(department_staff).get(PREFERENCES).json())
    assert rows["tests.case_assigned"]["mode"] == Mode.IMMEDIATE
    assert rows["tests.rule_changed"]["allowed"] == ["immediate", "daily", "weekly"]


@pytest.mark.parametrize("role", SIGNED_IN)
def test_every_role_sets_its_own_preference(request, api, role):
    me = request.getfixturevalue(role)
    response = api(me).post(
        PREFERENCES, {"event_type": MEMBERSHIP, "mode": "weekly"}, content_type="application/json"
    )
    assert response.status_code == 200
    assert response.json()["mode"] == "weekly"
    assert list(Preference.objects.values_list("user_id", "event_type", "mode")) == [
        (me.pk, MEMBERSHIP, "weekly")
    ]


def test_setting_a_preference_twice_updates_it(api, citizen):
    client = api(citizen)
    client.post(PREFERENCES, {"event_type": MEMBERSHIP, "mode": "weekly"})
    client.post(PREFERENCES, {"event_type": MEMBERSHIP, "mode": "off"})
    assert Preference.objects.get(user=citizen).mode == Mode.OFF
    assert _by_type(client.get(PREFERENCES).json())[MEMBERSHIP]["mode"] == "off"


def test_a_preference_set_by_the_api_changes_what_publish_does(api, event_types, citizen):
    from governance.notifications import services

    api(citizen).post(PREFERENCES, {"event_type": "tests.thing_happened", "mode": "daily"})
    (notification,) = services.publish(ThingHappened(user_ids=(citizen.pk,)))
    assert notification.mode == Mode.DAILY


@pytest.mark.parametrize("mode", ["hourly", "", "OFF", "x" * 300, 5])
def test_an_unknown_mode_is_a_400_naming_the_allowed_values(api, citizen, mode):
    response = api(citizen).post(
        PREFERENCES, {"event_type": MEMBERSHIP, "mode": mode}, content_type="application/json"
    )
    assert response.status_code == 400
    (message,) = response.json()["mode"]
    for allowed in ("immediate", "daily", "weekly", "off"):
        assert allowed in message
    assert not Preference.objects.exists()


def test_turning_off_a_security_notice_is_a_400(api, citizen):
    response = api(citizen).post(PREFERENCES, {"event_type": TWO_FACTOR, "mode": "off"})
    assert response.status_code == 400
    (message,) = response.json()["mode"]
    assert "immediate" in message
    assert "off" in message  # it names the refused value too
    assert not Preference.objects.exists()


def test_off_where_the_type_does_not_offer_it_is_a_400(api, event_types, department_staff):
    response = api(department_staff).post(
        PREFERENCES, {"event_type": "tests.rule_changed", "mode": "off"}
    )
    assert response.status_code == 400
    (message,) = response.json()["mode"]
    assert "immediate, daily, weekly" in message
    assert not Preference.objects.exists()


@pytest.mark.parametrize("event_type", ["nope.never", "", "x" * 300])
def test_an_unknown_event_type_is_a_400(api, citizen, event_type):
    response = api(citizen).post(
        PREFERENCES, {"event_type": event_type, "mode": "off"}, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["event_type"]
    assert not Preference.objects.exists()


def test_an_unknown_event_type_lists_the_known_ones(api, citizen):
    response = api(citizen).post(PREFERENCES, {"event_type": "nope.never", "mode": "off"})
    (message,) = response.json()["event_type"]
    assert "nope.never" in message
    assert MEMBERSHIP in message


@pytest.mark.parametrize(
    "body",
    [{}, {"mode": "off"}, {"event_type": MEMBERSHIP}, [], "off", {"event_type": ["a"], "mode": {}}],
)
def test_a_malformed_body_is_a_400(api, citizen, body):
    response = api(citizen).post(PREFERENCES, body, content_type="application/json")
    assert response.status_code == 400
    assert not Preference.objects.exists()


def test_invalid_json_is_a_400(api, citizen):
    response = api(citizen).post(PREFERENCES, "{not json", content_type="application/json")
    assert response.status_code == 400


def test_preferences_are_one_list_without_pages(api, citizen):
    body = api(citizen).get(PREFERENCES).json()
    assert isinstance(body, list)
    assert {MEMBERSHIP, TWO_FACTOR} <= {row["event_type"] for row in body}


def test_the_preference_list_in_english(api, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])
    rows = _by_type(api(citizen).get(PREFERENCES, HTTP_ACCEPT_LANGUAGE="en").json())
    assert rows[MEMBERSHIP]["label"] == "Seat in an organisation"
