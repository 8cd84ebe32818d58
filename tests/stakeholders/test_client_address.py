"""The client's address comes from the nearest trusted proxy, never from what the client sent."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from rest_framework.throttling import AnonRateThrottle

from governance.stakeholders.services import client_ip


def request_from(remote, forwarded=None):
    extra = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_the_socket_address_counts(settings):
    settings.TRUSTED_PROXY_COUNT = 0

    assert client_ip(request_from("203.0.113.7", "198.51.100.1")) == "203.0.113.7"


@pytest.mark.parametrize(
    ("forwarded", "expected"),
    [
        ("198.51.100.23", "198.51.100.23"),
        # The client wrote the first entry itself; the proxy appended the real one.
        ("6.6.6.6, 198.51.100.23", "198.51.100.23"),
        ("", "10.0.0.2"),
    ],
)
def test_behind_one_proxy_the_entry_it_appended_counts(settings, forwarded, expected):
    settings.TRUSTED_PROXY_COUNT = 1

    assert client_ip(request_from("10.0.0.2", forwarded)) == expected


def test_api_throttle_cannot_be_dodged_with_a_forged_forwarded_for(settings):
    # With no proxy configured DRF must key on the socket address (NUM_PROXIES = 0).
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == settings.TRUSTED_PROXY_COUNT == 0
    throttle = AnonRateThrottle()
    first = throttle.get_ident(request_from("203.0.113.7", "1.1.1.1"))
    second = throttle.get_ident(request_from("203.0.113.7", "2.2.2.2"))

    assert first == second == "203.0.113.7"
