"""``python manage.py kpis_backfill --from 2025-01-01 --to 2025-12-31``: recompute a range."""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from governance.kpis import registry, services


def iso_date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = (
        "Recompute the daily KPI measurements of a range of days (Asia/Shanghai), at most 3 years."
    )

    def add_arguments(self, parser):
        parser.add_argument("--from", dest="start", required=True, help="first day, YYYY-MM-DD")
        parser.add_argument("--to", dest="end", required=True, help="last day, YYYY-MM-DD")
        parser.add_argument(
            "--metric",
            dest="metrics",
            action="append",
            help="a metric code (repeatable); every registered metric by default",
        )

    def handle(self, *args, start, end, metrics, **options):
        start, end = iso_date(start), iso_date(end)
        try:
            for code in metrics or ():
                registry.get(code)
            outcome = services.kpis_backfill(start=start, end=end, metric_codes=metrics)
        except registry.UnknownMetric as error:
            raise CommandError(f"unknown metric: {error}") from None
        except services.BackfillRangeError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(
            f"{outcome['days']} days recomputed, {outcome['measurements']} measurements written."
        )
