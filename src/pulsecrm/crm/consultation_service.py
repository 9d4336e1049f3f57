"""Consultations: online or on-site, items, intent — and the chief complaint and notes,
which are health data, sealed per record by the kernel (``kernel.records``).

A role without a health grant for the purpose (marketing manager, front desk)
gets the consultation without those fields at all: not masked, absent (D2).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.crm.clinic_tables import consultation, lead
from pulsecrm.crm.errors import HealthGrantRequired, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import require_person
from pulsecrm.crm.org_service import require_branch
from pulsecrm.crm.scope import Scope
from pulsecrm.kernel.audit_log import append_events
from pulsecrm.kernel.audit_records import Action, AuditEvent, Outcome
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue
from pulsecrm.kernel.policy import Access
from pulsecrm.kernel.record_vault import SealedItem
from pulsecrm.kernel.runtime import Kernel

MODES = ("online", "on_site")
INTENT_LEVELS = ("high", "medium", "low")
HEALTH_COLUMNS = {"chief_complaint": "chief_complaint", "consultation_notes": "notes"}
PUBLIC_COLUMNS = (
    "id",
    "person_id",
    "lead_id",
    "branch_id",
    "consultant_id",
    "mode",
    "items",
    "intent_level",
    "created_us",
)
# API name -> catalog field of the health values a consultation holds.
HEALTH_API_FIELDS = {"chief_complaint": "chief_complaint", "notes": "consultation_notes"}
EDITABLE = ("intent_level", "items", "chief_complaint", "notes")


def _items(items: list[str]) -> str:
    clean = [i.strip() for i in items if i.strip()]
    if not clean or any("," in i or len(i) > 64 for i in clean):
        raise InvalidValue(
            "items", "one or more item codes, no commas", "至少一个项目编码，不含逗号"
        )
    joined = ",".join(clean)
    if len(joined) > 200:
        raise InvalidValue("items", "at most 200 characters in all", "合计不超过200个字符")
    return joined


def create_consultation(
    *,
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    scope: Scope,
    person_id: str,
    mode: str,
    items: list[str],
    intent_level: str,
    lead_id: str | None = None,
    branch_id: str | None = None,
    chief_complaint: str | None = None,
    notes: str | None = None,
    created_us: int | None = None,
) -> str:
    if mode not in MODES:
        raise InvalidValue("mode", "online or on_site", "应为 online 或 on_site")
    if intent_level not in INTENT_LEVELS:
        raise InvalidValue("intent_level", "high, medium or low", "应为 high、medium 或 low")
    joined = _items(items)
    require_person(conn=conn, tenant_id=ctx.tenant_id, person_id=person_id)
    if branch_id is not None:
        require_branch(conn=conn, tenant_id=ctx.tenant_id, branch_id=branch_id)
    if lead_id is not None:
        found = conn.execute(
            select(lead.c.person_id).where(scope.where(lead), lead.c.id == lead_id)
        ).scalar()
        if found is None:
            raise not_found("lead_id", lead_id)
        if found != person_id:
            raise InvalidValue("lead_id", "lead belongs to another person", "线索属于其他人")
    record_id = new_id()
    sealed: dict[str, bytes | None] = {"chief_complaint": None, "notes": None}
    for field, column in HEALTH_COLUMNS.items():
        text = chief_complaint if field == "chief_complaint" else notes
        if text is not None:
            if len(text) > 4000:
                raise InvalidValue(column, "at most 4000 characters", "不超过4000个字符")
            if _health_refusal(kernel, ctx, [column]):
                raise _refuse(ctx, column)
            sealed[column] = kernel.records.seal(ctx, person_id, field, record_id, text)
    conn.execute(
        insert(consultation).values(
            id=record_id,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            lead_id=lead_id,
            branch_id=branch_id,
            consultant_id=scope.account_id,
            mode=mode,
            items=joined,
            intent_level=intent_level,
            created_us=created_us or now_us(),
            **sealed,
        )
    )
    written = tuple(f for f, column in HEALTH_COLUMNS.items() if sealed[column] is not None)
    if written:
        _audit_write(conn, kernel, ctx, person_id, record_id, written, ["created"])
    return record_id


def _audit_write(
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    person_id: str,
    record_id: str,
    fields: tuple[str, ...],
    changed: list[str],
) -> None:
    """A health write is audited in the caller's transaction: fields named, never values."""
    event = AuditEvent(
        ctx.actor,
        ctx.role,
        ctx.purpose,
        Action.WRITE,
        Outcome.ALLOWED,
        person_id,
        fields,
        {"record": record_id, "table": "consultation", "changed": changed},
    )
    append_events(conn, ctx.tenant_id, [event], kernel.signer_for(ctx.tenant_id))


def get_consultation(
    *,
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    scope: Scope,
    consultation_id: str,
    reveal: bool = False,
) -> dict[str, Any]:
    """The consultation; health fields only for roles granted them for ``ctx.purpose``.

    Opening is audited by the kernel's group-commit writer before the value is
    returned, so on SQLite pass a read-only unit (``store.engine.read_connection``),
    not a write transaction (which would hold the lock the writer needs).
    """
    row = conn.execute(
        select(consultation).where(
            scope.where(consultation, "consultant_id"), consultation.c.id == consultation_id
        )
    ).first()
    if row is None:
        raise not_found("consultation_id", consultation_id)
    result: dict[str, Any] = {c: row._mapping[c] for c in PUBLIC_COLUMNS}
    result["items"] = row.items.split(",")
    granted = [
        f
        for f in HEALTH_COLUMNS
        if kernel.policy.decide(ctx.role, f, ctx.purpose) is not Access.DENY
    ]
    if granted:
        items = [
            SealedItem(row.person_id, f, row.id, row._mapping[HEALTH_COLUMNS[f]]) for f in granted
        ]
        for field, value in zip(
            granted, kernel.records.open(ctx, items, reveal=reveal), strict=True
        ):
            result[field] = value
    return result


def list_consultations(
    *,
    conn: Connection,
    scope: Scope,
    person_id: str | None = None,
    lead_id: str | None = None,
    branch_id: str | None = None,
    mode: str | None = None,
    intent_level: str | None = None,
    consultant_id: int | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Pseudonymous facts only: a list never carries health data."""
    query = select(*(consultation.c[c] for c in PUBLIC_COLUMNS)).where(
        scope.where(consultation, "consultant_id")
    )
    for column, value in (
        (consultation.c.person_id, person_id),
        (consultation.c.lead_id, lead_id),
        (consultation.c.branch_id, branch_id),
        (consultation.c.mode, mode),
        (consultation.c.intent_level, intent_level),
        (consultation.c.consultant_id, consultant_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_us is not None:
        query = query.where(consultation.c.created_us >= from_us)
    if to_us is not None:
        query = query.where(consultation.c.created_us < to_us)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(consultation.c.created_us.desc()).limit(min(limit, 200)).offset(offset)
    )
    out = []
    for r in rows:
        item = dict(r._mapping)
        item["items"] = str(item["items"]).split(",")
        out.append(item)
    return out, int(total)


def _health_refusal(kernel: Kernel, ctx: AccessContext, fields: list[str]) -> list[str]:
    return [
        f
        for f in fields
        if f in HEALTH_API_FIELDS
        and kernel.policy.decide(ctx.role, HEALTH_API_FIELDS[f], ctx.purpose) is Access.DENY
    ]


def _refuse(ctx: AccessContext, field: str) -> HealthGrantRequired:
    return HealthGrantRequired(
        field,
        f"your role ({ctx.role}) has no health grant for {ctx.purpose}",
        f"您的角色（{ctx.role}）没有 {ctx.purpose} 的健康数据权限",
    )


def require_health_write(*, kernel: Kernel, ctx: AccessContext, fields: list[str]) -> None:
    """Refuse (403 naming the first field, audited) a role without a health grant.

    Call it *before* opening the write transaction: on SQLite the denial's audit entry is
    committed by the kernel's writer, which needs the write lock. (The services check
    again inside the transaction, without auditing, for callers that skip this.)
    """
    denied = _health_refusal(kernel, ctx, fields)
    if not denied:
        return
    kernel.audit_writer.record(
        ctx.tenant_id,
        [
            AuditEvent(
                ctx.actor,
                ctx.role,
                ctx.purpose,
                Action.WRITE,
                Outcome.DENIED,
                None,
                tuple(HEALTH_API_FIELDS[f] for f in denied),
                {"reason": "no health grant", "table": "consultation"},
            )
        ],
    )
    raise _refuse(ctx, denied[0])


def update_consultation(
    *,
    conn: Connection,
    kernel: Kernel,
    ctx: AccessContext,
    scope: Scope,
    consultation_id: str,
    changes: dict[str, Any],
) -> dict[str, Any]:
    """Change intent, items, chief complaint and/or notes of a consultation in scope.

    Health values are re-sealed by the kernel for the same record (``None`` clears one);
    the change is audited in the caller's transaction, naming the fields, never values.
    Returns the pseudonymous facts (health values are read with ``get_consultation``).
    """
    unknown = sorted(set(changes) - set(EDITABLE))
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    denied = _health_refusal(kernel, ctx, sorted(changes))
    if denied:
        raise _refuse(ctx, denied[0])
    row = conn.execute(
        select(consultation.c.person_id).where(
            scope.where(consultation, "consultant_id"), consultation.c.id == consultation_id
        )
    ).first()
    if row is None:
        raise not_found("consultation_id", consultation_id)
    values: dict[str, Any] = {}
    if "intent_level" in changes:
        if changes["intent_level"] not in INTENT_LEVELS:
            raise InvalidValue("intent_level", "high, medium or low", "应为 high、medium 或 low")
        values["intent_level"] = changes["intent_level"]
    if "items" in changes:
        if not isinstance(changes["items"], list):
            raise InvalidValue("items", "a list of item codes", "应为项目编码列表")
        values["items"] = _items(changes["items"])
    sealed_fields: list[str] = []
    for field in ("chief_complaint", "notes"):
        if field not in changes:
            continue
        text = changes[field]
        if text is not None and (not isinstance(text, str) or len(text) > 4000):
            raise InvalidValue(field, "text of at most 4000 characters", "不超过4000个字符的文本")
        catalog_field = HEALTH_API_FIELDS[field]
        values[field] = (
            None
            if not text
            else kernel.records.seal(ctx, row.person_id, catalog_field, consultation_id, text)
        )
        sealed_fields.append(catalog_field)
    if values:
        conn.execute(
            update(consultation)
            .where(consultation.c.tenant_id == ctx.tenant_id, consultation.c.id == consultation_id)
            .values(**values)
        )
        _audit_write(
            conn, kernel, ctx, row.person_id, consultation_id, tuple(sealed_fields), sorted(values)
        )
    updated = conn.execute(
        select(*(consultation.c[c] for c in PUBLIC_COLUMNS)).where(
            consultation.c.tenant_id == ctx.tenant_id, consultation.c.id == consultation_id
        )
    ).one()
    result = dict(updated._mapping)
    result["items"] = str(result["items"]).split(",")
    return result
