"""Simplified Chinese by default, English on request; a signed-in user's choice is remembered."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def switch(client, language, next_url="/"):
    return client.post(reverse("set_language"), {"language": language, "next": next_url})


def test_pages_are_in_chinese_by_default(client):
    response = client.get(reverse("stations:home"))

    assert response.headers["Content-Language"] == "zh-hans"
    assert '<html lang="zh-Hans">' in response.content.decode()


def test_anonymous_visitor_switches_to_english_and_back(client):
    response = switch(client, "en", "/?q=passport")

    assert response.status_code == 302
    assert response["Location"] == "/?q=passport"
    assert client.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    page = client.get(reverse("stations:home"))
    assert page.headers["Content-Language"] == "en"
    assert '<html lang="en">' in page.content.decode()

    switch(client, "zh-hans")
    assert client.get(reverse("stations:home")).headers["Content-Language"] == "zh-hans"


def test_signed_in_user_language_choice_is_saved_on_the_account(client, citizen):
    client.force_login(citizen)

    switch(client, "en")

    citizen.refresh_from_db()
    assert citizen.language == "en"


def test_saved_language_follows_the_user_to_a_new_browser(client, citizen):
    citizen.language = "en"
    citizen.save(update_fields=["language"])

    client.post(reverse("account_login"), {"login": citizen.email, "password": PASSWORD})
    page = client.get(reverse("stations:home"))

    assert page.headers["Content-Language"] == "en"
    assert page.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"


def test_unknown_language_is_refused_and_changes_nothing(client, citizen):
    client.force_login(citizen)

    response = switch(client, "fr")

    assert response.status_code == 400
    citizen.refresh_from_db()
    assert citizen.language == "zh-hans"


def test_switch_does_not_redirect_off_site(client):
    response = switch(client, "en", "https://evil.example.com/")

    assert response.status_code == 302
    assert response["Location"] == "/"


def test_language_switch_refuses_get(client):
    assert client.get(reverse("set_language")).status_code == 405
