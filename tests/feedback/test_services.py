"""The feedback services: rating a visit from its signed link, online feedback, the bad-rating
loop (case, deadlines in Chinese working days, return visit, resolution, re-rating), appeals,
replies and moderation. Everything goes through the real services and the real cases core."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from feedback import services, tokens
from feedback.models import Appeal, Channel, Feedback, FeedbackPolicy, Kind
from governance.cases import services as case_services
from governance.cases.models import Follower, Source, Status, TimelineEntry
from governance.notifications.models import Notification
from tests.cases.test_attachments import image_bytes, upload
from tests.feedback.fixtures import *  # noqa: F403  (the fixtures)
from tests.feedback.fixtures import CONTACT_EMAIL, CONTACT_PHONE, at, fresh

pytestmark = pytest.mark.django_db


def resolve(case, actor, *, at_=None):
    for step in (Status.ACKNOWLEDGED, Status.IN_PROGRESS, Status.RESOLVED):
        case = case_services.case_transition(actor=actor, case=case, to=step, at=at_)
    return case


def errors_of(excinfo) -> str:
    error = excinfo.value
    return " ".join(str(message) for message in error.messages)


# Rating a visit -------------------------------------------------------------------
def test_a_visit_rating_takes_station_service_and_department_from_the_link(
    visit, department, station, service
):
    rating = services.visit_rate(
        token=tokens.visit_token(visit), level=5, reasons=["fast", "friendly"], comment="很快"
    )

    rating.refresh_from_db()
    assert rating.kind == Kind.VISIT_RATING
    assert rating.channel == Channel.QR
    assert (rating.visit, rating.station, rating.service) == (visit, station, service)
    assert rating.organisation == department
    assert rating.reasons == ["fast", "friendly"]
    assert rating.text == "很快"
    assert rating.user is None
    assert rating.case is None


def test_a_visit_rating_is_one_insert_and_reads_nothing_first(visit):
    token = tokens.visit_token(visit)

    with CaptureQueriesContext(connection) as queries:
        services.visit_rate(token=token, level=4)

    statements = [q["sql"].split()[0].upper() for q in queries.captured_queries]
    assert statements.count("INSERT") == 1
    assert "SELECT" not in statements


@pytest.mark.parametrize(
    "level",
    [
        0,
        6,
        -1,
        "5x",
        "",
        None,
        True,
        2.5,
    ],
)
def test_a_level_outside_one_to_five_is_refused_naming_the_allowed_values(visit, level):
    with pytest.raises(ValidationError) as excinfo:
        services.visit_rate(token=tokens.visit_token(visit), level=level)

    message = errors_of(excinfo)
    for allowed in ("1=非常不满意", "2=不满意", "3=基本满意", "4=满意", "5=非常满意"):
        assert allowed in message
    assert not Feedback.objects.exists()


@pytest.mark.parametrize(
    ("level", "tag", "offered"),
    [
        (5, "attitude", "fast"),  # a complaint tag on a good rating
        (1, "friendly", "waiting_time"),  # a praise tag on a bad rating
        (3, "bogus", "documents"),  # no such tag
    ],
)
def test_a_reason_that_does_not_fit_the_level_is_refused_naming_the_allowed_ones(
    visit, level, tag, offered
):
    with pytest.raises(ValidationError) as excinfo:
        services.visit_rate(token=tokens.visit_token(visit), level=level, reasons=[tag])

    message = errors_of(excinfo)
    assert tag in message
    assert offered in message
    assert not Feedback.objects.exists()


def test_basically_satisfied_may_carry_praise_and_complaint_tags(visit):
    rating = services.visit_rate(
        token=tokens.visit_token(visit), level=3, reasons=["fast", "waiting_time", "fast"]
    )
    assert rating.reasons == ["fast", "waiting_time"]


def test_a_forged_or_cut_link_is_a_bad_link(visit):
    token = tokens.visit_token(visit)
    for forged in (token[:-3] + "abc", token[: len(token) // 2], "x1", ""):
        with pytest.raises(tokens.BadLink) as excinfo:
            services.visit_rate(token=forged, level=5)
        assert excinfo.value.code == "invalid"
    assert not Feedback.objects.exists()


def test_a_link_signed_with_another_salt_is_refused(visit):
    from django.core import signing

    payload = [visit.pk, visit.station_id, visit.service_id, visit.service.department_id, 0]
    with pytest.raises(tokens.BadLink):
        services.visit_rate(token=signing.dumps(payload, salt="other"), level=5)


def test_the_link_expires_seven_days_after_the_visit(make_visit):
    visit = make_visit(arrived_at=at(2026, 9, 30, 9), called_at=None, finished_at=None)
    token = tokens.visit_token(visit)

    rating = services.visit_rate(token=token, level=4, now=at(2026, 10, 7, 8, 59))
    assert rating.pk
    Feedback.objects.all().delete()
    with pytest.raises(tokens.BadLink) as excinfo:
        services.visit_rate(token=token, level=4, now=at(2026, 10, 7, 9, 1))
    assert excinfo.value.code == "expired"
    assert "7" in str(excinfo.value.message)
    assert not Feedback.objects.exists()


def test_the_link_counts_from_the_end_of_the_visit(make_visit):
    visit = make_visit(
        arrived_at=at(2026, 9, 30, 9), called_at=at(2026, 9, 30, 9, 30), finished_at=None
    )
    visit.finished_at = at(2026, 9, 30, 11)
    visit.save()
    claim = tokens.visit_claim(tokens.visit_token(visit), now=at(2026, 10, 7, 10))
    assert claim.expires_at == at(2026, 10, 7, 11)


def test_a_visit_is_rated_once(visit):
    token = tokens.visit_token(visit)
    first = services.visit_rate(token=token, level=5)

    with pytest.raises(services.AlreadyRated) as excinfo:
        services.visit_rate(token=token, level=1)

    assert excinfo.value.feedback == first
    assert Feedback.objects.get().level == 5


def test_a_double_tap_with_the_same_key_returns_the_first_rating(visit, run_tasks):
    token, key = tokens.visit_token(visit), uuid.uuid4()
    first = services.visit_rate(token=token, level=1, idempotency_key=key)

    again = services.visit_rate(token=token, level=1, idempotency_key=key)

    assert again.pk == first.pk
    assert Feedback.objects.count() == 1


def test_the_same_key_on_another_visit_returns_the_first_rating(make_visit):
    key = uuid.uuid4()
    first = services.visit_rate(
        token=tokens.visit_token(make_visit()), level=5, idempotency_key=key
    )

    again = services.visit_rate(
        token=tokens.visit_token(make_visit()), level=5, idempotency_key=key
    )

    assert again.pk == first.pk
    assert Feedback.objects.count() == 1


def test_text_is_bounded_and_kept_as_plain_text(visit):
    token = tokens.visit_token(visit)
    with pytest.raises(ValidationError) as excinfo:
        services.visit_rate(token=token, level=5, comment="好" * 1001)
    assert "1000" in errors_of(excinfo)

    rating = services.visit_rate(token=token, level=5, comment="  <b>好</b> & <script>x</script> ")
    assert rating.text == "<b>好</b> & <script>x</script>"


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contact_phone", "call me"),
        ("contact_email", "not-an-address"),
        ("contact_name", "名" * 81),
    ],
)
def test_bad_contact_details_are_refused(visit, field, value):
    with pytest.raises(ValidationError) as excinfo:
        services.visit_rate(token=tokens.visit_token(visit), level=2, **{field: value})
    assert field in excinfo.value.message_dict
    assert not Feedback.objects.exists()


def test_a_signed_in_rater_is_the_author(visit, citizen):
    rating = services.visit_rate(token=tokens.visit_token(visit), level=4, actor=citizen)
    assert rating.user == citizen


# Online feedback -------------------------------------------------------------------
def test_an_online_rating_of_a_service_belongs_to_its_department(service, department, citizen):
    rating = services.feedback_submit(
        actor=citizen, kind=Kind.ONLINE_RATING, level=4, reasons=["clear_guidance"], service=service
    )
    assert (rating.organisation, rating.channel, rating.user) == (department, Channel.WEB, citizen)


def test_an_online_rating_of_a_station_belongs_to_its_host(station, partner):
    rating = services.feedback_submit(actor=None, kind=Kind.ONLINE_RATING, level=3, station=station)
    assert rating.organisation == partner
    assert rating.user is None


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"kind": "visit_rating", "level": 5}, "kind"),
        ({"kind": "gossip", "text": "x"}, "kind"),
        ({"kind": "online_rating", "level": 5}, "service"),
        ({"kind": "online_rating", "level": 9, "service": True}, "level"),
        ({"kind": "praise", "text": ""}, "text"),
        ({"kind": "suggestion", "text": "x", "level": 2}, "level"),
        ({"kind": "complaint", "text": "长" * 2001}, "text"),
    ],
)
def test_bad_online_feedback_is_refused(service, values, field):
    if values.pop("service", None):
        values["service"] = service
    with pytest.raises(ValidationError) as excinfo:
        services.feedback_submit(actor=None, **values)
    assert field in excinfo.value.message_dict
    assert not Feedback.objects.exists()


def test_the_unknown_kind_error_names_the_allowed_kinds():
    with pytest.raises(ValidationError) as excinfo:
        services.feedback_submit(actor=None, kind="gossip", text="x")
    message = errors_of(excinfo)
    for kind in ("online_rating", "suggestion", "complaint", "praise"):
        assert kind in message


def test_inactive_services_and_stations_take_no_feedback(service, station):
    service.is_active = False
    service.save()
    station.is_active = False
    station.save()
    with pytest.raises(ValidationError):
        services.feedback_submit(actor=None, kind="online_rating", level=5, service=service)
    with pytest.raises(ValidationError):
        services.feedback_submit(actor=None, kind="suggestion", text="x", station=station)


def test_praise_with_a_photo_keeps_the_photo_without_its_metadata(station):
    photo = upload("me.jpg", image_bytes("JPEG", exif=True))

    praise = services.feedback_submit(
        actor=None, kind=Kind.PRAISE, text="民警很耐心", station=station, photo=photo
    )

    praise.refresh_from_db()
    assert praise.photo.name.startswith("feedback/")
    assert praise.photo_type == "image/jpeg"
    with praise.photo.open("rb") as stored:
        assert b"Exif" not in stored.read()


def test_a_disguised_photo_is_refused_and_nothing_is_written(station):
    with pytest.raises(ValidationError):
        services.feedback_submit(
            actor=None,
            kind=Kind.COMPLAINT,
            text="x",
            station=station,
            photo=upload("evil.jpg", b"MZ\x90\x00 not an image"),
        )
    assert not Feedback.objects.exists()


def test_online_feedback_with_the_same_key_is_written_once(station):
    key = uuid.uuid4()
    first = services.feedback_submit(
        actor=None, kind="suggestion", text="加把椅子", station=station, idempotency_key=key
    )
    again = services.feedback_submit(
        actor=None, kind="suggestion", text="加把椅子", station=station, idempotency_key=key
    )
    assert again.pk == first.pk
    assert Feedback.objects.count() == 1


# The bad-rating loop -------------------------------------------------------------------
def test_a_bad_rating_opens_a_private_rectification_case_after_the_commit(
    rate_visit, routing, department, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rating = rate_visit(1, reasons=["attitude"], comment="态度差", contact_phone=CONTACT_PHONE)

    rating.refresh_from_db()
    assert run_tasks == [("feedback.open_rectification", rating.pk)]
    case = rating.case
    assert case.source == Source.FEEDBACK
    assert case.is_public is False
    assert case.responsible == department
    assert case.service_id == rating.service_id
    assert case.station_id == rating.station_id
    assert case.contact_phone == CONTACT_PHONE
    assert "服务态度差" in case.description
    assert "态度差" in case.description
    assert case.timeline.filter(kind=TimelineEntry.Kind.OPENED).exists()
    assert rating.return_visit_due_at == case.acknowledge_due_at


@pytest.mark.parametrize("level", [3, 4, 5])
def test_ratings_from_three_up_open_no_case(
    rate_visit, level, run_tasks, routing, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rating = rate_visit(level)
    assert run_tasks == []
    assert services.rectification_open(feedback_id=rating.pk) is None


def test_a_rolled_back_rating_enqueues_nothing(
    visit, run_tasks, django_capture_on_commit_callbacks
):
    def rate_then_fail():
        with transaction.atomic():
            services.visit_rate(token=tokens.visit_token(visit), level=1)
            raise RuntimeError("the request failed later")

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        rate_then_fail()
    assert callbacks == []
    assert run_tasks == []
    assert not Feedback.objects.exists()


def test_the_case_goes_to_the_department_that_handled_the_visit_even_without_a_rule(
    rate_visit, department
):
    rating = rate_visit(2)
    case = services.rectification_open(feedback_id=rating.pk)
    assert case.responsible == department


def test_deadlines_count_chinese_working_days_over_national_day(rate_visit, routing):
    rating = rate_visit(1)
    # Wednesday 30 September 2026; 1–7 October are National Day, Saturday 10 October is worked.
    case = services.rectification_open(feedback_id=rating.pk, now=at(2026, 9, 30, 10))

    rating.refresh_from_db()
    assert rating.return_visit_due_at == at(2026, 10, 8, 17, 30)  # default: 1 working day
    assert case.acknowledge_due_at == at(2026, 10, 8, 17, 30)
    # default: 15 working days: 8, 9, 10 (Sat, worked), 12–16, 19–23, 26, 27 October
    assert case.resolve_due_at == at(2026, 10, 27, 17, 30)
    assert case.due_estimated is False


def test_deadlines_follow_the_organisations_policy(rate_visit, routing, department):
    FeedbackPolicy.objects.create(organisation=department, return_visit_days=2, rectify_days=3)
    rating = rate_visit(2)

    case = services.rectification_open(feedback_id=rating.pk, now=at(2026, 9, 30, 16))

    assert case.acknowledge_due_at == at(2026, 10, 9, 17, 30)
    assert case.resolve_due_at == at(2026, 10, 10, 17, 30)


def test_a_policy_only_for_another_organisation_leaves_the_defaults(rate_visit, routing, partner):
    FeedbackPolicy.objects.create(organisation=partner, return_visit_days=5, rectify_days=30)
    case = services.rectification_open(feedback_id=rate_visit(1).pk, now=at(2026, 9, 28, 10))
    assert case.acknowledge_due_at == at(2026, 9, 29, 17, 30)


def test_opening_twice_finds_the_case_open(rate_visit, routing):
    rating = rate_visit(1)
    first = services.rectification_open(feedback_id=rating.pk)
    second = services.rectification_open(feedback_id=rating.pk)
    assert first == second
    assert rating.__class__.objects.get(pk=rating.pk).case == first
    from governance.cases.models import Case

    assert Case.objects.count() == 1


def test_an_excluded_rating_opens_no_case(rate_visit, routing):
    rating = rate_visit(1)
    Feedback.objects.filter(pk=rating.pk).update(excluded=True)
    assert services.rectification_open(feedback_id=rating.pk) is None


def test_a_bad_rating_of_a_station_alone_opens_no_case(
    station, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rating = services.feedback_submit(
            actor=None, kind="online_rating", level=1, station=station
        )
    assert run_tasks == []
    assert services.rectification_open(feedback_id=rating.pk) is None


def test_a_bad_online_rating_of_a_service_opens_a_case_too(
    service, routing, citizen, run_tasks, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        rating = services.feedback_submit(
            actor=citizen, kind="online_rating", level=2, service=service
        )
    rating.refresh_from_db()
    assert rating.case is not None
    assert rating.case.address  # "线上评价": no station


def test_a_signed_in_rater_reports_and_follows_the_case(rate_visit, routing, citizen):
    rating = rate_visit(1, actor=citizen)
    case = services.rectification_open(feedback_id=rating.pk)
    assert case.reporter == citizen
    assert Follower.objects.filter(case=case, user=citizen).exists()
    assert fresh(citizen).has_perm("cases.view_case", case)


def test_an_anonymous_raters_contact_is_seen_only_by_the_handlers(
    rate_visit, routing, department_staff, department_viewer, other_department_staff
):
    rating = rate_visit(2, contact_name="王女士", contact_email=CONTACT_EMAIL)
    case = services.rectification_open(feedback_id=rating.pk)
    assert (case.reporter, case.contact_name, case.contact_email) == (None, "王女士", CONTACT_EMAIL)
    assert fresh(department_staff).has_perm("cases.view_case_contact", case)
    assert not fresh(department_viewer).has_perm("cases.view_case_contact", case)
    assert not fresh(other_department_staff).has_perm("cases.view_case", case)


def test_staff_record_the_return_visit_on_the_case(rate_visit, routing, department_staff, citizen):
    rating = rate_visit(1, actor=citizen)
    case = services.rectification_open(feedback_id=rating.pk)

    entry = case_services.case_record_contact(
        actor=department_staff, case=case, channel="phone", body="已电话回访，致歉并说明整改措施"
    )

    assert entry.kind == TimelineEntry.Kind.CONTACT
    assert entry.is_public is False
    with pytest.raises(PermissionDenied):
        case_services.case_record_contact(actor=citizen, case=case, channel="phone", body="x")


def test_resolving_the_case_tells_a_signed_in_rater_who_may_rerate_once(
    rate_visit, routing, citizen, department_staff
):
    rating = rate_visit(1, actor=citizen)
    case = services.rectification_open(feedback_id=rating.pk)

    resolve(case, department_staff)

    rating.refresh_from_db()
    assert rating.rectified_at is not None
    assert rating.rater_told_at is not None
    assert rating.may_rerate
    notice = Notification.objects.get(recipient=citizen, event_type="feedback.rectified")
    token = notice.url.rstrip("/").rsplit("/", 1)[-1]
    assert tokens.rerate_claim(token) == rating.pk

    services.rectification_rerate(feedback=rating, level=4, comment="改得不错")
    rating.refresh_from_db()
    assert (rating.level, rating.rerating_level) == (1, 4)  # the original stays
    assert rating.rerating_comment == "改得不错"
    note = case.timeline.filter(kind=TimelineEntry.Kind.NOTE).last()
    assert "满意" in note.body
    assert "改得不错" in note.body
    with pytest.raises(ValidationError) as excinfo:
        services.rectification_rerate(feedback=rating, level=5)
    assert excinfo.value.code == "already_rerated"
    rating.refresh_from_db()
    assert rating.rerating_level == 4


def test_resolving_the_case_mails_an_anonymous_rater_a_rerate_link(
    rate_visit, routing, department_staff, run_tasks, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://gongzhi.example.cn"
    rating = rate_visit(2, contact_email=CONTACT_EMAIL)
    case = services.rectification_open(feedback_id=rating.pk)

    with django_capture_on_commit_callbacks(execute=True):
        resolve(case, department_staff)

    assert ("feedback.mail_rerate_link", rating.pk) in run_tasks
    (message,) = mail.outbox
    assert message.to == [CONTACT_EMAIL]
    assert case.reference in message.body
    link = next(word for word in message.body.split() if word.startswith("https://"))
    assert link.startswith("https://gongzhi.example.cn/feedback/rerate/")
    assert tokens.rerate_claim(link.rstrip("/").rsplit("/", 1)[-1]) == rating.pk
    rating.refresh_from_db()
    assert rating.rater_told_at is not None
    assert not Notification.objects.filter(event_type="feedback.rectified").exists()


def test_a_rater_who_left_no_address_is_not_told(
    rate_visit, routing, department_staff, run_tasks, django_capture_on_commit_callbacks
):
    rating = rate_visit(1, contact_phone=CONTACT_PHONE)
    case = services.rectification_open(feedback_id=rating.pk)
    with django_capture_on_commit_callbacks(execute=True):
        resolve(case, department_staff)
    rating.refresh_from_db()
    assert rating.rectified_at is not None
    assert rating.rater_told_at is None
    assert mail.outbox == []
    assert run_tasks == []


def test_reopening_and_resolving_again_tells_nobody_twice(
    rate_visit, routing, citizen, department_staff
):
    rating = rate_visit(1, actor=citizen)
    case = resolve(services.rectification_open(feedback_id=rating.pk), department_staff)
    rating.refresh_from_db()
    first = rating.rectified_at
    case = case_services.case_transition(actor=department_staff, case=case, to=Status.REOPENED)
    case = case_services.case_transition(actor=department_staff, case=case, to=Status.RESOLVED)
    rating.refresh_from_db()
    assert rating.rectified_at == first
    assert Notification.objects.filter(event_type="feedback.rectified").count() == 1


def test_no_rerating_before_the_rectification(rate_visit):
    rating = rate_visit(1)
    with pytest.raises(ValidationError) as excinfo:
        services.rectification_rerate(feedback=rating, level=5)
    assert excinfo.value.code == "not_rectified"


def test_a_rerating_outside_one_to_five_is_refused(rate_visit, routing, department_staff):
    rating = rate_visit(1)
    resolve(services.rectification_open(feedback_id=rating.pk), department_staff)
    rating.refresh_from_db()
    with pytest.raises(ValidationError) as excinfo:
        services.rectification_rerate(feedback=rating, level=0)
    assert "5=非常满意" in errors_of(excinfo)
    rating.refresh_from_db()
    assert rating.rerated_at is None


def test_other_case_sources_are_left_alone(
    rate_visit, routing, citizen, service, station, department_staff
):
    rating = rate_visit(1, actor=citizen)
    services.rectification_open(feedback_id=rating.pk)
    other = case_services.case_open(
        actor=citizen, title="x", description="y", service=service, station=station
    )
    resolve(other, department_staff)
    rating.refresh_from_db()
    assert rating.rectified_at is None


# Appeals -------------------------------------------------------------------
@pytest.fixture
def bad_rating(rate_visit, routing, citizen):
    rating = rate_visit(1, actor=citizen, comment="恶意差评")
    services.rectification_open(feedback_id=rating.pk)
    rating.refresh_from_db()
    return rating


def test_staff_file_an_appeal_and_their_admin_decides_it(
    bad_rating, department_staff, department_admin, delivered
):
    appeal = services.appeal_file(
        actor=fresh(department_staff), feedback=bad_rating, reason="当事人承认误操作"
    )
    assert (appeal.status, appeal.filed_role) == (Appeal.Status.PENDING, "staff")
    assert Notification.objects.filter(
        recipient=department_admin, event_type="feedback.appeal_filed"
    ).exists()

    with pytest.raises(PermissionDenied):
        services.appeal_decide(actor=fresh(department_staff), appeal=appeal, upheld=True, note="x")
    services.appeal_decide(actor=fresh(department_admin), appeal=appeal, upheld=True, note="属实")

    appeal.refresh_from_db()
    bad_rating.refresh_from_db()
    assert (appeal.status, appeal.decided_by) == (Appeal.Status.UPHELD, department_admin)
    assert bad_rating.excluded is True
    assert Feedback.objects.filter(pk=bad_rating.pk).exists()  # never deleted
    notes = list(
        bad_rating.case.timeline.filter(kind=TimelineEntry.Kind.NOTE).values_list("body", flat=True)
    )
    assert any("当事人承认误操作" in body for body in notes)
    assert any("申诉成立" in body for body in notes)
    assert any("属实" in body for body in notes)


def test_a_dismissed_appeal_keeps_the_rating_in_the_figures(
    bad_rating, department_staff, department_admin
):
    appeal = services.appeal_file(actor=fresh(department_staff), feedback=bad_rating, reason="r")
    services.appeal_decide(
        actor=fresh(department_admin), appeal=appeal, upheld=False, note="不属实"
    )
    bad_rating.refresh_from_db()
    assert bad_rating.excluded is False
    assert Appeal.objects.get().status == Appeal.Status.DISMISSED
    # Decided once: a new appeal may be filed, the old one is not decided again.
    with pytest.raises(ValidationError):
        services.appeal_decide(actor=fresh(department_admin), appeal=appeal, upheld=True, note="x")


def test_an_admins_appeal_is_the_platforms_to_decide(
    bad_rating, department_admin, superuser, partner_admin
):
    second_admin = fresh(department_admin).__class__.objects.create_user(
        email="dept.admin2@example.com", password="x"
    )
    from tests.factories import MembershipFactory

    MembershipFactory(organisation=bad_rating.organisation, user=second_admin, role="admin")
    appeal = services.appeal_file(actor=fresh(department_admin), feedback=bad_rating, reason="r")
    assert appeal.filed_role == "admin"

    for refused in (department_admin, second_admin, partner_admin):
        with pytest.raises(PermissionDenied):
            services.appeal_decide(actor=fresh(refused), appeal=appeal, upheld=True, note="x")
    services.appeal_decide(actor=superuser, appeal=appeal, upheld=False, note="驳回")
    assert Appeal.objects.get().decided_by == superuser


def test_an_admins_appeal_is_announced_to_those_who_decide_it(
    bad_rating, department_admin, superuser, delivered
):
    services.appeal_file(actor=fresh(department_admin), feedback=bad_rating, reason="r")
    told = set(
        Notification.objects.filter(event_type="feedback.appeal_filed").values_list(
            "recipient_id", flat=True
        )
    )
    assert told == {superuser.pk}


def test_nobody_decides_their_own_appeal_not_even_a_superuser(bad_rating, department):
    from tests.factories import MembershipFactory, UserFactory

    boss = UserFactory(email="boss@example.com", is_staff=True, is_superuser=True)
    MembershipFactory(organisation=department, user=boss, role="admin")
    appeal = services.appeal_file(actor=fresh(boss), feedback=bad_rating, reason="r")

    with pytest.raises(PermissionDenied):
        services.appeal_decide(actor=fresh(boss), appeal=appeal, upheld=True, note="自己批准")


@pytest.mark.parametrize(
    "role",
    ["department_viewer", "other_department_staff", "partner_admin", "citizen"],
)
def test_only_the_rated_organisations_acting_staff_file_appeals(request, bad_rating, role):
    with pytest.raises(PermissionDenied):
        services.appeal_file(
            actor=fresh(request.getfixturevalue(role)), feedback=bad_rating, reason="r"
        )
    assert not Appeal.objects.exists()


def test_one_pending_appeal_at_a_time_and_a_reason_is_required(bad_rating, department_staff):
    staff = fresh(department_staff)
    with pytest.raises(ValidationError):
        services.appeal_file(actor=staff, feedback=bad_rating, reason="  ")
    services.appeal_file(actor=staff, feedback=bad_rating, reason="r")
    with pytest.raises(ValidationError) as excinfo:
        services.appeal_file(actor=staff, feedback=bad_rating, reason="again")
    assert excinfo.value.code == "appeal_pending"
    assert Appeal.objects.count() == 1


def test_an_excluded_rating_or_a_suggestion_cannot_be_appealed(
    bad_rating, department_staff, department
):
    Feedback.objects.filter(pk=bad_rating.pk).update(excluded=True)
    bad_rating.refresh_from_db()
    with pytest.raises(ValidationError):
        services.appeal_file(actor=fresh(department_staff), feedback=bad_rating, reason="r")
    from tests.feedback.fixtures import suggestion

    with pytest.raises(ValidationError):
        services.appeal_file(
            actor=fresh(department_staff), feedback=suggestion(organisation=department), reason="r"
        )


def test_a_decision_needs_a_note(bad_rating, department_staff, department_admin):
    appeal = services.appeal_file(actor=fresh(department_staff), feedback=bad_rating, reason="r")
    with pytest.raises(ValidationError):
        services.appeal_decide(actor=fresh(department_admin), appeal=appeal, upheld=True, note=" ")
    assert Appeal.objects.get().status == Appeal.Status.PENDING


# Replies and moderation -------------------------------------------------------------------
def test_a_reply_is_published_and_the_author_told(bad_rating, department_staff, citizen, delivered):
    services.feedback_reply(actor=fresh(department_staff), feedback=bad_rating, body="已整改")
    bad_rating.refresh_from_db()
    assert (bad_rating.reply, bad_rating.replied_by) == ("已整改", department_staff)
    assert bad_rating.replied_at is not None
    assert Notification.objects.filter(recipient=citizen, event_type="feedback.replied").exists()


@pytest.mark.parametrize("role", ["department_viewer", "other_department_staff", "citizen"])
def test_only_acting_staff_reply(request, bad_rating, role):
    with pytest.raises(PermissionDenied):
        services.feedback_reply(
            actor=fresh(request.getfixturevalue(role)), feedback=bad_rating, body="x"
        )


def test_hiding_text_keeps_the_rating(bad_rating, department_admin, department_staff):
    with pytest.raises(PermissionDenied):
        services.feedback_hide(actor=fresh(department_staff), feedback=bad_rating, reason="辱骂")
    services.feedback_hide(actor=fresh(department_admin), feedback=bad_rating, reason="辱骂")
    bad_rating.refresh_from_db()
    assert bad_rating.is_hidden
    assert bad_rating.hidden_reason == "辱骂"
    assert bad_rating.level == 1
    assert bad_rating.excluded is False
    assert bad_rating.text == "恶意差评"  # kept on record, not shown


def test_policy_is_set_by_the_organisations_admin(department, department_admin, department_staff):
    with pytest.raises(PermissionDenied):
        services.policy_set(
            actor=fresh(department_staff),
            organisation=department,
            return_visit_days=1,
            rectify_days=5,
        )
    with pytest.raises(ValidationError):
        services.policy_set(
            actor=fresh(department_admin),
            organisation=department,
            return_visit_days=6,
            rectify_days=5,
        )
    policy = services.policy_set(
        actor=fresh(department_admin), organisation=department, return_visit_days=2, rectify_days=10
    )
    assert services.policy_for(department.pk) == policy
    assert services.policy_for(None).rectify_days == 15


def test_a_policy_row_cannot_say_zero_days(department):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        FeedbackPolicy.objects.create(organisation=department, return_visit_days=0)


def test_now_defaults_to_the_present(rate_visit):
    before = timezone.now()
    rating = rate_visit(5)
    assert before <= rating.created_at <= timezone.now() + dt.timedelta(seconds=1)
