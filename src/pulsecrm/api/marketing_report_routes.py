"""Sending and its report: ``POST /api/v1/campaigns/{id}/send`` and ``GET …/attribution``.

``send`` starts a scheduled campaign: with ``PULSECRM_QUEUE_URL`` set the jobs go
to the broker for ``pulsecrm worker``; without it (the embedded default) the
batches are sent in-process after the response (202), through the same
pipeline. ``attribution`` returns counts only: message states, skip reasons,
deliveries, and the appointments, arrivals and deals credited to the campaign
(``marketing.attribution``). Marketing managers send; privacy officers may read.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, BackgroundTasks, Depends, Path, Query

from pulsecrm.api.auth import StaffPrincipal
from pulsecrm.api.deps import get_kernel, staff
from pulsecrm.jobs.actors import declare_actors
from pulsecrm.jobs.broker import QueueUnavailable, build_broker, check_broker, is_in_process
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import campaign_sends, sending
from pulsecrm.marketing.access import require_role
from pulsecrm.marketing.attribution import DEFAULT_WINDOW_DAYS, attribute
from pulsecrm.marketing.campaigns import load_campaign
from pulsecrm.store.engine import read_connection

router = APIRouter(prefix="/api/v1", tags=["campaigns"])
ID_PATTERN = r"^[0-9a-f]{32}$"


def _send_in_process(kernel: Kernel, tenant_id: int, ids: list[str], size: int) -> None:
    for batch in campaign_sends.batches(ids, size):
        sending.send_batch(kernel, tenant_id=tenant_id, message_ids=batch)


@router.post("/campaigns/{campaign_id}/send", status_code=202)
def send_campaign(
    background: BackgroundTasks,
    campaign_id: str = Path(pattern=ID_PATTERN),
    principal: StaffPrincipal = Depends(staff),
    kernel: Kernel = Depends(get_kernel),
) -> dict[str, Any]:
    ctx = principal.context("marketing.sms")
    require_role(kernel, ctx, write=True, what="campaigns")
    settings = kernel.settings
    broker = build_broker(settings)
    try:
        check_broker(broker, settings)
    except QueueUnavailable:
        raise campaign_sends.QueueDown(
            "queue",
            "the queue broker is not reachable; try again later",
            "消息队列不可用，请稍后重试",
        ) from None
    with kernel.engine.begin() as conn:
        started = campaign_sends.start_campaign(
            conn, tenant_id=ctx.tenant_id, campaign_id=campaign_id
        )
    size = settings.send_batch_size
    delay_ms = max(0, (started.not_before_us - now_us()) // 1000)
    if is_in_process(broker):
        if delay_ms:
            raise campaign_sends.QueueDown(
                "queue",
                "a campaign scheduled for later needs PULSECRM_QUEUE_URL and a worker",
                "定时发送需要配置 PULSECRM_QUEUE_URL 并运行 worker",
            )
        background.add_task(_send_in_process, kernel, ctx.tenant_id, started.message_ids, size)
        mode = "in_process"
    else:
        actors = declare_actors(broker)
        for batch in campaign_sends.batches(started.message_ids, size):
            actors.send_batch.send_with_options(args=(ctx.tenant_id, batch), delay=delay_ms or None)
        mode = "queued"
    return {"campaign_id": campaign_id, "queued": len(started.message_ids), "mode": mode}


@router.get("/campaigns/{campaign_id}/attribution")
def campaign_attribution(
    campaign_id: str = Path(pattern=ID_PATTERN),
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
