"""Browser journeys in real Chromium (Debian's package), driven by Playwright's sync API.

Playwright never downloads a browser here: it launches ``/usr/bin/chromium``. The site runs in
pytest-django's ``live_server`` against the test database. Each journey saves screenshots under
``artifacts/e2e/`` (CI prints the folder); a failing journey also saves the page's HTML and the
browser console there. Every page a journey looks at is checked with axe-core.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

# Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
# between browser steps are still ordinary synchronous code.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = os.environ.get("GONGZHI_CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts" / "e2e"
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--disable-quic",
]
PHONE = {
    "viewport": {"width": 390, "height": 844},
    "device_scale_factor": 2,
    "is_mobile": True,
    "has_touch": True,
}


def pytest_collection_modifyitems(config, items):
    if shutil.which(CHROMIUM) or Path(CHROMIUM).exists():
        return
    from tests.conftest import REQUIRE_SERVICES

    for item in items:
        if "tests/e2e/" not in str(item.fspath):
            continue
        if REQUIRE_SERVICES:
            item.add_marker(pytest.mark.xfail(reason="Chromium missing", strict=True, run=False))
        else:
            item.add_marker(pytest.mark.skip(reason=f"needs Chromium at {CHROMIUM}"))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": CHROMIUM_FLAGS,
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return {**browser_context_args, **PHONE, "locale": "zh-CN", "timezone_id": "Asia/Shanghai"}


class Journey:
    """A page plus the habits every journey shares: screenshots, console capture, axe checks."""

    def __init__(self, page, base_url: str, name: str):
        self.page = page
        self.base_url = base_url
        self.name = name
        self.folder = ARTIFACTS / name
        shutil.rmtree(self.folder, ignore_errors=True)
        self.folder.mkdir(parents=True)
        self.console: list[str] = []
        self.step = 0
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        page.on("response", self._record_broken_subresource)

    def _record_broken_subresource(self, response) -> None:
        # The document's own status is the journey's business (a 404 page may be the point);
        # a broken stylesheet, script or image never is.
        if response.status >= 400 and response.request.resource_type != "document":
            self.console.append(f"error: {response.status} {response.url}")

    def goto(self, path: str):
        response = self.page.goto(self.base_url + path)
        assert response is not None, path
        assert response.status < 500, f"{path}: {response.status}"
        return response

    def shot(self, label: str) -> Path:
        self.step += 1
        safe = re.sub(r"[^a-z0-9_-]+", "-", label.lower()).strip("-")
        path = self.folder / f"{self.step:02d}-{safe}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path

    def check_accessibility(self, label: str = "page") -> None:
        """axe-core on the current page: no serious or critical violations."""
        from axe_playwright_python.sync_playwright import Axe

        results = Axe().run(self.page)
        bad = [
            violation
            for violation in results.response["violations"]
            if violation.get("impact") in {"serious", "critical"}
        ]
        if bad:
            (self.folder / f"axe-{label}.txt").write_text(
                results.generate_report(), encoding="utf-8"
            )
        assert not bad, "axe: " + "; ".join(
            f"{v['id']} ({v['impact']}): {v['help']} × {len(v['nodes'])}" for v in bad
        )

    def look(self, label: str) -> None:
        """Screenshot, accessibility check and no script errors: what every visited page gets."""
        self.shot(label)
        self.check_accessibility(label)
        self.assert_no_script_errors()

    def assert_no_script_errors(self) -> None:
        errors = [
            line
            for line in self.console
            if line.startswith(("error", "pageerror")) and "Failed to load resource" not in line
        ]
        assert not errors, "browser console: " + " | ".join(errors)


@pytest.fixture
def journey(request, page, live_server, transactional_db):
    page.set_default_timeout(15_000)
    name = re.sub(r"[^a-z0-9_-]+", "-", request.node.name.lower())
    trip = Journey(page, live_server.url, name)
    yield trip
    failed = any(
        getattr(getattr(request.node, f"report_{when}", None), "failed", False)
        for when in ("setup", "call")
    )
    if failed:
        try:
            (trip.folder / "failure.html").write_text(page.content(), encoding="utf-8")
            page.screenshot(path=str(trip.folder / "failure.png"), full_page=True)
        except Exception as exc:  # the page may be gone; keep the console anyway
            trip.console.append(f"(could not save the page: {exc})")
        (trip.folder / "console.log").write_text("\n".join(trip.console), encoding="utf-8")


def totp_code(secret: str) -> str:
    """The current code, never one about to expire: a code read in the last seconds of its
    30-second window could reach the server after the window turned, and be refused."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    left = 30 - time.time() % 30
    if left < 5:
        time.sleep(left + 0.1)
    return format_hotp_value(hotp_value(secret, int(time.time()) // 30))
