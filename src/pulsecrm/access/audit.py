"""Audit entries for authentication events, written in the caller's transaction.

A login, a refused login, a lockout, an unlock, a logout, a second-factor step
and a break-glass grant each leave one entry in the tenant's Merkle audit log
(H6) — committed together with the state change it records, so neither can
exist without the other. Entries name staff, never patients.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection

from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import AuditEvent
from pulsecrm.kernel.runtime import Kernel

PURPOSE = "compliance.audit"

# Action names beyond the kernel's ``Action`` enum, one per kind of event.
LOGIN = "login"
LOGOUT = "logout"
LOCKOUT = "lockout"
UNLOCK = "unlock"
MFA = "mfa"
MFA_ENROL = "mfa_enrol"
MFA_RESET = "mfa_reset"
SESSION_END = "session_end"
BREAK_GLASS = "break_glass"
ACCOUNT = "account"


def event(
    actor: str,
    role: str,
    action: str,
    outcome: str,
    detail: dict[str, Any] | None = None,
    subject: str | None = None,
) -> AuditEvent:
    return AuditEvent(actor[:100], role[:64], PURPOSE, action, outcome, subject, (), detail or {})


def record(conn: Connection, kernel: Kernel, tenant_id: int, events: Sequence[AuditEvent]) -> None:
    if events:
        append_events(conn, tenant_id, list(events), kernel.signer_for(tenant_id))
