"""Follow-up plans (回访): templates of day offsets, tasks per staff member, a work queue
(today / overdue / upcoming), outcomes and the next date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pulsecrm.crm.clinic_tables import followup_task, followup_template
from pulsecrm.crm.errors import Duplicate, InvalidTransition, not_found
from pulsecrm.crm.ids import DAY_US, new_id, now_us
from pulsecrm.crm.scope import Scope, paged, require_assignable
from pulsecrm.kernel.errors import InvalidValue

OUTCOMES = ("reached", "no_answer", "satisfied", "complaint", "rebook")
CHANNELS = ("phone", "sms", "wechat", "email")


def _check_offsets(offsets: object) -> str:
    if (
        not isinstance(offsets, list)
        or not offsets
        or any(not isinstance(d, int) or isinstance(d, bool) or not 0 <= d <= 3650 for d in offsets)
        or len(set(offsets)) != len(offsets)
        or len(offsets) > 20
    ):
        raise InvalidValue(
            "offsets",
            "1 to 20 distinct day offsets between 0 and 3650",
            "1到20个0到3650之间且不重复的天数",
        )
    return ",".join(str(d) for d in sorted(offsets))


def _check_channel(channel: object) -> None:
    if channel not in CHANNELS:
        raise InvalidValue(
            "channel", f"one of {', '.join(CHANNELS)}", f"应为 {'、'.join(CHANNELS)}"
        )


def _check_name(conn: Connection, tenant_id: int, name: object, other_than: str = "") -> None:
    if not isinstance(name, str) or not name.strip() or len(name) > 100:
        raise InvalidValue("name", "required, at most 100 characters", "必填，不超过100个字符")
    if conn.execute(
        select(followup_template.c.id).where(
            followup_template.c.tenant_id == tenant_id,
            followup_template.c.name == name,
            followup_template.c.id != other_than,
        )
    ).first():
        raise Duplicate("name", "a template with this name exists", "同名模板已存在")


def create_template(
    *, conn: Connection, tenant_id: int, name: str, offsets: list[int], channel: str = "phone"
) -> str:
    _check_offsets(offsets)
    _check_channel(channel)
    _check_name(conn, tenant_id, name)
    template_id = new_id()
    conn.execute(
        insert(followup_template).values(
            id=template_id,
            tenant_id=tenant_id,
            name=name,
            offsets=",".join(str(d) for d in sorted(offsets)),
            channel=channel,
        )
    )
    return template_id


def plan_from_template(
    *,
    conn: Connection,
    tenant_id: int,
    template_id: str,
    person_id: str,
    owner_id: int | None,
    start_us: int,
    deal_id: str | None = None,
    lead_id: str | None = None,
) -> list[str]:
    offsets = conn.execute(
        select(followup_template.c.offsets).where(
            followup_template.c.tenant_id == tenant_id, followup_template.c.id == template_id
        )
    ).scalar()
    if offsets is None:
        raise not_found("followup_template_id", template_id)
    rows = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "person_id": person_id,
            "lead_id": lead_id,
            "deal_id": deal_id,
            "template_id": template_id,
            "owner_id": owner_id,
            "day_offset": int(d),
            "due_us": start_us + int(d) * DAY_US,
            "status": "open",
            "outcome": None,
            "completed_us": None,
            "next_due_us": None,
        }
        for d in str(offsets).split(",")
    ]
    conn.execute(insert(followup_task), rows)
    return [str(r["id"]) for r in rows]


def _day_bounds(now: int, tz_offset_hours: int) -> tuple[int, int]:
    local = datetime.fromtimestamp(now / 1e6, UTC) + timedelta(hours=tz_offset_hours)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(
        hours=tz_offset_hours
    )
    start_us = int(start.timestamp() * 1_000_000)
    return start_us, start_us + DAY_US


def queue(
    *,
    conn: Connection,
    scope: Scope,
    owner_id: int | None = None,
    now: int | None = None,
    tz_offset_hours: int = 8,
    upcoming_days: int = 7,
) -> dict[str, list[dict[str, Any]]]:
    """Open tasks of one staff member (default: the caller): overdue, today, upcoming."""
    now = now or now_us()
    start, end = _day_bounds(now, tz_offset_hours)
    owner = scope.account_id if owner_id is None else owner_id
    rows = conn.execute(
        select(followup_task)
        .where(
            scope.where(followup_task),
            followup_task.c.owner_id == owner,
            followup_task.c.status == "open",
            followup_task.c.due_us < end + upcoming_days * DAY_US,
        )
        .order_by(followup_task.c.due_us)
    )
    out: dict[str, list[dict[str, Any]]] = {"overdue": [], "today": [], "upcoming": []}
    for r in rows:
        item = dict(r._mapping)
        key = (
            "overdue" if item["due_us"] < start else "today" if item["due_us"] < end else "upcoming"
        )
        out[key].append(item)
    return out


def complete(
    *,
    conn: Connection,
    scope: Scope,
    task_id: str,
    outcome: str,
    next_due_us: int | None = None,
    now: int | None = None,
) -> str | None:
    """Record the outcome; a next date creates the next task. Returns its id."""
    now = now or now_us()
    if outcome not in OUTCOMES:
        raise InvalidValue(
            "outcome", f"one of {', '.join(OUTCOMES)}", f"应为 {'、'.join(OUTCOMES)}"
        )
    row = conn.execute(
        select(followup_task).where(scope.where(followup_task), followup_task.c.id == task_id)
    ).first()
    if row is None:
        raise not_found("task_id", task_id)
    if row.status != "open":
        raise InvalidTransition(
            "status", f"cannot complete a {row.status} task", f"不能完成状态为 {row.status} 的任务"
        )
    if next_due_us is not None and next_due_us <= now:
        raise InvalidValue("next_due", "must be in the future", "下次回访时间必须晚于当前时间")
    conn.execute(
        update(followup_task)
        .where(followup_task.c.id == task_id)
        .values(status="done", outcome=outcome, completed_us=now, next_due_us=next_due_us)
    )
    if next_due_us is None:
        return None
    new_id_ = new_id()
    conn.execute(
        insert(followup_task).values(
            id=new_id_,
            tenant_id=row.tenant_id,
            person_id=row.person_id,
            lead_id=row.lead_id,
            deal_id=row.deal_id,
            template_id=row.template_id,
            owner_id=row.owner_id,
            day_offset=row.day_offset + max(0, (next_due_us - row.due_us) // DAY_US),
            due_us=next_due_us,
            status="open",
            outcome=None,
            completed_us=None,
            next_due_us=None,
        )
    )
    return new_id_


# -- templates: read and edit --------------------------------------------------------------
def _template_row(mapping: Any) -> dict[str, Any]:
    out = dict(mapping)
    out["offsets"] = [int(d) for d in str(out["offsets"]).split(",")]
    return out


def get_template(*, conn: Connection, tenant_id: int, template_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(followup_template).where(
            followup_template.c.tenant_id == tenant_id, followup_template.c.id == template_id
        )
    ).first()
    if row is None:
        raise not_found("template_id", template_id)
    return _template_row(row._mapping)


def list_templates(
    *,
    conn: Connection,
    tenant_id: int,
    channel: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """Templates are the tenant's shared plans: every staff member of the tenant sees them."""
    query = select(followup_template).where(followup_template.c.tenant_id == tenant_id)
    if channel is not None:
        query = query.where(followup_template.c.channel == channel)
    rows, total = paged(
        conn, query, [followup_template.c.name, followup_template.c.id], limit, offset
    )
    return [_template_row(r) for r in rows], total


def update_template(
    *, conn: Connection, tenant_id: int, template_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Rename a template, change its offsets or channel. Tasks already planned keep their
    dates: a template change applies to deals recorded after it."""
    unknown = sorted(set(changes) - {"name", "offsets", "channel"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    get_template(conn=conn, tenant_id=tenant_id, template_id=template_id)
    values: dict[str, Any] = {}
    if "name" in changes:
        _check_name(conn, tenant_id, changes["name"], other_than=template_id)
        values["name"] = changes["name"]
    if "offsets" in changes:
        values["offsets"] = _check_offsets(changes["offsets"])
    if "channel" in changes:
        _check_channel(changes["channel"])
        values["channel"] = changes["channel"]
    if values:
        conn.execute(
            update(followup_template)
            .where(
                followup_template.c.tenant_id == tenant_id,
                followup_template.c.id == template_id,
            )
            .values(**values)
        )
    return get_template(conn=conn, tenant_id=tenant_id, template_id=template_id)


# -- follow-up tasks: read, list, edit, skip ------------------------------------------------
STATUSES = ("open", "done", "skipped")


def get_followup(*, conn: Connection, scope: Scope, task_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(followup_task).where(scope.where(followup_task), followup_task.c.id == task_id)
    ).first()
    if row is None:
        raise not_found("task_id", task_id)
    return dict(row._mapping)


def list_followups(
    *,
    conn: Connection,
    scope: Scope,
    owner_id: int | None = None,
    status: str | None = None,
    person_id: str | None = None,
    deal_id: str | None = None,
    lead_id: str | None = None,
    due_from_us: int | None = None,
    due_to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of follow-ups in scope, soonest due first; the due range is ``[from, to)``."""
    query = select(followup_task).where(scope.where(followup_task))
    for column, value in (
        (followup_task.c.owner_id, owner_id),
        (followup_task.c.status, status),
        (followup_task.c.person_id, person_id),
        (followup_task.c.deal_id, deal_id),
        (followup_task.c.lead_id, lead_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if due_from_us is not None:
        query = query.where(followup_task.c.due_us >= due_from_us)
    if due_to_us is not None:
        query = query.where(followup_task.c.due_us < due_to_us)
    return paged(conn, query, [followup_task.c.due_us, followup_task.c.id], limit, offset)


def _require_open(current: dict[str, Any], verb_en: str, verb_zh: str) -> None:
    if current["status"] != "open":
        raise InvalidTransition(
            "status",
            f"cannot {verb_en} a {current['status']} follow-up",
            f"不能{verb_zh}状态为 {current['status']} 的回访",
        )


def update_followup(
    *,
    conn: Connection,
    scope: Scope,
    task_id: str,
    changes: dict[str, Any],
    now: int | None = None,
) -> dict[str, Any]:
    """Reschedule an open follow-up (``due_us`` in the future) and/or hand it to another
    owner within the caller's scope. Returns it as it now is (it may leave the scope)."""
    unknown = sorted(set(changes) - {"due_us", "owner_id"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    now = now or now_us()
    current = get_followup(conn=conn, scope=scope, task_id=task_id)
    _require_open(current, "change", "修改")
    values: dict[str, Any] = {}
    if "due_us" in changes:
        due = changes["due_us"]
        if not isinstance(due, int) or isinstance(due, bool) or not now < due < 2**62:
            raise InvalidValue("due_us", "must be in the future", "回访时间必须晚于当前时间")
        values["due_us"] = due
    if "owner_id" in changes:
        owner = changes["owner_id"]
        if not isinstance(owner, int) or isinstance(owner, bool):
            raise InvalidValue("owner_id", "a staff account id", "应为员工账号编号")
        require_assignable(conn=conn, scope=scope, owner_id=owner)
        values["owner_id"] = owner
    if values:
        conn.execute(
            update(followup_task)
            .where(
                followup_task.c.tenant_id == scope.tenant_id,
                followup_task.c.id == task_id,
                followup_task.c.status == "open",
            )
            .values(**values)
        )
    row = conn.execute(
        select(followup_task).where(
            followup_task.c.tenant_id == scope.tenant_id, followup_task.c.id == task_id
        )
    ).one()
    return dict(row._mapping)


def skip(*, conn: Connection, scope: Scope, task_id: str, now: int | None = None) -> dict[str, Any]:
    """open → skipped (the follow-up will not be made: the person declined, or moved away)."""
    current = get_followup(conn=conn, scope=scope, task_id=task_id)
    _require_open(current, "skip", "跳过")
    conn.execute(
        update(followup_task)
        .where(
            followup_task.c.tenant_id == scope.tenant_id,
            followup_task.c.id == task_id,
            followup_task.c.status == "open",
        )
        .values(status="skipped", completed_us=now or now_us())
    )
    return get_followup(conn=conn, scope=scope, task_id=task_id)
