"""Signals the catalogue sends, for apps that learn from it (the needs radar counts searches
that found nothing) without the catalogue knowing about them."""

from django.dispatch import Signal

# Sent after a catalogue search: ``query`` (the words searched, as typed), ``results`` (how many
# services were found) and ``station`` (the station searched within, or None).
catalogue_searched = Signal()
