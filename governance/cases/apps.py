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

        register_event_types()
        register_metrics()
