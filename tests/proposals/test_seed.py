"""The demo proposals: categories, about thirty proposals for the mall station told through the
services (every status, supports below and above the threshold, discussion and moderation,
official answers, plans, milestones and task cases), the demo residents who support them, the
KPIs on the proposals metrics rolled up, and a second run that writes nothing."""

from __future__ import annotations

import datetime as dt
import io
import math
from collections import Counter
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.db.models import Count, Q

from governance.cases.models import Case, Source
from governance.cases.models import Status as CaseStatus
from governance.core import seeding
from governance.kpis.models import DirtyDay, Indicator, Measurement, Target
from governance.kpis.registry import Scope
from governance.kpis.services import measure
from governance.notifications.models import Notification
from governance.proposals import metrics
from governance.proposals import seed as proposal_seed
from governance.proposals.models import (
    Answer,
    Category,
    Comment,
    CommentFlag,
    CommentVote,
    Milestone,
    Proposal,
    ProposalVersion,
    Result,
    ResultCase,
    Status,
    Support,
)
from governance.proposals.services import support_threshold
from governance.stakeholders.models import Organisation, User
from governance.stakeholders.seed import seed_organisations

TZ = ZoneInfo("Asia/Shanghai")
# A fixed last day, as in the other seed tests: the history ends at its midnight.
TODAY = dt.date(2026, 10, 20)
END = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(0), TZ)
FIRST = TODAY - dt.timedelta(days=200)
FAST_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
FATES = {
    "draft": Status.DRAFT,
    "open": Status.PUBLISHED,
    "evaluating": Status.EVALUATING,
    "accepted": Status.ACCEPTED,
    "implemented": Status.IMPLEMENTED,
    "rejected": Status.REJECTED,
    "withdrawn": Status.WITHDRAWN,
}

pytestmark = pytest.mark.django_db


def seed(*args: str, today: dt.date = TODAY) -> str:
    out = io.StringIO()
    call_command("seed_demo", *args, "--today", today.isoformat(), stdout=out)
    return out.getvalue()


def snapshot() -> dict:
    models = seeding.seeded_models()
    return {
        **{model._meta.label: model._default_manager.count() for model in models},
        "measurements": set(Measurement.objects.values_list("pk", "computed_at")),
        "proposals": set(
            Proposal.objects.values_list("pk", "status", "updated_at", "supports_count")
        ),
        "categories": set(Category.objects.values_list("pk", "name_zh", "name_en", "order")),
        "users": set(User.objects.values_list("pk", "password", "display_name")),
        "targets": set(Target.objects.values_list("pk", "updated_at")),
        "dirty": DirtyDay.objects.count(),
    }


@pytest.fixture(autouse=True)
def _fast_hashing(settings, tmp_path):
    settings.PASSWORD_HASHERS = FAST_HASHERS
    settings.MEDIA_ROOT = str(tmp_path / "media")


def demo_proposals():
    return Proposal.objects.filter(title__in=[story.title for story in proposal_seed.STORIES])


def story_of(proposal: Proposal) -> proposal_seed.Story:
    return next(story for story in proposal_seed.STORIES if story.title == proposal.title)


def local(moment: dt.datetime) -> dt.date:
    return moment.astimezone(TZ).date()


@pytest.mark.usefixtures("demo_world")
class TestSeededProposals:
    def test_the_command_reports_the_proposal_rows(self, demo_world):
        assert "proposals.Proposal" in demo_world
        assert "proposals.Support" in demo_world
        assert f"演示建议：{len(proposal_seed.STORIES)} 条" in demo_world
        assert demo_proposals().count() == len(proposal_seed.STORIES)
        assert 25 <= len(proposal_seed.STORIES) <= 40
        assert len({story.title for story in proposal_seed.STORIES}) == len(proposal_seed.STORIES)

    def test_seeding_again_writes_nothing(self):
        before = snapshot()

        output = seed("--with-demo-users")

        assert snapshot() == before
        assert "(+1" not in output

    def test_a_later_day_does_not_tell_the_history_again(self):
        count = Proposal.objects.count()
        supports = Support.objects.count()
        seed("--with-demo-users", today=TODAY + dt.timedelta(days=3))
        assert Proposal.objects.count() == count
        assert Support.objects.count() == supports

    # Configuration ----------------------------------------------------------------------------

    def test_eight_categories_in_both_languages(self):
        categories = list(Category.objects.order_by("order"))
        assert [category.slug for category in categories] == [
            "opening-hours",
            "facilities",
            "convenience",
            "digital",
            "accessibility",
            "parking",
            "safety",
            "other",
        ]
        assert [category.name_zh for category in categories] == [
            "开放时间",
            "场地设施",
            "便民服务",
            "数字化服务",
            "无障碍",
            "停车交通",
            "安全秩序",
            "其他",
        ]
        assert all(category.name_en and category.is_active for category in categories)

    # The history ------------------------------------------------------------------------------

    def test_every_story_ends_in_its_status(self):
        proposals = list(demo_proposals())
        for proposal in proposals:
            assert proposal.status == FATES[story_of(proposal).fate], proposal.title
        statuses = Counter(proposal.status for proposal in proposals)
        assert set(statuses) == set(Status.values)
        assert statuses[Status.IMPLEMENTED] >= 5
        assert statuses[Status.REJECTED] >= 3
        assert statuses[Status.PUBLISHED] >= 4

    def test_the_demo_citizen_has_drafts_and_published_proposals(self):
        citizen = User.objects.get(email=proposal_seed.CITIZEN)
        mine = demo_proposals().filter(author=citizen)
        drafts = mine.filter(status=Status.DRAFT)
        assert drafts.count() == 2
        assert mine.exclude(status=Status.DRAFT).count() >= 2
        other = User.objects.get(email="hukou.staff@demo.gongzhi.local")
        for draft in drafts:
            assert draft.published_at is None
            assert draft.created_at < END
            assert citizen.has_perm("proposals.view_proposal", draft)
            assert not other.has_perm("proposals.view_proposal", draft)

    def test_citizens_the_mall_and_a_department_propose(self):
        proposals = demo_proposals().select_related("author", "on_behalf_of")
        behalf = {
            proposal.on_behalf_of.slug: proposal.author.email
            for proposal in proposals
            if proposal.on_behalf_of_id
        }
        assert behalf == {
            "mall": "mall.admin@demo.gongzhi.local",
            "hukou": "hukou.admin@demo.gongzhi.local",
        }
        authors = {proposal.author.email for proposal in proposals}
        residents = {email for email in authors if email.startswith("resident")}
        assert len(residents) >= 15
        assert proposal_seed.CITIZEN in authors

    def test_demo_residents_support_and_cannot_sign_in(self):
        residents = User.objects.filter(email__startswith="resident", email__endswith=".local")
        threshold = support_threshold()
        # The most supported story's supporters, and its author who does not support it.
        assert residents.count() == 1 + math.ceil(
            max(story.supports for story in proposal_seed.STORIES) * threshold
        )
        assert not any(user.has_usable_password() for user in residents)
        assert not residents.filter(Q(is_staff=True) | Q(is_superuser=True)).exists()
        assert not residents.filter(memberships__isnull=False).exists()
        assert all(user.display_name for user in residents)
        supporters = set(Support.objects.values_list("user__email", flat=True))
        assert supporters <= set(residents.values_list("email", flat=True))

    def test_supports_below_and_above_the_threshold_with_their_deadlines(self):
        threshold = support_threshold()
        counted = dict(
            Support.objects.values("proposal").annotate(n=Count("pk")).values_list("proposal", "n")
        )
        above = below = 0
        for proposal in demo_proposals().exclude(status=Status.DRAFT):
            assert proposal.supports_count == counted.get(proposal.pk, 0), proposal.title
            assert proposal.supports_count == math.ceil(story_of(proposal).supports * threshold)
            if proposal.supports_count >= threshold:
                above += 1
                assert proposal.threshold_reached_at is not None
                assert proposal.answer_due_at == proposal.threshold_reached_at + dt.timedelta(
                    days=30
                )
            else:
                below += 1
                assert proposal.threshold_reached_at is None
                assert proposal.answer_due_at is None
        assert above >= 4
        assert below >= 15
        waiting = demo_proposals().filter(status=Status.PUBLISHED, answer_due_at__isnull=False)
        assert waiting.filter(answer_due_at__lt=END).count() == 1  # overdue
        assert waiting.filter(answer_due_at__gte=END).count() == 1  # due soon
        # People, never organisations, and each person once.
        assert not Support.objects.filter(user__memberships__isnull=False).exists()

    def test_station_proposals_are_routed_by_the_triage_desk(self):
        triage = Organisation.objects.get(slug="triage")
        station = demo_proposals().filter(scope="station").select_related("responsible")
        slugs = Counter(proposal.responsible.slug for proposal in station if proposal.responsible)
        assert slugs["mall"] >= 5
        assert slugs["hukou"] >= 4
        assert 1 <= slugs[triage.slug] <= 4
        service = (
            demo_proposals()
            .filter(scope="service")
            .select_related("responsible", "service__department")
        )
        for proposal in service.exclude(status=Status.DRAFT):
            assert proposal.responsible == proposal.service.department

    def test_official_answers_reasoned_with_plans(self):
        answers = Answer.objects.filter(proposal__in=demo_proposals()).select_related("proposal")
        published = answers.filter(published_at__isnull=False)
        assert all(answer.published_at <= END for answer in published)
        for answer in published.filter(state=Answer.State.REJECTED):
            assert len(answer.text) >= 40
            assert answer.proposal.status == Status.REJECTED
        for answer in published.filter(state=Answer.State.ACCEPTED):
            assert answer.starts_on
            assert answer.ends_on
            assert answer.cost is not None
            result = Result.objects.get(proposal=answer.proposal)
            assert (result.starts_on, result.ends_on) == (answer.starts_on, answer.ends_on)
        # Some were under evaluation first; one was drafted by staff and published by the
        # department's admin; one answer is still a draft.
        assert published.filter(state=Answer.State.EVALUATING).count() >= 4
        drafted = [
            answer
            for answer in published
            if answer.drafted_by_id != answer.published_by_id
            and answer.published_at > answer.created_at + dt.timedelta(days=1)
        ]
        assert len(drafted) == 1
        pending = answers.filter(published_at__isnull=True).get()
        assert pending.proposal.status == Status.PUBLISHED
        # The answering organisation is the responsible one, through its own staff.
        for answer in published.select_related("published_by"):
            assert answer.organisation_id == answer.proposal.responsible_id
            assert answer.published_by.memberships.filter(
                organisation_id=answer.organisation_id
            ).exists()

    def test_implementation_with_milestones_and_task_cases(self):
        results = Result.objects.filter(proposal__in=demo_proposals()).select_related("proposal")
        late = on_time = overdue = 0
        for result in results:
            milestones = list(result.milestones.all())
            assert milestones, result.proposal.title
            if result.proposal.status == Status.IMPLEMENTED:
                assert result.progress == 100
                assert result.state == Result.State.DONE
                assert result.completed_at == result.proposal.implemented_at
                assert all(m.state == Milestone.State.DONE for m in milestones)
                if local(result.completed_at) <= result.ends_on:
                    on_time += 1
                else:
                    late += 1
            else:
                assert result.proposal.status == Status.ACCEPTED
                assert result.progress < 100
                assert any(m.state != Milestone.State.DONE for m in milestones)
                if result.ends_on < TODAY:
                    overdue += 1
        assert on_time >= 5
        assert late >= 1
        assert overdue >= 1
        assert {m.state for m in Milestone.objects.filter(result__in=results)} == set(
            Milestone.State.values
        )
        tasks = Case.objects.filter(proposal_task__result__in=results)
        assert tasks.count() == ResultCase.objects.count() == 2
        assert all(case.source == Source.PROPOSAL for case in tasks)
        assert {case.status for case in tasks} == {CaseStatus.RESOLVED, CaseStatus.IN_PROGRESS}
        assert all(case.service_id and case.station_id for case in tasks)

    def test_discussion_votes_flags_and_a_hidden_comment(self):
        comments = Comment.objects.filter(proposal__in=demo_proposals())
        assert comments.count() >= 30
        assert comments.filter(parent__isnull=False).count() >= 5
        for proposal in demo_proposals():
            assert proposal.comments_count == comments.filter(proposal=proposal).count()
        for comment in comments:
            votes = Counter(
                CommentVote.objects.filter(comment=comment).values_list("value", flat=True)
            )
            assert (comment.upvotes, comment.downvotes) == (votes[1], votes[-1])
            assert comment.flags_count == CommentFlag.objects.filter(comment=comment).count()
        hidden = comments.get(is_hidden=True)
        assert hidden.hidden_reason
        assert hidden.flags_count >= 3
        assert hidden.hidden_by.memberships.filter(
            organisation_id=hidden.proposal.responsible_id
        ).exists()
        # Staff answer in the threads too.
        staff = comments.filter(author__memberships__isnull=False)
        assert staff.count() >= 3

    def test_a_correction_within_the_edit_window_is_a_new_version(self):
        corrected = [story for story in proposal_seed.STORIES if story.correction]
        assert len(corrected) == 1
        proposal = Proposal.objects.get(title=corrected[0].title)
        versions = list(ProposalVersion.objects.filter(proposal=proposal).order_by("number"))
        assert [version.number for version in versions] == [1, 2]
        assert versions[1].body == proposal.body == corrected[0].correction
        assert versions[1].created_at < proposal.edit_until
        published = demo_proposals().exclude(status=Status.DRAFT)
        assert ProposalVersion.objects.filter(proposal__in=published).count() == (
            published.count() + 1
        )

    def test_the_history_runs_in_order_and_stops_at_the_seed_time(self):
        for proposal in demo_proposals().exclude(status=Status.DRAFT):
            assert END - dt.timedelta(days=160) < proposal.published_at < END
            moments = [
                *proposal.supports.values_list("created_at", flat=True),
                *proposal.comments.values_list("created_at", flat=True),
                *proposal.answers.exclude(published_at=None).values_list("published_at", flat=True),
            ]
            assert all(proposal.published_at <= moment < END for moment in moments)
            if proposal.withdrawn_at:
                assert proposal.published_at < proposal.withdrawn_at < END
            # Supports are taken until the verdict (an evaluation is not one).
            verdict = proposal.answers.filter(
                published_at__isnull=False,
                state__in=[Answer.State.ACCEPTED, Answer.State.REJECTED],
            ).first()
            if verdict is not None:
                assert not proposal.supports.filter(created_at__gt=verdict.published_at).exists()
        for comment in Comment.objects.filter(parent__isnull=False).select_related("parent"):
            assert comment.created_at > comment.parent.created_at

    def test_the_history_notifies_nobody(self):
        assert not Notification.objects.filter(event_type__startswith="proposals.").exists()
        tasks = list(ResultCase.objects.values_list("case_id", flat=True))
        assert not Notification.objects.filter(
            event_type__startswith="cases.", payload__case_id__in=tasks
        ).exists()

    # KPIs -------------------------------------------------------------------------------------

    def test_indicators_with_monthly_targets_on_every_metric(self):
        indicators = Indicator.objects.filter(metric__in=metrics.CODES)
        assert set(indicators.values_list("metric", flat=True)) == set(metrics.CODES)
        for indicator in indicators:
            assert indicator.visibility == "public"
            assert indicator.name_en
            assert indicator.description_en
            assert set(indicator.owners.values_list("slug", flat=True)) == set(proposal_seed.OWNERS)
            assert indicator.targets.filter(period="month").count() == 15
        answered = Indicator.objects.get(code="proposals-answered-in-time")
        assert answered.targets.first().green == 90
        accepted = Indicator.objects.get(code="proposals-acceptance-rate")
        assert accepted.targets.first().green == 40

    def test_the_figures_are_rolled_up_from_the_rows(self):
        assert not DirtyDay.objects.exists()
        for code in metrics.CODES:
            assert Measurement.objects.filter(metric=code).exists(), code
        # Every published proposal counts, the radar's weekend-hours ones too.
        proposals = list(Proposal.objects.exclude(status=Status.DRAFT))
        assert measure("proposals.received", None, FIRST, TODAY) == len(proposals)

        window = dt.timedelta(days=30)
        hits = misses = 0
        days = []
        for proposal in proposals:
            first = proposal.answers.exclude(published_at=None).order_by("published_at").first()
            closes = proposal.published_at + window
            if first is not None:
                days.append((first.published_at - proposal.published_at).days)
            if first is not None and first.published_at <= closes:
                hits += 1
            elif closes < END and not (proposal.withdrawn_at and proposal.withdrawn_at <= closes):
                misses += 1
        assert measure("proposals.answered_in_time", None, FIRST, TODAY) == pytest.approx(
            100 * hits / (hits + misses)
        )
        assert 0 < misses < hits
        days.sort()
        assert (
            measure("proposals.answer_days_median", None, FIRST, TODAY)
            == (days[math.ceil(len(days) / 2) - 1])
        )

        verdicts = Counter(
            Answer.objects.filter(
                published_at__isnull=False,
                state__in=[Answer.State.ACCEPTED, Answer.State.REJECTED],
            ).values_list("state", flat=True)
        )
        assert measure("proposals.acceptance_rate", None, FIRST, TODAY) == pytest.approx(
            100 * verdicts["accepted"] / (verdicts["accepted"] + verdicts["rejected"])
        )

        on_time = due = 0
        for result in Result.objects.all():
            if result.completed_at and local(result.completed_at) <= result.ends_on:
                on_time += 1
                due += 1
            elif result.ends_on <= TODAY:
                due += 1
        assert measure("proposals.implemented_on_time", None, FIRST, TODAY) == pytest.approx(
            100 * on_time / due
        )
        # The mall answers for its premises: its own figures.
        mall = Organisation.objects.get(slug="mall")
        assert measure("proposals.received", Scope(partner_id=mall.pk), FIRST, TODAY) >= 5


def test_without_demo_users_only_categories_and_indicators(db):
    seed_organisations()
    context = seeding.SeedContext(
        stdout=io.StringIO(), with_demo_users=False, today=TODAY, now=END - dt.timedelta(hours=3)
    )

    proposal_seed.seed_proposals(context)
    proposal_seed.seed_proposals(context)

    assert Category.objects.count() == 8
    assert Indicator.objects.filter(metric__in=metrics.CODES).count() == 5
    assert Indicator.objects.get(code="proposals-received").targets.count() == 15
    assert not Proposal.objects.exists()
    assert not User.objects.exists()
    assert "跳过建议记录" in context.stdout.getvalue()
