"""The KPI metrics computed from proposals, registered with ``governance.kpis`` in ``ready``.

Cut by station, service, and the proposal's responsible organisation (the one that answers it)
as department or partner, whichever kind it is; a proposal still with the triage desk counts
for the desk. A platform-wide proposal counts for the platform and its responsible
organisation only; a service's proposal counts for its station when it names one. Days are
Asia/Shanghai days. Every figure is computed from the proposals, answers and results
themselves, never from stored totals.

- ``proposals.received``: proposals published on the day (SUM). A proposal withdrawn later
  still counts: it was received. Drafts never count.
- ``proposals.answered_in_time``: the percentage of published proposals whose first published
  official answer (evaluating, accepted or rejected) came within ``PROPOSALS_ANSWER_DAYS``
  (30) days of publication (WEIGHTED_MEAN). Each proposal counts once, on one day: an answer in
  time counts as a hit on the day of that answer; a proposal without an answer when its window
  closes (publication + 30 days) counts as a miss on the day the window closes, and only once
  that moment has passed, so a window still open is not yet a miss. A later, late answer
  changes nothing. A proposal withdrawn before any answer and before its window closed is left
  out (nobody owes an answer to a proposal its author took back); one withdrawn after its
  window closed unanswered stays a miss.
- ``proposals.acceptance_rate``: the percentage accepted among the proposals whose verdict (the
  published answer that accepted or rejected them; there is one at most) fell on the day
  (WEIGHTED_MEAN). "Under evaluation" is not a verdict.
- ``proposals.implemented_on_time``: the percentage of implementation results completed on or
  before their planned end date (``Result.ends_on``, an Asia/Shanghai day) (WEIGHTED_MEAN). A
  result completed in time counts as a hit on the day of completion; one not completed by its
  planned end counts as a miss on the planned end day, once that day is over (a result
  completed late is that miss). A result whose task reopened is no longer completed: it counts
  as its completion says now.
- ``proposals.answer_days_median``: whole days from publication to the first published answer,
  median, one-day bins capped at 180, by the day of that answer (DISTRIBUTION).

The window runs from publication for every proposal, not only for those past the support
threshold (whose formal due date, ``answer_due_at``, runs from the day the threshold was
reached): the figure tells how quickly the public hears back on whatever it proposes.

"Once it has passed" is read against the services' clock (``governance.core.clock``): the
present, or the moment a replay (the demo seed) has reached. The services mark the days they
change (publishing, answering, completing); the days on which a window closes or a planned end
passes change with no write at all, and are recomputed by the KPI rollup, which always
recomputes today and yesterday. :func:`days_counted` lists every day a proposal counts on, for
a write (routing to another organisation) that moves all of them.
"""

from __future__ import annotations

import datetime as dt

from django.db import models
from django.db.models import (
    Count,
    DateField,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    FloatField,
    IntegerField,
    OuterRef,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast, Floor, Least, TruncDate
from django.utils.translation import gettext_lazy as _

from governance.core import clock
from governance.kpis.registry import (
    TZ,
    Combine,
    Dimension,
    Metric,
    Row,
    day_start,
    local_day,
    register,
    roll_up,
)
from governance.proposals.models import Answer, Proposal, Result, Status
from governance.proposals.services import answer_days
from governance.stakeholders.models import Organisation
from governance.stations.metrics import between

DIMENSIONS = frozenset(
    {Dimension.STATION, Dimension.SERVICE, Dimension.DEPARTMENT, Dimension.PARTNER}
)
ANSWER_DAYS_CAP = 180
VERDICTS = (Answer.State.ACCEPTED, Answer.State.REJECTED)


def answer_window() -> dt.timedelta:
    """How long after publication an answer is in time (``PROPOSALS_ANSWER_DAYS``)."""
    return dt.timedelta(days=answer_days())


# Cells -----------------------------------------------------------------------------------------


def _organisation_of_kind(kind: str, prefix: str):
    return models.Case(
        When(**{f"{prefix}responsible__kind": kind, "then": F(f"{prefix}responsible_id")}),
        default=Value(None),
        output_field=IntegerField(),
    )


def _grouped(queryset, *extra: str, prefix: str = ""):
    """Group by the finest cell: day, station, service and the responsible organisation as
    department or partner (``prefix`` reaches the proposal from an answer or a result)."""
    organisations = {
        "department": _organisation_of_kind(Organisation.Kind.DEPARTMENT, prefix),
        "partner": _organisation_of_kind(Organisation.Kind.PARTNER, prefix),
    }
    if not prefix:
        return queryset.values("day", "station", "service", *extra, **organisations)
    places = {"station": F(f"{prefix}station"), "service": F(f"{prefix}service")}
    return queryset.values("day", *extra, **places, **organisations)


def _within(moment: str, start: dt.date, end: dt.date) -> dict:
    return {
        f"{moment}__gte": day_start(start),
        f"{moment}__lt": day_start(end + dt.timedelta(days=1)),
    }


def _share(condition: Q) -> Sum:
    """100 for each row that meets ``condition``, 0 for the others, summed."""
    return Sum(
        models.Case(
            When(condition, then=Value(100.0)), default=Value(0.0), output_field=FloatField()
        )
    )


def _first_answers(start: dt.date, end: dt.date):
    """Each proposal's first published answer, when it was published on ``start``–``end``."""
    earlier = Answer.objects.filter(
        proposal=OuterRef("proposal"), published_at__isnull=False
    ).filter(
        Q(published_at__lt=OuterRef("published_at"))
        | Q(published_at=OuterRef("published_at"), pk__lt=OuterRef("pk"))
    )
    return (
        Answer.objects.filter(**_within("published_at", start, end))
        .filter(~Exists(earlier))
        .annotate(day=TruncDate("published_at", tzinfo=TZ))
        .order_by()
    )


# The metrics -----------------------------------------------------------------------------------


def _published():
    """Proposals out of draft: a draft has no publication time anyway, and saying so lets
    PostgreSQL read the published proposals' index (``proposals_newest_idx``)."""
    return Proposal.objects.exclude(status=Status.DRAFT)


def received(start: dt.date, end: dt.date) -> list[Row]:
    proposals = (
        _published()
        .filter(**_within("published_at", start, end))
        .annotate(day=TruncDate("published_at", tzinfo=TZ))
        .order_by()
    )
    cells = _grouped(proposals).annotate(value=Count("pk"))
    return roll_up(cells, metric=RECEIVED)


def answered_in_time(start: dt.date, end: dt.date) -> list[Row]:
    """Two queries: the hits (first answers in time, by their day) and the misses (windows
    that closed unanswered, by the day they closed)."""
    window = answer_window()
    hits = _first_answers(start, end).filter(
        published_at__lte=ExpressionWrapper(
            F("proposal__published_at") + window, output_field=DateTimeField()
        )
    )
    hit_cells = _grouped(hits, prefix="proposal__").annotate(weight=Count("pk"))
    # A window closes on day D when the proposal was published 30 days before D; only windows
    # closed by now count.
    published_before = min(day_start(end + dt.timedelta(days=1)), clock.now()) - window
    answered_by_then = Answer.objects.filter(
        proposal=OuterRef("pk"),
        published_at__isnull=False,
        published_at__lte=OuterRef("closes_at"),
    )
    misses = (
        _published()
        .filter(published_at__gte=day_start(start) - window, published_at__lt=published_before)
        .annotate(
            closes_at=ExpressionWrapper(F("published_at") + window, output_field=DateTimeField())
        )
        .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gt=F("closes_at")))
        .filter(~Exists(answered_by_then))
        .annotate(day=TruncDate("closes_at", tzinfo=TZ))
        .order_by()
    )
    miss_cells = _grouped(misses).annotate(weight=Count("pk"))
    cells = [{**cell, "value": 100.0 * cell["weight"]} for cell in hit_cells]
    cells += [{**cell, "value": 0.0} for cell in miss_cells]
    return roll_up(cells, metric=ANSWERED_IN_TIME)


def acceptance_rate(start: dt.date, end: dt.date) -> list[Row]:
    verdicts = (
        Answer.objects.filter(state__in=VERDICTS, **_within("published_at", start, end))
        .annotate(day=TruncDate("published_at", tzinfo=TZ))
        .order_by()
    )
    cells = _grouped(verdicts, prefix="proposal__").annotate(
        value=_share(Q(state=Answer.State.ACCEPTED)), weight=Count("pk")
    )
    return roll_up(cells, metric=ACCEPTANCE_RATE)


def implemented_on_time(start: dt.date, end: dt.date) -> list[Row]:
    """One query over the results completed or planned to end on ``start``–``end`` (a small
    table: accepted proposals only), each placed on its completion day if in time, else on
    its planned end day once that is over."""
    today = local_day(clock.now())
    on_time = Q(completed_at__isnull=False, completed_on__lte=F("ends_on"))
    results = (
        Result.objects.filter(
            Q(**_within("completed_at", start, end)) | Q(ends_on__gte=start, ends_on__lte=end)
        )
        .annotate(completed_on=TruncDate("completed_at", tzinfo=TZ))
        .annotate(
            day=models.Case(
                When(on_time, then=F("completed_on")),
                default=F("ends_on"),
                output_field=DateField(),
            )
        )
        .filter(day__gte=start, day__lte=end)
        .filter(on_time | Q(ends_on__lt=today))
        .order_by()
    )
    cells = _grouped(results, prefix="proposal__").annotate(
        value=_share(on_time), weight=Count("pk")
    )
    return roll_up(cells, metric=IMPLEMENTED_ON_TIME)


def answer_days_median(start: dt.date, end: dt.date) -> list[Row]:
    answers = _first_answers(start, end).annotate(
        bin=Least(
            Cast(Floor(between("proposal__published_at", "published_at") / 86400), IntegerField()),
            Value(ANSWER_DAYS_CAP),
        )
    )
    cells = _grouped(answers, "bin", prefix="proposal__").annotate(count=Count("pk"))
    return roll_up(cells, metric=ANSWER_DAYS_MEDIAN)


def days_counted(proposal: Proposal) -> set[dt.date]:
    """Every day on which ``proposal`` counts in some metric, as of now (two queries): what a
    write that changes its cell (another responsible organisation) must mark dirty."""
    if proposal.published_at is None:
        return set()
    days = {local_day(proposal.published_at)}
    answered = sorted(
        Answer.objects.filter(proposal=proposal, published_at__isnull=False).values_list(
            "published_at", flat=True
        )
    )
    days |= {local_day(moment) for moment in answered}
    closes_at = proposal.published_at + answer_window()
    unanswered = not answered or answered[0] > closes_at
    withdrawn = proposal.withdrawn_at is not None and proposal.withdrawn_at <= closes_at
    if closes_at < clock.now() and unanswered and not withdrawn:
        days.add(local_day(closes_at))
    result = Result.objects.filter(proposal=proposal).values_list("ends_on", "completed_at")
    for ends_on, completed_at in result:
        days.add(ends_on)
        if completed_at is not None:
            days.add(local_day(completed_at))
    return days


RECEIVED = Metric(
    code="proposals.received",
    label=_("收到的建议数"),
    unit=_("条"),
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.SUM,
    compute=received,
    description=_("按发布日期（北京时间）统计的公开建议数；发布后撤回的也计入，草稿不计。"),
)
ANSWERED_IN_TIME = Metric(
    code="proposals.answered_in_time",
    label=_("建议按时答复率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=answered_in_time,
    description=_(
        "发布的建议中，在发布后 30 天内作出首次正式答复的比例：按时答复的按答复日期统计，"
        "到期未答复的在期满当天计为未按时；答复前撤回的建议不计入。"
    ),
)
ACCEPTANCE_RATE = Metric(
    code="proposals.acceptance_rate",
    label=_("建议采纳率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=acceptance_rate,
    description=_("作出采纳或不采纳答复的建议中，予以采纳的比例，按答复日期统计。"),
)
IMPLEMENTED_ON_TIME = Metric(
    code="proposals.implemented_on_time",
    label=_("建议按期落实率"),
    unit="%",
    higher_is_better=True,
    dimensions=DIMENSIONS,
    combine=Combine.WEIGHTED_MEAN,
    compute=implemented_on_time,
    description=_(
        "已采纳建议中，在计划完成日期当天或之前落实完成的比例：按期完成的按完成日期统计，"
        "计划完成日期过后仍未完成的在计划完成日期计为未按期。"
    ),
)
ANSWER_DAYS_MEDIAN = Metric(
    code="proposals.answer_days_median",
    label=_("建议答复天数中位数"),
    unit=_("天"),
    higher_is_better=False,
    dimensions=DIMENSIONS,
    combine=Combine.DISTRIBUTION,
    compute=answer_days_median,
    description=_(
        "从建议发布到首次正式答复的天数的中位数，按整天分组，按答复日期统计，最多计 180 天。"
    ),
    quantile=0.5,
    cap=ANSWER_DAYS_CAP,
)

METRICS = (RECEIVED, ANSWERED_IN_TIME, ACCEPTANCE_RATE, IMPLEMENTED_ON_TIME, ANSWER_DAYS_MEDIAN)
METRIC_CODES = tuple(metric.code for metric in METRICS)
# What the services mark dirty when they change a proposal.
CODES = list(METRIC_CODES)


def register_metrics() -> None:
    for metric in METRICS:
        register(metric)
