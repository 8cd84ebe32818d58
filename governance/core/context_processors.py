"""Template context the whole site shares."""

from __future__ import annotations

from governance.core.routes import nav_links


def navigation(request) -> dict:
    """The wings' links in the main navigation (``routes.register_nav``), for this user."""
    return {"wing_nav": nav_links(getattr(request, "user", None))}
