"""Appointments (book, list, get, edit, status transitions) and visits (到诊: list, get).

Same conventions as ``crm_routes``: thin adapters over ``crm.appointment_service``;
the slot and the status change only through ``POST /appointments/{id}/transitions``
(the status machine), which a PATCH says by name.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import Field, StrictInt

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.crm_routes import (
    ID,
    SERVICE,
    AccountId,
    BranchQ,
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
from pulsecrm.crm import appointment_service
from pulsecrm.kernel.runtime import Kernel

router = APIRouter(prefix="/api/v1", tags=["crm"])
Status = Literal["booked", "confirmed", "arrived", "no_show", "cancelled", "rescheduled"]
_BY_TRANSITION = (
    "changes only through POST /api/v1/appointments/{id}/transitions "
    "(to: rescheduled, with new_slot_us)",
    "只能通过 POST /api/v1/appointments/{id}/transitions 改约（to: rescheduled，带 new_slot_us）",
)
_STATUS_BY_TRANSITION = (
    "changes only through POST /api/v1/appointments/{id}/transitions",
    "只能通过 POST /api/v1/appointments/{id}/transitions 变更",
)


class AppointmentIn(StrictBody):
    person_id: str = Field(pattern=ID)
    branch_id: str = Field(min_length=1, max_length=32)
    item: str = Field(min_length=1, max_length=64)
    slot_us: StrictInt = Field(gt=0, lt=2**62)
    doctor_id: StrictInt | None = Field(default=None, ge=1, lt=2**31)
    lead_id: str | None = Field(default=None, pattern=ID)
    reminder_channel: Literal["sms", "wechat", "email", "phone"] = "sms"


class AppointmentPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        "slot_us": _BY_TRANSITION,
        "new_slot_us": _BY_TRANSITION,
        "status": _STATUS_BY_TRANSITION,
        "branch_id": (
            "another branch is a new appointment: cancel or reschedule this one",
            "换门店请取消或改约后重新预约",
        ),
        "person_id": ("an appointment's person cannot change", "预约所属客户不可更改"),
    }
    item: str = Field(default="", min_length=1, max_length=64)
    doctor_id: StrictInt | None = Field(default=None, ge=1, lt=2**31)


class TransitionIn(StrictBody):
    to: Status
    new_slot_us: StrictInt | None = Field(default=None, gt=0, lt=2**62)


@router.post("/appointments", status_code=201)
def book(
    body: AppointmentIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    ctx = principal.context(SERVICE)
    with unit_of_work(kernel, principal, True) as (conn, scope):
        aid = appointment_service.book(conn=conn, ctx=ctx, scope=scope, **body.model_dump())
    return {"id": aid}


@router.get("/appointments")
def list_appointments(
    status: Status | None = None,
    branch_id: BranchQ = None,
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    doctor_id: AccountId = None,
    from_us: Time = None,
    to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Appointments in scope by slot; ``from_us``/``to_us`` bound the slot, ``[from, to)``."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = appointment_service.list_appointments(
            conn=conn,
            scope=scope,
            status=status,
            branch_id=branch_id,
            person_id=person_id,
            lead_id=lead_id,
            doctor_id=doctor_id,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/appointments/{appointment_id}")
def get_appointment(
    appointment_id: Id,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = appointment_service.get_appointment(
            conn=conn, scope=scope, appointment_id=appointment_id
        )
        found["history"] = appointment_service.history(
            conn=conn, scope=scope, appointment_id=appointment_id
        )
        found["reminders"] = appointment_service.reminders(
            conn=conn, scope=scope, appointment_id=appointment_id
        )
    return masked(kernel, principal, [found])[0]


@router.patch("/appointments/{appointment_id}")
def update_appointment(
    appointment_id: Id,
    body: AppointmentPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Change the doctor (``null`` unassigns; a doctor of the appointment's branch) or the
    item of a booked or confirmed appointment; a closed one is a 409 naming ``status``."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = appointment_service.update_appointment(
            conn=conn, scope=scope, appointment_id=appointment_id, changes=body.changes()
        )
    return masked(kernel, principal, [result])[0]


@router.post("/appointments/{appointment_id}/transitions")
def transition(
    appointment_id: Id,
    body: TransitionIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context(SERVICE)
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return appointment_service.transition(
            conn=conn,
            ctx=ctx,
            scope=scope,
            appointment_id=appointment_id,
            to=body.to,
            new_slot_us=body.new_slot_us,
        )


# -- visits (created by the ``arrived`` transition) --------------------------------------
@router.get("/visits")
def list_visits(
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    branch_id: BranchQ = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    from_us: Time = None,
    to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Visits in scope, latest arrival first; ``from_us``/``to_us`` bound the arrival."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = appointment_service.list_visits(
            conn=conn,
            scope=scope,
            person_id=person_id,
            branch_id=branch_id,
            lead_id=lead_id,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/visits/{visit_id}")
def get_visit(
    visit_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = appointment_service.get_visit(conn=conn, scope=scope, visit_id=visit_id)
    return masked(kernel, principal, [found])[0]
