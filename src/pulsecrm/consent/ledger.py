"""The consent ledger: append-only, hash-chained, each event mirrored in the kernel audit log.

Every event (grant, refuse, withdraw, expire, renew) gets the tenant's next
ledger position; its ``row_hash`` is SHA-256 over a canonical encoding of all
its columns *and* the previous row's hash, so changing, removing or
re-ordering a row breaks the chain (``verify_ledger``). In the same
transaction one kernel audit entry per event is appended whose detail names
the event id and its row hash, and the event row stores that entry's ``seq``:
the audit log's Merkle tree and signed heads then prove the event offline
(``receipts``). The database triggers refuse UPDATE and DELETE on the ledger.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pulsecrm.consent.tables import consent_event, consent_evidence, consent_ledger_head
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.store.bulk import bulk_insert

GENESIS = b"\x00" * 32
NO_CHANNEL = "-"


class Kind(StrEnum):
    GRANT = "grant"
    REFUSE = "refuse"
    WITHDRAW = "withdraw"
    EXPIRE = "expire"
    RENEW = "renew"


STATUS_AFTER = {
    Kind.GRANT: "granted",
    Kind.RENEW: "granted",
    Kind.REFUSE: "refused",
    Kind.WITHDRAW: "withdrawn",
    Kind.EXPIRE: "expired",
}

EVIDENCE_FIELDS = {
    "ip": "consent_evidence_ip",
    "user_agent": "consent_evidence_user_agent",
    "guardian_name": "consent_guardian_name",
    "guardian_relationship": "consent_guardian_relationship",
}


@dataclass
class LedgerRow:
    """One event ready to append (validated); ``sealed`` holds evidence ciphertexts by column."""

    id: str
    person_id: str
    purpose: str
    channel: str
    kind: Kind
    notice_hash: str | None
    language: str
    ts_us: int
    method: str
    origin: str
    actor_type: str
    actor: str
    form_id: str | None = None
    evidence_ref: str | None = None
    scan_sha256: str | None = None
    expires_us: int | None = None
    terms: dict[str, Any] = field(default_factory=dict)
    sealed: dict[str, bytes] = field(default_factory=dict)
    subject_minor: bool = False
    guardian_gate: bool = False
    seq: int = 0
    audit_seq: int = 0
    prev_hash: bytes = GENESIS
    row_hash: bytes = GENESIS

    @property
    def evidence_digest(self) -> str | None:
        if not self.sealed:
            return None
        return evidence_digest(self.sealed)

    def encoded_terms(self) -> str:
        return json.dumps(self.terms, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def evidence_digest(sealed: Mapping[str, bytes | None]) -> str:
    """Digest of the evidence ciphertexts, so the chain also covers the sealed evidence."""
    h = hashlib.sha256()
    for column in EVIDENCE_FIELDS:
        blob = sealed.get(column)
        h.update(column.encode() + b"=" + (blob.hex().encode() if blob else b"") + b";")
    return h.hexdigest()


def canonical_bytes(tenant_id: int, row: dict[str, Any]) -> bytes:
    """The bytes ``row_hash`` covers: every column except the hash itself and the audit pointer."""
    record = [
        1,
        tenant_id,
        row["seq"],
        row["id"],
        row["person_id"],
        row["purpose"],
        row["channel"],
        row["kind"],
        row["notice_hash"],
        row["language"],
        row["ts_us"],
        row["method"],
        row["origin"],
        row["actor_type"],
        row["actor"],
        row["form_id"],
        row["evidence_ref"],
        row["scan_sha256"],
        row["evidence_digest"],
        row["expires_us"],
        row["terms"],
        bytes(row["prev_hash"]).hex(),
    ]
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def row_hash(tenant_id: int, row: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical_bytes(tenant_id, row)).digest()


def _columns(row: LedgerRow) -> dict[str, Any]:
    return {
        "seq": row.seq,
        "id": row.id,
        "person_id": row.person_id,
        "purpose": row.purpose,
        "channel": row.channel,
        "kind": row.kind.value,
        "notice_hash": row.notice_hash,
        "language": row.language,
        "ts_us": row.ts_us,
        "method": row.method,
        "origin": row.origin,
        "actor_type": row.actor_type,
        "actor": row.actor,
        "form_id": row.form_id,
        "evidence_ref": row.evidence_ref,
        "scan_sha256": row.scan_sha256,
        "evidence_digest": row.evidence_digest,
        "expires_us": row.expires_us,
        "terms": row.encoded_terms(),
        "prev_hash": row.prev_hash,
    }


def _lock_head(conn: Connection, tenant_id: int) -> tuple[int, bytes]:
    query = select(consent_ledger_head.c.seq, consent_ledger_head.c.row_hash).where(
        consent_ledger_head.c.tenant_id == tenant_id
    )
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    head = conn.execute(query).first()
    if head is None:
        conn.execute(
            insert(consent_ledger_head).values(tenant_id=tenant_id, seq=0, row_hash=GENESIS)
        )
        if conn.dialect.name == "postgresql":
            conn.execute(query).first()
        return 0, GENESIS
    return int(head.seq), bytes(head.row_hash)


def append(conn: Connection, kernel: Kernel, ctx: AccessContext, rows: Sequence[LedgerRow]) -> None:
    """Chain, audit and insert ``rows`` in the caller's transaction (fills seq/hash/audit_seq)."""
    if not rows:
        return
    seq, prev = _lock_head(conn, ctx.tenant_id)
    records = []
    for row in rows:
        seq += 1
        row.seq, row.prev_hash = seq, prev
        columns = _columns(row)
        row.row_hash = prev = row_hash(ctx.tenant_id, columns)
        records.append(columns)
    events = [
        AuditEvent(
            ctx.actor,
            ctx.role,
            ctx.purpose,
            Action.WRITE,
            Outcome.ALLOWED,
            row.person_id,
            tuple(sorted(EVIDENCE_FIELDS[c] for c in row.sealed)),
            {
                "consent_event": row.id,
                "ledger_seq": row.seq,
                "kind": row.kind.value,
                "consent_purpose": row.purpose,
                "channel": row.channel,
                "row_hash": row.row_hash.hex(),
            },
            row.ts_us,
        )
        for row in rows
    ]
    tree_size = append_events(conn, ctx.tenant_id, events, kernel.signer_for(ctx.tenant_id))
    first_audit = tree_size - len(rows) + 1
    for offset, (row, columns) in enumerate(zip(rows, records, strict=True)):
        row.audit_seq = first_audit + offset
        columns.update(tenant_id=ctx.tenant_id, audit_seq=row.audit_seq, row_hash=row.row_hash)
    event_columns = [c.name for c in consent_event.columns]
    bulk_insert(
        conn,
        consent_event,
        event_columns,
        [tuple(r.get(c) for c in event_columns) for r in records],
    )
    evidence = [
        {"event_id": r.id, "tenant_id": ctx.tenant_id, "person_id": r.person_id, **r.sealed}
        for r in rows
        if r.sealed
    ]
    if evidence:
        for column in EVIDENCE_FIELDS:
            for item in evidence:
                item.setdefault(column, None)
        conn.execute(insert(consent_evidence), evidence)
    conn.execute(
        update(consent_ledger_head)
        .where(consent_ledger_head.c.tenant_id == ctx.tenant_id)
        .values(seq=seq, row_hash=prev)
    )


def events_of(
    conn: Connection, tenant_id: int, person_id: str | None = None
) -> Iterator[dict[str, Any]]:
    """Ledger rows in order (all of a tenant, or one person's)."""
    query = select(consent_event).where(consent_event.c.tenant_id == tenant_id)
    if person_id is not None:
        query = query.where(consent_event.c.person_id == person_id)
    for row in conn.execution_options(yield_per=20_000).execute(
        query.order_by(consent_event.c.seq)
    ):
        yield dict(row._mapping)


@dataclass
class LedgerReport:
    events: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, seq: int | None) -> None:
        self.problems.append(message)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq


def verify_ledger(conn: Connection, tenant_id: int) -> LedgerReport:
    """Recompute the chain; name the first changed, missing or re-ordered row."""
    report = LedgerReport()
    prev, expected = GENESIS, 0
    for row in events_of(conn, tenant_id):
        expected += 1
        seq = int(row["seq"])
        if seq != expected:
            report.fail(f"consent event {expected}: missing (deleted) or out of order", expected)
            return report
        if bytes(row["prev_hash"]) != prev:
            report.fail(f"consent event {seq}: does not link to the previous row", seq)
        if row_hash(tenant_id, row) != bytes(row["row_hash"]):
            report.fail(f"consent event {seq} ({row['id']}): content does not match its hash", seq)
        prev = bytes(row["row_hash"])
        report.events += 1
    head = conn.execute(
        select(consent_ledger_head).where(consent_ledger_head.c.tenant_id == tenant_id)
    ).first()
    head_seq = int(head.seq) if head is not None else 0
    if head_seq != expected:
        report.fail(
            f"ledger ends at {expected} but its head says {head_seq} (rows removed or added)",
            min(expected, head_seq) + 1,
        )
    elif head is not None and bytes(head.row_hash) != prev:
        report.fail("the last row's hash does not match the ledger head", expected)
    return report
