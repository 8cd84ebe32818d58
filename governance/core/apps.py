from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CoreConfig(AppConfig):
    """What every other app builds on: base models, the API plumbing, health and heartbeat."""

    name = "governance.core"
    label = "core"
    verbose_name = _("平台核心")
