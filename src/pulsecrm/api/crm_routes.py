"""CRM endpoints under ``/api/v1``: the shared adapter pieces, people (masked), leads and
consultations. Appointments and visits: ``crm_appointment_routes``; deals:
``crm_deal_routes``; follow-ups: ``crm_followup_routes``; tasks and referrals:
``crm_task_routes``; tags, forms, exports: ``crm_record_routes``.

Thin adapters: every rule lives in ``pulsecrm.crm``; bodies forbid unknown
fields (422 naming the field, D1); fields that change another way (a transition,
or derived) are refused naming the field and the way (:class:`PatchBody`); lists
are paged, filtered and scoped by role, and show people by masked identifiers
only (D2).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any, ClassVar, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator, model_validator
from sqlalchemy import Connection

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.crm import (
    consultation_service,
    lead_service,
    people_service,
)
from pulsecrm.crm.errors import NotEditable
from pulsecrm.crm.scope import Scope, scope_for
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["crm"])
ID = r"^[0-9a-f]{32}$"
Id = Annotated[str, Path(pattern=ID)]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=10_000_000)]
Time = Annotated[int | None, Query(ge=0, lt=2**62)]
# Query strings: no control characters (a NUL is not even storable in PostgreSQL).
PRINTABLE = r"^[^\x00-\x1f\x7f]*$"
BranchQ = Annotated[str | None, Query(pattern=ID)]
AccountId = Annotated[int | None, Query(ge=1, lt=2**31)]
SERVICE = "service.appointment"


class StrictBody(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        # Nested too (item lists, filter maps): PostgreSQL cannot store a NUL in text.
        pending = [value]
        while pending:
            item = pending.pop()
            if isinstance(item, str) and "\x00" in item:
                raise ValueError("NUL characters are not allowed")
            if isinstance(item, list | tuple):
                pending.extend(item)
            elif isinstance(item, dict):
                pending.extend(item.keys())
                pending.extend(item.values())
        return value


def _unset_is_unchanged(schema: dict[str, Any], _model: type[Any]) -> None:
    # The Python defaults of a PATCH body are placeholders never written (only fields the
    # client sends are changed), so the documented schema shows none.
    for prop in schema.get("properties", {}).values():
        prop.pop("default", None)
    fixed = getattr(_model, "FIXED", {})
    if fixed:  # fields refused with a 422 that says how they change instead
        schema["x-not-editable"] = {name: rule_en for name, (rule_en, _zh) in fixed.items()}


class PatchBody(StrictBody):
    """A PATCH body: only the fields set are changed (``exclude_unset``).

    ``FIXED`` names fields that exist on the object but change another way; sending
    one is a 422 naming it and saying how (rather than a bare "extra field")."""

    model_config = ConfigDict(
        extra="forbid", str_strip_whitespace=True, json_schema_extra=_unset_is_unchanged
    )
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {}

    @model_validator(mode="before")
    @classmethod
    def _fixed(cls, data: Any) -> Any:
        if isinstance(data, dict):
            for name, (rule_en, rule_zh) in cls.FIXED.items():
                if name in data:
                    raise NotEditable(name, rule_en, rule_zh)
        return data

    def changes(self) -> dict[str, Any]:
        return self.model_dump(exclude_unset=True)


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


def masked(
    kernel: Kernel,
    principal: StaffPrincipal,
    rows: list[dict[str, Any]],
    keys: dict[str, str] | None = None,
) -> list[dict[str, Any]]:
    """Masked identifiers beside each person id (after the read unit has closed)."""
    return people_service.with_masked_people(
        kernel=kernel, ctx=principal.context(SERVICE), rows=rows, keys=keys
    )


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


@router.get("/people/{person_id}")
def get_person(
    person_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    """One person with a lead in your scope — identifiers masked (reveal is the kernel's)."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        people_service.require_in_scope(conn=conn, scope=scope, person_id=person_id)
    found = people_service.masked_people(
        kernel=kernel, ctx=principal.context(SERVICE), person_ids=[person_id]
    )
    return found[0] if found else {"id": person_id}


# -- leads --------------------------------------------------------------------------
class LeadIn(StrictBody):
    person_id: str = Field(pattern=ID)
    channel: str = Field(min_length=1, max_length=64)
    campaign: str | None = Field(default=None, max_length=100)
    utm_source: str | None = Field(default=None, max_length=100)
    utm_medium: str | None = Field(default=None, max_length=100)
    utm_campaign: str | None = Field(default=None, max_length=100)
    branch_id: str | None = Field(default=None, max_length=32)
    owner_id: StrictInt | None = Field(default=None, ge=1, lt=2**31)


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


LeadStatus = Literal["new", "contacted", "converted", "lost"]


@router.get("/leads")
def list_leads(
    channel: Annotated[str | None, Query(max_length=64, pattern=PRINTABLE)] = None,
    campaign: Annotated[str | None, Query(max_length=100, pattern=PRINTABLE)] = None,
    status: LeadStatus | None = None,
    branch_id: BranchQ = None,
    owner_id: AccountId = None,
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    created_from_us: Time = None,
    created_to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Leads in your scope, newest first; the created range is ``[from, to)``."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = lead_service.list_leads(
            conn=conn,
            scope=scope,
            channel=channel,
            campaign=campaign,
            status=status,
            branch_id=branch_id,
            owner_id=owner_id,
            person_id=person_id,
            created_from_us=created_from_us,
            created_to_us=created_to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/leads/{lead_id}")
def get_lead(
    lead_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = lead_service.get_lead(conn=conn, scope=scope, lead_id=lead_id)
    return masked(kernel, principal, [found])[0]


class LeadPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        "status": (
            "changes only through POST /api/v1/leads/{id}/transitions",
            "只能通过 POST /api/v1/leads/{id}/transitions 变更",
        ),
        "person_id": ("a lead's person cannot change", "线索所属客户不可更改"),
        "channel": ("the channel is attribution, kept as received", "来源渠道为归因数据，不可更改"),
        "first_response_us": (
            "stamped by POST /api/v1/leads/{id}/respond",
            "由 POST /api/v1/leads/{id}/respond 记录",
        ),
    }
    campaign: str | None = Field(default=None, max_length=100)
    owner_id: StrictInt = Field(default=0, ge=1, lt=2**31)


class LeadTransitionIn(StrictBody):
    to: LeadStatus


@router.patch("/leads/{lead_id}")
def update_lead(
    lead_id: Id,
    body: LeadPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Change the campaign and/or reassign the owner (a staff member of the tenant)."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = lead_service.update_lead(
            conn=conn, scope=scope, lead_id=lead_id, changes=body.changes()
        )
    return masked(kernel, principal, [result])[0]


@router.post("/leads/{lead_id}/transitions")
def transition_lead(
    lead_id: Id,
    body: LeadTransitionIn,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """new → contacted | lost; contacted → lost; lost → new (reopen). ``converted`` comes from
    recording a deal. Anything else: 409 naming ``status``."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = lead_service.transition_lead(conn=conn, scope=scope, lead_id=lead_id, to=body.to)
    return masked(kernel, principal, [result])[0]


@router.post("/leads/{lead_id}/respond")
def respond(
    lead_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, True) as (conn, scope):
        lead_service.respond(conn=conn, scope=scope, lead_id=lead_id)
        result = lead_service.get_lead(conn=conn, scope=scope, lead_id=lead_id)
    return masked(kernel, principal, [result])[0]


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
    health = [f for f in ("chief_complaint", "notes") if getattr(body, f) is not None]
    consultation_service.require_health_write(kernel=kernel, ctx=ctx, fields=health)
    with unit_of_work(kernel, principal, True) as (conn, scope):
        cid = consultation_service.create_consultation(
            conn=conn, kernel=kernel, ctx=ctx, scope=scope, **body.model_dump()
        )
    return {"id": cid}


@router.get("/consultations")
def list_consultations(
    person_id: Annotated[str | None, Query(pattern=ID)] = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    branch_id: BranchQ = None,
    mode: Literal["online", "on_site"] | None = None,
    intent_level: Literal["high", "medium", "low"] | None = None,
    consultant_id: AccountId = None,
    from_us: Time = None,
    to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Consultations in scope, newest first — never their health fields (open one for that)."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = consultation_service.list_consultations(
            conn=conn,
            scope=scope,
            person_id=person_id,
            lead_id=lead_id,
            branch_id=branch_id,
            mode=mode,
            intent_level=intent_level,
            consultant_id=consultant_id,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


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
        found = consultation_service.get_consultation(
            conn=conn,
            kernel=kernel,
            ctx=ctx,
            scope=scope,
            consultation_id=consultation_id,
            reveal=reveal,
        )
    return masked(kernel, principal, [found])[0]


class ConsultationPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        name: ("a fact of the consultation; record a new one instead", "咨询记录的事实，请新建咨询")
        for name in ("person_id", "lead_id", "branch_id", "mode", "consultant_id")
    }
    items: list[Annotated[str, Field(min_length=1, max_length=64)]] = Field(
        default_factory=list, min_length=1, max_length=10
    )
    intent_level: Literal["high", "medium", "low"] = "medium"
    chief_complaint: str | None = Field(default=None, max_length=4000)
    notes: str | None = Field(default=None, max_length=4000)


@router.patch("/consultations/{consultation_id}")
def update_consultation(
    consultation_id: Id,
    body: ConsultationPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Change intent, items, chief complaint, notes (``null`` clears a health field).

    Health fields are re-sealed by the kernel, and writing them needs a health grant for
    the purpose: without one, 403 naming the field (audited) and nothing is written."""
    ctx = principal.context(SERVICE)
    changes = body.changes()
    consultation_service.require_health_write(kernel=kernel, ctx=ctx, fields=sorted(changes))
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = consultation_service.update_consultation(
            conn=conn,
            kernel=kernel,
            ctx=ctx,
            scope=scope,
            consultation_id=consultation_id,
            changes=changes,
        )
    return masked(kernel, principal, [result])[0]
