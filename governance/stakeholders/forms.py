from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from governance.stakeholders import services
from governance.stakeholders.models import User


class SignupForm(forms.Form):
    """allauth's sign-up form plus a display name (optional, shown instead of the e-mail)."""

    display_name = forms.CharField(
        label=_("显示名称"),
        max_length=80,
        required=False,
        help_text=_("选填，他人看到的名字；留空则不公开显示。"),
    )

    def signup(self, request, user):
        services.user_update_profile(
            actor=user,
            user=user,
            display_name=self.cleaned_data.get("display_name", ""),
            phone=user.phone,
            language=user.language,
        )


class ProfileForm(forms.ModelForm):
    class Meta:
        model = User
        fields = ("display_name", "phone", "language")


class LanguageForm(forms.Form):
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    next = forms.CharField(required=False, max_length=2000)
