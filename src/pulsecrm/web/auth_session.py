"""The staff session in the web layer: cookie, route class and the ``current_staff`` dependency.

Every staff page depends on :func:`current_staff`, which resolves the session
cookie through ``access.login.current_session`` — idle and absolute timeouts
(H3), MFA for roles that can reveal personal data (H2). Routes are built with
:class:`StaffRoute`, which turns "no session" into a redirect to the login
page and "second factor missing" into a redirect to the MFA page (or a 401
with ``HX-Redirect`` for htmx requests), so no staff page can forget either.

The session cookie is ``HttpOnly``, ``SameSite=Strict`` and ``Secure`` behind
TLS; it has no ``Max-Age`` (it dies with the browser) and holds only a random
id — the server keeps the session.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from fastapi import Request
from fastapi.routing import APIRoute
from starlette.responses import RedirectResponse, Response

from pulsecrm.access import login, sessions
from pulsecrm.access.config import AuthConfig
from pulsecrm.access.errors import SecondFactorRequired, SessionRequired
from pulsecrm.access.sessions import SessionInfo
from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.errors import locale_of
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.web import i18n
from pulsecrm.web.security import request_is_tls, require_csrf

COOKIE = "pulse_session"
LOGIN_PATH = "/staff/login"
MFA_PATH = "/staff/mfa"


@dataclass(frozen=True)
class Staff:
    """The signed-in staff member of this request."""

    session: SessionInfo
    raw: str
    locale: str

    @property
    def username(self) -> str:
        return self.session.username

    @property
    def role(self) -> str:
        return self.session.role

    @property
    def tenant_id(self) -> int:
        return self.session.tenant_id

    @property
    def principal(self) -> StaffPrincipal:
        return StaffPrincipal(self.username, self.role, self.tenant_id, self.locale)

    def context(self, purpose: str, channel: str | None = None) -> AccessContext:
        return AccessContext(
            self.username, self.role, self.tenant_id, purpose, channel, self.locale
        )


def auth_config(request: Request) -> AuthConfig:
    """The app's login policy (``app.state.auth_config``; read from the environment once)."""
    config: AuthConfig | None = getattr(request.app.state, "auth_config", None)
    if config is None:
        config = AuthConfig()
        request.app.state.auth_config = config
    return config


def kernel_of(request: Request) -> Kernel:
    kernel: Kernel = request.app.state.kernel
    return kernel


def client_ip(request: Request) -> str | None:
    return request.client.host if request.client else None


def bind_session(request: Request, raw: str | None = None) -> None:
    """Bind this request's CSRF tokens to the session cookie it carries (see ``web.security``).

    The binding is the cookie's digest, valid session or not, so a form and its
    POST always agree; a new cookie (login, MFA) means new forms.
    """
    raw = raw if raw is not None else request.cookies.get(COOKIE)
    request.state.session_id = sessions.digest(raw).hex()[:32] if raw else None


def _resolve(request: Request, *, need_mfa: bool) -> Staff:
    raw = request.cookies.get(COOKIE)
    bind_session(request, raw)
    info = login.current_session(
        kernel_of(request), raw, config=auth_config(request), need_mfa=need_mfa
    )
    return Staff(info, str(raw), i18n.negotiate(request))


def current_staff(request: Request) -> Staff:
    """A signed-in staff member with every factor their role needs (H2, H3)."""
    return _resolve(request, need_mfa=True)


async def staff_form(request: Request) -> Staff:
    """For state-changing forms: the signed-in staff member, then a valid CSRF token."""
    staff = _resolve(request, need_mfa=True)
    await require_csrf(request)
    return staff


async def pending_form(request: Request) -> Staff:
    staff = _resolve(request, need_mfa=False)
    await require_csrf(request)
    return staff


async def anonymous_form(request: Request) -> None:
    """Login and logout forms: CSRF bound to whatever session cookie is present."""
    bind_session(request)
    await require_csrf(request)


def pending_staff(request: Request) -> Staff:
    """A signed-in staff member who may still owe the second factor (the MFA pages)."""
    return _resolve(request, need_mfa=False)


def set_session_cookie(request: Request, response: Response, raw: str) -> None:
    response.set_cookie(
        COOKIE,
        raw,
        httponly=True,
        samesite="strict",
        secure=request_is_tls(request),
        path="/",
    )


def clear_session_cookie(request: Request, response: Response) -> None:
    response.delete_cookie(
        COOKIE, path="/", httponly=True, samesite="strict", secure=request_is_tls(request)
    )


def _redirect(request: Request, target: str, reason: str | None = None) -> Response:
    if request.headers.get("hx-request"):
        response: Response = Response(status_code=401, headers={"HX-Redirect": target})
    else:
        response = RedirectResponse(target, status_code=303)
    if reason and target.startswith(LOGIN_PATH):
        clear_session_cookie(request, response)
    return response


class StaffRoute(APIRoute):
    """An ``APIRoute`` whose missing session / second factor becomes a redirect, not an error."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def guarded(request: Request) -> Response:
            try:
                return await handler(request)
            except SessionRequired as exc:
                path = request.url.path
                back = f"?next={quote(path)}" if request.method == "GET" else ""
                if exc.detail in ("idle", "lifetime"):
                    back += ("&" if back else "?") + "expired=1"
                return _redirect(request, LOGIN_PATH + back, exc.detail or "none")
            except SecondFactorRequired:
                return _redirect(request, MFA_PATH)

        return guarded


def safe_next(target: str | None) -> str:
    """Only same-site staff paths are followed after login (no open redirect)."""
    if target and target.startswith("/staff/") and not target.startswith("//"):
        return target
    return "/staff/"


__all__ = [
    "COOKIE",
    "Staff",
    "StaffRoute",
    "auth_config",
    "client_ip",
    "current_staff",
    "locale_of",
    "pending_staff",
]
