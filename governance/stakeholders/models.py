from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.core.validators import RegexValidator
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import AppendOnlyModel, Localized, TimeStampedModel

phone_validator = RegexValidator(
    r"^\+?[0-9][0-9\- ]{5,18}[0-9]$",
    _("请输入有效的电话号码，例如 13800138000 或 028-84000000。"),
)


class UserManager(DjangoUserManager):
    """Users sign in with their e-mail address; there is no username."""

    use_in_migrations = True

    def _create_user(self, email, password, **extra_fields):
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra_fields)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", False)
        extra_fields.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra_fields)

    def create_superuser(self, email, password=None, **extra_fields):
        extra_fields.setdefault("is_staff", True)
        extra_fields.setdefault("is_superuser", True)
        return self._create_user(email, password, **extra_fields)


class User(AbstractUser):
    username = None
    first_name = None
    last_name = None
    email = models.EmailField(_("电子邮箱"), unique=True)
    display_name = models.CharField(_("显示名称"), max_length=80, blank=True)
    phone = models.CharField(_("手机号码"), max_length=20, blank=True, validators=[phone_validator])
    language = models.CharField(
        _("首选语言"), max_length=10, choices=settings.LANGUAGES, default=settings.LANGUAGE_CODE
    )

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: list[str] = []

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = pgettext_lazy("plural", "用户")
        constraints = [
            models.UniqueConstraint(Lower("email"), name="stakeholders_user_email_ci_unique"),
        ]

    def __str__(self) -> str:
        return self.display_name or self.email

    def clean(self):
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()

    def get_full_name(self) -> str:
        return self.display_name or self.email

    def get_short_name(self) -> str:
        return self.display_name or self.email.split("@")[0]


class Organisation(TimeStampedModel):
    class Kind(models.TextChoices):
        DEPARTMENT = "department", _("政府部门")
        PARTNER = "partner", _("企业伙伴")
        COMMUNITY = "community", _("社区组织")

    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    slug = models.SlugField(_("标识"), max_length=64, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=120)
    name_en = models.CharField(_("英文名称"), max_length=160, blank=True)
    short_name_zh = models.CharField(_("中文简称"), max_length=40, blank=True)
    short_name_en = models.CharField(_("英文简称"), max_length=60, blank=True)
    description_zh = models.TextField(_("中文简介"), blank=True)
    description_en = models.TextField(_("英文简介"), blank=True)
    contact_email = models.EmailField(_("联系邮箱"), blank=True)
    contact_phone = models.CharField(
        _("联系电话"), max_length=20, blank=True, validators=[phone_validator]
    )
    website = models.URLField(_("网站"), blank=True)
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")
    description = Localized("description")

    class Meta:
        verbose_name = _("组织")
        verbose_name_plural = pgettext_lazy("plural", "组织")
        ordering = ("kind", "name_zh")
        indexes = [models.Index(fields=("kind", "is_active"), name="stakeholders_org_kind_idx")]

    def __str__(self) -> str:
        return self.name

    @property
    def short_name(self) -> str:
        localized = Localized("short_name").__get__(self)
        return localized or self.name


class Membership(TimeStampedModel):
    class Role(models.TextChoices):
        ADMIN = "admin", _("管理员")
        STAFF = "staff", _("工作人员")
        VIEWER = "viewer", _("只读成员")

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("用户"),
    )
    organisation = models.ForeignKey(
        Organisation,
        on_delete=models.CASCADE,
        related_name="memberships",
        verbose_name=_("组织"),
    )
    role = models.CharField(_("角色"), max_length=16, choices=Role.choices, default=Role.STAFF)

    class Meta:
        verbose_name = _("成员关系")
        verbose_name_plural = pgettext_lazy("plural", "成员关系")
        ordering = ("organisation__name_zh", "user__email")
        constraints = [
            models.UniqueConstraint(
                fields=("user", "organisation"), name="stakeholders_membership_unique"
            ),
        ]
        indexes = [
            models.Index(fields=("organisation", "role"), name="stakeholders_member_role_idx")
        ]

    def __str__(self) -> str:
        return f"{self.user} · {self.organisation} · {self.get_role_display()}"


class AuditEvent(AppendOnlyModel):
    """An append-only record of security-relevant actions: who, what, when, from where.

    Rows are never updated or deleted by the application (``save`` refuses an update,
    ``delete`` refuses outright) and, on PostgreSQL, a trigger refuses both as well.
    """

    class Action(models.TextChoices):
        LOGIN = "login", pgettext_lazy("audit event", "登录")
        LOGIN_FAILED = "login_failed", pgettext_lazy("audit event", "登录失败")
        LOGOUT = "logout", pgettext_lazy("audit event", "退出")
        MFA_ADDED = "mfa_added", pgettext_lazy("audit event", "启用双重验证")
        MFA_REMOVED = "mfa_removed", pgettext_lazy("audit event", "停用双重验证")
        MFA_RESET = "mfa_reset", pgettext_lazy("audit event", "重置恢复码")
        MFA_FAILED = "mfa_failed", pgettext_lazy("audit event", "双重验证失败")
        PASSWORD_CHANGED = "password_changed", pgettext_lazy("audit event", "修改密码")
        PASSWORD_RESET = "password_reset", pgettext_lazy("audit event", "重置密码")
        PERMISSION_DENIED = "permission_denied", pgettext_lazy("audit event", "拒绝访问")
        MEMBERSHIP_GRANTED = "membership_granted", pgettext_lazy("audit event", "授予组织席位")
        MEMBERSHIP_REVOKED = "membership_revoked", pgettext_lazy("audit event", "撤销组织席位")

    at = models.DateTimeField(_("时间"), default=timezone.now, editable=False, db_index=True)
    action = models.CharField(_("操作"), max_length=32, choices=Action.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("操作人"),
    )
    identifier = models.CharField(_("登录标识"), max_length=254, blank=True)
    ip_address = models.GenericIPAddressField(_("IP 地址"), null=True, blank=True)
    user_agent = models.CharField(_("浏览器"), max_length=300, blank=True)
    path = models.CharField(_("路径"), max_length=300, blank=True)
    detail = models.JSONField(_("详情"), default=dict, blank=True)

    update_refused_message = _("审计日志只能追加，不能修改。")
    delete_refused_message = _("审计日志只能追加，不能删除。")

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = pgettext_lazy("plural", "审计日志")
        ordering = ("-at",)
        indexes = [
            models.Index(fields=("action", "-at"), name="stakeholders_audit_action_idx"),
            models.Index(fields=("actor", "-at"), name="stakeholders_audit_actor_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.get_action_display()} {self.identifier}"
