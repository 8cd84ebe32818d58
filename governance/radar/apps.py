from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RadarConfig(AppConfig):
    """The needs radar: where queues form, why people are unhappy, what they ask for, and what
    they ask for that is not offered.

    It reads what the apps register (``governance.radar.registry``): text sources (the models
    and fields whose free text feeds the themes) and reason sources (bad ratings, complaints).
    The core registers its own (cases, proposals); a wing registers its own in its
    ``AppConfig.ready``, so the core never imports a wing.
    """

    name = "governance.radar"
    label = "radar"
    verbose_name = _("需求雷达")

    def ready(self):
        from governance.core import routes
        from governance.core.seeding import register_seeder
        from governance.radar import (
            receivers,  # noqa: F401  (counts searches that found nothing)
            rules,  # noqa: F401  (registers the permissions)
        )
        from governance.radar.notifications import register_event_types
        from governance.radar.seed import MODELS, seed_radar
        from governance.radar.sources import register_core_sources

        register_core_sources()
        register_event_types()
        # After every app that writes visits, texts and ratings (feedback 35, partners 48).
        register_seeder("radar", seed_radar, order=90, models=MODELS)
        routes.register_urls("governance.radar.urls")
        routes.register_nav("radar:overview", _("需求雷达"), audience="co_governors", order=60)
