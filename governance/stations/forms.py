from django import forms
from django.utils.translation import gettext_lazy as _


class ServiceSearchForm(forms.Form):
    q = forms.CharField(
        label=_("搜索服务事项"),
        max_length=100,
        required=False,
        widget=forms.TextInput(
            attrs={"type": "search", "placeholder": _("例如：身份证、驾驶证、港澳通行证")}
        ),
    )

    def clean_q(self):
        return " ".join(self.cleaned_data["q"].split())
