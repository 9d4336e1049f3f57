"""CSRF: a form POST needs the signed token of this browser (cookie) or this session."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, FastAPI, Request
from starlette.responses import PlainTextResponse
from starlette.testclient import TestClient

from pulsecrm.web.security import CSRF_COOKIE, csrf_token, require_csrf


def _probe(web_app: FastAPI) -> None:
    router = APIRouter()

    @router.get("/p/_probe")
    def form(request: Request) -> PlainTextResponse:
        return PlainTextResponse(csrf_token(request))

    @router.post("/p/_probe", dependencies=[Depends(require_csrf)])
    def post() -> PlainTextResponse:
        return PlainTextResponse("accepted")

    web_app.include_router(router)


def test_form_post_needs_the_token_of_this_browser(web_app: FastAPI) -> None:
    _probe(web_app)
    with TestClient(web_app) as browser, TestClient(web_app) as attacker:
        first = browser.get("/p/_probe")
        assert CSRF_COOKIE in first.cookies and "HttpOnly" in first.headers["set-cookie"]
        assert "SameSite=Lax" in first.headers["set-cookie"]
        token = first.text
        assert browser.post("/p/_probe", data={"csrf_token": token}).text == "accepted"
        assert browser.post("/p/_probe", headers={"x-csrf-token": token}).text == "accepted"
        # No token, a forged one, or a token replayed from another browser: refused, 403 page.
        missing = browser.post("/p/_probe", data={})
        assert missing.status_code == 403 and "text/html" in missing.headers["content-type"]
        assert browser.post("/p/_probe", data={"csrf_token": "x.y"}).status_code == 403
        attacker.get("/p/_probe")
        assert attacker.post("/p/_probe", data={"csrf_token": token}).status_code == 403


def test_token_is_bound_to_the_session_when_there_is_one(web_app: FastAPI) -> None:
    _probe(web_app)
    sessions = {"alice": "sess-a", "bob": "sess-b"}
    web_app.state.session_resolver = lambda request: sessions.get(request.headers.get("x-user", ""))
    with TestClient(web_app) as c:
        alice = c.get("/p/_probe", headers={"x-user": "alice"}).text
        ok = c.post("/p/_probe", data={"csrf_token": alice}, headers={"x-user": "alice"})
        assert ok.text == "accepted"
        stolen = c.post("/p/_probe", data={"csrf_token": alice}, headers={"x-user": "bob"})
        assert stolen.status_code == 403


def test_token_in_every_rendered_form_context(client: Any) -> None:
    # render() issues the CSRF cookie with the first page, so a form can post right away.
    assert CSRF_COOKIE in client.get("/p/").cookies
