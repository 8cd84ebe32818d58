"""The KPI pages: the dashboard, one KPI, a station's scorecard, an organisation's KPIs, the
forms owners use, and open data.

Every figure comes from the rollups and approved reported figures (``queries``), so each page
runs the same few queries whatever the history. Open data: ``/kpis/<code>.csv`` (UTF-8 with a
byte-order mark, so Excel opens the Chinese names right) and ``/kpis/<code>.json``; both read
the same rows as the API's ``measurements`` action.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from governance.kpis import queries, services
from governance.kpis.forms import DetailQuery, FigureForm, ReviewForm, TargetForm
from governance.kpis.models import Indicator, Period, ReportedFigure
from governance.kpis.registry import Scope
from governance.kpis.rules import acts_for, owner_actions
from governance.kpis.templatetags.kpis import period_label, unit_label
from governance.stakeholders.models import Membership, Organisation
from governance.stakeholders.rules import ACTING_ROLES
from governance.stations.models import Station

# Months of history in a download, up to the current month.
OPEN_DATA_MONTHS = 36
CSV_COLUMNS = (
    "code",
    "name_zh",
    "name_en",
    "unit",
    "direction",
    "owners",
    "period",
    "period_start",
    "period_end",
    "value",
    "target_green",
    "target_amber",
    "light",
)


def _indicator(request, code: str) -> Indicator:
    indicator = queries.indicators_visible_to(request.user).filter(code=code).first()
    if indicator is None:
        raise Http404
    return indicator


def open_data(indicator: Indicator, today: dt.date) -> dict:
    """The definition and the monthly values of ``indicator``, as plain data."""
    first = queries.periods_back(Period.MONTH, today, OPEN_DATA_MONTHS)
    values = queries.indicator_values(
        indicator, kind=Period.MONTH, first=first, last=today, today=today
    )
    return {
        "code": indicator.code,
        "kind": indicator.kind,
        "metric": indicator.metric,
        "name_zh": indicator.name_zh,
        "name_en": indicator.name_en,
        "description_zh": indicator.description_zh,
        "description_en": indicator.description_en,
        "unit": queries.indicator_unit(indicator),
        "direction": "higher_is_better" if indicator.is_higher_better else "lower_is_better",
        "visibility": indicator.visibility,
        "owners": [
            {"slug": owner.slug, "name_zh": owner.name_zh, "name_en": owner.name_en}
            for owner in indicator.owners.all()
        ],
        "period": Period.MONTH.value,
        "measurements": [
            {
                "start": row.start,
                "end": row.end,
                "value": row.value,
                "target": (
                    {"green": row.target.green, "amber": row.target.amber} if row.target else None
                ),
                "light": row.light.value if row.light else None,
            }
            for row in values
            if row.value is not None or row.target is not None
        ],
    }


def _attachment(response: HttpResponse, filename: str) -> HttpResponse:
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


@require_safe
def indicator_csv(request, code: str) -> HttpResponse:
    data = open_data(_indicator(request, code), queries.local_today())
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response)
    writer.writerow(CSV_COLUMNS)
    owners = ";".join(owner["slug"] for owner in data["owners"])
    for row in data["measurements"]:
        target = row["target"] or {}
        writer.writerow(
            (
                data["code"],
                data["name_zh"],
                data["name_en"],
                data["unit"],
                data["direction"],
                owners,
                data["period"],
                row["start"].isoformat(),
                row["end"].isoformat(),
                "" if row["value"] is None else repr(row["value"]),
                target.get("green", ""),
                target.get("amber", ""),
                row["light"] or "",
            )
        )
    return _attachment(response, f"{data['code']}.csv")


@require_safe
def indicator_json(request, code: str) -> HttpResponse:
    data = open_data(_indicator(request, code), queries.local_today())
    body = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    return _attachment(response, f"{data['code']}.json")


# Pages -----------------------------------------------------------------------------------------

# Periods on an indicator's chart, by kind.
CHART_PERIODS = {Period.MONTH: 12, Period.QUARTER: 8, Period.YEAR: 5}


@dataclass(frozen=True)
class CardView:
    """A card with what its template needs: the unit, and the sparkline's numbers."""

    card: queries.Card
    unit: str
    spark: dict
    spark_id: str


def _card_views(cards, prefix: str = "spark") -> list[CardView]:
    return [
        CardView(
            card=card,
            unit=queries.indicator_unit(card.indicator),
            spark={
                "labels": [row.start.isoformat() for row in card.history],
                "values": [row.value for row in card.history],
                "green": [row.target.green if row.target else None for row in card.history],
            },
            spark_id=f"{prefix}-{card.indicator.code}",
        )
        for card in cards
    ]


def _bad_request(request, message: str) -> HttpResponse:
    body = render_to_string(
        "errors/error.html",
        {"status": 400, "title": _("请求有误"), "message": message},
        request=request,
    )
    return HttpResponseBadRequest(body)


@require_safe
def dashboard(request):
    """Every KPI the visitor may see, as cards: last month against its target, a year back."""
    today = queries.local_today()
    # Retired KPIs stay off the dashboard, superusers' included (the admin lists them).
    indicators = (
        queries.indicators_visible_to(request.user).filter(is_active=True).order_by("name_zh", "pk")
    )
    cards = queries.indicator_cards(indicators, today=today)
    return render(
        request,
        "kpis/dashboard.html",
        {
            "cards": _card_views(cards),
            "focus": queries.last_complete(Period.MONTH, today),
            "today": today,
        },
    )


@require_safe
def indicator_detail(request, code: str):
    """One KPI: its chart over time with the target, the numbers, and a breakdown."""
    indicator = _indicator(request, code)
    query = DetailQuery(request.GET, indicator=indicator)
    if not query.is_valid():
        errors = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in query.errors.items())
        return _bad_request(request, errors)
    today = queries.local_today()
    kind = query.cleaned_data["period"] or Period.MONTH
    first = queries.periods_back(kind, today, CHART_PERIODS[Period(kind)])
    values = queries.indicator_values(indicator, kind=kind, first=first, last=today, today=today)
    start = query.cleaned_data["start"]
    focus = queries.period_start(kind, start) if start else queries.last_complete(kind, today)
    by = query.cleaned_data["by"]
    breakdown = (
        queries.indicator_breakdown(indicator, kind=kind, start=focus, dimension=by, today=today)
        if by
        else []
    )
    return render(
        request,
        "kpis/indicator_detail.html",
        {
            "indicator": indicator,
            "unit": queries.indicator_unit(indicator),
            "kind": kind,
            "kinds": Period.choices,
            "values": values,
            "today": today,
            "focus": focus,
            "by": by,
            "dimensions": query.dimensions,
            "breakdown": breakdown,
            "chart": _chart_data(values, today, kind, queries.indicator_unit(indicator)),
            # What the visitor may do in each owner's name (a viewer does neither).
            "acting_owners": owner_actions(request.user, indicator),
        },
    )


def _chart_data(values, today, kind: str, unit: str) -> dict:
    """What the chart script draws: labels, actual values, the thresholds and their names."""
    return {
        "labels": [period_label(row.start, kind) for row in values],
        "names": {"actual": _("实际值"), "green": _("绿灯阈值"), "amber": _("黄灯阈值")},
        "unit": unit_label(unit),
        "values": [row.value for row in values],
        "green": [row.target.green if row.target else None for row in values],
        "amber": [row.target.amber if row.target else None for row in values],
        "partial": [row.end >= today for row in values],
    }


@require_safe
def station_scorecard(request, slug: str):
    """A station's KPIs: its own values against its own targets (or the platform's)."""
    station = get_object_or_404(Station.objects.filter(is_active=True), slug=slug)
    today = queries.local_today()
    cards = queries.indicator_cards(
        queries.station_indicators(request.user, station),
        today=today,
        scope=Scope(station_id=station.pk),
        inherit_targets=True,
    )
    return render(
        request,
        "kpis/station_scorecard.html",
        {
            "station": station,
            "cards": _card_views(cards),
            "focus": queries.last_complete(Period.MONTH, today),
            "today": today,
        },
    )


@login_required
@require_safe
def mine(request):
    """The signed-in member's organisations with KPIs: straight to it when there is one."""
    organisations = queries.organisations_with_kpis(request.user)
    if len(organisations) == 1:
        return redirect("kpis:organisation", slug=organisations[0].slug)
    if not organisations and not request.user.has_perm("kpis.view_organisation_kpis"):
        raise PermissionDenied
    return render(request, "kpis/mine.html", {"organisations": organisations})


def _organisation(request, slug: str) -> Organisation:
    organisation = get_object_or_404(Organisation, slug=slug, is_active=True)
    if not request.user.has_perm("kpis.view_organisation_kpis", organisation):
        raise PermissionDenied
    return organisation


@login_required
@require_safe
def organisation_kpis(request, slug: str):
    """What an organisation owns or shares, public or not, and the figures waiting for it."""
    organisation = _organisation(request, slug)
    today = queries.local_today()
    cards = queries.indicator_cards(queries.organisation_indicators(organisation), today=today)
    return render(
        request,
        "kpis/organisation.html",
        {
            "organisation": organisation,
            "cards": _card_views(cards),
            "focus": queries.last_complete(Period.MONTH, today),
            "today": today,
            "waiting": queries.figures_to_review(request.user, organisation),
            "recent": queries.organisation_figures(organisation).filter(reported_by=organisation)[
                :20
            ],
            "may_set_targets": acts_for(request.user, organisation.pk, {Membership.Role.ADMIN}),
            "may_report": acts_for(request.user, organisation.pk),
        },
    )


def _owned_indicator(organisation: Organisation, code: str) -> Indicator:
    return get_object_or_404(
        Indicator.objects.filter(owners=organisation, is_active=True).prefetch_related("owners"),
        code=code,
    )


def _require_seat(request, organisation: Organisation, roles) -> None:
    if not acts_for(request.user, organisation.pk, roles):
        raise PermissionDenied


def _submitted(request, form, action) -> bool:
    """Run ``action(cleaned_data)`` for a valid POST; a service's refusal becomes form errors."""
    if request.method != "POST" or not form.is_valid():
        return False
    try:
        action(form.cleaned_data)
    except ValidationError as error:
        form.add_service_error(error)
        return False
    return True


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def target_edit(request, slug: str, code: str):
    """An owner's admin sets an indicator's target for a period and scope."""
    organisation = _organisation(request, slug)
    indicator = _owned_indicator(organisation, code)
    if not request.user.has_perm("kpis.set_target", indicator):
        raise PermissionDenied
    _require_seat(request, organisation, {Membership.Role.ADMIN})
    today = queries.local_today()
    form = TargetForm(
        request.POST if request.method == "POST" else None,
        indicator=indicator,
        initial={"period": Period.MONTH, "period_start": today.replace(day=1)},
    )

    def set_target(data):
        services.target_set(
            actor=request.user,
            organisation=organisation,
            indicator=indicator,
            period=data["period"],
            period_start=data["period_start"],
            scope=data["scope"],
            green=data["green"],
            amber=data["amber"],
        )

    if _submitted(request, form, set_target):
        messages.success(request, _("目标已保存，其他共有方会收到通知。"))
        return redirect("kpis:indicator", code=indicator.code)
    return render(
        request,
        "kpis/target_form.html",
        {"organisation": organisation, "indicator": indicator, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def figure_report(request, slug: str, code: str):
    """A member of an owner reports a figure; a co-owner's admin approves it before it shows."""
    organisation = _organisation(request, slug)
    indicator = _owned_indicator(organisation, code)
    if indicator.kind != Indicator.Kind.REPORTED:
        raise Http404
    if not request.user.has_perm("kpis.report_figure", indicator):
        raise PermissionDenied
    _require_seat(request, organisation, ACTING_ROLES)
    today = queries.local_today()
    form = FigureForm(
        request.POST if request.method == "POST" else None,
        indicator=indicator,
        initial={
            "period": Period.MONTH,
            "period_start": queries.last_complete(Period.MONTH, today),
        },
    )

    def report(data):
        services.reported_figure_submit(
            actor=request.user,
            organisation=organisation,
            indicator=indicator,
            period=data["period"],
            period_start=data["period_start"],
            scope=data["scope"],
            value=data["value"],
            today=today,
        )

    if _submitted(request, form, report):
        messages.success(request, _("数据已提交，待另一共有方审核后公布。"))
        return redirect("kpis:organisation", slug=organisation.slug)
    return render(
        request,
        "kpis/figure_form.html",
        {"organisation": organisation, "indicator": indicator, "form": form},
        status=400 if form.errors else 200,
    )


@login_required
@require_POST
def figure_review(request, slug: str, pk: int):
    """Approve a figure or send it back, acting for this owner."""
    organisation = _organisation(request, slug)
    figure = get_object_or_404(
        ReportedFigure.objects.filter(indicator__owners=organisation)
        .select_related("indicator")
        .prefetch_related("indicator__owners"),
        pk=pk,
    )
    if not request.user.has_perm("kpis.review_figure", figure):
        raise PermissionDenied
    form = ReviewForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("请选择通过或退回。"))
        return redirect("kpis:organisation", slug=organisation.slug)
    approve = form.cleaned_data["decision"] == "approve"
    try:
        services.reported_figure_review(
            actor=request.user,
            organisation=organisation,
            figure=figure,
            approve=approve,
            note=form.cleaned_data["note"],
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("已通过，数据已公布。") if approve else _("已退回填报单位。"))
    return redirect("kpis:organisation", slug=organisation.slug)
