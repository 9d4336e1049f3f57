"""Sending due appointment reminders (D-1, D-0): service messages, at most once each.

A reminder rests on the appointment (contract), not on marketing consent: a
person who refused every marketing purpose still gets it (B7). What it does
honour is decided at send time by the message pipeline it is handed to — the
channel must be one the purpose declares, a dead address (hard bounce,
complaint) stops it, a shredded person has no address, and the address is
decrypted inside the kernel for ``service.appointment`` and audited.

The dispatcher only decides *which* reminders go: one whose appointment left
the booked/confirmed states is cancelled instead of sent. Each reminder is
claimed (``scheduled → sending``) by a conditional update before it is handed
over, so two dispatchers running at once never send the same one; a crash after
the claim leaves it ``sending`` and it is not retried (a missed reminder is
better than a doubled one). ``phone`` reminders become a confirm-appointment
task for the appointment's owner: nobody phones from a job.

The sender is passed in (``pulsecrm.marketing.service_messages.send_service_message``
in production, wired by the jobs/CLI adapters) so the CRM does not depend on
the marketing package.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from pulsecrm.crm.clinic_tables import appointment, branch, reminder_job, task
from pulsecrm.crm.ids import HOUR_US, new_id, now_us
from pulsecrm.kernel.runtime import Kernel

OPEN_STATES = ("booked", "confirmed")
TIME_ZONE = ZoneInfo("Asia/Shanghai")
BODIES = {
    "zh-CN": "【{branch}】就诊提醒：您预约的{item}在{when}。如需改约或取消，请回复或致电门店。",
    "en": "[{branch}] Reminder: your {item} appointment is at {when}. "
    "To change or cancel it, reply or call the clinic.",
}


class Sent(Protocol):
    @property
    def status(self) -> str: ...  # sent | skipped | failed

    @property
    def skip_reason(self) -> str | None: ...


class Sender(Protocol):
    def __call__(
        self,
        kernel: Kernel,
        *,
        tenant_id: int,
        person_id: str,
        channel: str,
        purpose: str,
        body: str,
    ) -> Sent: ...


@dataclass
class DispatchReport:
    sent: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    failed: int = 0
    cancelled: int = 0
    tasks: int = 0

    def as_dict(self) -> dict[str, object]:
        return {
            "sent": self.sent,
            "skipped": dict(self.skipped),
            "failed": self.failed,
            "cancelled": self.cancelled,
            "tasks": self.tasks,
        }


def reminder_text(*, branch_name: str, item: str, slot_us: int, locale: str) -> str:
    when = datetime.fromtimestamp(slot_us / 1e6, UTC).astimezone(TIME_ZONE)
    shown = when.strftime("%m月%d日 %H:%M" if locale == "zh-CN" else "%d %b %H:%M")
    return BODIES.get(locale, BODIES["zh-CN"]).format(branch=branch_name, item=item, when=shown)


def _claim(conn: Connection, reminder_id: str, new_status: str) -> bool:
    done = conn.execute(
        update(reminder_job)
        .where(reminder_job.c.id == reminder_id, reminder_job.c.status == "scheduled")
        .values(status=new_status)
    )
    return done.rowcount == 1


def _finish(kernel: Kernel, reminder_id: str, status: str) -> None:
    with kernel.engine.begin() as conn:
        conn.execute(
            update(reminder_job).where(reminder_job.c.id == reminder_id).values(status=status)
        )


def _due(conn: Connection, now: int, limit: int) -> list[dict[str, object]]:
    rows = conn.execute(
        select(
            reminder_job.c.id,
            reminder_job.c.tenant_id,
            reminder_job.c.person_id,
            reminder_job.c.channel,
            reminder_job.c.purpose,
            appointment.c.status.label("appointment_status"),
            appointment.c.slot_us,
            appointment.c.item,
            appointment.c.owner_id,
            appointment.c.lead_id,
            branch.c.name.label("branch_name"),
        )
        .join(appointment, appointment.c.id == reminder_job.c.appointment_id)
        .join(branch, branch.c.id == appointment.c.branch_id)
        .where(reminder_job.c.status == "scheduled", reminder_job.c.due_us <= now)
        .order_by(reminder_job.c.due_us, reminder_job.c.id)
        .limit(limit)
    )
    return [dict(r._mapping) for r in rows]


def dispatch_due(
    kernel: Kernel,
    send: Sender,
    *,
    now: int | None = None,
    limit: int = 500,
    locale: str = "zh-CN",
    on_each: Callable[[str, str], None] | None = None,
) -> DispatchReport:
    """Send (or cancel) every reminder due by ``now``; safe to run again and concurrently."""
    now = now if now is not None else now_us()
    report = DispatchReport()
    with kernel.engine.connect() as conn:
        due = _due(conn, now, limit)
    for job in due:
        reminder_id = str(job["id"])
        slot = int(job["slot_us"])  # type: ignore[call-overload]
        if job["appointment_status"] not in OPEN_STATES or slot <= now - HOUR_US:
            with kernel.engine.begin() as conn:
                if _claim(conn, reminder_id, "cancelled"):
                    report.cancelled += 1
            continue
        if job["channel"] == "phone":
            handed = _phone_task(kernel, job, reminder_id, now)
            if handed == "task":
                report.tasks += 1
            elif handed == "no_owner":
                report.skipped["no_owner"] = report.skipped.get("no_owner", 0) + 1
            continue
        with kernel.engine.begin() as conn:
            if not _claim(conn, reminder_id, "sending"):
                continue  # another dispatcher has it
        outcome = send(
            kernel,
            tenant_id=int(job["tenant_id"]),  # type: ignore[call-overload]
            person_id=str(job["person_id"]),
            channel=str(job["channel"]),
            purpose=str(job["purpose"]),
            body=reminder_text(
                branch_name=str(job["branch_name"]),
                item=str(job["item"]),
                slot_us=slot,
                locale=locale,
            ),
        )
        if outcome.status == "sent":
            report.sent += 1
        elif outcome.status == "skipped":
            reason = outcome.skip_reason or "unknown"
            report.skipped[reason] = report.skipped.get(reason, 0) + 1
        else:
            report.failed += 1
        _finish(kernel, reminder_id, outcome.status)
        if on_each is not None:
            on_each(reminder_id, outcome.status)
    return report


def _phone_task(kernel: Kernel, job: dict[str, object], reminder_id: str, now: int) -> str | None:
    """A phone reminder is a confirm-appointment task for the appointment's owner."""
    with kernel.engine.begin() as conn:
        if job["owner_id"] is None:
            return "no_owner" if _claim(conn, reminder_id, "skipped") else None
        if not _claim(conn, reminder_id, "sent"):
            return None
        conn.execute(
            insert(task).values(
                id=new_id(),
                tenant_id=job["tenant_id"],
                person_id=job["person_id"],
                lead_id=job["lead_id"],
                owner_id=job["owner_id"],
                kind="confirm_appointment",
                due_us=now,
                status="open",
                created_us=now,
            )
        )
    return "task"
