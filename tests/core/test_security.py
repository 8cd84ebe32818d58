"""Every URL the resolver knows is either public on purpose or refuses an anonymous visitor;
every page carries the security headers."""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, URLPattern, URLResolver, get_resolver, reverse

# URL names that anonymous visitors may use, each for a reason. A new URL that is not listed
# here must refuse anonymous visitors, or this test fails and asks for a decision.
PUBLIC = {
    "stations:home": "the public catalogue",
    "stations:station": "the public catalogue",
    "stations:service": "the public catalogue",
    "account_login": "signing in",
    "account_logout": "signing out is harmless",
    "admin:logout": "signing out is harmless (GET is refused, POST ends no session)",
    "account_signup": "signing up",
    "account_inactive": "explains an inactive account",
    "account_email_verification_sent": "after signing up",
    "account_confirm_email": "the link in the confirmation mail",
    "account_reset_password": "password reset starts signed out",
    "account_reset_password_done": "password reset starts signed out",
    "account_reset_password_from_key": "the link in the reset mail",
    "account_reset_password_from_key_done": "the link in the reset mail",
    "account_confirm_login_code": "part of signing in",
    "account_request_login_code": "part of signing in",
    "mfa_authenticate": "the second step of signing in",
    "set_language": "anyone may choose a language",
    "api:api-root": "the public read-only API",
    "api:station-list": "the public read-only API",
    "api:station-detail": "the public read-only API",
    "api:service-list": "the public read-only API",
    "api:service-detail": "the public read-only API",
    "api:kpi-list": "public KPIs are open to everyone (others are filtered out)",
    "api:kpi-detail": "public KPIs are open to everyone (others are 404)",
    "api:kpi-measurements": "public KPIs are open to everyone (others are 404)",
    "api:case-list": "public cases are open to everyone (others are filtered out)",
    "api:case-detail": "public cases are open to everyone (others are 404)",
    "api:case-timeline": "a public case's public entries (others are 404)",
    "api:case-attachment": "a public case's public attachments (others are 404)",
    **{
        f"api:case-{action}": "POST only (GET is 405); anonymous POSTs are refused, as "
        "tests/cases/test_api.py checks"
        for action in (
            "assign",
            "attachments",
            "cohandler-assign",
            "cohandler-done",
            "cohandlers",
            "due",
            "follow",
            "note",
            "reply",
            "route",
            "transition",
            "unfollow",
        )
    },
    "api:feedback-visit-rating": "the rating form's data, for whoever holds the signed link",
    "kpis:indicator-csv": "open data: public KPIs are open to everyone (others are 404)",
    "kpis:indicator-json": "open data: public KPIs are open to everyone (others are 404)",
    "kpis:dashboard": "the public KPI dashboard (others' KPIs are filtered out)",
    "kpis:indicator": "public KPIs are open to everyone (others are 404)",
    "kpis:station": "a station's public scorecard",
    "api-schema": "the API's description",
    "api-docs": "the API's description",
    "healthz": "load balancers and monitors",
    "notifications:unsubscribe": "the signed link in every e-mail works without signing in",
    "cases:list": "the public cases (private ones are filtered out)",
    "cases:report": "anyone may report a problem, signed in or not",
    "cases:detail": "a public case is open to everyone (others are 404)",
    "cases:submitted": "the receipt of an anonymous report (no contact, no description)",
    "cases:attachment": "a public case's public attachments (others are 404)",
    "open311:openapi": "Open311 is an open standard: its description",
    "open311:discovery": "Open311 is an open standard: service discovery",
    "open311:services": "Open311: the public service catalogue",
    "open311:service": "Open311: the public service catalogue",
    "open311:requests": "Open311: public cases only; reports need an app's api_key",
    "open311:request": "Open311: public cases only (others are 404)",
    "open311:token": "Open311: public cases only (others are 404)",
    "open311:not-found": "Open311's 404 in the spec's format",
    "feedback:rate": "the counter's QR code: a signed link anyone may use (forged ones are 400)",
    "feedback:new": "anyone may rate a service or send feedback, signed in or not",
    "feedback:thanks": "the receipt of anonymous feedback (nothing of it is shown)",
    "feedback:rerate": "the signed re-rating link in the e-mail (forged ones are 400)",
    "proposals:list": "published proposals are public (drafts are their authors' alone)",
    "proposals:detail": "a published proposal is public (a draft is 404 to others)",
    "proposals:attachment": "a published proposal's attachments (a draft's are 404 to others)",
    "api:proposal-list": "published proposals are public (drafts are their authors' alone)",
    "api:proposal-detail": "a published proposal is public (a draft is 404 to others)",
    "api:proposal-comments": "a published proposal's comments are public; posting needs an account",
    "partners:resources": "the public catalogue of partner resources (others are filtered out)",
    "partners:resource": "a public resource and its week calendar (others are 404; other "
    "organisations' bookings show as taken time only)",
    "partners:resource_photo": "a public resource's photos (others are 404)",
    "partners:pledge": "a live pledge to a public proposal or case is public (others are 404)",
    "partners:invitation": "the e-mailed invitation link, opened before signing in (dead ones 404)",
    "api:partner-resource-list": "the public catalogue of partner resources",
    "api:partner-resource-detail": "a public resource (others are 404)",
    "api:partner-resource-availability": "a public resource's week (others' bookings: time only)",
    "api:partner-resource-photo": "a public resource's photos (others are 404)",
    "api:partner-pledge-list": "live pledges to public proposals and cases are public",
    "api:partner-pledge-detail": "a live pledge to a public proposal or case (others are 404)",
    **{
        f"api:partner-{kind}-{view}": "scoped to the reader's organisations: anonymous readers "
        "get an empty list and 404s (tests/partners/test_api_*.py)"
        for kind, views in (
            ("agreement", ("list", "detail", "document")),
            ("booking", ("list", "detail")),
            ("shift", ("list", "detail")),
            ("training", ("list", "detail", "attendance")),
        )
        for view in views
    },
    **{
        f"api:partner-{action}": "POST/PUT only (GET is 405 or 404); anonymous writes are 401, "
        "as tests/partners/test_api_*.py check"
        for action in (
            "agreement-documents",
            "booking-approve",
            "booking-cancel",
            "booking-decline",
            "pledge-accept",
            "pledge-decline",
            "pledge-deliver",
            "pledge-withdraw",
            "resource-opening-rules",
        )
    },
    **{
        f"api:proposal-{action}": "POST only (GET is 405); anonymous POSTs are refused, as "
        "tests/proposals/test_api*.py check"
        for action in (
            "answer",
            "comment-flag",
            "comment-hide",
            "comment-vote",
            "follow",
            "publish",
            "support",
            "withdraw",
        )
    },
}
SAMPLE = {
    "pk": "1",
    "format": "json",
    "uidb36": "1",
    "key": "abc-def",
    "object_id": "1",
    "app_label": "stations",
    "attachment_id": "1",
    "cohandler_id": "1",
    "comment_id": "1",
    "photo_id": "1",
    "document_id": "1",
}
LOGIN_PATHS = ("/accounts/login/", "/admin/login/")
UNFILLED: list[str] = []


def _walk(patterns, prefix="", namespace=None):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            inner = pattern.namespace or namespace
            if namespace and pattern.namespace:
                inner = f"{namespace}:{pattern.namespace}"
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern), inner)
        elif isinstance(pattern, URLPattern) and pattern.name:
            name = f"{namespace}:{pattern.name}" if namespace else pattern.name
            yield name, pattern


def _kwargs(pattern: URLPattern) -> dict[str, str]:
    names = list(pattern.pattern.regex.groupindex)
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {}
    for name in names:
        converter = converters.get(name)
        if converter is not None and converter.regex == "[0-9]+":
            kwargs[name] = "1"
        else:
            kwargs[name] = SAMPLE.get(name, "x1")
    return kwargs


def resolvable_urls():
    seen = set()
    for name, pattern in _walk(get_resolver().url_patterns):
        try:
            url = reverse(name, kwargs=_kwargs(pattern))
        except NoReverseMatch:
            UNFILLED.append(name)
            continue
        if url not in seen and not re.search(r"\.json/?$|format", url):
            seen.add(url)
            yield name, url


@pytest.mark.django_db
def test_every_non_public_url_refuses_anonymous_visitors(client):
    checked, leaks = 0, []
    for name, url in resolvable_urls():
        if name in PUBLIC:
            continue
        response = client.get(url)
        checked += 1
        refused = response.status_code in {401, 403} or (
            response.status_code == 302 and response["Location"].startswith(LOGIN_PATHS)
        )
        if not refused:
            leaks.append(f"{name} {url} → {response.status_code} {response.get('Location', '')}")
    assert checked > 30  # the admin alone has dozens
    assert not UNFILLED, f"no sample arguments for {UNFILLED}: add them to SAMPLE"
    assert not leaks, "anonymous visitors reach:\n" + "\n".join(leaks)


@pytest.mark.django_db
def test_public_urls_answer_anonymous_visitors_without_server_errors(client):
    for name, url in resolvable_urls():
        if name in PUBLIC:
            assert client.get(url).status_code < 500, name


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/", "/accounts/login/", "/api/v1/services/", "/healthz"])
def test_pages_set_the_security_headers(client, path):
    response = client.get(path)

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    policy = dict(
        part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";")
    )
    assert policy["default-src"] == "'self'"
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert policy["frame-ancestors"] == "'none'"
    assert policy["object-src"] == "'none'"


@pytest.mark.django_db
def test_production_sends_hsts_and_redirects_to_https(settings, client):
    settings.SECURE_HSTS_SECONDS = 31536000
    settings.SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    settings.SECURE_HSTS_PRELOAD = True
    settings.SECURE_SSL_REDIRECT = True

    plain = client.get("/")
    secure = client.get("/", secure=True)

    assert plain.status_code == 301
    assert plain["Location"] == "https://testserver/"
    assert secure["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    # Load balancers probe over plain HTTP.
    assert client.get("/healthz").status_code == 200


def test_templates_carry_no_inline_scripts_or_handlers():
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/(ld\+)?json)", text) or re.search(
            r"\son[a-z]+\s*=", text
        ):
            offenders.append(str(template.relative_to(root)))
    assert not offenders
