"""CRM endpoints under ``/api/v1``: leads, people (masked), consultations, appointments and
their transitions, visits, deals, follow-ups (tags, forms, exports: ``crm_record_routes``).

Thin adapters: every rule lives in ``pulsecrm.crm``; bodies forbid unknown
fields (422 naming the field, D1); lists are paged and scoped by role; people
are listed with masked identifiers only (D2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator
from sqlalchemy import Connection

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.crm import (
    appointment_service,
    consultation_service,
    deal_service,
    followup_service,
    lead_service,
    people_service,
)
from pulsecrm.crm.scope import Scope, scope_for
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["crm"])
ID = r"^[0-9a-f]{32}$"
Id = Annotated[str, Path(pattern=ID)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
SERVICE = "service.appointment"


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("NUL characters are not allowed")
        return value


@contextmanager
def unit_of_work(
    kernel: Kernel, principal: StaffPrincipal, write: bool
) -> Iterator[tuple[Connection, Scope]]:
    ctx = principal.context(SERVICE)
    if write:
        with kernel.engine.begin() as conn:
            yield conn, scope_for(conn=conn, ctx=ctx)
    else:
        with read_connection(kernel.engine) as conn, conn.begin():
            yield conn, scope_for(conn=conn, ctx=ctx)


def page(items: list[dict[str, Any]], total: int, limit: int, offset: int) -> dict[str, Any]:
    return {"items": items, "total": total, "limit": limit, "offset": offset}


# -- people -----------------------------------------------------------------------
class PersonIn(StrictBody):
    name: str | None = Field(default=None, max_length=100)
    phone: str | None = Field(default=None, max_length=40)
    email: str | None = Field(default=None, max_length=200)
    id_number: str | None = Field(default=None, max_length=40)
    gender: str | None = Field(default=None, max_length=10)
    birth_date: str | None = Field(default=None, max_length=20)
    city: str | None = Field(default=None, max_length=64)
    source: str | None = Field(default=None, max_length=64)


@router.post("/people", status_code=201)
def create_person(
    body: PersonIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, str]:
    ctx = principal.context(SERVICE)
    with kernel.engine.begin() as conn:
        person_id = people_service.create_person(
            conn=conn, kernel=kernel, ctx=ctx, values=body.model_dump(exclude_none=True)
        )
    return {"id": person_id}


@router.get("/people")
def list_people(
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """People with a lead in your scope — identifiers always masked."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        ids, total = people_service.people_in_scope(
            conn=conn, scope=scope, limit=limit, offset=offset
        )
    items = people_service.masked_people(
        kernel=kernel, ctx=principal.context(SERVICE), person_ids=ids
    )
    return page(items, total, limit, offset)


# -- leads --------------------------------------------------------------------------
class LeadIn(StrictBody):
    person_id: str = Field(pattern=ID)
    channel: str = Field(min_length=1, max_length=64)
    campaign: str | None = Field(default=None, max_length=100)
    utm_source: str | None = Field(default=None, max_length=100)
    utm_medium: str | None = Field(default=None, max_length=100)
    utm_campaign: str | None = Field(default=None, max_length=100)
    branch_id: str | None = Field(default=None, max_length=32)
    owner_id: StrictInt | None = None


@router.post("/leads", status_code=201)
def create_lead(
    body: LeadIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, str]:
    with unit_of_work(kernel, principal, True) as (conn, _scope):
        lead_id = lead_service.create_lead(
            conn=conn,
            tenant_id=principal.tenant_id,
            person_id=body.person_id,
            attribution=lead_service.Attribution(
                body.channel, body.campaign, body.utm_source, body.utm_medium, body.utm_campaign
            ),
            branch_id=body.branch_id,
            owner_id=body.owner_id,
        )
    return {"id": lead_id}


@router.get("/leads")
def list_leads(
    channel: Annotated[str | None, Query(max_length=64)] = None,
    campaign: Annotated[str | None, Query(max_length=100)] = None,
    status: Annotated[str | None, Query(max_length=16)] = None,
    branch_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = lead_service.list_leads(
            conn=conn,
            scope=scope,
            channel=channel,
            campaign=campaign,
            status=status,
            branch_id=branch_id,
            limit=limit,
            offset=offset,
        )
    return page(items, total, limit, offset)


@router.get("/leads/{lead_id}")
def get_lead(
    lead_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        return lead_service.get_lead(conn=conn, scope=scope, lead_id=lead_id)


class LeadPatch(StrictBody):
    campaign: str | None = Field(default=None, max_length=100)
    owner_id: StrictInt = Field(default=0, ge=1, lt=2**31)


@router.patch("/leads/{lead_id}")
def update_lead(
    lead_id: Id,
    body: LeadPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Change the campaign and/or reassign the owner (a staff member of the tenant)."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return lead_service.update_lead(
            conn=conn, scope=scope, lead_id=lead_id, changes=body.model_dump(exclude_unset=True)
        )


@router.post("/leads/{lead_id}/respond")
def respond(
    lead_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        lead_service.respond(conn=conn, scope=scope, lead_id=lead_id)
        return lead_service.get_lead(conn=conn, scope=scope, lead_id=lead_id)


# -- consultations --------------------------------------------------------------------
class ConsultationIn(StrictBody):
    person_id: str = Field(pattern=ID)
    lead_id: str | None = Field(default=None, pattern=ID)
    branch_id: str | None = Field(default=None, max_length=32)
    mode: Literal["online", "on_site"]
    items: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=10
    )
    intent_level: Literal["high", "medium", "low"]
    chief_complaint: str | None = Field(default=None, max_length=4000)
    notes: str | None = Field(default=None, max_length=4000)


@router.post("/consultations", status_code=201)
def create_consultation(
    body: ConsultationIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, str]:
    ctx = principal.context(SERVICE)
    with unit_of_work(kernel, principal, True) as (conn, scope):
        cid = consultation_service.create_consultation(
            conn=conn, kernel=kernel, ctx=ctx, scope=scope, **body.model_dump()
        )
    return {"id": cid}


@router.get("/consultations")
def list_consultations(
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = consultation_service.list_consultations(
            conn=conn, scope=scope, person_id=person_id, lead_id=lead_id, limit=limit, offset=offset
        )
    return page(items, total, limit, offset)


@router.get("/consultations/{consultation_id}")
def get_consultation(
    consultation_id: Id,
    reveal: bool = False,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Health fields only for roles granted them; absent for the others (D2)."""
    ctx = principal.context(SERVICE)
    with unit_of_work(kernel, principal, False) as (conn, scope):
        return consultation_service.get_consultation(
            conn=conn,
            kernel=kernel,
            ctx=ctx,
            scope=scope,
            consultation_id=consultation_id,
            reveal=reveal,
        )


# -- appointments and visits ------------------------------------------------------------
class AppointmentIn(StrictBody):
    person_id: str = Field(pattern=ID)
    branch_id: str = Field(min_length=1, max_length=32)
    item: str = Field(min_length=1, max_length=64)
    slot_us: StrictInt = Field(gt=0, lt=2**62)
    doctor_id: StrictInt | None = None
    lead_id: str | None = Field(default=None, pattern=ID)
    reminder_channel: Literal["sms", "wechat", "email", "phone"] = "sms"


class TransitionIn(StrictBody):
    to: Literal["confirmed", "arrived", "no_show", "cancelled", "rescheduled", "booked"]
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
    status: Annotated[str | None, Query(max_length=16)] = None,
    branch_id: Annotated[str | None, Query(max_length=32)] = None,
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    from_us: Annotated[int | None, Query(ge=0, lt=2**62)] = None,
    to_us: Annotated[int | None, Query(ge=0, lt=2**62)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = appointment_service.list_appointments(
            conn=conn,
            scope=scope,
            status=status,
            branch_id=branch_id,
            person_id=person_id,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(items, total, limit, offset)


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
    return found


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


@router.get("/visits")
def list_visits(
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = appointment_service.list_visits(
            conn=conn, scope=scope, person_id=person_id, limit=limit, offset=offset
        )
    return page(items, total, limit, offset)


# -- deals and follow-ups -------------------------------------------------------------------
class DealIn(StrictBody):
    person_id: str = Field(pattern=ID)
    branch_id: str = Field(min_length=1, max_length=32)
    items: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        min_length=1, max_length=10
    )
    amount_cents: StrictInt = Field(gt=0, le=deal_service.MAX_AMOUNT_CENTS)
    visit_id: str | None = Field(default=None, pattern=ID)
    lead_id: str | None = Field(default=None, pattern=ID)
    followup_template_id: str | None = Field(default=None, pattern=ID)


@router.post("/deals", status_code=201)
def create_deal(
    body: DealIn, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    ctx = principal.context(SERVICE)
    with unit_of_work(kernel, principal, True) as (conn, scope):
        return deal_service.create_deal(conn=conn, ctx=ctx, scope=scope, **body.model_dump())


@router.get("/deals")
def list_deals(
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    branch_id: Annotated[str | None, Query(max_length=32)] = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = deal_service.list_deals(
            conn=conn,
            scope=scope,
            person_id=person_id,
            branch_id=branch_id,
            limit=limit,
            offset=offset,
        )
    return page(items, total, limit, offset)


class TemplateIn(StrictBody):
    name: str = Field(min_length=1, max_length=100)
    offsets: list[StrictInt] = Field(min_length=1, max_length=20)
    channel: Literal["phone", "sms", "wechat", "email"] = "phone"


class OutcomeIn(StrictBody):
    outcome: Literal["reached", "no_answer", "satisfied", "complaint", "rebook"]
    next_due_us: StrictInt | None = Field(default=None, gt=0, lt=2**62)


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


@router.get("/followups/queue")
def followup_queue(
    principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """Your open follow-ups: overdue, today, upcoming (7 days)."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        return followup_service.queue(conn=conn, scope=scope)


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
