"""The portal's spreadsheet pages: a partner imports and exports its resources and its
volunteer shifts (CSV or XLSX) through ``partners.transfer``.

- ``/partners/portal/import/<kind>/`` (``partners:import``; kind ``resources`` or ``shifts``):
  upload a file and either check it (a dry run that writes nothing) or import it. An import is
  all or nothing: with one bad row nothing is written, and the page lists every problem by
  line and column.
- ``/partners/portal/export/<kind>/?format=csv|xlsx`` (``partners:export``): the partner's
  rows in the same columns, ready to edit and import again.

Both act for one partner: ``?partner=<slug>`` when the user sits in several (by default the
first they act for). Only the partner's acting members (admins and staff) use them: a partner
the user has no seat in is a 404, no acting seat at all a 403, and anonymous visitors are sent
to sign in.
"""

from __future__ import annotations

from dataclasses import dataclass

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_safe

from governance.stakeholders.models import Organisation
from partners import queries, transfer


@dataclass(frozen=True)
class Kind:
    transfer: type[transfer.PartnerRows]
    # The permission to import and export, asked of the partner.
    permission: str
    title: str
    ordering: tuple[str, ...]


KINDS = {
    "resources": Kind(
        transfer.ResourceTransfer,
        "partners.manage_resource",
        gettext_lazy("资源"),
        ("name_zh", "pk"),
    ),
    "shifts": Kind(
        transfer.ShiftTransfer,
        "partners.manage_shift",
        gettext_lazy("志愿者排班"),
        ("starts_at", "pk"),
    ),
}
FORMATS = {"csv": transfer.CSV, "xlsx": transfer.XLSX}
CONTENT_TYPES = {"csv": "text/csv; charset=utf-8", "xlsx": transfer.XLSX.CONTENT_TYPE}


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("文件"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = _("CSV 或 XLSX，最大 %(mb)s MB，最多 %(rows)s 行。") % {
            "mb": transfer.MAX_BYTES // (1024 * 1024),
            "rows": transfer.MAX_ROWS,
        }


def _kind(name: str) -> Kind:
    kind = KINDS.get(name)
    if kind is None:
        raise Http404
    return kind


def _partner(request, kind: Kind) -> Organisation:
    """The partner the page acts for: ``?partner=<slug>`` among the user's partners (404 for
    any other), else the first they act for. 403 without an acting seat in it."""
    seats = queries.partners_of(request.user)
    slug = request.GET.get("partner")
    if slug:
        partner = seats.filter(slug=slug).first()
        if partner is None:
            raise Http404
    else:
        partner = queries.partners_of(request.user, acting=True).first() or seats.first()
        if partner is None:
            raise PermissionDenied(_("只有企业伙伴的工作人员才能导入或导出数据。"))
    if not request.user.has_perm(kind.permission, partner):
        raise PermissionDenied(_("只有该企业伙伴的管理员和工作人员才能导入或导出数据。"))
    return partner


def _others(request, partner: Organisation) -> list[Organisation]:
    return [
        other for other in queries.partners_of(request.user, acting=True) if other.pk != partner.pk
    ]


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def import_rows(request, kind: str):
    spec = _kind(kind)
    partner = _partner(request, spec)
    form = UploadForm(request.POST or None, request.FILES or None)
    context = {
        "kind": kind,
        "spec": spec,
        "partner": partner,
        "others": _others(request, partner),
        "form": form,
        "columns": spec.transfer.column_help(),
        "partner_query": urlencode({"partner": partner.slug}),
    }
    if request.method != "POST":
        return render(request, "partners/imports/import.html", context)
    if not form.is_valid():
        return render(request, "partners/imports/import.html", context, status=400)
    checking = request.POST.get("mode") == "check"
    try:
        dataset = transfer.read_upload(form.cleaned_data["file"])
    except transfer.FileRefused as refused:
        form.add_error("file", str(refused))
        status = 413 if refused.code == "too_large" else 400
        return render(request, "partners/imports/import.html", context, status=status)
    rows = spec.transfer(partner=partner, actor=request.user)
    result = rows.import_data(
        dataset,
        dry_run=checking,
        raise_errors=False,
        use_transactions=True,
        rollback_on_validation_errors=True,
    )
    counts = transfer.summary(result)
    if transfer.failed(result):
        context["problems"] = transfer.problems(result, spec.transfer)
        return render(request, "partners/imports/import.html", context, status=400)
    if checking:
        context["checked"] = counts
        return render(request, "partners/imports/import.html", context)
    messages.success(
        request,
        _("导入完成：新增 %(new)s 条，更新 %(update)s 条，%(skip)s 条没有变化。") % counts,
    )
    return redirect(f"{reverse('partners:import', args=[kind])}?{context['partner_query']}")


@login_required
@require_safe
def export_rows(request, kind: str):
    spec = _kind(kind)
    partner = _partner(request, spec)
    name = request.GET.get("format", "csv")
    if name not in FORMATS:
        return HttpResponse(
            _("导出格式只能是 csv 或 xlsx。"), status=400, content_type="text/plain; charset=utf-8"
        )
    file_format = FORMATS[name]()
    rows = spec.transfer(partner=partner, actor=request.user)
    dataset = rows.export(
        rows.get_queryset().order_by(*spec.ordering),
        force_native_type=name == "xlsx",
    )
    response = HttpResponse(file_format.export_data(dataset), content_type=CONTENT_TYPES[name])
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    filename = f"{partner.slug}-{kind}-{stamp}.{name}"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


urlpatterns = [
    path("portal/import/<slug:kind>/", import_rows, name="import"),
    path("portal/export/<slug:kind>/", export_rows, name="export"),
]
