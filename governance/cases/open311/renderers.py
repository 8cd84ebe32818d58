"""JSON and XML as GeoReport v2 writes them.

XML is built with ``xml.etree.ElementTree`` (which escapes text) under the spec's element
names: ``<services><service>``, ``<service_requests><request>``, ``<service_definition>``,
``<discovery>``, ``<errors><error>``; a list inside an element is named after its parent
(``<attributes><attribute>``, ``<values><value>``, ``<endpoints><endpoint>``,
``<formats><format>``). Characters XML 1.0 cannot carry are dropped from text.
"""

from __future__ import annotations

import re
from xml.etree import ElementTree as ET

from rest_framework.renderers import BaseRenderer, JSONRenderer

# The element of each item of a list, by the list's element name.
ITEMS = {
    "services": "service",
    "service_requests": "request",
    "errors": "error",
    "attributes": "attribute",
    "values": "value",
    "endpoints": "endpoint",
    "formats": "format",
}
NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
DECLARATION = b'<?xml version="1.0" encoding="UTF-8"?>\n'


class Open311JSONRenderer(JSONRenderer):
    charset = "utf-8"


class Open311XMLRenderer(BaseRenderer):
    media_type = "text/xml"
    format = "xml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        response = (renderer_context or {}).get("response")
        root = getattr(response, "xml_root", None) or (
            "errors" if isinstance(data, list) else "response"
        )
        return to_xml(root, data)


def to_xml(root: str, data) -> bytes:
    element = ET.Element(root)
    _fill(element, data)
    return DECLARATION + ET.tostring(element, encoding="utf-8", xml_declaration=False)


def _fill(element: ET.Element, value) -> None:
    if value is None:
        return
    if isinstance(value, dict):
        for name, item in value.items():
            _fill(ET.SubElement(element, name), item)
    elif isinstance(value, list | tuple):
        child = ITEMS.get(element.tag, "item")
        for item in value:
            _fill(ET.SubElement(element, child), item)
    elif isinstance(value, bool):
        element.text = "true" if value else "false"
    else:
        element.text = NOT_XML.sub("", str(value))
