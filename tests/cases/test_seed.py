"""The demo cases: configuration, a realistic history told through the services, the KPIs on
the case metrics, and a second run that writes nothing."""

from __future__ import annotations

import datetime as dt
import io
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from governance.cases import metrics
from governance.cases import seed as case_seed
from governance.cases.models import (
    OPEN_STATUSES,
    Case,
    Category,
    CoHandler,
    OpenSpell,
    RoutingRule,
    SlaPolicy,
    Source,
    Status,
    TimelineEntry,
)
from governance.cases.routing import route, triage_slug
from governance.core import seeding
from governance.kpis.models import DirtyDay, Indicator, Measurement, Target
from governance.notifications.models import Notification
from governance.stakeholders.models import Organisation
from governance.stakeholders.seed import seed_organisations
from governance.stations.models import Service

TZ = ZoneInfo("Asia/Shanghai")
# A fixed last day, as in tests/core/test_seed_demo.py: the history ends at its midnight.
TODAY = dt.date(2026, 10, 20)
END = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), TZ)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

pytestmark = pytest.mark.django_db


def seed(*args: str) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--today", TODAY.isoformat(), stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    models = seeding.seeded_models()
    return {
        **{model._meta.label: model._default_manager.count() for model in models},
        "measurements": set(Measurement.objects.values_list("pk", "computed_at")),
        "cases": set(Case.objects.values_list("pk", "status", "updated_at")),
        "rules": set(RoutingRule.objects.values_list("pk", "updated_at")),
        "policies": set(SlaPolicy.objects.values_list("pk", "updated_at")),
        "targets": set(Target.objects.values_list("pk", "updated_at")),
    }


@pytest.fixture(autouse=True)
def _fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.MEDIA_ROOT = str(tmp_path / "media")


def demo_cases():
    return Case.objects.filter(title__in=[story.title for story in case_seed.STORIES])


@pytest.mark.usefixtures("demo_world")
class TestSeededCases:
    def test_the_command_reports_the_case_rows(self, demo_world):
        assert "cases.Case" in demo_world
        assert "cases.TimelineEntry" in demo_world
        assert demo_cases().count() == len(case_seed.STORIES)

    def test_seeding_again_writes_nothing(self):
        before = snapshot()

        output = seed("--with-demo-users")

        assert snapshot() == before
        assert "(+1" not in output

    def test_a_later_day_does_not_tell_the_history_again(self):
        count = demo_cases().count()
        out = io.StringIO()
        call_command(
            "seed_demo",
            "--with-demo-users",
            "--today",
            (TODAY + dt.timedelta(days=3)).isoformat(),
            stdout=out,
        )
        assert demo_cases().count() == count

    # Configuration ----------------------------------------------------------------------------

    def test_triage_desk_categories_rules_and_policies(self):
        triage = Organisation.objects.get(slug=triage_slug())
        assert triage.kind == Organisation.Kind.DEPARTMENT
        assert triage.short_name_zh == "综合受理窗口"
        assert triage.short_name_en == "One-stop counter"
        slugs = set(Category.objects.values_list("slug", flat=True))
        assert {"facility", "queue", "lost-property", "environment", "accessibility", "other"} <= (
            slugs
        )
        categories = {category.slug: category for category in Category.objects.all()}

        def routed(**criteria):
            found = route(station_id=None, **{"service_id": None, "category_id": None, **criteria})
            return found.rule.responsible.slug if found.rule else None, {
                Organisation.objects.get(pk=pk).slug for pk in found.cohandler_ids
            }

        assert routed(category_id=categories["facility"].pk) == ("mall", set())
        assert routed(category_id=categories["environment"].pk) == ("mall", set())
        assert routed(category_id=categories["accessibility"].pk) == ("mall", set())
        assert routed(category_id=categories["queue"].pk) == ("hukou", {"mall"})
        assert routed(category_id=categories["other"].pk) == (None, set())
        for service in Service.objects.select_related("department"):
            assert routed(service_id=service.pk) == (service.department.slug, set())
        # A queue problem at a service counter is still a queue problem.
        passport = Service.objects.get(service_code="EE-PASSPORT")
        assert routed(service_id=passport.pk, category_id=categories["queue"].pk)[0] == "hukou"

        default = SlaPolicy.objects.get(service=None, category=None, priority="")
        assert (default.acknowledge_hours, default.resolve_days) == (8, 5)
        queue = SlaPolicy.objects.get(category=categories["queue"], priority="")
        assert queue.acknowledge_hours < default.acknowledge_hours
        assert SlaPolicy.objects.filter(service__service_code="TR-VIOLATION").exists()

    # The history ------------------------------------------------------------------------------

    def test_statuses_are_a_realistic_mix(self):
        cases = list(demo_cases())
        statuses = Counter(case.status for case in cases)
        assert 60 <= len(cases) <= 120
        finished = statuses[Status.RESOLVED] + statuses[Status.CLOSED]
        assert finished > len(cases) / 2
        assert statuses[Status.CLOSED] > statuses[Status.RESOLVED] > 0
        for status in (Status.NEW, Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.REOPENED):
            assert statuses[status] >= 1, status
        assert statuses[Status.REJECTED] >= 3
        assert statuses[Status.DUPLICATE] >= 3
        for case in cases:
            if case.status == Status.DUPLICATE:
                assert case.duplicate_of.status != Status.DUPLICATE
                assert case.duplicate_of.created_at < case.created_at
            if case.status == Status.REJECTED:
                assert case.rejection_reason

    def test_most_are_on_time_some_late_a_few_reopened(self):
        cases = demo_cases()
        resolved = [case for case in cases if case.first_resolved_at]
        on_time = sum(case.resolved_on_time for case in resolved) / len(resolved)
        assert 0.7 <= on_time <= 0.95, on_time
        acknowledged = [case for case in cases if case.acknowledged_at]
        late_acks = [case for case in acknowledged if not case.acknowledged_on_time]
        assert 1 <= len(late_acks) < len(acknowledged) / 5
        reopened = [case for case in cases if case.reopen_count]
        assert 2 <= len(reopened) <= 6
        assert any(case.status == Status.REOPENED for case in reopened)
        assert any(case.status in (Status.RESOLVED, Status.CLOSED) for case in reopened)

    def test_open_cases_form_a_backlog_some_overdue_and_some_in_triage(self):
        open_cases = [case for case in demo_cases() if case.status in OPEN_STATUSES]
        assert 8 <= len(open_cases) <= 25
        overdue = [case for case in open_cases if case.resolve_due_at < END]
        assert len(overdue) >= 2
        triage = [case for case in open_cases if case.responsible_id is None]
        assert 1 <= len(triage) <= 3
        assert all(case.status == Status.NEW for case in triage)
        assert all(case.routing == Case.Routing.TRIAGE for case in triage)
        assert demo_cases().filter(routing=Case.Routing.MANUAL).exists()

    def test_cohandled_cases_by_rule_and_by_hand(self):
        cohandlers = CoHandler.objects.filter(case__in=demo_cases()).select_related(
            "organisation", "case"
        )
        by_rule = [c for c in cohandlers if c.case.category and c.case.category.slug == "queue"]
        assert by_rule
        assert all(c.organisation.slug == "mall" for c in by_rule)
        assert {c.state for c in by_rule} == {CoHandler.State.DONE, CoHandler.State.OPEN}
        by_hand = {c.organisation.slug for c in cohandlers if c not in by_rule}
        assert {"bank", "shuangqing-community"} <= by_hand

    def test_reporters_citizens_staff_partners_and_anonymous(self):
        cases = list(demo_cases().select_related("reporter"))
        citizen = [c for c in cases if c.reporter and c.reporter.email == case_seed.CITIZEN]
        assert len(citizen) >= 5
        private = [c for c in citizen if not c.is_public]
        assert len(private) == 1
        assert private[0].contact_phone
        anonymous = [c for c in cases if c.reporter is None]
        assert any(c.contact_phone for c in anonymous)
        assert any(not c.contact_phone for c in anonymous)
        sources = {c.source for c in cases}
        assert {Source.CITIZEN, Source.STAFF, Source.PARTNER} <= sources

    def test_timelines_run_in_order_and_stop_at_the_seed_time(self):
        cases = demo_cases()
        entries = TimelineEntry.objects.filter(case__in=cases).order_by("case", "pk")
        last: dict[int, dt.datetime] = {}
        kinds = Counter()
        for entry in entries:
            assert entry.created_at <= END
            assert entry.created_at >= last.get(entry.case_id, entry.created_at)
            last[entry.case_id] = entry.created_at
            kinds[entry.kind] += 1
        for kind in ("opened", "routed", "status", "reply", "assigned", "note", "cohandler"):
            assert kinds[kind] > 0, kind
        for case in cases:
            assert case.created_at <= END
            assert case.created_at >= END - dt.timedelta(days=91)
            if case.first_resolved_at:
                reply = case.timeline.filter(kind="reply").order_by("created_at").first()
                assert reply is not None, case.title
                assert case.acknowledged_at <= reply.created_at <= case.first_resolved_at
        # The backlog's spells agree with the statuses.
        running = set(
            OpenSpell.objects.filter(case__in=cases, ended_at=None).values_list("case", flat=True)
        )
        assert running == set(cases.filter(status__in=OPEN_STATUSES).values_list("pk", flat=True))

    def test_the_history_notifies_nobody(self):
        told = Notification.objects.filter(
            event_type__startswith="cases.",
            payload__case_id__in=list(demo_cases().values_list("pk", flat=True)),
        )
        assert not told.exists()

    # KPIs -------------------------------------------------------------------------------------

    def test_case_kpis_have_owners_targets_and_rollups(self):
        for spec in case_seed.INDICATORS:
            indicator = Indicator.objects.get(code=spec["code"])
            assert indicator.metric == spec["metric"]
            assert indicator.visibility == "public"
            assert set(indicator.owners.values_list("slug", flat=True)) == set(
                case_seed.CASE_OWNERS
            )
            assert indicator.targets.filter(period="month").count() == 15
        assert not DirtyDay.objects.filter(metric__in=metrics.METRIC_CODES).exists()
        platform = Measurement.objects.filter(
            station=None, service=None, department=None, partner=None
        )
        for code in metrics.METRIC_CODES:
            assert platform.filter(metric=code).exists(), code
        backlog = platform.filter(metric=metrics.BACKLOG.code, day=TODAY).get()
        # Every case counts, the demo's and those other wings open (bad ratings, proposals).
        open_at_end = OpenSpell.objects.filter(opened_at__lt=END).exclude(ended_at__lt=END).count()
        assert backlog.value == open_at_end > 0


def test_without_demo_users_seeds_the_configuration_but_no_cases(db):
    seed_organisations()
    context = seeding.SeedContext(
        stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=END - dt.timedelta(hours=3)
    )

    case_seed.seed_cases(context)

    assert Organisation.objects.filter(slug=triage_slug()).exists()
    assert Category.objects.filter(slug="queue").exists()
    assert RoutingRule.objects.filter(category__slug="queue").exists()
    assert SlaPolicy.objects.exists()
    assert Indicator.objects.get(code="cases-backlog").targets.count() == 15
    assert not Case.objects.exists()
    assert "跳过事项记录" in context.stdout.getvalue()
