from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotificationsConfig(AppConfig):
    """The one way any part of Gongzhi tells people something: events → notifications → channels.

    Apps declare event types in their ``AppConfig.ready`` (``registry.register``) and publish
    events from their services (``publish``); they never send mail themselves.
    """

    name = "governance.notifications"
    label = "notifications"
    verbose_name = _("通知")
