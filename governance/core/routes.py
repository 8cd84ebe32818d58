"""URLs, API viewsets and navigation links the wings add to the site.

``governance/urls.py`` never imports a wing (``feedback``, ``partners``): a wing registers its
URL module and its viewsets here from its ``AppConfig.ready``, which Django runs before the URL
configuration is first loaded, and the site's URLs include whatever was registered. Paths are
dotted strings, imported when the URLs are built.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.module_loading import import_string


@dataclass(frozen=True)
class ViewSetRoute:
    prefix: str
    viewset: str
    basename: str


@dataclass(frozen=True)
class NavLink:
    url_name: str
    label: object  # a lazy translation
    # "everyone", "signed_in" (any account), "members" (people with a seat somewhere),
    # "partners" (people with a seat in a partner organisation) or "co_governors" (a seat in a
    # department or a partner: community organisations' members are not among them).
    audience: str = "everyone"
    order: int = 100


@dataclass(frozen=True)
class PageAction:
    """A link a wing puts on a core page about one object (a service, a station), e.g. "rate
    this service": ``url_name`` with ``?<param>=<the object's key>``."""

    page: str
    url_name: str
    label: object
    param: str
    order: int = 100
    # Fixed query parameters added to the link.
    extra: tuple[tuple[str, str], ...] = ()


_url_modules: dict[str, str] = {}
_viewsets: dict[str, ViewSetRoute] = {}
_api_fronts: dict[str, str] = {}
_nav: dict[str, NavLink] = {}
_page_actions: dict[tuple[str, str], PageAction] = {}


def register_urls(urlconf: str, prefix: str = "") -> None:
    """Include ``urlconf`` (a dotted module with ``app_name``) under ``prefix``."""
    _url_modules[urlconf] = prefix


def register_viewset(prefix: str, viewset: str, *, basename: str) -> None:
    """Register ``viewset`` (dotted path) on the ``/api/v1/`` router under ``prefix``."""
    _viewsets[prefix] = ViewSetRoute(prefix, viewset, basename)


def register_api_front(route: str, handler: str) -> None:
    """Put ``handler`` (dotted path) in front of the router's view of ``/api/v1/<route>``, for
    the site's busiest endpoints. The path is tried before every other URL of the site (the
    router's are tried one by one, after every page's). ``handler(request)`` answers the
    requests it takes with a response and returns None for the others, which go on to the
    router's view of the same path: one endpoint, one schema, a shorter road for its common
    case. The front is exempt from Django's CSRF check, as DRF's views are (DRF checks it for
    session-authenticated requests): a handler must hand every signed-in request to the
    router's view."""
    _api_fronts[route] = handler


def api_fronts() -> list[tuple[str, object]]:
    return [(route, import_string(handler)) for route, handler in sorted(_api_fronts.items())]


def url_modules() -> list[tuple[str, str]]:
    return sorted(_url_modules.items())


def viewsets() -> list[tuple[str, type, str]]:
    return [
        (route.prefix, import_string(route.viewset), route.basename)
        for route in sorted(_viewsets.values(), key=lambda route: route.prefix)
    ]


def register_nav(url_name: str, label, *, audience: str = "everyone", order: int = 100) -> None:
    """Add a link to the site's main navigation (``templates/base.html``)."""
    if audience not in ("everyone", "signed_in", "members", "partners", "co_governors"):
        raise ValueError(f"unknown audience {audience!r}")
    _nav[url_name] = NavLink(url_name, label, audience, order)


def nav_links(user) -> list[NavLink]:
    """The registered links ``user`` should see, in order."""
    from governance.stakeholders.models import Organisation
    from governance.stakeholders.rules import memberships_of

    signed_in = bool(getattr(user, "is_authenticated", False))
    seats = memberships_of(user).values() if signed_in else ()
    superuser = signed_in and user.is_superuser
    member = superuser or bool(seats)
    partner = superuser or any(seat.kind == Organisation.Kind.PARTNER for seat in seats)
    co_governor = partner or any(seat.kind == Organisation.Kind.DEPARTMENT for seat in seats)
    shown = {
        "everyone": True,
        "signed_in": signed_in,
        "members": member,
        "partners": partner,
        "co_governors": co_governor,
    }
    return sorted(
        (link for link in _nav.values() if shown[link.audience]),
        key=lambda link: (link.order, link.url_name),
    )


def register_page_action(
    page: str, url_name: str, label, *, param: str, order: int = 100, extra: dict | None = None
) -> None:
    """Offer a link on the ``page`` ("service" or "station") pages."""
    _page_actions[(page, url_name)] = PageAction(
        page, url_name, label, param, order, tuple((extra or {}).items())
    )


def page_actions(page: str) -> list[PageAction]:
    return sorted(
        (action for action in _page_actions.values() if action.page == page),
        key=lambda action: (action.order, action.url_name),
    )
