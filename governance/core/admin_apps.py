from django.contrib.admin.apps import AdminConfig


class GongzhiAdminConfig(AdminConfig):
    """Django's admin with Gongzhi's site: allauth sign-in and TOTP required."""

    default_site = "governance.core.admin_site.GongzhiAdminSite"
