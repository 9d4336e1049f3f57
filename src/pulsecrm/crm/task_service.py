"""Staff tasks (待办): an owner, a due time and a kind code, optionally about a person.

No free text: the ``task`` table holds codes only, so nothing personal can be typed
into a task. A task given a lead keeps the lead and the lead's person. Scope: a staff
member sees their own tasks; a branch role sees the
tasks of every staff member of their branch; rows outside the scope are *not found*.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Connection, and_, func, insert, select, update

from pulsecrm.crm.clinic_tables import staff_member, task
from pulsecrm.crm.errors import InvalidTransition, not_found
from pulsecrm.crm.ids import new_id, now_us
from pulsecrm.crm.lead_service import get_lead, require_person
from pulsecrm.crm.scope import BRANCH_ROLES, Scope
from pulsecrm.kernel.errors import InvalidValue

KINDS = ("call_back", "confirm_appointment", "send_material", "other")
STATUSES = ("open", "done", "cancelled")
MAX_PAGE = 200


def _owners_in_scope(scope: Scope) -> ColumnElement[bool]:
    if scope.role in BRANCH_ROLES and scope.branch_id is not None:
        branch_staff = select(staff_member.c.account_id).where(
            staff_member.c.tenant_id == scope.tenant_id,
            staff_member.c.branch_id == scope.branch_id,
        )
        return task.c.owner_id.in_(branch_staff.scalar_subquery())
    return task.c.owner_id == scope.account_id


def _where(scope: Scope) -> ColumnElement[bool]:
    return and_(task.c.tenant_id == scope.tenant_id, _owners_in_scope(scope))


def _require_owner(*, conn: Connection, scope: Scope, owner_id: int) -> None:
    """The caller themselves, or (branch roles) an active staff member of their branch."""
    if owner_id == scope.account_id:
        return
    if scope.role not in BRANCH_ROLES or scope.branch_id is None:
        raise InvalidValue(
            "owner_id", "you may only assign tasks to yourself", "只能为自己安排任务"
        )
    found = conn.execute(
        select(staff_member.c.account_id).where(
            staff_member.c.tenant_id == scope.tenant_id,
            staff_member.c.account_id == owner_id,
            staff_member.c.branch_id == scope.branch_id,
            staff_member.c.active.is_(True),
        )
    ).first()
    if found is None:
        raise InvalidValue(
            "owner_id",
            f"no active staff member {owner_id} in your branch",
            f"本门店没有在职员工 {owner_id}",
        )


def create_task(
    *,
    conn: Connection,
    scope: Scope,
    kind: str,
    due_us: int,
    owner_id: int | None = None,
    person_id: str | None = None,
    lead_id: str | None = None,
    now: int | None = None,
) -> str:
    """Create an open task (owner defaults to the caller). Returns its id."""
    if kind not in KINDS:
        raise InvalidValue("kind", f"one of {', '.join(KINDS)}", f"应为 {'、'.join(KINDS)}")
    if not 0 < due_us < 2**62:
        raise InvalidValue("due_us", "a time in microseconds", "应为微秒时间戳")
    owner = scope.account_id if owner_id is None else owner_id
    _require_owner(conn=conn, scope=scope, owner_id=owner)
    if lead_id is not None:
        lead_person = str(get_lead(conn=conn, scope=scope, lead_id=lead_id)["person_id"])
        if person_id is not None and person_id != lead_person:
            raise InvalidValue(
                "lead_id", "the lead belongs to another person", "该线索属于其他客户"
            )
        person_id = lead_person
    elif person_id is not None:
        require_person(conn=conn, tenant_id=scope.tenant_id, person_id=person_id)
    task_id = new_id()
    conn.execute(
        insert(task).values(
            id=task_id,
            tenant_id=scope.tenant_id,
            person_id=person_id,
            lead_id=lead_id,
            owner_id=owner,
            kind=kind,
            due_us=due_us,
            status="open",
            created_us=now or now_us(),
        )
    )
    return task_id


def list_open(
    *,
    conn: Connection,
    scope: Scope,
    owner_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of a staff member's open tasks (default: the caller), soonest first."""
    return list_tasks(conn=conn, scope=scope, owner_id=owner_id, limit=limit, offset=offset)


def list_tasks(
    *,
    conn: Connection,
    scope: Scope,
    owner_id: int | None = None,
    status: str | None = "open",
    kind: str | None = None,
    person_id: str | None = None,
    lead_id: str | None = None,
    due_from_us: int | None = None,
    due_to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of one staff member's tasks (default: the caller; ``status`` ``None`` for
    every status), soonest due first; the due range is ``[from, to)``."""
    owner = scope.account_id if owner_id is None else owner_id
    query = select(task).where(_where(scope), task.c.owner_id == owner)
    for column, value in (
        (task.c.status, status),
        (task.c.kind, kind),
        (task.c.person_id, person_id),
        (task.c.lead_id, lead_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if due_from_us is not None:
        query = query.where(task.c.due_us >= due_from_us)
    if due_to_us is not None:
        query = query.where(task.c.due_us < due_to_us)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(
        query.order_by(task.c.due_us, task.c.id).limit(min(limit, MAX_PAGE)).offset(offset)
    )
    return [dict(r._mapping) for r in rows], int(total)


def get_task(*, conn: Connection, scope: Scope, task_id: str) -> dict[str, Any]:
    row = conn.execute(select(task).where(_where(scope), task.c.id == task_id)).first()
    if row is None:
        raise not_found("task_id", task_id)
    return dict(row._mapping)


def complete_task(*, conn: Connection, scope: Scope, task_id: str) -> None:
    """open → done; any other status is refused naming ``status``."""
    current = get_task(conn=conn, scope=scope, task_id=task_id)
    if current["status"] != "open":
        raise InvalidTransition(
            "status",
            f"cannot complete a {current['status']} task",
            f"不能完成状态为 {current['status']} 的任务",
        )
    done = conn.execute(
        update(task)
        .where(task.c.tenant_id == scope.tenant_id, task.c.id == task_id, task.c.status == "open")
        .values(status="done")
    )
    if done.rowcount != 1:
        raise InvalidTransition("status", "the task is no longer open", "该任务已不是待办状态")


def _require_open(current: dict[str, Any], verb_en: str, verb_zh: str) -> None:
    if current["status"] != "open":
        raise InvalidTransition(
            "status",
            f"cannot {verb_en} a {current['status']} task",
            f"不能{verb_zh}状态为 {current['status']} 的任务",
        )


def update_task(
    *, conn: Connection, scope: Scope, task_id: str, changes: dict[str, Any]
) -> dict[str, Any]:
    """Change an open task's ``due_us``, ``kind`` and/or ``owner_id`` (yourself, or — for a
    branch role — a staff member of the branch). Returns the task as it now is."""
    unknown = sorted(set(changes) - {"due_us", "kind", "owner_id"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    current = get_task(conn=conn, scope=scope, task_id=task_id)
    _require_open(current, "change", "修改")
    values: dict[str, Any] = {}
    if "kind" in changes:
        if changes["kind"] not in KINDS:
            raise InvalidValue("kind", f"one of {', '.join(KINDS)}", f"应为 {'、'.join(KINDS)}")
        values["kind"] = changes["kind"]
    if "due_us" in changes:
        due = changes["due_us"]
        if not isinstance(due, int) or isinstance(due, bool) or not 0 < due < 2**62:
            raise InvalidValue("due_us", "a time in microseconds", "应为微秒时间戳")
        values["due_us"] = due
    if "owner_id" in changes:
        owner = changes["owner_id"]
        if not isinstance(owner, int) or isinstance(owner, bool):
            raise InvalidValue("owner_id", "a staff account id", "应为员工账号编号")
        _require_owner(conn=conn, scope=scope, owner_id=owner)
        values["owner_id"] = owner
    if values:
        conn.execute(
            update(task)
            .where(
                task.c.tenant_id == scope.tenant_id, task.c.id == task_id, task.c.status == "open"
            )
            .values(**values)
        )
    row = conn.execute(
        select(task).where(task.c.tenant_id == scope.tenant_id, task.c.id == task_id)
    ).one()
    return dict(row._mapping)


def cancel_task(*, conn: Connection, scope: Scope, task_id: str) -> dict[str, Any]:
    """open → cancelled; any other status is refused naming ``status``."""
    current = get_task(conn=conn, scope=scope, task_id=task_id)
    _require_open(current, "cancel", "取消")
    done = conn.execute(
        update(task)
        .where(task.c.tenant_id == scope.tenant_id, task.c.id == task_id, task.c.status == "open")
        .values(status="cancelled")
    )
    if done.rowcount != 1:
        raise InvalidTransition("status", "the task is no longer open", "该任务已不是待办状态")
    return get_task(conn=conn, scope=scope, task_id=task_id)
