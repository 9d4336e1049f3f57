"""Render every error once, as ``{"error": {"code", "field", "rule", "message"}}``.

The message is in the caller's language (``Accept-Language``: en, otherwise
zh-CN). Kernel and consent errors carry their own status (``http_status``);
request validation names the offending field; and a last-resort handler turns
anything unexpected into a logged, generic 503 — never a 500 with a trace.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pulsecrm.api.nul_guard import NulGuard
from pulsecrm.consent.errors import ConsentError
from pulsecrm.kernel.errors import AccessDenied, InvalidValue, KernelError, UnknownPurpose

log = logging.getLogger("pulsecrm.api")

_GENERIC = {
    400: ("bad_request", "请求无效", "bad request"),
    401: ("unauthorised", "需要有效的访问令牌", "a valid API token is required"),
    403: ("forbidden", "禁止访问", "forbidden"),
    404: ("not_found", "未找到", "not found"),
    405: ("method_not_allowed", "不支持该请求方法", "method not allowed"),
    415: ("unsupported_media_type", "不支持的内容类型", "unsupported media type"),
    422: ("invalid_request", "请求内容无效", "invalid request"),
}


def locale_of(request: Request) -> str:
    header = request.headers.get("accept-language", "")
    first = header.split(",")[0].strip().lower()
    return "en" if first.startswith("en") else "zh-CN"


def error_body(code: str, field: str | None, rule: str | None, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "field": field, "rule": rule, "message": message}}


def _status(exc: KernelError) -> int:
    explicit = getattr(exc, "http_status", None)
    if isinstance(explicit, int):
        return explicit
    if isinstance(exc, AccessDenied):
        return 403
    if isinstance(exc, InvalidValue | UnknownPurpose):
        return 422
    return 400


async def kernel_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, KernelError)
    locale = locale_of(request)
    if isinstance(exc, ConsentError):
        field, rule = exc.field, exc.rule
    elif isinstance(exc, InvalidValue):
        field, rule = exc.field, exc.code
    else:
        field, rule = None, exc.code
    return JSONResponse(
        error_body(exc.code, field, rule, exc.message(locale)), status_code=_status(exc)
    )


async def validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    locale = locale_of(request)
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "type": "invalid", "msg": "invalid"}
    field = ".".join(str(p) for p in first.get("loc", ()) if p not in ("body",)) or "body"
    rule = str(first.get("type", "invalid"))
    head = "invalid value" if locale == "en" else "字段值无效"
    return JSONResponse(
        error_body("invalid_request", field, rule, f"{field}: {head} ({first.get('msg', '')})"),
        status_code=422,
    )


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code, zh, en = _GENERIC.get(exc.status_code, ("error", "请求失败", "request failed"))
    message = en if locale_of(request) == "en" else zh
    return JSONResponse(
        error_body(code, None, code, message),
        status_code=exc.status_code if exc.status_code < 500 else 503,
        headers=getattr(exc, "headers", None),
    )


def install(app: FastAPI) -> None:
    app.add_middleware(NulGuard)
    app.add_exception_handler(KernelError, kernel_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(StarletteHTTPException, http_error)

    @app.middleware("http")
    async def last_resort(request: Request, call_next: Any) -> Any:
        try:
            return await call_next(request)
        except Exception:  # the one place an unexpected error is swallowed — logged
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            en = locale_of(request) == "en"
            return JSONResponse(
                error_body(
                    "unavailable",
                    None,
                    "internal",
                    "the request could not be completed; nothing was changed"
                    if en
                    else "请求未能完成，未做任何更改",
                ),
                status_code=503,
            )
