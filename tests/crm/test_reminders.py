"""Due appointment reminders go out as service messages — also to a person who refused every
marketing consent (B7) — at most once, through the real message pipeline and the local
outbox; reminders of cancelled appointments are cancelled; phone reminders become tasks."""

from __future__ import annotations

import functools
import json
import threading
from pathlib import Path

import pytest
from sqlalchemy import select

from pulsecrm.channels.outbox import OutboxAdapter
from pulsecrm.crm import appointment_service as appts
from pulsecrm.crm.clinic_tables import reminder_job, task
from pulsecrm.crm.ids import DAY_US, HOUR_US, now_us
from pulsecrm.crm.reminders import dispatch_due
from pulsecrm.marketing.service_messages import send_service_message
from tests.crm.conftest import Clinic
from tests.crm.test_workflow import _refuses_everything
from tests.helpers import audit_rows


def _book(clinic: Clinic, person: str, channel: str = "sms") -> tuple[str, int]:
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    slot = now_us() + 2 * DAY_US
    with clinic.kernel.engine.begin() as conn:
        appointment = appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            item="洁牙",
            slot_us=slot,
            reminder_channel=channel,
        )
    return appointment, slot


def _sender(clinic: Clinic) -> functools.partial[object]:
    outbox = OutboxAdapter(clinic.kernel.settings)
    return functools.partial(send_service_message, adapters=lambda channel: outbox)


def _outbox(clinic: Clinic) -> list[dict[str, object]]:
    path = Path(clinic.kernel.settings.home) / "outbox"
    return [
        json.loads(line)
        for f in sorted(path.glob("*.jsonl"))
        for line in f.read_text(encoding="utf-8").splitlines()
    ]


def _statuses(clinic: Clinic, appointment: str) -> dict[str, str]:
    with clinic.kernel.engine.connect() as conn:
        return dict(
            conn.execute(
                select(reminder_job.c.kind, reminder_job.c.status).where(
                    reminder_job.c.appointment_id == appointment
                )
            ).all()
        )


@pytest.mark.req("B7")
def test_a_due_reminder_reaches_a_person_who_refused_all_marketing_exactly_once(
    clinic: Clinic,
) -> None:
    person = _refuses_everything(clinic, "13800138011")
    appointment, slot = _book(clinic, person)
    send = _sender(clinic)
    d1 = slot - DAY_US + 1
    # two dispatchers at the same moment: each reminder is claimed by one of them
    reports = []
    threads = [
        threading.Thread(
            target=lambda: reports.append(dispatch_due(clinic.kernel, send, now=d1))  # type: ignore[arg-type]
        )
        for _ in range(2)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sum(r.sent for r in reports) == 1
    assert _statuses(clinic, appointment) == {"d-1": "sent", "d-0": "scheduled"}
    sent = _outbox(clinic)
    assert len(sent) == 1
    assert "北院" in str(sent[0]["text"]) and "洁牙" in str(sent[0]["text"])
    assert "13800138011" not in json.dumps(sent, ensure_ascii=False)  # outbox masks it
    # the address was decrypted inside the kernel, for the service purpose, and audited
    reads = [r for r in audit_rows(clinic.kernel) if r["purpose"] == "service.appointment"]
    assert any(person in str(r.get("subject_ids") or r.get("subjects") or r) for r in reads)
    # running again later sends D-0 only, never D-1 again
    again = dispatch_due(clinic.kernel, send, now=slot - 2 * HOUR_US + 1)  # type: ignore[arg-type]
    assert again.sent == 1 and len(_outbox(clinic)) == 2


def test_reminders_of_a_cancelled_appointment_are_cancelled_not_sent(clinic: Clinic) -> None:
    person = _refuses_everything(clinic, "13800138012")
    appointment, slot = _book(clinic, person)
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    with clinic.kernel.engine.begin() as conn:
        appts.transition(
            conn=conn, ctx=amy, scope=scope, appointment_id=appointment, to="cancelled"
        )
    report = dispatch_due(clinic.kernel, _sender(clinic), now=slot)  # type: ignore[arg-type]
    assert report.sent == 0
    assert set(_statuses(clinic, appointment).values()) == {"cancelled"}
    assert _outbox(clinic) == []


def test_a_phone_reminder_becomes_a_confirmation_task_for_the_owner(clinic: Clinic) -> None:
    person = _refuses_everything(clinic, "13800138013")
    _, slot = _book(clinic, person, channel="phone")
    report = dispatch_due(clinic.kernel, _sender(clinic), now=slot - DAY_US + 1)  # type: ignore[arg-type]
    with clinic.kernel.engine.connect() as conn:
        tasks = conn.execute(select(task.c.kind, task.c.person_id, task.c.owner_id)).all()
    assert report.tasks == 1 and _outbox(clinic) == []
    assert [(t.kind, t.person_id) for t in tasks] == [("confirm_appointment", person)]
