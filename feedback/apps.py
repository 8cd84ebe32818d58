from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FeedbackConfig(AppConfig):
    """The public's wing: visit ratings (好差评), feedback and the bad-rating loop.

    It may import ``governance``; ``governance`` never imports it, and neither does
    ``partners``.
    """

    name = "feedback"
    label = "feedback"
    verbose_name = _("公众评价与反馈")
