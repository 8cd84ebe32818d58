from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Baseline endpoints for the load benchmark; installed only with BENCHMARK_BASELINES=true."""

    name = "bench"
    label = "bench"
    verbose_name = "Benchmark baselines"
