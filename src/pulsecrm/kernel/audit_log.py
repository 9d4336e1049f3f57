"""Append entries to a tenant's Merkle audit log and sign the new tree head.

Appends happen inside the caller's transaction: a write and its audit entry
commit or roll back together. The tenant's ``audit_head`` row is locked for
the append (``SELECT … FOR UPDATE`` on PostgreSQL; SQLite transactions here
begin IMMEDIATE, which already serialises writers), so sequence numbers and
the Merkle frontier stay consistent across processes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from sqlalchemy import Connection, bindparam, insert, select, update

from pulsecrm.kernel.audit_records import (
    AuditEvent,
    canonical_bytes,
    encode_detail,
    encode_fields,
    now_us,
    signed_head_message,
)
from pulsecrm.kernel.merkle import EMPTY_ROOT, CompactRange, leaf_hash
from pulsecrm.kernel.tables import audit_checkpoint, audit_entry, audit_head
from pulsecrm.store.bulk import bulk_insert

ENTRY_COLUMNS = (
    "tenant_id",
    "seq",
    "ts_us",
    "actor",
    "role",
    "purpose",
    "action",
    "outcome",
    "subject",
    "fields",
    "detail",
    "leaf_hash",
)

CHECKPOINT_INTERVAL = 256
"""A signed checkpoint is kept at least every this many entries, so tampering
that also rewrote stored leaf hashes is still pinned to a short range."""


def key_id_of(public_key_raw: bytes) -> str:
    return hashlib.sha256(public_key_raw).hexdigest()[:16]


class AuditSigner:
    """A tenant's Ed25519 checkpoint key (the private half lives in the key store)."""

    def __init__(self, private_key: Ed25519PrivateKey) -> None:
        self._key = private_key
        self.public_raw = private_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        self.key_id = key_id_of(self.public_raw)

    def sign(self, message: bytes) -> bytes:
        return self._key.sign(message)


def _split_frontier(blob: bytes) -> list[bytes]:
    return [blob[i : i + 32] for i in range(0, len(blob), 32)]


def init_head(conn: Connection, tenant_id: int, signer: AuditSigner) -> None:
    """Create the empty, signed head of a new tenant's log."""
    ts = now_us()
    conn.execute(
        insert(audit_head).values(
            tenant_id=tenant_id,
            tree_size=0,
            root=EMPTY_ROOT,
            frontier=b"",
            ts_us=ts,
            key_id=signer.key_id,
            signature=signer.sign(signed_head_message(tenant_id, 0, EMPTY_ROOT, ts)),
            last_checkpoint_size=0,
        )
    )


_HEAD = select(audit_head).where(audit_head.c.tenant_id == bindparam("tenant"))
_HEAD_FOR_UPDATE = _HEAD.with_for_update()
_MOVE_HEAD = (
    update(audit_head)
    .where(audit_head.c.tenant_id == bindparam("tenant"))
    .values(
        tree_size=bindparam("size"),
        root=bindparam("new_root"),
        frontier=bindparam("new_frontier"),
        ts_us=bindparam("ts"),
        key_id=bindparam("key"),
        signature=bindparam("sig"),
        last_checkpoint_size=bindparam("checkpointed"),
    )
)


def append_events(
    conn: Connection, tenant_id: int, events: Sequence[AuditEvent], signer: AuditSigner
) -> int:
    """Append ``events`` in order; return the new tree size."""
    if not events:
        return -1
    locked = _HEAD_FOR_UPDATE if conn.dialect.name == "postgresql" else _HEAD
    head = conn.execute(locked, {"tenant": tenant_id}).one()
    frontier = CompactRange(head.tree_size, _split_frontier(head.frontier))
    rows = []
    seq = head.tree_size
    for event in events:
        seq += 1
        fields = encode_fields(event.fields)
        detail = encode_detail(event.detail)
        leaf = leaf_hash(
            canonical_bytes(
                tenant_id=tenant_id,
                seq=seq,
                ts_us=event.ts_us,
                actor=event.actor,
                role=event.role,
                purpose=event.purpose,
                action=event.action,
                outcome=event.outcome,
                subject=event.subject,
                fields=fields,
                detail=detail,
            )
        )
        frontier.append(leaf)
        rows.append(
            (
                tenant_id,
                seq,
                event.ts_us,
                event.actor,
                event.role,
                event.purpose,
                event.action,
                event.outcome,
                event.subject,
                fields,
                detail,
                leaf,
            )
        )
    bulk_insert(conn, audit_entry, ENTRY_COLUMNS, rows)
    root = frontier.root()
    ts = now_us()
    signature = signer.sign(signed_head_message(tenant_id, seq, root, ts))
    checkpoint_due = seq - head.last_checkpoint_size >= CHECKPOINT_INTERVAL
    if checkpoint_due:
        bulk_insert(
            conn,
            audit_checkpoint,
            ("tenant_id", "tree_size", "root", "ts_us", "key_id", "signature"),
            [(tenant_id, seq, root, ts, signer.key_id, signature)],
        )
    conn.execute(
        _MOVE_HEAD,
        {
            "tenant": tenant_id,
            "size": seq,
            "new_root": root,
            "new_frontier": b"".join(frontier.hashes),
            "ts": ts,
            "key": signer.key_id,
            "sig": signature,
            "checkpointed": seq if checkpoint_due else head.last_checkpoint_size,
        },
    )
    return seq


def write_checkpoint(conn: Connection, tenant_id: int) -> int:
    """Record the current signed head as a checkpoint (e.g. before an export)."""
    head = conn.execute(select(audit_head).where(audit_head.c.tenant_id == tenant_id)).one()
    if head.tree_size == head.last_checkpoint_size or head.tree_size == 0:
        return int(head.tree_size)
    conn.execute(
        insert(audit_checkpoint).values(
            tenant_id=tenant_id,
            tree_size=head.tree_size,
            root=head.root,
            ts_us=head.ts_us,
            key_id=head.key_id,
            signature=head.signature,
        )
    )
    conn.execute(
        update(audit_head)
        .where(audit_head.c.tenant_id == tenant_id)
        .values(last_checkpoint_size=head.tree_size)
    )
    return int(head.tree_size)
