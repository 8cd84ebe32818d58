from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from governance.core.models import Localized, TimeStampedModel
from governance.stakeholders.models import Organisation, phone_validator


class Channel(models.TextChoices):
    COUNTER = "counter", _("窗口办理")
    KIOSK = "kiosk", _("自助终端")
    ONLINE = "online", _("网上办理")


class Station(TimeStampedModel):
    slug = models.SlugField(_("标识"), max_length=64, unique=True)
    name_zh = models.CharField(_("中文名称"), max_length=120)
    name_en = models.CharField(_("英文名称"), max_length=160, blank=True)
    description_zh = models.TextField(_("中文简介"), blank=True)
    description_en = models.TextField(_("英文简介"), blank=True)
    address_zh = models.CharField(_("中文地址"), max_length=200)
    address_en = models.CharField(_("英文地址"), max_length=250, blank=True)
    latitude = models.DecimalField(
        _("纬度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-90")), MaxValueValidator(Decimal("90"))],
    )
    longitude = models.DecimalField(
        _("经度"),
        max_digits=9,
        decimal_places=6,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("-180")), MaxValueValidator(Decimal("180"))],
    )
    phone = models.CharField(_("咨询电话"), max_length=20, blank=True, validators=[phone_validator])
    host = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="hosted_stations",
        verbose_name=_("场地提供方"),
        limit_choices_to={"kind": Organisation.Kind.PARTNER},
        null=True,
        blank=True,
    )
    departments = models.ManyToManyField(
        Organisation,
        related_name="stations",
        verbose_name=_("入驻部门"),
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
        blank=True,
    )
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")
    description = Localized("description")
    address = Localized("address")

    class Meta:
        verbose_name = _("服务站点")
        verbose_name_plural = pgettext_lazy("plural", "服务站点")
        ordering = ("name_zh",)
        indexes = [
            models.Index(fields=("is_active", "name_zh"), name="stations_station_active_idx")
        ]
        constraints = [
            models.CheckConstraint(
                condition=(Q(latitude__isnull=True) & Q(longitude__isnull=True))
                | (
                    # Not-null spelled out: with one side NULL the range test is NULL, which a
                    # CHECK constraint lets through.
                    Q(latitude__isnull=False, longitude__isnull=False)
                    & Q(latitude__gte=-90, latitude__lte=90)
                    & Q(longitude__gte=-180, longitude__lte=180)
                ),
                name="stations_station_coordinates_valid",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self):
        super().clean()
        if (self.latitude is None) != (self.longitude is None):
            raise ValidationError(_("纬度和经度须同时填写或同时留空。"))
        if self.host_id and self.host.kind != Organisation.Kind.PARTNER:
            raise ValidationError({"host": _("场地提供方必须是企业伙伴。")})

    def get_absolute_url(self) -> str:
        return reverse("stations:station", args=[self.slug])


class OpeningHours(models.Model):
    class Weekday(models.IntegerChoices):
        MONDAY = 0, _("星期一")
        TUESDAY = 1, _("星期二")
        WEDNESDAY = 2, _("星期三")
        THURSDAY = 3, _("星期四")
        FRIDAY = 4, _("星期五")
        SATURDAY = 5, _("星期六")
        SUNDAY = 6, _("星期日")

    station = models.ForeignKey(
        Station, on_delete=models.CASCADE, related_name="opening_hours", verbose_name=_("站点")
    )
    weekday = models.PositiveSmallIntegerField(_("星期"), choices=Weekday.choices)
    opens = models.TimeField(_("开始时间"))
    closes = models.TimeField(_("结束时间"))

    class Meta:
        verbose_name = _("开放时间")
        verbose_name_plural = pgettext_lazy("plural", "开放时间")
        ordering = ("station", "weekday", "opens")
        constraints = [
            models.CheckConstraint(
                condition=Q(closes__gt=F("opens")), name="stations_hours_closes_after_opens"
            ),
            models.CheckConstraint(
                condition=Q(weekday__gte=0, weekday__lte=6), name="stations_hours_weekday_range"
            ),
            models.UniqueConstraint(
                fields=("station", "weekday", "opens"), name="stations_hours_unique_start"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_weekday_display()} {self.opens:%H:%M}–{self.closes:%H:%M}"

    def clean(self):
        super().clean()
        if self.opens and self.closes and self.closes <= self.opens:
            raise ValidationError({"closes": _("结束时间必须晚于开始时间。")})


service_code_validator = RegexValidator(
    r"^[A-Z0-9][A-Z0-9\-]{1,39}$",
    _("事项编码只能包含大写字母、数字和连字符，例如 HK-ID-RENEW。"),
)


class Service(TimeStampedModel):
    department = models.ForeignKey(
        Organisation,
        on_delete=models.PROTECT,
        related_name="services",
        verbose_name=_("主管部门"),
        limit_choices_to={"kind": Organisation.Kind.DEPARTMENT},
    )
    service_code = models.CharField(
        _("事项编码"), max_length=40, unique=True, validators=[service_code_validator]
    )
    name_zh = models.CharField(_("中文名称"), max_length=120)
    name_en = models.CharField(_("英文名称"), max_length=200, blank=True)
    description_zh = models.TextField(_("中文说明"), blank=True)
    description_en = models.TextField(_("英文说明"), blank=True)
    channel = models.CharField(_("办理渠道"), max_length=16, choices=Channel.choices)
    documents_zh = models.TextField(_("所需材料（中文，每行一项）"), blank=True)
    documents_en = models.TextField(_("所需材料（英文，每行一项）"), blank=True)
    target_minutes = models.PositiveSmallIntegerField(
        _("目标办理时长（分钟）"), validators=[MinValueValidator(1), MaxValueValidator(480)]
    )
    stations = models.ManyToManyField(
        Station, related_name="services", verbose_name=_("可办理站点"), blank=True
    )
    keywords = models.CharField(
        _("搜索关键词"), max_length=300, blank=True, help_text=_("以分号或空格分隔。")
    )
    is_active = models.BooleanField(_("启用"), default=True)

    name = Localized("name")
    description = Localized("description")

    class Meta:
        verbose_name = _("服务事项")
        verbose_name_plural = pgettext_lazy("plural", "服务事项")
        ordering = ("department__name_zh", "service_code")
        indexes = [
            models.Index(fields=("department", "is_active"), name="stations_service_dept_idx"),
            models.Index(fields=("channel", "is_active"), name="stations_service_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(target_minutes__gte=1, target_minutes__lte=480),
                name="stations_service_target_minutes_range",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.service_code} {self.name}"

    def clean(self):
        super().clean()
        if self.department_id and self.department.kind != Organisation.Kind.DEPARTMENT:
            raise ValidationError({"department": _("主管部门必须是政府部门。")})

    def get_absolute_url(self) -> str:
        return reverse("stations:service", args=[self.service_code])

    @property
    def documents(self) -> list[str]:
        from django.utils import translation

        text = self.documents_zh
        if (translation.get_language() or "").startswith("en") and self.documents_en:
            text = self.documents_en
        return [line.strip() for line in text.splitlines() if line.strip()]

    @property
    def keyword_list(self) -> list[str]:
        return [word for word in self.keywords.replace(";", " ").split() if word]


class Visit(models.Model):
    """One service transaction at a station: from taking a ticket to leaving the counter."""

    class Outcome(models.TextChoices):
        WAITING = "waiting", _("等候中")
        SERVING = "serving", _("办理中")
        COMPLETED = "completed", _("办结")
        MISSING_DOCUMENTS = "missing_documents", _("材料不全")
        REFERRED = "referred", _("转办")
        ABANDONED = "abandoned", _("未办理离开")

    station = models.ForeignKey(
        Station, on_delete=models.PROTECT, related_name="visits", verbose_name=_("站点")
    )
    service = models.ForeignKey(
        Service, on_delete=models.PROTECT, related_name="visits", verbose_name=_("服务事项")
    )
    ticket = models.CharField(_("排队号"), max_length=16)
    channel = models.CharField(_("办理渠道"), max_length=16, choices=Channel.choices)
    counter = models.CharField(_("窗口"), max_length=16, blank=True)
    arrived_at = models.DateTimeField(_("取号时间"))
    called_at = models.DateTimeField(_("叫号时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    outcome = models.CharField(
        _("办理结果"), max_length=20, choices=Outcome.choices, default=Outcome.WAITING
    )
    handled_by = models.ForeignKey(
        "stakeholders.User",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("经办人"),
    )

    class Meta:
        verbose_name = _("办件记录")
        verbose_name_plural = pgettext_lazy("plural", "办件记录")
        ordering = ("-arrived_at",)
        indexes = [
            models.Index(fields=("station", "-arrived_at"), name="stations_visit_station_idx"),
            models.Index(fields=("service", "-arrived_at"), name="stations_visit_service_idx"),
            models.Index(fields=("-arrived_at",), name="stations_visit_arrived_idx"),
            models.Index(fields=("outcome", "-arrived_at"), name="stations_visit_outcome_idx"),
            models.Index(fields=("channel", "-arrived_at"), name="stations_visit_channel_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(called_at__isnull=True) | Q(called_at__gte=F("arrived_at")),
                name="stations_visit_called_after_arrival",
            ),
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | (Q(called_at__isnull=False) & Q(finished_at__gte=F("called_at"))),
                name="stations_visit_finished_after_called",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ticket} · {self.service.service_code}"

    def clean(self):
        super().clean()
        errors = {}
        if self.called_at and self.arrived_at and self.called_at < self.arrived_at:
            errors["called_at"] = _("叫号时间不能早于取号时间。")
        if self.finished_at and not self.called_at:
            errors["finished_at"] = _("未叫号的办件不能有办结时间。")
        elif self.finished_at and self.called_at and self.finished_at < self.called_at:
            errors["finished_at"] = _("办结时间不能早于叫号时间。")
        if errors:
            raise ValidationError(errors)

    @property
    def wait_minutes(self) -> float | None:
        if not self.called_at:
            return None
        return (self.called_at - self.arrived_at).total_seconds() / 60

    @property
    def handling_minutes(self) -> float | None:
        if not (self.called_at and self.finished_at):
            return None
        return (self.finished_at - self.called_at).total_seconds() / 60
