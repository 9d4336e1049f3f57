"""Who may manage segments and campaigns, and the audit entry every action leaves.

Marketing managers create and run them; a privacy officer may read them
(oversight: what is targeted, for which purpose) but not change them.
Every refusal is audited too, through the kernel's group-commit writer,
since it happens outside any write transaction.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection

from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.runtime import Kernel
from pulsecrm.marketing.errors import RoleRefused

MANAGERS = frozenset({"marketing_manager"})
READERS = MANAGERS | {"privacy_officer"}


def require_role(
    kernel: Kernel, ctx: AccessContext, *, write: bool, what: str, record: bool = True
) -> None:
    """Refuse a role that may not do this. Adapters call it first, outside any transaction,
    so the refusal is audited (``record``); services call it again with ``record=False``
    as a second line — inside their caller's transaction a second writer would wait on it."""
    allowed = MANAGERS if write else READERS
    if ctx.role in allowed:
        return
    if not record:
        raise RoleRefused(f"{ctx.role} may not {'change' if write else 'read'} {what}")
    kernel.audit_writer.record(
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.WRITE if write else Action.READ,
                Outcome.DENIED,
                None,
                (),
                {"marketing": what, "reason": "role"},
            )
        ],
    )
    raise RoleRefused(f"{ctx.role} may not {'change' if write else 'read'} {what}")


def audit(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    action: str,
    detail: dict[str, Any],
    *,
    purpose: str | None = None,
) -> None:
    """An audit entry in the caller's transaction (commits, or rolls back, with the change)."""
    append_events(
        conn,
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                purpose or ctx.purpose,
                action,
                Outcome.ALLOWED,
                None,
                (),
                detail,
            )
        ],
        kernel.signer_for(ctx.tenant_id),
    )
