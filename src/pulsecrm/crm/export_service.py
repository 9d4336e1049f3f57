"""Bulk export approval (H5, D2): an export of more than ``threshold`` people needs a
privacy officer's approval before anything leaves; the request and the decision are
recorded (and audited)."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pulsecrm.crm.clinic_tables import export_request
from pulsecrm.crm.errors import InvalidTransition, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import AccessDenied, InvalidValue
from pulsecrm.kernel.runtime import Kernel

DEFAULT_THRESHOLD = 10_000
APPROVER_ROLE = "privacy_officer"


def request_export(
    *,
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    person_count: int,
    scope: dict[str, Any],
    threshold: int = DEFAULT_THRESHOLD,
) -> dict[str, Any]:
    """Record an export request; above ``threshold`` people it waits for approval."""
    if person_count < 0:
        raise InvalidValue("person_count", "not negative", "不能为负数")
    status = "pending_approval" if person_count > threshold else "not_needed"
    request_id = new_id()
    conn.execute(
        insert(export_request).values(
            id=request_id,
            tenant_id=ctx.tenant_id,
            requested_by=ctx.actor,
            purpose=ctx.purpose,
            scope=json.dumps(scope, ensure_ascii=False, sort_keys=True),
            person_count=person_count,
            status=status,
            decided_by=None,
            created_us=now_us(),
            decided_us=None,
        )
    )
    append_events(
        conn,
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.EXPORT,
                Outcome.ALLOWED,
                None,
                (),
                {"export_request": request_id, "people": person_count, "status": status},
            )
        ],
        kernel.signer_for(ctx.tenant_id),
    )
    return {
        "id": request_id,
        "status": status,
        "person_count": person_count,
        "threshold": threshold,
    }


def decide(
    *, conn: Connection, kernel: Kernel, ctx: AccessContext, request_id: str, approve: bool
) -> str:
    if ctx.role != APPROVER_ROLE:
        raise AccessDenied("only a privacy officer approves bulk exports")
    row = conn.execute(
        select(export_request.c.status, export_request.c.requested_by).where(
            export_request.c.tenant_id == ctx.tenant_id, export_request.c.id == request_id
        )
    ).first()
    if row is None:
        raise not_found("export_request_id", request_id)
    if row.status != "pending_approval":
        raise InvalidTransition(
            "status", f"cannot decide a {row.status} request", f"不能审批状态为 {row.status} 的请求"
        )
    if row.requested_by == ctx.actor:
        raise AccessDenied("the requester may not approve their own export")
    status = "approved" if approve else "rejected"
    conn.execute(
        update(export_request)
        .where(export_request.c.id == request_id)
        .values(status=status, decided_by=ctx.actor, decided_us=now_us())
    )
    append_events(
        conn,
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.EXPORT,
                Outcome.ALLOWED,
                None,
                (),
                {"export_request": request_id, "decision": status},
            )
        ],
        kernel.signer_for(ctx.tenant_id),
    )
    return status


def get_request(*, conn: Connection, tenant_id: int, request_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(export_request).where(
            export_request.c.tenant_id == tenant_id, export_request.c.id == request_id
        )
    ).first()
    if row is None:
        raise not_found("export_request_id", request_id)
    return dict(row._mapping)
