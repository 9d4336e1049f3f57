"""CRM endpoints for tags (C4), capture forms (D1) and export approvals (H5); staff tasks
and referrals are in ``crm_task_routes``.

Split from ``crm_routes`` (same conventions: thin adapters, bodies forbid
unknown fields, lists paged and scoped by role).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path
from pydantic import Field, StrictInt

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.crm_routes import Id, StrictBody, unit_of_work
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.crm import (
    export_service,
    forms,
    lead_service,
    tag_service,
)
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["crm"])


# -- tags (C4) ----------------------------------------------------------------------------
class TagIn(StrictBody):
    name: str = Field(min_length=1, max_length=64)
    from_health: bool = False


@router.get("/people/{person_id}/tags")
def list_tags(
    person_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> list[dict[str, Any]]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        lead_service.require_person(conn=conn, tenant_id=scope.tenant_id, person_id=person_id)
        return tag_service.list_tags(conn=conn, tenant_id=scope.tenant_id, person_id=person_id)


@router.post("/people/{person_id}/tags", status_code=201)
def add_tag(
    person_id: Id,
    body: TagIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        tag_id = tag_service.tag_person(
            conn=conn,
            kernel=kernel,
            tenant_id=scope.tenant_id,
            person_id=person_id,
            name=body.name,
            from_health=body.from_health,
        )
    return {"id": tag_id}


@router.delete("/people/{person_id}/tags/{tag_id}", status_code=204)
def delete_tag(
    person_id: Id,
    tag_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> None:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        tag_service.delete_tag(
            conn=conn, tenant_id=scope.tenant_id, person_id=person_id, tag_id=tag_id
        )


# -- capture forms (D1) ---------------------------------------------------------------------
class FormIn(StrictBody):
    slug: str = Field(pattern=r"^[a-z0-9-]{1,64}$")
    title: str = Field(min_length=1, max_length=200)
    purposes: list[Annotated[str, Field(pattern=r"^[a-z0-9_.]{1,64}$")]] = Field(
        min_length=1, max_length=10
    )
    fields: list[Annotated[str, Field(pattern=r"^[a-z0-9_]{1,64}$")]] = Field(
        min_length=1, max_length=40
    )
    channel: str = Field(default="web_form", max_length=64)


@router.post("/forms", status_code=201)
def define_form(
    body: FormIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, str]:
    """Refused with the field named when none of the form's purposes needs it (D1)."""
    form = forms.FormDefinition(**body.model_dump())
    with kernel.engine.begin() as conn:
        return {
            "id": forms.define_form(
                conn=conn, catalog=kernel.catalog, tenant_id=principal.tenant_id, form=form
            )
        }


@router.get("/forms/{slug}")
def render_form(
    slug: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$")],
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with read_connection(kernel.engine) as conn, conn.begin():
        return forms.render_form(
            conn=conn,
            catalog=kernel.catalog,
            tenant_id=principal.tenant_id,
            slug=slug,
            locale=principal.locale,
        )


@router.post("/forms/{slug}/check")
def check_submission(
    slug: Annotated[str, Path(pattern=r"^[a-z0-9-]{1,64}$")],
    values: dict[str, Any],
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, bool]:
    """Validate a submission against the form: a field it does not collect → 422 naming it."""
    with read_connection(kernel.engine) as conn, conn.begin():
        form = forms.load_form(conn=conn, tenant_id=principal.tenant_id, slug=slug)
    forms.check_submission(form, values)
    return {"ok": True}


# -- bulk export approval (H5) ------------------------------------------------------------------
class ExportIn(StrictBody):
    purpose: str = Field(pattern=r"^[a-z0-9_.]{1,64}$")
    person_count: StrictInt = Field(ge=0, le=100_000_000)
    filters: dict[str, str] = Field(default_factory=dict)


class DecisionIn(StrictBody):
    approve: bool


@router.post("/exports", status_code=202)
def request_export(
    body: ExportIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    ctx = principal.context(body.purpose)
    threshold = kernel.settings.export_approval_threshold
    with kernel.engine.begin() as conn:
        return export_service.request_export(
            conn=conn,
            kernel=kernel,
            ctx=ctx,
            person_count=body.person_count,
            scope=body.filters,
            threshold=threshold,
        )


@router.post("/exports/{request_id}/decision")
def decide_export(
    request_id: Id,
    body: DecisionIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    ctx = principal.context("compliance.audit")
    with kernel.engine.begin() as conn:
        return {
            "status": export_service.decide(
                conn=conn, kernel=kernel, ctx=ctx, request_id=request_id, approve=body.approve
            )
        }
