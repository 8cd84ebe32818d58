"""Searches of the catalogue that found nothing feed the unmet-demand list."""

from __future__ import annotations

from django.dispatch import receiver

from governance.stations.signals import catalogue_searched


@receiver(catalogue_searched, dispatch_uid="radar.search_miss")
def count_search_miss(
    sender, *, query: str, results: int, station=None, searcher: str = "", **kwargs
) -> None:
    if results:
        return
    from governance.radar.services import search_miss_record

    search_miss_record(query=query, station=station, searcher=searcher)
