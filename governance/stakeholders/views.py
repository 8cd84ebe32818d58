from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST
from django.views.i18n import set_language

from governance.stakeholders import services
from governance.stakeholders.forms import LanguageForm, ProfileForm


@require_POST
def language_switch(request):
    """Django's ``set_language``, plus the choice saved on the account of a signed-in user."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest(_("不支持的语言。"))
    if request.user.is_authenticated:
        services.user_set_language(actor=request.user, language=form.cleaned_data["language"])
    return set_language(request)


@login_required
def profile(request):
    form = ProfileForm(request.POST or None, instance=request.user)
    if request.method == "POST" and form.is_valid():
        services.user_update_profile(
            actor=request.user,
            user=request.user,
            display_name=form.cleaned_data["display_name"],
            phone=form.cleaned_data["phone"],
            language=form.cleaned_data["language"],
        )
        messages.success(request, _("个人资料已保存。"))
        return redirect("stakeholders:profile")
    return render(request, "stakeholders/profile.html", {"form": form})
