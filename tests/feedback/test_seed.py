"""The demo feedback: ratings of a third of the visits with a realistic mix, online ratings and
notes, the bad-rating loop told through the services, two appeals, the deadlines, the KPIs on
the feedback figures rolled up, and a second run that writes nothing."""

from __future__ import annotations

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from feedback import metrics
from feedback import seed as feedback_seed
from feedback.models import BAD_LEVELS, GOOD_LEVELS, Appeal, Feedback, FeedbackPolicy, Kind
from governance.cases.models import Source, Status, TimelineEntry
from governance.core import seeding
from governance.core.seeding import SeedContext
from governance.kpis.models import DirtyDay, Indicator, Measurement, Target
from governance.kpis.registry import day_start
from governance.kpis.services import measure
from governance.notifications.models import Notification
from governance.stations.models import Visit

TZ = ZoneInfo("Asia/Shanghai")
# A fixed last day, as in the other seed tests: the history ends at its midnight.
TODAY = dt.date(2026, 10, 20)
END = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), TZ)
FIRST = TODAY - dt.timedelta(days=feedback_seed.WINDOW_DAYS - 1)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

pytestmark = pytest.mark.django_db


def seed(*args: str, today: dt.date = TODAY) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--today", today.isoformat(), stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    counts = {
        model._meta.label: model._default_manager.count() for model in seeding.seeded_models()
    }
    return {
        **counts,
        "feedback": set(
            Feedback.objects.values_list(
                "pk", "case_id", "excluded", "rectified_at", "rerated_at", "replied_at"
            )
        ),
        "measurements": set(Measurement.objects.values_list("pk", "computed_at")),
        "policies": set(FeedbackPolicy.objects.values_list("pk", "updated_at")),
        "targets": set(Target.objects.values_list("pk", "updated_at")),
        "dirty": DirtyDay.objects.count(),
    }


@pytest.fixture(autouse=True)
def _fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.MEDIA_ROOT = str(tmp_path / "media")


def demo_ratings():
    return Feedback.objects.filter(
        device=feedback_seed.DEVICE, kind__in=[Kind.VISIT_RATING, Kind.ONLINE_RATING]
    )


@pytest.mark.usefixtures("demo_world")
class TestSeededFeedback:
    def test_the_command_reports_the_feedback_rows(self, demo_world):
        assert "feedback.Feedback" in demo_world
        assert "feedback.FeedbackPolicy" in demo_world
        assert "演示评价与反馈" in demo_world

    def test_seeding_again_writes_nothing(self):
        before = snapshot()

        output = seed("--with-demo-users")

        assert snapshot() == before
        assert "(+1" not in output

    def test_a_later_day_does_not_tell_the_history_again(self):
        count = Feedback.objects.count()
        seed("--with-demo-users", today=TODAY + dt.timedelta(days=3))
        assert Feedback.objects.count() == count

    # The ratings --------------------------------------------------------------------------------

    def test_about_a_third_of_the_visits_are_rated(self):
        rateable = Visit.objects.filter(
            arrived_at__gte=day_start(FIRST),
            finished_at__isnull=False,
            outcome__in=(
                Visit.Outcome.COMPLETED,
                Visit.Outcome.MISSING_DOCUMENTS,
                Visit.Outcome.REFERRED,
            ),
        ).count()
        rated = demo_ratings().filter(kind=Kind.VISIT_RATING).count()
        assert rateable > 1000
        assert 0.28 < rated / rateable < 0.38
        assert not demo_ratings().filter(created_at__gte=END).exists()
        assert not demo_ratings().filter(created_at__lt=day_start(FIRST)).exists()

    def test_the_mix_is_mostly_good_with_a_few_bad(self):
        ratings = list(demo_ratings().values_list("level", "reasons", "text", "contact_phone"))
        levels = [level for level, *_rest in ratings]
        good = sum(level in GOOD_LEVELS for level in levels) / len(levels)
        bad = sum(level in BAD_LEVELS for level in levels) / len(levels)
        assert 0.84 < good < 0.92
        assert 0.02 < bad < 0.07
        assert set(levels) == {1, 2, 3, 4, 5}
        assert sum(bool(reasons) for _level, reasons, *_rest in ratings) > 0.8 * len(ratings)
        texts = [text for _level, _reasons, text, _phone in ratings if text]
        assert 0.08 * len(ratings) < len(texts) < 0.3 * len(ratings)
        assert all(any("\u4e00" <= char <= "\u9fff" for char in text) for text in texts)
        phones = [phone for *_rest, phone in ratings if phone]
        assert 0 < len(phones) < 0.1 * len(ratings)

    def test_online_ratings_suggestions_complaints_and_praise(self):
        online = demo_ratings().filter(kind=Kind.ONLINE_RATING)
        assert online.count() > 20
        assert online.filter(station__isnull=False, service__isnull=True).exists()
        assert online.filter(service__isnull=False, station__isnull=True).exists()
        assert all(row.organisation_id for row in online.filter(station__host__isnull=False))
        for kind in (Kind.SUGGESTION, Kind.COMPLAINT, Kind.PRAISE):
            notes = Feedback.objects.filter(device=feedback_seed.DEVICE, kind=kind)
            assert notes.count() >= 3
            assert all(note.text and note.level is None for note in notes)
        replied = Feedback.objects.filter(device=feedback_seed.DEVICE).exclude(reply="")
        assert replied.count() >= 4
        assert all(row.replied_at and row.replied_by_id for row in replied)
        assert all(row.replied_at > row.created_at for row in replied)

    # The bad-rating loop -------------------------------------------------------------------------

    def test_bad_ratings_get_rectification_cases_through_the_services(self):
        bad = demo_ratings().filter(level__in=list(BAD_LEVELS), service__isnull=False)
        assert bad.count() > 20
        assert not bad.filter(case__isnull=True, created_at__lt=END - dt.timedelta(hours=1))
        for rating in bad.select_related("case"):
            case = rating.case
            assert case.source == Source.FEEDBACK
            assert not case.is_public
            assert case.created_at >= rating.created_at
            assert rating.return_visit_due_at == case.acknowledge_due_at
        cases = [rating.case for rating in bad.select_related("case")]
        resolved = [case for case in cases if case.first_resolved_at is not None]
        assert 0.8 * len(cases) < len(resolved) < len(cases)
        late = [case for case in resolved if not case.resolved_on_time]
        assert 0 < len(late) < 0.25 * len(resolved)
        assert all(case.status != Status.NEW for case in cases)

    def test_most_raters_are_called_back_in_time_and_many_rerate(self):
        bad = list(demo_ratings().filter(level__in=list(BAD_LEVELS), case__isnull=False))
        called = {
            entry.case_id: entry.created_at
            for entry in TimelineEntry.objects.filter(
                kind=TimelineEntry.Kind.CONTACT, case__in=[rating.case_id for rating in bad]
            )
        }
        in_time = [
            rating
            for rating in bad
            if rating.case_id in called and called[rating.case_id] <= rating.return_visit_due_at
        ]
        assert 0.6 * len(bad) < len(in_time) < len(bad)
        rerated = [rating for rating in bad if rating.rerated_at is not None]
        assert 0.3 * len(bad) < len(rerated) < len(bad)
        assert all(rating.rectified_at <= rating.rerated_at for rating in rerated)
        assert all(rating.rerated_at < END for rating in rerated)

    def test_one_appeal_upheld_and_one_dismissed(self):
        appeals = Appeal.objects.select_related("feedback")
        assert sorted(appeals.values_list("status", flat=True)) == [
            Appeal.Status.DISMISSED,
            Appeal.Status.UPHELD,
        ]
        upheld = appeals.get(status=Appeal.Status.UPHELD)
        assert upheld.feedback.excluded
        assert upheld.decided_by_id != upheld.filed_by_id
        assert Feedback.objects.filter(excluded=True).count() == 1

    def test_an_abusive_text_is_hidden_and_its_rating_still_counts(self):
        hidden = Feedback.objects.get(is_hidden=True)
        assert hidden.text == feedback_seed.HIDDEN_TEXT
        assert hidden.hidden_reason
        assert not hidden.excluded

    def test_nobody_is_notified_of_the_replayed_history(self):
        assert not Notification.objects.filter(event_type__startswith="feedback.").exists()
        assert not Notification.objects.filter(event_type__startswith="cases.").exists()

    # Deadlines and KPIs ------------------------------------------------------------------------

    def test_every_department_has_its_deadlines(self):
        policies = FeedbackPolicy.objects.select_related("organisation")
        assert {policy.organisation.slug for policy in policies} == set(feedback_seed.DEPARTMENTS)
        assert {(policy.return_visit_days, policy.rectify_days) for policy in policies} == {(1, 15)}

    def test_indicators_with_monthly_targets_on_every_figure(self):
        indicators = Indicator.objects.filter(metric__in=metrics.METRIC_CODES)
        assert set(indicators.values_list("metric", flat=True)) == set(metrics.METRIC_CODES)
        for indicator in indicators:
            assert indicator.visibility == "public"
            assert indicator.name_en
            assert indicator.description_en
            assert set(indicator.owners.values_list("slug", flat=True)) == set(
                feedback_seed.DEPARTMENTS
            )
            targets = indicator.targets.all()
            assert targets.count() == 15
            assert all(target.period == "month" for target in targets)

    def test_the_figures_are_rolled_up_from_the_rows(self):
        assert not DirtyDay.objects.exists()
        for code in metrics.METRIC_CODES:
            assert Measurement.objects.filter(metric=code).exists(), code
        ratings = demo_ratings().filter(excluded=False)
        good = ratings.filter(level__in=list(GOOD_LEVELS)).count() / ratings.count()
        assert measure("feedback.good_rate", None, FIRST, TODAY) == pytest.approx(100 * good)
        levels = list(ratings.values_list("level", flat=True))
        assert measure("feedback.average_level", None, FIRST, TODAY) == pytest.approx(
            sum(levels) / len(levels)
        )
        assert 80 < measure("feedback.rectified_on_time", None, FIRST, TODAY) < 100
        assert 60 < measure("feedback.return_visit_rate", None, FIRST, TODAY) < 100
        assert 50 < measure("feedback.rectification_satisfaction", None, FIRST, TODAY) < 100
        assert 25 < measure("feedback.rating_rate", None, FIRST, TODAY) < 35


def test_without_demo_users_only_deadlines_and_indicators(department, other_department):
    context = SeedContext(
        stdout=io.StringIO(),
        with_demo_users=False,
        today=TODAY,
        now=END,
    )
    feedback_seed.seed_feedback(context)
    feedback_seed.seed_feedback(context)
    assert FeedbackPolicy.objects.count() == 2
    assert Indicator.objects.filter(metric__in=metrics.METRIC_CODES).count() == 7
    assert not Feedback.objects.exists()
    assert "跳过评价记录" in context.stdout.getvalue()
