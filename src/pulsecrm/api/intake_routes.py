"""Capture-form submissions (public and staff reads) and the person's own tags.

* ``GET /api/v1/public/forms/{slug}`` — what a capture page shows: the fields,
  the current notice, one unchecked box per optional purpose (B2, D1).
* ``POST /api/v1/public/forms/{slug}`` — one submission: person, lead,
  decisions and sealed health answers stored together, or nothing (see
  ``crm.form_submissions``). Unknown or extra fields → 422 naming them.
* ``GET /api/v1/people/{person_id}/submissions`` — staff, through the kernel.
* ``GET|DELETE /api/v1/preferences/{token}/tags[/{tag_id}]`` — the person
  lists and deletes their own tags from the signed preference link (C4).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request
from pydantic import Field, StrictBool
from starlette.concurrency import run_in_threadpool

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.crm_routes import ID, Id, StrictBody, unit_of_work
from pulsecrm.api.deps import client_ip, get_kernel, staff
from pulsecrm.api.errors import locale_of
from pulsecrm.consent.errors import LinkInvalid
from pulsecrm.consent.tokens import PREFS, read_link_token
from pulsecrm.crm import form_submissions, forms, lead_service, tag_service
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(tags=["forms"])
Slug = Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$")]
NAME = r"^[a-z0-9_.]{1,64}$"


class DecisionIn(StrictBody):
    purpose: str = Field(pattern=NAME)
    granted: StrictBool
    channel: str | None = Field(default=None, pattern=r"^[a-z_]{1,16}$")


class SubmissionIn(StrictBody):
    values: dict[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")], Any] = Field(max_length=40)
    decisions: list[DecisionIn] = Field(default_factory=list, max_length=20)
    notice_hash: str | None = Field(default=None, pattern=r"^[0-9a-f]{64}$")
    branch_id: str | None = Field(default=None, pattern=ID)
    campaign: str | None = Field(default=None, max_length=100)
    utm_source: str | None = Field(default=None, max_length=100)
    utm_medium: str | None = Field(default=None, max_length=100)
    utm_campaign: str | None = Field(default=None, max_length=100)


@router.get("/api/v1/public/forms/{slug}")
def render_public_form(slug: Slug, request: Request) -> dict[str, Any]:
    kernel = get_kernel(request)
    with read_connection(kernel.engine) as conn, conn.begin():
        return forms.render_form(
            conn=conn,
            catalog=kernel.catalog,
            tenant_id=kernel.tenant_id(),
            slug=slug,
            locale=locale_of(request),
        )


@router.post("/api/v1/public/forms/{slug}", status_code=201)
async def submit_public_form(slug: Slug, body: SubmissionIn, request: Request) -> dict[str, Any]:
    kernel = get_kernel(request)
    locale = locale_of(request)
    sub = form_submissions.SubmittedForm(
        slug=slug,
        values=body.values,
        decisions=[
            form_submissions.FormDecision(d.purpose, d.granted, d.channel) for d in body.decisions
        ],
        notice_hash=body.notice_hash,
        branch_id=body.branch_id,
        ip=client_ip(request),
        user_agent=request.headers.get("user-agent"),
        locale=locale,
    )
    if body.campaign or body.utm_source or body.utm_medium or body.utm_campaign:
        sub = _with_attribution(kernel, sub, body)

    def store() -> form_submissions.StoredSubmission:
        with kernel.engine.begin() as conn:
            return form_submissions.submit_form(
                conn, kernel, tenant_id=kernel.tenant_id(), actor=f"form:{slug}", sub=sub
            )

    stored = await run_in_threadpool(store)
    return {
        "submission_id": stored.submission_id,
        "lead_id": stored.lead_id,
        "consent_events": stored.consent_events,
    }


def _with_attribution(
    kernel: Kernel, sub: form_submissions.SubmittedForm, body: SubmissionIn
) -> form_submissions.SubmittedForm:
    with read_connection(kernel.engine) as conn, conn.begin():
        form = forms.load_form(conn=conn, tenant_id=kernel.tenant_id(), slug=sub.slug)
    attribution = lead_service.Attribution(
        form.channel, body.campaign, body.utm_source, body.utm_medium, body.utm_campaign
    )
    return form_submissions.SubmittedForm(**{**sub.__dict__, "attribution": attribution})


@router.get("/api/v1/people/{person_id}/submissions")
def person_submissions(
    person_id: Id,
    reveal: bool = False,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> list[dict[str, Any]]:
    """Answers masked unless revealed; roles without the health category get none (D2)."""
    ctx = principal.context(form_submissions.INTAKE_PURPOSE)
    with unit_of_work(kernel, principal, False) as (conn, scope):
        lead_service.require_person(conn=conn, tenant_id=scope.tenant_id, person_id=person_id)
        return form_submissions.list_submissions(
            conn, kernel, ctx, person_id=person_id, reveal=reveal
        )


def _person_of(kernel: Kernel, token: str) -> tuple[int, str]:
    claims = read_link_token(kernel, token)
    if claims.scope != PREFS:
        raise LinkInvalid("token", "this link is for another action", "此链接不适用于该操作")
    return claims.tenant_id, claims.person_id


@router.get("/api/v1/preferences/{token}/tags")
def my_tags(token: str, request: Request) -> list[dict[str, Any]]:
    """The person's own tags, derived ones marked, so they can see how they are profiled."""
    kernel = get_kernel(request)
    tenant_id, person_id = _person_of(kernel, token)
    with read_connection(kernel.engine) as conn, conn.begin():
        return tag_service.list_tags(conn=conn, tenant_id=tenant_id, person_id=person_id)


@router.delete("/api/v1/preferences/{token}/tags/{tag_id}", status_code=204)
def delete_my_tag(token: str, tag_id: Id, request: Request) -> None:
    """One request, no login: the tag goes and is not derived again for a while (C4)."""
    kernel = get_kernel(request)
    tenant_id, person_id = _person_of(kernel, token)
    with kernel.engine.begin() as conn:
        tag_service.delete_tag(conn=conn, tenant_id=tenant_id, person_id=person_id, tag_id=tag_id)
