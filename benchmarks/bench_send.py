"""Queue-to-outbox send of N messages by two worker processes over Redis: privacy-on vs baseline.

Seeds N people through the real import (encrypted identities, blind index,
audit), a ``marketing.sms`` consent state for each (90 % granted, 10 %
withdrawn after the audience was built — they must be skipped), a campaign on
the ``outbox`` channel and its audience. Then, for each side, the audience is
queued as ``message`` rows, jobs of ``--batch`` message ids go onto Redis, and
two worker processes (``--threads`` each) drain them; the clock runs from the
first enqueue until no message is ``queued`` or ``sending``.

* privacy: ``jobs.actors`` → ``marketing.sending.send_batch`` — atomic claim,
  per-message re-check of consent, suppression, frequency cap and quiet hours
  (one query per batch each), the phone decrypted by ``kernel.vault.read``
  (role ``message_sender``, audited, durable before use), render, unsubscribe
  link, outbox write, ``sent`` + ``delivered`` event;
* baseline: the same queue, claim, render, outbox write and ``sent`` record,
  with the phone read from a plaintext copy — no consent re-check, no
  decryption, no audit.

    PULSECRM_QUEUE_URL=redis://127.0.0.1:6379/0 uv run python -m benchmarks.bench_send \
        [--messages N] [--batch N] [--threads N]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import time
import uuid
from pathlib import Path
from typing import Any

import dramatiq
from sqlalchemy import bindparam, func, insert, select, text, update

from benchmarks._common import fresh_installation, result
from pulsecrm.channels.base import OutboundMessage
from pulsecrm.channels.outbox import OutboxAdapter
from pulsecrm.consent.tables import consent_state
from pulsecrm.crm.people_import import import_people
from pulsecrm.crm.synthetic import synthetic_people
from pulsecrm.jobs.actors import declare_actors
from pulsecrm.jobs.broker import build_broker, check_broker
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.kernel.context import AccessContext
from pulsecrm.marketing import campaign_sends, campaigns
from pulsecrm.marketing import sending_store as store
from pulsecrm.marketing.send_tables import message_event
from pulsecrm.marketing.tables import campaign, campaign_audience, campaign_template, segment
from pulsecrm.settings import Settings
from pulsecrm.store.bulk import bulk_insert
from pulsecrm.store.engine import read_connection
from pulsecrm.wiring import build_app_kernel

BODY = "{sender}春季口腔检查开放预约，详情见官网。回复TD退订"


# -- the baseline actor: same queue and bookkeeping, no privacy ----------------------------
def declare_baseline(broker: dramatiq.Broker, queue: str) -> Any:
    def plain_send(tenant_id: int, ids: list[str]) -> None:
        from pulsecrm.jobs.runtime import current_kernel

        kernel = current_kernel()
        outbox = _outbox(kernel.settings)
        with kernel.engine.begin() as conn:
            claimed = store.claim(conn, tenant_id=tenant_id, message_ids=ids, now_us=now_us())
        if not claimed:
            return
        with read_connection(kernel.engine) as conn, conn.begin():
            phones = {
                str(r[0]): str(r[1])
                for r in conn.execute(
                    text("SELECT id, phone FROM plain_phone WHERE id IN :ids").bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": [c.person_id for c in claimed]},
                )
            }
            found = campaigns.load_campaign(conn, tenant_id, str(claimed[0].campaign_id))
        done = []
        for row in claimed:
            rendered = campaigns.render(found, "zh-CN", unsubscribe_url=None, click_url=None)
            result_ = outbox.send(
                OutboundMessage(row.id, tenant_id, "outbox", phones[row.person_id], rendered.text)
            )
            done.append(
                {
                    "id": row.id,
                    "status": store.SENT,
                    "provider": result_.provider,
                    "provider_message_id": result_.provider_message_id,
                    "sent_us": now_us(),
                }
            )
        with kernel.engine.begin() as conn:
            store.finish(conn, tenant_id, done)

    return dramatiq.actor(broker=broker, actor_name=f"{queue}.plain", queue_name=queue)(plain_send)


_OUTBOXES: dict[int, OutboxAdapter] = {}


def _outbox(settings: Settings) -> OutboxAdapter:
    adapter = _OUTBOXES.get(id(settings))
    if adapter is None:
        adapter = _OUTBOXES[id(settings)] = OutboxAdapter(settings)
    return adapter


def worker_main(env: dict[str, str], queue: str, threads: int, stop_file: str, n: int) -> None:
    from pulsecrm.jobs.runtime import current_kernel

    os.environ.update(env)
    settings = Settings()
    broker = build_broker(settings)
    declare_actors(broker, queue_name=queue)
    declare_baseline(broker, queue)
    current_kernel()  # built before the clock starts, like a long-running worker's
    worker = dramatiq.Worker(broker, worker_threads=threads, queues={queue}, worker_timeout=100)
    worker.start()
    Path(f"{stop_file}.ready{n}").touch()
    while not Path(stop_file).exists():
        time.sleep(0.2)
    worker.stop()
    broker.close()


# -- seeding ---------------------------------------------------------------------------------
def seed(settings: Settings, people: int) -> tuple[list[str], list[str]]:
    kernel = build_app_kernel(settings)
    tenant_id = kernel.tenant_id()
    staff = AccessContext("local.operator", "consultant", tenant_id, "service.appointment")
    t0 = time.perf_counter()
    rows = ((i + 2, dict(p)) for i, p in enumerate(synthetic_people(people, seed=5)))
    import_people(kernel, staff, rows)
    print(f"imported {people} people in {time.perf_counter() - t0:.1f}s", flush=True)
    now = now_us()
    with kernel.engine.begin() as conn:
        ids = [r[0] for r in conn.execute(text("SELECT id FROM person ORDER BY id"))]
        states = [
            (
                tenant_id,
                pid,
                "marketing.sms",
                "sms",
                "granted",
                False,
                False,
                False,
                False,
                None,
                "n" * 64,
                uuid.uuid4().hex,
                "staff",
                now,
            )
            for pid in ids
        ]
        bulk_insert(
            conn,
            consent_state,
            (
                "tenant_id",
                "person_id",
                "purpose",
                "channel",
                "status",
                "needs_renewal",
                "minor_blocked",
                "subject_minor",
                "by_guardian",
                "expires_us",
                "notice_hash",
                "last_event_id",
                "origin",
                "updated_us",
            ),
            states,
        )
    # The plaintext copy the baseline reads (what a CRM without the vault would hold).
    views = kernel.vault.read(
        AccessContext("bench", "message_sender", tenant_id, "marketing.sms", "sms"),
        ids,
        ["phone"],
        reveal=True,
    )
    with kernel.engine.begin() as conn:
        conn.execute(text("CREATE TABLE plain_phone (id VARCHAR(32) PRIMARY KEY, phone TEXT)"))
        bulk_insert_plain(conn, [(v.subject_id, v.values.get("phone") or "") for v in views])
        segment_id = uuid.uuid4().hex
        conn.execute(
            segment.insert().values(
                id=segment_id,
                tenant_id=tenant_id,
                name="all",
                definition='{"all": []}',
                purpose="marketing.sms",
                created_by="bench",
                created_us=now,
            )
        )
    campaign_ids = []
    for side in ("privacy", "baseline"):
        spec = campaigns.CampaignSpec.model_validate(
            {
                "name": f"bench {side}",
                "purpose": "marketing.sms",
                "channel": "outbox",
                "segment_id": segment_id,
                "sender_name": "北院口腔",
                "templates": {"zh-CN": {"body": BODY}},
                "quiet_start_min": 0,
                "quiet_end_min": 0,
                "frequency_cap": 100,
                "send_rate_per_s": 10_000,
            }
        )
        campaign_id = uuid.uuid4().hex
        with kernel.engine.begin() as conn:
            conn.execute(
                campaign.insert().values(
                    id=campaign_id,
                    tenant_id=tenant_id,
                    status="sending",
                    scheduled_us=now,
                    created_by="bench",
                    created_us=now,
                    updated_us=now,
                    **campaigns.spec_columns(spec, None),
                )
            )
            conn.execute(
                insert(campaign_template).values(
                    tenant_id=tenant_id,
                    campaign_id=campaign_id,
                    locale="zh-CN",
                    subject=None,
                    body=BODY,
                )
            )
            bulk_insert(
                conn,
                campaign_audience,
                ("tenant_id", "campaign_id", "person_id", "locale"),
                [(tenant_id, campaign_id, pid, "zh-CN") for pid in ids],
            )
        campaign_ids.append(campaign_id)
    # 10 % withdraw after the audience was built: the send must skip them.
    withdrawn = ids[::10]
    with kernel.engine.begin() as conn:
        for start in range(0, len(withdrawn), 900):
            conn.execute(
                update(consent_state)
                .where(consent_state.c.person_id.in_(withdrawn[start : start + 900]))
                .values(status="withdrawn")
            )
        if conn.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    kernel.close()
    return campaign_ids, withdrawn


def bulk_insert_plain(conn: Any, rows: list[tuple[str, str]]) -> None:
    marker = "?" if conn.dialect.name == "sqlite" else "%s"
    conn.exec_driver_sql(f"INSERT INTO plain_phone (id, phone) VALUES ({marker}, {marker})", rows)


# -- one timed run -----------------------------------------------------------------------------
def run(
    settings: Settings, env: dict[str, str], side: str, campaign_id: str, args: argparse.Namespace
) -> tuple[float, dict[str, int]]:
    kernel = build_app_kernel(settings)
    tenant_id = kernel.tenant_id()
    queue = f"bench-{side}-{uuid.uuid4().hex[:6]}"
    stop_file = str(settings.home / f"stop-{queue}")
    context = multiprocessing.get_context("spawn")
    workers = [
        context.Process(target=worker_main, args=(env, queue, args.threads, stop_file, n))
        for n in range(2)
    ]
    for w in workers:
        w.start()
    broker = build_broker(settings, namespace="pulsecrm")
    check_broker(broker, settings)
    privacy_actors = declare_actors(broker, queue_name=queue)
    plain = declare_baseline(broker, queue)
    deadline = time.monotonic() + 300
    while not all(Path(f"{stop_file}.ready{n}").exists() for n in range(2)):
        if time.monotonic() > deadline or not all(w.is_alive() for w in workers):
            raise SystemExit("the workers did not start")
        time.sleep(0.1)
    t0 = time.perf_counter()
    with kernel.engine.begin() as conn:
        ids = campaign_sends.enqueue_campaign(conn, tenant_id=tenant_id, campaign_id=campaign_id)
    for batch in campaign_sends.batches(ids, args.batch):
        if side == "privacy":
            privacy_actors.send_batch.send(tenant_id, batch)
        else:
            plain.send(tenant_id, batch)
    while True:
        with read_connection(kernel.engine) as conn:
            pending = store.has_pending(conn, tenant_id=tenant_id, campaign_id=campaign_id)
        if not pending:
            break
        if time.perf_counter() - t0 > args.timeout:
            raise SystemExit(f"{side}: messages still pending after {args.timeout}s")
        time.sleep(0.1)
    elapsed = time.perf_counter() - t0
    Path(stop_file).touch()
    for w in workers:
        w.join(timeout=30)
    broker.flush_all()
    broker.close()
    with read_connection(kernel.engine) as conn:
        counts = store.status_counts(conn, tenant_id=tenant_id, campaign_id=campaign_id)
        events = conn.execute(select(func.count()).select_from(message_event)).scalar_one()
    kernel.close()
    counts["events_total"] = int(events)
    return elapsed, counts


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--timeout", type=float, default=900.0)
    args = parser.parse_args()
    queue_url = os.environ.get("PULSECRM_QUEUE_URL", "redis://127.0.0.1:6379/0")
    settings = fresh_installation()
    settings = Settings(**{**settings.model_dump(), "queue_url": queue_url})
    env = {
        "PULSECRM_HOME": str(settings.home),
        "PULSECRM_QUEUE_URL": queue_url,
        "PULSECRM_DATABASE_URL": settings.effective_database_url,
    }
    (privacy_campaign, baseline_campaign), withdrawn = seed(settings, args.messages)
    base_s, base_counts = run(settings, env, "baseline", baseline_campaign, args)
    print(f"baseline: {base_s:.2f}s {base_counts}", flush=True)
    priv_s, priv_counts = run(settings, env, "privacy", privacy_campaign, args)
    print(f"privacy:  {priv_s:.2f}s {priv_counts}", flush=True)
    assert priv_counts.get("skipped") == len(withdrawn), priv_counts
    assert priv_counts.get("sent") == args.messages - len(withdrawn), priv_counts
    result("send_rate", args.messages / priv_s, args.messages / base_s, "messages/s")
    result("send_time", priv_s, base_s, "s")


if __name__ == "__main__":
    main()
