"""Group commit for read audits: many reads, one durable transaction.

A read may only return data once its audit entry is durable. Committing one
transaction per read would cost an fsync per read; instead readers hand their
events to one flusher thread, which appends everything queued so far in a
single transaction on its own connection (``synchronous=FULL`` on SQLite) and
then wakes every reader whose events it committed. A reader whose batch
failed gets :class:`AuditUnavailable` and no data.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from sqlalchemy import Engine

from pulsecrm.kernel.audit_log import AuditSigner, append_events
from pulsecrm.kernel.audit_records import AuditEvent
from pulsecrm.kernel.errors import AuditUnavailable

MAX_BATCH = 5000


@dataclass
class _Pending:
    tenant_id: int
    events: Sequence[AuditEvent]
    done: threading.Event = field(default_factory=threading.Event)
    error: BaseException | None = None


class AuditWriter:
    def __init__(self, engine: Engine, signer_for: Callable[[int], AuditSigner]) -> None:
        self._engine = engine
        self._signer_for = signer_for
        self._queue: list[_Pending] = []
        self._cond = threading.Condition()
        self._closed = False
        self.flushes = 0
        self._thread = threading.Thread(target=self._run, name="audit-group-commit", daemon=True)
        self._thread.start()

    def record(self, tenant_id: int, events: Sequence[AuditEvent]) -> None:
        """Block until ``events`` are durably in the log; raise if they could not be."""
        if not events:
            return
        pending = _Pending(tenant_id, events)
        with self._cond:
            if self._closed:
                raise AuditUnavailable("audit writer is closed")
            self._queue.append(pending)
            self._cond.notify()
        pending.done.wait()
        if pending.error is not None:
            raise AuditUnavailable(str(pending.error)) from pending.error

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue and not self._closed:
                    self._cond.wait()
                if not self._queue and self._closed:
                    return
                batch, self._queue = self._take(self._queue)
            self._flush(batch)

    @staticmethod
    def _take(queue: list[_Pending]) -> tuple[list[_Pending], list[_Pending]]:
        taken: list[_Pending] = []
        count = 0
        for index, pending in enumerate(queue):
            if count and count + len(pending.events) > MAX_BATCH:
                return taken, queue[index:]
            taken.append(pending)
            count += len(pending.events)
        return taken, []

    def _flush(self, batch: list[_Pending]) -> None:
        by_tenant: dict[int, list[AuditEvent]] = defaultdict(list)
        for pending in batch:
            by_tenant[pending.tenant_id].extend(pending.events)
        error: BaseException | None = None
        self.flushes += 1
        try:
            with self._engine.begin() as conn:
                for tenant_id in sorted(by_tenant):
                    append_events(
                        conn, tenant_id, by_tenant[tenant_id], self._signer_for(tenant_id)
                    )
        except BaseException as exc:  # every waiter must learn of the failure
            error = exc
        for pending in batch:
            pending.error = error
            pending.done.set()

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._cond.notify_all()
        self._thread.join(timeout=30)
