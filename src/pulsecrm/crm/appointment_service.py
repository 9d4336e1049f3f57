"""Appointments: a table-driven status machine, status history, D-1 / D-0 reminder jobs,
and arrival (到诊) recorded as a visit.

::

    booked ──► confirmed ──► arrived      (creates a visit)
       │           ├───────► no_show
       │           ├───────► cancelled
       │           └───────► rescheduled  (creates the new booked appointment)
       └──► arrived / no_show / cancelled / rescheduled

Reminders are service messages (purpose ``service.appointment``, legal basis
contract): they are scheduled whatever the person decided about marketing,
on a channel the purpose declares, and cancelled when the appointment leaves
the booked/confirmed states. The sending job resolves the contact through the
vault at send time, for that purpose and channel.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from pulsecrm.crm.clinic_tables import (
    appointment,
    appointment_status,
    reminder_job,
    staff_member,
    visit,
)
from pulsecrm.crm.errors import InvalidTransition, SlotInPast, not_found
from pulsecrm.crm.ids import DAY_US, HOUR_US, new_id, now_us
from pulsecrm.crm.lead_service import require_lead_of, require_person
from pulsecrm.crm.org_service import require_branch
from pulsecrm.crm.scope import TENANT_ROLES, Scope, paged
from pulsecrm.kernel.context import AccessContext
from pulsecrm.kernel.errors import InvalidValue

TRANSITIONS: dict[str, frozenset[str]] = {
    "booked": frozenset({"confirmed", "arrived", "no_show", "cancelled", "rescheduled"}),
    "confirmed": frozenset({"arrived", "no_show", "cancelled", "rescheduled"}),
    "arrived": frozenset(),
    "no_show": frozenset(),
    "cancelled": frozenset(),
    "rescheduled": frozenset(),
}
OPEN_STATES = frozenset({"booked", "confirmed"})
REMINDER_CHANNELS = ("sms", "wechat", "email", "phone")
REMINDERS = (("d-1", DAY_US), ("d-0", 2 * HOUR_US))


def _check_slot(slot_us: int, now: int) -> None:
    if slot_us <= now:
        raise SlotInPast("slot", "must be in the future", "预约时间必须晚于当前时间")


def _check_doctor(conn: Connection, tenant_id: int, doctor_id: int | None, branch_id: str) -> None:
    if doctor_id is None:
        return
    row = conn.execute(
        select(staff_member.c.kind, staff_member.c.branch_id).where(
            staff_member.c.tenant_id == tenant_id, staff_member.c.account_id == doctor_id
        )
    ).first()
    if row is None or row.kind != "doctor":
        raise not_found("doctor_id", str(doctor_id))
    if row.branch_id != branch_id:
        raise InvalidValue("doctor_id", "doctor works at another branch", "医生不在该门店")


def _schedule_reminders(
    conn: Connection,
    tenant_id: int,
    appointment_id: str,
    person_id: str,
    slot_us: int,
    channel: str,
    now: int,
) -> None:
    rows = [
        {
            "id": new_id(),
            "tenant_id": tenant_id,
            "appointment_id": appointment_id,
            "person_id": person_id,
            "kind": kind,
            "channel": channel,
            "purpose": "service.appointment",
            "due_us": slot_us - before,
            "status": "scheduled",
        }
        for kind, before in REMINDERS
        if slot_us - before > now
    ]
    if rows:
        conn.execute(insert(reminder_job), rows)


def _history(
    conn: Connection,
    tenant_id: int,
    appointment_id: str,
    old: str | None,
    new: str,
    actor: str,
    at: int,
) -> None:
    conn.execute(
        insert(appointment_status).values(
            tenant_id=tenant_id,
            appointment_id=appointment_id,
            from_status=old,
            to_status=new,
            actor=actor,
            at_us=at,
        )
    )


def book(
    *,
    conn: Connection,
    ctx: AccessContext,
    scope: Scope,
    person_id: str,
    branch_id: str,
    item: str,
    slot_us: int,
    doctor_id: int | None = None,
    lead_id: str | None = None,
    reminder_channel: str = "sms",
    now: int | None = None,
) -> str:
    now = now or now_us()
    require_branch(conn=conn, tenant_id=ctx.tenant_id, branch_id=branch_id)
    _check_slot(slot_us, now)
    if not item.strip() or len(item) > 64:
        raise InvalidValue("item", "required, at most 64 characters", "必填，不超过64个字符")
    if reminder_channel not in REMINDER_CHANNELS:
        raise InvalidValue(
            "reminder_channel",
            f"one of {', '.join(REMINDER_CHANNELS)}",
            f"应为 {'、'.join(REMINDER_CHANNELS)}",
        )
    require_person(conn=conn, tenant_id=ctx.tenant_id, person_id=person_id)
    if lead_id is not None:
        require_lead_of(conn=conn, tenant_id=ctx.tenant_id, lead_id=lead_id, person_id=person_id)
    _check_doctor(conn, ctx.tenant_id, doctor_id, branch_id)
    appointment_id = new_id()
    conn.execute(
        insert(appointment).values(
            id=appointment_id,
            tenant_id=ctx.tenant_id,
            person_id=person_id,
            lead_id=lead_id,
            branch_id=branch_id,
            doctor_id=doctor_id,
            owner_id=scope.account_id,
            item=item.strip(),
            slot_us=slot_us,
            status="booked",
            rescheduled_to=None,
            created_us=now,
            updated_us=now,
        )
    )
    _history(conn, ctx.tenant_id, appointment_id, None, "booked", ctx.actor, now)
    _schedule_reminders(
        conn, ctx.tenant_id, appointment_id, person_id, slot_us, reminder_channel, now
    )
    return appointment_id


def get_appointment(*, conn: Connection, scope: Scope, appointment_id: str) -> dict[str, Any]:
    row = conn.execute(
        select(appointment).where(scope.where(appointment), appointment.c.id == appointment_id)
    ).first()
    if row is None:
        raise not_found("appointment_id", appointment_id)
    return dict(row._mapping)


def transition(
    *,
    conn: Connection,
    ctx: AccessContext,
    scope: Scope,
    appointment_id: str,
    to: str,
    new_slot_us: int | None = None,
    now: int | None = None,
) -> dict[str, Any]:
    """Move an appointment to ``to``; returns ids created (``visit_id``, ``appointment_id``)."""
    now = now or now_us()
    if to not in TRANSITIONS:
        raise InvalidValue("status", f"unknown status {to!r}", f"未知状态 {to!r}")
    current = get_appointment(conn=conn, scope=scope, appointment_id=appointment_id)
    old = str(current["status"])
    if to not in TRANSITIONS[old]:
        raise InvalidTransition(
            "status",
            f"cannot go from {old} to {to}",
            f"不能从 {old} 变为 {to}",
        )
    if to == "no_show" and now < int(current["slot_us"]):
        raise InvalidTransition(
            "status", "no_show only after the slot has started", "预约时间未到，不能标记爽约"
        )
    if to == "rescheduled":
        if new_slot_us is None:
            raise InvalidValue(
                "slot", "a new slot is required to reschedule", "改约需要新的预约时间"
            )
        _check_slot(new_slot_us, now)
    created: dict[str, Any] = {"status": to}
    conn.execute(
        update(appointment)
        .where(appointment.c.id == appointment_id)
        .values(status=to, updated_us=now)
    )
    _history(conn, ctx.tenant_id, appointment_id, old, to, ctx.actor, now)
    if to not in OPEN_STATES:
        conn.execute(
            update(reminder_job)
            .where(
                reminder_job.c.appointment_id == appointment_id,
                reminder_job.c.status == "scheduled",
            )
            .values(status="cancelled")
        )
    if to == "arrived":
        visit_id = new_id()
        conn.execute(
            insert(visit).values(
                id=visit_id,
                tenant_id=ctx.tenant_id,
                person_id=current["person_id"],
                lead_id=current["lead_id"],
                appointment_id=appointment_id,
                branch_id=current["branch_id"],
                arrived_us=now,
            )
        )
        created["visit_id"] = visit_id
    if to == "rescheduled":
        assert new_slot_us is not None
        channel = (
            conn.execute(
                select(reminder_job.c.channel).where(
                    reminder_job.c.appointment_id == appointment_id
                )
            ).scalar()
            or "sms"
        )
        new = book(
            conn=conn,
            ctx=ctx,
            scope=scope,
            person_id=current["person_id"],
            branch_id=current["branch_id"],
            item=current["item"],
            slot_us=new_slot_us,
            doctor_id=current["doctor_id"],
            lead_id=current["lead_id"],
            reminder_channel=channel,
            now=now,
        )
        conn.execute(
            update(appointment).where(appointment.c.id == appointment_id).values(rescheduled_to=new)
        )
        created["appointment_id"] = new
    return created


def history(*, conn: Connection, scope: Scope, appointment_id: str) -> list[dict[str, Any]]:
    get_appointment(conn=conn, scope=scope, appointment_id=appointment_id)
    rows = conn.execute(
        select(
            appointment_status.c.from_status,
            appointment_status.c.to_status,
            appointment_status.c.actor,
            appointment_status.c.at_us,
        )
        .where(appointment_status.c.appointment_id == appointment_id)
        .order_by(appointment_status.c.id)
    )
    return [dict(r._mapping) for r in rows]


def reminders(*, conn: Connection, scope: Scope, appointment_id: str) -> list[dict[str, Any]]:
    get_appointment(conn=conn, scope=scope, appointment_id=appointment_id)
    rows = conn.execute(
        select(
            reminder_job.c.kind,
            reminder_job.c.channel,
            reminder_job.c.purpose,
            reminder_job.c.due_us,
            reminder_job.c.status,
        )
        .where(reminder_job.c.appointment_id == appointment_id)
        .order_by(reminder_job.c.due_us)
    )
    return [dict(r._mapping) for r in rows]


def list_appointments(
    *,
    conn: Connection,
    scope: Scope,
    status: str | None = None,
    branch_id: str | None = None,
    person_id: str | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    doctor_id: int | None = None,
    lead_id: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    query = select(appointment).where(scope.where(appointment))
    for column, value in (
        (appointment.c.status, status),
        (appointment.c.branch_id, branch_id),
        (appointment.c.person_id, person_id),
        (appointment.c.doctor_id, doctor_id),
        (appointment.c.lead_id, lead_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_us is not None:
        query = query.where(appointment.c.slot_us >= from_us)
    if to_us is not None:
        query = query.where(appointment.c.slot_us < to_us)
    total = conn.execute(select(func.count()).select_from(query.subquery())).scalar_one()
    rows = conn.execute(query.order_by(appointment.c.slot_us).limit(min(limit, 200)).offset(offset))
    return [dict(r._mapping) for r in rows], int(total)


def update_appointment(
    *,
    conn: Connection,
    scope: Scope,
    appointment_id: str,
    changes: dict[str, Any],
    now: int | None = None,
) -> dict[str, Any]:
    """Change the doctor (``None`` unassigns) and/or item of a booked or confirmed
    appointment. The slot and status change only through :func:`transition`."""
    unknown = sorted(set(changes) - {"doctor_id", "item"})
    if unknown:
        raise InvalidValue(unknown[0], "not a field you can change", "该字段不可修改")
    current = get_appointment(conn=conn, scope=scope, appointment_id=appointment_id)
    if current["status"] not in OPEN_STATES:
        raise InvalidTransition(
            "status",
            f"a {current['status']} appointment can no longer be changed",
            f"状态为 {current['status']} 的预约不能再修改",
        )
    values: dict[str, Any] = {}
    if "item" in changes:
        item = changes["item"]
        if not isinstance(item, str) or not item.strip() or len(item) > 64:
            raise InvalidValue("item", "required, at most 64 characters", "必填，不超过64个字符")
        values["item"] = item.strip()
    if "doctor_id" in changes:
        _check_doctor(conn, scope.tenant_id, changes["doctor_id"], str(current["branch_id"]))
        values["doctor_id"] = changes["doctor_id"]
    if values:
        conn.execute(
            update(appointment)
            .where(appointment.c.tenant_id == scope.tenant_id, appointment.c.id == appointment_id)
            .values(**values, updated_us=now or now_us())
        )
    return get_appointment(conn=conn, scope=scope, appointment_id=appointment_id)


def _visits(scope: Scope) -> Any:
    # A visit is scoped by its appointment's owner (team roles) or its branch.
    query = (
        select(visit)
        .join(appointment, appointment.c.id == visit.c.appointment_id, isouter=True)
        .where(visit.c.tenant_id == scope.tenant_id)
    )
    if scope.role not in TENANT_ROLES:
        query = query.where(scope.where(appointment))
    return query


def get_visit(*, conn: Connection, scope: Scope, visit_id: str) -> dict[str, Any]:
    row = conn.execute(_visits(scope).where(visit.c.id == visit_id)).first()
    if row is None:
        raise not_found("visit_id", visit_id)
    return dict(row._mapping)


def list_visits(
    *,
    conn: Connection,
    scope: Scope,
    person_id: str | None = None,
    branch_id: str | None = None,
    lead_id: str | None = None,
    from_us: int | None = None,
    to_us: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[dict[str, Any]], int]:
    """One page of visits in scope (latest arrival first); arrival range ``[from, to)``."""
    query = _visits(scope)
    for column, value in (
        (visit.c.person_id, person_id),
        (visit.c.branch_id, branch_id),
        (visit.c.lead_id, lead_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if from_us is not None:
        query = query.where(visit.c.arrived_us >= from_us)
    if to_us is not None:
        query = query.where(visit.c.arrived_us < to_us)
    return paged(conn, query, [visit.c.arrived_us.desc(), visit.c.id], limit, offset)
