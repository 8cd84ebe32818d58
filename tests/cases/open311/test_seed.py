"""The Open311 demo seed: attributes on three services, and the demo app with its published key
only when the demo accounts are seeded; idempotent."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.utils import timezone

from governance.cases.models import Open311Client, ServiceAttribute
from governance.cases.open311 import keys
from governance.cases.open311.seed import DEMO_KEY, seed_open311
from governance.core.seeding import SeedContext, registered_seeders
from tests.factories import DepartmentFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def context(*, with_demo_users: bool) -> SeedContext:
    return SeedContext(
        stdout=io.StringIO(),
        with_demo_users=with_demo_users,
        today=dt.date(2026, 10, 20),
        now=timezone.now(),
    )


@pytest.fixture
def catalogue():
    tianfu = DepartmentFactory(slug="tianfu")
    for code in ("HK-ID-RENEW", "TR-VIOLATION", "TF-SOCIAL"):
        ServiceFactory(service_code=code, department=tianfu)
    return tianfu


def test_the_seeder_is_registered_after_the_catalogue():
    seeder = next(seeder for seeder in registered_seeders() if seeder.name == "open311")

    assert seeder.order == 40
    assert set(seeder.models) == {"cases.ServiceAttribute", "cases.Open311Client"}


def test_the_demo_key_opens_the_demo_app(catalogue, client):
    seed_open311(context(with_demo_users=True))

    app = Open311Client.objects.get()
    assert app.name == "Gongzhi demo app"
    assert app.organisation == catalogue
    assert app.key_hash == keys.hash_key(DEMO_KEY)
    metadata = {
        row["service_code"]: row["metadata"]
        for row in client.get("/open311/v2/services.json").json()
    }
    assert metadata == {"HK-ID-RENEW": True, "TR-VIOLATION": True, "TF-SOCIAL": True}


def test_without_demo_users_there_is_no_demo_key(catalogue):
    seed_open311(context(with_demo_users=False))

    assert not Open311Client.objects.exists()
    assert ServiceAttribute.objects.count() == 7


def test_seeding_again_writes_nothing_and_restores_a_revoked_demo_key(catalogue):
    seed_open311(context(with_demo_users=True))
    stamps = dict(ServiceAttribute.objects.values_list("pk", "updated_at"))
    Open311Client.objects.update(is_active=False, revoked_at=timezone.now())

    seed_open311(context(with_demo_users=True))

    assert dict(ServiceAttribute.objects.values_list("pk", "updated_at")) == stamps
    assert Open311Client.objects.get().is_active is True
    assert Open311Client.objects.get().revoked_at is None
