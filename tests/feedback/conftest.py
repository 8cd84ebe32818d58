"""Fixtures for every test of the feedback wing: the small world of ``fixtures.py`` (the mall
station with hukou present, its services and visits, ratings through the real services), and
API clients."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.feedback.fixtures import *  # noqa: F403  (fixtures, found by pytest here)


def client_for(user=None, **defaults) -> APIClient:
    """An API client, signed in as ``user`` (DRF's forced authentication), with ``defaults``
    (``REMOTE_ADDR``, headers) on every request."""
    client = APIClient(**defaults)
    if user is not None:
        client.force_authenticate(user)
    return client


@pytest.fixture
def api():
    """An anonymous API client."""
    return client_for()
