"""Run Dramatiq workers for PulseCRM's actors: in threads here, or in several processes.

Each process builds its own broker and kernel from the environment, so any
number of processes on any number of machines can share one Redis or
RabbitMQ queue; rows are claimed atomically, so they never send a message twice.
"""

from __future__ import annotations

import logging
import multiprocessing
import signal
import threading

from dramatiq import Broker, Worker

from pulsecrm.jobs.actors import SEND_QUEUE, declare_actors
from pulsecrm.jobs.broker import build_broker, check_broker
from pulsecrm.jobs.runtime import current_kernel
from pulsecrm.marketing import sending
from pulsecrm.settings import Settings

log = logging.getLogger("pulsecrm.jobs")


def start_worker(broker: Broker, *, threads: int = 8, queue_name: str = SEND_QUEUE) -> Worker:
    declare_actors(broker, queue_name=queue_name)
    worker = Worker(broker, worker_threads=threads, queues={queue_name})
    worker.start()
    return worker


def run_until_signal(threads: int, queue_name: str = SEND_QUEUE) -> None:
    """Serve jobs until SIGINT/SIGTERM, then stop cleanly (jobs in hand finish first)."""
    settings = Settings()
    broker = build_broker(settings)
    check_broker(broker, settings)
    worker = start_worker(broker, threads=threads, queue_name=queue_name)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    every = max(5.0, settings.send_lease_s / 2)
    try:
        while not stop.wait(every):
            recover_stale_sends()
    finally:
        worker.stop()
        broker.close()


def recover_stale_sends() -> None:
    """Settle messages a crashed worker left in ``sending`` (every half lease, every worker:
    the updates are idempotent, so several workers doing it at once is harmless)."""
    try:
        kernel = current_kernel()
        sending.recover(kernel, tenant_id=kernel.tenant_id())
    except Exception:  # a failed sweep must not stop the worker; the next one retries
        log.exception("recovering stale sends failed")


def run_processes(processes: int, threads: int, queue_name: str = SEND_QUEUE) -> None:
    if processes <= 1:
        run_until_signal(threads, queue_name)
        return
    context = multiprocessing.get_context("spawn")
    children = [
        context.Process(target=run_until_signal, args=(threads, queue_name), daemon=False)
        for _ in range(processes)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _frame: object) -> None:
        for child in children:
            if child.pid is not None and child.is_alive():
                child.terminate()

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
