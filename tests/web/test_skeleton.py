"""The web skeleton: pages render in zh-CN and en behind the security headers, in a browser."""

from __future__ import annotations

from typing import Any

import pytest

from pulsecrm.web.security import CSP


def _assert_security_headers(headers: Any) -> None:
    assert headers["content-security-policy"] == CSP
    assert headers["x-frame-options"] == "DENY"
    assert headers["referrer-policy"] == "no-referrer"
    assert headers["x-content-type-options"] == "nosniff"
    assert "camera=()" in headers["permissions-policy"]


@pytest.mark.xdist_group("browser")
def test_page_loads_in_a_browser_with_security_headers(
    live_server: str, page: Any, shot: Any
) -> None:
    response = page.goto(f"{live_server}/p/")
    assert response is not None and response.status == 200
    _assert_security_headers(response.headers)
    assert "strict-transport-security" not in response.headers  # plain HTTP on loopback
    assert page.locator("html").get_attribute("lang") == "zh-CN"
    assert page.get_by_role("heading", level=1).inner_text() == "隐私中心"
    # Static assets are served from our origin and none is blocked by the CSP.
    css = page.evaluate("getComputedStyle(document.body).fontFamily")
    assert "system-ui" in css
    assert page.evaluate("typeof window.htmx") == "object"
    assert not [m for m in page.console_messages if "Content Security Policy" in m]
    path = shot(page, "home")
    assert path.stat().st_size > 1000


def test_headers_on_api_and_static_too(client: Any) -> None:
    for url in ("/p/", "/static/pulse.css", "/api/v1/notices/current/zh-CN", "/p/nowhere"):
        _assert_security_headers(client.get(url).headers)


def test_hsts_only_over_tls(client: Any) -> None:
    assert "strict-transport-security" not in client.get("/p/").headers
    secure = client.get("https://testserver/p/")
    assert secure.headers["strict-transport-security"].startswith("max-age=")
    # A proxy's X-Forwarded-Proto is ignored unless PULSECRM_BEHIND_TLS says to trust it.
    proxied = client.get("/p/", headers={"x-forwarded-proto": "https"})
    assert "strict-transport-security" not in proxied.headers


def test_trusted_proxy_tls(monkeypatch: pytest.MonkeyPatch, installed: Any, app: Any) -> None:
    from starlette.testclient import TestClient

    from pulsecrm.web.app import create_web_app

    monkeypatch.setenv("PULSECRM_BEHIND_TLS", "true")
    with TestClient(create_web_app(installed, kernel=app)) as c:
        response = c.get("/p/", headers={"x-forwarded-proto": "https"})
    assert response.headers["strict-transport-security"].startswith("max-age=")
    assert "Secure" in response.headers["set-cookie"]


def test_unknown_page_is_a_friendly_404_in_the_users_language(client: Any) -> None:
    response = client.get("/p/nowhere", headers={"accept-language": "en-US,en;q=0.9"})
    assert response.status_code == 404
    assert "text/html" in response.headers["content-type"]
    assert "Page not found" in response.text and "Traceback" not in response.text
    assert client.get("/p/nowhere").text.count("页面不存在") >= 1
    # The API keeps its JSON errors.
    api = client.get("/api/v1/nowhere")
    assert api.status_code == 404 and api.json()["error"]["code"] == "not_found"


def test_locale_from_query_then_cookie_then_header(client: Any) -> None:
    assert 'lang="zh-CN"' in client.get("/p/").text
    assert 'lang="en"' in client.get("/p/", headers={"accept-language": "en"}).text
    chosen = client.get("/p/?lang=en")
    assert 'lang="en"' in chosen.text and "lang=en" in chosen.headers["set-cookie"]
    # The cookie now wins over a zh Accept-Language; an explicit ?lang= wins over both.
    assert 'lang="en"' in client.get("/p/", headers={"accept-language": "zh-CN"}).text
    assert 'lang="zh-CN"' in client.get("/p/?lang=zh-CN").text


def test_an_unexpected_error_on_a_page_is_a_friendly_503_and_json_on_the_api(
    web_app: Any,
) -> None:
    from fastapi import APIRouter
    from starlette.testclient import TestClient

    router = APIRouter()

    @router.get("/p/_boom")
    @router.get("/api/v1/_boom")
    def boom() -> None:
        raise RuntimeError("a bug")

    web_app.include_router(router)
    with TestClient(web_app, raise_server_exceptions=False) as c:
        page = c.get("/p/_boom")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert "暂时无法完成" in page.text and "RuntimeError" not in page.text
        _assert_security_headers(page.headers)
        api = c.get("/api/v1/_boom", headers={"accept-language": "en"})
        assert api.status_code == 503 and api.json()["error"]["code"] == "unavailable"
