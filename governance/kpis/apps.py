from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class KpisConfig(AppConfig):
    """Shared KPIs: the metrics registry, daily rollups, indicators, targets, reported figures.

    The core computes nothing by itself: apps register their metrics in their own
    ``AppConfig.ready`` (``governance.kpis.registry.register``), so the core never imports a wing.
    """

    name = "governance.kpis"
    label = "kpis"
    verbose_name = _("共享绩效指标")

    def ready(self):
        from governance.core.seeding import register_seeder
        from governance.kpis.alerts import register_event_types as register_kpi_event_types
        from governance.kpis.notifications import register_event_types
        from governance.kpis.seed import MODELS, seed_kpis

        register_seeder("kpis", seed_kpis, order=30, models=MODELS)
        register_kpi_event_types()
        register_event_types()
