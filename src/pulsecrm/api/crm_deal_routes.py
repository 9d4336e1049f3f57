"""Deals (成交): record, list (person, branch, consultant, period), get, correct.

First vs repeat (``is_first``) is derived when the deal is recorded and never
set by a client; a PATCH that tries says so by name.
"""

from __future__ import annotations

from typing import Annotated, Any, ClassVar

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
from pulsecrm.crm import deal_service
from pulsecrm.kernel.runtime import Kernel

router = APIRouter(prefix="/api/v1", tags=["crm"])
Items = list[Annotated[str, Field(min_length=1, max_length=64)]]
_FACT = ("a fact of the deal; record a new deal instead", "成交事实不可更改，请新建成交")


class DealIn(StrictBody):
    person_id: str = Field(pattern=ID)
    branch_id: str = Field(min_length=1, max_length=32)
    items: Items = Field(min_length=1, max_length=10)
    amount_cents: StrictInt = Field(gt=0, le=deal_service.MAX_AMOUNT_CENTS)
    visit_id: str | None = Field(default=None, pattern=ID)
    lead_id: str | None = Field(default=None, pattern=ID)
    followup_template_id: str | None = Field(default=None, pattern=ID)


class DealPatch(PatchBody):
    FIXED: ClassVar[dict[str, tuple[str, str]]] = {
        "is_first": (
            "derived: true for the person's first deal, never set by hand",
            "由系统判定（客户的首次成交），不可手工设置",
        ),
        **{name: _FACT for name in ("person_id", "branch_id", "visit_id", "lead_id", "closed_us")},
    }
    items: Items = Field(default_factory=list, min_length=1, max_length=10)
    amount_cents: StrictInt = Field(default=1, gt=0, le=deal_service.MAX_AMOUNT_CENTS)


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
    branch_id: BranchQ = None,
    lead_id: Annotated[str | None, Query(pattern=ID)] = None,
    consultant_id: AccountId = None,
    is_first: bool | None = None,
    from_us: Time = None,
    to_us: Time = None,
    limit: Limit = 50,
    offset: Offset = 0,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Deals in scope, latest first; the period ``from_us``/``to_us`` bounds the close time."""
    with unit_of_work(kernel, principal, False) as (conn, scope):
        items, total = deal_service.list_deals(
            conn=conn,
            scope=scope,
            person_id=person_id,
            branch_id=branch_id,
            lead_id=lead_id,
            consultant_id=consultant_id,
            is_first=is_first,
            from_us=from_us,
            to_us=to_us,
            limit=limit,
            offset=offset,
        )
    return page(masked(kernel, principal, items), total, limit, offset)


@router.get("/deals/{deal_id}")
def get_deal(
    deal_id: Id, principal: StaffPrincipal = Depends(staff), kernel: Kernel = Depends(get_kernel)
) -> dict[str, Any]:
    with unit_of_work(kernel, principal, False) as (conn, scope):
        found = deal_service.get_deal(conn=conn, scope=scope, deal_id=deal_id)
    return masked(kernel, principal, [found])[0]


@router.patch("/deals/{deal_id}")
def update_deal(
    deal_id: Id,
    body: DealPatch,
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    """Correct the items and/or amount (cents) of a deal in your scope."""
    with unit_of_work(kernel, principal, True) as (conn, scope):
        result = deal_service.update_deal(
            conn=conn, scope=scope, deal_id=deal_id, changes=body.changes()
        )
    return masked(kernel, principal, [result])[0]
