"""One service message sent now (an appointment reminder), through the campaign pipeline.

Same claim, send-time checks, audited address read and channel adapters as a
campaign message (:func:`pulsecrm.marketing.sending.send_batch`), but no
campaign: the lawful basis is the purpose's own.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import update

from pulsecrm.kernel.audit_records import now_us as clock_us
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing import sending_store as store
from pulsecrm.marketing.send_tables import message
from pulsecrm.marketing.sending import AdapterLookup, send_batch
from pulsecrm.settings import Settings


@dataclass(frozen=True)
class ServiceSend:
    message_id: str
    status: str
    skip_reason: str | None
    error: str | None


def send_service_message(
    kernel: Kernel,
    *,
    tenant_id: int,
    person_id: str,
    channel: str,
    purpose: str,
    body: str,
    subject: str | None = None,
    settings: Settings | None = None,
    adapters: AdapterLookup | None = None,
) -> ServiceSend:
    """Send one service message (e.g. an appointment reminder) now, through the same pipeline.

    Its lawful basis is the purpose's (``service.appointment`` rests on the
    contract): a consent-based purpose is checked against consent, a
    contract one is not; a hard bounce or complaint on the channel stops it;
    the address is decrypted by the kernel for this purpose and audited.
    """
    now = clock_us()
    with kernel.engine.begin() as conn:
        message_id = store.insert_service_message(
            conn,
            tenant_id=tenant_id,
            person_id=person_id,
            channel=channel,
            purpose=purpose,
            now_us=now,
        )
    send_batch(
        kernel,
        tenant_id=tenant_id,
        message_ids=[message_id],
        settings=settings,
        adapters=adapters,
        now_us=now,
        flush_every=1,
        body={message_id: (subject, body)},
    )
    with kernel.engine.begin() as conn:
        # Nobody re-enqueues a service message: a retryable error ends it as failed,
        # and the caller (the reminder dispatcher) decides whether to try again.
        conn.execute(
            update(message)
            .where(
                message.c.tenant_id == tenant_id,
                message.c.id == message_id,
                message.c.status == store.QUEUED,
            )
            .values(status=store.FAILED)
        )
        row = conn.execute(
            message.select().where(message.c.tenant_id == tenant_id, message.c.id == message_id)
        ).one()
    return ServiceSend(message_id, row.status, row.skip_reason, row.error)
