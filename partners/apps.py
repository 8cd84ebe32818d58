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
        # api (viewsets)
        # metrics
        # seed
        # panels (pledges on proposal and case pages)
        app.conf.beat_schedule["partners-agreements-remind"] = {
            "task": "partners.agreements_remind",
            "schedule": crontab(hour=8, minute=30),
            "options": {"expires": 3600},
        }
