from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    """The enterprises' wing: contributed resources, bookings, pledges, agreements, training.

    It may import ``governance``; ``governance`` never imports it, and neither does
    ``feedback``. It tells the core about itself here: its URLs and API, its notification
    event types, its KPI metrics, its demo data, its daily reminder sweep, and the pledges it
    shows on the core's proposal and case pages.
    """

    name = "partners"
    label = "partners"
    verbose_name = _("企业伙伴资源")

    def ready(self):
        from celery.schedules import crontab

        from governance.celery import app
        from governance.core import routes
        from partners import rules  # noqa: F401  (registers the permissions)
        from partners.notifications import register_event_types

        register_event_types()
        routes.register_urls("partners.urls", prefix="partners/")
        # pages (nav)
        routes.register_nav("partners:resources", _("共享资源"), order=50)
        routes.register_nav("partners:portal", _("伙伴工作台"), audience="partners", order=51)
        # api (viewsets)
        for prefix, viewset, basename in (
            ("resources", "ResourceViewSet", "partner-resource"),
            ("bookings", "BookingViewSet", "partner-booking"),
            ("pledges", "PledgeViewSet", "partner-pledge"),
            ("agreements", "AgreementViewSet", "partner-agreement"),
            ("shifts", "ShiftViewSet", "partner-shift"),
            ("trainings", "TrainingViewSet", "partner-training"),
        ):
            routes.register_viewset(
                f"partners/{prefix}", f"partners.api.{viewset}", basename=basename
            )
        # metrics
        from partners.metrics import register_metrics

        register_metrics()
        # seed
        from governance.core.seeding import register_seeder
        from partners.seed import MODELS as SEED_MODELS
        from partners.seed import seed_partners

        register_seeder("partners", seed_partners, order=48, models=SEED_MODELS)
        # panels (pledges on proposal and case pages)
        from partners.panels import register_panels

        register_panels()
        app.conf.beat_schedule["partners-agreements-remind"] = {
            "task": "partners.agreements_remind",
            "schedule": crontab(hour=8, minute=30),
            "options": {"expires": 3600},
        }
