"""``consent verify``: the ledger's own chain, its audit mirror, and the state it implies.

Three checks, each naming the first bad row:

1. the hash chain (``ledger.verify_ledger``) — catches a changed, deleted or
   inserted ledger row even when the append-only trigger was dropped;
2. every event's audit entry names the event id and row hash — catches a
   ledger rewritten consistently (chain recomputed) behind the audit log's
   back, since the audit log is itself Merkle-verified (``audit verify``);
3. the current-state table equals a replay of the ledger and notices —
   catches a state row edited to make someone contactable.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from sqlalchemy import Connection, select

from pulsecrm.consent import ledger, state
from pulsecrm.consent.tables import consent_state
from pulsecrm.kernel.tables import audit_entry


@dataclass
class ConsentReport:
    events: int = 0
    states: int = 0
    problems: list[str] = field(default_factory=list)
    first_bad_seq: int | None = None

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "events": self.events,
            "states": self.states,
            "first_bad_event": self.first_bad_seq,
            "problems": self.problems,
        }


def verify_consent(conn: Connection, tenant_id: int) -> ConsentReport:
    chain = ledger.verify_ledger(conn, tenant_id)
    report = ConsentReport(
        events=chain.events, problems=list(chain.problems), first_bad_seq=chain.first_bad_seq
    )
    audit_details = {
        int(seq): detail
        for seq, detail in conn.execution_options(yield_per=20_000).execute(
            select(audit_entry.c.seq, audit_entry.c.detail).where(
                audit_entry.c.tenant_id == tenant_id,
                audit_entry.c.detail.like('%"consent_event"%'),
            )
        )
    }
    events = list(ledger.events_of(conn, tenant_id))
    for event in events:
        raw = audit_details.get(int(event["audit_seq"]))
        detail = json.loads(raw) if raw else {}
        if (
            detail.get("consent_event") != event["id"]
            or detail.get("row_hash") != bytes(event["row_hash"]).hex()
        ):
            report.problems.append(
                f"consent event {event['seq']} ({event['id']}): its audit entry "
                f"{event['audit_seq']} does not record this event and hash"
            )
            if report.first_bad_seq is None or event["seq"] < report.first_bad_seq:
                report.first_bad_seq = int(event["seq"])
    expected = state.replay(conn, tenant_id, events)
    actual = {
        (r.person_id, r.purpose, r.channel): r
        for r in conn.execute(select(consent_state).where(consent_state.c.tenant_id == tenant_id))
    }
    report.states = len(actual)
    for key in sorted(set(expected) | set(actual)):
        want, have = expected.get(key), actual.get(key)
        if want is None or have is None:
            report.problems.append(
                f"consent state {'/'.join(key)}: present in only one of ledger and state table"
            )
            continue
        if have.status != want["status"] or bool(have.needs_renewal) != want["needs_renewal"]:
            report.problems.append(
                f"consent state {'/'.join(key)}: table says {have.status}"
                f"{' (renewal needed)' if have.needs_renewal else ''}, ledger says "
                f"{want['status']}{' (renewal needed)' if want['needs_renewal'] else ''}"
            )
    return report
