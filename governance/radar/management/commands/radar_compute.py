import datetime as dt

from django.core.management.base import BaseCommand, CommandError

from governance.radar import compute
from governance.radar.services import radar_compute


class Command(BaseCommand):
    help = "Recompute the needs radar for a month (the current one by default)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="YYYY-MM (default: the current month)")
        parser.add_argument(
            "--history",
            type=int,
            default=compute.HISTORY_MONTHS,
            help="months before it to compute first when never computed (default: 3)",
        )

    def handle(self, *args, month=None, history=3, **options):
        try:
            day = dt.date.fromisoformat(f"{month}-01") if month else None
        except ValueError:
            raise CommandError(f"--month must be YYYY-MM, got {month!r}") from None
        if history < 0 or history > 24:
            raise CommandError("--history must be between 0 and 24")
        for run in radar_compute(month=day, history=history):
            self.stdout.write(
                f"{run.month:%Y-%m}: {run.visits:,} visits, {run.texts:,} texts, "
                f"{run.reasons:,} reasons, {run.searches:,} empty searches "
                f"in {run.seconds:.1f} s, peak memory {run.peak_memory_mb:.0f} MB"
            )
