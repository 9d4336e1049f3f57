"""One Jinja2 environment for every web page, and ``render`` that fills in what all pages need.

Autoescaping is on for every template (names, free text and anything a person
typed are inert HTML). ``render`` injects the translator ``t``, the ``locale``,
the ``csrf_token`` for forms and the ``request``; when the page was asked for
with ``?lang=`` it also remembers that choice in the ``lang`` cookie.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import HTMLResponse

from pulsecrm.web import i18n
from pulsecrm.web.security import csrf_token, request_is_tls

TEMPLATE_DIR = Path(__file__).parent / "templates"
DISPLAY_TZ = ZoneInfo("Asia/Shanghai")


def _datetime_us(value: int | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """Microseconds UTC → local clinic time (China Standard Time) for display."""
    if value is None:
        return ""
    return datetime.fromtimestamp(value / 1_000_000, UTC).astimezone(DISPLAY_TZ).strftime(fmt)


def _build_env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=select_autoescape(["html", "htm", "xml"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["datetime_us"] = _datetime_us
    env.filters["date_us"] = lambda v: _datetime_us(v, "%Y-%m-%d")
    return env


templates = Jinja2Templates(env=_build_env())


def render(
    request: Request,
    template_name: str,
    context: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    """The page ``template_name`` in the request's language, with a CSRF token for its forms."""
    locale = i18n.negotiate(request)
    t = i18n.translator(locale)
    page: dict[str, Any] = {
        "request": request,
        "t": t,
        # ``t_opt(key)``: the message, or None when the catalog has none (optional hints).
        "t_opt": lambda key, **values: t(key, **values) if i18n.has(locale, key) else None,
        "locale": locale,
        "locales": i18n.LOCALES,
        "csrf_token": csrf_token(request),
        **(context or {}),
    }
    response = templates.TemplateResponse(request, template_name, page, status_code=status_code)
    response.headers["cache-control"] = "no-store"
    chosen = i18n.normalise(request.query_params.get("lang"))
    if chosen and chosen != request.cookies.get(i18n.COOKIE):
        response.set_cookie(
            i18n.COOKIE,
            chosen,
            max_age=365 * 86400,
            httponly=True,
            samesite="lax",
            secure=request_is_tls(request),
        )
    return response
