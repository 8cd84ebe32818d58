from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StationsConfig(AppConfig):
    """Physical service points, the departments' service catalogue, and the visits served."""

    name = "governance.stations"
    label = "stations"
    verbose_name = _("服务站点与事项")

    def ready(self):
        from governance.core.seeding import register_seeder
        from governance.stations.metrics import register_metrics
        from governance.stations.seed import MODELS, seed_stations

        register_seeder("stations", seed_stations, order=20, models=MODELS)
        register_metrics()
