"""``manage.py radar_compute``: a month given with ``--month``, the months before it computed
first as ``--history`` asks, a line of figures per month computed, and a clear error for a
malformed month or history."""

from __future__ import annotations

import datetime as dt
import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from governance.radar import compute
from governance.radar.models import Run, Theme
from tests.radar.helpers_tasks import THEME, done, month_of_rows

pytestmark = pytest.mark.django_db

OCTOBER = dt.date(2026, 10, 1)
LINE = re.compile(
    r"^(?P<month>\d{4}-\d{2}): (?P<visits>[\d,]+) visits, (?P<texts>[\d,]+) texts, "
    r"(?P<reasons>[\d,]+) reasons, (?P<searches>[\d,]+) empty searches in [\d.]+ s, "
    r"peak memory \d+ MB$"
)


def run(*args) -> list[dict]:
    out = StringIO()
    call_command("radar_compute", *args, stdout=out)
    lines = out.getvalue().splitlines()
    matches = [LINE.match(line) for line in lines]
    assert all(matches), lines
    return [match.groupdict() for match in matches]


def test_a_month_is_computed_and_its_figures_printed(department):
    month_of_rows(OCTOBER, department, visits=3)
    (line,) = run("--month", "2026-10", "--history", "0")
    assert line == {
        "month": "2026-10",
        "visits": "3",
        "texts": "4",
        "reasons": "0",
        "searches": "0",
    }
    assert Run.objects.get(month=OCTOBER).status == Run.Status.DONE
    assert Theme.objects.filter(month=OCTOBER, station=None, term=THEME).exists()


def test_the_months_before_are_computed_first_when_never_computed(department):
    month_of_rows(OCTOBER, department)
    done(dt.date(2026, 8, 1))
    lines = run("--month", "2026-10", "--history", "3")
    # July and September were never computed, August was: it is left alone.
    assert [line["month"] for line in lines] == ["2026-07", "2026-09", "2026-10"]
    assert lines[-1]["texts"] == "4"


def test_without_a_month_the_current_month_is_computed(department):
    (line,) = run("--history", "0")
    assert line["month"] == f"{compute.current_month():%Y-%m}"
    assert list(Run.objects.values_list("month", "status")) == [
        (compute.current_month(), Run.Status.DONE)
    ]


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "November", "2026-11-05", "26-11"])
def test_a_malformed_month_is_refused_with_a_clear_message(month):
    with pytest.raises(CommandError) as error:
        call_command("radar_compute", "--month", month, stdout=StringIO())
    assert str(error.value) == f"--month must be YYYY-MM, got {month!r}"
    assert not Run.objects.exists()


@pytest.mark.parametrize("history", ["-1", "25"])
def test_a_history_out_of_range_is_refused(history):
    with pytest.raises(CommandError, match="--history must be between 0 and 24"):
        call_command("radar_compute", "--month", "2026-10", "--history", history, stdout=StringIO())
    assert not Run.objects.exists()
