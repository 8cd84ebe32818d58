"""Shared fixtures.

Tests that need a real service (PostgreSQL, Redis, a Celery worker) skip with a reason where
it is absent; with ``GONGZHI_REQUIRE_SERVICES=1`` (set by ``.ci/run``) they fail instead, so CI
never passes by skipping.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import uuid

import pytest
from django.conf import settings
from django.core.management import call_command
from django.db import connection, transaction
from django.test import override_settings

from tests.factories import (
    DepartmentFactory,
    MembershipFactory,
    PartnerFactory,
    UserFactory,
)

REQUIRE_SERVICES = os.environ.get("GONGZHI_REQUIRE_SERVICES") == "1"


def need(condition: bool, reason: str) -> None:
    """Skip (or, in CI, fail) when a real service the test needs is missing."""
    if condition:
        return
    if REQUIRE_SERVICES:
        pytest.fail(f"required service missing: {reason}")
    pytest.skip(reason)


@pytest.fixture
def require_postgres():
    need(connection.vendor == "postgresql", "needs PostgreSQL (set DATABASE_URL)")


@pytest.fixture
def require_redis():
    need(bool(settings.REDIS_URL), "needs Redis (set REDIS_URL)")


# The demo world ---------------------------------------------------------------------------------
# Every app's seed tests read the same world: ``seed_demo --with-demo-users`` with DEBUG off (as
# in production) and history ending on this day.
SEED_TODAY = dt.date(2026, 10, 20)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def demo_world(django_db_setup, django_db_blocker):
    """``seed_demo`` once per test process, rolled back when the session ends; its output.

    Seeding takes about a minute, and six apps test what it wrote: seeding once for all of
    them is most of what keeps the suite inside CI's budget. The tests that use this world run
    last (``pytest_collection_modifyitems`` below), so no other test ever sees its rows, and
    each runs in its own savepoint (the ``db`` fixture): a test that seeds again or changes
    rows leaves the next one the freshly seeded world.
    """
    with (
        django_db_blocker.unblock(),
        override_settings(DEBUG=False, PASSWORD_HASHERS=FAST_HASHERS),
        transaction.atomic(),
    ):
        out = io.StringIO()
        call_command(
            "seed_demo", "--with-demo-users", "--today", SEED_TODAY.isoformat(), stdout=out
        )
        yield out.getvalue()
        transaction.set_rollback(True)


def pytest_collection_modifyitems(config, items):
    """The tests of the seeded demo world run after all the others (see ``demo_world``).

    Under pytest-xdist this needs ``--dist loadscope --no-loadscope-reorder`` (``make test``):
    reordering scopes by size would hand a worker other tests after the world was seeded.
    """
    seeded = [item for item in items if "demo_world" in getattr(item, "fixturenames", ())]
    if seeded:
        chosen = set(seeded)
        items[:] = [item for item in items if item not in chosen] + seeded


@pytest.fixture(autouse=True)
def _isolated_cache(settings):
    """A fresh cache namespace per test, so rate-limit counters never leak between tests."""
    caches = {name: dict(config) for name, config in settings.CACHES.items()}
    caches["default"]["KEY_PREFIX"] = f"test-{uuid.uuid4().hex[:12]}"
    settings.CACHES = caches


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # PBKDF2's deliberate slowness is for attackers, not for a suite that creates many users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _mail_in_memory(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"


@pytest.fixture
def department(db):
    return DepartmentFactory(slug="hukou", name_zh="户政管理", name_en="Household Administration")


@pytest.fixture
def other_department(db):
    return DepartmentFactory(slug="traffic", name_zh="交通管理", name_en="Traffic Police")


@pytest.fixture
def partner(db):
    return PartnerFactory(slug="mall", name_zh="万象城", name_en="The Mixc")


@pytest.fixture
def other_partner(db):
    return PartnerFactory(slug="bank", name_zh="银行", name_en="Bank")


@pytest.fixture
def citizen(db):
    return UserFactory(email="citizen@example.com")


@pytest.fixture
def superuser(db):
    return UserFactory(email="root@example.com", is_staff=True, is_superuser=True)


def _member(organisation, role, email):
    membership = MembershipFactory(
        organisation=organisation, role=role, user=UserFactory(email=email, is_staff=True)
    )
    return membership.user


@pytest.fixture
def department_admin(department):
    return _member(department, "admin", "dept.admin@example.com")


@pytest.fixture
def department_staff(department):
    return _member(department, "staff", "dept.staff@example.com")


@pytest.fixture
def department_viewer(department):
    return _member(department, "viewer", "dept.viewer@example.com")


@pytest.fixture
def other_department_staff(other_department):
    return _member(other_department, "staff", "other.staff@example.com")


@pytest.fixture
def partner_admin(partner):
    return _member(partner, "admin", "partner.admin@example.com")


@pytest.fixture
def partner_staff(partner):
    return _member(partner, "staff", "partner.staff@example.com")


@pytest.fixture
def other_partner_admin(other_partner):
    return _member(other_partner, "admin", "other.partner@example.com")


@pytest.fixture
def totp(db):
    """Enrol a user in TOTP; returns a function giving the current code for that user."""
    import time

    from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value

    secret = "GONGZHITESTSECRETBASE32AAAAAAAAA"

    def enrol(user):
        TOTP.activate(user, secret)
        return lambda: format_hotp_value(hotp_value(secret, int(time.time()) // 30))

    return enrol


@pytest.fixture
def mfa_client(client, totp):
    """A test client signed in as ``user`` with TOTP enrolled (as the admin requires)."""

    def sign_in(user):
        totp(user)
        client.force_login(user)
        return client

    return sign_in
