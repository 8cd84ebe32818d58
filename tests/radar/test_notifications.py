"""Each department's weekly radar summary: who is told (its active admins, nobody else), what
they read (its rising themes, its reasons for unhappiness with the change, its busiest queue),
once per ISO week, nothing for a department the radar has nothing about, and the line that
Monday's weekly digest carries. The summary reads the stored results only, so the tests store
results of their own."""

from __future__ import annotations

import datetime as dt
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from django.template.loader import get_template
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from governance.celery import app
from governance.notifications import registry as notification_registry
from governance.notifications import services as notification_services
from governance.notifications.channels import render_line, render_notification
from governance.notifications.models import Digest, Mode, Notification
from governance.notifications.registry import Audience
from governance.radar import registry, tasks
from governance.radar.events import RadarSummaryReady
from governance.radar.models import HeatCell, ReasonCount, Run, Theme
from governance.radar.notifications import CODE, weekly_summaries_publish
from tests.conftest import _member
from tests.factories import DepartmentFactory, ServiceFactory, StationFactory, UserFactory
from tests.notifications.conftest import enqueued  # noqa: F401  (a fixture)

pytestmark = pytest.mark.django_db

MONTH = dt.date(2026, 11, 1)
MONDAY = dt.date(2026, 11, 23)  # ISO week 2026-W48; the past week is November's
TEMPLATE_FILES = ("subject.txt", "body.txt", "body.html", "line.txt")


@pytest.fixture
def reason_source(monkeypatch):
    """A reason source of the test's own, registered for this test only."""
    monkeypatch.setattr(registry, "_reason_sources", dict(registry._reason_sources))
    registry.register_reason_source(
        registry.ReasonSource(
            code="tests.bad_rating",
            label=_("差评"),
            reasons={"waiting_time": _("等候时间长"), "attitude": _("服务态度差")},
            count=lambda start, end: [],
        )
    )


@pytest.fixture
def world(department, other_department, reason_source):
    """The mall station, where the department serves, and stored results of November (and of
    October for the reasons' change)."""
    mall = StationFactory(slug="mall", name_zh="万象城服务站", name_en="Mixc Station")
    mall.departments.set([department])
    elsewhere = StationFactory(slug="east", name_zh="东站", name_en="East Station")
    elsewhere.departments.set([other_department])
    passport = ServiceFactory(
        department=department, name_zh="出入境证件办理", name_en="Exit-entry documents"
    )
    passport.stations.set([mall])
    licence = ServiceFactory(department=other_department, name_zh="驾驶证换证")
    licence.stations.set([elsewhere])
    computed(MONTH)
    Theme.objects.create(
        month=MONTH, station=mall, term="周末办证", rank=1, count=42, baseline=3.0, growth=14.0
    )
    Theme.objects.create(
        month=MONTH, station=mall, term="自助机", rank=2, count=9, baseline=0.0, growth=9.0
    )
    # All stations together, and another department's station: not this department's themes.
    Theme.objects.create(
        month=MONTH, station=None, term="全站主题", rank=1, count=99, baseline=0, growth=99
    )
    Theme.objects.create(
        month=MONTH, station=elsewhere, term="违章处理", rank=1, count=30, baseline=1, growth=30
    )
    reasons = [
        (MONTH, "waiting_time", department, 12),
        (MONTH, "waiting_time", department, 3),  # another cell of the same reason
        (dt.date(2026, 10, 1), "waiting_time", department, 5),
        (MONTH, "attitude", department, 4),
        (dt.date(2026, 10, 1), "attitude", department, 6),
        (MONTH, "attitude", other_department, 50),
    ]
    for month, reason, owner, count in reasons:
        ReasonCount.objects.create(
            month=month, source="tests.bad_rating", reason=reason, department=owner, count=count
        )
    cell = {"month": MONTH, "station": mall, "service": passport, "days": 4, "called": 30}
    # Saturday 14:00: 40 visits; 1,200 minutes of waiting in that hour over four Saturdays is a
    # queue of 5.
    HeatCell.objects.create(
        **cell,
        weekday=5,
        hour=14,
        visits=40,
        wait_minutes=1200,
        queue_minutes=1200,
        max_wait_minutes=70,
    )
    HeatCell.objects.create(
        **cell,
        weekday=1,
        hour=10,
        visits=60,
        wait_minutes=240,
        queue_minutes=240,
        max_wait_minutes=20,
    )
    HeatCell.objects.create(
        month=MONTH,
        station=elsewhere,
        service=licence,
        weekday=0,
        hour=9,
        visits=500,
        called=500,
        wait_minutes=99_000,
        queue_minutes=99_000,
        max_wait_minutes=300,
        days=5,
    )
    return {"mall": mall, "passport": passport}


def computed(month: dt.date) -> Run:
    """``month`` computed on 22 November 2026 (the day before ``MONDAY``)."""
    return Run.objects.create(
        month=month,
        status=Run.Status.DONE,
        done_at=timezone.now(),
        through=min(dt.date(2026, 11, 22), month.replace(day=28)),
    )


def summaries(user=None):
    told = Notification.objects.filter(event_type=CODE)
    return told.filter(recipient=user) if user is not None else told


# Who is told ------------------------------------------------------------------------------------
def test_the_summary_goes_to_the_departments_active_admins_only(
    world,
    department,
    other_department,
    department_admin,
    department_staff,
    department_viewer,
    superuser,
    partner_admin,
):
    second_admin = _member(department, "admin", "second.admin@example.com")
    gone = _member(department, "admin", "gone.admin@example.com")
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    other_admin = _member(other_department, "admin", "other.admin@example.com")
    UserFactory(email="citizen@example.com")

    outcome = weekly_summaries_publish(today=MONDAY)

    mine = summaries().filter(payload__department_id=department.pk)
    assert set(mine.values_list("recipient_id", flat=True)) == {
        department_admin.pk,
        second_admin.pk,
    }
    # The other department hears of its own radar, not of this one.
    theirs = summaries().filter(payload__department_id=other_department.pk)
    assert set(theirs.values_list("recipient_id", flat=True)) == {other_admin.pk}
    assert summaries().count() == 3
    assert outcome["sent"] == sorted([department.pk, other_department.pk])
    assert outcome["week"] == "2026-W48"
    assert outcome["month"] == "2026-11-01"


def test_an_inactive_department_gets_no_summary(world, department, department_admin):
    department.is_active = False
    department.save(update_fields=["is_active"])
    weekly_summaries_publish(today=MONDAY)
    assert not summaries(department_admin).exists()


def test_the_summary_waits_for_the_weekly_digest_by_default(world, department_admin):
    event_type = notification_registry.get(CODE)
    assert event_type.event is RadarSummaryReady
    assert event_type.default_mode(Audience.DEPARTMENT) == Mode.WEEKLY
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    assert notification.mode == Mode.WEEKLY
    # Nothing is e-mailed at once.
    assert not notification.deliveries.exists()


@pytest.mark.parametrize("name", TEMPLATE_FILES)
def test_the_event_type_has_each_template(name):
    assert get_template(f"{notification_registry.get(CODE).template_dir}/{name}")


# What they read --------------------------------------------------------------------------------
def test_the_summary_carries_the_departments_themes_reasons_and_peak(
    world, department, department_admin
):
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    payload = notification.payload
    assert payload["department_zh"] == "户政管理"
    assert payload["month"] == "2026-11-01"
    # Its own station's themes, best ranked first; not the all-stations or the other station's.
    assert payload["themes"] == [["周末办证", 42, 3.0], ["自助机", 9, 0.0]]
    # Most frequent first, with the change against October.
    assert payload["reasons"] == [["等候时间长", 15, 10], ["服务态度差", 4, -2]]
    # The longest mean queue, not the most visits: Saturday 14:00.
    assert payload["peak_weekday"] == 5
    assert payload["peak_hour"] == 14
    assert payload["peak_service_zh"] == "出入境证件办理"
    assert payload["peak_station_zh"] == "万象城服务站"
    assert payload["peak_visits"] == 40
    assert payload["peak_queue"] == 5.0
    assert payload["peak_wait"] == 40.0
    # The radar page at the department's station, for that month, reasons of the department.
    url = urlsplit(notification.url)
    assert url.path == "/radar/"
    assert parse_qs(url.query) == {
        "station": ["mall"],
        "month": ["2026-11"],
        "department": ["hukou"],
    }


def test_the_email_tells_the_summary_in_chinese(world, department_admin):
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    message = render_notification(notification, department_admin)
    assert message.subject == "需求雷达周报：户政管理（2026-11）"
    for text in (message.text, message.html):
        assert "周末办证：42 条，前三个月月均 3 条" in text
        assert "自助机：9 条，前三个月没有" in text
        assert "等候时间长：15 次，比上月多 10 次" in text
        assert "服务态度差：4 次，比上月少 2 次" in text
        assert "星期六 14:00" in text
        assert "平均排队 5 人，本月该时段共 40 人次，平均等候 40 分钟" in text
    assert "/radar/?month=2026-11&amp;station=mall&amp;department=hukou" in message.html
    assert "/radar/?month=2026-11&station=mall&department=hukou" in message.text


def test_the_email_uses_the_english_names_for_an_english_reader(world, department_admin):
    department_admin.language = "en"
    department_admin.save(update_fields=["language"])
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    message = render_notification(notification, department_admin)
    assert "Household Administration" in message.subject
    assert "Mixc Station" in message.text
    assert "Exit-entry documents" in message.text
    assert "户政管理" not in message.text
    # The reasons are the rating form's, in the reader's language.
    assert "Long wait" in message.text
    assert "Long wait" in message.html
    assert "等候时间长" not in message.text


def test_a_department_with_visits_only_is_told_what_there_is(
    reason_source, department, department_admin
):
    station = StationFactory(slug="solo", name_zh="独立站")
    station.departments.set([department])
    service = ServiceFactory(department=department, name_zh="户口迁移")
    computed(MONTH)
    HeatCell.objects.create(
        month=MONTH,
        station=station,
        service=service,
        weekday=2,
        hour=9,
        visits=7,
        called=0,
        wait_minutes=0,
        max_wait_minutes=0,
        days=4,
    )
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    assert notification.payload["themes"] == []
    assert notification.payload["reasons"] == []
    assert notification.payload["peak_wait"] is None
    message = render_notification(notification, department_admin)
    assert "本月所在站点没有上升的主题。" in message.text
    assert "本月没有涉及本部门的差评或投诉原因。" in message.text
    assert "星期三 09:00" in message.text
    assert "平均等候" not in message.text


# Once a week, and only with something to say ---------------------------------------------------
def test_one_summary_per_department_and_week(world, department, department_admin):
    first = weekly_summaries_publish(today=MONDAY)
    again = weekly_summaries_publish(today=MONDAY)  # beat fires twice, or a retry
    later = weekly_summaries_publish(today=MONDAY + dt.timedelta(days=2))  # run by hand
    assert department.pk in first["sent"]
    assert department.pk in again["already"]
    assert department.pk in later["already"]
    assert summaries(department_admin).count() == 1
    # The next week has its own.
    weekly_summaries_publish(today=MONDAY + dt.timedelta(days=7))
    assert sorted(summaries(department_admin).values_list("payload__week", flat=True)) == [
        "2026-W48",
        "2026-W49",
    ]


def test_no_summary_for_a_department_with_nothing_in_the_radar(
    world, department_admin, department_staff
):
    quiet = DepartmentFactory(slug="quiet", name_zh="安静的部门")
    quiet_admin = _member(quiet, "admin", "quiet.admin@example.com")
    outcome = weekly_summaries_publish(today=MONDAY)
    assert quiet.pk in outcome["empty"]
    assert not summaries(quiet_admin).exists()
    assert summaries(department_admin).exists()


def test_no_summary_at_all_for_a_month_never_computed(world, department_admin):
    # Monday 7 December: the past week is December's, which has no finished run.
    Run.objects.create(month=dt.date(2026, 12, 1), status=Run.Status.FAILED)
    outcome = weekly_summaries_publish(today=dt.date(2026, 12, 7))
    assert outcome["computed"] is False
    assert outcome["sent"] == []
    assert not summaries().exists()


def test_a_failed_recompute_still_sums_up_the_months_stored_results(world, department_admin):
    Run.objects.filter(month=MONTH).update(status=Run.Status.FAILED, error="boom")
    outcome = weekly_summaries_publish(today=MONDAY)
    assert outcome["computed"] is True
    (notification,) = summaries(department_admin)
    assert notification.payload["themes"] == [["周末办证", 42, 3.0], ["自助机", 9, 0.0]]


def test_on_the_first_monday_of_a_month_the_summary_is_of_the_month_just_ended(
    world, department_admin
):
    # Monday 30 November and Monday 7 December; Tuesday 1 December would read December.
    weekly_summaries_publish(today=dt.date(2026, 11, 30))
    (notification,) = summaries(department_admin)
    assert notification.payload["month"] == "2026-11-01"


# Through the task and into the digest -----------------------------------------------------------
def test_the_task_publishes_and_reports_counts(world, department, department_admin):
    result = tasks.weekly_summaries_task.apply(kwargs={"today": MONDAY.isoformat()}).get()
    assert result == {
        "month": "2026-11-01",
        "week": "2026-W48",
        "computed": True,
        "sent": 2,
        "already": 0,
        "empty": 0,
    }
    assert summaries(department_admin).count() == 1


def test_beat_publishes_the_summaries_on_monday_before_the_weekly_digest():
    schedule = app.conf.beat_schedule
    summary = schedule["radar-weekly-summaries"]
    digest = schedule["notifications-weekly-digest"]
    assert summary["task"] == "radar.weekly_summaries"
    assert summary["schedule"].day_of_week == digest["schedule"].day_of_week == {1}
    assert (min(summary["schedule"].hour), min(summary["schedule"].minute)) < (
        min(digest["schedule"].hour),
        min(digest["schedule"].minute),
    )
    # After the night's computation.
    compute = schedule["radar-compute"]["schedule"]
    assert min(compute.hour) < min(summary["schedule"].hour)


def test_the_weekly_digest_carries_the_summary_line(
    world,
    department_admin,
    enqueued,  # noqa: F811  (the fixture imported above)
    django_capture_on_commit_callbacks,
):
    weekly_summaries_publish(today=MONDAY)
    (notification,) = summaries(department_admin)
    line = render_line(notification, "zh-hans")
    assert line == (
        "需求雷达周报：户政管理（2026-11） · 上升主题“周末办证”42 条 · "
        "不满意原因“等候时间长”15 次 · 排队高峰 星期六 14:00 出入境证件办理"
    )
    with django_capture_on_commit_callbacks(execute=True):
        planned = notification_services.digests_plan(period=Mode.WEEKLY, now=timezone.now())
    assert planned >= 1
    digest = Digest.objects.get(recipient=department_admin, period=Mode.WEEKLY)
    assert [digest.pk] in enqueued.digests
    assert notification_services.digest_send(digest.pk) == "sent"
    (message,) = [m for m in mail.outbox if m.to == [department_admin.email]]
    assert "需求雷达周报" in message.body
    assert line in message.body
    notification.refresh_from_db()
    assert notification.digest_id == digest.pk
