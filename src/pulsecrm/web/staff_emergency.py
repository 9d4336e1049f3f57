"""Break-glass (H4) in the console: ask for emergency access with a reason, see and end
your active grants. The rules — time box, alert, review task, audit — live in
``pulsecrm.access.break_glass``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Path, Request
from starlette.responses import RedirectResponse, Response

from pulsecrm.access import break_glass
from pulsecrm.kernel.errors import KernelError
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import (
    Staff,
    StaffRoute,
    auth_config,
    current_staff,
    kernel_of,
    staff_form,
)
from pulsecrm.web.staff_common import page

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)


def _page(request: Request, staff: Staff, error: str | None = None, status: int = 200) -> Response:
    kernel = kernel_of(request)
    with read_connection(kernel.engine) as conn:
        grants = break_glass.active(
            conn, tenant_id=staff.tenant_id, account_id=staff.session.account_id
        )
    return page(
        request,
        staff,
        "staff/emergency.html",
        {
            "grants": grants,
            "purposes": break_glass.service_purposes(kernel),
            "max_minutes": auth_config(request).break_glass_max_minutes,
            "error": error,
            "person": request.query_params.get("person", ""),
        },
        section="emergency",
        status_code=status,
    )


@router.get("/staff/emergency")
def emergency(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    return _page(request, staff)


@router.post("/staff/emergency")
def request_access(
    request: Request,
    reason: Annotated[str, Form(max_length=1000)] = "",
    purpose: Annotated[str, Form(max_length=64)] = "",
    person_id: Annotated[str, Form(max_length=32)] = "",
    minutes: Annotated[int, Form(ge=1, le=24 * 60)] = 30,
    staff: Staff = Depends(staff_form),
) -> Response:
    kernel = kernel_of(request)
    try:
        with kernel.engine.begin() as conn:
            grant = break_glass.request(
                conn,
                kernel,
                tenant_id=staff.tenant_id,
                account_id=staff.session.account_id,
                username=staff.username,
                role=staff.role,
                reason=reason,
                purpose=None if person_id.strip() else (purpose or None),
                person_id=person_id.strip() or None,
                minutes=minutes,
                config=auth_config(request),
            )
    except KernelError as exc:
        return _page(request, staff, exc.message(staff.locale), 422)
    target = f"/staff/people/{grant.person_id}" if grant.person_id else "/staff/emergency"
    return RedirectResponse(target, status_code=303)


@router.post("/staff/emergency/{grant_id}/end")
def end_access(
    request: Request,
    grant_id: Annotated[str, Path(pattern=r"^[0-9a-f]{32}$")],
    staff: Staff = Depends(staff_form),
) -> Response:
    kernel = kernel_of(request)
    with kernel.engine.begin() as conn:
        break_glass.end(
            conn,
            kernel,
            tenant_id=staff.tenant_id,
            account_id=staff.session.account_id,
            username=staff.username,
            role=staff.role,
            grant_id=grant_id,
        )
    return RedirectResponse("/staff/emergency", status_code=303)
