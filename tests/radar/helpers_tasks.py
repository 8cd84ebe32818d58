"""A small month of real rows for the computation's task, command and worker tests: visits to
one service at one station, and cases opened through ``case_open`` whose text raises one theme."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from governance.cases.services import case_open
from governance.radar import compute
from governance.radar.models import Run
from tests.factories import ServiceFactory, StationFactory, VisitFactory

THEME = "周末办证"
CASE_TEXTS = (
    "希望开通周末办证，上班族工作日请不了假。",
    "能不能周末办证？平时没有时间。",
    "建议周末办证，方便上班的人。",
    "周末办证的需求很大，请考虑。",
)


def at(month: dt.date, day: int, hour: int) -> dt.datetime:
    return dt.datetime.combine(month.replace(day=day), dt.time(hour), compute.TZ)


def month_of_rows(month: dt.date, department, *, visits: int = 3) -> dict:
    """``visits`` visits on the month's 7th at 14:00 (12 minutes' wait each), and the cases of
    ``CASE_TEXTS`` on the 8th."""
    station = StationFactory(slug=f"mall-{month:%Y%m}", name_zh="万象城服务站")
    station.departments.set([department])
    service = ServiceFactory(department=department, name_zh="出入境证件办理")
    service.stations.set([station])
    for _ in range(visits):
        VisitFactory(station=station, service=service, arrived_at=at(month, 7, 14))
    for text in CASE_TEXTS:
        case_open(
            actor=None,
            title=text[:10],
            description=text,
            service=service,
            station=station,
            opened_at=at(month, 8, 10),
        )
    return {"station": station, "service": service}


def done(*months: dt.date) -> None:
    """Mark ``months`` as computed, so the computation does not go back to compute them."""
    for month in months:
        Run.objects.update_or_create(
            month=month,
            defaults={
                "status": Run.Status.DONE,
                "done_at": timezone.now(),
                "through": compute.last_day(month),
            },
        )
