"""The sending actors, declared on a given broker (so tests and workers choose the broker).

A job carries a batch of message ids, not a person: the message rows in the
database are the source of truth and the unit of idempotency, so a job
delivered twice, retried or replayed sends nothing twice — it only claims
rows that are still ``queued``.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import dramatiq
from dramatiq import Broker

from pulsecrm.jobs.runtime import current_kernel
from pulsecrm.marketing import campaign_sends, sending

SEND_QUEUE = "pulsecrm-send"
log = logging.getLogger("pulsecrm.jobs")


class RetryBatch(Exception):
    """Some messages met a retryable provider error; Dramatiq retries the batch with backoff."""


@dataclass(frozen=True)
class Actors:
    send_batch: dramatiq.Actor[Any, Any]
    recover: dramatiq.Actor[Any, Any]
    queue_name: str


def declare_actors(broker: Broker, *, queue_name: str = SEND_QUEUE) -> Actors:
    """Bind the actors to ``broker`` (idempotent per broker and queue)."""
    cache: dict[str, Actors] = broker.__dict__.setdefault("_pulsecrm_actors", {})
    if queue_name in cache:
        return cache[queue_name]

    def send_batch(tenant_id: int, message_ids: list[str]) -> None:
        outcome = sending.send_batch(current_kernel(), tenant_id=tenant_id, message_ids=message_ids)
        log.info("send batch: %s", outcome.as_dict())
        if outcome.deferred_until_us is not None:
            delay_ms = max(0, (outcome.deferred_until_us - _now_us()) // 1000)
            actors.send_batch.send_with_options(args=(tenant_id, message_ids), delay=delay_ms)
        elif outcome.requeued:
            raise RetryBatch(f"{outcome.requeued} message(s) to retry")

    def recover(tenant_id: int) -> None:
        log.info("recover: %s", sending.recover(current_kernel(), tenant_id=tenant_id))

    actors = Actors(
        send_batch=dramatiq.actor(
            broker=broker,
            actor_name=f"{queue_name}.send_batch",
            queue_name=queue_name,
            max_retries=8,
            min_backoff=1_000,
            max_backoff=300_000,
            time_limit=600_000,
        )(send_batch),
        recover=dramatiq.actor(
            broker=broker,
            actor_name=f"{queue_name}.recover",
            queue_name=queue_name,
            max_retries=3,
        )(recover),
        queue_name=queue_name,
    )
    cache[queue_name] = actors
    return actors


def _now_us() -> int:
    from pulsecrm.kernel.audit_records import now_us

    return now_us()


def enqueue_batches(
    actors: Actors, *, tenant_id: int, message_ids: Sequence[str], batch_size: int
) -> int:
    """One job per ``batch_size`` message ids (``batch_size=1``: one job per message)."""
    jobs = 0
    for batch in campaign_sends.batches(message_ids, batch_size):
        actors.send_batch.send(tenant_id, batch)
        jobs += 1
    return jobs
