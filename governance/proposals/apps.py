from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ProposalsConfig(AppConfig):
    """Co-governance proposals: propose, support, discuss, answer officially, implement.

    The app declares itself here: its notification event types, its KPI metrics, its
    listener on the cases it spawns, its demo data and its link in the site's navigation.
    """

    name = "governance.proposals"
    label = "proposals"
    verbose_name = _("共治建议")

    def ready(self):
        from governance.cases.signals import case_status_changed
        from governance.core import routes
        from governance.core.seeding import register_seeder
        from governance.proposals import receivers
        from governance.proposals.metrics import register_metrics
        from governance.proposals.notifications import register_event_types
        from governance.proposals.seed import MODELS, seed_proposals

        register_event_types()
        register_metrics()
        case_status_changed.connect(receivers.case_moved, dispatch_uid="proposals.case_moved")
        routes.register_nav("proposals:list", _("共治建议"), order=30)
        for page in ("service", "station"):
            routes.register_page_action(page, "proposals:new", _("提出建议"), param=page, order=30)
        register_seeder("proposals", seed_proposals, order=45, models=MODELS)
