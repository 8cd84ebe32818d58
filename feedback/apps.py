from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """The public's wing: visit ratings (好差评), feedback and the bad-rating loop.

    It may import ``governance``; ``governance`` never imports it, and neither does
    ``partners``. It tells the core about itself here: its URLs and API, its notification
    event types, its KPI metrics, its needs-radar sources, its demo data, its periodic sweep,
    and the case signal that closes the loop.
    """

    name = "feedback"
    label = "feedback"
    verbose_name = _("公众评价与反馈")

    def ready(self):
        from feedback import rules  # noqa: F401  (registers the permissions)
        from feedback.metrics import register_metrics
        from feedback.notifications import register_event_types
        from feedback.radar import register_radar_sources
        from feedback.receivers import connect
        from feedback.seed import MODELS as SEED_MODELS
        from feedback.seed import seed_feedback
        from governance.celery import app
        from governance.core import routes
        from governance.core.seeding import register_seeder

        routes.register_urls("feedback.urls")
        routes.register_nav("feedback:new", _("评价与建议"), order=40)
        routes.register_nav("feedback:mine", _("我的评价"), audience="signed_in", order=41)
        routes.register_nav("feedback:inbox", _("评价收件箱"), audience="members", order=42)
        routes.register_page_action(
            "service",
            "feedback:new",
            _("评价这项服务"),
            param="service",
            order=10,
            extra={"kind": "online_rating"},
        )
        routes.register_page_action(
            "station",
            "feedback:new",
            _("评价这个站点"),
            param="station",
            order=10,
            extra={"kind": "online_rating"},
        )
        routes.register_viewset("feedback", "feedback.api.FeedbackViewSet", basename="feedback")
        # The QR rating, the site's busiest write: its common case skips the router.
        routes.register_api_front("feedback/visit-ratings/", "feedback.api.visit_rate_front")
        register_event_types()
        register_metrics()
        register_radar_sources()
        register_seeder("feedback", seed_feedback, order=35, models=SEED_MODELS)
        connect()
        app.conf.beat_schedule["feedback-sweep"] = {
            "task": "feedback.sweep",
            "schedule": 120.0,
            "options": {"expires": 110},
        }
