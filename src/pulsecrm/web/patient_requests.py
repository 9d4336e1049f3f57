"""The "my data" request form (``/p/requests``, F1) and the page that tracks a request.

Anyone may ask — to see, copy, correct or delete their data, to withdraw, or
for an explanation — without an account. Arriving from their signed preference
link, the request is tied to that person and needs no contact details; anyone
else leaves a phone or e-mail so the clinic can verify who they are before
releasing anything. The request is recorded at once with its legal clock
(``rights.requests``), and the confirmation shows the reference and the date
by which the clinic must answer. The tracking page is reached through a signed
link (no login), showing status and clock — never the details typed.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.concurrency import run_in_threadpool
from starlette.responses import HTMLResponse, RedirectResponse, Response

from pulsecrm.consent.errors import LinkInvalid
from pulsecrm.consent.tokens import LinkClaims, make_link_token, read_link_token
from pulsecrm.kernel.errors import KernelError
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection
from pulsecrm.web import i18n
from pulsecrm.web.patient_common import (
    FieldErrors,
    claims_for,
    error_field,
    form_values,
    page_kernel,
    rule_message,
    subject_context,
)
from pulsecrm.web.security import require_csrf
from pulsecrm.web.templating import render

router = APIRouter(prefix="/p/requests", include_in_schema=False)
TRACK = "dsr:"
TRACK_TTL_DAYS = 120
FIELDS = ["request_type", "name", "phone", "email", "details"]


def _link_claims(request: Request, link: str | None) -> tuple[LinkClaims | None, bool]:
    """The person of a preference link, if one came along; (None, True) when it is invalid."""
    if not link:
        return None, False
    try:
        return claims_for(page_kernel(request), link), False
    except LinkInvalid:
        return None, True


def _form(
    request: Request,
    *,
    link: str | None,
    values: dict[str, str] | None = None,
    errors: FieldErrors | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    claims, link_invalid = _link_claims(request, link)
    chosen = (values or {}).get("request_type") or request.query_params.get("type", "")
    return render(
        request,
        "patient/requests.html",
        {
            "types": rights.REQUEST_TYPES,
            "link": link if claims else None,
            "link_invalid": link_invalid,
            "values": {**(values or {}), "request_type": chosen},
            "errors": errors or FieldErrors(),
        },
        status_code=status_code,
    )


def _intake(values: dict[str, str], claims: LinkClaims | None, locale: str) -> rights.RequestIntake:
    return rights.RequestIntake(
        request_type=values.get("request_type", ""),
        channel="signed_link" if claims else "web_form",
        name=values.get("name"),
        phone=values.get("phone"),
        email=values.get("email"),
        details=values.get("details"),
        person_id=claims.person_id if claims else None,
        locale=locale,
    )


@router.get("", response_class=HTMLResponse)
def request_form(request: Request) -> HTMLResponse:
    return _form(request, link=request.query_params.get("link"))


@router.post("", dependencies=[Depends(require_csrf)])
async def submit(request: Request) -> Response:
    kernel = page_kernel(request)
    locale = i18n.negotiate(request)
    form = await request.form()
    values = form_values(form, FIELDS)
    raw_link = form.get("link")
    link = raw_link if isinstance(raw_link, str) and raw_link else None
    claims, _ = _link_claims(request, link)
    intake = _intake(values, claims, locale)
    errors = FieldErrors()
    for problem in rights.intake_problems(intake):  # every field at once, not one per try
        errors.add(error_field(problem), rule_message(problem, locale))

    def work() -> str:
        tenant_id = claims.tenant_id if claims else kernel.tenant_id()
        person_id = claims.person_id if claims else None
        ctx = subject_context(request, tenant_id, person_id)
        with kernel.engine.begin() as conn:
            view = rights.submit_request(conn, kernel, ctx, intake=intake)
        return make_link_token(
            kernel, tenant_id, person_id or "-", scope=TRACK + view.id, ttl_days=TRACK_TTL_DAYS
        )

    token = ""
    if not errors:
        try:
            token = await run_in_threadpool(work)
        except KernelError as exc:
            errors.add(error_field(exc), rule_message(exc, locale))
    if errors:
        return await run_in_threadpool(
            lambda: _form(request, link=link, values=values, errors=errors, status_code=422)
        )
    return RedirectResponse(f"/p/requests/track/{token}?new=1", status_code=303)


@router.get("/track/{token}", response_class=HTMLResponse)
def track(token: str, request: Request) -> HTMLResponse:
    kernel = page_kernel(request)
    claims = read_link_token(kernel, token)
    if not claims.scope.startswith(TRACK):
        raise LinkInvalid("token", "this link is for another action", "此链接不适用于该操作")
    with read_connection(kernel.engine) as conn, conn.begin():
        view = rights.get_request(
            conn, tenant_id=claims.tenant_id, request_id=claims.scope[len(TRACK) :]
        )
    context: dict[str, Any] = {
        "req": view,
        "clock": view.clock(),
        "is_new": request.query_params.get("new") == "1",
        "track_url": str(request.url.replace(query="")),
    }
    return render(request, "patient/request_status.html", context)
