"""Web fixtures: a live server on loopback, Debian's Chromium through Playwright, screenshots.

- ``app`` / ``clinic`` / ``publish`` …: the DB fixtures, re-exported (each test runs on
  SQLite and PostgreSQL through ``backend``).
- ``web_app``: ``create_web_app(settings, kernel=app)`` for in-process requests
  (``client`` wraps it in a Starlette ``TestClient``).
- ``live_server``: uvicorn serving that app in a background thread on 127.0.0.1 and a
  free port; yields the base URL; stops cleanly.
- ``browser``: one headless Chromium per worker (``/usr/bin/chromium``; skipped locally
  when absent, a failure when ``CI=true``).
- ``page``: a fresh context per test — locale zh-CN and a phone viewport (390x844)
  unless the test is marked ``@pytest.mark.browser_context(locale="en", ...)``.
- ``shot(page, name)``: saves ``test-artifacts/screenshots/<test>-<name>.png``.

Browser tests carry ``@pytest.mark.xdist_group("browser")`` so they share a worker.
"""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO_ROOT
from tests.crm.conftest import app, clinic  # noqa: F401  (re-exported fixtures)

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "browser_context(**kwargs): Playwright new_context() options for `page`"
    )


@pytest.fixture
def web_app(app: Any, installed: Any) -> Any:  # noqa: F811
    from pulsecrm.web.app import create_web_app

    return create_web_app(installed, kernel=app)


@pytest.fixture
def client(web_app: Any) -> Iterator[Any]:
    from starlette.testclient import TestClient

    with TestClient(web_app, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def live_server(web_app: Any) -> Iterator[str]:
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        web_app,
        host="127.0.0.1",
        port=port,
        log_level="warning",
        lifespan="on",
        access_log=False,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=15)
        sock.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() in {"1", "true", "yes"}:
            pytest.fail(f"{CHROMIUM} is required in CI (apt-get install chromium)")
        pytest.skip(f"{CHROMIUM} not installed")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def new_context(browser: Any) -> Iterator[Callable[..., Any]]:
    """``new_context(locale=..., viewport=...)``: extra contexts, all closed after the test."""
    made: list[Any] = []

    def make(**options: Any) -> Any:
        settings = {"locale": "zh-CN", "viewport": PHONE, **options}
        context = browser.new_context(**settings)
        context.set_default_timeout(10_000)
        made.append(context)
        return context

    yield make
    for context in made:
        context.close()


@pytest.fixture
def page(new_context: Callable[..., Any], request: pytest.FixtureRequest) -> Any:
    marker = request.node.get_closest_marker("browser_context")
    options = dict(marker.kwargs) if marker else {}
    pg = new_context(**options).new_page()
    pg.console_messages = []  # type: ignore[attr-defined]
    pg.on("console", lambda msg: pg.console_messages.append(f"{msg.type}: {msg.text}"))
    return pg


@pytest.fixture
def shot(request: pytest.FixtureRequest) -> Callable[[Any, str], Path]:
    """``shot(page, name)`` → the saved full-page PNG (look at it)."""
    node = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name).strip("_")

    def take(pg: Any, name: str) -> Path:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        path = SCREENSHOTS / f"{node}-{name}.png"
        pg.screenshot(path=str(path), full_page=True)
        return path

    return take


# -- patient-page data: a published notice (zh-CN and en), a capture form, a person -------
FORM_SLUG = "dental-consult"


def notice_en() -> dict[str, Any]:
    from tests.consent.conftest import notice_doc

    doc = notice_doc(locale="en", label="2026-11-en")
    doc["handler"] = {"name": "Example Dental Clinic", "contact": "1 Example Rd, Shanghai"}
    doc["retention"] = "3 years after your last visit"
    doc["rights"] = "Withdraw on the preferences page or reply TD; write to privacy@clinic.example."
    texts = {
        "service.appointment": "To arrange and remind you of appointments.",
        "marketing.sms": "With your consent, offers by text message; reply TD to stop.",
        "marketing.email": "With your consent, offers by e-mail; one-click unsubscribe.",
        "marketing.personalized_health": "Offers based on your visits and answers.",
        "sharing.partner": "Giving your details to a partner clinic you choose.",
    }
    for purpose in doc["purposes"]:
        purpose["text"] = texts.get(purpose["id"], purpose["text"])
    return doc


@pytest.fixture
def notices(app: Any) -> dict[str, str]:  # noqa: F811
    """The current notice in zh-CN and en; returns locale → version hash."""
    from tests.consent.conftest import publish

    return {"zh-CN": publish(app), "en": publish(app, notice_en())}


@pytest.fixture
def capture_form(app: Any, notices: dict[str, str]) -> str:  # noqa: F811
    from pulsecrm.crm import forms

    form = forms.FormDefinition(
        slug=FORM_SLUG,
        title="口腔咨询预约",
        purposes=[
            "service.appointment",
            "marketing.sms",
            "marketing.email",
            "marketing.personalized_health",
            "sharing.partner",
        ],
        fields=["name", "phone", "email", "questionnaire_answers"],
    )
    with app.engine.begin() as conn:
        forms.define_form(conn=conn, catalog=app.catalog, tenant_id=app.tenant_id(), form=form)
    return FORM_SLUG


@pytest.fixture
def person(app: Any, notices: dict[str, str]) -> str:  # noqa: F811
    from tests.consent.conftest import add_person

    return add_person(app, "13800138000", email="xm@example.com")


@pytest.fixture
def prefs_token(app: Any, person: str) -> str:  # noqa: F811
    from pulsecrm.consent.tokens import make_link_token

    return make_link_token(app, app.tenant_id(), person)
