"""The partners admin: what partners contribute, seen from the organisations that use it.

Each list is scoped. A partner's members see their partner's resources, shifts, agreements,
pledges and invitations, and the bookings their partner received or made. Department staff see
the resources shared with them, the bookings their organisation made, the agreements it is a
party to, the pledges to its proposals and cases, and the volunteer shifts at its stations.
Superusers see everything. The permissions are the rules' (``partners.view_<model>``…), so what
a role may open here is what it may do elsewhere.

Writes go through ``partners.services``. The admin forms of resources, agreements, shifts and
training sessions run the service once in ``clean()`` inside a savepoint that is rolled back,
so a refusal lands on the form as an error, never as a 500. ``save_model`` then runs the
service for real. Bookings, pledges and invitations are never edited as rows: bookings are
approved or declined with actions (a decline asks for its reason first), invitations are
revoked with an action, and pledges are answered on their pages. Opening hours, closures,
photos, agreement documents and attendance are kept on the portal pages; here they are shown
read-only.

Resources and volunteer shifts import and export as CSV or XLSX through ``partners.transfer``,
with the portal's rules. The import is for one partner, chosen on the form among those the user
acts for (any partner for superusers). It is checked with a dry run first, and the confirmed
import is all or nothing: it is rolled back if any row fails, even a row that passed the check
but fails now.
"""

from __future__ import annotations

import rules
from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from import_export.admin import ImportExportMixin
from import_export.forms import ConfirmImportForm, ImportForm
from import_export.tmp_storages import CacheStorage
from rules.contrib.admin import ObjectPermissionsModelAdmin

from governance.core.admin import CappedCountPaginator, ReadOnlyAdminMixin
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_superuser,
    memberships_of,
    organisation_ids,
)
from governance.stations.models import Station
from partners import queries, services, transfer
from partners.models import (
    Agreement,
    AgreementDocument,
    Attendance,
    AvailabilityException,
    Booking,
    Invitation,
    OpeningRule,
    Pledge,
    Resource,
    ResourcePhoto,
    TrainingSession,
    VolunteerShift,
)


def _everything(user) -> bool:
    return is_superuser(user)


def _seats(user) -> set[int]:
    return set(memberships_of(user))


def _active_partners() -> QuerySet[Organisation]:
    return Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True).order_by(
        "name_zh"
    )


def _acting_partners(user) -> QuerySet[Organisation]:
    """The partners the user may import into or add rows for."""
    return _active_partners() if _everything(user) else queries.partners_of(user, acting=True)


# Scoped reads (the queries of ``partners.queries``, narrowed to the user's own organisations
# where the public pages show more) -----------------------------------------------------------
def resources_for_admin(user) -> QuerySet[Resource]:
    """A partner's members see their partner's catalogue; people of other organisations see
    the resources shared with them."""
    qs = queries.resources_visible_to(user)
    if _everything(user):
        return qs
    seats = memberships_of(user)
    if seats and all(seat.kind == Organisation.Kind.PARTNER for seat in seats.values()):
        return qs.filter(partner_id__in=seats)
    return qs if seats else qs.none()


def pledges_for_admin(user) -> QuerySet[Pledge]:
    """The user's partners' pledges and the pledges to their organisations' proposals and
    cases (not every public pledge, as the public pages show)."""
    qs = queries.pledges_visible_to(user)
    if _everything(user):
        return qs
    seats = _seats(user)
    return qs.filter(
        Q(partner_id__in=seats)
        | Q(proposal__responsible_id__in=seats)
        | Q(case__responsible_id__in=seats)
    )


def trainings_for_admin(user) -> QuerySet[TrainingSession]:
    """Sessions the user's organisations organised or sent people to."""
    qs = queries.trainings_visible_to(user)
    if _everything(user):
        return qs
    seats = _seats(user)
    attended = Attendance.objects.filter(session_id=OuterRef("pk"), organisation_id__in=seats)
    return qs.filter(Q(organiser_id__in=seats) | Exists(attended))


def invitations_for_admin(user) -> QuerySet[Invitation]:
    qs = Invitation.objects.select_related("organisation", "invited_by", "accepted_by")
    if _everything(user):
        return qs
    admin_of = organisation_ids(user, kind=Organisation.Kind.PARTNER, roles={Membership.Role.ADMIN})
    return qs.filter(organisation_id__in=admin_of)


# Forms written by a service ----------------------------------------------------------------
class ServiceForm(forms.ModelForm):
    """A change form whose row a service writes. ``write()`` calls the service with the
    cleaned data; ``clean()`` calls it once inside a savepoint that is rolled back, so the
    service's ``ValidationError`` (or ``PermissionDenied``) becomes a form error."""

    actor = None  # set by the admin's get_form

    def write(self):
        raise NotImplementedError

    def clean(self):
        cleaned = super().clean()
        if self.errors:
            return cleaned
        try:
            with transaction.atomic():
                self.write()
                transaction.set_rollback(True)
        except ValidationError as error:
            self._add_service_error(error)
        except PermissionDenied as error:
            self.add_error(None, str(error) or _("您无权这样修改。"))
        return cleaned

    def _add_service_error(self, error: ValidationError) -> None:
        if not hasattr(error, "error_dict"):
            self.add_error(None, error.messages)
            return
        for name, errors in error.error_dict.items():
            field = name if name in self.fields else None
            for item in errors:
                self.add_error(field, item.messages)

    def _data(self, names) -> dict:
        return {name: self.cleaned_data[name] for name in names if name in self.cleaned_data}


class ResourceForm(ServiceForm):
    class Meta:
        model = Resource
        fields = ("partner", *services.RESOURCE_FIELDS)

    def write(self):
        data = self._data(services.RESOURCE_FIELDS)
        if self.instance.pk:
            return services.resource_update(actor=self.actor, resource=self.instance, data=data)
        return services.resource_create(
            actor=self.actor, partner=self.cleaned_data["partner"], data=data
        )


class AgreementForm(ServiceForm):
    class Meta:
        model = Agreement
        fields = ("partner", "departments", *services.AGREEMENT_FIELDS, "status")

    def write(self):
        data = self._data(services.AGREEMENT_FIELDS)
        departments = list(self.cleaned_data.get("departments") or ())
        status = self.cleaned_data.get("status")
        if self.instance.pk:
            return services.agreement_update(
                actor=self.actor,
                agreement=self.instance,
                data=data,
                departments=departments,
                status=status,
            )
        return services.agreement_create(
            actor=self.actor,
            partner=self.cleaned_data["partner"],
            departments=departments,
            data=data,
            status=status,
        )


class ShiftForm(ServiceForm):
    class Meta:
        model = VolunteerShift
        fields = ("partner", *services.SHIFT_FIELDS)

    def write(self):
        data = self._data(services.SHIFT_FIELDS)
        if self.instance.pk:
            return services.shift_update(actor=self.actor, shift=self.instance, data=data)
        return services.shift_create(
            actor=self.actor, partner=self.cleaned_data["partner"], data=data
        )


class TrainingForm(ServiceForm):
    class Meta:
        model = TrainingSession
        fields = ("organiser", *services.TRAINING_FIELDS)

    def write(self):
        data = self._data(services.TRAINING_FIELDS)
        if self.instance.pk:
            return services.training_update(actor=self.actor, session=self.instance, data=data)
        return services.training_create(
            actor=self.actor, organiser=self.cleaned_data["organiser"], data=data
        )


class ServiceAdmin(ObjectPermissionsModelAdmin):
    """Lists capped as elsewhere; the form's row written by its service (``ServiceForm``)."""

    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    #: The owner field, chosen when a row is added and fixed after.
    owner_field = "partner"

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        return type(form.__name__, (form,), {"actor": request.user})

    def get_readonly_fields(self, request, obj=None):
        fixed = (self.owner_field,) if obj is not None else ()
        return (*fixed, *super().get_readonly_fields(request, obj))

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "partner":
            kwargs["queryset"] = _acting_partners(request.user)
        elif db_field.name == "station":
            kwargs["queryset"] = Station.objects.filter(is_active=True).order_by("name_zh")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        saved = form.write()
        obj.pk = saved.pk
        obj.refresh_from_db()

    def save_related(self, request, form, formsets, change):
        # The service set the many-to-many fields; the inlines here are read-only.
        for formset in formsets:
            self.save_formset(request, form, formset, change=change)


class _ShownInline(admin.TabularInline):
    """Rows kept on the portal pages, shown here read-only to whoever reads the parent."""

    extra = 0
    can_delete = False
    show_change_link = False
    #: The permission on the parent that shows the rows.
    parent_permission = ""

    def has_view_permission(self, request, obj=None):
        return request.user.has_perm(self.parent_permission, obj)

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# Import and export -------------------------------------------------------------------------
class PartnerImportForm(ImportForm):
    partner = forms.ModelChoiceField(
        label=gettext_lazy("导入到企业伙伴"), queryset=Organisation.objects.none(), empty_label=None
    )
    field_order = ["partner", "resource", "import_file", "format"]

    def __init__(self, formats, resources, *, partners, **kwargs):
        super().__init__(formats, resources, **kwargs)
        self.formats = formats
        self.fields["partner"].queryset = partners
        self.fields["import_file"].help_text = _(
            "CSV 或 XLSX，最大 %(mb)s MB，最多 %(rows)s 行；导入要么全部成功，要么一条也不写入。"
        ) % {"mb": transfer.MAX_BYTES // (1024 * 1024), "rows": transfer.MAX_ROWS}

    def clean_import_file(self):
        upload = self.cleaned_data["import_file"]
        try:
            transfer.check_upload(upload)
        except transfer.FileRefused as refused:
            raise ValidationError(str(refused), code=refused.code) from refused
        return upload

    def clean(self):
        cleaned = super().clean()
        upload, chosen = cleaned.get("import_file"), cleaned.get("format")
        if upload is not None and chosen not in (None, ""):
            extension = self.formats[int(chosen)]().get_extension()
            if not upload.name.lower().endswith(f".{extension}"):
                self.add_error("format", _("所选格式与文件的扩展名不一致。"))
        return cleaned


class PartnerConfirmForm(ConfirmImportForm):
    partner = forms.ModelChoiceField(
        queryset=Organisation.objects.none(), widget=forms.HiddenInput()
    )

    def __init__(self, *args, partners, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partner"].queryset = partners


class TransferAdmin(ImportExportMixin, ServiceAdmin):
    """Import and export with ``transfer_class`` for the partner chosen on the form, all or
    nothing, CSV or XLSX."""

    transfer_class: type[transfer.PartnerRows]
    #: Asked of the user (for any partner) to offer the import at all.
    import_permission = ""
    import_form_class = PartnerImportForm
    confirm_form_class = PartnerConfirmForm
    import_template_name = "admin/partners/import.html"
    # Shared by every web process (Redis, or the file cache on one machine), so the confirming
    # request may land on another process than the checking one; expires by itself.
    tmp_storage_class = CacheStorage
    import_formats = [transfer.CSV, transfer.XLSX]
    export_formats = [transfer.CSV, transfer.XLSX]
    import_error_display = ("message",)

    def get_resource_classes(self, request):
        return [self.transfer_class]

    def has_import_permission(self, request):
        return request.user.has_perm(self.import_permission)

    def has_export_permission(self, request):
        return self.has_view_permission(request)

    def get_import_form_kwargs(self, request):
        return {**super().get_import_form_kwargs(request), "partners": self._partners(request)}

    def get_confirm_form_kwargs(self, request, import_form=None):
        kwargs = super().get_confirm_form_kwargs(request, import_form)
        return {**kwargs, "partners": self._partners(request)}

    def get_confirm_form_initial(self, request, import_form):
        initial = super().get_confirm_form_initial(request, import_form)
        if import_form is not None:
            initial["partner"] = import_form.cleaned_data["partner"].pk
        return initial

    def get_import_resource_kwargs(self, request, **kwargs):
        form = kwargs.get("form")
        cleaned = getattr(form, "cleaned_data", None) or {}
        return {"partner": cleaned.get("partner"), "actor": request.user, "diffs": True}

    def get_export_resource_kwargs(self, request, **kwargs):
        return {"actor": request.user}

    def get_import_data_kwargs(self, **kwargs):
        kwargs = super().get_import_data_kwargs(**kwargs)
        kwargs.update(use_transactions=True, rollback_on_validation_errors=True)
        return kwargs

    def get_export_data(self, file_format, request, queryset, **kwargs):
        if not self.has_export_permission(request):
            raise PermissionDenied
        kwargs.pop("encoding", None)
        data = self.get_data_for_export(
            request,
            queryset,
            force_native_type=isinstance(file_format, transfer.XLSX),
            **kwargs,
        )
        return file_format.export_data(data)

    def get_export_filename(self, request, queryset, file_format):
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        return f"{self.opts.model_name}-{stamp}.{file_format.get_extension()}"

    def _partners(self, request):
        return _acting_partners(request.user)

    def _import_url(self) -> str:
        return reverse(f"admin:{self.opts.app_label}_{self.opts.model_name}_import")

    def add_data_read_fail_error_to_form(self, form, e):
        if isinstance(e, transfer.FileRefused):
            form.add_error("import_file", str(e))
        else:
            form.add_error("import_file", _("无法读取这个文件；请确认格式选择正确。"))

    def import_action(self, request, **kwargs):
        response = super().import_action(request, **kwargs)
        if isinstance(response, TemplateResponse) and response.context_data.get("result"):
            response.context_data["problems"] = transfer.problems(
                response.context_data["result"], self.transfer_class
            )
        return response

    def process_import(self, request, **kwargs):
        try:
            return super().process_import(request, **kwargs)
        except transfer.FileRefused as refused:
            messages.error(request, str(refused))
            return HttpResponseRedirect(self._import_url())

    def process_result(self, result, request):
        """Nothing was written if any row failed now (the data may have changed since the
        check): say what, and go back to the import form."""
        if transfer.failed(result):
            found = transfer.problems(result, self.transfer_class)
            listed = "；".join(transfer.describe(problem) for problem in found[:20])
            messages.error(
                request, _("导入未完成，没有写入任何数据。%(problems)s") % {"problems": listed}
            )
            return HttpResponseRedirect(self._import_url())
        return super().process_result(result, request)

    def add_success_message(self, result, request):
        counts = transfer.summary(result)
        messages.success(
            request,
            _("导入完成：新增 %(new)s 条，更新 %(update)s 条，%(skip)s 条没有变化。") % counts,
        )


# Resources ----------------------------------------------------------------------------------
class OpeningRuleInline(_ShownInline):
    model = OpeningRule
    fields = ("weekday", "opens", "closes")
    readonly_fields = fields
    parent_permission = "partners.view_resource"


class ExceptionInline(_ShownInline):
    model = AvailabilityException
    fields = ("kind", "starts_at", "ends_at", "reason")
    readonly_fields = fields
    parent_permission = "partners.view_resource"


class PhotoInline(_ShownInline):
    model = ResourcePhoto
    fields = ("position", "caption", "content_type", "size", "created_at")
    readonly_fields = fields
    parent_permission = "partners.view_resource"


@admin.register(Resource)
class ResourceAdmin(TransferAdmin):
    form = ResourceForm
    transfer_class = transfer.ResourceTransfer
    import_permission = "partners.add_resource"
    list_display = (
        "name_zh",
        "partner",
        "kind",
        "station",
        "amount",
        "visibility",
        "bookable",
        "is_active",
    )
    # Each filter narrows the partner's rows (partners_resource_partner_idx) or the shared
    # catalogue (partners_resource_vis_idx); names are searched within that scope.
    list_filter = ("kind", "visibility", "is_active")
    search_fields = ("name_zh", "name_en")
    list_select_related = ("partner", "station")
    inlines = (OpeningRuleInline, ExceptionInline, PhotoInline)
    fieldsets = (
        (None, {"fields": ("partner", "kind", "is_active")}),
        (
            gettext_lazy("名称与说明"),
            {"fields": ("name_zh", "name_en", "description_zh", "description_en")},
        ),
        (gettext_lazy("所在位置"), {"fields": ("station", "place_zh", "place_en")}),
        (
            gettext_lazy("数量与预约"),
            {"fields": ("quantity", "unit", "visibility", "bookable", "max_booking_minutes")},
        ),
        (gettext_lazy("记录"), {"fields": ("created_by", "created_at", "updated_at")}),
    )
    readonly_fields = ("created_by", "created_at", "updated_at")

    def get_queryset(self, request):
        return resources_for_admin(request.user).select_related("created_by")

    def get_list_filter(self, request):
        if _everything(request.user):
            return (("partner", admin.RelatedOnlyFieldListFilter), *self.list_filter)
        return self.list_filter

    def get_fieldsets(self, request, obj=None):
        if obj is None:
            return self.fieldsets[:-1]
        return self.fieldsets

    @admin.display(description=gettext_lazy("容量/数量"))
    def amount(self, resource):
        return f"{resource.quantity.normalize():f} {resource.get_unit_display()}"


# Bookings -----------------------------------------------------------------------------------
class DeclineForm(forms.Form):
    reason = forms.CharField(
        label=gettext_lazy("拒绝原因"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("申请单位会收到这个原因。"),
    )


@admin.register(Booking)
class BookingAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """Read-only rows; the partner approves or declines with the actions (through
    ``booking_approve`` / ``booking_decline``, which check each booking)."""

    list_display = ("id", "resource", "requester", "starts_at", "ends_at", "status", "decided_at")
    # status rides partners_booking_status_idx; ids are exact.
    list_filter = ("status",)
    search_fields = ("=id",)
    search_help_text = gettext_lazy("按预约编号搜索。")
    list_select_related = ("resource", "resource__partner", "requester")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ("approve_selected", "decline_selected")
    fields = (
        "resource",
        "requester",
        "requested_by",
        "starts_at",
        "ends_at",
        "purpose",
        "status",
        "decided_by",
        "decided_at",
        "decline_reason",
        "cancelled_by",
        "cancelled_side",
        "cancelled_at",
        "cancel_reason",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return queries.bookings_visible_to(request.user).select_related(
            "decided_by", "cancelled_by"
        )

    def has_decide_permission(self, request):
        # Asked of the rules, not of ``user.has_perm``, which says yes to superusers: deciding
        # is the partner's word (as the service says).
        return rules.has_perm("partners.decide_booking", request.user)

    def _run(self, request, bookings, call, done_message) -> None:
        done, refused = 0, []
        for booking in bookings:
            try:
                call(booking)
            except ValidationError as error:
                refused.append(f"#{booking.pk}：{'；'.join(error.messages)}")
            except PermissionDenied as error:
                refused.append(f"#{booking.pk}：{error}")
            else:
                done += 1
        if done:
            self.message_user(request, done_message % {"count": done}, messages.SUCCESS)
        if refused:
            self.message_user(
                request,
                _("以下预约未处理：%(list)s") % {"list": "　".join(refused)},
                messages.WARNING,
            )

    @admin.action(description=gettext_lazy("批准所选预约"), permissions=["decide"])
    def approve_selected(self, request, queryset):
        self._run(
            request,
            list(queryset.order_by("starts_at", "pk")),
            lambda booking: services.booking_approve(actor=request.user, booking=booking),
            _("已批准 %(count)d 个预约。"),
        )

    @admin.action(description=gettext_lazy("拒绝所选预约（须说明原因）"), permissions=["decide"])
    def decline_selected(self, request, queryset):
        """Ask for the reason first; then decline each booking through the service."""
        form = DeclineForm(request.POST if request.POST.get("confirm") else None)
        bookings = list(queryset.order_by("starts_at", "pk"))
        if not form.is_valid():
            context = {
                **self.admin_site.each_context(request),
                "title": _("拒绝预约"),
                "opts": self.opts,
                "bookings": bookings,
                "form": form,
            }
            return TemplateResponse(request, "admin/partners/booking_decline.html", context)
        reason = form.cleaned_data["reason"]
        self._run(
            request,
            bookings,
            lambda booking: services.booking_decline(
                actor=request.user, booking=booking, reason=reason
            ),
            _("已拒绝 %(count)d 个预约。"),
        )
        return None


# Pledges ------------------------------------------------------------------------------------
@admin.register(Pledge)
class PledgeAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """Read-only: pledges are offered, answered, delivered and withdrawn on their pages
    (``partners.add_pledge`` is the business permission to pledge, not a form here)."""

    list_display = ("id", "partner", "what", "quantity", "target", "status", "created_at")
    # status rides partners_pledge_partner_idx within the partner.
    list_filter = ("status",)
    search_fields = ("=id",)
    list_select_related = ("partner", "resource", "proposal", "case")
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    fields = (
        "partner",
        "resource",
        "quantity",
        "unit",
        "note",
        "proposal",
        "case",
        "starts_on",
        "ends_on",
        "status",
        "offered_by",
        "decided_by",
        "decided_at",
        "delivered_by",
        "delivered_at",
        "withdrawn_at",
        "reason",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return pledges_for_admin(request.user).select_related(
            "offered_by", "decided_by", "delivered_by"
        )

    @admin.display(description=gettext_lazy("资源"))
    def what(self, pledge):
        return pledge.resource.name if pledge.resource_id else pledge.get_unit_display()

    @admin.display(description=gettext_lazy("承诺对象"))
    def target(self, pledge):
        if pledge.proposal_id:
            return pledge.proposal.title
        return pledge.case.reference if pledge.case_id else "—"


# Agreements ---------------------------------------------------------------------------------
class DocumentInline(_ShownInline):
    model = AgreementDocument
    fields = ("title", "size", "uploaded_by", "created_at")
    readonly_fields = fields
    parent_permission = "partners.view_agreement"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


@admin.register(Agreement)
class AgreementAdmin(ServiceAdmin):
    form = AgreementForm
    list_display = ("title_zh", "partner", "parties", "status", "starts_on", "ends_on", "expired")
    # status rides partners_agreement_expiry_idx (and partners_agreement_partner_idx within a
    # partner); a partner's agreements are few, so the titles are searched within them.
    list_filter = ("status",)
    search_fields = ("title_zh", "title_en")
    list_select_related = ("partner",)
    filter_horizontal = ("departments",)
    inlines = (DocumentInline,)
    fields = (
        "partner",
        "departments",
        "title_zh",
        "title_en",
        "scope_zh",
        "scope_en",
        "starts_on",
        "ends_on",
        "status",
        "reminded_60_at",
        "reminded_14_at",
    )
    readonly_fields = ("reminded_60_at", "reminded_14_at")

    def get_queryset(self, request):
        return queries.agreements_visible_to(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "partner" and not _everything(request.user):
            # Either side's admins draft agreements: a partner's admin for their partner, a
            # department's admin with any partner (the service checks the seat).
            if organisation_ids(
                request.user, kind=Organisation.Kind.DEPARTMENT, roles={Membership.Role.ADMIN}
            ):
                kwargs["queryset"] = _active_partners()
            else:
                kwargs["queryset"] = _active_partners().filter(
                    pk__in=organisation_ids(request.user, roles={Membership.Role.ADMIN})
                )
            return super(ServiceAdmin, self).formfield_for_foreignkey(db_field, request, **kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "departments":
            kwargs["queryset"] = Organisation.objects.filter(
                kind=Organisation.Kind.DEPARTMENT, is_active=True
            ).order_by("name_zh")
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    @admin.display(description=gettext_lazy("合作部门"))
    def parties(self, agreement):
        return "、".join(department.name for department in agreement.departments.all())

    @admin.display(description=gettext_lazy("已到期"), boolean=True)
    def expired(self, agreement):
        return agreement.is_expired(timezone.localdate())


# Volunteers and training --------------------------------------------------------------------
class ShiftStationFilter(admin.RelatedFieldListFilter):
    """Only the stations the listed shifts are at (partners_shift_station_idx)."""

    def field_choices(self, field, request, model_admin):
        ids = model_admin.get_queryset(request).order_by().values("station_id").distinct()
        stations = Station.objects.filter(pk__in=ids).order_by("name_zh")
        return [(station.pk, str(station)) for station in stations]


@admin.register(VolunteerShift)
class ShiftAdmin(TransferAdmin):
    form = ShiftForm
    transfer_class = transfer.ShiftTransfer
    import_permission = "partners.manage_shift"
    list_display = ("volunteer", "role", "partner", "station", "starts_at", "ends_at", "status")
    # The date hierarchy and the station ride partners_shift_partner_idx and
    # partners_shift_station_idx (both lead to starts_at); volunteers are found by exact name.
    list_filter = (("station", ShiftStationFilter), "status")
    date_hierarchy = "starts_at"
    search_fields = ("=volunteer",)
    search_help_text = gettext_lazy("按志愿者姓名（完整）搜索。")
    list_select_related = ("partner", "station")
    fields = ("partner", *services.SHIFT_FIELDS, "hours")
    readonly_fields = ("hours",)

    def get_queryset(self, request):
        return queries.shifts_visible_to(request.user)

    @admin.display(description=gettext_lazy("时长（小时）"))
    def hours(self, shift):
        return shift.hours if shift.pk else "—"


class AttendanceInline(_ShownInline):
    model = Attendance
    fields = ("name", "organisation", "attended")
    readonly_fields = fields
    parent_permission = "partners.view_attendance"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")


@admin.register(TrainingSession)
class TrainingAdmin(ServiceAdmin):
    form = TrainingForm
    owner_field = "organiser"
    list_display = ("topic_zh", "organiser", "trainer", "starts_at", "hours", "station")
    date_hierarchy = "starts_at"  # partners_training_day_idx
    list_select_related = ("organiser", "station")
    inlines = (AttendanceInline,)
    fields = ("organiser", *services.TRAINING_FIELDS)

    def get_queryset(self, request):
        return trainings_for_admin(request.user)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "organiser":
            organisers = Organisation.objects.filter(is_active=True).order_by("name_zh")
            if not _everything(request.user):
                organisers = organisers.filter(
                    pk__in=organisation_ids(request.user, roles=ACTING_ROLES)
                )
            kwargs["queryset"] = organisers
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


# Members ------------------------------------------------------------------------------------
@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdminMixin, ObjectPermissionsModelAdmin):
    """A partner's open and past invitations, for its admins; revoked with the action (the
    invitations themselves are sent from the portal's members page)."""

    list_display = ("email", "organisation", "role", "created_at", "expires_at", "state")
    list_select_related = ("organisation", "invited_by")
    search_fields = ("email",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    list_per_page = 50
    actions = ("revoke_selected",)
    fields = (
        "organisation",
        "email",
        "role",
        "invited_by",
        "created_at",
        "expires_at",
        "accepted_by",
        "accepted_at",
        "revoked_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        return invitations_for_admin(request.user)

    def has_manage_permission(self, request):
        return request.user.has_perm("partners.manage_members")

    @admin.display(description=gettext_lazy("状态"))
    def state(self, invitation):
        if invitation.accepted_at:
            return _("已接受")
        if invitation.revoked_at:
            return _("已撤销")
        if invitation.expires_at <= timezone.now():
            return _("已过期")
        return _("待接受")

    @admin.action(description=gettext_lazy("撤销所选邀请"), permissions=["manage"])
    def revoke_selected(self, request, queryset):
        done, refused = 0, []
        for invitation in queryset:
            try:
                services.invitation_revoke(actor=request.user, invitation=invitation)
            except PermissionDenied as error:
                refused.append(f"{invitation.email}：{error}")
            else:
                done += 1
        if done:
            self.message_user(request, _("已撤销 %(count)d 份邀请。") % {"count": done})
        if refused:
            self.message_user(request, "　".join(refused), messages.WARNING)
