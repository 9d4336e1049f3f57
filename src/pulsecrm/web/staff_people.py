"""People: the masked list with blind-index search, the person page (timeline, consent
panel, tags) and the "reveal" action.

Every value shown comes from ``kernel.vault`` under a named purpose, masked
unless revealed; revealing asks for a purpose the role holds a reveal grant
for (or an active break-glass grant covers), writes exactly one audit entry,
shows the value for 30 seconds and then htmx swaps the mask back in. Row scope
(``crm.scope``): a consultant sees people with a lead of theirs or their team,
a branch role their branch; anyone else is *not found*, unless a break-glass
grant names that person.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import HTMLResponse, Response

from pulsecrm.access import break_glass
from pulsecrm.catalog.model import Mask
from pulsecrm.consent import ledger
from pulsecrm.consent import service as consent_service
from pulsecrm.crm import (
    appointment_service,
    consultation_service,
    deal_service,
    followup_service,
    lead_service,
    people_service,
    tag_service,
)
from pulsecrm.crm.scope import TENANT_ROLES, Scope
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, KernelError
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.vault_records import PersonView
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of, staff_form
from pulsecrm.web.staff_common import (
    catalog_names,
    fields_for,
    list_purpose,
    page,
    reveal_purposes,
    unit,
)
from pulsecrm.web.templating import render

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)
PersonId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]
LIST_FIELDS = people_service.LIST_FIELDS
PERSON_TABLES = ("person_identity", "person_profile")
REVEAL_SECONDS = 30
SEARCH_KINDS = ("phone", "email", "id_number")


class NotFound(KernelError):
    code = "not_found"
    zh = "未找到（不存在或不在您的权限范围内）"
    en = "not found (does not exist or is outside your scope)"
    http_status = 404


def person_fields(kernel: Kernel, role: str, purpose: str) -> list[str]:
    """The per-person fields ``role`` may see for ``purpose``, in catalog order."""
    allowed = fields_for(kernel, role, purpose)
    return [
        name
        for name, spec in kernel.catalog.fields.items()
        if name in allowed and spec.table in PERSON_TABLES
    ]


def _in_scope(conn: Any, scope: Scope, person_id: str) -> bool:
    _items, total = lead_service.list_leads(conn=conn, scope=scope, person_id=person_id, limit=1)
    return total > 0


def _row(view: PersonView) -> dict[str, Any]:
    return {"id": view.subject_id, **{f: view.values.get(f) for f in LIST_FIELDS}}


Reader = Callable[[AccessContext, list[str], list[str]], list[PersonView]]
"""Reads masked values for people: the vault in the console; a plaintext fixture in the
web benchmark's baseline (same template, same queries, no decryption and no audit)."""


def vault_reader(kernel: Kernel) -> Reader:
    return lambda ctx, ids, fields: kernel.vault.read(ctx, ids, fields, reveal=False)


@router.get("/staff/people")
def people_list(
    request: Request,
    q: Annotated[str | None, Query(max_length=100)] = None,
    kind: Annotated[Literal["phone", "email", "id_number"], Query()] = "phone",
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
    staff: Staff = Depends(current_staff),
) -> Response:
    return people_list_page(request, staff, q, kind, offset, vault_reader(kernel_of(request)))


def people_list_page(
    request: Request, staff: Staff, q: str | None, kind: str, offset: int, read: Reader
) -> Response:
    kernel = kernel_of(request)
    purpose = list_purpose(kernel, staff.role)
    context: dict[str, Any] = {
        "q": q or "",
        "kind": kind,
        "kinds": SEARCH_KINDS,
        "rows": [],
        "total": 0,
        "offset": offset,
        "limit": 50,
        "purpose": purpose,
        "error": None,
    }
    if purpose is None:
        return page(request, staff, "staff/people.html", context, section="people")
    ctx = staff.context(purpose)
    if q and q.strip():
        try:
            views = kernel.vault.find_by(ctx, kind, q.strip(), list(LIST_FIELDS))
        except (AccessDenied, KernelError) as exc:
            context["error"] = exc.message(staff.locale)
            views = []
        with unit(kernel, staff) as (conn, scope):
            wide = staff.role in TENANT_ROLES
            rows = [_row(v) for v in views if wide or _in_scope(conn, scope, v.subject_id)]
        context.update(rows=rows, total=len(rows))
    else:
        with unit(kernel, staff) as (conn, scope):
            ids, total = people_service.people_in_scope(
                conn=conn, scope=scope, limit=50, offset=offset
            )
        rows = [_row(v) for v in read(ctx, ids, list(LIST_FIELDS))] if ids else []
        context.update(rows=rows, total=total)
    return page(request, staff, "staff/people.html", context, section="people")


def _grant(kernel: Kernel, staff: Staff, purpose: str, person_id: str) -> break_glass.Grant | None:
    with read_connection(kernel.engine) as conn:
        return break_glass.grant_for(
            conn,
            tenant_id=staff.tenant_id,
            account_id=staff.session.account_id,
            purpose=purpose,
            person_id=person_id,
        )


def _reading_context(
    kernel: Kernel, staff: Staff, person_id: str, in_scope: bool
) -> tuple[AccessContext | None, break_glass.Grant | None]:
    """The context to read the person page with: the role's own, or a break-glass grant's."""
    purpose = list_purpose(kernel, staff.role)
    if in_scope and purpose is not None:
        return staff.context(purpose), None
    for candidate in break_glass.service_purposes(kernel):
        grant = _grant(kernel, staff, candidate, person_id)
        if grant is not None:
            return grant.context(staff.username, staff.tenant_id, staff.locale), grant
    return None, None


def timeline(
    conn: Any, scope: Scope, person_id: str, leads: list[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Leads, consultations, appointments, visits, deals and follow-ups of one person."""
    events: list[dict[str, Any]] = []
    for item in leads:
        events.append(
            {
                "at": item["created_us"],
                "kind": "lead",
                "text": item["channel"],
                "status": item["status"],
                "extra": item.get("campaign"),
            }
        )
    consults, _ = consultation_service.list_consultations(
        conn=conn, scope=scope, person_id=person_id, limit=50
    )
    for item in consults:
        events.append(
            {
                "at": item["created_us"],
                "kind": "consultation",
                "text": "、".join(item["items"]),
                "status": item.get("intent_level"),
                "extra": item.get("mode"),
            }
        )
    appts, _ = appointment_service.list_appointments(
        conn=conn, scope=scope, person_id=person_id, limit=50
    )
    for item in appts:
        events.append(
            {
                "at": item["slot_us"],
                "kind": "appointment",
                "text": item["item"],
                "status": item["status"],
                "extra": None,
            }
        )
    visits, _ = appointment_service.list_visits(
        conn=conn, scope=scope, person_id=person_id, limit=50
    )
    for item in visits:
        events.append(
            {"at": item["arrived_us"], "kind": "visit", "text": "", "status": None, "extra": None}
        )
    deals, _ = deal_service.list_deals(conn=conn, scope=scope, person_id=person_id, limit=50)
    for item in deals:
        events.append(
            {
                "at": item["closed_us"],
                "kind": "deal",
                "text": "、".join(item["items"]),
                "status": None,
                "extra": f"¥{item['amount_cents'] / 100:,.0f}",
            }
        )
    followups, _ = followup_service.list_followups(
        conn=conn, scope=scope, person_id=person_id, limit=50
    )
    for item in followups:
        events.append(
            {
                "at": item["due_us"],
                "kind": "followup",
                "text": f"D+{item['day_offset']}",
                "status": item["status"],
                "extra": item.get("outcome"),
            }
        )
    events.sort(key=lambda e: e["at"] or 0, reverse=True)
    return events


@router.get("/staff/people/{person_id}")
def person_page(
    request: Request, person_id: PersonId, staff: Staff = Depends(current_staff)
) -> Response:
    return person_page_for(request, staff, person_id, vault_reader(kernel_of(request)))


def person_page_for(request: Request, staff: Staff, person_id: str, read: Reader) -> Response:
    kernel = kernel_of(request)
    with unit(kernel, staff) as (conn, scope):
        leads, in_scope_leads = lead_service.list_leads(
            conn=conn, scope=scope, person_id=person_id, limit=50
        )
        in_scope = in_scope_leads > 0
        events = timeline(conn, scope, person_id, leads) if in_scope else []
        tags = tag_service.list_tags(conn=conn, tenant_id=staff.tenant_id, person_id=person_id)
        try:
            consent = consent_service.status(conn, kernel, staff.tenant_id, person_id)
        except KernelError:
            consent = {"consents": [], "sensitive_minor": False, "marketing_eligible": False}
        history = [
            {k: e[k] for k in ("ts_us", "purpose", "channel", "kind", "method", "actor_type")}
            for e in ledger.events_of(conn, staff.tenant_id, person_id)
        ][-50:]
    ctx, grant = _reading_context(kernel, staff, person_id, in_scope)
    if ctx is None:
        raise NotFound(person_id)
    fields = person_fields(kernel, ctx.role, ctx.purpose)
    view = read(ctx, [person_id], fields)[0]
    history.reverse()
    # Only masked values can be revealed; an unmasked field (city, gender) has nothing to show.
    maskable = {f for f in fields if kernel.catalog.fields[f].mask is not Mask.NONE}
    purposes = {f: reveal_purposes(kernel, staff.role, f) if f in maskable else [] for f in fields}
    # Purposes an active break-glass grant adds for this person (H4).
    with read_connection(kernel.engine) as conn:
        grants = break_glass.active(
            conn, tenant_id=staff.tenant_id, account_id=staff.session.account_id
        )
    extra = {
        p
        for g in grants
        for p in break_glass.service_purposes(kernel)
        if g.covers(purpose=p, person_id=person_id)
    }
    if extra:
        grant = grant or grants[0]
        for f in maskable:
            purposes[f] = sorted(set(purposes[f]) | extra)
    return page(
        request,
        staff,
        "staff/person.html",
        {
            "person_id": person_id,
            "fields": fields,
            "view": view,
            "purposes": purposes,
            "events": events,
            "tags": tags,
            "consent": consent,
            "history": history,
            "grant": grant,
            "reveal_seconds": REVEAL_SECONDS,
        },
        section="people",
    )


def _reveal_context(
    kernel: Kernel, staff: Staff, person_id: str, field: str, purpose: str
) -> AccessContext:
    with unit(kernel, staff) as (conn, scope):
        in_scope = _in_scope(conn, scope, person_id)
    if in_scope and purpose in reveal_purposes(kernel, staff.role, field):
        return staff.context(purpose)
    grant = _grant(kernel, staff, purpose, person_id)
    if grant is not None:
        return grant.context(staff.username, staff.tenant_id, staff.locale, purpose)
    if not in_scope:
        raise NotFound(person_id)
    return staff.context(purpose)  # the vault refuses it, and audits the refusal


FIELD = re.compile(r"^[a-z_]{2,40}$")


@router.post("/staff/people/{person_id}/reveal")
def reveal(
    request: Request,
    person_id: PersonId,
    field: Annotated[str, Form(pattern=FIELD.pattern)],
    purpose: Annotated[str, Form(max_length=64)],
    staff: Staff = Depends(staff_form),
) -> HTMLResponse:
    kernel = kernel_of(request)
    if field not in kernel.catalog.fields or purpose not in kernel.catalog.purposes:
        raise NotFound(field)
    ctx = _reveal_context(kernel, staff, person_id, field, purpose)
    try:
        view = kernel.vault.read(ctx, [person_id], [field], reveal=True)[0]
    except AccessDenied as exc:
        return render(
            request,
            "staff/_reveal_denied.html",
            {"person_id": person_id, "field": field, "message": exc.message(staff.locale)},
            status_code=403,
        )
    return render(
        request,
        "staff/_revealed.html",
        {
            **catalog_names(kernel, staff.locale),
            "person_id": person_id,
            "field": field,
            "value": view.values.get(field),
            "revealed": field in view.revealed,
            "purpose": purpose,
            "seconds": REVEAL_SECONDS,
        },
    )


@router.get("/staff/people/{person_id}/masked")
def masked(
    request: Request,
    person_id: PersonId,
    field: Annotated[str, Query(pattern=FIELD.pattern)],
    staff: Staff = Depends(current_staff),
) -> HTMLResponse:
    """The masked value again (what the revealed value turns back into after 30 s)."""
    kernel = kernel_of(request)
    with unit(kernel, staff) as (conn, scope):
        in_scope = _in_scope(conn, scope, person_id)
    ctx, grant = _reading_context(kernel, staff, person_id, in_scope)
    if ctx is None or field not in person_fields(kernel, ctx.role, ctx.purpose):
        raise NotFound(person_id)
    view = kernel.vault.read(ctx, [person_id], [field], reveal=False)[0]
    offered = reveal_purposes(kernel, staff.role, field)
    if grant is not None:
        offered = sorted(set(offered) | {ctx.purpose})
    return render(
        request,
        "staff/_field.html",
        {
            **catalog_names(kernel, staff.locale),
            "person_id": person_id,
            "field": field,
            "value": view.values.get(field),
            "field_purposes": offered,
        },
    )
