from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    """The enterprises' wing: contributed resources, bookings, pledges, agreements, training.

    It may import ``governance``; ``governance`` never imports it, and neither does
    ``feedback``.
    """

    name = "partners"
    label = "partners"
    verbose_name = _("企业伙伴资源")
