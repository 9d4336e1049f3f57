"""A campaign handed to the queue: ``scheduled → sending`` with its audience queued as
``message`` rows (idempotent), split into job batches, and ``sending → done`` once
nothing is pending. The per-message pipeline is in :mod:`pulsecrm.marketing.sending`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection

from pulsecrm.kernel.audit_records import now_us as clock_us
from pulsecrm.marketing import campaigns
from pulsecrm.marketing import sending_store as store
from pulsecrm.marketing.errors import CampaignState


# -- enqueue ------------------------------------------------------------------------
def enqueue_campaign(
    conn: Connection, *, tenant_id: int, campaign_id: str, now_us: int | None = None
) -> list[str]:
    """Queue one message per audience row (idempotent) and return the ids still queued."""
    campaign = campaigns.load_campaign(conn, tenant_id, campaign_id)
    store.enqueue_audience(
        conn,
        tenant_id=tenant_id,
        campaign_id=campaign_id,
        purpose=campaign.purpose,
        channel=campaign.channel,
        now_us=now_us if now_us is not None else clock_us(),
    )
    return store.queued_ids(conn, tenant_id=tenant_id, campaign_id=campaign_id)


SENDABLE = ("scheduled", "sending")


class QueueDown(CampaignState):
    """The campaign cannot be handed to the queue now (broker down, no worker for a delay)."""

    code = "queue_unavailable"
    http_status = 503


@dataclass(frozen=True)
class Started:
    campaign_id: str
    message_ids: list[str]
    # when the first job may run (the campaign's schedule, after quiet hours)
    not_before_us: int


def start_campaign(
    conn: Connection, *, tenant_id: int, campaign_id: str, now_us: int | None = None
) -> Started:
    """Move a scheduled campaign to ``sending`` and queue its audience (idempotent: a re-run
    queues nobody twice and returns what is still queued)."""
    now = now_us if now_us is not None else clock_us()
    found = campaigns.load_campaign(conn, tenant_id, campaign_id)
    if found.status not in SENDABLE:
        raise CampaignState(
            "status",
            f"only a scheduled campaign can be sent (this one is {found.status})",
            f"只有已排期的活动可以发送（当前状态：{found.status}）",
            rule="not_scheduled",
        )
    if found.status != "sending":
        campaigns.set_status(conn, tenant_id, campaign_id, "sending", scheduled_us=None)
    ids = enqueue_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id, now_us=now)
    return Started(campaign_id, ids, max(now, found.scheduled_us or now))


def settle_campaign(conn: Connection, *, tenant_id: int, campaign_id: str) -> bool:
    """``sending`` → ``done`` once no message is queued or in flight; True when it is done."""
    if store.has_pending(conn, tenant_id=tenant_id, campaign_id=campaign_id):
        return False
    found = campaigns.load_campaign(conn, tenant_id, campaign_id)
    if found.status == "sending":
        campaigns.set_status(conn, tenant_id, campaign_id, "done", scheduled_us=None)
    return True


def batches(ids: Sequence[str], size: int) -> list[list[str]]:
    return [list(ids[i : i + size]) for i in range(0, len(ids), max(1, size))]


# -- the batch ----------------------------------------------------------------------
