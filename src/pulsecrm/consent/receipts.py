"""Proof of consent: a JSON bundle a regulator can check without trusting our database.

One receipt per consent (person × purpose × channel) with the fields of a
Kantara Consent Receipt v1.1 and their ISO/IEC TS 27560 counterparts, the
full text of every notice the events cite (so its SHA-256 can be recomputed),
and every ledger event of that consent with the kernel audit entry written in
the same transaction and that entry's RFC 9162 inclusion proof against the
tenant's signed tree head (Ed25519).

``verify_bundle`` needs only this module's pure functions, ``merkle`` and the
audit canonical encoding: it recomputes each notice hash, each ledger row
hash, each audit leaf hash, checks that the audit entry names the event and
its row hash, verifies every inclusion proof against the signed root and the
root's signature against the (preferably pinned) public key.
"""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import Connection, select

from pulsecrm.consent import ledger
from pulsecrm.consent.errors import PersonNotFound
from pulsecrm.consent.ledger import EVIDENCE_FIELDS
from pulsecrm.consent.notices import get_notice, notice_hash, sensitive_purposes
from pulsecrm.consent.tables import consent_evidence, consent_state
from pulsecrm.kernel.audit_log import key_id_of
from pulsecrm.kernel.audit_records import canonical_bytes, signed_head_message
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.merkle import ProofError, inclusion_proof, leaf_hash, verify_inclusion
from pulsecrm.kernel.record_vault import SealedItem
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.kernel.tables import audit_entry, audit_head

FORMAT = "pulsecrm-consent-proof/v1"
JURISDICTION = {"pipl": "CN", "gdpr": "EU", "hipaa": "US"}
AUDIT_COLUMNS = (
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
)


def _iso(us: int | None) -> str | None:
    if us is None:
        return None
    return datetime.fromtimestamp(us / 1_000_000, tz=UTC).isoformat().replace("+00:00", "Z")


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def build_bundle(
    conn: Connection,
    kernel: Kernel,
    tenant_id: int,
    person_id: str,
) -> dict[str, Any]:
    """The proof bundle for every consent of ``person_id`` (read-only; no personal data)."""
    events = list(ledger.events_of(conn, tenant_id, person_id))
    states = {
        (r.purpose, r.channel): r
        for r in conn.execute(
            select(consent_state).where(
                consent_state.c.tenant_id == tenant_id, consent_state.c.person_id == person_id
            )
        )
    }
    if not events and not states:
        raise PersonNotFound(
            "person_id", "no consent recorded for this person", "此人没有任何同意记录"
        )
    head = conn.execute(select(audit_head).where(audit_head.c.tenant_id == tenant_id)).one()
    leaves = [
        bytes(h)
        for h in conn.execute(
            select(audit_entry.c.leaf_hash)
            .where(audit_entry.c.tenant_id == tenant_id, audit_entry.c.seq <= head.tree_size)
            .order_by(audit_entry.c.seq)
        ).scalars()
    ]
    wanted = [int(e["audit_seq"]) for e in events]
    entries = (
        {
            int(r.seq): r
            for r in conn.execute(
                select(audit_entry).where(
                    audit_entry.c.tenant_id == tenant_id, audit_entry.c.seq.in_(wanted)
                )
            )
        }
        if wanted
        else {}
    )
    notices: dict[str, Any] = {}
    grouped: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for event in events:
        grouped.setdefault((event["purpose"], event["channel"]), []).append(event)
        if event["notice_hash"] and event["notice_hash"] not in notices:
            notices[event["notice_hash"]] = get_notice(conn, tenant_id, event["notice_hash"])
    signer = kernel.signer_for(tenant_id)
    sensitive = sensitive_purposes(kernel.catalog)
    receipts = []
    for (purpose, channel), items in grouped.items():
        current = states.get((purpose, channel))
        last_grant = next((e for e in reversed(items) if e["kind"] in ("grant", "renew")), None)
        cited = notices.get((last_grant or items[-1])["notice_hash"] or "")
        doc = cited.document if cited else None
        spec = kernel.catalog.purposes[purpose]
        recipients = (
            [r.name for r in (doc.recipients or []) if purpose in r.purposes] if doc else []
        )
        receipts.append(
            {
                # Kantara Consent Receipt v1.1 (ISO/IEC TS 27560 names in comments of docs)
                "version": "KI-CR-v1.1.0",
                "schema_version": "ISO/IEC TS 27560:2023",
                "jurisdiction": JURISDICTION.get(cited.profile if cited else "pipl", "CN"),
                "consentReceiptID": items[-1]["id"],
                "consentTimestamp": (last_grant or items[-1])["ts_us"] // 1_000_000,
                "collectionMethod": (last_grant or items[-1])["method"],
                "language": (last_grant or items[-1])["language"],
                "piiPrincipalId": person_id,
                "piiControllers": [
                    {
                        "piiController": doc.handler.name,
                        "contact": doc.handler.contact,
                        "privacyOfficer": doc.privacy_officer.contact,
                    }
                ]
                if doc
                else [],
                "policyUrl": f"urn:pulsecrm:notice:{cited.version_hash}" if cited else None,
                "notice_hash": cited.version_hash if cited else None,
                "services": [
                    {
                        "service": spec.name.get(cited.locale if cited else "zh-CN"),
                        "purposes": [
                            {
                                "purpose": purpose,
                                "purposeCategory": [purpose.split(".")[0]],
                                "consentType": "EXPLICIT",
                                "piiCategory": list(doc.data_categories) if doc else [],
                                "primaryPurpose": False,
                                "termination": _iso(current.expires_us)
                                if current is not None and current.expires_us
                                else "until withdrawn",
                                "thirdPartyDisclosure": bool(recipients),
                                "thirdPartyName": recipients,
                            }
                        ],
                    }
                ],
                "sensitive": purpose in sensitive,
                "spiCat": ["health"] if purpose in sensitive else [],
                "channel": channel,
                "separate_consent": spec.separate_consent,
                "state": {
                    "status": current.status if current is not None else None,
                    "needs_renewal": bool(current.needs_renewal) if current is not None else None,
                    "by_guardian": bool(current.by_guardian) if current is not None else None,
                },
                "events": [
                    _event_proof(e, entries.get(int(e["audit_seq"])), leaves) for e in items
                ],
            }
        )
    return {
        "format": FORMAT,
        "generated_at": _iso(int(datetime.now(tz=UTC).timestamp() * 1_000_000)),
        "tenant_id": tenant_id,
        "piiPrincipalId": person_id,
        "signed_tree_head": {
            "tree_size": int(head.tree_size),
            "root": bytes(head.root).hex(),
            "ts_us": int(head.ts_us),
            "key_id": head.key_id,
            "signature": _b64(bytes(head.signature)),
            "public_key": _b64(signer.public_raw),
        },
        "notices": {
            h: {"locale": n.locale, "label": n.label, "profile": n.profile, "text": n.text}
            for h, n in notices.items()
        },
        "receipts": receipts,
    }


def _event_proof(event: dict[str, Any], entry: Any, leaves: list[bytes]) -> dict[str, Any]:
    fields = {k: v for k, v in event.items() if k not in ("tenant_id", "prev_hash", "row_hash")}
    out: dict[str, Any] = {
        **fields,
        "prev_hash": bytes(event["prev_hash"]).hex(),
        "row_hash": bytes(event["row_hash"]).hex(),
        "time": _iso(event["ts_us"]),
    }
    if entry is None or int(entry.seq) > len(leaves):
        out["audit"] = None
        return out
    index = int(entry.seq) - 1
    out["audit"] = {
        "entry": {c: getattr(entry, c) for c in AUDIT_COLUMNS},
        "leaf_hash": bytes(entry.leaf_hash).hex(),
        "leaf_index": index,
        "inclusion_proof": [h.hex() for h in inclusion_proof(leaves, index)],
    }
    return out


def open_evidence(
    kernel: Kernel, ctx: AccessContext, tenant_id: int, person_id: str, conn: Connection
) -> list[SealedItem]:
    """The sealed evidence items of a person (open them with ``kernel.records.open``)."""
    items = []
    for row in conn.execute(
        select(consent_evidence).where(
            consent_evidence.c.tenant_id == tenant_id, consent_evidence.c.person_id == person_id
        )
    ):
        for column, name in EVIDENCE_FIELDS.items():
            blob = getattr(row, column)
            if blob is not None:
                items.append(SealedItem(person_id, name, row.event_id, bytes(blob)))
    return items


# -- offline verification ------------------------------------------------------------
def verify_bundle(bundle: dict[str, Any], pinned_public_key: bytes | None = None) -> list[str]:
    """Problems found in ``bundle`` (empty list: every consent in it is proven)."""
    problems: list[str] = []
    if bundle.get("format") != FORMAT:
        return [f"not a {FORMAT} bundle"]
    sth = bundle["signed_tree_head"]
    public = pinned_public_key or base64.b64decode(sth["public_key"])
    root = bytes.fromhex(sth["root"])
    if key_id_of(public) != sth["key_id"]:
        problems.append("signed tree head: key id does not match the public key")
    try:
        Ed25519PublicKey.from_public_bytes(public).verify(
            base64.b64decode(sth["signature"]),
            signed_head_message(
                int(bundle["tenant_id"]), int(sth["tree_size"]), root, int(sth["ts_us"])
            ),
        )
    except InvalidSignature:
        problems.append("signed tree head: signature does not verify")
    for digest, notice in bundle.get("notices", {}).items():
        if notice_hash(notice["text"]) != digest:
            problems.append(f"notice {digest[:12]}: text does not match its hash")
    tenant_id = int(bundle["tenant_id"])
    for receipt in bundle.get("receipts", []):
        for event in receipt["events"]:
            problems.extend(_verify_event(tenant_id, event, root, int(sth["tree_size"]), bundle))
    return problems


def _verify_event(
    tenant_id: int, event: dict[str, Any], root: bytes, tree_size: int, bundle: dict[str, Any]
) -> list[str]:
    name = f"consent event {event['id']}"
    problems = []
    if event.get("notice_hash") and event["notice_hash"] not in bundle.get("notices", {}):
        problems.append(f"{name}: cited notice text missing from the bundle")
    columns = dict(event, prev_hash=bytes.fromhex(event["prev_hash"]))
    if ledger.row_hash(tenant_id, columns).hex() != event["row_hash"]:
        problems.append(f"{name}: ledger row does not match its hash")
    audit = event.get("audit")
    if audit is None:
        return [*problems, f"{name}: no audit entry covered by the signed tree head"]
    entry = audit["entry"]
    leaf = leaf_hash(canonical_bytes(tenant_id=tenant_id, **{k: entry[k] for k in AUDIT_COLUMNS}))
    if leaf.hex() != audit["leaf_hash"]:
        problems.append(f"{name}: audit entry does not match its leaf hash")
    detail = json.loads(entry["detail"])
    if detail.get("consent_event") != event["id"] or detail.get("row_hash") != event["row_hash"]:
        problems.append(f"{name}: audit entry does not name this event and row hash")
    if entry["subject"] != event["person_id"] or int(entry["seq"]) != int(event["audit_seq"]):
        problems.append(f"{name}: audit entry is for another person or position")
    try:
        verify_inclusion(
            int(audit["leaf_index"]),
            tree_size,
            leaf,
            [bytes.fromhex(h) for h in audit["inclusion_proof"]],
            root,
        )
    except ProofError as exc:
        problems.append(f"{name}: inclusion proof fails ({exc})")
    return problems
