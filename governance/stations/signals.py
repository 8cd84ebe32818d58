"""Signals the catalogue sends, for apps that learn from it (the needs radar counts searches
that found nothing) without the catalogue knowing about them."""

from django.dispatch import Signal

# Sent after a catalogue search: ``query`` (the words searched, as typed), ``results`` (how many
# services were found), ``station`` (the station searched within, or None) and ``searcher`` (a
# key for who searched, such as the client address: receivers count each searcher once, and
# must not keep it).
catalogue_searched = Signal()
