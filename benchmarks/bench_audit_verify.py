"""`audit verify` over 1 000 000 entries: recompute every leaf hash and the Merkle tree
and check every signed checkpoint, against a plain scan of the same rows.

    uv run python -m benchmarks.bench_audit_verify [--entries N]
"""

from __future__ import annotations

import argparse
import time

from sqlalchemy import select

from benchmarks._common import fresh_installation, result
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import AuditEvent
from pulsecrm.kernel.audit_verify import verify_database
from pulsecrm.kernel.runtime import build_kernel
from pulsecrm.kernel.tables import audit_entry
from pulsecrm.store.engine import read_connection


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=5_000)
    args = parser.parse_args()
    settings = fresh_installation()
    kernel = build_kernel(settings)
    tenant_id = kernel.tenant_id()
    signer = kernel.signer_for(tenant_id)
    started = time.perf_counter()
    written = 0
    while written < args.entries:
        n = min(args.batch, args.entries - written)
        events = [
            AuditEvent("zhang.consultant", "consultant", "service.appointment", "read",
                       "allowed", f"{(written + i) % 50_000:032x}", ("name", "phone"))
            for i in range(n)
        ]
        with kernel.engine.begin() as conn:
            append_events(conn, tenant_id, events, signer)
        written += n
    print(f"# wrote {written} entries in {time.perf_counter() - started:.1f} s", flush=True)
    keys = {signer.key_id: signer.public_raw}

    with read_connection(kernel.engine) as conn:
        started = time.perf_counter()
        scanned = sum(1 for _ in conn.execution_options(yield_per=20_000).execute(
            select(audit_entry).where(audit_entry.c.tenant_id == tenant_id)
            .order_by(audit_entry.c.seq)))
        baseline = time.perf_counter() - started
    with read_connection(kernel.engine) as conn:
        started = time.perf_counter()
        report = verify_database(conn, tenant_id, keys)
        privacy = time.perf_counter() - started
    kernel.close()
    assert report.ok and report.entries == scanned == args.entries, report.problems
    result("audit_verify_1m", privacy, baseline, "s")
    result("audit_verify_rate", args.entries / privacy, args.entries / baseline, "entries/s")


if __name__ == "__main__":
    main()
