from django.db import models


class BaselineRow(models.Model):
    """What the insert baseline writes: one small row, like a rating or a support."""

    created_at = models.DateTimeField(auto_now_add=True)
    label = models.CharField(max_length=40)
    value = models.IntegerField()

    class Meta:
        verbose_name = "baseline row"

    def __str__(self) -> str:
        return self.label
