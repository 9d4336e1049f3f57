"""Segments and campaigns (issue #5, built in parallel): a list page over
``pulsecrm.marketing`` when its services are present, a clear placeholder otherwise."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of
from pulsecrm.web.staff_common import page

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)


def _segments(request: Request, staff: Staff) -> list[Any] | None:
    try:
        from pulsecrm.marketing import segments
    except ImportError:  # pragma: no cover - marketing not installed
        return None
    lister = getattr(segments, "list_segments", None)
    if lister is None:
        return None
    with read_connection(kernel_of(request).engine) as conn:
        found, _total = lister(conn, staff.tenant_id)
        return list(found)


@router.get("/staff/marketing")
def marketing(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    try:
        items = _segments(request, staff)
    except Exception:
        items = None
    return page(request, staff, "staff/marketing.html", {"segments": items}, section="marketing")
