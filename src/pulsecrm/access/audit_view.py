"""The audit log for the privacy officer's and auditor's screens: a page of entries and
the Merkle verification with the latest signed checkpoint.

Entries name staff and random subject ids, never personal data, so reading
them needs no decryption; viewing the log is itself audited by the caller.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, select

from pulsecrm.kernel.audit_verify import verify_database
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import audit_checkpoint, audit_entry, audit_head

MAX_PAGE = 200


def entries(
    conn: Connection,
    *,
    tenant_id: int,
    limit: int = 50,
    before_seq: int | None = None,
    actor: str | None = None,
    action: str | None = None,
) -> tuple[list[dict[str, Any]], int]:
    """Newest first; page backwards with ``before_seq``. Returns (rows, total in log)."""
    query = select(
        audit_entry.c.seq,
        audit_entry.c.ts_us,
        audit_entry.c.actor,
        audit_entry.c.role,
        audit_entry.c.purpose,
        audit_entry.c.action,
        audit_entry.c.outcome,
        audit_entry.c.subject,
        audit_entry.c.fields,
        audit_entry.c.detail,
    ).where(audit_entry.c.tenant_id == tenant_id)
    if before_seq is not None:
        query = query.where(audit_entry.c.seq < before_seq)
    if actor:
        # An actor's own entries and those under their break-glass grants.
        query = query.where(
            (audit_entry.c.actor == actor) | audit_entry.c.actor.like(f"{actor}#bg-%")
        )
    if action:
        query = query.where(audit_entry.c.action == action)
    rows = conn.execute(query.order_by(audit_entry.c.seq.desc()).limit(min(limit, MAX_PAGE)))
    total = conn.execute(
        select(func.count()).select_from(audit_entry).where(audit_entry.c.tenant_id == tenant_id)
    ).scalar_one()
    return [dict(r._mapping) for r in rows], int(total)


@dataclass(frozen=True)
class Verification:
    ok: bool
    entries: int
    tree_size: int
    checkpoints: int
    problems: list[str]
    first_bad_seq: int | None
    root: str | None
    head_ts_us: int | None
    checkpoint_size: int | None
    checkpoint_root: str | None
    checkpoint_ts_us: int | None
    key_id: str
    public_key: str


def verify(kernel: Kernel, conn: Connection, *, tenant_id: int) -> Verification:
    """Recompute the Merkle tree from every entry and check every signed checkpoint."""
    signer = kernel.signer_for(tenant_id)
    report = verify_database(conn, tenant_id, {signer.key_id: signer.public_raw})
    head = conn.execute(select(audit_head).where(audit_head.c.tenant_id == tenant_id)).first()
    latest = conn.execute(
        select(audit_checkpoint)
        .where(audit_checkpoint.c.tenant_id == tenant_id)
        .order_by(audit_checkpoint.c.tree_size.desc())
        .limit(1)
    ).first()
    return Verification(
        ok=report.ok,
        entries=report.entries,
        tree_size=report.tree_size,
        checkpoints=report.checkpoints,
        problems=list(report.problems[:20]),
        first_bad_seq=report.first_bad_seq,
        root=bytes(head.root).hex() if head else None,
        head_ts_us=head.ts_us if head else None,
        checkpoint_size=latest.tree_size if latest else None,
        checkpoint_root=bytes(latest.root).hex() if latest else None,
        checkpoint_ts_us=latest.ts_us if latest else None,
        key_id=signer.key_id,
        public_key=base64.b64encode(signer.public_raw).decode(),
    )
