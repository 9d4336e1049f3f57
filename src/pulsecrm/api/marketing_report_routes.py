"""``GET /api/v1/campaigns/{id}/attribution``: delivery and last-touch outcomes of a campaign.

Counts only: message states, skip reasons, deliveries, and the appointments,
arrivals and deals credited to the campaign (``marketing.attribution``).
Marketing managers and privacy officers may read it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Path, Query

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.access import require_role
from pulsecrm.marketing.attribution import DEFAULT_WINDOW_DAYS, attribute
from pulsecrm.marketing.campaigns import load_campaign
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["campaigns"])


@router.get("/campaigns/{campaign_id}/attribution")
def campaign_attribution(
    campaign_id: str = Path(pattern=r"^[0-9a-f]{32}$"),
    window_days: int = Query(default=DEFAULT_WINDOW_DAYS, ge=1, le=365),
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context("marketing.sms")
    require_role(kernel, ctx, write=False, what="campaigns")
    with read_connection(kernel.engine) as conn, conn.begin():
        load_campaign(conn, ctx.tenant_id, campaign_id)
        report = attribute(
            conn, tenant_id=ctx.tenant_id, campaign_id=campaign_id, window_days=window_days
        )
    return report.as_dict()
