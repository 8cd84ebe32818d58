from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from governance.notifications.models import Mode


class PreferencesForm(forms.Form):
    """One choice per event type (only the modes that person may pick), plus digests on/off."""

    digests_enabled = forms.BooleanField(label=_("接收摘要邮件"), required=False)

    def __init__(self, *args, rows: list[dict], digests_enabled: bool, **kwargs):
        super().__init__(*args, **kwargs)
        self.rows = rows
        self.fields["digests_enabled"].initial = digests_enabled
        labels = dict(Mode.choices)
        for row in rows:
            field = forms.ChoiceField(
                label=row["label"],
                choices=[(mode, labels[mode]) for mode in row["allowed"]],
                initial=row["mode"],
                disabled=row["security"],
                help_text=_("安全通知总是立即发送，不能关闭。") if row["security"] else "",
            )
            self.fields[self.field_name(row["code"])] = field
            row["field_name"] = self.field_name(row["code"])

    @staticmethod
    def field_name(code: str) -> str:
        return "type__" + code.replace(".", "__")

    def changed_modes(self) -> dict[str, str]:
        return {
            row["code"]: self.cleaned_data[row["field_name"]]
            for row in self.rows
            if not row["security"] and self.cleaned_data[row["field_name"]] != row["mode"]
        }
