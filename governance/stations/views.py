from __future__ import annotations

from itertools import groupby

from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_safe

from governance.stations import queries
from governance.stations.forms import ServiceSearchForm


@require_safe
def home(request):
    """The stations with their hours, and the catalogue grouped by department, searchable."""
    form = ServiceSearchForm(request.GET or None)
    services = queries.public_services()
    query = ""
    if form.is_valid():
        query = form.cleaned_data["q"]
        if query:
            services = queries.search_services(services, query)
    services = list(services)
    departments = [
        (department, list(items))
        for department, items in groupby(services, key=lambda service: service.department)
    ]
    context = {
        "stations": list(queries.public_stations()),
        "departments": departments,
        "form": form,
        "query": query,
        "result_count": len(services),
    }
    return render(request, "stations/home.html", context)


@require_safe
def station_detail(request, slug: str):
    station = get_object_or_404(queries.public_stations(), slug=slug)
    services = list(queries.public_services().filter(stations=station))
    departments = [
        (department, list(items))
        for department, items in groupby(services, key=lambda service: service.department)
    ]
    return render(
        request, "stations/station_detail.html", {"station": station, "departments": departments}
    )


@require_safe
def service_detail(request, service_code: str):
    service = get_object_or_404(queries.public_services(), service_code=service_code)
    return render(request, "stations/service_detail.html", {"service": service})
