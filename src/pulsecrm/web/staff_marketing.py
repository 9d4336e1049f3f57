"""Segments and campaigns (issue #5) in the console: read-only lists over
``pulsecrm.marketing`` — segments with their purpose, campaigns with status, the
stored audience (included, excluded by first reason) and send status.

Building and launching stay in the API (``/api/v1/segments``, ``/api/v1/campaigns``)
for now; these pages read the same services. Only the marketing manager and the
privacy officer may read marketing (``marketing.access.READERS``); a refusal is
audited there.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from pulsecrm.marketing import audience, campaigns, segments, sending_store
from pulsecrm.marketing.access import READERS, require_role
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of
from pulsecrm.web.staff_common import page

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)
PURPOSE = "marketing.sms"


@router.get("/staff/marketing")
def marketing(request: Request, staff: Staff = Depends(current_staff)) -> Response:
    kernel = kernel_of(request)
    if staff.role not in READERS:
        return page(request, staff, "staff/marketing.html", {"allowed": False}, section="marketing")
    require_role(kernel, staff.context(PURPOSE), write=False, what="campaigns")
    items: list[dict[str, Any]] = []
    with read_connection(kernel.engine) as conn, conn.begin():
        segs, seg_total = segments.list_segments(conn, staff.tenant_id, limit=100)
        names = {s.id: s.name for s in segs}
        found, camp_total = campaigns.list_campaigns(conn, staff.tenant_id, limit=100)
        for c in found:
            report = audience.stored_report(conn, staff.tenant_id, c.id)
            items.append(
                {
                    "campaign": c,
                    "segment": names.get(c.segment_id, c.segment_id[:8]),
                    "audience": report.public() if report else None,
                    "sent": sending_store.status_counts(
                        conn, tenant_id=staff.tenant_id, campaign_id=c.id
                    ),
                }
            )
    return page(
        request,
        staff,
        "staff/marketing.html",
        {
            "allowed": True,
            "segments": segs,
            "segment_total": seg_total,
            "campaigns": items,
            "campaign_total": camp_total,
            "reasons": audience.REASONS,
        },
        section="marketing",
    )
