from __future__ import annotations

import datetime as dt
import io
import re
import statistics
import time
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP, format_hotp_value, hotp_value
from django.contrib.auth import authenticate
from django.core.management import call_command
from django.core.management.base import CommandError
from django.urls import reverse

from feedback.models import Appeal, Feedback
from governance.core import seeding
from governance.stakeholders.models import Membership, Organisation, User
from governance.stakeholders.seed import DEMO_ACCOUNTS, DEMO_PASSWORD, DEMO_TOTP_SECRET
from governance.stations import seed as station_seed
from governance.stations.models import Channel, Service, Station, Visit
from tests.factories import UserFactory

TZ = ZoneInfo("Asia/Shanghai")
# A fixed last day, so runs are comparable whatever the clock says; its 90 days include the
# fortnight before the Mid-Autumn Festival and National Day.
TODAY = dt.date(2026, 10, 20)
MALL = "chenghua-mixc"
ADMIN_ACCOUNTS = [account for account in DEMO_ACCOUNTS if account.enters_admin]

pytestmark = pytest.mark.django_db


FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fast_hashing(settings):
    settings.PASSWORD_HASHERS = FAST_HASHERS


def seed(*args: str, today: dt.date | None = TODAY) -> str:
    out = io.StringIO()
    options = [*args, "--today", today.isoformat()] if today else list(args)
    call_command("seed_demo", *options, stdout=out)
    return out.getvalue()


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in seeding.seeded_models()}


def visit_keys() -> set[tuple[str, str, dt.datetime]]:
    return set(Visit.objects.values_list("station__slug", "ticket", "arrived_at"))


def local(moment: dt.datetime) -> dt.datetime:
    return moment.astimezone(TZ)


# A fresh database ------------------------------------------------------------------------------


def test_refuses_demo_accounts_when_debug_is_off_and_writes_nothing(settings):
    settings.DEBUG = False
    before = row_counts()

    with pytest.raises(CommandError, match="--with-demo-users"):
        seed(today=None)

    assert row_counts() == before
    assert not User.objects.exists()


def test_seeding_without_demo_users_stops_today_at_the_current_time(db):
    now = dt.datetime.combine(TODAY, dt.time(13), TZ)

    seeding.run_seeders(stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=now)

    assert not User.objects.exists()
    assert Organisation.objects.filter(slug="mall").exists()
    assert Service.objects.count() >= 20
    today = Visit.objects.filter(arrived_at__gte=dt.datetime.combine(TODAY, dt.time(0), TZ))
    assert today.exists()
    assert not today.filter(arrived_at__gte=now).exists()
    assert not today.filter(called_at__gt=now).exists()
    assert not today.filter(finished_at__gt=now).exists()
    assert today.filter(outcome__in=[Visit.Outcome.WAITING, Visit.Outcome.SERVING]).exists()

    # A second run the same day adds nothing, even though more people have come since.
    count = Visit.objects.count()
    later = dt.datetime.combine(TODAY, dt.time(21), TZ)
    seeding.run_seeders(stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=later)
    assert Visit.objects.count() == count


@pytest.mark.usefixtures("demo_world")
class TestSeededDemo:
    # Idempotency ------------------------------------------------------------------------------

    def test_seeding_again_writes_the_same_rows(self):
        counts, visits = row_counts(), visit_keys()
        stamps = {
            model: dict(model.objects.values_list("pk", "updated_at"))
            for model in (Organisation, Station, Service, Membership)
        }
        users = set(User.objects.values_list("pk", "password", "is_staff", "is_superuser"))

        output = seed("--with-demo-users")

        assert row_counts() == counts
        assert visit_keys() == visits
        for model, before in stamps.items():
            assert dict(model.objects.values_list("pk", "updated_at")) == before, model
        assert set(User.objects.values_list("pk", "password", "is_staff", "is_superuser")) == users
        assert "stations.Visit" in output
        assert "(+0)" in output
        assert "(+1" not in output

    def test_every_model_the_seed_touches_has_rows(self):
        counts = row_counts()
        assert all(count > 0 for count in counts.values()), counts
        assert {"stakeholders.User", "stations.Service", "stations.Visit"} <= set(counts)

    def test_visits_come_out_the_same_when_days_are_seeded_again(self):
        visits = visit_keys()
        first = dt.datetime.combine(TODAY - dt.timedelta(days=3), dt.time(0), TZ)
        # Ratings point at their visits (and appeals at their ratings): they go first.
        recent = Visit.objects.filter(arrived_at__gte=first)
        Appeal.objects.filter(feedback__visit__in=recent).delete()
        Feedback.objects.filter(visit__in=recent).delete()
        recent.delete()
        assert visit_keys() < visits

        seed("--without-demo-users")

        assert visit_keys() == visits

    def test_a_run_on_the_next_day_seeds_only_that_day(self):
        before = visit_keys()
        tomorrow = TODAY + dt.timedelta(days=1)

        seed("--without-demo-users", today=tomorrow)

        added = visit_keys() - before
        assert added
        assert before <= visit_keys()
        assert {local(arrived).date() for _slug, _ticket, arrived in added} == {tomorrow}

    # Demo accounts ----------------------------------------------------------------------------

    def test_debug_lets_the_demo_accounts_in_without_the_flag(self, settings):
        settings.DEBUG = True
        counts = row_counts()

        seed()

        assert row_counts() == counts

    def test_without_demo_users_leaves_the_accounts_alone(self):
        demo = User.objects.get(email="citizen@demo.gongzhi.local")
        demo.set_password("changed-by-someone")
        demo.save()

        seed("--without-demo-users")

        demo.refresh_from_db()
        assert demo.check_password("changed-by-someone")

    def test_every_demo_account_signs_in_with_the_demo_password(self):
        for account in DEMO_ACCOUNTS:
            user = authenticate(username=account.email, password=DEMO_PASSWORD)
            assert user is not None, account.email
            assert re.search(r"[\u4e00-\u9fff]", user.display_name)
            assert EmailAddress.objects.filter(
                user=user, email=account.email, verified=True, primary=True
            ).exists()

    def test_accounts_that_enter_the_admin_have_totp_and_staff_flag(self):
        assert {account.email for account in ADMIN_ACCOUNTS} == {
            account.email for account in DEMO_ACCOUNTS
        } - {"citizen@demo.gongzhi.local"}
        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30))
        for account in ADMIN_ACCOUNTS:
            user = User.objects.get(email=account.email)
            assert user.is_staff, account.email
            totp = Authenticator.objects.get(user=user, type=Authenticator.Type.TOTP)
            assert TOTP(totp).validate_code(code)
            assert Authenticator.objects.filter(
                user=user, type=Authenticator.Type.RECOVERY_CODES
            ).exists()

    def test_superuser_and_citizen_have_their_documented_flags(self):
        admin = User.objects.get(email="admin@demo.gongzhi.local")
        citizen = User.objects.get(email="citizen@demo.gongzhi.local")
        assert admin.is_superuser
        assert admin.is_staff
        assert not citizen.is_staff
        assert not citizen.is_superuser
        assert not citizen.memberships.exists()
        assert not Authenticator.objects.filter(user=citizen).exists()

    def test_members_hold_their_documented_roles(self):
        seats = set(Membership.objects.values_list("user__email", "organisation__slug", "role"))
        assert seats == {
            ("hukou.staff@demo.gongzhi.local", "hukou", "staff"),
            ("hukou.admin@demo.gongzhi.local", "hukou", "admin"),
            ("traffic.staff@demo.gongzhi.local", "traffic", "staff"),
            ("mall.admin@demo.gongzhi.local", "mall", "admin"),
            ("mall.staff@demo.gongzhi.local", "mall", "staff"),
            ("bank.admin@demo.gongzhi.local", "bank", "admin"),
        }

    def test_citizen_signs_in_through_allauth(self, client):
        response = client.post(
            reverse("account_login"),
            {"login": "citizen@demo.gongzhi.local", "password": DEMO_PASSWORD},
        )

        assert response.status_code == 302
        assert client.session.get("_auth_user_id") == str(
            User.objects.get(email="citizen@demo.gongzhi.local").pk
        )

    def test_staff_signs_in_through_allauth_with_the_demo_totp(self, client):
        response = client.post(
            reverse("account_login"),
            {"login": "hukou.staff@demo.gongzhi.local", "password": DEMO_PASSWORD},
        )
        assert response.status_code == 302
        assert response["Location"] == reverse("mfa_authenticate")

        code = format_hotp_value(hotp_value(DEMO_TOTP_SECRET, int(time.time()) // 30))
        response = client.post(reverse("mfa_authenticate"), {"code": code})

        assert response.status_code == 302
        assert client.session.get("_auth_user_id") == str(
            User.objects.get(email="hukou.staff@demo.gongzhi.local").pk
        )

    def test_rerun_resets_demo_passwords_but_leaves_other_users_alone(self):
        other = UserFactory(email="someone@example.com")
        other_password = other.password
        demo = User.objects.get(email="hukou.admin@demo.gongzhi.local")
        demo.set_password("changed-by-someone")
        demo.save()
        Authenticator.objects.filter(user=demo, type=Authenticator.Type.TOTP).delete()
        own = TOTP.activate(demo, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP").instance

        seed("--with-demo-users")

        demo.refresh_from_db()
        other.refresh_from_db()
        assert demo.check_password(DEMO_PASSWORD)
        assert other.password == other_password
        assert not other.is_staff
        # A user who enrolled their own authenticator keeps it.
        totp = Authenticator.objects.get(user=demo, type=Authenticator.Type.TOTP)
        assert totp.pk == own.pk
        assert not Authenticator.objects.filter(user=other).exists()

    # Organisations, stations and the catalogue -----------------------------------------------

    def test_organisations_cover_departments_partners_and_a_community(self):
        kinds = dict(Organisation.objects.values_list("slug", "kind"))
        departments = {slug for slug, kind in kinds.items() if kind == "department"}
        partners = {slug for slug, kind in kinds.items() if kind == "partner"}
        # The four at the station, and the one-stop counter that triages unrouted cases.
        assert departments == {"hukou", "traffic", "exit-entry", "tianfu", "triage"}
        assert partners >= {"mall", "bank", "telecom"}
        assert "community" in kinds.values()
        for organisation in Organisation.objects.all():
            assert re.search(r"[\u4e00-\u9fff]", organisation.name_zh)
            assert organisation.name_en
            assert organisation.short_name_zh
            assert organisation.short_name_en
            assert organisation.contact_phone

    def test_mall_station_is_hosted_by_the_mall_and_opens_every_day(self):
        station = Station.objects.get(slug=MALL)
        assert station.host.slug == "mall"
        assert set(station.departments.values_list("slug", flat=True)) == {
            "hukou",
            "traffic",
            "exit-entry",
            "tianfu",
        }
        assert sorted(station.opening_hours.values_list("weekday", "opens", "closes")) == [
            (weekday, dt.time(10), dt.time(22)) for weekday in range(7)
        ]
        assert Station.objects.count() >= 2

    def test_catalogue_has_bilingual_services_linked_to_stations(self):
        services = list(Service.objects.select_related("department").prefetch_related("stations"))
        assert len(services) >= 20
        mall = Station.objects.get(slug=MALL)
        for service in services:
            assert re.search(r"[\u4e00-\u9fff]", service.name_zh), service.service_code
            assert re.search(r"[A-Za-z]", service.name_en), service.service_code
            assert service.documents_zh
            assert ";" not in service.documents_zh + service.documents_en
            offered_at = set(service.stations.all())
            if service.channel == Channel.ONLINE:
                assert not offered_at, service.service_code
            else:
                assert mall in offered_at, service.service_code
        assert {service.channel for service in services} == set(Channel.values)
        renew = Service.objects.get(service_code="HK-ID-RENEW")
        assert renew.documents_zh.splitlines() == ["户口簿", "原身份证"]
        assert renew.documents_en.splitlines() == ["household register booklet", "current ID card"]
        assert renew.keywords == "身份证;换证;到期"
        assert Service.objects.get(service_code="EE-PASSPORT").department.slug == "exit-entry"
        centre = Service.objects.filter(stations__slug="chenghua-government-services")
        assert set(centre.values_list("department__slug", flat=True)) == {"tianfu"}

    # Visits -----------------------------------------------------------------------------------

    def test_visits_keep_the_order_of_events_and_the_mall_hours(self):
        visits = list(Visit.objects.filter(station__slug=MALL).select_related("service"))
        assert 14_000 <= Visit.objects.count() <= 24_000
        opens, closes = dt.time(10), dt.time(22)
        for visit in visits:
            assert opens <= local(visit.arrived_at).time() < closes
            if visit.called_at:
                assert visit.called_at >= visit.arrived_at
                assert local(visit.called_at).time() <= closes
            if visit.finished_at:
                assert visit.called_at is not None
                assert visit.finished_at >= visit.called_at
                assert local(visit.finished_at).date() == local(visit.arrived_at).date()
                assert local(visit.finished_at).time() <= closes
            if visit.channel == Channel.KIOSK:
                assert visit.ticket.startswith("K")
                assert visit.called_at == visit.arrived_at
                assert 2 <= visit.handling_minutes <= 6
            elif visit.called_at:
                assert 3 <= visit.wait_minutes <= 45
            assert re.fullmatch(r"[ABCDK]\d{3}", visit.ticket)
        tickets = Counter((local(visit.arrived_at).date(), visit.ticket) for visit in visits)
        assert max(tickets.values()) == 1
        outcomes = Counter(visit.outcome for visit in visits)
        assert 0 < outcomes[Visit.Outcome.ABANDONED] < len(visits) * 0.06
        assert outcomes[Visit.Outcome.MISSING_DOCUMENTS] > 0
        for visit in visits:
            if visit.outcome == Visit.Outcome.ABANDONED:
                assert visit.called_at is None
                assert visit.finished_at is None

    def test_visits_span_a_year_and_follow_each_stations_hours(self):
        arrivals = Visit.objects.values_list("arrived_at", flat=True)
        days = {local(arrived).date() for arrived in arrivals}
        assert min(days) == TODAY - dt.timedelta(days=364)
        assert max(days) == TODAY
        centre = Station.objects.get(slug="chenghua-government-services")
        hours = {
            weekday: (opens, closes)
            for weekday, opens, closes in centre.opening_hours.values_list(
                "weekday", "opens", "closes"
            )
        }
        assert centre.visits.exists()
        for arrived in centre.visits.values_list("arrived_at", flat=True):
            opens, closes = hours[local(arrived).weekday()]
            assert opens <= local(arrived).time() < closes

    def test_arrivals_peak_at_lunchtime_and_on_weekend_afternoons(self):
        arrivals = [
            local(arrived)
            for arrived in Visit.objects.filter(station__slug=MALL).values_list(
                "arrived_at", flat=True
            )
        ]
        by_hour = Counter(arrived.hour for arrived in arrivals)
        assert (by_hour[12] + by_hour[13]) / 2 > (by_hour[10] + by_hour[11]) / 2 * 1.5

        per_day = Counter(arrived.date() for arrived in arrivals)
        afternoons = Counter(arrived.date() for arrived in arrivals if 14 <= arrived.hour < 18)
        weekend = [day for day in per_day if day.weekday() >= 5]
        weekday = [day for day in per_day if day.weekday() < 5]
        assert statistics.mean(per_day[day] for day in weekend) > statistics.mean(
            per_day[day] for day in weekday
        )
        assert statistics.mean(afternoons[day] for day in weekend) > 1.5 * statistics.mean(
            afternoons[day] for day in weekday
        )

    def test_counter_waits_are_longer_at_peaks(self):
        waits = defaultdict(list)
        for visit in Visit.objects.filter(
            station__slug=MALL, channel=Channel.COUNTER, called_at__isnull=False
        ):
            waits[local(visit.arrived_at).hour].append(visit.wait_minutes)
        assert statistics.mean(waits[12] + waits[13]) > statistics.mean(waits[10]) + 5

    def test_travel_documents_surge_before_public_holidays(self):
        counts = {True: Counter(), False: Counter()}
        for arrived, department in Visit.objects.filter(station__slug=MALL).values_list(
            "arrived_at", "service__department__slug"
        ):
            before_holiday = station_seed.holiday_surge(local(arrived).date()) >= 0.5
            counts[before_holiday][department == "exit-entry"] += 1
        share = {key: c[True] / (c[True] + c[False]) for key, c in counts.items()}
        assert share[True] > 1.4 * share[False]

    # The registry -----------------------------------------------------------------------------

    def test_registered_seeders_run_in_order_after_the_core_ones(self, monkeypatch):
        monkeypatch.setattr(seeding, "_seeders", dict(seeding._seeders))
        seen = []

        def later(context):
            seen.append((context.today, Visit.objects.exists(), context.with_demo_users))

        seeding.register_seeder("later-wing", later, order=990, models=["stations.Visit"])
        seeding.register_seeder("later-wing", later, order=990, models=["stations.Visit"])

        seeding.run_seeders(stdout=io.StringIO(), with_demo_users=False, today=TODAY)

        assert seen == [(TODAY, True, False)]
        names = [seeder.name for seeder in seeding.registered_seeders()]
        assert names[:2] == ["stakeholders", "stations"]
        assert names[-1] == "later-wing"
        assert seeding.seeded_models().count(Visit) == 1  # the radar's Saturday queue too

    # KPIs -------------------------------------------------------------------------------------

    def test_kpis_have_owners_targets_an_approved_figure_and_rollups(self):
        from governance.kpis.models import DirtyDay, Indicator, Measurement, ReportedFigure
        from governance.stations.metrics import METRIC_CODES

        wait = Indicator.objects.get(code="wait-median")
        assert wait.name_zh == "窗口等候时间中位数"
        assert wait.name_en
        assert set(wait.owners.values_list("slug", flat=True)) == {"hukou", "mall"}
        # Monthly targets from a year back to two months ahead.
        starts = sorted(wait.targets.filter(period="month").values_list("period_start", flat=True))
        assert starts[0] == dt.date(2025, 10, 1)
        assert starts[-1] == dt.date(2026, 12, 1)
        assert len(starts) == 15
        footfall = Indicator.objects.get(code="mall-footfall")
        assert footfall.name_zh == "商场月客流量"
        figures = ReportedFigure.objects.shown(TODAY).filter(indicator=footfall)
        # Every complete month of the year, approved by household administration.
        assert sorted(figures.values_list("period_start", flat=True)) == [
            dt.date(2025, 10, 1),
            dt.date(2025, 11, 1),
            dt.date(2025, 12, 1),
            *(dt.date(2026, month, 1) for month in range(1, 10)),
        ]
        assert {figure.reviewed_by.email for figure in figures} == {
            "hukou.admin@demo.gongzhi.local"
        }
        first = TODAY - dt.timedelta(days=station_seed.WINDOW_DAYS - 1)
        days = Measurement.objects.filter(
            metric="stations.visits", station=None, service=None, department=None, partner=None
        ).values_list("day", flat=True)
        assert min(days) == first
        assert max(days) == TODAY
        assert not DirtyDay.objects.filter(metric__in=METRIC_CODES).exists()

    def test_seeding_again_recomputes_no_kpi_rollup(self):
        from governance.kpis.models import Indicator, Measurement, ReportedFigure, Target

        def snapshot():
            return (
                set(Measurement.objects.values_list("pk", "computed_at")),
                set(Target.objects.values_list("pk", "updated_at", "green", "amber")),
                set(ReportedFigure.objects.values_list("pk", "updated_at", "reviewed_at")),
                set(Indicator.objects.values_list("pk", "updated_at", "owners")),
            )

        before = snapshot()
        seed("--with-demo-users")
        assert snapshot() == before

    def test_seeded_kpis_read_the_same_through_the_api_as_from_the_rollups(self, client):
        from governance.kpis.services import measure

        response = client.get(
            "/api/v1/kpis/visits/measurements/?period=month&from=2026-09-01&to=2026-09-30"
        )

        assert response.status_code == 200
        value = response.json()["periods"][0]["value"]
        assert value == measure("stations.visits", None, dt.date(2026, 9, 1), dt.date(2026, 9, 30))
        assert value > 0
