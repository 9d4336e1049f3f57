"""Recompute a tenant's audit log and check it against its signed checkpoints.

The same check runs on the live database (``pulsecrm audit verify``) and on an
export file (``pulsecrm audit verify --export FILE``), so a regulator can
check an export without trusting our database. Any changed, deleted, inserted
or reordered entry, or a bad signature, is reported; the first bad entry is
named.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from pulsecrm.kernel.audit_records import canonical_bytes, signed_head_message
from pulsecrm.kernel.merkle import CompactRange, leaf_hash
from pulsecrm.kernel.tables import audit_checkpoint, audit_entry, audit_head

EXPORT_FORMAT = "pulsecrm-audit-export/v1"


class SignedHead(NamedTuple):
    tree_size: int
    root: bytes
    ts_us: int
    key_id: str
    signature: bytes


class EntryRow(NamedTuple):
    seq: int
    ts_us: int
    actor: str
    role: str
    purpose: str
    action: str
    outcome: str
    subject: str | None
    fields: str
    detail: str
    leaf_hash: bytes


@dataclass
class VerifyReport:
    tenant_id: int
    entries: int = 0
    tree_size: int = 0
    checkpoints: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, message: str, seq: int | None = None) -> None:
        self.problems.append(message)
        if seq is not None and (self.first_bad_seq is None or seq < self.first_bad_seq):
            self.first_bad_seq = seq


def _signature_ok(head: SignedHead, tenant_id: int, keys: dict[str, bytes]) -> bool:
    public = keys.get(head.key_id)
    if public is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            head.signature, signed_head_message(tenant_id, head.tree_size, head.root, head.ts_us)
        )
    except InvalidSignature:
        return False
    return True


def verify_stream(
    tenant_id: int,
    entries: Iterable[EntryRow],
    checkpoints: list[SignedHead],
    head: SignedHead,
    trusted_keys: dict[str, bytes],
) -> VerifyReport:
    report = VerifyReport(tenant_id=tenant_id, tree_size=head.tree_size)
    if not _signature_ok(head, tenant_id, trusted_keys):
        report.fail(f"signed tree head (size {head.tree_size}): signature does not verify")
    signed = [c for c in checkpoints if c.tree_size <= head.tree_size] + [head]
    for checkpoint in signed[:-1]:
        if not _signature_ok(checkpoint, tenant_id, trusted_keys):
            report.fail(f"checkpoint at size {checkpoint.tree_size}: signature does not verify")
    marks: list[tuple[int, SignedHead]] = []
    for mark in sorted(signed, key=lambda c: c.tree_size):
        if marks and marks[-1][0] == mark.tree_size:
            if marks[-1][1].root != mark.root:
                report.fail(f"two signed heads of size {mark.tree_size} disagree")
            continue
        marks.append((mark.tree_size, mark))
    mark_index = 0
    frontier = CompactRange()
    pending: list[bytes] = []  # leaves not yet folded in: extend() hashes a level at a time
    expected = 0
    previous_mark = 0
    for row in entries:
        expected += 1
        if row.seq != expected:
            if row.seq > expected:
                report.fail(f"entry {expected}: missing (deleted)", expected)
            else:
                report.fail(f"entry {row.seq}: out of order", row.seq)
            return report
        if expected > head.tree_size:
            report.fail(
                f"entry {expected}: not covered by the signed tree head of size "
                f"{head.tree_size} (inserted behind the system's back)",
                expected,
            )
            return report
        leaf = leaf_hash(
            canonical_bytes(
                tenant_id=tenant_id,
                seq=row.seq,
                ts_us=row.ts_us,
                actor=row.actor,
                role=row.role,
                purpose=row.purpose,
                action=row.action,
                outcome=row.outcome,
                subject=row.subject,
                fields=row.fields,
                detail=row.detail,
            )
        )
        if leaf != bytes(row.leaf_hash):
            report.fail(f"entry {row.seq}: content does not match its leaf hash (changed)", row.seq)
        pending.append(leaf)
        if len(pending) >= 8192:
            frontier.extend(pending)
            pending.clear()
        if mark_index < len(marks) and marks[mark_index][0] == expected:
            frontier.extend(pending)
            pending.clear()
        while mark_index < len(marks) and marks[mark_index][0] == expected:
            mark = marks[mark_index][1]
            if frontier.root() != mark.root:
                # Name the range unless a leaf-level check already pinned the entry.
                pinned = report.first_bad_seq is not None and report.first_bad_seq <= expected
                report.fail(
                    f"Merkle root at size {expected} does not match the signed checkpoint: "
                    f"an entry in {previous_mark + 1}..{expected} was altered",
                    None if pinned else previous_mark + 1,
                )
            report.checkpoints += 1
            previous_mark = expected
            mark_index += 1
    report.entries = expected
    if expected < head.tree_size:
        report.fail(
            f"entry {expected + 1}: missing (log ends at {expected}, signed head says "
            f"{head.tree_size})",
            expected + 1,
        )
    return report


# -- live database --------------------------------------------------------------
def _db_entries(conn: Connection, tenant_id: int) -> Iterator[EntryRow]:
    result = conn.execution_options(yield_per=20_000).execute(
        select(
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
            audit_entry.c.leaf_hash,
        )
        .where(audit_entry.c.tenant_id == tenant_id)
        .order_by(audit_entry.c.seq)
    )
    for row in result:
        yield EntryRow(*row)


def _db_heads(conn: Connection, tenant_id: int) -> tuple[list[SignedHead], SignedHead]:
    checkpoints = [
        SignedHead(r.tree_size, bytes(r.root), r.ts_us, r.key_id, bytes(r.signature))
        for r in conn.execute(
            select(audit_checkpoint)
            .where(audit_checkpoint.c.tenant_id == tenant_id)
            .order_by(audit_checkpoint.c.tree_size)
        )
    ]
    h = conn.execute(select(audit_head).where(audit_head.c.tenant_id == tenant_id)).one()
    return checkpoints, SignedHead(
        h.tree_size, bytes(h.root), h.ts_us, h.key_id, bytes(h.signature)
    )


def verify_database(
    conn: Connection, tenant_id: int, trusted_keys: dict[str, bytes]
) -> VerifyReport:
    checkpoints, head = _db_heads(conn, tenant_id)
    return verify_stream(tenant_id, _db_entries(conn, tenant_id), checkpoints, head, trusted_keys)


# -- export files -----------------------------------------------------------------
def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _head_json(head: SignedHead) -> dict[str, Any]:
    return {
        "tree_size": head.tree_size,
        "root": _b64(head.root),
        "ts_us": head.ts_us,
        "key_id": head.key_id,
        "signature": _b64(head.signature),
    }


def _head_from(obj: dict[str, Any]) -> SignedHead:
    return SignedHead(
        int(obj["tree_size"]),
        base64.b64decode(obj["root"]),
        int(obj["ts_us"]),
        str(obj["key_id"]),
        base64.b64decode(obj["signature"]),
    )


def export_log(conn: Connection, tenant_id: int, public_keys: dict[str, bytes], path: Path) -> int:
    """Write entries, checkpoints, signed head and public keys as JSON lines."""
    checkpoints, head = _db_heads(conn, tenant_id)
    count = 0
    with path.open("w", encoding="utf-8") as out:
        header = {
            "format": EXPORT_FORMAT,
            "tenant_id": tenant_id,
            "public_keys": {k: _b64(v) for k, v in public_keys.items()},
            "head": _head_json(head),
            "checkpoints": [_head_json(c) for c in checkpoints],
        }
        out.write(json.dumps(header, ensure_ascii=False) + "\n")
        for row in _db_entries(conn, tenant_id):
            if row.seq > head.tree_size:
                break
            record = row._asdict()
            record["leaf_hash"] = _b64(bytes(row.leaf_hash))
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
    return count


class ExportFormatError(ValueError):
    pass


def verify_export(path: Path, pinned_keys: dict[str, bytes] | None = None) -> VerifyReport:
    """Verify an export offline; with ``pinned_keys`` the file's own keys are not trusted."""
    with path.open(encoding="utf-8") as handle:
        try:
            header = json.loads(handle.readline())
        except json.JSONDecodeError as exc:
            raise ExportFormatError(f"{path}: line 1 is not JSON") from exc
        if not isinstance(header, dict) or header.get("format") != EXPORT_FORMAT:
            raise ExportFormatError(f"{path}: not a {EXPORT_FORMAT} file")
        keys = pinned_keys or {
            k: base64.b64decode(v) for k, v in header.get("public_keys", {}).items()
        }

        def rows() -> Iterator[EntryRow]:
            for number, line in enumerate(handle, start=2):
                try:
                    obj = json.loads(line)
                    obj["leaf_hash"] = base64.b64decode(obj["leaf_hash"])
                    yield EntryRow(**obj)
                except (json.JSONDecodeError, KeyError, TypeError) as exc:
                    raise ExportFormatError(f"{path}: line {number} is not an audit entry") from exc

        return verify_stream(
            int(header["tenant_id"]),
            rows(),
            [_head_from(c) for c in header["checkpoints"]],
            _head_from(header["head"]),
            keys,
        )
