"""Daily work: the follow-up queue (overdue / today / upcoming), the appointment calendar
per branch and doctor (a week), and the lead inbox with its first-response timer.

Lists show people by masked name only (one batched, audited vault read per
page, for the page's own purpose); actions go through the CRM services with
the caller's row scope.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Form, Path, Query, Request
from starlette.responses import RedirectResponse, Response

from pulsecrm.crm import appointment_service, followup_service, lead_service, org_service
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of, staff_form
from pulsecrm.web.staff_common import fields_for, page, staff_names, unit
from pulsecrm.web.templating import DISPLAY_TZ

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)
Id = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")]


def masked_names(kernel: Kernel, staff: Staff, purpose: str, ids: list[str]) -> dict[str, str]:
    """Masked names for a list (one audited read), or nothing if the role has no grant."""
    ids = sorted({i for i in ids if i})
    if not ids or "name" not in fields_for(kernel, staff.role, purpose):
        return {}
    views = kernel.vault.read(staff.context(purpose), ids, ["name"], reveal=False)
    return {v.subject_id: v.values.get("name") or "—" for v in views}


@router.get("/staff/followups")
def followups(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    kernel = kernel_of(request)
    with unit(kernel, staff) as (conn, scope):
        queue = followup_service.queue(conn=conn, scope=scope)
    ids = [t["person_id"] for bucket in queue.values() for t in bucket]
    names = masked_names(kernel, staff, "service.followup", ids)
    return page(
        request,
        staff,
        "staff/followups.html",
        {
            "queue": queue,
            "names": names,
            "now": now_us(),
            "outcomes": ("reached", "no_answer", "satisfied", "complaint", "rebook"),
        },
        section="followups",
    )


@router.post("/staff/followups/{task_id}/complete")
def complete_followup(
    request: Request,
    task_id: Id,
    outcome: Annotated[Literal["reached", "no_answer", "satisfied", "complaint", "rebook"], Form()],
    staff: Staff = Depends(staff_form),
) -> Response:
    with unit(kernel_of(request), staff, write=True) as (conn, scope):
        followup_service.complete(conn=conn, scope=scope, task_id=task_id, outcome=outcome)
    return RedirectResponse("/staff/followups", status_code=303)


def _week_start(day: date | None) -> date:
    today = day or datetime.now(DISPLAY_TZ).date()
    return today - timedelta(days=today.weekday())


def _local_midnight_us(day: date) -> int:
    local = datetime(day.year, day.month, day.day, tzinfo=DISPLAY_TZ)
    return int(local.astimezone(UTC).timestamp() * 1_000_000)


@router.get("/staff/calendar")
def calendar(
    request: Request,
    week: Annotated[date | None, Query()] = None,
    branch: Annotated[str | None, Query(max_length=32)] = None,
    doctor: Annotated[int | None, Query(ge=1, lt=2**31)] = None,
    staff: Staff = Depends(current_staff),
) -> Response:
    kernel = kernel_of(request)
    start_day = _week_start(week)
    start = _local_midnight_us(start_day)
    with unit(kernel, staff) as (conn, scope):
        branches = org_service.list_branches(conn=conn, tenant_id=staff.tenant_id)
        items, total = appointment_service.list_appointments(
            conn=conn,
            scope=scope,
            branch_id=branch or None,
            doctor_id=doctor,
            from_us=start,
            to_us=start + 7 * DAY_US,
            limit=200,
        )
        doctors_seen, _ = appointment_service.list_appointments(
            conn=conn,
            scope=scope,
            branch_id=branch or None,
            from_us=start,
            to_us=start + 7 * DAY_US,
            limit=200,
        )
    names = staff_names(kernel, staff.tenant_id)
    people = masked_names(kernel, staff, "service.appointment", [a["person_id"] for a in items])
    days: list[dict[str, Any]] = []
    for i in range(7):
        day = start_day + timedelta(days=i)
        lo = start + i * DAY_US
        days.append(
            {
                "date": day,
                "items": [a for a in items if lo <= a["slot_us"] < lo + DAY_US],
            }
        )
    doctors = sorted({a["doctor_id"] for a in doctors_seen if a["doctor_id"]})
    return page(
        request,
        staff,
        "staff/calendar.html",
        {
            "days": days,
            "week": start_day,
            "prev_week": start_day - timedelta(days=7),
            "next_week": start_day + timedelta(days=7),
            "branches": branches,
            "branch": branch or "",
            "doctor": doctor,
            "doctors": [(d, names.get(d, str(d))) for d in doctors],
            "names": names,
            "people": people,
            "total": total,
        },
        section="calendar",
    )


@router.get("/staff/leads")
def leads(
    request: Request,
    status: Annotated[Literal["new", "contacted", "converted", "lost", "all"], Query()] = "new",
    staff: Staff = Depends(current_staff),
) -> Response:
    kernel = kernel_of(request)
    with unit(kernel, staff) as (conn, scope):
        items, total = lead_service.list_leads(
            conn=conn, scope=scope, status=None if status == "all" else status, limit=100
        )
    now = now_us()
    for item in items:
        end = item["first_response_us"] or now
        item["waiting_min"] = max(0, (end - item["created_us"]) // 60_000_000)
        item["answered"] = item["first_response_us"] is not None
    names = masked_names(kernel, staff, "service.appointment", [i["person_id"] for i in items])
    return page(
        request,
        staff,
        "staff/leads.html",
        {
            "items": items,
            "total": total,
            "status": status,
            "names": names,
            "staff_names": staff_names(kernel, staff.tenant_id),
            "statuses": ("new", "contacted", "converted", "lost", "all"),
        },
        section="leads",
    )


@router.post("/staff/leads/{lead_id}/respond")
def respond(request: Request, lead_id: Id, staff: Staff = Depends(staff_form)) -> Response:
    with unit(kernel_of(request), staff, write=True) as (conn, scope):
        lead_service.respond(conn=conn, scope=scope, lead_id=lead_id)
    return RedirectResponse("/staff/leads", status_code=303)
