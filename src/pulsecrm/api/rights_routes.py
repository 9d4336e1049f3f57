"""Staff endpoints for data-subject requests (F1): the queue with its clocks, and its workflow.

Privacy officer only (the service refuses other roles). The requester's
details come back masked, and each read of them is audited by the kernel.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.rights import requests as rights
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1/rights", tags=["data-subject requests (staff)"])
PURPOSE = "compliance.dsr"
RequestId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
Status = Literal["received", "verifying", "in_progress", "fulfilled", "rejected"]


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class VerifyIn(_In):
    method: str = Field(min_length=1, max_length=200)


class ExtendIn(_In):
    reason: str = Field(min_length=1, max_length=500)
    days: int = Field(default=30, ge=1, le=60)


class RejectIn(_In):
    reason: str = Field(min_length=1, max_length=500)


@router.get("/requests")
def request_queue(
    status: Annotated[list[Status] | None, Query()] = None,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Open requests (or those of ``status``), most urgent first, each with its clock."""
    ctx = principal.context(PURPOSE)
    with read_connection(kernel.engine) as conn, conn.begin():
        views = rights.list_queue(conn, kernel, ctx, statuses=status or rights.OPEN)
    return {"requests": [v.as_dict() for v in views]}


@router.get("/requests/{request_id}/history")
def request_history(
    request_id: RequestId,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context(PURPOSE)
    rights.require_officer(ctx)
    with read_connection(kernel.engine) as conn, conn.begin():
        view = rights.get_request(conn, tenant_id=ctx.tenant_id, request_id=request_id)
        events = rights.history(conn, tenant_id=ctx.tenant_id, request_id=request_id)
    return {"request": view.as_dict(), "history": events}


@router.post("/requests/{request_id}/verifying")
def begin_verification(
    request_id: RequestId,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with kernel.engine.begin() as conn:
        view = rights.begin_verification(conn, principal.context(PURPOSE), request_id=request_id)
    return view.as_dict()


@router.post("/requests/{request_id}/verified")
def mark_verified(
    request_id: RequestId,
    body: VerifyIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with kernel.engine.begin() as conn:
        view = rights.mark_verified(
            conn, principal.context(PURPOSE), request_id=request_id, method=body.method
        )
    return view.as_dict()


@router.post("/requests/{request_id}/extension")
def extend(
    request_id: RequestId,
    body: ExtendIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with kernel.engine.begin() as conn:
        view = rights.extend(
            conn,
            principal.context(PURPOSE),
            request_id=request_id,
            reason=body.reason,
            days=body.days,
        )
    return view.as_dict()


@router.post("/requests/{request_id}/rejection")
def reject(
    request_id: RequestId,
    body: RejectIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with kernel.engine.begin() as conn:
        view = rights.reject(
            conn, principal.context(PURPOSE), request_id=request_id, reason=body.reason
        )
    return view.as_dict()
