"""The partners' demo: the mall's, the bank's and the telecom store's bilingual catalogue with
opening rules and a renovation closure, bookings of the last months and the coming weeks by the
departments and the community (declined and called off ones with their reasons, the latest
still waiting), pledges in every state, three agreements, volunteer shifts, training with
attendance, the shared KPIs rolled up; what the partner pages need is there, nobody is told of
the replayed history, and a second run writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import re
from collections import Counter, defaultdict
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import F

from governance.core import seeding
from governance.core.clock import replaying
from governance.kpis.models import DirtyDay, Indicator, Measurement, Target
from governance.kpis.registry import Scope
from governance.kpis.services import measure
from governance.notifications.models import Notification
from governance.stakeholders.models import Organisation, User
from governance.stakeholders.seed import seed_organisations
from partners import availability, metrics, queries
from partners import seed as partner_seed
from partners.models import (
    Agreement,
    AvailabilityException,
    Booking,
    OpeningRule,
    Pledge,
    Resource,
    TrainingSession,
    VolunteerShift,
)
from tests.factories import StationFactory

TZ = ZoneInfo("Asia/Shanghai")
# A fixed last day, as in the other seed tests: the history ends at its midnight.
TODAY = dt.date(2026, 10, 20)
END = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), TZ)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
CHINESE = re.compile(r"[\u4e00-\u9fff]")

pytestmark = pytest.mark.django_db


def seed(*args: str, today: dt.date = TODAY) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--today", today.isoformat(), stdout=out)
    return out.getvalue()


def person(key: str) -> User:
    return User.objects.get(email=partner_seed.PEOPLE[key])


def snapshot() -> dict:
    stamped = (Resource, Booking, Pledge, Agreement, VolunteerShift, TrainingSession)
    return {
        **{model._meta.label: model._default_manager.count() for model in seeding.seeded_models()},
        **{
            model._meta.label: set(model.objects.values_list("pk", "updated_at"))
            for model in stamped
        },
        "rules": set(OpeningRule.objects.values_list("pk", "weekday", "opens", "closes")),
        "measurements": set(
            Measurement.objects.filter(metric__in=metrics.CODES).values_list("pk", "computed_at")
        ),
        "targets": set(Target.objects.values_list("pk", "updated_at")),
        "dirty": DirtyDay.objects.count(),
    }


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def at_the_end():
    """The services' clock at the end of the seeded day (the queries read "now" there)."""
    with replaying(lambda: END):
        yield END


@pytest.mark.usefixtures("demo_world")
class TestSeededPartners:
    def test_the_command_reports_the_partner_rows(self, demo_world):
        for label in ("partners.Resource", "partners.Booking", "partners.VolunteerShift"):
            assert label in demo_world
        assert "企业伙伴演示记录" in demo_world

    def test_seeding_again_writes_nothing(self):
        before = snapshot()

        output = seed("--with-demo-users")

        assert snapshot() == before
        assert "(+1" not in output
        assert "企业伙伴演示记录" not in output

    def test_a_later_day_does_not_tell_the_history_again(self):
        counts = {
            model: model.objects.count()
            for model in (Booking, Pledge, Agreement, VolunteerShift, TrainingSession)
        }
        seed("--with-demo-users", today=TODAY + dt.timedelta(days=3))
        assert {model: model.objects.count() for model in counts} == counts

    # The catalogue ----------------------------------------------------------------------------

    def test_each_partner_has_a_bilingual_catalogue(self):
        resources = list(Resource.objects.select_related("partner", "station"))
        by_partner = Counter(resource.partner.slug for resource in resources)
        assert by_partner["mall"] == 8
        assert by_partner["bank"] >= 3
        assert by_partner["telecom"] >= 1
        for resource in resources:
            assert CHINESE.search(resource.name_zh), resource.name_zh
            assert re.search(r"[A-Za-z]", resource.name_en), resource.name_zh
            assert CHINESE.search(resource.description_zh), resource.name_zh
            assert resource.description_en, resource.name_zh
            assert resource.is_active
            if resource.kind == "funding":
                assert not resource.bookable
                assert resource.unit == "yuan"
        kinds = {resource.kind for resource in resources if resource.partner.slug == "mall"}
        assert kinds == {"space", "counter", "equipment", "parking", "volunteers", "funding"}
        visibilities = {resource.visibility for resource in resources}
        assert visibilities == {"public", "stakeholders"}

    def test_the_mall_gives_the_station_what_the_case_study_names(self):
        mall = {
            resource.name_zh: resource for resource in Resource.objects.filter(partner__slug="mall")
        }
        atrium = mall["中庭活动场地"]
        assert (atrium.kind, atrium.unit, atrium.bookable) == ("space", "sqm", True)
        assert atrium.station.slug == partner_seed.STATION
        assert mall["服务站办事窗口场地"].kind == "counter"
        assert not mall["服务站办事窗口场地"].bookable
        kiosks = mall["自助服务终端"]
        assert (kiosks.kind, kiosks.quantity, kiosks.unit) == ("equipment", 2, "items")
        parking = mall["办事群众专用停车位"]
        assert (parking.kind, parking.quantity, parking.unit) == ("parking", 20, "spaces")
        assert mall["中庭 LED 大屏"].kind == "equipment"
        assert mall["商场志愿者引导服务"].kind == "volunteers"
        assert mall["物业管理处会议室"].visibility == "stakeholders"

    def test_opening_rules_follow_the_mall_and_the_parking_never_closes(self):
        def hours(name):
            return sorted(
                OpeningRule.objects.filter(resource__name_zh=name).values_list(
                    "weekday", "opens", "closes"
                )
            )

        assert hours("中庭活动场地") == [(day, dt.time(10), dt.time(22)) for day in range(7)]
        assert hours("办事群众专用停车位") == [(day, dt.time(0), dt.time(0)) for day in range(7)]
        assert hours("物业管理处会议室") == [(day, dt.time(9), dt.time(18)) for day in range(5)]

    def test_the_atrium_closes_for_its_renovation_in_the_coming_weeks(self):
        closure = AvailabilityException.objects.get(resource__name_zh="中庭活动场地")
        assert closure.kind == "closed"
        assert "翻新" in closure.reason
        assert END < closure.starts_at < END + dt.timedelta(days=14)
        taken = Booking.objects.filter(
            resource=closure.resource,
            status__in=("requested", "approved"),
            starts_at__lt=closure.ends_at,
            ends_at__gt=closure.starts_at,
        )
        assert not taken.exists()
        week = queries.week(
            closure.resource,
            queries.monday_of(closure.starts_at.astimezone(TZ).date()),
            user=person("mall-staff"),
        )
        assert any(day.closures for day in week.days)

    # Bookings ---------------------------------------------------------------------------------

    def test_bookings_span_the_last_months_and_the_coming_weeks(self):
        bookings = Booking.objects.all()
        first = min(bookings.values_list("starts_at", flat=True))
        last = max(bookings.values_list("starts_at", flat=True))
        assert first < END - dt.timedelta(weeks=14)
        assert last > END + dt.timedelta(days=7)
        assert not bookings.filter(created_at__gt=END).exists()
        assert not bookings.filter(decided_at__gt=END).exists()
        for booking in bookings:
            assert booking.created_at < booking.starts_at
            if booking.decided_at:
                assert booking.created_at < booking.decided_at < booking.starts_at

    def test_departments_other_partners_and_the_community_book(self):
        requesters = set(Booking.objects.values_list("requester__slug", flat=True))
        assert {"hukou", "traffic", "exit-entry", "shuangqing-community", "bank"} <= requesters
        # Nobody books their own resource.
        assert not Booking.objects.filter(requester_id=F("resource__partner_id")).exists()

    def test_every_outcome_with_its_reason(self):
        statuses = Counter(Booking.objects.values_list("status", flat=True))
        assert set(statuses) == set(Booking.Status.values)
        assert statuses["approved"] > 3 * (statuses["declined"] + statuses["cancelled"])
        for booking in Booking.objects.filter(status="declined"):
            assert CHINESE.search(booking.decline_reason)
        cancelled = Booking.objects.filter(status="cancelled")
        assert {booking.cancelled_side for booking in cancelled} == {"owner", "requester"}
        assert all(CHINESE.search(booking.cancel_reason) for booking in cancelled)
        # The overlapping request the mall turned down names the booking it gave way to.
        assert Booking.objects.filter(
            status="declined", requester__slug="bank", decline_reason__contains="已批准"
        ).exists()

    def test_approved_bookings_keep_to_the_opening_hours(self):
        for booking in Booking.objects.filter(status="approved").select_related("resource"):
            resource = booking.resource
            refused = availability.refusal(
                list(resource.opening_rules.all()),
                [],
                booking.starts_at,
                booking.ends_at,
            )
            assert refused is None, booking

    def test_the_mall_has_requests_to_answer_and_bookings_ahead(self, at_the_end):
        staff = person("mall-staff")
        assert queries.pending_requests(staff).exists()
        assert queries.upcoming_bookings(staff).exists()
        hukou = person("hukou-staff")
        assert queries.bookings_visible_to(hukou).filter(status="requested").exists()

    def test_the_history_notifies_nobody(self):
        assert not Notification.objects.filter(event_type__startswith="partners.").exists()

    # Pledges, agreements ----------------------------------------------------------------------

    def test_pledges_in_every_state_to_proposals_and_a_case(self, at_the_end):
        pledges = Pledge.objects.select_related("proposal", "case")
        assert set(pledges.values_list("status", flat=True)) == set(Pledge.Status.values)
        for pledge in pledges.filter(status="delivered"):
            assert pledge.proposal is not None
            assert pledge.proposal.status in ("accepted", "implemented")
            assert pledge.delivered_at < END
        kiosk = pledges.get(resource__name_zh="自助服务终端")
        assert kiosk.status == "delivered"
        case_pledge = pledges.get(case__isnull=False)
        assert case_pledge.status == "offered"
        assert case_pledge.case.responsible.slug == "hukou"
        assert queries.pledges_to_answer(person("hukou-staff")).filter(pk=case_pledge.pk).exists()
        assert queries.pledges_to_answer(person("mall-staff")).filter(partner__slug="bank").exists()
        for pledge in pledges.filter(status__in=("declined", "withdrawn")):
            assert CHINESE.search(pledge.reason)

    def test_agreements_active_expiring_expired_and_draft(self, at_the_end):
        agreements = defaultdict(list)
        for agreement in Agreement.objects.all():
            agreements[agreement.status].append(agreement)
        assert len(agreements["draft"]) == 1
        active = sorted(agreements["active"], key=lambda agreement: agreement.ends_on)
        expired, expiring = active
        assert expired.is_expired(TODAY)
        assert expired.reminded_60_at is not None
        assert expired.reminded_14_at is not None
        assert expiring.ends_on == TODAY + dt.timedelta(days=45)
        assert not expiring.is_expired(TODAY)
        assert expiring.reminded_60_at is not None
        assert expiring.reminded_14_at is None
        assert expiring.departments.count() == 4
        shown = set(queries.expiring_agreements(person("mall-admin")))
        assert shown == {expired, expiring}
        assert set(queries.expiring_agreements(person("hukou-admin"))) == {expiring}

    # Volunteers and training ------------------------------------------------------------------

    def test_shifts_cover_eight_weeks_back_and_two_ahead(self):
        shifts = VolunteerShift.objects.filter(partner__slug="mall")
        days = {shift.starts_at.astimezone(TZ).date() for shift in shifts}
        assert min(days) == TODAY - dt.timedelta(weeks=8)
        assert max(days) == TODAY + dt.timedelta(weeks=2)
        assert {shift.station.slug for shift in shifts} == {partner_seed.STATION}
        past = Counter(shifts.filter(ends_at__lte=END).values_list("status", flat=True))
        assert past["done"] > 10 * (past["missed"] + past["cancelled"])
        assert past["missed"]
        assert past["cancelled"]
        assert set(shifts.filter(starts_at__gt=END).values_list("status", flat=True)) <= {
            "scheduled",
            "cancelled",
        }
        assert VolunteerShift.objects.filter(partner__slug="bank", status="done").exists()

    def test_training_sessions_record_who_came(self):
        sessions = TrainingSession.objects.prefetch_related("attendances")
        assert sessions.count() == len(partner_seed.SESSIONS)
        organisers = set(sessions.values_list("organiser__slug", flat=True))
        assert {"hukou", "mall", "traffic", "bank"} <= organisers
        for session in sessions:
            attended = [row for row in session.attendances.all() if row.attended]
            if session.starts_at > END:
                assert session.attendances.exists()
                assert not attended
            else:
                assert attended, session.topic_zh
        staff = {
            row.user.email
            for session in sessions
            for row in session.attendances.all()
            if row.user_id and row.attended
        }
        assert {"hukou.staff@demo.gongzhi.local", "mall.staff@demo.gongzhi.local"} <= staff
        volunteers = {
            row.name
            for session in sessions
            for row in session.attendances.all()
            if row.user_id is None and row.organisation.slug == "mall"
        }
        assert set(partner_seed.VOLUNTEERS) <= volunteers

    # KPIs -------------------------------------------------------------------------------------

    def test_shared_kpis_with_owners_and_monthly_targets(self):
        for owners, spec in partner_seed.INDICATORS:
            indicator = Indicator.objects.get(code=spec["code"])
            assert indicator.metric == spec["metric"]
            assert indicator.visibility == "public"
            assert indicator.name_en
            assert set(indicator.owners.values_list("slug", flat=True)) == set(owners)
            assert indicator.targets.filter(period="month").count() == 15
        hours = Indicator.objects.get(code="partners-volunteer-hours")
        assert set(hours.owners.values_list("slug", flat=True)) == {"mall", "hukou"}
        # What the partner dashboard lists: the KPIs the mall shares.
        shared = Indicator.objects.filter(owners__slug="mall", metric__startswith="partners.")
        assert shared.count() == len(partner_seed.INDICATORS)

    def test_the_figures_are_rolled_up_from_the_rows(self):
        assert not DirtyDay.objects.exists()
        platform = Measurement.objects.filter(
            station=None, service=None, department=None, partner=None
        )
        for code in metrics.CODES:
            assert platform.filter(metric=code).exists(), code
        mall = Scope(partner_id=Organisation.objects.get(slug="mall").pk)
        september = (dt.date(2026, 9, 1), dt.date(2026, 9, 30))
        assert measure("partners.volunteer_hours", mall, *september) > 100
        assert measure("partners.resource_hours", mall, *september) > 20
        assert 0 < measure("partners.utilisation", mall, *september) < 100
        assert 0 < measure("partners.booking_response_hours", None, *september) < 48
        assert measure("partners.pledges_delivered", None, TODAY - dt.timedelta(days=90), TODAY)
        # The coming weeks' utilisation is what is booked for them already.
        ahead = (TODAY + dt.timedelta(days=1), TODAY + dt.timedelta(days=21))
        assert measure("partners.utilisation", None, *ahead) is not None


# Without demo accounts -------------------------------------------------------------------------


def test_without_demo_accounts_the_catalogue_only_and_again_nothing(db):
    organisations = seed_organisations()
    StationFactory(slug=partner_seed.STATION, host=organisations["mall"])
    context = seeding.SeedContext(stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=END)

    partner_seed.seed_partners(context)

    assert Resource.objects.filter(partner__slug="mall").count() == 8
    assert OpeningRule.objects.exists()
    assert Indicator.objects.filter(metric__startswith="partners.").count() == len(
        partner_seed.INDICATORS
    )
    assert not Booking.objects.exists()
    assert not VolunteerShift.objects.exists()
    assert "演示账号" in context.stdout.getvalue()
    stamps = set(Resource.objects.values_list("pk", "updated_at"))
    rules = set(OpeningRule.objects.values_list("pk", flat=True))

    partner_seed.seed_partners(context)

    assert set(Resource.objects.values_list("pk", "updated_at")) == stamps
    assert set(OpeningRule.objects.values_list("pk", flat=True)) == rules


def test_changed_opening_rules_are_put_back(db):
    organisations = seed_organisations()
    StationFactory(slug=partner_seed.STATION, host=organisations["mall"])
    context = seeding.SeedContext(stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=END)
    partner_seed.seed_partners(context)
    atrium = Resource.objects.get(name_zh="中庭活动场地")
    OpeningRule.objects.filter(resource=atrium, weekday=6).delete()

    partner_seed.seed_partners(context)

    assert atrium.opening_rules.count() == 7
