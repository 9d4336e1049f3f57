"""The medical-marketing path and its rules: B7 end to end, the appointment status
machine, slots in the past, unknown branches, follow-up queue."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from pulsecrm.consent.ledger import Kind
from pulsecrm.crm import (
    appointment_service as appts,
)
from pulsecrm.crm import (
    consultation_service,
    deal_service,
    followup_service,
    lead_service,
)
from pulsecrm.crm.clinic_tables import consultation, reminder_job
from pulsecrm.crm.errors import InvalidTransition, SlotInPast, UnknownBranch
from pulsecrm.crm.ids import DAY_US, HOUR_US, now_us
from pulsecrm.crm.lead_service import Attribution
from pulsecrm.store.engine import read_connection
from tests.consent.conftest import add_person, decide, publish
from tests.crm.conftest import Clinic

REFUSE_ALL = (
    [("marketing.sms", "sms", Kind.REFUSE), ("marketing.email", "email", Kind.REFUSE)],
    [("marketing.personalized_health", "sms", Kind.REFUSE)],
    [("sharing.partner", None, Kind.REFUSE)],
)


def _refuses_everything(clinic: Clinic, phone: str) -> str:
    notice = publish(clinic.kernel)
    person = add_person(clinic.kernel, phone)
    for decisions in REFUSE_ALL:
        decide(clinic.kernel, person, notice, *decisions)
    return person


@pytest.mark.req("B7")
def test_whole_path_works_for_a_person_who_refused_every_marketing_consent(
    clinic: Clinic,
) -> None:
    k = clinic.kernel
    person = _refuses_everything(clinic, "13800138000")
    amy = clinic.staff["amy.consultant"]
    scope = clinic.scope("amy.consultant")
    for purpose in ("marketing.sms", "marketing.email", "marketing.personalized_health"):
        with read_connection(k.engine) as conn:
            for channel in k.catalog.purpose(purpose).channels:
                assert not k.consent.permitted(conn, clinic.tenant_id, [person], purpose, channel)
    now = now_us()
    with k.engine.begin() as conn:
        template = followup_service.create_template(
            conn=conn, tenant_id=clinic.tenant_id, name="种植牙回访", offsets=[1, 7, 30]
        )
        lead = lead_service.create_lead(
            conn=conn,
            tenant_id=clinic.tenant_id,
            person_id=person,
            attribution=Attribution("douyin", "2026-spring", utm_source="douyin"),
            branch_id=clinic.north,
            owner_id=clinic.ids["amy.consultant"],
        )
        lead_service.respond(conn=conn, scope=scope, lead_id=lead)
        consult = consultation_service.create_consultation(
            conn=conn,
            kernel=k,
            ctx=amy,
            scope=scope,
            person_id=person,
            lead_id=lead,
            branch_id=clinic.north,
            mode="online",
            items=["implant"],
            intent_level="high",
            chief_complaint="左下后牙缺失两年，咀嚼困难",
            notes="对价格敏感",
        )
        slot = now + 3 * DAY_US
        appointment = appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            item="implant",
            slot_us=slot,
            doctor_id=clinic.ids["doc.wang"],
            lead_id=lead,
        )
        appts.transition(
            conn=conn, ctx=amy, scope=scope, appointment_id=appointment, to="confirmed"
        )
        arrived = appts.transition(
            conn=conn, ctx=amy, scope=scope, appointment_id=appointment, to="arrived", now=slot
        )
        result = deal_service.create_deal(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            items=["implant"],
            amount_cents=1_280_000,
            visit_id=arrived["visit_id"],
            followup_template_id=template,
            now=slot,
        )
    assert result["is_first"] and len(result["followup_task_ids"]) == 3
    with read_connection(k.engine) as conn:
        # the chief complaint is ciphertext in the table, readable through the kernel
        blob = conn.execute(
            select(consultation.c.chief_complaint).where(consultation.c.id == consult)
        ).scalar_one()
        assert "咀嚼".encode() not in bytes(blob)
        shown = consultation_service.get_consultation(
            conn=conn, kernel=k, ctx=amy, scope=scope, consultation_id=consult, reveal=True
        )
        assert shown["chief_complaint"] == "左下后牙缺失两年，咀嚼困难"
        # service reminders were scheduled (then cancelled on arrival), as service messages
        jobs = conn.execute(
            select(reminder_job.c.kind, reminder_job.c.purpose, reminder_job.c.status).where(
                reminder_job.c.appointment_id == appointment
            )
        ).all()
        assert {j.kind for j in jobs} == {"d-1", "d-0"}
        assert {j.purpose for j in jobs} == {"service.appointment"}
        assert {j.status for j in jobs} == {"cancelled"}
        queue = followup_service.queue(conn=conn, scope=scope, now=slot + DAY_US + HOUR_US)
        assert [t["day_offset"] for t in queue["today"]] == [1]
        assert [t["day_offset"] for t in queue["upcoming"]] == [7]
        lead_row = lead_service.get_lead(conn=conn, scope=scope, lead_id=lead)
    assert lead_row["status"] == "converted" and lead_row["first_response_us"] is not None
    # the person can still be found for the service purpose (contract, not consent)
    views = k.vault.find_by(amy, "phone", "13800138000", ["phone"])
    assert views[0].values["phone"] == "138****8000"


@pytest.mark.req("B7")
def test_reminders_are_scheduled_as_service_messages_without_any_marketing_consent(
    clinic: Clinic,
) -> None:
    person = _refuses_everything(clinic, "13800138001")
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    slot = now_us() + 2 * DAY_US
    with clinic.kernel.engine.begin() as conn:
        appointment = appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            item="cleaning",
            slot_us=slot,
        )
        jobs = appts.reminders(conn=conn, scope=scope, appointment_id=appointment)
    assert [(j["kind"], j["due_us"], j["status"]) for j in jobs] == [
        ("d-1", slot - DAY_US, "scheduled"),
        ("d-0", slot - 2 * HOUR_US, "scheduled"),
    ]
    assert all(j["purpose"] == "service.appointment" for j in jobs)


def _booked(clinic: Clinic, phone: str) -> tuple[str, int]:
    person = add_person(clinic.kernel, phone)
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    slot = now_us() + DAY_US
    with clinic.kernel.engine.begin() as conn:
        return appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            item="whitening",
            slot_us=slot,
        ), slot


@pytest.mark.parametrize(
    ("path", "bad"),
    [
        (["cancelled"], "arrived"),
        (["confirmed", "arrived"], "no_show"),
        (["confirmed"], "booked"),
        (["rescheduled"], "confirmed"),
    ],
)
def test_invalid_transition_names_status_and_the_transition_and_writes_nothing(
    clinic: Clinic, path: list[str], bad: str
) -> None:
    appointment, slot = _booked(clinic, "13900000001")
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    for step in path:
        with clinic.kernel.engine.begin() as conn:
            appts.transition(
                conn=conn,
                ctx=amy,
                scope=scope,
                appointment_id=appointment,
                to=step,
                now=slot,
                new_slot_us=slot + DAY_US if step == "rescheduled" else None,
            )
    with read_connection(clinic.kernel.engine) as conn:
        before = appts.history(conn=conn, scope=scope, appointment_id=appointment)
    with pytest.raises(InvalidTransition) as caught, clinic.kernel.engine.begin() as conn:
        appts.transition(
            conn=conn, ctx=amy, scope=scope, appointment_id=appointment, to=bad, now=slot
        )
    assert caught.value.field == "status"
    assert f"from {path[-1]} to {bad}" in caught.value.message("en")
    assert "不能从" in caught.value.message("zh-CN")
    with read_connection(clinic.kernel.engine) as conn:
        assert appts.history(conn=conn, scope=scope, appointment_id=appointment) == before


def test_reschedule_books_the_new_slot_and_moves_the_reminders(clinic: Clinic) -> None:
    appointment, slot = _booked(clinic, "13900000002")
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    with clinic.kernel.engine.begin() as conn:
        out = appts.transition(
            conn=conn,
            ctx=amy,
            scope=scope,
            appointment_id=appointment,
            to="rescheduled",
            new_slot_us=slot + 5 * DAY_US,
        )
        old = appts.reminders(conn=conn, scope=scope, appointment_id=appointment)
        new = appts.reminders(conn=conn, scope=scope, appointment_id=out["appointment_id"])
    assert {r["status"] for r in old} == {"cancelled"}
    assert [r["status"] for r in new] == ["scheduled", "scheduled"]


def test_slot_in_the_past_and_unknown_branch_are_refused_naming_the_field(clinic: Clinic) -> None:
    person = add_person(clinic.kernel, "13900000003")
    amy, scope = clinic.staff["amy.consultant"], clinic.scope("amy.consultant")
    yesterday = now_us() - DAY_US
    with pytest.raises(SlotInPast) as past, clinic.kernel.engine.begin() as conn:
        appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id=clinic.north,
            item="x",
            slot_us=yesterday,
        )
    assert past.value.field == "slot" and past.value.code == "slot_in_past"
    with pytest.raises(UnknownBranch) as unknown, clinic.kernel.engine.begin() as conn:
        appts.book(
            conn=conn,
            ctx=amy,
            scope=scope,
            person_id=person,
            branch_id="nope",
            item="x",
            slot_us=now_us() + DAY_US,
        )
    assert unknown.value.field == "branch_id"
    with read_connection(clinic.kernel.engine) as conn:
        assert appts.list_appointments(conn=conn, scope=scope, person_id=person)[1] == 0


def test_followup_queue_splits_overdue_today_upcoming_and_outcome_sets_next_date(
    clinic: Clinic,
) -> None:
    person = add_person(clinic.kernel, "13900000004")
    scope = clinic.scope("amy.consultant")
    start = int(datetime(2026, 3, 1, 2, tzinfo=UTC).timestamp() * 1e6)  # 10:00 Beijing
    with clinic.kernel.engine.begin() as conn:
        template = followup_service.create_template(
            conn=conn, tenant_id=clinic.tenant_id, name="术后", offsets=[1, 3, 30]
        )
        followup_service.plan_from_template(
            conn=conn,
            tenant_id=clinic.tenant_id,
            template_id=template,
            person_id=person,
            owner_id=scope.account_id,
            start_us=start,
        )
    now = start + 3 * DAY_US
    with clinic.kernel.engine.begin() as conn:
        q = followup_service.queue(conn=conn, scope=scope, now=now, upcoming_days=40)
        assert [t["day_offset"] for t in q["overdue"]] == [1]
        assert [t["day_offset"] for t in q["today"]] == [3]
        assert [t["day_offset"] for t in q["upcoming"]] == [30]
        nxt = followup_service.complete(
            conn=conn,
            scope=scope,
            task_id=q["overdue"][0]["id"],
            outcome="no_answer",
            next_due_us=now + DAY_US,
            now=now,
        )
        q2 = followup_service.queue(conn=conn, scope=scope, now=now, upcoming_days=40)
    assert nxt in [t["id"] for t in q2["upcoming"]]
    assert not q2["overdue"]
