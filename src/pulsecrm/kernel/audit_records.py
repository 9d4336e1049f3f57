"""An audit entry and its canonical bytes (what the Merkle leaf hashes).

Every column of a stored entry is in the canonical form, including its
sequence number, so changing any column, moving an entry to another position
or swapping two entries changes its leaf hash.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from enum import StrEnum
from json.encoder import encode_basestring as _quote
from typing import Any


class Action(StrEnum):
    READ = "read"
    REVEAL = "reveal"
    WRITE = "write"
    CREATE = "create"
    MERGE = "merge"
    SEARCH = "search"
    EXPORT = "export"
    SHRED = "shred"
    LOGIN = "login"
    SETTINGS = "settings"
    KEY_ROTATION = "key_rotation"
    DECRYPT = "decrypt"


class Outcome(StrEnum):
    ALLOWED = "allowed"
    DENIED = "denied"
    FAILED = "failed"


def now_us() -> int:
    return time.time_ns() // 1000


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """What happened, before the log gives it a position. Never holds personal data."""

    actor: str
    role: str
    purpose: str
    action: str
    outcome: str
    subject: str | None = None
    fields: tuple[str, ...] = ()
    detail: dict[str, Any] = field(default_factory=dict)
    ts_us: int = field(default_factory=now_us)


def encode_fields(fields: tuple[str, ...] | list[str]) -> str:
    return ",".join(sorted(fields))


# Built once: json.dumps with options builds a new encoder per call, and
# verification encodes a million entries.
_DETAIL = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def encode_detail(detail: dict[str, Any]) -> str:
    return _DETAIL.encode(detail) if detail else "{}"


def canonical_bytes(
    *,
    tenant_id: int,
    seq: int,
    ts_us: int,
    actor: str,
    role: str,
    purpose: str,
    action: str,
    outcome: str,
    subject: str | None,
    fields: str,
    detail: str,
) -> bytes:
    # Byte-for-byte what json.dumps([...], ensure_ascii=False, separators=(",", ":"))
    # gives (a test checks), written out because verification encodes a million.
    who = "null" if subject is None else _quote(subject)
    return (
        f"[1,{tenant_id},{seq},{ts_us},{_quote(actor)},{_quote(role)},{_quote(purpose)},"
        f"{_quote(action)},{_quote(outcome)},{who},{_quote(fields)},{_quote(detail)}]"
    ).encode()


def signed_head_message(tenant_id: int, tree_size: int, root: bytes, ts_us: int) -> bytes:
    """The text an Ed25519 checkpoint signature covers (a C2SP-style signed note body)."""
    return (
        f"pulsecrm-audit/v1\ntenant {tenant_id}\nsize {tree_size}\n"
        f"root {root.hex()}\ntime {ts_us}\n"
    ).encode()
