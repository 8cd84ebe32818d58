from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CasesConfig(AppConfig):
    """Tracked issues that departments, partners and the public share: cases, their timeline,
    routing to the responsible organisation, SLA clocks in Chinese working days, attachments.

    The app declares itself here: its notification event types (reminders, escalations and
    the news a case's followers get) and the KPI metrics it offers.
    """

    name = "governance.cases"
    label = "cases"
    verbose_name = _("事项办理")

    def ready(self):
        from governance.cases.metrics import register_metrics
        from governance.cases.notifications import register_event_types
        from governance.cases.open311.seed import MODELS as OPEN311_MODELS
        from governance.cases.open311.seed import seed_open311
        from governance.cases.seed import MODELS as CASES_MODELS
        from governance.cases.seed import seed_cases
        from governance.core import routes
        from governance.core.seeding import register_seeder

        register_event_types()
        register_metrics()
        for page in ("service", "station"):
            routes.register_page_action(page, "cases:report", _("报告问题"), param=page, order=20)
        register_seeder("cases", seed_cases, order=25, models=CASES_MODELS)
        register_seeder("open311", seed_open311, order=40, models=OPEN311_MODELS)
