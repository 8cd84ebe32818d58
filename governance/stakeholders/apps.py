from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class StakeholdersConfig(AppConfig):
    """People and the organisations they act for: departments, partners, communities."""

    name = "governance.stakeholders"
    label = "stakeholders"
    verbose_name = _("参与方")

    def ready(self):
        from governance.core.seeding import register_seeder
        from governance.stakeholders import receivers  # noqa: F401  (audit of sign-ins and MFA)
        from governance.stakeholders.notifications import register_event_types
        from governance.stakeholders.seed import MODELS, seed_stakeholders

        register_seeder("stakeholders", seed_stakeholders, order=10, models=MODELS)
        register_event_types()
