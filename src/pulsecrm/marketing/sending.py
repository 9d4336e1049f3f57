"""Sending: enqueue a campaign's audience, then send batches — each message checked at send time.

The per-message pipeline (one worker, one batch of message ids):

1. **claim** ``queued`` → ``sending`` (``sending_store.claim``), committed
   before anything leaves the building, so no other worker can take it;
2. **re-check** consent (purpose, channel), suppression, frequency cap,
   quiet hours and shredding for the whole batch in one query each
   (``sending_checks``) — a withdrawal after the audience was built stops
   the message (C1);
3. **resolve the address inside the kernel**: one ``vault.read`` for the
   batch, role ``message_sender``, the message's own purpose and channel,
   revealed and audited; the vault checks consent once more in its own
   transaction;
4. **render** (``campaigns.render``) with the unsubscribe link, and tracked
   links only for people who consented to tracking (C9);
5. **send** through the channel adapter at the provider's rate, with the
   message id as the provider idempotency key;
6. **record** ``sent``/``failed`` and events (every half second or 500 sends, and
   whenever the worker unwinds). A crash between 5 and 6
   leaves the row ``sending``; ``recover`` settles it after the lease
   without ever sending it twice (see ``sending_store``).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import update

from pulsecrm.channels import (
    ChannelAdapter,
    ChannelError,
    OutboundMessage,
    PermanentError,
    ProviderResult,
    adapter_for,
)
from pulsecrm.consent.tokens import make_link_token, unsubscribe_scope
from pulsecrm.kernel.audit_records import now_us as clock_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import campaign_sends, campaigns, quiet_hours, send_rates
from pulsecrm.marketing import sending_checks as checks
from pulsecrm.marketing import sending_store as store
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.suppression import suppress
from pulsecrm.marketing.tracking import click_url_for, tracking_consented
from pulsecrm.settings import Settings
from pulsecrm.store.engine import read_connection

SENDER_ROLE = "message_sender"
SENDER_ACTOR = "job:send"
UNSUBSCRIBE_TTL_DAYS = 400
HARD_BOUNCE_CODES = ("smtp_550", "smtp_551", "smtp_553")
# Outcomes are recorded at least this often (and every ``flush_every`` sends): after
# a hard kill, at most this much sending is left as ``outcome_unknown``.
FLUSH_INTERVAL_S = 0.5

AdapterLookup = Callable[[str], ChannelAdapter]


@dataclass
class BatchOutcome:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    requeued: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    deferred_until_us: int | None = None
    # ids handed to a provider (or settled) in this batch; the rest can be released
    attempted: set[str] = field(default_factory=set, repr=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "claimed": self.claimed,
            "sent": self.sent,
            "failed": self.failed,
            "requeued": self.requeued,
            "skipped": dict(self.skipped),
            "deferred_until_us": self.deferred_until_us,
        }


@dataclass
class _Pending:
    """One claimed message on its way through the batch."""

    row: store.Claimed
    address: str | None = None
    locale: str = "zh-CN"
    tracked: bool = False


def send_batch(
    kernel: Kernel,
    *,
    tenant_id: int,
    message_ids: Sequence[str],
    settings: Settings | None = None,
    adapters: AdapterLookup | None = None,
    now_us: int | None = None,
    flush_every: int = 500,
    body: dict[str, tuple[str | None, str]] | None = None,
) -> BatchOutcome:
    """Send the queued messages among ``message_ids``; rows another worker holds are left alone.

    ``body`` maps message id → (subject, text) for service messages, which
    have no campaign template.
    """
    settings = settings or kernel.settings
    lookup = adapters or (lambda channel: adapter_for(channel, settings))
    now = now_us if now_us is not None else clock_us()
    outcome = BatchOutcome()
    with kernel.engine.begin() as conn:
        claimed = store.claim(conn, tenant_id=tenant_id, message_ids=message_ids, now_us=now)
    outcome.claimed = len(claimed)
    groups: dict[tuple[str | None, str, str], list[store.Claimed]] = {}
    for row in claimed:
        groups.setdefault((row.campaign_id, row.purpose, row.channel), []).append(row)
    try:
        for (campaign_id, purpose, channel), rows in groups.items():
            _send_group(
                kernel,
                settings,
                lookup,
                outcome,
                tenant_id=tenant_id,
                campaign_id=campaign_id,
                purpose=purpose,
                channel=channel,
                rows=rows,
                now=now,
                flush_every=flush_every,
                body=body or {},
            )
        campaign_ids = {c for c, _p, _ch in groups if c is not None}
        if campaign_ids and outcome.deferred_until_us is None:
            with kernel.engine.begin() as conn:
                for campaign_id in sorted(campaign_ids):
                    campaign_sends.settle_campaign(
                        conn, tenant_id=tenant_id, campaign_id=campaign_id
                    )
    except BaseException:
        # The worker is going down (error, shutdown, kill signal that unwinds):
        # hand back what it never tried. The one message in flight — handed to
        # the provider, outcome not recorded — stays ``sending`` for ``recover``.
        untried = [r.id for r in claimed if r.id not in outcome.attempted]
        if untried:
            _release(kernel, tenant_id, untried)
        raise
    return outcome


def _skip(
    outcomes: list[dict[str, Any]], outcome: BatchOutcome, row: store.Claimed, why: str
) -> None:
    outcomes.append({"id": row.id, "status": store.SKIPPED, "skip_reason": why})
    outcome.skipped[why] += 1


def _send_group(
    kernel: Kernel,
    settings: Settings,
    lookup: AdapterLookup,
    outcome: BatchOutcome,
    *,
    tenant_id: int,
    campaign_id: str | None,
    purpose: str,
    channel: str,
    rows: list[store.Claimed],
    now: int,
    flush_every: int,
    body: dict[str, tuple[str | None, str]],
) -> None:
    people = [r.person_id for r in rows]
    finished: list[dict[str, Any]] = []
    with read_connection(kernel.engine) as conn, conn.begin():
        campaign = campaigns.load_campaign(conn, tenant_id, campaign_id) if campaign_id else None
        if campaign is not None and campaign.status == "cancelled":
            for row in rows:
                _skip(finished, outcome, row, "cancelled")
            _flush(kernel, tenant_id, finished, [])
            return
        if campaign is not None:
            allowed_at = quiet_hours.next_allowed_us(campaign, now)
            if allowed_at > now:
                _release(kernel, tenant_id, [r.id for r in rows])
                outcome.requeued += len(rows)
                outcome.deferred_until_us = allowed_at
                return
        gone = checks.shredded(conn, tenant_id=tenant_id, person_ids=people)
        ok = checks.consented(
            conn, kernel, tenant_id=tenant_id, person_ids=people, purpose=purpose, channel=channel
        )
        blocked = checks.suppressed(
            conn,
            tenant_id=tenant_id,
            person_ids=people,
            channel=channel,
            reasons=None if campaign is not None else checks.SERVICE_SUPPRESSIONS,
            also=checks.consent_channel(kernel, purpose, channel),
        )
        capped: set[str] = set()
        locales: dict[str, str] = {}
        tracked: set[str] = set()
        if campaign is not None:
            if campaign.frequency_cap > 0:
                counts = store.sent_counts(
                    conn,
                    tenant_id=tenant_id,
                    person_ids=people,
                    channel=channel,
                    since_us=now - campaign.frequency_window_days * 86_400_000_000,
                )
                capped = {p for p, n in counts.items() if n >= campaign.frequency_cap}
            locales = checks.locales(
                conn, tenant_id=tenant_id, campaign_id=campaign.id, person_ids=people
            )
            tracked = tracking_consented(
                conn, kernel, tenant_id=tenant_id, person_ids=people, channel=channel
            )
    pending: list[_Pending] = []
    for row in rows:
        if row.person_id in gone:
            _skip(finished, outcome, row, "shredded")
        elif row.person_id not in ok:
            _skip(finished, outcome, row, "consent")
        elif row.person_id in blocked:
            _skip(finished, outcome, row, "suppressed")
        elif row.person_id in capped:
            _skip(finished, outcome, row, "frequency_cap")
        else:
            pending.append(
                _Pending(
                    row,
                    locale=locales.get(row.person_id, "zh-CN"),
                    tracked=row.person_id in tracked,
                )
            )
    pending = _resolve_addresses(kernel, tenant_id, purpose, channel, pending, finished, outcome)
    _flush(kernel, tenant_id, finished, [])
    _deliver(
        kernel,
        settings,
        lookup,
        outcome,
        tenant_id=tenant_id,
        campaign=campaign,
        purpose=purpose,
        channel=channel,
        pending=pending,
        flush_every=flush_every,
        body=body,
    )


def _resolve_addresses(
    kernel: Kernel,
    tenant_id: int,
    purpose: str,
    channel: str,
    pending: list[_Pending],
    finished: list[dict[str, Any]],
    outcome: BatchOutcome,
) -> list[_Pending]:
    """One audited kernel read for the batch: the address, for this purpose and channel only."""
    if not pending:
        return []
    field_name = checks.address_field(kernel, purpose, channel)
    if field_name is None:
        for item in pending:
            _skip(finished, outcome, item.row, "no_address")
        return []
    ctx = AccessContext(
        actor=SENDER_ACTOR,
        role=SENDER_ROLE,
        tenant_id=tenant_id,
        purpose=purpose,
        channel=checks.consent_channel(kernel, purpose, channel),
    )
    views = kernel.vault.read(ctx, [p.row.person_id for p in pending], [field_name], reveal=True)
    by_person = {v.subject_id: v for v in views}
    ready: list[_Pending] = []
    for item in pending:
        view = by_person[item.row.person_id]
        value = view.values.get(field_name)
        if view.denied.get(field_name) == "consent":
            _skip(finished, outcome, item.row, "consent")
        elif field_name in view.failed:
            _skip(finished, outcome, item.row, "shredded")
        elif not value:
            _skip(finished, outcome, item.row, "no_address")
        else:
            item.address = str(value)
            ready.append(item)
    return ready


def _compose(
    kernel: Kernel,
    settings: Settings,
    tenant_id: int,
    campaign: Any,
    purpose: str,
    channel: str,
    item: _Pending,
    body: dict[str, tuple[str | None, str]],
) -> OutboundMessage:
    row = item.row
    resolved = checks.consent_channel(kernel, purpose, channel) or channel
    base = settings.public_base_url.rstrip("/")
    if campaign is None:
        subject, text = body.get(row.id, (None, ""))
        return OutboundMessage(
            message_id=row.id,
            tenant_id=tenant_id,
            channel=channel,
            to=str(item.address),
            text=text,
            subject=subject,
        )
    token = make_link_token(
        kernel,
        tenant_id,
        row.person_id,
        scope=unsubscribe_scope(purpose, resolved),
        ttl_days=UNSUBSCRIBE_TTL_DAYS,
    )
    unsubscribe_url = f"{base}/api/v1/unsubscribe/{token}?m={row.id}"
    click = click_url_for(kernel, tenant_id, row.id, base) if item.tracked else None
    rendered = campaigns.render(
        campaign, item.locale, unsubscribe_url=unsubscribe_url, click_url=click
    )
    return OutboundMessage(
        message_id=row.id,
        tenant_id=tenant_id,
        channel=channel,
        to=str(item.address),
        text=rendered.text,
        subject=rendered.subject,
        html=rendered.html,
        headers=dict(rendered.headers),
        unsubscribe_url=unsubscribe_url,
        sender_name=campaign.sender_name,
    )


def _deliver(
    kernel: Kernel,
    settings: Settings,
    lookup: AdapterLookup,
    outcome: BatchOutcome,
    *,
    tenant_id: int,
    campaign: Any,
    purpose: str,
    channel: str,
    pending: list[_Pending],
    flush_every: int,
    body: dict[str, tuple[str | None, str]],
) -> None:
    if not pending:
        return
    adapter = lookup(channel)
    buckets = [send_rates.provider_bucket(settings, adapter)]
    if campaign is not None and campaign.send_rate_per_s:
        buckets.append(
            send_rates.campaign_bucket(settings, campaign.id, float(campaign.send_rate_per_s))
        )
    finished: list[dict[str, Any]] = []
    events: list[tuple[str, str, int, str]] = []
    last_flush = time.monotonic()
    try:
        for item in pending:
            outbound = _compose(kernel, settings, tenant_id, campaign, purpose, channel, item, body)
            for bucket in buckets:
                bucket.acquire()
            outcome.attempted.add(item.row.id)
            try:
                result: ProviderResult = adapter.send(outbound)
            except ChannelError as exc:
                _failed(kernel, tenant_id, item, exc, finished, events, outcome)
            else:
                at = clock_us()
                finished.append(
                    {
                        "id": item.row.id,
                        "status": store.SENT,
                        "provider": result.provider,
                        "provider_message_id": result.provider_message_id[:128],
                        "sent_us": at,
                    }
                )
                if result.delivered:
                    events.append((item.row.id, "delivered", at, result.provider))
                outcome.sent += 1
            if len(finished) >= flush_every or (
                finished and time.monotonic() - last_flush >= FLUSH_INTERVAL_S
            ):
                _flush(kernel, tenant_id, finished, events)
                last_flush = time.monotonic()
    finally:
        # Whatever happened, what was sent is recorded; a crash mid-send
        # leaves only the message in flight in ``sending`` (see module doc).
        _flush(kernel, tenant_id, finished, events)


def _failed(
    kernel: Kernel,
    tenant_id: int,
    item: _Pending,
    exc: ChannelError,
    finished: list[dict[str, Any]],
    events: list[tuple[str, str, int, str]],
    outcome: BatchOutcome,
) -> None:
    row = item.row
    if exc.retryable and row.attempts < store.MAX_ATTEMPTS:
        finished.append({"id": row.id, "status": store.QUEUED, "error": exc.code})
        outcome.requeued += 1
        return
    finished.append({"id": row.id, "status": store.FAILED, "error": exc.code})
    events.append((row.id, "failed", clock_us(), exc.code))
    outcome.failed += 1
    if isinstance(exc, PermanentError) and exc.code in HARD_BOUNCE_CODES:
        with kernel.engine.begin() as conn:
            suppress(
                conn,
                tenant_id=tenant_id,
                person_id=row.person_id,
                channel=row.channel,
                reason="hard_bounce",
                source=f"send:{exc.code}",
                now_us=clock_us(),
            )


def _flush(
    kernel: Kernel,
    tenant_id: int,
    finished: list[dict[str, Any]],
    events: list[tuple[str, str, int, str]],
) -> None:
    if not finished and not events:
        return
    with kernel.engine.begin() as conn:
        store.finish(conn, tenant_id, finished)
        store.add_events(conn, tenant_id, events)
    finished.clear()
    events.clear()


def _release(kernel: Kernel, tenant_id: int, ids: list[str]) -> None:
    """Quiet hours: hand the claim back untouched, to be sent when the window opens."""
    with kernel.engine.begin() as conn:
        conn.execute(
            update(message)
            .where(
                message.c.tenant_id == tenant_id,
                message.c.id.in_(ids),
                message.c.status == store.SENDING,
            )
            .values(status=store.QUEUED, claimed_us=None, attempts=message.c.attempts - 1)
        )


# -- recovery -----------------------------------------------------------------------
def recover(
    kernel: Kernel, *, tenant_id: int, settings: Settings | None = None, now_us: int | None = None
) -> dict[str, int]:
    """Settle crashed ``sending`` rows: resend only where the provider deduplicates our key."""
    settings = settings or kernel.settings
    requeue = []
    for channel in ("sms", "email", "wechat", "outbox"):
        try:
            adapter = adapter_for(channel, settings)
        except ValueError:
            continue
        window = getattr(adapter, "dedupe_window_s", 0)
        if adapter.idempotent and settings.send_lease_s < window:
            requeue.append(channel)
    with kernel.engine.begin() as conn:
        return store.recover_stale(
            conn,
            tenant_id=tenant_id,
            now_us=now_us if now_us is not None else clock_us(),
            lease_s=settings.send_lease_s,
            requeue_channels=requeue,
        )


# -- service messages (appointment reminders) ---------------------------------------
