from __future__ import annotations

from itertools import groupby

from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from governance.stakeholders.services import client_ip
from governance.stations import queries
from governance.stations.forms import ServiceSearchForm
from governance.stations.models import service_code_validator
from governance.stations.signals import catalogue_searched


def _by_department(services) -> list[tuple]:
    """``(department, [services])`` pairs; the service queries order by department first."""
    return [
        (department, list(items))
        for department, items in groupby(services, key=lambda service: service.department)
    ]


@require_safe
def home(request):
    """The stations with their hours, and the catalogue grouped by department, searchable."""
    form = ServiceSearchForm(request.GET or None)
    services = queries.public_service_summaries()
    query = ""
    if form.is_bound and not form.is_valid():
        # The error is shown next to the box; a list would look like the answer to it.
        services = services.none()
    elif form.is_bound:
        query = form.cleaned_data["q"]
        if query:
            services = queries.search_services(services, query)
    services = list(services)
    if query:
        catalogue_searched.send(
            home,
            query=query,
            results=len(services),
            station=None,
            searcher=client_ip(request) or request.session.session_key or "",
        )
    context = {
        "stations": list(queries.public_stations()),
        "departments": _by_department(services),
        "form": form,
        "query": query,
        "searched": bool(query or form.errors),
        "result_count": len(services),
    }
    return render(request, "stations/home.html", context)


@require_safe
def station_detail(request, slug: str):
    station = get_object_or_404(queries.public_stations(), slug=slug)
    services = queries.public_service_summaries().filter(stations=station)
    return render(
        request,
        "stations/station_detail.html",
        {"station": station, "departments": _by_department(services)},
    )


@require_safe
def service_detail(request, service_code: str):
    # The URL takes any text; a code that cannot exist is a 404 without asking the database
    # (PostgreSQL refuses some of it, a NUL byte for one, with an error rather than no row).
    if not service_code_validator.regex.fullmatch(service_code):
        raise Http404
    service = get_object_or_404(queries.public_services(), service_code=service_code)
    return render(request, "stations/service_detail.html", {"service": service})
