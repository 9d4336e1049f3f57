"""Follow-ups (回访): templates (create, list, get, edit) and follow-up tasks (list, the
personal work queue, get, reschedule/reassign, complete with an outcome, skip).

Follow-up tasks are created by a deal's template or by completing one with a next
date, never directly; a template is the tenant's shared plan.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictInt

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.crm_routes import (
    ID,
    AccountId,
    Id,
    Limit,
    Offset,
    PatchBody,
    StrictBody,
    Time,
    masked,
    page,
    unit_of_work,
)
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.crm import followup_service
from pulsecrm.kernel.runtime import Kernel

router = APIRouter(prefix="/api/v1", tags=["crm"])
Channel = Literal["phone", "sms", "wechat", "email"]
Offsets = list[Annotated[StrictInt, Field(ge=0, le=3650)]]


class TemplateIn(StrictBody):
    name: str = Field(min_length=1, max_length=100)
    offsets: Offsets = Field(min_length=1, max_length=20)
    channel: Channel = "phone"


class TemplatePatch(PatchBody):
    name: str = Field(default="", min_length=1, max_length=100)
    offsets: Offsets = Field(default_factory=list, min_length=1, max_length=20)
    channel: Channel = "phone"


class OutcomeIn(StrictBody):
    outcome: Literal["reached", "no_answer", "satisfied", "complaint", "rebook"]
    next_due_us: StrictInt | None = Field(default=None, gt=0, lt=2**62)


class FollowupPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        "status": (
            "changes only through POST /api/v1/followups/{id}/complete or /skip",
            "只能通过 POST /api/v1/followups/{id}/complete 或 /skip 变更",
        ),
        "outcome": (
            "recorded by POST /api/v1/followups/{id}/complete",
            "由 POST /api/v1/followups/{id}/complete 记录",
        ),
        "next_due_us": (
            "set by POST /api/v1/followups/{id}/complete; to move this one, change due_us",
            "由 complete 设置；调整本次回访时间请修改 due_us",
        ),
    }
    due_us: StrictInt = Field(default=1, gt=0, lt=2**62)
    owner_id: StrictInt = Field(default=1, ge=1, lt=2**31)


# -- templates ------------------------------------------------------------------------------
@router.post("/followup-templates", status_code=201)
def create_template(
    body: TemplateIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    with unit_of_work(kernel, principal, True) as (conn, _scope):
        return {
            "id": followup_service.create_template(
                conn=conn, tenant_id=principal.tenant_id, **body.model_dump()
            )
        }


@router.get("/followup-templates")
def list_templates(
    channel: Channel | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = followup_service.list_templates(
            conn=conn, tenant_id=scope.tenant_id, channel=channel, limit=limit, offset=offset
        )
    return page(items, total, limit, offset)


@router.get("/followup-templates/{template_id}")
def get_template(
    template_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        return followup_service.get_template(
            conn=conn, tenant_id=scope.tenant_id, template_id=template_id
        )


@router.patch("/followup-templates/{template_id}")
def update_template(
    template_id: Id,
    body: TemplatePatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Rename, change offsets or channel; follow-ups already planned keep their dates."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return followup_service.update_template(
            conn=conn, tenant_id=scope.tenant_id, template_id=template_id, changes=body.changes()
        )


# -- follow-up tasks -------------------------------------------------------------------------
@router.get("/followups")
def list_followups(
    owner_id: AccountId = None,
    status: Literal["open", "done", "skipped"] | None = None,
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    deal_id: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    due_from_us: Time = None,
    due_to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Follow-ups in scope, soonest due first; the due range is ``[from, to)``."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = followup_service.list_followups(
            conn=conn,
            scope=scope,
            owner_id=owner_id,
            status=status,
            person_id=person_id,
            deal_id=deal_id,
            lead_id=lead_id,
            due_from_us=due_from_us,
            due_to_us=due_to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/followups/queue")
def followup_queue(
    principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """Your open follow-ups: overdue, today, upcoming (7 days)."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        queue = followup_service.queue(conn=conn, scope=scope)
    masked(kernel, principal, [row for rows in queue.values() for row in rows])  # in place
    return dict(queue)


@router.get("/followups/{task_id}")
def get_followup(
    task_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = followup_service.get_followup(conn=conn, scope=scope, task_id=task_id)
    return masked(kernel, principal, [found])[0]


@router.patch("/followups/{task_id}")
def update_followup(
    task_id: Id,
    body: FollowupPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Reschedule an open follow-up (``due_us``, in the future) and/or reassign it
    (``owner_id``: yourself, a teammate, or — branch roles — a colleague of the branch)."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = followup_service.update_followup(
            conn=conn, scope=scope, task_id=task_id, changes=body.changes()
        )
    return masked(kernel, principal, [result])[0]


@router.post("/followups/{task_id}/complete")
def complete_followup(
    task_id: Id,
    body: OutcomeIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        nxt = followup_service.complete(
            conn=conn,
            scope=scope,
            task_id=task_id,
            outcome=body.outcome,
            next_due_us=body.next_due_us,
        )
    return {"next_task_id": nxt}


@router.post("/followups/{task_id}/skip")
def skip_followup(
    task_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """open → skipped (it will not be made); anything else is a 409 naming ``status``."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = followup_service.skip(conn=conn, scope=scope, task_id=task_id)
    return masked(kernel, principal, [result])[0]
