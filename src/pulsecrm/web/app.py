"""``create_web_app(settings)``: the API plus the server-rendered pages, behind the security layer.

One process serves ``/api/v1`` (JSON), the patient pages (``/p/...``), the
staff console and ``/static``. Page routers register themselves by being listed
in ``PATIENT_ROUTERS`` or ``STAFF_ROUTERS``. Errors on a page render as an
HTML page in the visitor's language with the right 4xx status; errors under
``/api`` keep the API's JSON body. Run with
``uvicorn --factory pulsecrm.web.app:app_from_env``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pulsecrm.api import errors as api_errors
from pulsecrm.api.app import create_app
from pulsecrm.consent.errors import LinkInvalid
from pulsecrm.kernel.errors import KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.settings import Settings
from pulsecrm.web import (
    auth_routes,
    patient_routes,
    staff_dashboard,
    staff_emergency,
    staff_marketing,
    staff_people,
    staff_privacy,
    staff_work,
)
from pulsecrm.web.security import CsrfRejected, SecurityHeaders, behind_tls_from_env
from pulsecrm.web.templating import render

STATIC_DIR = Path(__file__).parent / "static"

PATIENT_ROUTERS: list[APIRouter] = [patient_routes.router]
STAFF_ROUTERS: list[APIRouter] = [
    auth_routes.router,
    staff_dashboard.router,
    staff_people.router,
    staff_work.router,
    staff_privacy.router,
    staff_emergency.router,
    staff_marketing.router,
]
JSON_PREFIXES = ("/api/", "/.well-known/")
log = logging.getLogger("pulsecrm.web")


def _wants_json(request: Request) -> bool:
    return request.url.path.startswith(JSON_PREFIXES)


def _error_page(request: Request, status: int, kind: str, detail: str | None = None) -> Response:
    return render(request, "error.html", {"kind": kind, "detail": detail}, status_code=status)


async def _kernel_error(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return await api_errors.kernel_error(request, exc)
    assert isinstance(exc, KernelError)
    if isinstance(exc, LinkInvalid):
        # Expired: 410 Gone (it was valid once); forged, altered or misused: 403.
        expired = "expired" in exc.rule_en
        return render(request, "patient/link_invalid.html", {}, status_code=410 if expired else 403)
    status = api_errors._status(exc)
    locale = api_errors.locale_of(request)
    return _error_page(request, status, "invalid", exc.message(locale))


async def _validation_error(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return await api_errors.validation_error(request, exc)
    return _error_page(request, 422, "invalid")


async def _http_error(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return await api_errors.http_error(request, exc)
    assert isinstance(exc, StarletteHTTPException)
    status = exc.status_code if exc.status_code < 500 else 503
    kind = {404: "not_found", 405: "not_found", 403: "forbidden"}.get(status, "invalid")
    return _error_page(request, status, kind)


async def _csrf_error(request: Request, exc: Exception) -> Response:
    return _error_page(request, 403, "csrf")


class PageErrors:
    """Innermost ASGI layer: an unexpected error on a page becomes a logged HTML 503.

    The API's last-resort handler answers JSON; a patient or a clinician on a page
    gets the same promise ("nothing was changed") as a page in their language.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("path", "").startswith(JSON_PREFIXES):
            await self.app(scope, receive, send)
            return
        started = False

        async def watch(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, watch)
        except Exception:
            log.exception("unhandled error on page %s", scope.get("path"))
            if started:
                raise
            response = _error_page(Request(scope), 503, "unavailable")
            await response(scope, receive, send)


def create_web_app(settings: Settings, *, kernel: Kernel | None = None, **api: Any) -> FastAPI:
    """The whole web app; pass ``kernel`` to share one (it is then not closed by the app)."""
    app = create_app(settings, kernel=kernel, **api)
    app.title = "PulseCRM"
    app.state.behind_tls = behind_tls_from_env()
    app.state.session_resolver = None
    app.add_exception_handler(KernelError, _kernel_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(CsrfRejected, _csrf_error)
    for router in [*PATIENT_ROUTERS, *STAFF_ROUTERS]:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(SecurityHeaders, behind_tls=app.state.behind_tls)
    app.user_middleware.append(Middleware(PageErrors))  # innermost: inside the API's handler
    return app


def app_from_env() -> FastAPI:
    return create_web_app(Settings())
