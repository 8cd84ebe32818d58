"""Template tags of the whole site."""

from __future__ import annotations

from urllib.parse import urlencode

from django import template
from django.urls import reverse

from governance.core import routes

register = template.Library()


@register.simple_tag
def page_actions(page: str, key: str) -> list[dict]:
    """The links wings and core apps offer on a ``page`` about the object keyed ``key``."""
    links = []
    for action in routes.page_actions(page):
        query = urlencode({**dict(action.extra), action.param: key})
        links.append({"label": action.label, "url": f"{reverse(action.url_name)}?{query}"})
    return links
