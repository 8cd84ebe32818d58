"""The partner portal's pages beyond resources and bookings: pledges, agreements, volunteer
shifts, training, members and the invitation link.

- ``/partners/pledges/`` — the pledges of the user's partner and those made to the proposals
  and cases of the user's organisations, with the ones waiting for the user's answer on top;
  ``/partners/pledges/<pk>/`` one pledge with its buttons (accept, decline, confirm delivery,
  withdraw); ``/partners/pledges/new/?proposal=<id>`` (or ``?case=<id>``) offers one.
- ``/partners/agreements/`` — the agreements the user's organisations are party to (expired
  and soon-ending ones flagged), one agreement with its PDFs (served by a view that checks the
  reader, never from a public media URL), drafting, editing and uploading for either side's
  admins.
- ``/partners/shifts/`` — volunteer shifts: kept by the partner, read by the departments at the
  shift's station.
- ``/partners/trainings/`` — training sessions: read by everyone with a seat, kept with their
  attendance list by the organiser.
- ``/partners/portal/members/`` — the partner's members and open invitations; its admins
  invite, change roles, remove and revoke.
- ``/partners/invitations/<token>/`` — the link of the invitation e-mail (allauth sign-in or
  sign-up, then accept).

Portal pages act for one partner: ``?partner=<slug>`` when the user sits in several (the first
of ``queries.partners_of`` otherwise), never for one they have no seat in (404).

Views parse, call one query or service and render; the services decide who may do what. A
refusal is ``PermissionDenied`` (the 403 page with the service's reason), bad input a
``ValidationError`` shown on the form (400; 413 for a file that is too large), a refusal
because of the row's state (``services.CONFLICTS``) a 409 with the reason, and anything the
user may not see a 404. Successful posts redirect with a message. Lists run a constant number
of queries (joined in ``queries``).
"""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

import rules
from allauth.account.adapter import get_adapter
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.db.models import Q
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import path, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.cases.queries import cases_visible_to
from governance.core import clock
from governance.core.admin import CappedCountPaginator
from governance.proposals import queries as proposal_queries
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import (
    ACTING_ROLES,
    is_superuser,
    memberships_of,
    organisation_ids,
)
from partners import portal_forms as forms
from partners import queries, services
from partners.models import Agreement, Pledge, TrainingSession, VolunteerShift

PAGE_SIZE = 30
TO_ANSWER_LIMIT = 50
EXPIRY_WARNING_DAYS = 60


# Helpers ------------------------------------------------------------------------------------
def _may(user, permission: str, obj=None) -> bool:
    """The rule itself, as the services ask it (Django's ``has_perm`` says yes to every
    superuser first, and a page must not offer what the service then refuses)."""
    return rules.has_perm(permission, user, obj)


def _forbidden(request, error: PermissionDenied) -> HttpResponse:
    """The site's 403 page, saying why."""
    return render(
        request,
        "errors/error.html",
        {
            "status": 403,
            "title": _("没有权限"),
            "message": str(error) or _("您没有访问此页面的权限。"),
        },
        status=403,
    )


def _bad_request(request, message: str) -> HttpResponse:
    return render(
        request,
        "errors/error.html",
        {"status": 400, "title": _("请求有误"), "message": message},
        status=400,
    )


def _codes(error: ValidationError) -> set:
    codes = {getattr(error, "code", None)}
    if hasattr(error, "error_dict"):
        for errors in error.error_dict.values():
            codes |= {getattr(item, "code", None) for item in errors}
    elif hasattr(error, "error_list"):
        codes |= {getattr(item, "code", None) for item in error.error_list}
    return codes


def _status(error: ValidationError) -> int:
    """409 for a refusal because of the row's state, 413 for a file too large, else 400."""
    codes = _codes(error)
    if codes & services.CONFLICTS:
        return 409
    if "too_large" in codes:
        return 413
    return 400


def _put_on_form(form, error: ValidationError, *, default_field: str | None = None) -> None:
    """A service's refusal shown where it belongs: on its field if the form shows one."""
    visible = {field.name for field in form.visible_fields()}
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in visible else None, errors)
    else:
        form.add_error(default_field if default_field in visible else None, error)


def _messages_of(error: ValidationError) -> list[str]:
    return [str(message) for message in error.messages]


def _query_without_page(request) -> str:
    query = request.GET.copy()
    query.pop("page", None)
    return query.urlencode()


def _has_seat(user) -> bool:
    return is_superuser(user) or bool(memberships_of(user))


def _partner_choices(user) -> list[Organisation]:
    """The partners the user's portal pages may act for: the ones they sit in (superusers:
    every active partner)."""
    if is_superuser(user):
        return list(
            Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True).order_by(
                "name_zh"
            )
        )
    return list(queries.partners_of(user))


def _current_partner(
    request, choices: list[Organisation], *, fallback: bool = False
) -> Organisation | None:
    """``?partner=<slug>`` among ``choices`` (404 otherwise), or the user's first partner.
    A superuser's lists show every partner unless one is asked for; with ``fallback`` (a page
    about one partner) a superuser gets their own first partner, or the first of all."""
    slug = request.GET.get("partner") or request.POST.get("partner")
    if slug:
        found = next((partner for partner in choices if partner.slug == slug), None)
        if found is None:
            raise Http404(_("您不在这个企业伙伴中任职。"))
        return found
    if is_superuser(request.user):
        if not fallback:
            return None
        seats = memberships_of(request.user)
        return next((p for p in choices if p.pk in seats), choices[0] if choices else None)
    return choices[0] if choices else None


def _page(request, qs):
    return CappedCountPaginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))


def _today() -> dt.date:
    return timezone.localdate(clock.now())


def _day_start(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(0), tzinfo=timezone.get_current_timezone())


# Pledges ------------------------------------------------------------------------------------
@login_required
@require_safe
def pledge_list(request):
    """The pledges of the user's partner and those to the user's organisations' proposals and
    cases; offered pledges waiting for the user's answer first."""
    user = request.user
    if not _has_seat(user):
        return _forbidden(request, PermissionDenied(_("承诺只对各单位的成员开放。")))
    partners = _partner_choices(user)
    partner = _current_partner(request, partners)
    filters = forms.PledgeFilterForm(request.GET)
    qs = queries.pledges_visible_to(user)
    if is_superuser(user):
        if partner is not None:
            qs = qs.filter(partner=partner)
    else:
        # The partner's own pledges and those made to the user's organisations (the public
        # ones to everybody else's proposals stay on those proposals' pages).
        seats = list(memberships_of(user))
        ours = Q(proposal__responsible_id__in=seats) | Q(case__responsible_id__in=seats)
        if partner is not None:
            ours |= Q(partner=partner)
        qs = qs.filter(ours)
    invalid = not filters.is_valid()
    if not invalid:
        data = filters.cleaned_data
        if data["status"]:
            qs = qs.filter(status=data["status"])
        if data["target"] == "proposal":
            qs = qs.filter(proposal__isnull=False)
        elif data["target"] == "case":
            qs = qs.filter(case__isnull=False)
    to_answer = []
    if organisation_ids(user, roles=ACTING_ROLES):
        to_answer = list(
            queries.pledges_to_answer(user).order_by("created_at", "pk")[:TO_ANSWER_LIMIT]
        )
    return render(
        request,
        "partners/pledges/list.html",
        {
            "page": _page(request, qs.order_by("-created_at", "-pk")),
            "filters": filters,
            "query": _query_without_page(request),
            "partners": partners,
            "partner": partner,
            "to_answer": to_answer,
        },
        status=400 if invalid else 200,
    )


def _pledge(request, pk: int) -> Pledge:
    pledge = queries.pledges_visible_to(request.user).filter(pk=pk).first()
    if pledge is None:
        raise Http404(_("没有这项承诺，或您无权查看。"))
    return pledge


def _pledge_context(request, pledge: Pledge, bound: dict | None = None) -> dict:
    user = request.user
    bound = bound or {}
    decides = _may(user, "partners.decide_pledge", pledge)
    offered = pledge.status == Pledge.Status.OFFERED
    return {
        "pledge": pledge,
        "can_accept": decides and offered,
        "can_deliver": decides and pledge.status == Pledge.Status.ACCEPTED,
        "can_withdraw": _may(user, "partners.withdraw_pledge", pledge)
        and pledge.status in (Pledge.Status.OFFERED, Pledge.Status.ACCEPTED),
        "decline_form": bound.get("decline") or forms.ReasonForm(prefix="decline"),
        "withdraw_form": bound.get("withdraw") or forms.ReasonForm(prefix="withdraw"),
        "action_errors": [],
    }


@require_safe
def pledge_detail(request, pk: int):
    """One pledge: to whom, what, for when and where it stands; the buttons of whoever may
    answer or withdraw it. Public while its proposal or case is, like the pledge panel there."""
    pledge = _pledge(request, pk)
    return render(request, "partners/pledges/detail.html", _pledge_context(request, pledge))


def _accept(request, pledge, data):
    services.pledge_accept(actor=request.user, pledge=pledge)
    return _("已接受这项承诺。")


def _decline(request, pledge, data):
    services.pledge_decline(actor=request.user, pledge=pledge, reason=data["reason"])
    return _("已谢绝这项承诺，承诺方会看到原因。")


def _deliver(request, pledge, data):
    services.pledge_deliver(actor=request.user, pledge=pledge)
    return _("已确认承诺兑现。")


def _withdraw(request, pledge, data):
    services.pledge_withdraw(actor=request.user, pledge=pledge, reason=data["reason"])
    return _("承诺已撤回。")


PLEDGE_ACTIONS = {
    "accept": (_accept, False),
    "decline": (_decline, True),
    "deliver": (_deliver, False),
    "withdraw": (_withdraw, True),
}


@login_required
@require_POST
def pledge_act(request, pk: int, action: str):
    """A button of the pledge page: accept, decline (with a reason), confirm the delivery or
    withdraw (with a reason)."""
    chosen = PLEDGE_ACTIONS.get(action)
    if chosen is None:
        raise Http404
    run, needs_reason = chosen
    pledge = _pledge(request, pk)
    form = forms.ReasonForm(request.POST, prefix=action) if needs_reason else None
    status = 400
    errors: list[str] = []
    if form is None or form.is_valid():
        try:
            message = run(request, pledge, form.cleaned_data if form is not None else {})
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            if form is not None and status == 400:
                _put_on_form(form, error)
            else:
                errors = _messages_of(error)
        else:
            messages.success(request, message)
            return redirect("partners:pledge", pk=pledge.pk)
    context = _pledge_context(request, _pledge(request, pk), bound={action: form})
    context["action_errors"] = errors
    return render(request, "partners/pledges/detail.html", context, status=status)


def _pledge_target(request):
    """The proposal or case of ``?proposal=<id>`` / ``?case=<id>``, if the user may read it."""
    proposal_id, case_id = request.GET.get("proposal"), request.GET.get("case")
    if bool(proposal_id) == bool(case_id):
        return None, None
    user = request.user
    if proposal_id:
        try:
            pk = int(proposal_id)
        except ValueError as bad:
            raise Http404 from bad
        proposal = (
            proposal_queries.visible_to(user).select_related("responsible").filter(pk=pk).first()
        )
        if proposal is None:
            raise Http404(_("没有这条建议，或您无权查看。"))
        return proposal, None
    cases = cases_visible_to(user)
    case = (
        cases.filter(pk=int(case_id)).first()
        if case_id.isascii() and case_id.isdigit()
        else cases.filter(reference=case_id).first()
    )
    if case is None:
        raise Http404(_("没有这个事项，或您无权查看。"))
    return None, case


@login_required
@require_http_methods(["GET", "POST"])
def pledge_new(request):
    """A partner's acting member offers a resource (or money) to a proposal or a case."""
    proposal, case = _pledge_target(request)
    if proposal is None and case is None:
        return _bad_request(request, _("请从一条建议或一个事项的页面发起承诺。"))
    partners = list(queries.partners_of(request.user, acting=True))
    if not partners:
        return _forbidden(request, PermissionDenied(_("只有企业伙伴的工作人员才能作出承诺。")))
    context = {"proposal": proposal, "case": case}
    if request.method != "POST":
        initial = {"starts_on": _today()}
        current = request.GET.get("partner")
        if current:
            initial["partner"] = current
        form = forms.PledgeForm(initial=initial, partners=partners)
        return render(request, "partners/pledges/new.html", {**context, "form": form})
    form = forms.PledgeForm(request.POST, partners=partners)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            pledge = services.pledge_offer(
                actor=request.user,
                partner=data["partner"],
                proposal=proposal,
                case=case,
                resource=data["resource"],
                quantity=data["quantity"],
                starts_on=data["starts_on"],
                ends_on=data["ends_on"],
                note=data["note"],
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("承诺已提交，负责单位会收到通知。"))
            return redirect("partners:pledge", pk=pledge.pk)
    return render(request, "partners/pledges/new.html", {**context, "form": form}, status=status)


# Agreements ---------------------------------------------------------------------------------
@login_required
@require_safe
def agreement_list(request):
    user = request.user
    if not _has_seat(user):
        return _forbidden(request, PermissionDenied(_("合作协议只对协议双方的成员开放。")))
    filters = forms.AgreementFilterForm(request.GET)
    qs = queries.agreements_visible_to(user)
    invalid = not filters.is_valid()
    if not invalid and filters.cleaned_data["status"]:
        qs = qs.filter(status=filters.cleaned_data["status"])
    today = _today()
    return render(
        request,
        "partners/agreements/list.html",
        {
            "page": _page(request, qs.order_by("ends_on", "pk")),
            "filters": filters,
            "query": _query_without_page(request),
            "today": today,
            "warn_until": today + dt.timedelta(days=EXPIRY_WARNING_DAYS),
            "can_add": _may(user, "partners.manage_agreement"),
        },
        status=400 if invalid else 200,
    )


def _agreement(request, pk: int) -> Agreement:
    agreement = queries.agreements_visible_to(request.user).filter(pk=pk).first()
    if agreement is None:
        raise Http404(_("没有这份协议，或您无权查看。"))
    return agreement


def _agreement_context(request, agreement: Agreement, document_form=None) -> dict:
    can_manage = _may(request.user, "partners.manage_agreement", agreement)
    today = _today()
    return {
        "agreement": agreement,
        "today": today,
        "warn_until": today + dt.timedelta(days=EXPIRY_WARNING_DAYS),
        "can_manage": can_manage,
        "document_form": (document_form or forms.DocumentForm()) if can_manage else None,
    }


@login_required
@require_safe
def agreement_detail(request, pk: int):
    agreement = _agreement(request, pk)
    return render(
        request, "partners/agreements/detail.html", _agreement_context(request, agreement)
    )


def _agreement_partners(user):
    """The partners the user may draft an agreement with: any, for a department's admin (or
    a superuser); their own, for a partner's admin."""
    qs = Organisation.objects.filter(kind=Organisation.Kind.PARTNER, is_active=True)
    admin_of = organisation_ids(user, roles={Membership.Role.ADMIN})
    departments = organisation_ids(
        user, kind=Organisation.Kind.DEPARTMENT, roles={Membership.Role.ADMIN}
    )
    if not (is_superuser(user) or departments):
        qs = qs.filter(pk__in=admin_of)
    return qs.order_by("name_zh")


def _agreement_values(data) -> dict:
    return {name: data[name] for name in services.AGREEMENT_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def agreement_new(request):
    """Either side's admin records a memorandum."""
    user = request.user
    if not _may(user, "partners.manage_agreement"):
        return _forbidden(
            request, PermissionDenied(_("只有企业伙伴或政府部门的管理员才能登记协议。"))
        )
    partners = _agreement_partners(user)
    if request.method != "POST":
        initial = {"partner": request.GET.get("partner")} if request.GET.get("partner") else {}
        form = forms.AgreementForm(initial=initial, partners=partners)
        return render(request, "partners/agreements/form.html", {"form": form})
    form = forms.AgreementForm(request.POST, partners=partners)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            agreement = services.agreement_create(
                actor=user,
                partner=data["partner"],
                departments=list(data["departments"]),
                data=_agreement_values(data),
                status=data["status"],
            )
        except PermissionDenied as error:
            # The sides chosen leave the user out: say so on the form, keep what was typed.
            status = 403
            form.add_error(None, str(error))
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("协议已登记。"))
            return redirect("partners:agreement", pk=agreement.pk)
    return render(request, "partners/agreements/form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def agreement_edit(request, pk: int):
    agreement = _agreement(request, pk)
    user = request.user
    if not _may(user, "partners.manage_agreement", agreement):
        return _forbidden(request, PermissionDenied(_("只有协议双方的管理员才能修改协议。")))
    context = {"agreement": agreement}
    if request.method != "POST":
        initial = {name: getattr(agreement, name) for name in services.AGREEMENT_FIELDS}
        initial["departments"] = [department.slug for department in agreement.departments.all()]
        initial["status"] = agreement.status
        form = forms.AgreementForm(initial=initial)
        return render(request, "partners/agreements/form.html", {**context, "form": form})
    form = forms.AgreementForm(request.POST)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.agreement_update(
                actor=user,
                agreement=agreement,
                data=_agreement_values(data),
                departments=list(data["departments"]),
                status=data["status"],
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("协议已修改。"))
            return redirect("partners:agreement", pk=agreement.pk)
    return render(
        request, "partners/agreements/form.html", {**context, "form": form}, status=status
    )


@login_required
@require_POST
def agreement_attach(request, pk: int):
    """Upload a signed copy or an annex (PDF, 10 MB at most)."""
    agreement = _agreement(request, pk)
    form = forms.DocumentForm(request.POST, request.FILES)
    status = 400
    if form.is_valid():
        try:
            services.agreement_attach(
                actor=request.user,
                agreement=agreement,
                upload=form.cleaned_data["file"],
                title=form.cleaned_data["title"],
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error, default_field="file")
        else:
            messages.success(request, _("文件已上传。"))
            return redirect("partners:agreement", pk=agreement.pk)
    agreement = _agreement(request, pk)
    return render(
        request,
        "partners/agreements/detail.html",
        _agreement_context(request, agreement, document_form=form),
        status=status,
    )


@login_required
@require_safe
def agreement_document(request, pk: int, document: int):
    """A document of the agreement, to the parties only: never at a public media URL."""
    agreement = _agreement(request, pk)
    found = next((item for item in agreement.documents.all() if item.pk == document), None)
    if found is None or not _may(request.user, "partners.view_agreement", found):
        raise Http404
    try:
        handle = default_storage.open(found.file.name, "rb")
    except FileNotFoundError as missing:
        raise Http404 from missing
    response = FileResponse(handle, content_type="application/pdf")
    response["Content-Disposition"] = (
        f'attachment; filename="agreement-{agreement.pk}-{found.pk}.pdf"'
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


# Volunteer shifts ---------------------------------------------------------------------------
@login_required
@require_safe
def shift_list(request):
    """The partner's shifts (kept by its acting members); the departments at a shift's station
    read them."""
    user = request.user
    if not _has_seat(user):
        return _forbidden(request, PermissionDenied(_("志愿者排班只对各单位的成员开放。")))
    partners = _partner_choices(user)
    partner = _current_partner(request, partners)
    qs = queries.shifts_visible_to(user)
    if partner is not None:
        qs = qs.filter(partner=partner)
    filters = forms.ShiftFilterForm(request.GET)
    invalid = not filters.is_valid()
    if not invalid:
        data = filters.cleaned_data
        if data["date_from"]:
            qs = qs.filter(starts_at__gte=_day_start(data["date_from"]))
        if data["date_to"]:
            qs = qs.filter(starts_at__lt=_day_start(data["date_to"] + dt.timedelta(days=1)))
        if data["station"]:
            qs = qs.filter(station=data["station"])
        if data["status"]:
            qs = qs.filter(status=data["status"])
    page = _page(request, qs.order_by("-starts_at", "-pk"))
    acting = organisation_ids(user, kind=Organisation.Kind.PARTNER, roles=ACTING_ROLES)
    for shift in page.object_list:
        shift.editable = is_superuser(user) or shift.partner_id in acting
    return render(
        request,
        "partners/shifts/list.html",
        {
            "page": page,
            "filters": filters,
            "query": _query_without_page(request),
            "partners": partners,
            "partner": partner,
            "can_add": _may(user, "partners.manage_shift"),
        },
        status=400 if invalid else 200,
    )


def _shifts_url(shift: VolunteerShift) -> str:
    return f"{reverse('partners:shifts')}?{urlencode({'partner': shift.partner.slug})}"


def _shift_values(data) -> dict:
    return {name: data[name] for name in services.SHIFT_FIELDS if name in data}


def _shift_partners(user) -> list[Organisation]:
    if is_superuser(user):
        return _partner_choices(user)
    return list(queries.partners_of(user, acting=True))


@login_required
@require_http_methods(["GET", "POST"])
def shift_new(request):
    user = request.user
    partners = _shift_partners(user)
    if not partners:
        return _forbidden(request, PermissionDenied(_("只有企业伙伴的工作人员才能排班。")))
    if request.method != "POST":
        initial = {"partner": request.GET.get("partner")} if request.GET.get("partner") else {}
        form = forms.ShiftForm(initial=initial, partners=partners)
        return render(request, "partners/shifts/form.html", {"form": form})
    form = forms.ShiftForm(request.POST, partners=partners)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            shift = services.shift_create(
                actor=user, partner=data["partner"], data=_shift_values(data)
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("班次已安排。"))
            return redirect(
                f"{reverse('partners:shifts')}?{urlencode({'partner': shift.partner.slug})}"
            )
    return render(request, "partners/shifts/form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def shift_edit(request, pk: int):
    user = request.user
    shift = queries.shifts_visible_to(user).filter(pk=pk).first()
    if shift is None:
        raise Http404(_("没有这个班次，或您无权查看。"))
    if not _may(user, "partners.manage_shift", shift):
        return _forbidden(request, PermissionDenied(_("只有该企业伙伴的工作人员才能修改排班。")))
    context = {"shift": shift}
    if request.method != "POST":
        initial = {name: getattr(shift, name) for name in services.SHIFT_FIELDS}
        initial["station"] = shift.station.slug
        form = forms.ShiftForm(initial=initial)
        return render(request, "partners/shifts/form.html", {**context, "form": form})
    form = forms.ShiftForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.shift_update(actor=user, shift=shift, data=_shift_values(form.cleaned_data))
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("班次已修改。"))
            return redirect(
                f"{reverse('partners:shifts')}?{urlencode({'partner': shift.partner.slug})}"
            )
    return render(request, "partners/shifts/form.html", {**context, "form": form}, status=status)


# Training -----------------------------------------------------------------------------------
@login_required
@require_safe
def training_list(request):
    user = request.user
    if not _has_seat(user):
        return _forbidden(request, PermissionDenied(_("培训只对各单位的成员开放。")))
    qs = queries.trainings_visible_to(user)
    filters = forms.TrainingFilterForm(request.GET)
    invalid = not filters.is_valid()
    now = clock.now()
    if not invalid:
        when = filters.cleaned_data["when"]
        if when == "upcoming":
            qs = qs.filter(starts_at__gte=now).order_by("starts_at", "pk")
        elif when == "past":
            qs = qs.filter(starts_at__lt=now)
    if invalid or filters.cleaned_data["when"] != "upcoming":
        qs = qs.order_by("-starts_at", "pk")
    return render(
        request,
        "partners/trainings/list.html",
        {
            "page": _page(request, qs),
            "filters": filters,
            "query": _query_without_page(request),
            "can_add": _may(user, "partners.manage_training"),
        },
        status=400 if invalid else 200,
    )


def _training(request, pk: int) -> TrainingSession:
    session = queries.trainings_visible_to(request.user).filter(pk=pk).first()
    if session is None:
        raise Http404(_("没有这场培训，或您无权查看。"))
    return session


@login_required
@require_safe
def training_detail(request, pk: int):
    """A session; its attendance list only for the organiser's members."""
    session = _training(request, pk)
    user = request.user
    sees_attendance = _may(user, "partners.view_attendance", session)
    attendances = (
        list(session.attendances.select_related("organisation").order_by("name", "pk"))
        if sees_attendance
        else []
    )
    return render(
        request,
        "partners/trainings/detail.html",
        {
            "session": session,
            "sees_attendance": sees_attendance,
            "attendances": attendances,
            "attended": sum(1 for row in attendances if row.attended),
            "can_manage": _may(user, "partners.manage_training", session),
        },
    )


def _organisers(user):
    qs = Organisation.objects.filter(is_active=True)
    if not is_superuser(user):
        qs = qs.filter(pk__in=organisation_ids(user, roles=ACTING_ROLES))
    return qs.order_by("kind", "name_zh")


def _training_values(data) -> dict:
    return {name: data[name] for name in services.TRAINING_FIELDS}


@login_required
@require_http_methods(["GET", "POST"])
def training_new(request):
    user = request.user
    if not _may(user, "partners.manage_training"):
        return _forbidden(request, PermissionDenied(_("只有各单位的工作人员才能登记培训。")))
    organisers = _organisers(user)
    if request.method != "POST":
        form = forms.TrainingForm(organisers=organisers)
        return render(request, "partners/trainings/form.html", {"form": form})
    form = forms.TrainingForm(request.POST, organisers=organisers)
    status = 400
    if form.is_valid():
        data = form.cleaned_data
        try:
            session = services.training_create(
                actor=user, organiser=data["organiser"], data=_training_values(data)
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("培训已登记。"))
            return redirect("partners:training", pk=session.pk)
    return render(request, "partners/trainings/form.html", {"form": form}, status=status)


@login_required
@require_http_methods(["GET", "POST"])
def training_edit(request, pk: int):
    session = _training(request, pk)
    user = request.user
    if not _may(user, "partners.manage_training", session):
        return _forbidden(request, PermissionDenied(_("只有主办单位的工作人员才能修改培训。")))
    context = {"session": session}
    if request.method != "POST":
        initial = {name: getattr(session, name) for name in services.TRAINING_FIELDS}
        initial["station"] = session.station.slug if session.station_id else None
        form = forms.TrainingForm(initial=initial)
        return render(request, "partners/trainings/form.html", {**context, "form": form})
    form = forms.TrainingForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            services.training_update(
                actor=user, session=session, data=_training_values(form.cleaned_data)
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("培训已修改。"))
            return redirect("partners:training", pk=session.pk)
    return render(request, "partners/trainings/form.html", {**context, "form": form}, status=status)


def _attendance_organisations() -> list[Organisation]:
    return list(Organisation.objects.filter(is_active=True).order_by("kind", "name_zh"))


def _attendance_errors(formset, rows: list[int], error: ValidationError) -> list[str]:
    """Put the service's ``attendees.<n>.<field>`` errors on the row they are about; return
    the ones that name no row."""
    left: list[str] = []
    if not hasattr(error, "error_dict"):
        return _messages_of(error)
    for key, errors in error.error_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[0] == "attendees" and parts[1].isdigit():
            index = int(parts[1])
            if index < len(rows):
                form = formset.forms[rows[index]]
                field = parts[2] if parts[2] in form.fields else None
                form.add_error(field, errors)
                continue
        left += [str(message) for item in errors for message in item.messages]
    return left


@login_required
@require_http_methods(["GET", "POST"])
def training_attendance(request, pk: int):
    """The attendance list: name, organisation and whether they came; saving replaces it."""
    session = _training(request, pk)
    user = request.user
    if not _may(user, "partners.manage_training", session):
        return _forbidden(request, PermissionDenied(_("只有主办单位的工作人员才能登记出勤。")))
    organisations = _attendance_organisations()
    status = 200
    errors: list[str] = []
    if request.method == "POST":
        formset = forms.attendance_formset(request.POST, organisations=organisations)
        status = 400
        if formset.is_valid():
            rows, entries = [], []
            for index, form in enumerate(formset.forms):
                data = form.cleaned_data
                if not data or data.get("DELETE") or not data.get("name"):
                    continue
                rows.append(index)
                entries.append(
                    {
                        "name": data["name"],
                        "organisation": data["organisation"],
                        "attended": data["attended"],
                    }
                )
            try:
                services.attendance_record(actor=user, session=session, attendees=entries)
            except PermissionDenied as error:
                return _forbidden(request, error)
            except ValidationError as error:
                status = _status(error)
                errors = _attendance_errors(formset, rows, error)
            else:
                messages.success(
                    request, _("出勤名单已保存（%(count)d 人）。") % {"count": len(entries)}
                )
                return redirect("partners:training", pk=session.pk)
    else:
        initial = [
            {
                "name": row.name,
                "organisation": row.organisation.slug,
                "attended": row.attended,
            }
            for row in session.attendances.select_related("organisation").order_by("name", "pk")
        ]
        formset = forms.attendance_formset(initial=initial, organisations=organisations)
    return render(
        request,
        "partners/trainings/attendance.html",
        {
            "session": session,
            "formset": formset,
            "errors": errors,
            "started": session.starts_at <= clock.now(),
        },
        status=status,
    )


# Members ------------------------------------------------------------------------------------
def _members_context(request, partner: Organisation, bound: dict | None = None) -> dict:
    bound = bound or {}
    user = request.user
    can_manage = _may(user, "partners.manage_members", partner)
    memberships = list(
        Membership.objects.filter(organisation=partner)
        .select_related("user")
        .order_by("role", "user__email", "pk")
    )
    rows = [
        {
            "membership": membership,
            "form": bound.get(f"role-{membership.pk}")
            or forms.RoleForm(
                initial={"role": membership.role}, auto_id=f"id_member_{membership.pk}_%s"
            ),
        }
        for membership in memberships
    ]
    now = timezone.now()
    invitations = list(queries.invitations_of(partner).order_by("-created_at", "-pk"))
    for invitation in invitations:
        invitation.expired = invitation.expires_at <= now
    return {
        "partner": partner,
        "partners": _partner_choices(user),
        "rows": rows,
        "invitations": invitations if can_manage else [],
        "can_manage": can_manage,
        "invite_form": bound.get("invite") or forms.InviteForm(),
        "action_errors": bound.get("errors", []),
    }


def _members_partner(request) -> Organisation:
    partner = _current_partner(request, _partner_choices(request.user), fallback=True)
    if partner is None:
        raise Http404(_("您不在任何企业伙伴中任职。"))
    return partner


def _members_url(partner: Organisation) -> str:
    return f"{reverse('partners:members')}?{urlencode({'partner': partner.slug})}"


@login_required
@require_safe
def members(request):
    """The partner's members and roles; its admins manage them, the others read."""
    partner = _members_partner(request)
    return render(request, "partners/members/list.html", _members_context(request, partner))


def _members_refused(request, partner, bound, status):
    return render(
        request,
        "partners/members/list.html",
        _members_context(request, partner, bound),
        status=status,
    )


@login_required
@require_POST
def member_invite(request):
    partner = _members_partner(request)
    form = forms.InviteForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            invitation, _token = services.invitation_send(
                actor=request.user,
                organisation=partner,
                email=form.cleaned_data["email"],
                role=form.cleaned_data["role"],
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("邀请已发送到 %(email)s。") % {"email": invitation.email})
            return redirect(_members_url(partner))
    return _members_refused(request, partner, {"invite": form}, status)


def _membership(request, pk: int) -> Membership:
    """A seat in a partner the user sits in (superusers: any partner), else 404."""
    membership = (
        Membership.objects.select_related("user", "organisation")
        .filter(pk=pk, organisation__kind=Organisation.Kind.PARTNER)
        .first()
    )
    if membership is None or not (
        is_superuser(request.user) or membership.organisation_id in memberships_of(request.user)
    ):
        raise Http404(_("没有这位成员。"))
    return membership


@login_required
@require_POST
def member_role(request, pk: int):
    membership = _membership(request, pk)
    partner = membership.organisation
    form = forms.RoleForm(request.POST, auto_id=f"id_member_{membership.pk}_%s")
    status = 400
    if form.is_valid():
        try:
            services.member_set_role(
                actor=request.user, membership=membership, role=form.cleaned_data["role"]
            )
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError as error:
            status = _status(error)
            _put_on_form(form, error)
        else:
            messages.success(request, _("已调整 %(user)s 的角色。") % {"user": membership.user})
            return redirect(_members_url(partner))
    return _members_refused(request, partner, {f"role-{membership.pk}": form}, status)


@login_required
@require_POST
def member_remove(request, pk: int):
    membership = _membership(request, pk)
    partner = membership.organisation
    try:
        services.member_remove(actor=request.user, membership=membership)
    except PermissionDenied as error:
        return _forbidden(request, error)
    except ValidationError as error:
        return _members_refused(request, partner, {"errors": _messages_of(error)}, _status(error))
    messages.success(request, _("已移除 %(user)s。") % {"user": membership.user})
    return redirect(_members_url(partner))


@login_required
@require_POST
def invitation_revoke(request, pk: int):
    partner = _members_partner(request)
    invitation = queries.invitations_of(partner).filter(pk=pk).first()
    if invitation is None:
        raise Http404(_("没有这份待接受的邀请。"))
    try:
        services.invitation_revoke(actor=request.user, invitation=invitation)
    except PermissionDenied as error:
        return _forbidden(request, error)
    messages.success(request, _("已撤销发给 %(email)s 的邀请。") % {"email": invitation.email})
    return redirect(_members_url(partner))


# The invitation link ------------------------------------------------------------------------
@require_http_methods(["GET", "POST"])
def invitation(request, token: str):
    """The link of the invitation e-mail.

    Anonymous visitors read what the invitation is and go to allauth's sign-in or sign-up,
    which bring them back here (``?next=``). The link proves the invited mailbox, so its
    address is stashed as verified with allauth (``stash_verified_email``): signing up with it
    needs no second confirmation e-mail. Signed in with the invited address, one button takes
    the seat; with another address the page says which one to use (403)."""
    found = services.invitation_for_token(token)
    if found is None:
        return render(request, "partners/members/invitation_invalid.html", status=404)
    user = request.user
    here = reverse("partners:invitation", args=[token])
    if not user.is_authenticated:
        if request.method == "POST":
            return redirect(f"{reverse('account_login')}?{urlencode({'next': here})}")
        get_adapter(request).stash_verified_email(request, found.email)
        return render(
            request,
            "partners/members/invitation.html",
            {
                "invitation": found,
                "login_url": f"{reverse('account_login')}?{urlencode({'next': here})}",
                "signup_url": (
                    f"{reverse('account_signup')}?{urlencode({'email': found.email, 'next': here})}"
                ),
            },
        )
    if user.email.lower() != found.email.lower():
        return render(
            request,
            "partners/members/invitation_other_user.html",
            {"invitation": found, "next": here},
            status=403,
        )
    if request.method == "POST":
        try:
            membership = services.invitation_accept(actor=user, token=token)
        except PermissionDenied as error:
            return _forbidden(request, error)
        except ValidationError:
            return render(request, "partners/members/invitation_invalid.html", status=404)
        messages.success(
            request,
            _("您已加入%(organisation)s（%(role)s）。")
            % {"organisation": membership.organisation.name, "role": membership.get_role_display()},
        )
        return redirect(
            f"{reverse('partners:portal')}?{urlencode({'partner': membership.organisation.slug})}"
        )
    return render(request, "partners/members/invitation.html", {"invitation": found})


urlpatterns = [
    path("pledges/", pledge_list, name="pledges"),
    path("pledges/new/", pledge_new, name="pledge_new"),
    path("pledges/<int:pk>/", pledge_detail, name="pledge"),
    path("pledges/<int:pk>/<slug:action>/", pledge_act, name="pledge_act"),
    path("agreements/", agreement_list, name="agreements"),
    path("agreements/new/", agreement_new, name="agreement_new"),
    path("agreements/<int:pk>/", agreement_detail, name="agreement"),
    path("agreements/<int:pk>/edit/", agreement_edit, name="agreement_edit"),
    path("agreements/<int:pk>/documents/", agreement_attach, name="agreement_attach"),
    path(
        "agreements/<int:pk>/documents/<int:document>/",
        agreement_document,
        name="agreement_document",
    ),
    path("shifts/", shift_list, name="shifts"),
    path("shifts/new/", shift_new, name="shift_new"),
    path("shifts/<int:pk>/edit/", shift_edit, name="shift_edit"),
    path("trainings/", training_list, name="trainings"),
    path("trainings/new/", training_new, name="training_new"),
    path("trainings/<int:pk>/", training_detail, name="training"),
    path("trainings/<int:pk>/edit/", training_edit, name="training_edit"),
    path("trainings/<int:pk>/attendance/", training_attendance, name="training_attendance"),
    path("portal/members/", members, name="members"),
    path("portal/members/invite/", member_invite, name="member_invite"),
    path("portal/members/<int:pk>/role/", member_role, name="member_role"),
    path("portal/members/<int:pk>/remove/", member_remove, name="member_remove"),
    path("portal/invitations/<int:pk>/revoke/", invitation_revoke, name="invitation_revoke"),
    path("invitations/<str:token>/", invitation, name="invitation"),
]
