"""Dashboard: the funnel (lead → consultation → appointment → arrival → deal) and KPIs,
by channel, campaign, consultant, branch or month, over a chosen period.

Runs ``crm.funnel`` on the pseudonymous workflow tables only — no decryption,
no audit entry per person — and draws the charts as server-rendered SVG (the
CSP allows no script that a chart library would need).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import Response

from pulsecrm.crm import funnel, org_service
from pulsecrm.crm.ids import DAY_US, now_us
from pulsecrm.store.engine import read_connection
from pulsecrm.web.auth_session import Staff, StaffRoute, current_staff, kernel_of
from pulsecrm.web.i18n import translator
from pulsecrm.web.staff_common import page, staff_names

router = APIRouter(route_class=StaffRoute, tags=["staff"], include_in_schema=False)
PERIODS = {"30d": 30, "90d": 90, "365d": 365, "all": None}
STEPS = ("leads", "consulted", "booked", "arrived", "closed")
MAX_ROWS = 12


def _bars(rows: list[dict[str, Any]], metric: str, width: int = 560) -> dict[str, Any]:
    """Geometry for a horizontal bar chart (SVG presentation attributes, no inline style)."""
    top = max((r[metric] or 0 for r in rows), default=0) or 1
    bar_h, gap, label_w = 22, 8, 150
    items = []
    for i, r in enumerate(rows):
        value = r[metric] or 0
        items.append(
            {
                "label": r["label"],
                "value": value,
                "y": i * (bar_h + gap),
                "w": max(1, int((width - label_w - 90) * value / top)) if value else 0,
            }
        )
    return {
        "items": items,
        "height": max(1, len(rows)) * (bar_h + gap),
        "width": width,
        "bar_h": bar_h,
        "label_w": label_w,
    }


@router.get("/staff/")
def dashboard(
    request: Request,
    by: Annotated[Literal["channel", "campaign", "consultant", "branch", "month"], Query()] = (
        "channel"
    ),
    period: Annotated[Literal["30d", "90d", "365d", "all"], Query()] = "365d",
    staff: Staff = Depends(current_staff),
) -> Response:
    kernel = kernel_of(request)
    now = now_us()
    days = PERIODS[period]
    from_us = now - days * DAY_US if days else None
    with read_connection(kernel.engine) as conn, conn.begin():
        total = funnel.funnel(
            conn=conn, tenant_id=staff.tenant_id, by="total", from_us=from_us, now=now
        )
        grouped = funnel.funnel(
            conn=conn, tenant_id=staff.tenant_id, by=by, from_us=from_us, now=now
        )
        branches = {
            str(b["id"]): str(b["name"])
            for b in org_service.list_branches(conn=conn, tenant_id=staff.tenant_id)
        }
    names = staff_names(kernel, staff.tenant_id) if by == "consultant" else {}
    t = translator(staff.locale)

    def label(key: Any) -> str:
        if key is None:
            return "—"
        if by == "branch":
            return branches.get(str(key), str(key))
        if by == "consultant":
            return names.get(int(key), str(key)) if str(key).isdigit() else str(key)
        return str(key)

    rows = [{**r.as_dict(), "label": label(r.key)} for r in grouped]
    rows.sort(key=lambda r: r["leads"], reverse=True)
    overall = total[0].as_dict() if total else None
    steps = [{"name": s, "value": overall[s] if overall else 0} for s in STEPS]
    return page(
        request,
        staff,
        "staff/dashboard.html",
        {
            "by": by,
            "period": period,
            "periods": list(PERIODS),
            "dimensions": ["channel", "campaign", "consultant", "branch", "month"],
            "overall": overall,
            "funnel_chart": _bars(
                [
                    {"label": t(f"staff.dashboard.step.{s['name']}"), "leads": s["value"]}
                    for s in steps
                ],
                "leads",
            ),
            "rows": rows[:50],
            "leads_chart": _bars(rows[:MAX_ROWS], "leads"),
            "revenue_chart": _bars(rows[:MAX_ROWS], "revenue_cents"),
        },
        section="dashboard",
    )
