"""``pulsecrm campaign send ID`` and ``pulsecrm worker``: the queue's two ends.

``campaign send`` moves a scheduled campaign to ``sending``, queues one
message per audience row and enqueues the jobs. With ``PULSECRM_QUEUE_URL``
set (``redis://…`` or ``amqp://…``) the jobs wait for ``pulsecrm worker``
processes, on this host or others; unset, an in-process worker sends them
before the command returns (the embedded default).
"""

from __future__ import annotations

from typing import Annotated

import typer

from pulsecrm.cli.common import err_console, fail, handles_errors, kernel_session, print_json
from pulsecrm.jobs.actors import declare_actors, enqueue_batches
from pulsecrm.jobs.broker import QueueUnavailable, build_broker, check_broker, is_in_process
from pulsecrm.jobs.runtime import use_kernel
from pulsecrm.jobs.worker import run_processes, start_worker
from pulsecrm.kernel.audit_records import now_us
from pulsecrm.marketing import campaign_sends, sending
from pulsecrm.marketing.errors import MarketingError
from pulsecrm.settings import Settings
from pulsecrm.store.engine import read_connection

campaign_send_app = typer.Typer(help="Send campaigns.", no_args_is_help=True)


def send_command(
    campaign_id: Annotated[str, typer.Argument(help="The campaign id (32 hex characters).")],
    batch_size: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=5_000,
            help="Message ids per job (1 = one job per person; default PULSECRM_SEND_BATCH_SIZE).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Queue a scheduled campaign's audience and send it (in-process without a queue URL)."""
    settings = Settings()
    try:
        broker = build_broker(settings)
        check_broker(broker, settings)
    except QueueUnavailable as exc:
        fail(str(exc))
    size = batch_size or settings.send_batch_size
    with kernel_session() as kernel:
        tenant_id = kernel.tenant_id()
        recovered = sending.recover(kernel, tenant_id=tenant_id)
        try:
            with kernel.engine.begin() as conn:
                started = campaign_sends.start_campaign(
                    conn, tenant_id=tenant_id, campaign_id=campaign_id
                )
        except MarketingError as exc:
            fail(exc.message(settings.locale))
        actors = declare_actors(broker)
        delay_ms = max(0, (started.not_before_us - now_us()) // 1000)
        jobs = 0
        for batch in campaign_sends.batches(started.message_ids, size):
            actors.send_batch.send_with_options(args=(tenant_id, batch), delay=delay_ms or None)
            jobs += 1
        summary: dict[str, object] = {
            "campaign_id": campaign_id,
            "queued": len(started.message_ids),
            "jobs": jobs,
            "recovered": recovered,
        }
        if is_in_process(broker):
            if delay_ms:
                fail(
                    "the campaign is scheduled for later; set PULSECRM_QUEUE_URL and run "
                    "`pulsecrm worker`, or send it when it is due"
                )
            use_kernel(kernel)
            worker = start_worker(broker, threads=4, queue_name=actors.queue_name)
            try:
                broker.join(actors.queue_name)
                worker.join()
            finally:
                worker.stop()
                use_kernel(None)
            with read_connection(kernel.engine) as conn:
                summary["messages"] = sending.store.status_counts(
                    conn, tenant_id=tenant_id, campaign_id=campaign_id
                )
        else:
            summary["broker"] = type(broker).__name__
    if as_json:
        print_json(summary)
        return
    err_console.print(
        " · ".join(f"{key} {value}" for key, value in summary.items()), highlight=False
    )


campaign_send_app.command("send")(handles_errors(send_command))


def worker_command(
    processes: Annotated[int, typer.Option("--processes", "-p", min=1, max=64)] = 1,
    threads: Annotated[int, typer.Option("--threads", "-t", min=1, max=256)] = 8,
) -> None:
    """Serve send jobs from PULSECRM_QUEUE_URL until interrupted (several may run at once)."""
    settings = Settings()
    try:
        broker = build_broker(settings)
        if is_in_process(broker):
            fail(
                "PULSECRM_QUEUE_URL is not set: without a broker `pulsecrm campaign send` sends "
                "in-process; set redis://… or amqp://… to run separate workers"
            )
        check_broker(broker, settings)
        broker.close()
    except QueueUnavailable as exc:
        fail(str(exc))
    err_console.print(f"worker: {processes} process(es) × {threads} thread(s)", highlight=False)
    run_processes(processes, threads)


__all__ = ["campaign_send_app", "enqueue_batches", "send_command", "worker_command"]
