from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class AppendOnlyModel(models.Model):
    """A log whose rows are written once and then only read: history that can be trusted.

    ``save`` refuses to update a stored row and ``delete`` refuses outright, so no code path of
    the application rewrites the past; on PostgreSQL each concrete table also has a trigger
    that refuses both. Subclasses name the refusals for their own readers.
    """

    update_refused_message = _("这条记录只能追加，不能修改。")
    delete_refused_message = _("这条记录只能追加，不能删除。")

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise ValidationError(self.update_refused_message)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError(self.delete_refused_message)


class Localized:
    """Reads a bilingual pair of fields (``name_zh`` / ``name_en``) in the active language.

    Chinese is the reference text: an English page falls back to it where no translation was
    entered, so no page ever shows an empty name.
    """

    def __init__(self, base: str):
        self.base = base

    def __set_name__(self, owner, name):
        self.name = name

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        language = (translation.get_language() or "zh-hans").lower()
        if language.startswith("en"):
            english = getattr(instance, f"{self.base}_en", "")
            if english:
                return english
        return getattr(instance, f"{self.base}_zh")


class WorkerHeartbeat(models.Model):
    """The last time each Celery worker ran the periodic heartbeat; ``/healthz`` reads it."""

    hostname = models.CharField(_("主机"), max_length=255, unique=True)
    beat_at = models.DateTimeField(_("心跳时间"))
    beats = models.PositiveBigIntegerField(_("心跳次数"), default=0)

    class Meta:
        verbose_name = _("工作进程心跳")
        verbose_name_plural = pgettext_lazy("plural", "工作进程心跳")

    def __str__(self) -> str:
        return f"{self.hostname} @ {self.beat_at:%Y-%m-%d %H:%M:%S}"
