"""Open311 GeoReport v2 at ``/open311/v2/``: the service catalogue and the public cases in the
open standard that 311 apps speak, JSON and XML, and anonymous reports posted by apps that hold
an API key issued in the admin (:class:`~governance.cases.models.Open311Client`).

- ``views.py``/``urls.py``: the endpoints, thin; ``parsing.py`` turns parameters into values or
  Open311 errors; ``queries.py`` reads; ``services.py`` writes (a report is a case opened with
  ``case_open(source=Source.OPEN311)``); ``representations.py`` builds the spec's fields;
  ``renderers.py`` writes them as JSON or as XML with the spec's element names.
- Specification: http://wiki.open311.org/GeoReport_v2 (field names are the spec's).
- Choices made where the spec leaves room: ``service_request_id`` is the case reference
  (``CH-2026-000123``); ``address_id`` is a station's slug; the service is realtime, so a POST
  answers with the request id (and a token, which ``tokens/{token}`` resolves as well);
  ``description`` of a request is the case's description, which carries the answers to the
  service's attributes; private cases never appear, nor does anything a reporter left to be
  contacted by. Error descriptions are in English, as in the spec's examples: they are read by
  the developers of the apps.
"""
