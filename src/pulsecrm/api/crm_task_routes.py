"""Staff tasks (待办: create, list, get, edit, complete, cancel) and referrals (转介绍:
record, list, get, correct the channel).

Both hold codes only, never free text, so nothing personal can be typed into
them; an unknown body field is a 422 naming it.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictInt

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.crm_routes import (
    ID,
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
from pulsecrm.crm import referral_service, task_service
from pulsecrm.kernel.runtime import Kernel

router = APIRouter(prefix="/api/v1", tags=["crm"])
Kind = Literal["call_back", "confirm_appointment", "send_material", "other"]
ReferralChannel = Literal["customer", "staff", "wechat_share", "partner", "other"]


# -- staff tasks (codes only, never free text) -----------------------------------------------
class TaskIn(StrictBody):
    kind: Kind
    due_us: StrictInt = Field(gt=0, lt=2**62)
    owner_id: StrictInt | None = Field(default=None, ge=1, lt=2**31)
    person_id: str | None = Field(default=None, pattern=ID)
    lead_id: str | None = Field(default=None, pattern=ID)


class TaskPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        "status": (
            "changes only through POST /api/v1/tasks/{id}/complete or /cancel",
            "只能通过 POST /api/v1/tasks/{id}/complete 或 /cancel 变更",
        ),
        "person_id": ("what a task is about cannot change", "任务关联对象不可更改"),
        "lead_id": ("what a task is about cannot change", "任务关联对象不可更改"),
    }
    kind: Kind = "other"
    due_us: StrictInt = Field(default=1, gt=0, lt=2**62)
    owner_id: StrictInt = Field(default=1, ge=1, lt=2**31)


@router.post("/tasks", status_code=201)
def create_task(
    body: TaskIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, str]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return {"id": task_service.create_task(conn=conn, scope=scope, **body.model_dump())}


@router.get("/tasks")
def list_tasks(
    owner_id: Annotated[int | None, Query(ge=0, lt=2**31)] = None,
    status: Literal["open", "done", "cancelled", "any"] = "open",
    kind: Kind | None = None,
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    due_from_us: Time = None,
    due_to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """One staff member's tasks (default: yours, open ones; ``status=any`` for all), soonest
    due first; branch roles may list anyone of their branch."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = task_service.list_tasks(
            conn=conn,
            scope=scope,
            owner_id=owner_id,
            status=None if status == "any" else status,
            kind=kind,
            person_id=person_id,
            lead_id=lead_id,
            due_from_us=due_from_us,
            due_to_us=due_to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/tasks/{task_id}")
def get_task(
    task_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = task_service.get_task(conn=conn, scope=scope, task_id=task_id)
    return masked(kernel, principal, [found])[0]


@router.patch("/tasks/{task_id}")
def update_task(
    task_id: Id,
    body: TaskPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Change an open task's due time, kind or owner (yourself; branch roles: the branch)."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = task_service.update_task(
            conn=conn, scope=scope, task_id=task_id, changes=body.changes()
        )
    return masked(kernel, principal, [result])[0]


@router.post("/tasks/{task_id}/complete")
def complete_task(
    task_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        task_service.complete_task(conn=conn, scope=scope, task_id=task_id)
        result = task_service.get_task(conn=conn, scope=scope, task_id=task_id)
    return masked(kernel, principal, [result])[0]


@router.post("/tasks/{task_id}/cancel")
def cancel_task(
    task_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """open → cancelled; anything else is a 409 naming ``status``."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = task_service.cancel_task(conn=conn, scope=scope, task_id=task_id)
    return masked(kernel, principal, [result])[0]


# -- referrals --------------------------------------------------------------------------------
class ReferralIn(StrictBody):
    referrer_id: str = Field(pattern=ID)
    referred_id: str | None = Field(default=None, pattern=ID)
    lead_id: str | None = Field(default=None, pattern=ID)
    channel: ReferralChannel | None = None


class ReferralPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        name: (
            "who referred whom is the fact itself; record the referral again",
            "转介绍关系不可更改，请重新记录",
        )
        for name in ("referrer_id", "referred_id", "lead_id")
    }
    channel: ReferralChannel | None = None


@router.post("/referrals", status_code=201)
def record_referral(
    body: ReferralIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return {"id": referral_service.record_referral(conn=conn, scope=scope, **body.model_dump())}


PEOPLE = {"referrer_id": "referrer", "referred_id": "referred"}


@router.get("/referrals")
def list_referrals(
    referrer: Annotated[str | None, Query(pattern=ID)] = None,
    referred: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    channel: ReferralChannel | None = None,
    from_us: Time = None,
    to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Referrals, newest first (one tied to a lead only if you see the lead)."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = referral_service.list_referrals(
            conn=conn,
            scope=scope,
            referrer_id=referrer,
            referred_id=referred,
            lead_id=lead_id,
            channel=channel,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items, PEOPLE), total, limit, offset)


@router.get("/referrals/{referral_id}")
def get_referral(
    referral_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = referral_service.get_referral(conn=conn, scope=scope, referral_id=referral_id)
    return masked(kernel, principal, [found], PEOPLE)[0]


@router.patch("/referrals/{referral_id}")
def update_referral(
    referral_id: Id,
    body: ReferralPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Correct the channel (a code; ``null`` clears it)."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = referral_service.update_referral(
            conn=conn, scope=scope, referral_id=referral_id, changes=body.changes()
        )
    return masked(kernel, principal, [result], PEOPLE)[0]
