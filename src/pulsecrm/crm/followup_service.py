"""Follow-up plans (回访): templates of day offsets, tasks per staff member, a work queue
(today / overdue / upcoming), outcomes and the next date."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pulsecrm.crm.clinic_tables import followup_task, followup_template
from pulsecrm.crm.errors import Duplicate, InvalidTransition, not_found
from pulsecrm.crm.ids import DAY_US, new_id, now_us
from pulsecrm.crm.scope import Scope
from pulsecrm.kernel.errors import InvalidValue

OUTCOMES = ("reached", "no_answer", "satisfied", "complaint", "rebook")
CHANNELS = ("phone", "sms", "wechat", "email")


def create_template(
    *, conn: Connection, tenant_id: int, name: str, offsets: list[int], channel: str = "phone"
) -> str:
    if not offsets or any(not 0 <= d <= 3650 for d in offsets) or len(set(offsets)) != len(offsets):
        raise InvalidValue(
            "offsets", "distinct day offsets between 0 and 3650", "0到3650之间且不重复的天数"
        )
    if channel not in CHANNELS:
        raise InvalidValue(
            "channel", f"one of {', '.join(CHANNELS)}", f"应为 {'、'.join(CHANNELS)}"
        )
    if conn.execute(
        select(followup_template.c.id).where(
            followup_template.c.tenant_id == tenant_id, followup_template.c.name == name
        )
    ).first():
        raise Duplicate("name", "a template with this name exists", "同名模板已存在")
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
