"""What comes back from providers and people: delivery receipts, replies, unsubscribes (C2, B9).

* A **delivery receipt** becomes a ``delivered``/``failed`` event on its
  message (matched by our id when the provider echoes it, else by the
  provider's id). A receipt for a message recovery had to give up on
  (``outcome_unknown``) proves it went out, so the row becomes ``sent``.
* An **unsubscribe reply** ("TD", "退订", "STOP"… — ``consent.keywords``)
  withdraws every consent on that channel *and* suppresses the channel in
  the same transaction, so the next send — even one already queued — is
  stopped (C1 re-check at send time). The reply text is never stored.
* An **unsubscribe link** (page button or RFC 8058 one-click POST) does the
  same for the link's purpose and channel.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, update

from pulsecrm.channels.receipts import DeliveryReceipt, InboundReply
from pulsecrm.consent import service
from pulsecrm.consent.errors import ConsentError
from pulsecrm.consent.keywords import is_unsubscribe
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.sending_store import FAILED, SENT, add_events
from pulsecrm.marketing.suppression import suppress

DEFAULT_SMS_PURPOSE = "marketing.sms"


class WebhookRefused(ConsentError):
    """A provider callback whose shared secret or body does not verify."""

    code = rule = "webhook_refused"
    http_status = 401


@dataclass(frozen=True)
class ReceiptReport:
    matched: int
    unmatched: int


def record_receipts(
    conn: Connection, *, tenant_id: int, receipts: Sequence[DeliveryReceipt], now_us: int
) -> ReceiptReport:
    by_ours = [r.message_id for r in receipts if r.message_id]
    by_provider = [
        r.provider_message_id for r in receipts if not r.message_id and r.provider_message_id
    ]
    known: dict[str, tuple[str, str, str | None]] = {}
    if by_ours:
        for row in conn.execute(
            select(message.c.id, message.c.status, message.c.error).where(
                message.c.tenant_id == tenant_id, message.c.id.in_(by_ours)
            )
        ):
            known[row.id] = (row.id, row.status, row.error)
    provider_ids: dict[str, str] = {}
    if by_provider:
        for found in conn.execute(
            select(
                message.c.id, message.c.provider_message_id, message.c.status, message.c.error
            ).where(
                message.c.provider.in_(sorted({r.provider for r in receipts})),
                message.c.provider_message_id.in_(by_provider),
                message.c.tenant_id == tenant_id,
            )
        ):
            provider_ids[str(found.provider_message_id)] = found.id
            known[found.id] = (found.id, found.status, found.error)
    events: list[tuple[str, str, int, str]] = []
    unmatched = 0
    for receipt in receipts:
        message_id = receipt.message_id or provider_ids.get(receipt.provider_message_id or "")
        if message_id is None or message_id not in known:
            unmatched += 1
            continue
        kind = "delivered" if receipt.delivered else "failed"
        events.append(
            (message_id, kind, receipt.at_us or now_us, f"{receipt.provider}:{receipt.code}")
        )
        _, status, error = known[message_id]
        if receipt.delivered and status == FAILED and error == "outcome_unknown":
            conn.execute(
                update(message)
                .where(message.c.tenant_id == tenant_id, message.c.id == message_id)
                .values(status=SENT, sent_us=receipt.at_us or now_us, error=None)
            )
    add_events(conn, tenant_id, events)
    return ReceiptReport(matched=len(events), unmatched=unmatched)


def _last_message(conn: Connection, tenant_id: int, person_id: str, channel: str) -> str | None:
    found = conn.execute(
        select(message.c.id)
        .where(
            message.c.tenant_id == tenant_id,
            message.c.person_id == person_id,
            message.c.channel == channel,
            message.c.status == SENT,
        )
        .order_by(message.c.sent_us.desc())
        .limit(1)
    ).scalar()
    return str(found) if found else None


def stop_channel(
    conn: Connection,
    *,
    tenant_id: int,
    person_id: str,
    channel: str,
    reason: str,
    source: str,
    now_us: int,
    message_id: str | None = None,
) -> None:
    """Suppress the channel and note an ``unsubscribed`` event on the message it answered."""
    suppress(
        conn,
        tenant_id=tenant_id,
        person_id=person_id,
        channel=channel,
        reason=reason,
        source=source,
        now_us=now_us,
    )
    target = message_id
    if target is not None:
        owner = conn.execute(
            select(message.c.person_id).where(
                message.c.tenant_id == tenant_id, message.c.id == target
            )
        ).scalar()
        if owner != person_id:  # the query parameter is not signed: trust it only if it fits
            target = None
    target = target or _last_message(conn, tenant_id, person_id, channel)
    if target is not None:
        add_events(conn, tenant_id, [(target, "unsubscribed", now_us, reason)])


@dataclass(frozen=True)
class ReplyOutcome:
    unsubscribe: bool
    people: int
    withdrawals: int


def handle_reply(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    *,
    reply: InboundReply,
    now_us: int,
    channel: str = "sms",
) -> ReplyOutcome:
    """An inbound reply: an unsubscribe keyword withdraws and suppresses at once, for every
    person with that number; any reply is noted on the message it answers (no text kept)."""
    try:
        people = service.people_by_contact(conn, kernel, ctx, "phone", reply.phone)
    except InvalidValue:
        return ReplyOutcome(False, 0, 0)
    unsubscribe = is_unsubscribe(reply.text)
    withdrawals = 0
    for person_id in people:
        last = _last_message(conn, ctx.tenant_id, person_id, channel)
        if last is not None:
            add_events(
                conn,
                ctx.tenant_id,
                [(last, "replied", now_us, "unsubscribe" if unsubscribe else "reply")],
            )
        if not unsubscribe:
            continue
        withdrawals += len(
            service.withdraw(
                conn,
                kernel,
                ctx,
                person_id=person_id,
                channel=channel,
                method="sms_reply",
                evidence=service.Evidence(ref=f"{reply.provider}:{reply.at_us or now_us}"[:200]),
                default_purpose=DEFAULT_SMS_PURPOSE,
            )
        )
        stop_channel(
            conn,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            channel=channel,
            reason="td_reply",
            source=f"reply:{reply.provider}",
            now_us=now_us,
        )
    return ReplyOutcome(unsubscribe, len(people), withdrawals)
